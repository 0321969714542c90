"""The lock files against pyproject.toml: nothing missing, nothing stale, every package pinned and hash-checked.

The Docker image installs requirements.lock with ``--require-hashes``, and ``make test`` (CI) installs
requirements-dev.lock the same way, so a lock that lags pyproject.toml means an image that runs something never
tested, or fails to build. Both are made for the image's and CI's Python 3.11 on Linux x86_64 (Makefile,
LOCK_FLAGS). Every failure names what is wrong and says to run ``make lock``.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tomllib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FIX = "run `make lock` (then commit requirements.lock and requirements-dev.lock)"
# the environment the locks are made for: python:3.11-slim and CI
TARGET = {
    **default_environment(),
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Locked:
    version: Version
    hashes: tuple[str, ...]


def read_lock(path: Path) -> dict[str, Locked]:
    """``name==version`` entries with their ``--hash`` options (continuation lines joined, comments dropped)."""
    entries: dict[str, Locked] = {}
    problems: list[str] = []
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split()
        requirement = Requirement(spec)
        pins = list(requirement.specifier)
        name = canonicalize_name(requirement.name)
        if len(pins) != 1 or pins[0].operator != "==" or "*" in pins[0].version:
            problems.append(f"{path.name}: {spec} is not pinned to one version")
            continue
        if name in entries:
            problems.append(f"{path.name}: {name} is listed twice")
        hashes = tuple(option for option in options if _HASH.fullmatch(option))
        if len(hashes) != len(options):
            problems.append(f"{path.name}: {name} has options other than sha256 hashes: {options}")
        entries[name] = Locked(Version(pins[0].version), hashes)
    assert not problems, "\n".join([*problems, FIX])
    return entries


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def roots(with_tests: bool) -> list[Requirement]:
    """What pyproject.toml asks for: the runtime dependencies and the build backend (and the test extra)."""
    project = pyproject()
    names = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    if with_tests:
        names += project["project"]["optional-dependencies"]["test"]
    return [Requirement(name) for name in names]


def applies(requirement: Requirement, extras: frozenset[str] = frozenset()) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**TARGET, "extra": extra}) for extra in extras | {""})


LOCKS = {"requirements.lock": False, "requirements-dev.lock": True}


@pytest.fixture(params=sorted(LOCKS), ids=lambda name: name)
def lock(request: pytest.FixtureRequest) -> tuple[str, dict[str, Locked], bool]:
    path = ROOT / request.param
    assert path.is_file(), f"{request.param} is missing: {FIX}"
    return request.param, read_lock(path), LOCKS[request.param]


def test_every_locked_package_is_hash_checked(lock: tuple[str, dict[str, Locked], bool]) -> None:
    name, entries, _ = lock
    assert entries, f"{name} lists no packages: {FIX}"
    unhashed = sorted(package for package, locked in entries.items() if not locked.hashes)
    assert not unhashed, f"{name}: no --hash for {', '.join(unhashed)}: {FIX}"


def test_every_pyproject_requirement_is_locked_at_a_version_it_accepts(
    lock: tuple[str, dict[str, Locked], bool],
) -> None:
    name, entries, with_tests = lock
    problems = []
    for requirement in roots(with_tests):
        if not applies(requirement):
            continue
        locked = entries.get(canonicalize_name(requirement.name))
        if locked is None:
            problems.append(f"{requirement} (pyproject.toml) is missing from {name}")
        elif not requirement.specifier.contains(locked.version, prereleases=True):
            problems.append(f"{name} has {requirement.name}=={locked.version}, pyproject.toml asks for {requirement}")
    assert not problems, "\n".join([*problems, FIX])


def test_the_image_runs_the_versions_ci_tests() -> None:
    """requirements-dev.lock is the runtime lock plus the test tools, at the same versions."""
    runtime = read_lock(ROOT / "requirements.lock")
    dev = read_lock(ROOT / "requirements-dev.lock")
    differ = [
        f"{package}: {locked.version} in requirements.lock, {dev[package].version if package in dev else 'absent'} "
        "in requirements-dev.lock"
        for package, locked in sorted(runtime.items())
        if package not in dev or dev[package].version != locked.version
    ]
    assert not differ, "\n".join([*differ, FIX])


def test_the_lock_is_exactly_the_dependency_closure(lock: tuple[str, dict[str, Locked], bool]) -> None:
    """Walk pyproject's requirements through each locked package's own metadata (the installed copy, when it is
    the locked version): every requirement met by the lock, and nothing locked that nothing needs any more.

    ``make test`` installs from the lock, so in CI every package is the locked version and the walk is complete;
    elsewhere a package installed at another version can't be walked (and in CI that is itself a failure).
    """
    name, entries, with_tests = lock
    problems: list[str] = []
    unknown: list[str] = []
    reached: set[str] = set()
    queue = deque((requirement, "pyproject.toml") for requirement in roots(with_tests))
    extras_walked: set[tuple[str, frozenset[str]]] = set()
    parent_extras: dict[str, frozenset[str]] = {"pyproject.toml": frozenset()}
    while queue:
        requirement, needed_by = queue.popleft()
        if not applies(requirement, parent_extras.get(needed_by, frozenset())):
            continue
        package = canonicalize_name(requirement.name)
        locked = entries.get(package)
        if locked is None:
            problems.append(f"{requirement} (needed by {needed_by}) is missing from {name}")
            continue
        if not requirement.specifier.contains(locked.version, prereleases=True):
            problems.append(f"{name} has {package}=={locked.version}; {needed_by} needs {requirement}")
        reached.add(package)
        key = (package, frozenset(requirement.extras))
        if key in extras_walked:
            continue
        extras_walked.add(key)
        try:
            installed = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            unknown.append(f"{package} (not installed)")
            continue
        if Version(installed.version) != locked.version:
            unknown.append(f"{package} (installed {installed.version}, locked {locked.version})")
            continue
        node = f"{package} {locked.version}" + (
            f" [{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        )
        parent_extras[node] = frozenset(requirement.extras)
        queue.extend((Requirement(line), node) for line in installed.requires or [])
    assert not problems, "\n".join([*problems, FIX])
    if unknown:
        assert not os.environ.get("CI"), (
            "CI installs from the lock, yet these are not the locked versions: " + ", ".join(unknown)
        )
        return  # a hand-made environment: what could be walked was checked
    orphans = sorted(set(entries) - reached)
    assert not orphans, f"{name} locks {', '.join(orphans)}, which nothing in pyproject.toml needs any more: {FIX}"


def test_read_lock_refuses_what_pip_would_not_check(tmp_path: Path) -> None:
    """The parser behind these tests fails on unpinned, unhashed or duplicated entries."""
    good = "aiosqlite==0.22.1 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via pyproject.toml\n"
    path = tmp_path / "requirements.lock"
    path.write_text(good)
    assert read_lock(path) == {"aiosqlite": Locked(Version("0.22.1"), ("--hash=sha256:" + "a" * 64,))}
    for bad in ("aiosqlite>=0.22\n", good + good, "aiosqlite==0.22.1 --index-url https://example.invalid\n"):
        path.write_text(bad)
        with pytest.raises(AssertionError, match="make lock"):
            read_lock(path)
