"""/status for users and staff, its cache under a burst, and verdicts that blame an outage, not the key."""

from __future__ import annotations

from pathlib import Path

from tests.bot_harness import bot_env


async def test_status_for_a_user_is_a_short_traffic_light_summary(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        env.api.send_text("/status")
        reply = await env.wait_text("Last check", wait=15)
        assert "🟢" in reply.text
        assert "MEXC" in reply.text
        assert "uptime" not in reply.text and " ms" not in reply.text


SUPPORT = -1001234567890
DETAILS = ("version", "uptime", "active vault entries", "open tickets", "outbox backlog", " ms")


async def test_status_for_staff_has_details_and_bot_facts(tmp_path: Path) -> None:
    default_user_id = 100_000_001  # the emulator's first user
    async with bot_env(tmp_path, support_chat_id=SUPPORT, staff_user_ids=frozenset({default_user_id})) as env:
        assert env.api.default_user.id == default_user_id
        support = env.api.add_group("HuFi support", forum=True, chat_id=SUPPORT)
        env.api.set_member(support, env.api.default_user, "member")
        env.api.send_text("/status")
        reply = await env.wait_text("Last check", wait=15)
        for fact in DETAILS:
            assert fact in reply.text


async def test_status_details_follow_the_one_staff_rule(tmp_path: Path) -> None:
    """Staff: a member of the support chat, and listed in STAFF_USER_IDS when that is set (issue 14, item 6)."""
    async with bot_env(tmp_path, support_chat_id=SUPPORT) as env:
        api = env.api
        support = api.add_group("HuFi support", forum=True, chat_id=SUPPORT)
        member, outsider = api.add_user("Member"), api.add_user("Outsider")
        api.set_member(support, member, "member")
        api.send_text("/status", member)
        assert "uptime" in (await env.wait_text("Last check", wait=15)).text
        api.send_text("/status", outsider)
        assert "uptime" not in (await env.wait_text("Last check", wait=15)).text
    async with bot_env(tmp_path, support_chat_id=SUPPORT, staff_user_ids=frozenset({1})) as env:
        api = env.api
        support = api.add_group("HuFi support", forum=True, chat_id=SUPPORT)
        member = api.add_user("Member")
        api.set_member(support, member, "administrator")
        api.send_text("/status", member, SUPPORT)  # in the support chat itself, but not listed
        assert "uptime" not in (await env.wait_text("Last check", wait=15)).text
    async with bot_env(tmp_path, staff_user_ids=frozenset({100_000_001})) as env:  # listed, but no support chat
        env.api.send_text("/status")
        assert "uptime" not in (await env.wait_text("Last check", wait=15)).text


async def test_a_burst_of_status_requests_costs_one_round_of_checks(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        users = [env.api.add_user(f"U{i}") for i in range(50)]
        for user in users:
            env.api.send_text("/status", user)
        replies = 0
        while replies < 50:
            action = await env.api.next_action(timeout=20)
            if "Last check" in (action.text or ""):
                replies += 1
        assert env.hufi is not None
        assert env.hufi.hits.get("/health/check", 0) == 1
        assert env.services.status_page.health.rounds == 1


async def test_hufi_database_down_shows_the_failed_dependency(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        assert env.hufi is not None
        await env.hufi.set_mode("db_down")
        env.api.send_text("/status")
        reply = await env.wait_text("Last check", wait=15)
        assert "🔴" in reply.text


async def test_a_verdict_blames_the_exchange_when_it_is_down(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        fake = env.world.fakes["mexc"]
        account = fake.add_account()
        await env.services.factory.preload(__import__("bot.exchanges.catalog", fromlist=["x"]).get_spec("mexc"))
        fake.force("exchange_maintenance", include_public=True)
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        env.api.press_button(picker.message, "ex:mexc")
        campaign = await env.wait_text("Which kind")
        env.api.press_button(campaign.message, "ct:any")
        await env.wait_text("Send me the")
        env.api.send_text(f"{account.api_key} {account.secret}")
        verdict = await env.wait_text("Step 1 of", wait=20)
        assert "under maintenance right now; this is not your key" in verdict.text


async def test_an_exchange_hufi_switched_off_is_marked_in_the_picker(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        assert env.hufi is not None
        env.hufi.switch_off("gate")
        directory = env.services.status_page.health.directory
        await directory.refresh()
        env.api.send_text("/check")
        picker = await env.wait_text("Which exchange")
        labels = [b["text"] for row in picker.message["reply_markup"]["inline_keyboard"] for b in row]
        assert "Gate (off)" in labels and "MEXC" in labels
