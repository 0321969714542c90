"""What can be checked of the Docker files without a Docker engine (CI has none): the image installs the locked,
hash-checked dependencies and every package of the project, listens for webhooks on all interfaces, and the
README sections the files point to exist. Building the image and `docker compose config` are not run here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [
        (part[0].upper(), part[1] if len(part) > 1 else "")
        for part in (x.split(None, 1) for x in joined.splitlines() if x.strip())
    ]


def test_the_image_installs_the_lock_with_hashes_then_the_project_without_resolving() -> None:
    runs = [args for op, args in instructions() if op == "RUN"]
    copies = [args for op, args in instructions() if op == "COPY"]
    lock_install = next(i for i, run in enumerate(runs) if "-r requirements.lock" in run)
    assert "--require-hashes" in runs[lock_install]
    project_install = next(
        i for i, run in enumerate(runs) if re.search(r"pip install [^&]*--no-deps[^&]* \.(\s|$)", run)
    )
    assert lock_install < project_install
    assert "--no-build-isolation" in runs[project_install]  # the locked setuptools builds it: nothing unpinned
    assert any(copy.split()[0] == "requirements.lock" for copy in copies)
    assert not any(re.search(r"pip install[^&]*--upgrade", run) for run in runs), "an unpinned upgrade in the image"


def test_the_image_copies_every_package_of_the_project() -> None:
    """A new top-level package in pyproject.toml's package list must reach the image too."""
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {args.split()[0].rstrip("/") for op, args in instructions() if op == "COPY"}
    for pattern in include:
        package = pattern.rstrip("*")
        assert (ROOT / package).is_dir()
        assert package in copied, f"the Dockerfile does not COPY {package}/"


def test_the_webhook_listens_on_every_interface_in_the_container() -> None:
    env = " ".join(args for op, args in instructions() if op == "ENV")
    assert re.search(r"\bWEBHOOK_LISTEN=0\.0\.0\.0\b", env)
    compose = (ROOT / "compose.yaml").read_text()
    assert re.search(r"^\s+env_file: \.env$", compose, re.M)
    assert re.search(r'^\s+- "127\.0\.0\.1:\$\{WEBHOOK_PORT:-8443\}:\$\{WEBHOOK_PORT:-8443\}"$', compose, re.M)


def test_the_readme_sections_the_files_point_to_exist() -> None:
    headings = set(re.findall(r"^#+ (.+)$", (ROOT / "README.md").read_text(), re.M))
    for name in ("Dockerfile", "compose.yaml", ".env.example"):
        for section in re.findall(r'README, "([^"]+)"', (ROOT / name).read_text()):
            assert section in headings, f"{name} points to README section {section!r}, which does not exist"


def test_secrets_stay_out_of_the_build_context_and_the_repository() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
