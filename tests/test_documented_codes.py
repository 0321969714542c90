"""Every documented code, through a real client against the fake exchange, named right.

For each code in `tests/documented_codes.py`: the fake answers the bot's own request with that exchange's real
error envelope and HTTP status (`FakeExchange.force_error`), a real ccxt 4.5.90 client (our own client for
BitMart, which mirrors ccxt 4.5.70) raises what it raises, and `classify_error` must name the documented cause.
The class is pinned too, so a ccxt upgrade that changes it shows up here; the cause must not depend on it (OKX
50100/50119/50120 come back as a bare ExchangeError, Bitget's 40010 timeout as a "signature" AuthenticationError).

One fake and one client per exchange serve the whole module (they answer in about a millisecond each).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.diagnosis import Cause, Permission, classify_error
from bot.diagnosis.exchange_codes import BY_EXCHANGE
from bot.exchanges.catalog import get_spec
from bot.exchanges.factory import ClientFactory
from bot.sandbox.exchanges import fake_classes
from bot.sandbox.exchanges.base import FakeExchange
from tests.documented_codes import DOCUMENTED, VARIANTS, Doc
from tests.exchange_harness import creds_of

#: the signed request each case is answered on: the bot's key-info or balance call (no markets needed)
CALLS: dict[str, str] = {
    "binance": "private_get_account",
    "okx": "private_get_account_balance",
    "bybit": "private_get_v5_account_wallet_balance",
    "kucoin": "private_get_user_api_key",
    "bitget": "private_spot_get_v2_spot_account_assets",
    "gate": "private_spot_get_accounts",
    "mexc": "spot_private_get_account",
    "htx": "private_get_account_accounts",
    "xt": "private_spot_get_balances",
    "kraken": "private_post_getapikeyinfo",
    "bigone": "private_get_accounts",
    "bitmart": "fetch_balance",
}
DEPOSIT_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "htx": ("v2private_get_account_deposit_address", {"currency": "eth"}),
}

CASES = [(exchange, doc) for exchange, (_, docs) in DOCUMENTED.items() for doc in docs] + [
    (exchange, doc) for exchange, docs in VARIANTS.items() for doc in docs
]
IDS = [f"{exchange}-{doc.code}" + (f"-{doc.variant}" if doc.variant else "") for exchange, doc in CASES]


class Fleet:
    """One running fake and one open client per exchange, started on first use."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[FakeExchange, Any, Any]] = {}

    async def get(self, exchange: str) -> tuple[FakeExchange, Any]:
        if exchange not in self._running:
            fake = fake_classes()[exchange]()
            await fake.start()
            factory = ClientFactory(url_overrides={exchange: fake.base_url})
            factory.limiter(get_spec(exchange)).interval = 0.0
            context = factory.client(get_spec(exchange), creds_of(fake.add_account()), markets=False)
            client = await context.__aenter__()
            self._running[exchange] = (fake, client, context)
        fake, client, _ = self._running[exchange]
        return fake, client

    async def close(self) -> None:
        for fake, _, context in self._running.values():
            await context.__aexit__(None, None, None)
            await fake.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fleet() -> AsyncIterator[Fleet]:
    running = Fleet()
    try:
        yield running
    finally:
        await running.close()


async def replay(fleet: Fleet, exchange: str, doc: Doc) -> BaseException:
    """Answer the next signed request with `doc`'s code; return what the client raised."""
    fake, client = await fleet.get(exchange)
    fake.clear_forced()
    message = doc.message if exchange != "kraken" else (doc.sent or "")  # Kraken's code is its message
    fake.force_error(doc.code, message, status=doc.status)
    before = len(fake.requests)
    name, params = DEPOSIT_CALLS[exchange] if doc.call == "deposit" else (CALLS[exchange], {})
    try:
        with pytest.raises(BaseException) as caught:
            await getattr(client, name)(params) if params else await getattr(client, name)()
    finally:
        fake.clear_forced()
    assert len(fake.requests) > before, "the request never reached the fake"
    return caught.value


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("exchange", "doc"), CASES, ids=IDS)
async def test_documented_code_is_named(fleet: Fleet, exchange: str, doc: Doc) -> None:
    error = await replay(fleet, exchange, doc)
    assert type(error).__name__ == doc.ccxt, (doc, error)
    diag = classify_error(exchange, Permission.VIEW_ACCOUNT_BALANCE, error)
    assert diag.cause is doc.cause, (doc.words, diag)
    assert diag.code == doc.code, diag  # the exchange's own code decided, not the class


def test_every_exchange_records_its_page_and_every_table_code_is_replayed() -> None:
    assert set(DOCUMENTED) == set(BY_EXCHANGE)
    for exchange, (page, docs) in DOCUMENTED.items():
        table = BY_EXCHANGE[exchange]
        assert page == table.source and page.startswith("https://"), exchange
        assert table.checked, exchange
        tested = {doc.code for doc in docs} | {doc.code for doc in VARIANTS.get(exchange, ())}
        documented = {code for code in table.codes if not code.endswith("*")}
        assert documented <= tested, (exchange, sorted(documented - tested))
        for doc in (*docs, *VARIANTS.get(exchange, ())):
            if doc.variant:
                continue  # a message-only reply, or a second message for a code checked above
            verdict = table.codes.get(doc.code)
            assert verdict is not None and verdict.note, (exchange, doc.code)


def test_no_documented_code_is_left_unknown() -> None:
    assert all(doc.cause is not Cause.UNKNOWN for _, doc in CASES)
