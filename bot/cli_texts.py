"""What `python -m bot check` prints about a key, in the language of `--lang` (or the locale): the English source of
the catalog entries `cli.<key>` (bot.i18n). The verdict's own words (cause titles, steps) come from the advice, as in
the chat. Plain text for a terminal."""

from __future__ import annotations

from bot.i18n import Texts

CLI_EN: dict[str, str] = {
    "key": "{exchange} key {fingerprint}",
    "all_granted": "Every permission HuFi checks is granted.",
    "in_hufi": "In HuFi: {text}",
    "cause": "Cause: {title} ({cause})",
    "could_also_be": "Could also be: {titles}",
    "said_words_code": "{exchange} said: “{words}” (code {code})",
    "said": "{exchange} said: {what}",
    "said_words": "“{words}”",
    "said_code": "code {code}",
    "saw": "What the check saw: {note}",
    "no_recheck": "Checking this same key again won't help: it needs new key details.",
    "qualifies": "Qualifies for: {types}",
    "qualifies_none": "Qualifies for: no campaign type yet",
    "yes": "yes",
    "no": "no",
    "no_key": "{exchange} needs no API key. {hint}",
}
CLI = Texts("cli", CLI_EN, description="python -m bot check (plain text, a terminal)")


def cli_text(language: str, key: str, /, **values: object) -> str:
    """A text of the command line's report in `language`."""
    return CLI(language, key, **values)
