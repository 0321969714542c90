"""`ClientFactory.prepare`: a client built ahead of a check (the key flow does it while the message holding the key
is being deleted) is used by the next check of that exchange, gets that check's credentials, and is never used
twice. Real ccxt clients against the simulated exchanges."""

from __future__ import annotations

from bot.diagnosis.model import Cause
from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import SPARE_CLIENTS
from bot.sandbox.exchanges.kucoin import FakeKucoin
from bot.sandbox.exchanges.mexc import FakeMexc
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
