"""`python -m bot.i18n.extract` (`make i18n-update`): the template from the code's text tables, merged into every
language's catalog, and every exchange label listed in each language's label file.

The texts are data in tables (keyed, nested by cause and exchange), not `_()` calls in code, so they are collected
by importing the tables rather than by `pybabel extract`'s scan of call sites; Babel's catalog API writes the
template (`locales/messages.pot`) and merges it into each `locales/<language>/LC_MESSAGES/messages.po` as
`pybabel update` would: new entries empty, removed ones kept as obsolete (`#~`), entries whose English changed
marked fuzzy (so English is shown until a translator looks at them), translations and translators' comments kept.

`--check` changes nothing and exits 1 when the template or a catalog lags the code (tests/test_i18n_catalogs.py
runs it). Every entry carries automatic comments (`#.`) for translators: what the table is, what each placeholder
stands for, and the length limit of buttons.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.i18n.catalogs import DOMAIN, LOCALES, po_path
from bot.i18n.labels import labels_path, read_labels
from bot.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES
from bot.i18n.texts import Message, Texts

PROJECT = "hufi-key-support-bot"
#: Button labels must show on a phone: at most this many characters (tests/test_i18n_catalogs.py holds them to it).
BUTTON_LIMIT = 32
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

#: What each placeholder stands for, shown to translators next to every entry that has it.
PLACEHOLDERS: dict[str, str] = {
    "name": "the user's first name",
    "exchange": "the exchange's name (MEXC, Gate, KuCoin…): keep it as it is",
    "fingerprint": "the first and last characters of the API key (abcd…wxyz)",
    "minutes": "a number of minutes",
    "wait": "“N minutes”, from the entry chat.wait_minutes",
    "limit": "a number (how many checks are allowed)",
    "position": "a number (the place in the queue)",
    "ticket": "the ticket number",
    "user": "a Telegram user id",
    "label": "the exchange's name for the field (“API passphrase”, “API memo”), already in quotes where needed",
    "what": "the entry chat.what_key, chat.what_secret, chat.what_pair or chat.what_extra",
    "hint": "a sentence on how to connect a DEX in HuFi (entries exchange.connect_hint.*)",
    "title": "a title from the advice (advice.titles.*) or a step's title",
    "text": "a sentence from the advice",
    "n": "a number",
    "total": "a number",
    "types": "campaign type names, comma-separated (advice.campaign_names.*)",
    "perms": "permission names, comma-separated (chat.perm_*)",
    "perm": "a permission's name (chat.perm_*)",
    "mark": "an emoji (chat.state_*)",
    "words": "the exchange's own words, quoted as it sent them (not translated)",
    "code": "the exchange's error code",
    "note": "a sentence from advice.labels.*",
    "contact": "a web address",
    "link": "a t.me link, or the entry chat.group_secret_no_link",
    "deleted": "the entry chat.group_secret_deleted or chat.group_secret_not_deleted",
    "command": "a command name without the slash (close, ban…)",
    "language": "a language's name in that language (Русский, Español…)",
    "api_page": "advice.phrases.api_page: “the API page of MEXC (profile icon → API Management, or https://…)”",
    "api_page_short": "advice.phrases.api_page_short: “MEXC's API page”",
    "menu": "the menu path on the exchange (advice.screen entries and the exchange's labels, joined by → )",
    "menu_create": "the menu path and the button that creates a key",
    "perm_list": "the labels of the permissions to tick, with what each is for",
    "perm_balance": "the exchange's label of the balance permission",
    "perm_deposit": "the exchange's label of the deposit-address permission",
    "perm_trades": "the exchange's label of the trade-history permission",
    "passphrase_label": "the exchange's name for the passphrase or memo field",
    "deposit_network": "the name of the ETH deposit network on the exchange (Ethereum (ERC20)…)",
    "ips_text": "the sentence advice.phrases.ips_known or advice.phrases.ips_unknown",
    "ips": "IP addresses, comma-separated",
    "expiry_unbound": "a sentence about the key lifetime (advice.expiry.*), or nothing",
    "expiry_why": "a sentence about the key lifetime (advice.expiry.*)",
    "extra_needed": "advice.phrases.extra_needed for each extra field, or nothing",
    "connect_hint": "a sentence on how to connect a DEX in HuFi",
    "days": "a number of days",
    "arg": "a value from the exchange's reply (a number, a permission name)",
    "campaigns": "campaign type names, comma-separated",
    "url": "a web address",
    "question": "a question from advice.questions.*",
    "items": "several “title (code)” entries",
    "id": "a number",
    "username": "“ @username”, or nothing",
    "time": "a date and time",
    "version": "the bot's version",
    "cause": "a cause's internal name (permission_missing…): keep it as it is",
    "campaign": "a campaign type's name",
    "permission": "a permission's name",
    "count": "a number",
    "granted": "permission names, comma-separated",
    "missing": "permission names, comma-separated",
    "light": "a coloured circle emoji",
    "state": "a few words on what is wrong (status.down_*, status.degraded_*)",
    "error": "an error message",
    "duration": "a duration (1.2 s, 14 min)",
    "source": "status.list_launcher or status.list_builtin",
    "running": "a number",
    "queue": "a number",
    "chat": "a chat id",
    "first": "a date",
    "last": "a date",
    "tz": "a time zone name",
    "checks": "a number",
    "share": "a percentage",
    "fixed": "a number",
    "failed": "a number",
    "median": "a duration",
    "opened": "a number",
    "closed": "a number",
    "h": "a number of hours",
    "m": "a number of minutes",
    "d": "a number of days",
    "low": "a number",
    "high": "a number",
    "path": "a file path",
    "width": "a number",
    "height": "a number",
    "size": "a number",
    "tickets": "a number",
    "titles": "cause titles, comma-separated",
}


def tables() -> list[Texts]:
    """Every text table of the bot (imported here only: the tables never import this module)."""
    from bot.cli_texts import CLI
    from bot.health import STATUS
    from bot.insights.texts import CAUSES, INSIGHTS
    from bot.webapp.texts import TEXTS as WEBAPP
    from handlers.texts import CARD, CHAT, COMMANDS

    return [CHAT, CARD, COMMANDS, STATUS, WEBAPP, CLI, INSIGHTS, CAUSES]


def data_messages() -> Iterator[Message]:
    """The advice texts, and the words in the exchange data that are ours (menu descriptions, phrases around the
    exchanges' labels, how to connect a DEX)."""
    from bot.advice.advisor import CONNECT_HINT_CONTEXT
    from bot.advice.exchanges import QUOTED, QUOTED_CONTEXT, SCREEN_CONTEXT, Phrase, Ui, screen_values
    from bot.advice.texts import messages
    from bot.exchanges.catalog import CATALOG

    yield from messages()
    seen: set[str] = set()
    for _, value in screen_values():
        if isinstance(value, Ui):
            continue
        template = value.template if isinstance(value, Phrase) else str(value)
        if template not in seen:
            seen.add(template)
            note = "Words around an exchange's own labels: keep each {placeholder}; it is filled with the label."
            yield Message(SCREEN_CONTEXT, template, comments=(note,) if isinstance(value, Phrase) else ())
    yield Message(
        QUOTED_CONTEXT,
        QUOTED,
        comments=(
            "How an exchange's label is shown when its localised words are not known (the English label in your "
            "language's quotation marks, e.g. «{label}»). Not used in English, where labels are shown bare.",
        ),
    )
    for spec in CATALOG.values():
        if spec.connect_hint:
            yield Message(f"{CONNECT_HINT_CONTEXT}.{spec.id}", spec.connect_hint)


def template_messages() -> list[Message]:
    """Every entry of the template, in a stable order (tables first, then the advice and the exchange data)."""
    found: dict[tuple[str, str], Message] = {}
    for message in [m for table in tables() for m in table.messages()] + list(data_messages()):
        found.setdefault((message.context, message.msgid), message)
    return list(found.values())


def comments_of(message: Message, table_notes: dict[str, str]) -> list[str]:
    comments = list(message.comments)
    prefix = message.context.rsplit(".", 1)[0]
    if prefix in table_notes:
        comments.append(table_notes[prefix])
    if message.context.split(".")[-1].startswith("btn_"):
        comments.append(f"A button: at most {BUTTON_LIMIT} characters.")
    if message.html:
        comments.append("Telegram HTML: keep the tags (<b>, <code>…) as they are and close each one.")
    names = sorted(set(PLACEHOLDER.findall(message.msgid + (message.plural or ""))))
    for name in names:
        meaning = PLACEHOLDERS.get(name)
        comments.append(f"{{{name}}}: {meaning}" if meaning else f"{{{name}}}")
    return comments


def build_template() -> object:
    """The template as a Babel catalog."""
    from babel.messages.catalog import Catalog

    from bot import __version__

    notes = {table.prefix: table.description for table in tables() if table.description}
    template = Catalog(project=PROJECT, version=__version__, fuzzy=False, domain=DOMAIN)
    for message in template_messages():
        msgid: str | tuple[str, str] = (message.msgid, message.plural) if message.plural else message.msgid
        template.add(msgid, "", auto_comments=comments_of(message, notes), context=message.context)
    return template


def _po_bytes(catalog: object, **options: object) -> bytes:
    from babel.messages.pofile import write_po

    out = io.BytesIO()
    write_po(out, catalog, width=100, omit_header=False, **options)  # type: ignore[arg-type]
    return out.getvalue()


def _entries(data: bytes) -> list[tuple[object, ...]]:
    """What matters of a catalog file for --check: every entry with its comments and state, not the header dates."""
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(data))
    return [
        (m.context, m.id, m.string, tuple(m.auto_comments), tuple(m.user_comments), m.fuzzy) for m in catalog if m.id
    ] + [(m.context, m.id, m.string, "obsolete") for m in catalog.obsolete.values()]


