"""Every user in their own language: gettext catalogs through Babel, and the choice of language.

Format. GNU gettext `.po` catalogs in `bot/i18n/locales/<language>/LC_MESSAGES/messages.po`, with the template
`locales/messages.pot`. Babel reads and writes them (`babel.messages`), gives each language its plural rule and
formats numbers; Poedit, Weblate, Crowdin, Lokalize and `msgfmt --check` all work on these files as they are.
Babel is well kept; Fluent's Python runtime (fluent.runtime) has had no release since 2022.

Message ids: classic gettext, with a context. `msgid` is the English text and `msgctxt` the stable key the code
uses (`chat.welcome`, `advice.steps.key_invalid.default`, `card.header`). Why: translators' tools show the
`msgid` as the source text, so with English there every tool works without a separate English file (keys as ids,
"monolingual" gettext, need a tool that pairs each key with the English catalog, which Poedit and msgmerge don't);
an English text that changes makes its translation fuzzy on the next `make i18n-update`, so a stale translation is
flagged and English is shown until someone looks at it. The context keeps the code readable (`t(lang, "welcome",
name=...)` finds its text by key, not by a sentence pasted into the handler) and lets the same English words be
translated differently where they are used differently.

Where the texts are: the English source stays in the code's text tables (`bot.i18n.texts.Texts`: handlers.texts,
the advice texts, the Mini App's, /status', the insights', the command line's); `python -m bot.i18n.extract`
(`make i18n-update`) writes the template from them and merges it into every language's catalog. At run time the
`.po` files are read as they are (`bot.i18n.catalogs`): nothing to compile.

Language choice (`bot.i18n.languages`): English, Russian, Simplified Chinese, Spanish, Turkish and Vietnamese; a
user's language comes from Telegram's `language_code` on first contact and is stored with the user; `/language`
changes it. Missing translations fall back to English, entry by entry. Exchange labels quoted in the advice can be
given as each exchange's localised screen shows them (`bot.i18n.labels`, with the page each comes from).

Transport-free: nothing here imports `telegram`.
"""

from bot.i18n.catalogs import format_number, join_items, npgettext, pgettext
from bot.i18n.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TELEGRAM_CODES,
    from_locale,
    from_telegram,
    native_name,
    normalise,
    parse,
)
from bot.i18n.texts import Message, Plural, Texts

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "TELEGRAM_CODES",
    "Message",
    "Plural",
    "Texts",
    "format_number",
    "from_locale",
    "from_telegram",
    "join_items",
    "native_name",
    "normalise",
    "npgettext",
    "parse",
    "pgettext",
]
