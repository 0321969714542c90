"""What to tell the user for each cause and exchange, in their language. Texts are data (`bot.advice.texts`: the
English source, translated through the catalogs of `bot.i18n`); each
exchange's key screens are data with their sources (`bot.advice.exchanges`); what a cause means for "check again" and
for HuFi's app is one table (`bot.advice.causes`); the exchange's own words come from `bot.advice.said`.

Transport-free: never imports `telegram`; handlers render the `Step`s and `Question`s returned here.
"""

from bot.advice.advisor import (
    HUFI_ORDER,
    cause_title,
    connect_hint,
    exchange_permission_names,
    exchange_words,
    hufi_next_text,
    qualifying_campaigns,
    question_for,
    steps_for,
)
from bot.advice.causes import CAUSE_TRAITS, HufiNext, recheck_helps
from bot.advice.model import Answer, Question, Step
from bot.advice.said import Said, exchange_said
from bot.advice.texts import LANGUAGES

__all__ = [
    "CAUSE_TRAITS",
    "HUFI_ORDER",
    "LANGUAGES",
    "Answer",
    "HufiNext",
    "Question",
    "Said",
    "Step",
    "cause_title",
    "connect_hint",
    "exchange_permission_names",
    "exchange_said",
    "exchange_words",
    "hufi_next_text",
    "qualifying_campaigns",
    "question_for",
    "recheck_helps",
    "steps_for",
]
