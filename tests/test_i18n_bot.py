"""Every user in their own language, end to end (issue #18): the real Application over HTTP, the Bot API emulator,
fake exchanges and a SQLite file.

For each language a user whose Telegram app is in it gets /start, a failing verdict with its steps and buttons, and
/status in that language. A language still in INCOMPLETE_LANGUAGES (tests/test_i18n_catalogs.py) runs on its catalog
with every gap filled by a pseudo-translation (`tests.i18n_harness`): every text then carries a marker, which
shows that the bot picked that language and that every text of the flow went through its catalog; a finished
language runs on its shipped catalog, and its texts must differ from English. /language switches and is
remembered after a restart; an unknown language_code gets English; the command menu is set per language; the
support card stays in the staff language, names the user's language and shows the user's words as written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.advice import cause_title
from bot.diagnosis.model import Cause, Permission
from bot.health import status_text
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, TELEGRAM_CODES, native_name
from bot.i18n.languages import telegram_tag
from bot.sandbox.telegram_api import TelegramEmulator
from bot.sandbox.telegram_model import parse_html
from bot.sandbox.world import SandboxWorld
from handlers.texts import COMMANDS, t
from tests.bot_harness import bot_env, running
from tests.i18n_harness import marker, pseudo_locales
from tests.test_i18n_catalogs import INCOMPLETE_LANGUAGES
from tests.test_support import STAFF_ID, SUPPORT, buttons, message_in_group, message_to_user, support_env

TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]


def plain(html: str) -> str:
    return parse_html(html)[0]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


@contextmanager
def catalogs_for(language: str, tmp_path: Path) -> Iterator[None]:
    """The shipped catalogs, or with the gaps pseudo-translated while `language` is incomplete."""
    if language in INCOMPLETE_LANGUAGES:
        with pseudo_locales(tmp_path / "pseudo"):
            yield
    else:
        yield


def in_language(language: str, text: str, english: str) -> None:
    """`text` is in `language`: it carries the pseudo marker, or (a finished catalog) is not the English text."""
    if language in INCOMPLETE_LANGUAGES:
        assert marker(language) in text, text
    else:
        assert text != english


@pytest.mark.parametrize("language", TRANSLATED)
async def test_a_user_gets_start_a_failing_verdict_with_its_steps_and_status_in_their_language(
    language: str, tmp_path: Path
) -> None:
    with catalogs_for(language, tmp_path):
        async with bot_env(tmp_path, ["mexc"]) as env:
            user = env.api.add_user("Olga", language_code=telegram_tag(language))
            welcome = plain(t(language, "welcome", name="Olga"))
            in_language(language, welcome, plain(t("en", "welcome", name="Olga")))
            first = env.api.send_text("/start", user)["message_id"]
            shown = await message_to_user(env, user, welcome[:40], after=first)
            assert shown["text"] == welcome
            assert labels(shown) == [t(language, "btn_check")]

            account = env.world.fakes["mexc"].add_account()
            account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
            start = env.api.send_text("/check", user)["message_id"]
            picker = await message_to_user(env, user, t(language, "pick_exchange"), after=start)
            env.api.press_button(picker, "ex:mexc")
            campaign = await message_to_user(env, user, plain(t(language, "pick_campaign"))[:30], after=start)
            assert t(language, "campaign_any") in labels(campaign)
            env.api.press_button(campaign, "ct:any")
            await message_to_user(env, user, plain(t(language, "ask_key", exchange="MEXC"))[:30], after=start)
            env.api.send_text(f"{account.api_key} {account.secret}", user)
            title = cause_title(Cause.PERMISSION_MISSING, language, exchange_id="mexc")
            in_language(language, title, cause_title(Cause.PERMISSION_MISSING, exchange_id="mexc"))
            verdict = await message_to_user(env, user, title, after=start)
            text = verdict["text"]
            header = plain(t(language, "step_header", n=1, total=99, title="", text="")).split("99")[0]
            assert header.strip() and header.strip()[:6] in text
            if language in INCOMPLETE_LANGUAGES:
                # the title, the step's header, its title and its text, the kept-key line: each from the catalog
                assert text.count(marker(language)) >= 5, text
            assert t(language, "btn_next") in labels(verdict) and t(language, "btn_again") in labels(verdict)
            # "Next step" edits the verdict in place, still in the user's language
            env.api.press_button(verdict, next(b for b in buttons(verdict) if b.startswith("step:")))
            second = plain(t(language, "step_header", n=2, total=99, title="", text="")).split("99")[0][:6]
            await env.wait_text(second)

            status = env.api.send_text("/status", user)["message_id"]
            last_check = status_text(language, "last_check", time="@").split("@")[0]
            in_language(language, last_check, status_text("en", "last_check", time="@").split("@")[0])
            summary = await message_to_user(env, user, last_check, after=status)
            assert status_text(language, "group_exchanges") in summary["text"]


async def test_language_switches_and_is_remembered_after_a_restart(tmp_path: Path) -> None:
    language = "ru"
    with catalogs_for(language, tmp_path):
        async with TelegramEmulator() as api, SandboxWorld(["mexc"]) as world:
            db = tmp_path / "bot.sqlite3"
            user = api.add_user("Ivan", language_code="en")
            async with running(api, world, db) as env:
                first = api.send_text("/start", user)["message_id"]
                await message_to_user(env, user, "I help HuFi users", after=first)
                asked = api.send_text("/language", user)["message_id"]
                pick = await message_to_user(env, user, t("en", "language_pick", language="English")[:20], after=asked)
                assert labels(pick) == [t("en", "language_current", language="English")] + [
                    native_name(code) for code in LANGUAGES[1:]
                ]
                api.press_button(pick, "lang:ru")
                done = t("ru", "language_set", language="Русский")
                in_language(language, done, t("en", "language_set", language="Русский"))
                await env.wait_text(done[:20])
                assert await env.services.users.language(user.id) == "ru"
            async with running(api, world, db) as env:  # the same database: a restart
                again = api.send_text("/start", user)["message_id"]
                welcome = plain(t("ru", "welcome", name="Ivan"))
                shown = await message_to_user(env, user, welcome[:30], after=again)
                assert shown["text"] == welcome


async def test_the_first_language_sticks_until_the_user_changes_it(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path / "pseudo"):
        async with bot_env(tmp_path, ["mexc"]) as env:
            user = env.api.add_user("Ana", language_code="es")
            first = env.api.send_text("/start", user)["message_id"]
            await message_to_user(env, user, marker("es"), after=first)
            user.language_code = "tr"  # the Telegram app's language changes later: the bot keeps Spanish
            again = env.api.send_text("/help", user)["message_id"]
            shown = await message_to_user(env, user, marker("es"), after=again)
            assert marker("tr") not in shown["text"]


async def test_an_unknown_language_code_gets_english(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path / "pseudo"):  # every other language has a text here: English must still win
        async with bot_env(tmp_path, ["mexc"]) as env:
            user = env.api.add_user("Hans", language_code="de")
            first = env.api.send_text("/start", user)["message_id"]
            shown = await message_to_user(env, user, "I help HuFi users", after=first)
            assert shown["text"] == plain(t("en", "welcome", name="Hans"))
            assert await env.services.users.language(user.id) == "en"


async def test_the_command_menu_is_set_for_every_language(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path / "pseudo"):
        async with bot_env(tmp_path, ["mexc"]) as env:
            menus = {code: commands for (_, code), commands in env.api.commands.items()}
            assert set(menus) == {"", *TELEGRAM_CODES.values()}
            for language in LANGUAGES:
                code = TELEGRAM_CODES.get(language, "")
                assert [c["command"] for c in menus[code]] == list(COMMANDS.source)
                assert [c["description"] for c in menus[code]] == [COMMANDS(language, n) for n in COMMANDS.source]
            assert marker("vi") in menus["vi"][0]["description"]
            assert "language" in [c["command"] for c in menus[""]]


@asynccontextmanager
async def _support(tmp_path: Path, **settings: Any) -> AsyncIterator[Any]:
    async with support_env(tmp_path, **settings) as env:
        yield env


async def test_the_card_stays_in_the_staff_language_names_the_users_and_keeps_their_words(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path / "pseudo"):
        async with _support(tmp_path) as env:
            user = env.api.add_user("Olga", language_code="ru")
            account = env.world.fakes["mexc"].add_account()
            account.revoke(Permission.VIEW_SPOT_TRADING_HISTORY)
            start = env.api.send_text("/check", user)["message_id"]
            picker = await message_to_user(env, user, marker("ru"), after=start)
            env.api.press_button(picker, "ex:mexc")
            campaign = await message_to_user(env, user, plain(t("ru", "pick_campaign"))[:20], after=start)
            env.api.press_button(campaign, "ct:any")
            await message_to_user(env, user, plain(t("ru", "ask_key", exchange="MEXC"))[:20], after=start)
            env.api.send_text(f"{account.api_key} {account.secret}", user)
            verdict = await message_to_user(env, user, cause_title(Cause.PERMISSION_MISSING, "ru"), after=start)
            env.api.press_button(verdict, next(b for b in buttons(verdict) if b.startswith("support:")))
            await message_to_user(env, user, plain(t("ru", "support_describe"))[:20], after=start)
            env.api.send_text("Ключ не работает, помогите", user)
            await message_to_user(env, user, plain(t("ru", "support_opened", ticket=1))[:20], after=start)
            card = await message_in_group(env, f"· id {user.id} ·")
            text = card["text"]
            assert "language Русский (ru)" in text and "Ключ не работает, помогите" in text
            assert "Cause: A read permission is missing" in text and marker("ru") not in text
            # a staff answer reaches the user as written
            env.api.send_text(
                "Проверьте галочку «Spot»", env.api.users[STAFF_ID], chat=SUPPORT, thread=card["message_thread_id"]
            )
            answer = await message_to_user(env, user, "Проверьте галочку", after=start)
            assert answer["text"] == "Проверьте галочку «Spot»"


async def test_staff_language_words_the_card_and_staff_answers(tmp_path: Path) -> None:
    with pseudo_locales(tmp_path / "pseudo"):
        async with _support(tmp_path, staff_language="es") as env:
            user = env.api.add_user("Olga", language_code="ru")
            first = env.api.send_text("/support", user)["message_id"]
            prompt = await message_to_user(env, user, marker("ru"), after=first)
            env.api.press_button(prompt, "support_skip")
            card = await message_in_group(env, f"{user.id}")
            assert marker("es") in card["text"] and "Русский (ru)" in card["text"]
            env.api.send_text("/close", env.api.users[STAFF_ID], chat=SUPPORT, thread=card["message_thread_id"])
            await message_in_group(env, plain(t("es", "staff_closed", ticket=1))[:20])
            closed = await message_to_user(env, user, plain(t("ru", "support_closed_user", ticket=1))[:20], after=first)
            assert marker("ru") in closed["text"]
