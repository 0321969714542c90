"""What to tell the user for each cause and exchange. Texts are data (`bot.advice.texts`), English first.

Transport-free: never imports `telegram`; handlers render the `Step`s and `Question`s returned here.
"""

from bot.advice.advisor import (
    HUFI_ORDER,
    cause_title,
    exchange_permission_names,
    qualifying_campaigns,
    question_for,
    steps_for,
)
from bot.advice.model import Answer, Question, Step
from bot.advice.texts import LANGUAGES

__all__ = [
    "HUFI_ORDER",
    "LANGUAGES",
    "Answer",
    "Question",
    "Step",
    "cause_title",
    "exchange_permission_names",
    "qualifying_campaigns",
    "question_for",
    "steps_for",
]
