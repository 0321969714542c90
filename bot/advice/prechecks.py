"""What a pre-check found, said in the user's language.

`bot.diagnosis.precheck` refuses credentials before any request and writes an English detail for support; its
diagnosis also carries the facts (`Diagnosis.args`: the kind of problem, the fields, the numbers). This module turns
those facts into a sentence from the `prechecks` table of the advice texts, in `language`, with the fields named
the way the exchange names them (`exchange_words`). The chat's verdict and the Mini App's form both show it.
"""

from __future__ import annotations

from bot.advice.advisor import connect_hint, exchange_words
from bot.advice.texts import lookup
from bot.diagnosis.model import Diagnosis
from bot.exchanges.catalog import CATALOG
from bot.i18n import DEFAULT_LANGUAGE, format_number, join_items

#: args that hold numbers (written the language's way)
_NUMBERS = ("length", "max", "min", "n")


def _field_name(field: str, exchange_id: str, language: str) -> str:
    spec = CATALOG.get(exchange_id)
    cred = spec.credential(field) if spec is not None else None
    if cred is not None:
        return exchange_words(cred.label, exchange_id, language)
    return lookup(language, "prechecks", f"field_{field}") or field


def precheck_text(diagnosis: Diagnosis | None, exchange_id: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The sentence for a pre-check's diagnosis in `language`; "" when it is not a pre-check's (no `kind`)."""
    if diagnosis is None:
        return ""
    args = dict(diagnosis.args)
    kind = args.pop("kind", "")
    if kind == "dex":
        return connect_hint(exchange_id, language)
    template = lookup(language, "prechecks", kind) if kind else None
    if not isinstance(template, str) or not template:
        return ""
    spec = CATALOG.get(exchange_id)
    values: dict[str, str] = {"exchange": spec.display_name if spec is not None else exchange_id}
    for name in _NUMBERS:
        if args.get(name, "").isdecimal():
            values[name] = format_number(int(args[name]), language)
    if "field" in args:
        values["label"] = _field_name(args["field"], exchange_id, language)
    if "other" in args:
        values["other"] = _field_name(args["other"], exchange_id, language)
    if "fields" in args:
        names = [_field_name(field, exchange_id, language) for field in args["fields"].split(",") if field]
        values["labels"] = join_items(names, language)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder: the English one
        english = lookup(DEFAULT_LANGUAGE, "prechecks", kind)
        return english.format(**values) if isinstance(english, str) else ""
