"""Exchange labels per language (issue #18): where the advice quotes an exchange's own words, a language shows the
words the exchange's localised screen has (each with its source page), else the English words in quotes; English
shows them bare, as before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.advice import exchange_words, steps_for
from bot.diagnosis import Cause, Diagnosis
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from bot.i18n.catalogs import LOCALES, use_locales
from bot.i18n.extract import label_entries
from bot.i18n.labels import labels_path, read_labels
from tests.i18n_harness import marker, pseudo_locales

TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
HTTPS = re.compile(r"https://[a-z0-9.-]+\.[a-z]{2,}/\S*")


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_label_file_lists_known_labels_and_each_filled_one_has_its_source(language: str) -> None:
    known = label_entries()
    table = read_labels(labels_path(language, LOCALES))
    assert set(table) == set(known)
    for exchange_id, entries in table.items():
        assert list(entries) == known[exchange_id], exchange_id
        for english, entry in entries.items():
            if entry.label:
                assert HTTPS.fullmatch(entry.source), (language, exchange_id, english, entry.source)
                assert entry.label != english or entry.source, (language, exchange_id, english)


def test_a_localised_label_is_used_and_a_missing_one_is_quoted(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path):
        path = labels_path("ru", tmp_path / "locales")
        # every shipped label left out, so only the one set here is localised
        shipped = re.sub(r'label = "[^"]*", source = "[^"]*"', 'label = "", source = ""', path.read_text("utf-8"))
        text = shipped.replace(
            '"API Management" = { label = "", source = "" }',
            '"API Management" = { label = "Управление API", source = "https://www.mexc.com/ru-RU/support" }',
            1,  # the first exchange listing it (Binance comes first in the table)
        )
        path.write_text(text, "utf-8")
        use_locales(tmp_path / "locales")  # read the edited file
        steps = steps_for(Diagnosis(Cause.PERMISSION_MISSING), "binance", language="ru")
        opened = steps[0].text
        assert "Управление API" in opened and "API Management" not in opened
        assert f"{marker('ru')} “Enable Reading”" in steps[1].text  # not localised: the English label, quoted
        assert "“API Management”" in steps_for(Diagnosis(Cause.PERMISSION_MISSING), "gate", language="ru")[0].text
        assert exchange_words("API passphrase", "okx", "ru") == f"{marker('ru')} “API passphrase”"
    use_locales(None)


def test_english_shows_the_labels_bare() -> None:
    text = steps_for(Diagnosis(Cause.PERMISSION_MISSING), "binance")[1].text
    assert "Enable Reading (balances, deposit address and trade history)" in text
    assert exchange_words("API passphrase", "okx") == "API passphrase"