def merged_catalog(template: object, language: str, existing: bytes | None) -> object:
    """The catalog of `language`: the existing one updated from the template (pybabel update), or a new one."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if existing is not None:
        catalog = read_po(io.BytesIO(existing), locale=language)
    else:
        catalog = Catalog(locale=language, project=PROJECT, domain=DOMAIN, fuzzy=False)
    catalog.update(template, update_header_comment=False)  # type: ignore[arg-type]
    return catalog


def label_entries() -> dict[str, list[str]]:
    """Every exchange label (the exchange's own words) the advice can quote, per exchange, in table order."""
    from bot.advice.exchanges import Phrase, Ui, screen_values
    from bot.exchanges.catalog import CATALOG

    found: dict[str, list[str]] = {}

    def add(exchange_id: str, label: str) -> None:
        labels = found.setdefault(exchange_id, [])
        if label not in labels:
            labels.append(label)

    for exchange_id, value in screen_values():
        if not exchange_id:
            continue
        if isinstance(value, Phrase):
            for part in value.parts.values():
                add(exchange_id, str(part))
        elif isinstance(value, Ui):
            add(exchange_id, str(value))
    for spec in CATALOG.values():
        for credential in spec.extra_credentials:
            add(spec.id, credential.label)
    return found


LABELS_HEADER = """# {language}: each exchange's own words on its screens in this language, for the labels the advice
# quotes.
# label = the words as the exchange's {language} screen or help page shows them; source = that page (https://...).
# An empty label: not found, and the advice shows the English label in quotes. `make i18n-update` adds new labels.
# See bot/i18n/TRANSLATING.md, "Exchange labels".
"""


def labels_file(language: str, existing: str | None) -> str:
    """The label file of `language`: every label of every exchange, filled ones kept as they are."""
    import tomllib

    from bot.exchanges.catalog import CATALOG

    old = read_labels_text(existing) if existing else {}
    lines = [LABELS_HEADER.format(language=language)]
    for exchange_id, labels in label_entries().items():
        name = CATALOG[exchange_id].display_name if exchange_id in CATALOG else exchange_id
        lines.append(f"\n[{exchange_id}]  # {name}")
        for english in labels:
            entry = old.get(exchange_id, {}).get(english)
            label, source = (entry.label, entry.source) if entry is not None else ("", "")
            lines.append(f"{_toml(english)} = {{ label = {_toml(label)}, source = {_toml(source)} }}")
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # what we write must read back
    return text


def read_labels_text(text: str) -> dict[str, dict[str, object]]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labels.toml"
        path.write_text(text, "utf-8")
        return read_labels(path)  # type: ignore[return-value]


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def planned(locales: Path = LOCALES) -> dict[Path, bytes]:
    """Every file `make i18n-update` writes, with its new content."""
    template = build_template()
    files: dict[Path, bytes] = {locales / f"{DOMAIN}.pot": _po_bytes(template)}
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language, locales)
        existing = path.read_bytes() if path.is_file() else None
        files[path] = _po_bytes(merged_catalog(template, language, existing))
        label_path = labels_path(language, locales)
        old = label_path.read_text("utf-8") if label_path.is_file() else None
        files[label_path] = labels_file(language, old).encode()
    return files


def stale(files: dict[Path, bytes]) -> list[Path]:
    """The files whose content would change (header dates aside)."""
    out = []
    for path, data in files.items():
        if not path.is_file():
            out.append(path)
        elif path.suffix in (".po", ".pot"):
            if _entries(path.read_bytes()) != _entries(data):
                out.append(path)
        elif path.read_bytes() != data:
            out.append(path)
    return out


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n.extract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file lags the code")
    parser.add_argument("--locales", type=Path, default=LOCALES, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv) if argv is not None else None)
    files = planned(args.locales)
    lagging = stale(files)
    if args.check:
        for path in lagging:
            print(f"out of date: {path} (run make i18n-update)", file=sys.stderr)
        return 1 if lagging else 0
    for path in lagging:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[path])
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
