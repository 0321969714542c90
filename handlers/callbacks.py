"""Callback data of every inline button: built and parsed in one place, strictly.

Each button's data has a fixed shape, and its handler is registered with a pattern that accepts that shape only
(ASCII digits for ids, at most 18 of them so an id always fits SQLite's INTEGER; the catalog's exchange ids, the
campaign types and the causes for the rest; `\\Z`, since `$` would let a trailing newline through). Data a client
forged or an older bot version left behind matches no pattern and gets the "stale button" answer; a handler only
ever sees data it can parse, and reads the parts from `context.match`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.diagnosis.model import CampaignType, Cause
from bot.exchanges.catalog import CATALOG
from bot.i18n import LANGUAGES


def _one_of(words: Iterable[str]) -> str:
    return "(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


#: A check id, a user id: ASCII digits only ("²".isdigit() is true, int("²") raises), below 2**63.
ID = r"(0|[1-9][0-9]{0,17})"
_EXCHANGE = _one_of(CATALOG)
_CAMPAIGN = _one_of([*(ct.value for ct in CampaignType), "any"])
_CAUSE = _one_of(c.value for c in Cause)
_STEP = r"([0-9]{1,3})"
_LANGUAGE = _one_of(LANGUAGES)

CHECK = "check"
FORGET = "forget"
NOOP = "noop"
SUPPORT_SKIP = "support_skip"

PICK_EXCHANGE = re.compile(rf"^ex:{_EXCHANGE}\Z")
PICK_CAMPAIGN = re.compile(rf"^ct:{_CAMPAIGN}\Z")
ANOTHER_KEY = re.compile(rf"^another:{_EXCHANGE}\Z")
NEXT_STEP = re.compile(rf"^step:{ID}:{_STEP}\Z")
ANSWER = re.compile(rf"^ans:{ID}:{_CAUSE}\Z")
CHECK_AGAIN = re.compile(rf"^again:{ID}\Z")
TALK_TO_SUPPORT = re.compile(rf"^support:{ID}\Z")
START_CHECK = re.compile(rf"^{CHECK}\Z")
FORGET_KEY = re.compile(rf"^{FORGET}\Z")
NOTHING = re.compile(rf"^{NOOP}\Z")
SKIP_DESCRIPTION = re.compile(rf"^{SUPPORT_SKIP}\Z")
PICK_LANGUAGE = re.compile(rf"^lang:{_LANGUAGE}\Z")

#: Every pattern a handler is registered with (the forged-data tests walk this list).
PATTERNS = (
    START_CHECK,
    PICK_EXCHANGE,
    PICK_CAMPAIGN,
    ANOTHER_KEY,
    NEXT_STEP,
    ANSWER,
    CHECK_AGAIN,
    TALK_TO_SUPPORT,
    FORGET_KEY,
    NOTHING,
    SKIP_DESCRIPTION,
    PICK_LANGUAGE,
)


def pick_exchange(exchange_id: str) -> str:
    return f"ex:{exchange_id}"


def pick_campaign(campaign: str) -> str:
    return f"ct:{campaign}"


def another_key(exchange_id: str) -> str:
    return f"another:{exchange_id}"


def next_step(check_id: int, step: int) -> str:
    return f"step:{check_id}:{step}"


def answer(check_id: int, cause: str) -> str:
    return f"ans:{check_id}:{cause}"


def check_again(check_id: int) -> str:
    return f"again:{check_id}"


def talk_to_support(check_id: int) -> str:
    return f"support:{check_id}"


def pick_language(language: str) -> str:
    return f"lang:{language}"


_USER_ID = re.compile(rf"^{ID}\Z")


def user_id(text: str) -> int | None:
    """A Telegram user id typed by staff ("/close 123456789"), or None if `text` is not one."""
    return int(text) if _USER_ID.match(text) else None
