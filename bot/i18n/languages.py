"""Which languages the bot speaks, and how a language is named by Telegram, by a locale and by the user.

Codes are Babel's locale identifiers (`zh_Hans`, not `zh-CN`): they name the catalog folders
(`bot/i18n/locales/<code>/`) and are what the database stores per user. Telegram sends an IETF tag in
`User.language_code` ("en", "ru", "zh-hans", "pt-br"); `from_telegram` maps it, and anything we have no catalog for
is English. Traditional Chinese (zh-hant, zh-tw, zh-hk) is "anything else" too: our Chinese catalog is Simplified.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_LANGUAGE = "en"
#: Every language with a catalog, English (the source) first. The order of the /language buttons.
LANGUAGES: tuple[str, ...] = ("en", "ru", "zh_Hans", "es", "tr", "vi")

#: Each language named in itself (the /language buttons, the support card's "language" line). Babel's CLDR data
#: has the same names in lower case ("русский", "español"); a button starts with a capital where the script has one.
NATIVE_NAMES: Mapping[str, str] = {
    "en": "English",
    "ru": "Русский",
    "zh_Hans": "简体中文",
    "es": "Español",
    "tr": "Türkçe",
    "vi": "Tiếng Việt",
}

#: Tags (lower case, "-" as separator) that mean one of our languages; a longer tag falls back to its first part
#: ("ru-ru" -> "ru", "es-419" -> "es"), except Chinese, which is decided by its script or region.
_TAGS: Mapping[str, str] = {
    "en": "en",
    "ru": "ru",
    "es": "es",
    "tr": "tr",
    "vi": "vi",
    "zh": "zh_Hans",
    "zh-hans": "zh_Hans",
    "zh-cn": "zh_Hans",
    "zh-sg": "zh_Hans",
    "zh-my": "zh_Hans",
}
_CHINESE_OTHER = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")

#: The `language_code` of setMyCommands for each language: "a two-letter ISO 639-1 language code"
#: (https://core.telegram.org/bots/api#setmycommands). English is the default list (no code).
TELEGRAM_CODES: Mapping[str, str] = {"ru": "ru", "zh_Hans": "zh", "es": "es", "tr": "tr", "vi": "vi"}


def parse(value: str | None) -> str | None:
    """One of LANGUAGES for a tag or a locale name ("ru", "zh-Hans", "zh_CN.UTF-8", "es-419", "zh_Hans"), or None
    when it names none of them."""
    if not value:
        return None
    tag = value.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower()
    if not tag or tag in ("c", "posix"):
        return None
    if tag in _TAGS:
        return _TAGS[tag]
    if tag.startswith(_CHINESE_OTHER):
        return None
    if tag.startswith("zh-"):
        parts = tag.split("-")
        return "zh_Hans" if any(p in ("hans", "cn", "sg", "my") for p in parts[1:]) else None
    return _TAGS.get(tag.split("-", 1)[0])


def from_telegram(language_code: str | None) -> str:
    """The language for a Telegram user's `language_code` on first contact; English for anything else."""
    return parse(language_code) or DEFAULT_LANGUAGE


def from_locale(environ: Mapping[str, str] | None = None) -> str:
    """The language of the environment's locale, as POSIX orders it: LC_ALL, then LC_MESSAGES, then LANG (the first
    one set decides; "C", "POSIX" or a language without a catalog is English)."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return parse(value) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def normalise(language: str | None) -> str:
    """A language code as stored or passed around, checked: one of LANGUAGES (English for anything else)."""
    if language in LANGUAGES:
        return language  # type: ignore[return-value]
    return parse(language) or DEFAULT_LANGUAGE


def telegram_tag(language: str) -> str:
    """The `language_code` a Telegram app in `language` sends ("zh-hans" for zh_Hans): for the demo and tests."""
    return normalise(language).replace("_", "-").lower()


def native_name(language: str) -> str:
    """The language named in itself ("Русский")."""
    return NATIVE_NAMES.get(normalise(language), language)
