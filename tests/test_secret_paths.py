"""Every way a secret can reach the private chat is deleted first (issue 14, items 2 and 4): command arguments
inside and outside the key flow, captions, text glued to other scripts; and a paste that can't be read as
exactly a key and a secret leaves no fingerprint anywhere. The real Application, the Bot API emulator, fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.sandbox.world import SandboxWorld
from bot.secret_scan import looks_like_secret
from bot.security import fingerprint
from tests.bot_harness import BotEnv, bot_env
from tests.test_support import buttons, group_messages, message_in_group, message_to_user, support_env


async def _to_key_question(env: BotEnv, exchange: str = "mexc") -> None:
    env.api.send_text("/check")
    picker = await env.wait_text("Which exchange")
    env.api.press_button(picker.message, f"ex:{exchange}")
    campaign = await env.wait_text("Which kind of HuFi campaign")
    env.api.press_button(campaign.message, "ct:any")
    await env.wait_text("Send me the")


def _sent(env: BotEnv) -> str:
    return json.dumps([c.params for c in env.api.calls], default=str, ensure_ascii=False)


@pytest.mark.parametrize("in_flow", [False, True], ids=["outside the flow", "inside the flow"])
@pytest.mark.parametrize("command", ["check", "cancel", "support", "forget"])
async def test_a_command_with_a_secret_after_it_is_deleted_first_and_not_run(
    tmp_path: Path, in_flow: bool, command: str
) -> None:
    async with bot_env(tmp_path) as env:
        account = env.world.fakes["mexc"].add_account()
        if in_flow:
            await _to_key_question(env)
        sent = env.api.send_text(f"/{command} {account.api_key} {account.secret}")
        deleted = await env.wait_method("deleteMessage")
        assert deleted.params["message_id"] == sent["message_id"]
        note = await env.wait_text("what followed the command looked like an API key")
        assert "did not act on it" in note.text
        assert account.secret not in _sent(env) and account.api_key not in _sent(env)
        if in_flow:  # the flow is where it was: the key is still expected
            assert await env.services.drafts.get(env.api.default_user.id) is not None
            env.api.send_text(f"{account.api_key} {account.secret}")
            await env.wait_text("passes every check")
        else:
            env.api.send_text(f"/{command}")  # on its own, as asked
            await env.wait_text(
                {
                    "check": "Which exchange",
                    "cancel": "nothing to cancel",
                    "support": "not connected",
                    "forget": "not keeping any key",
                }[command]
            )


async def test_any_command_a_caption_a_glued_secret_and_a_file_name_are_deleted(tmp_path: Path) -> None:
    async with bot_env(tmp_path) as env:
        fake = env.world.fakes["mexc"]
        secrets = [fake.new_secret() for _ in range(5)]
        for text in (f"/help {secrets[0]}", f"/frobnicate {secrets[1]}"):
            sent = env.api.send_text(text)
            assert (await env.wait_method("deleteMessage")).params["message_id"] == sent["message_id"]
        photo = env.api.send_photo(caption=f"my settings, secret {secrets[2]}")
        assert (await env.wait_method("deleteMessage")).params["message_id"] == photo["message_id"]
        glued = env.api.send_text(f"我的密钥：{secrets[3]}，请帮忙")
        assert (await env.wait_method("deleteMessage")).params["message_id"] == glued["message_id"]
        await env.wait_text("looked like an API key")
        named = env.api.send_document(file_name=f"key_{secrets[4]}.txt")  # a file named after its secret
        assert (await env.wait_method("deleteMessage")).params["message_id"] == named["message_id"]
        assert not any(s in _sent(env) for s in secrets)


async def test_an_ambiguous_paste_leaves_no_fingerprint_in_the_chat_the_card_or_the_database(tmp_path: Path) -> None:
    async with SandboxWorld(["mexc", "kucoin"]) as world, support_env(tmp_path, world=world) as env:
        account = world.fakes["kucoin"].add_account(passphrase="Hu4Fi!Kc#93x")  # shaped: found unlabelled
        passphrase = account.passphrase or ""
        await _to_key_question(env, "kucoin")
        paste = f"{account.api_key} {account.secret} {passphrase}"
        env.api.send_text(paste)
        asked = await env.wait_text("could not tell which part")
        assert "API key alone" in asked.text
        assert await env.services.drafts.get(env.api.default_user.id) is not None  # still at the key step
        env.api.send_text(account.api_key)  # now one by one, as asked
        await env.wait_text("Now send the")
        env.api.send_text(account.secret)
        await env.wait_text("Last one")
        env.api.send_text("Wr0ngPassphrase9")  # a wrong passphrase: a failing check, then support
        verdict = await env.wait_text("Step 1 of")
        env.api.press_button(verdict.message, next(b for b in buttons(verdict.message) if b.startswith("support:")))
        await env.wait_text("Describe the problem")
        env.api.send_text("HuFi refuses my KuCoin key")
        await message_to_user(env, env.api.default_user, "is with HuFi support")
        card = await message_in_group(env, "HuFi refuses my KuCoin key")
        assert fingerprint(account.api_key) in card["text"]  # the key itself, once known, may be shown
        said = _sent(env) + json.dumps(group_messages(env), ensure_ascii=False)
        db_path = env.settings.database_path
    wrong = {fingerprint(paste), fingerprint(account.secret), fingerprint(passphrase), fingerprint(paste.split()[-1])}
    wrong.discard(fingerprint(account.api_key))
    files = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    for value in wrong:
        assert value not in said, "a fingerprint of an ambiguous paste reached the chat or the card"
        assert value.encode() not in files, "a fingerprint of an ambiguous paste reached the database"


@pytest.mark.parametrize(
    "address",
    [  # BIP-173 and BIP-350 examples: v0 (20 and 32 bytes) and v1 (taproot) mainnet, and testnet
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
    ],
)
def test_a_bitcoin_address_is_no_secret_but_a_hex_secret_starting_with_bc1_is(address: str) -> None:
    assert not looks_like_secret(f"please send it to {address}")
    # a MEXC or Gate secret is hex: 1 in 4,096 of them starts with "bc1"
    for secret in ("bc18f738671496b05384381e2484a576", "bc1" + "e7" * 30 + "d"):
        assert looks_like_secret(f"/help {secret}") and looks_like_secret(secret)
