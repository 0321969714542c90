"""Every catalog complete and consistent (issue #18): the same message ids as the template, the same placeholders in
every translation, valid Telegram HTML, every text within Telegram's limits, in every language; the template up to
date with the code; the runtime's fallbacks, plurals and numbers.

Languages still being translated are listed in INCOMPLETE_LANGUAGES: the completeness test skips them (saying so),
every other check runs on whatever they have. A translator removes their language from it when they are done; the
list ends empty.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from bot.advice import steps_for
from bot.advice.texts import EN as ADVICE
from bot.diagnosis import Cause, Diagnosis
from bot.exchanges.catalog import CATALOG
from bot.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Plural,
    Texts,
    catalogs,
    format_number,
    from_locale,
    from_telegram,
    native_name,
    parse,
)
from bot.i18n.extract import BUTTON_LIMIT, template_messages
from bot.i18n.extract import main as extract_main
from bot.sandbox.telegram_model import HtmlError, parse_html
from bot.verdict import verdict_view
from handlers.render import esc, verdict_text
from handlers.texts import CARD, CHAT, COMMANDS, t
from tests.i18n_harness import marker, pseudo_locales

#: Languages whose translators are not done yet (their completeness test is skipped). Remove yours when done.
INCOMPLETE_LANGUAGES: frozenset[str] = frozenset()
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
PLACEHOLDER = re.compile(r"\{([a-z_]*)\}")
MESSAGE_LIMIT = 4096  # https://core.telegram.org/bots/api#sendmessage
CALLBACK_ANSWER_LIMIT = 200  # https://core.telegram.org/bots/api#answercallbackquery
COMMAND_DESCRIPTION_LIMIT = 256  # https://core.telegram.org/bots/api#botcommand
#: Callback answers (toasts): what `answer_query` shows.
TOASTS = ("button_repeat", "stale_button")
KEYED = [spec for spec in CATALOG.values() if spec.needs_key]
LONGEST_EXCHANGE = max((spec.display_name for spec in CATALOG.values()), key=len)
#: A value for every placeholder, as long as it gets in practice (a first name: up to 64 characters).
SAMPLES: dict[str, Any] = {
    "name": "N" * 64,
    "exchange": LONGEST_EXCHANGE,
    "fingerprint": "abcd…wxyz",
    "minutes": 30,
    "limit": 1000,
    "position": "1,000",
    "wait": "30 minutes",
    "ticket": 123456,
    "user": 1234567890,
    "label": "“API passphrase”",
    "what": "key and secret",
    "hint": "x" * 120,
    "language": "Tiếng Việt",
    "count": 999,
    "n": 9,
    "total": 9,
}


def po(language: str) -> Any:
    path = catalogs.po_path(language)
    return read_po(io.BytesIO(path.read_bytes()), locale=language)


def ids(catalog: Any) -> set[tuple[str | None, str, str | None]]:
    out = set()
    for message in catalog:
        if message.id:
            plural = message.id[1] if isinstance(message.id, tuple | list) else None
            msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
            out.add((message.context, msgid, plural))
    return out


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def translations(language: str) -> list[tuple[str, str, list[str]]]:
    """(context, English, [each translated form]) for every translated entry of `language`."""
    found = []
    for message in po(language):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple | list):
            forms = [f for f in message.string if f]
            found.append((message.context, message.id[1], forms))
        else:
            found.append((message.context, message.id, [message.string]))
    return found


# -- the template and the catalogs -----------------------------------------------------------------------------
def test_the_template_and_every_catalog_are_up_to_date_with_the_code() -> None:
    assert extract_main(["--check"]) == 0, "run `make i18n-update` and commit the catalogs"


def test_every_text_of_the_code_is_in_the_template_once() -> None:
    template = read_po(io.BytesIO((catalogs.LOCALES / "messages.pot").read_bytes()))
    messages = template_messages()
    assert len(ids(template)) == len(messages) > 600
    keys = [(m.context, m.msgid) for m in messages]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_has_exactly_the_template_ids(language: str) -> None:
    template = read_po(io.BytesIO((catalogs.LOCALES / "messages.pot").read_bytes()))
    catalog = po(language)
    assert ids(catalog) == ids(template)
    assert catalog.num_plurals >= 1 and catalog.locale is not None


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_the_placeholders(language: str) -> None:
    wrong = [
        (context, form)
        for context, english, forms in translations(language)
        for form in forms
        if placeholders(form) != placeholders(english)
    ]
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_is_complete(language: str) -> None:
    if language in INCOMPLETE_LANGUAGES:
        pytest.skip(f"{language}: translation in progress (INCOMPLETE_LANGUAGES in this test)")
    missing = []
    for message in po(language):
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        if message.fuzzy or not all(forms):
            missing.append(message.context)
    assert missing == [], f"{len(missing)} entries untranslated or fuzzy in {language}"


def test_incomplete_languages_are_ours() -> None:
    assert set(INCOMPLETE_LANGUAGES) <= set(TRANSLATED)


# -- what every language shows: HTML and limits ---------------------------------------------------------------
def _filled(template: str) -> str:
    values = {name: esc(SAMPLES.get(name, name.upper())) for name in placeholders(template)}
    return template.format(**values)


def _texts_of(table: Texts, language: str) -> list[tuple[str, str]]:
    """(key, text) for every entry of `table` in `language`, each plural form included."""
    out = []
    for key, entry in table.source.items():
        if isinstance(entry, Plural):
            out += [(key, table.template(language, key, n)) for n in (1, 2, 5, 21, 1000)]
        else:
            out.append((key, table.template(language, key)))
    return out


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    """Each language; the checks below run on the catalog as shipped, and again with every gap filled by a
    pseudo-translation (so they run on translated text even while a catalog is empty)."""
    return str(request.param)


@pytest.mark.parametrize("pseudo", [False, True], ids=["shipped", "pseudo"])
def test_chat_and_card_texts_are_valid_telegram_html_within_limits(language: str, pseudo: bool, tmp_path: Path) -> None:
    def check() -> None:
        for table in (CHAT, CARD):
            for key, text in _texts_of(table, language):
                filled = _filled(text)
                try:
                    plain, _ = parse_html(filled)
                except HtmlError as exc:
                    pytest.fail(f"{language} {table.context(key)}: {exc}")
                assert len(plain) <= MESSAGE_LIMIT, (language, key)
        for key in TOASTS:
            assert len(t(language, key)) <= CALLBACK_ANSWER_LIMIT, (language, key)

    if pseudo:
        with pseudo_locales(tmp_path):
            check()
    else:
        check()


def _buttons(language: str) -> list[tuple[str, str]]:
    """Every button label the bot shows, with its longest values."""
    labels = [(key, _filled(CHAT.template(language, key))) for key in CHAT.source if key.startswith("btn_")]
    labels.append(("exchange_off", t(language, "exchange_off", exchange=LONGEST_EXCHANGE)))
    labels += [(f"language {code}", t(language, "language_current", language=native_name(code))) for code in LANGUAGES]
    from bot.advice.texts import lookup

    for key, name in (lookup(language, "campaign_names") or {}).items():
        labels.append((f"campaign {key}", name))
    for question in lookup(language, "questions") or []:
        for answer, _ in question["answers"]:
            labels.append((f"answer {question['key']}", answer.format(passphrase_label="“API passphrase”")))
    return labels


@pytest.mark.parametrize("pseudo", [False, True], ids=["shipped", "pseudo"])
def test_button_labels_fit_on_a_phone(language: str, pseudo: bool, tmp_path: Path) -> None:
    slack = len(marker(language)) + 1 if pseudo else 0  # what the pseudo-translation adds

    def check() -> None:
        too_long = [(key, label) for key, label in _buttons(language) if len(label) > BUTTON_LIMIT + slack]
        assert too_long == [], f"buttons over {BUTTON_LIMIT} characters in {language}"

    if pseudo:
        with pseudo_locales(tmp_path):
            check()
    else:
        check()


def test_command_descriptions_fit(language: str) -> None:
    for name in COMMANDS.source:
        description = COMMANDS(language, name)
        assert 1 <= len(description) <= COMMAND_DESCRIPTION_LIMIT, (language, name)


@pytest.mark.parametrize("pseudo", [False, True], ids=["shipped", "pseudo"])
def test_every_verdict_and_step_fits_in_a_message(language: str, pseudo: bool, tmp_path: Path) -> None:
    """The longest message the bot builds, the verdict with one step, for every cause on every exchange."""
    from bot.exchanges.report import KeyCheckReport

    def check() -> None:
        for spec in KEYED:
            report = KeyCheckReport(spec.id, key_fingerprint="abcd…wxyz")
            for cause in Cause:
                if cause is Cause.OK:
                    continue
                report.diagnosis = Diagnosis(cause, alternatives=(Cause.KEY_EXPIRED, Cause.IP_NOT_WHITELISTED))
                view = verdict_view(report, outbound_ips=["203.0.113.10"] * 8, language=language)
                for step in range(len(view.steps)):
                    text = verdict_text(view, step=step, kept_minutes=30, down_note="x" * 200, lang=language)
                    plain, _ = parse_html(text)
                    assert len(plain) <= MESSAGE_LIMIT, (language, spec.id, cause, step)

    if pseudo:
        with pseudo_locales(tmp_path):
            check()
    else:
        check()


# -- the runtime ---------------------------------------------------------------------------------------------
def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings(item, out)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_looked_up_in_the_catalog(language: str, tmp_path: Path) -> None:
    """With every entry translated (pseudo-translations), no table, advice text or exchange-data word comes back
    English: each goes through the catalog under the context the template gives it."""
    from bot.advice.exchanges import screen_words
    from bot.advice.texts import context, lookup
    from bot.i18n.extract import tables

    with pseudo_locales(tmp_path):  # every entry, finished catalogs too: their real texts hide nothing
        for table in tables():
            for key, text in _texts_of(table, language):
                assert text.startswith(marker(language)), (table.context(key), text)
        for table_name in ADVICE:
            strings: list[str] = []
            _strings(lookup(language, table_name), strings)
            words = [w for w in strings if w and w not in Cause._value2member_map_ and w != "primary"]
            keys = {q["key"] for q in ADVICE["questions"]}
            english = [w for w in words if not w.startswith(marker(language)) and w not in keys]
            assert english == [], (table_name, english[:3])
        assert context(("steps", "key_invalid", "default", 0, 1)) == "advice.steps.key_invalid.default"
        assert screen_words("profile icon", "mexc", language).startswith(marker(language))
        steps = steps_for(Diagnosis(Cause.PERMISSION_MISSING), "mexc", language=language)
        assert all(s.title.startswith(marker(language)) for s in steps)


def test_missing_fuzzy_and_broken_translations_fall_back_to_english(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    (locales / "ru" / "LC_MESSAGES").mkdir(parents=True)
    (locales / "ru" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ru\\n"\n"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : '
        'n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'
        'msgctxt "chat.cancelled"\nmsgid "{english}"\nmsgstr "Хорошо, остановились."\n\n'
        '#, fuzzy\nmsgctxt "chat.forgot_nothing"\nmsgid "{forgot}"\nmsgstr "старый перевод"\n\n'
        'msgctxt "chat.ask_secret"\nmsgid "{secret}"\nmsgstr "Ключ ({fingerprnt}) получен."\n\n'
        'msgctxt "chat.wait_minutes"\nmsgid "{{minutes}} minute"\nmsgid_plural "{{minutes}} minutes"\n'
        'msgstr[0] "{{minutes}} минуту"\nmsgstr[1] "{{minutes}} минуты"\nmsgstr[2] "{{minutes}} минут"\n'.replace(
            "{english}", str(CHAT.source["cancelled"])
        )
        .replace("{forgot}", str(CHAT.source["forgot_nothing"]))
        .replace("{secret}", str(CHAT.source["ask_secret"]).replace('"', '\\"'))
        .replace("{{", "{")
        .replace("}}", "}"),
        "utf-8",
    )
    catalogs.use_locales(locales)
    try:
        assert t("ru", "cancelled") == "Хорошо, остановились."
        assert t("ru", "forgot_nothing") == CHAT.source["forgot_nothing"]  # fuzzy: English
        assert t("ru", "ask_secret", fingerprint="ab…cd") == t("en", "ask_secret", fingerprint="ab…cd")  # broken
        assert t("ru", "nothing_to_cancel") == CHAT.source["nothing_to_cancel"]  # absent: English
        forms = [t("ru", "wait_minutes", minutes=n) for n in (1, 2, 5, 11, 21, 1000)]
        assert forms == ["1 минуту", "2 минуты", "5 минут", "11 минут", "21 минуту", "1\xa0000 минут"]
        assert t("tr", "cancelled") == CHAT.source["cancelled"]  # no catalog there: English
    finally:
        catalogs.use_locales(None)


def test_english_plurals_and_numbers() -> None:
    assert t("en", "wait_minutes", minutes=1) == "1 minute"
    assert t("en", "wait_minutes", minutes=5) == "5 minutes"
    assert t("en", "kept_for_recheck", minutes=30).startswith("I keep the key encrypted for 30 minutes")
    assert format_number(1234, "en") == "1,234"
    assert format_number(1234, "ru") == "1\xa0234"
    assert format_number(1234, "es") == "1234" or format_number(12345, "es") == "12.345"
    assert format_number(7, "zh_Hans") == "7"


# -- choosing the language -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("zh-hans", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-hant", "en"),
        ("zh-TW", "en"),
        ("es", "es"),
        ("es-419", "es"),
        ("tr", "tr"),
        ("vi", "vi"),
        ("en", "en"),
        ("en-GB", "en"),
        ("de", "en"),
        ("uk", "en"),
        ("pt-br", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_telegram_language_codes(code: str | None, language: str) -> None:
    assert from_telegram(code) == language


def test_locale_and_lang_options() -> None:
    assert from_locale({"LANG": "ru_RU.UTF-8"}) == "ru"
    assert from_locale({"LANG": "ru_RU.UTF-8", "LC_MESSAGES": "vi_VN.UTF-8"}) == "vi"
    assert from_locale({"LANG": "ru_RU.UTF-8", "LC_ALL": "zh_CN.UTF-8"}) == "zh_Hans"
    assert from_locale({"LANG": "C.UTF-8"}) == "en"
    assert from_locale({"LANG": "de_DE.UTF-8"}) == "en"
    assert from_locale({}) == "en"
    assert [parse(x) for x in ("zh_Hans", "tr_TR", "es-MX", "xx")] == ["zh_Hans", "tr", "es", None]


def test_each_language_is_named_in_itself() -> None:
    assert [native_name(code) for code in LANGUAGES] == [
        "English",
        "Русский",
        "简体中文",
        "Español",
        "Türkçe",
        "Tiếng Việt",
    ]


def test_the_advice_keeps_the_exchanges_english_labels_in_english() -> None:
    text = "\n".join(s.text for s in steps_for(Diagnosis(Cause.PERMISSION_MISSING), "mexc"))
    assert "Account: view account details" in text and "“" not in text.split("HuFi needs these")[1][:60]
    assert ADVICE["titles"]["ok"] == "The key works"
