"""`ClientFactory.prepare`: a client built ahead of a check (the key flow does it when it asks for the key) is
used by the next check of that exchange, gets that check's credentials, and is never used twice. Real ccxt clients
against the simulated exchanges, and the real bot for the key flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.diagnosis.model import Cause
from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import SPARE_CLIENTS
from bot.sandbox.exchanges.kucoin import FakeKucoin
from bot.sandbox.exchanges.mexc import FakeMexc
from tests.bot_harness import bot_env, to_key_question
from tests.exchange_harness import creds_of, running


async def test_a_prepared_client_checks_the_key_it_is_given_with_every_credential() -> None:
    async with running(FakeKucoin) as (fake, checker):
        good = fake.add_account()
        checker.prepare("kucoin")
        report = await checker.check("kucoin", creds_of(good))
        assert checker.factory.spares_used == 1
        assert report.ok  # key, secret and passphrase all reached the spare
        checker.prepare("kucoin")
        report = await checker.check("kucoin", creds_of(good, passphrase=(good.passphrase or "") + "x"))
        assert checker.factory.spares_used == 2
        assert not report.ok and report.verdict is not None
        assert report.verdict.cause is Cause.PASSPHRASE_WRONG  # the wrong passphrase given, not the last one


async def test_a_spare_serves_one_check_and_their_number_is_bounded() -> None:
    async with running(FakeMexc) as (fake, checker):
        account = fake.add_account()
        for _ in range(SPARE_CLIENTS + 3):
            checker.prepare("mexc")
        assert len(checker.factory._spares["mexc"]) == SPARE_CLIENTS
        for _ in range(SPARE_CLIENTS + 1):
            assert (await checker.check("mexc", creds_of(account))).ok
        assert checker.factory.spares_used == SPARE_CLIENTS  # the last check built its own
        assert all(not vars(c).get("apiKey") for c in checker.factory._spares.get("mexc", []))


async def test_prepare_skips_exchanges_that_need_no_key() -> None:
    async with running(FakeMexc) as (_fake, checker):
        dex = get_spec("pancakeswap")
        assert not dex.needs_key
        checker.prepare(dex.id)
        assert dex.id not in checker.factory._spares


async def test_the_key_flow_builds_the_client_when_it_asks_for_the_key_and_not_on_the_deletions_way(
    tmp_path: Path,
) -> None:
    async with bot_env(tmp_path, ["mexc"]) as env:
        factory = env.services.factory
        account = env.world.fakes["mexc"].add_account()
        await factory.preload(get_spec("mexc"))  # the markets, as the start-up warm-up loads them
        await to_key_question(env)
        assert len(factory._spares["mexc"]) == 1  # built when the question went out
        built: list[str] = []
        build = factory._build

        def counted(spec: Any, creds: Any, **kwargs: Any) -> Any:
            built.append(spec.id)
            return build(spec, creds, **kwargs)

        factory._build = counted  # type: ignore[method-assign]
        env.api.send_text(f"{account.api_key}:{account.secret}")
        await env.wait_text("passes every check")
        assert factory.spares_used == 1
        assert built == []  # neither the deletion's wait nor the check built one: the question's was used
