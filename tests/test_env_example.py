""".env.example names exactly the settings in README's Configuration table, each documented, with no secrets.

Whoever adds a setting adds a README row; this test then asks for the .env.example line (and the other way round),
so the example can't fall behind the settings.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def readme_settings() -> list[str]:
    """The variables in the first column of README's "Configuration" table (a row may name several)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[0].lower().startswith("| variable"), "README's Configuration table must start with | variable |"
    names = [name for row in rows[2:] for name in NAME.findall(row.split("|")[1])]
    assert names, "no settings found in README's Configuration table"
    return names


def example_lines() -> list[tuple[int, bool, str, str]]:
    """(line number, commented out, name, value) for every ``NAME=value`` or ``# NAME=value`` line."""
    found = []
    for number, line in enumerate((ROOT / ".env.example").read_text().splitlines(), 1):
        if match := ASSIGNMENT.match(line.strip()):
            found.append((number, match.group(1) is not None, match.group(2), match.group(3)))
    return found


def test_env_example_and_readme_name_the_same_settings() -> None:
    readme = readme_settings()
    example = [name for _, _, name, _ in example_lines()]
    assert len(set(readme)) == len(readme), "README's Configuration table names a setting twice"
    assert len(set(example)) == len(example), ".env.example names a setting twice"
    assert not set(readme) - set(example), f"add to .env.example: {sorted(set(readme) - set(example))}"
    assert not set(example) - set(readme), f"add to README's Configuration table: {sorted(set(example) - set(readme))}"


def test_every_setting_is_explained_above_it() -> None:
    """Each setting follows a comment (or another setting of the same group, as WEBHOOK_LISTEN/WEBHOOK_PORT)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    for number, _, name, _ in example_lines():
        above = lines[number - 2].strip() if number > 1 else ""
        assert above.startswith("#"), f".env.example line {number}: explain {name} in a comment above it"


def test_only_the_token_is_to_fill_in_and_no_value_is_a_secret() -> None:
    """Optional settings stay commented out (an empty value would override the Docker image's own, such as
    WEBHOOK_LISTEN=0.0.0.0); the token is the one line to fill in, empty; examples are placeholders."""
    active = [(name, value) for _, commented, name, value in example_lines() if not commented]
    assert active == [("TELEGRAM_BOT_TOKEN", "")]
    for number, _, name, value in example_lines():
        assert not re.search(r"\d{6,}:[A-Za-z0-9_-]{30,}", value), f"line {number}: {name} looks like a real token"
        if name in ("BOT_ENCRYPTION_KEY", "WEBHOOK_SECRET_TOKEN"):
            assert value == "", f"line {number}: leave {name} empty in the example"
        if "@" in value:
            assert "user:password@" in value, f"line {number}: {name} shows credentials other than placeholders"
