"""Our BitMart client on its own: signing, requests, and ccxt 4.5.70's classes and messages for every reply."""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import socket
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import ccxt
import pytest

from bot.exchanges.bitmart import (
    BROAD_EXCEPTIONS,
    DEFAULT_API_URL,
    EXACT_EXCEPTIONS,
    BitmartClient,
    build_bitmart_client,
    encode_json,
    encode_query,
    sign_payload,
)
from bot.sandbox.exchanges.base import FakeAccount, fixture_replies
from bot.sandbox.exchanges.bitmart import FakeBitmart

SECRET = "6c6f6f6b2d7365637265742d666f722d74657374"
MEMO = "hufi-memo"
TS = "1700000000000"

BITMART_CASES = [f for f in fixture_replies() if f["exchange"] == "bitmart"]
ERROR_CASES = [
    f for f in BITMART_CASES if f["ccxt_exception"] and f["trigger"] not in ("network_refused", "server_slow")
]
OK_CASES = [f for f in BITMART_CASES if f["cause"] == "ok"]


# -- helpers ------------------------------------------------------------------------------------------------------
def client_for(fake: FakeBitmart, account: FakeAccount | None = None, **config: Any) -> BitmartClient:
    """A client pointed at the fake, the way ClientFactory points one (urls['api'] replaced)."""
    base: dict[str, Any] = {"timeout": 2000, "enableRateLimit": False}
    if account is not None:
        base.update(apiKey=account.api_key, secret=account.secret, uid=account.memo)
    base.update(config)
    client = BitmartClient(base)
    client.urls["api"] = {"spot": fake.base_url}
    return client


@pytest.fixture
async def fake() -> AsyncIterator[FakeBitmart]:
    async with FakeBitmart() as server:
        yield server  # type: ignore[misc]


async def call(client: BitmartClient, method: str) -> Any:
    """The probe call HuFi makes for `method`."""
    now = int(time.time() * 1000)
    if method == "fetch_balance":
        return await client.fetch_balance()
    if method == "fetch_deposit_address":
        return await client.fetch_deposit_address("ETH", {"network": "ETH"})
    return await client.fetch_my_trades("ETH/USDT", now - 1, 200, {"endTime": now - 1})


def endpoint_path(case: dict[str, Any]) -> str:
    return case["endpoint"].split(" ", 1)[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- signing --------------------------------------------------------------------------------------------------------
def test_signature_is_hmac_sha256_of_ts_memo_payload() -> None:
    for payload in ("", "currency=ETH", encode_json({"symbol": "ETH_USDT", "limit": 200})):
        expected = hmac.new(SECRET.encode(), f"{TS}#{MEMO}#{payload}".encode(), hashlib.sha256).hexdigest()
        assert sign_payload(SECRET, TS, MEMO, payload) == expected
    # independent vectors (computed with `openssl dgst -sha256 -hmac`)
    assert sign_payload(SECRET, TS, MEMO, "") == "894ef0dcd62dd01117c0d396581736852bba6fbc099e3eff1a9a330dca367817"
    assert (
        sign_payload(SECRET, TS, MEMO, "currency=ETH")
        == "e81a1bf58259c2523c8f5fee97250f181e918a6ea261ab4b384b1c8b36a4b634"
    )
    body = '{"symbol":"ETH_USDT","limit":200,"startTime":1699999999999,"endTime":1699999999999}'
    assert sign_payload(SECRET, TS, MEMO, body) == "416b14960458df718884cbdbdbcaf4544c7ef5c429eb5623c4ff8d2bdb19a615"


def test_sign_get_signs_the_query_and_post_signs_the_json_body(monkeypatch: pytest.MonkeyPatch) -> None:
    client = BitmartClient({"apiKey": "k" * 40, "secret": SECRET, "uid": MEMO})
    monkeypatch.setattr(client, "milliseconds", lambda: int(TS))
    url, headers, body = client.sign("account/v1/deposit/address", "GET", {"currency": "ETH"}, private=True)
    assert url == DEFAULT_API_URL + "/account/v1/deposit/address?currency=ETH"
    assert body is None
    assert headers["X-BM-KEY"] == "k" * 40
    assert headers["X-BM-TIMESTAMP"] == TS
    assert headers["X-BM-SIGN"] == "e81a1bf58259c2523c8f5fee97250f181e918a6ea261ab4b384b1c8b36a4b634"
    params = {"symbol": "ETH_USDT", "limit": 200, "startTime": 1699999999999, "endTime": 1699999999999}
    url, headers, body = client.sign("spot/v4/query/trades", "POST", params, private=True)
    assert url == DEFAULT_API_URL + "/spot/v4/query/trades"
    assert body == '{"symbol":"ETH_USDT","limit":200,"startTime":1699999999999,"endTime":1699999999999}'
    assert headers["X-BM-SIGN"] == "416b14960458df718884cbdbdbcaf4544c7ef5c429eb5623c4ff8d2bdb19a615"
    assert headers["Content-Type"] == "application/json"
    # public requests carry no credentials at all
    url, headers, body = client.sign("spot/v1/symbols/details")
    assert headers == {} and body is None
    assert encode_query({"a": True, "b": "x y"}) == "a=true&b=x%20y"


def test_time_difference_shifts_the_timestamp() -> None:
    client = BitmartClient({"options": {"timeDifference": 600_000}})
    assert abs(time.time() * 1000 - 600_000 - client.milliseconds()) < 5_000


def test_missing_memo_fails_before_any_request() -> None:
    client = BitmartClient({"apiKey": "k", "secret": "s"})
    with pytest.raises(ccxt.AuthenticationError) as info:
        client.sign("spot/v1/wallet", private=True)
    assert str(info.value) == 'bitmart requires "uid" credential'


def test_repr_and_builder_never_show_credentials() -> None:
    client = build_bitmart_client(None, {"apiKey": "APIKEY123", "secret": SECRET, "uid": MEMO, "timeout": 1500})
    assert isinstance(client, BitmartClient)
    assert client.timeout == 1500
    for text in (repr(client), str(client)):
        assert SECRET not in text and MEMO not in text and "APIKEY123" not in text


# -- replies that succeed --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", OK_CASES, ids=[c["id"] for c in OK_CASES])
async def test_ok_fixture_results(fake: FakeBitmart, case: dict[str, Any]) -> None:
    account = fake.add_account(balances={"ETH": "1.0"}, deposit_address="0x8ba1f109551bd432803012645ac136ddd64dba72")
    async with client_for(fake, account) as client:
        result = await call(client, case["method"])
    expected = case["observed_result"]
    if case["method"] == "fetch_balance":
        assert {k: result[k] for k in expected} == expected
        assert result["total"] == {"ETH": 1.0}
    elif case["method"] == "fetch_deposit_address":
        assert {k: result[k] for k in expected} == expected
        assert result["currency"] == "ETH"
    else:
        assert len(result) == expected["trades"]


async def test_requests_match_ccxt_4_5_70(fake: FakeBitmart) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        now = int(time.time() * 1000)
        await client.fetch_deposit_address("ETH", {"network": "ETH"})
        await client.fetch_my_trades("ETH/USDT", now - 1, 500, {"endTime": now - 1})
    (markets,) = fake.requests_to("/spot/v1/symbols/details")
    assert "X-BM-KEY" not in markets.headers  # public
    (deposit,) = fake.requests_to("/account/v1/deposit/address")
    assert deposit.raw_query == "currency=ETH"  # the network picks the currency id and is not sent
    (trades,) = fake.requests_to("/spot/v4/query/trades")
    assert json.loads(trades.body) == {"symbol": "ETH_USDT", "limit": 200, "startTime": now - 1, "endTime": now - 1}
    assert trades.body.decode() == encode_json(json.loads(trades.body))  # compact, in ccxt's key order
    for request in (deposit, trades):
        assert request.headers["X-BM-KEY"] == account.api_key
        assert account.secret not in json.dumps(request.headers) + request.raw_query + request.body.decode()
        assert (account.memo or "") not in json.dumps(request.headers) + request.raw_query


async def test_trades_are_parsed_filtered_and_sorted(fake: FakeBitmart) -> None:
    now = int(time.time() * 1000)

    def trade(i: int, at: int) -> dict[str, Any]:
        return {
            "tradeId": str(i),
            "orderId": f"o{i}",
            "symbol": "ETH_USDT",
            "side": "buy",
            "type": "limit",
            "price": "2000.5",
            "size": "0.1",
            "notional": "200.05",
            "fee": "0.2",
            "feeCoinName": "USDT",
            "tradeRole": "taker",
            "createTime": at,
        }

    account = fake.add_account(trades=[trade(2, now - 500), trade(1, now - 1000), trade(3, now - 5000)])
    async with client_for(fake, account) as client:
        trades = await client.fetch_my_trades("ETH/USDT", now - 2000, 200, {"endTime": now})
    assert [t["id"] for t in trades] == ["1", "2"]
    first = trades[0]
    assert first["symbol"] == "ETH/USDT" and first["amount"] == 0.1 and first["price"] == 2000.5
    assert first["fee"] == {"cost": 0.2, "currency": "USDT"} and first["takerOrMaker"] == "taker"
    assert first["datetime"] is not None and first["datetime"].endswith("Z")


async def test_network_picks_the_bitmart_currency_id(fake: FakeBitmart) -> None:
    async with client_for(fake) as client:
        await client.load_markets()
        assert client.currency_id_for_network("ETH", "ETH") == "ETH"
        assert client.currency_id_for_network("ETH", "ERC20") == "ETH"
        assert client.currency_id_for_network("ETH", None) == "ETH"
        assert client.currency_id_for_network("USDT", None) == "USDT-TRC20"
        assert client.currency_id_for_network("USDT", "BEP20") == "USDT-BSC_BNB"


# -- every error fixture: same class, same message ---------------------------------------------------------------
@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["id"] for c in ERROR_CASES])
async def test_fixture_reply_raises_what_ccxt_4_5_70_raised(fake: FakeBitmart, case: dict[str, Any]) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(body=case["body"], status=case["http_status"], path=endpoint_path(case))
        with pytest.raises(Exception) as info:  # the class is asserted by name below
            await call(client, case["method"])
    assert type(info.value).__name__ == case["ccxt_exception"]
    assert str(info.value) == case["observed_message"]
    if case["body"].startswith("{") and case["ccxt_exception"] != "AttributeError":
        assert str(info.value) == "bitmart " + case["body"]


async def test_timeout_is_request_timeout(fake: FakeBitmart) -> None:
    (case,) = [c for c in BITMART_CASES if c["trigger"] == "server_slow"]
    account = fake.add_account()
    async with client_for(fake, account, timeout=200) as client:
        await client.load_markets()
        fake.force(mode="hang", path=endpoint_path(case))
        started = time.perf_counter()
        with pytest.raises(ccxt.RequestTimeout) as info:
            await call(client, case["method"])
        assert time.perf_counter() - started < 1.5
    assert type(info.value).__name__ == case["ccxt_exception"]
    assert str(info.value) == case["observed_message"].replace(DEFAULT_API_URL, fake.base_url)


async def test_connection_refused_is_exchange_not_available(fake: FakeBitmart) -> None:
    (case,) = [c for c in BITMART_CASES if c["trigger"] == "network_refused"]
    account = fake.add_account()
    async with client_for(fake) as template:
        await template.load_markets()
    base = f"http://127.0.0.1:{closed_port()}"
    async with client_for(fake, account) as client:
        client.set_markets_from_exchange(template)
        client.urls["api"] = {"spot": base}
        with pytest.raises(ccxt.ExchangeNotAvailable) as info:
            await call(client, case["method"])
    assert isinstance(info.value, ccxt.NetworkError)
    assert type(info.value).__name__ == case["ccxt_exception"]
    assert str(info.value) == case["observed_message"].replace(DEFAULT_API_URL, base)


async def test_dropped_connection_is_exchange_not_available(fake: FakeBitmart) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(mode="disconnect", path="/spot/v1/wallet")
        with pytest.raises(ccxt.ExchangeNotAvailable) as info:
            await client.fetch_balance()
    assert str(info.value) == f"bitmart GET {fake.base_url}/spot/v1/wallet"


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (401, '{"message":"Header X-BM-KEY not found","code":30002,"trace":"t","data":{}}', ccxt.AuthenticationError),
        (401, '{"message":"Header X-BM-KEY has frozen","code":30003,"trace":"t","data":{}}', ccxt.AccountSuspended),
        (403, '{"message":"IP is forbidden.","code":30010,"trace":"t","data":{}}', ccxt.PermissionDenied),
        (
            403,
            '{"message":"Header X-BM-KEY over expire time","code":30011,"trace":"t","data":{}}',
            ccxt.AuthenticationError,
        ),
        (403, '{"message":"forbidden to request it","code":30012,"trace":"t","data":{}}', ccxt.AuthenticationError),
        (503, '{"message":"Service maintenance","code":30016,"trace":"t","data":{}}', ccxt.OnMaintenance),
        (400, '{"message":"currency does not exist","code":60002,"trace":"t","data":{}}', ccxt.BadRequest),
        (403, '{"message":"Your account is frozen","code":53000,"trace":"t","data":{}}', ccxt.AccountSuspended),
        (200, '{"message":"Something new","code":39999,"trace":"t","data":{}}', ccxt.ExchangeError),
        (200, '{"message":"unexpected","code":1000,"trace":"t","data":{}}', ccxt.ExchangeError),
    ],
)
async def test_error_codes_follow_ccxt_table(
    fake: FakeBitmart, status: int, body: str, error_class: type[Exception]
) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(body=body, status=status, path="/spot/v1/wallet")
        with pytest.raises(error_class) as info:
            await client.fetch_balance()
    assert type(info.value) is error_class
    assert str(info.value) == "bitmart " + body


def _reply(message: str | None, code: int) -> str:
    data: dict[str, Any] = {"code": code, "trace": "t", "data": {}}
    if message is not None:
        data = {"message": message, **data}
    return json.dumps(data, separators=(",", ":"))


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        # ccxt 4.5.70 looks at the message first, with its broad table included: 51008 alone is an ExchangeError
        (_reply("This trading pair does not support API trading", 51008), ccxt.BadSymbol),
        (_reply("Operation is limited, please try again later", 51008), ccxt.ExchangeError),
        # the message is matched against the exact table before the code is
        (_reply("30010", 30002), ccxt.PermissionDenied),
        # broad matching is case-sensitive, as in ccxt: a lower-case variant falls through to the code
        (_reply("this trading pair does not support api trading", 30012), ccxt.AuthenticationError),
        (_reply("You contract account available balance not enough.", 30002), ccxt.InsufficientFunds),
    ],
)
async def test_the_message_is_matched_before_the_code_as_ccxt_does(
    fake: FakeBitmart, body: str, error_class: type[Exception]
) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(body=body, status=200, path="/spot/v1/wallet")
        with pytest.raises(error_class) as info:
            await client.fetch_balance()
    assert type(info.value) is error_class
    assert str(info.value) == "bitmart " + body


async def test_a_reply_without_a_message_fails_like_ccxt_4_5_70(fake: FakeBitmart) -> None:
    """ccxt 4.5.70 called `message.lower()` unguarded: a reply without `message` raised a plain AttributeError."""
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(body=_reply(None, 30002), status=401, path="/spot/v1/wallet")
        with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'lower'"):
            await client.fetch_balance()


def test_tables_are_ccxt_4_5_70s() -> None:
    assert len(EXACT_EXCEPTIONS) == 195  # ccxt 4.5.70's bitmart `exceptions['exact']`
    assert dict(BROAD_EXCEPTIONS) == {
        "You contract account available balance not enough": ccxt.InsufficientFunds,
        "This trading pair does not support API trading": ccxt.BadSymbol,
    }
    assert EXACT_EXCEPTIONS["51008"] is ccxt.ExchangeError and EXACT_EXCEPTIONS["30003"] is ccxt.AccountSuspended


@pytest.mark.parametrize(
    ("status", "reason", "error_class"),
    [
        (502, "Bad Gateway", ccxt.ExchangeNotAvailable),
        (418, "I'm a Teapot", ccxt.DDoSProtection),
        (429, "Too Many Requests", ccxt.RateLimitExceeded),
        (504, "Gateway Timeout", ccxt.RequestTimeout),
        (401, "Unauthorized", ccxt.AuthenticationError),
    ],
)
async def test_non_json_http_errors_use_ccxt_http_mapping(
    fake: FakeBitmart, status: int, reason: str, error_class: type[Exception]
) -> None:
    account = fake.add_account()
    page = "<html><body>error</body></html>"
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(body=page, status=status, path="/spot/v1/wallet")
        with pytest.raises(error_class) as info:
            await client.fetch_balance()
    assert type(info.value) is error_class
    assert str(info.value) == f"bitmart GET {fake.base_url}/spot/v1/wallet {status} {reason} {page}"


async def test_no_address_shapes_mirror_ccxt(fake: FakeBitmart) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        fake.force(body='{"message":"OK","code":1000,"trace":"x","data":{}}', status=200, times=1)
        with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'find'"):
            await client.fetch_deposit_address("ETH", {"network": "ETH"})
        fake.force(
            body='{"message":"OK","code":1000,"trace":"x","data":{"currency":"ETH","chain":"ETH"}}', status=200, times=1
        )
        with pytest.raises(ccxt.InvalidAddress) as info:
            await client.fetch_deposit_address("ETH", {"network": "ETH"})
        assert str(info.value) == "bitmart address is None"


async def test_clock_skew_is_30007_authentication_error(fake: FakeBitmart) -> None:
    account = fake.add_account()
    async with client_for(fake, account, options={"timeDifference": 600_000}) as client:
        with pytest.raises(ccxt.AuthenticationError) as info:
            await client.fetch_balance()
    assert type(info.value) is ccxt.AuthenticationError
    assert '"code":30007' in str(info.value)


async def test_errors_never_contain_secret_or_memo(fake: FakeBitmart) -> None:
    account = fake.add_account()
    texts = []
    for changes in ({"secret": fake.new_secret()}, {"uid": fake.new_memo()}, {"apiKey": fake.new_api_key()}):
        async with client_for(fake, account, **changes) as client:
            for method in ("fetch_balance", "fetch_deposit_address", "fetch_my_trades"):
                with pytest.raises(ccxt.AuthenticationError) as info:
                    await call(client, method)
                texts.append(str(info.value) + repr(info.value))
    joined = "\n".join(texts)
    assert account.secret not in joined and (account.memo or "") not in joined
    assert '"code":30005' in joined and '"code":30002' in joined


# -- markets, throttle, lifecycle ---------------------------------------------------------------------------------
async def test_markets_load_once_and_are_shared(fake: FakeBitmart) -> None:
    async with client_for(fake) as template:
        markets = await template.load_markets()
        await template.load_markets()
    assert set(markets) == {"ETH/USDT", "BTC/USDT"}
    assert markets["ETH/USDT"]["id"] == "ETH_USDT" and markets["ETH/USDT"]["spot"] is True
    assert set(template.currencies) == {"ETH", "BTC", "USDT"}
    assert len(fake.requests_to("/spot/v1/symbols/details")) == 1
    client = BitmartClient({})
    client.set_markets_from_exchange(template)
    assert client.markets is template.markets and client.currencies is template.currencies
    with pytest.raises(ccxt.BadSymbol, match="bitmart does not have market symbol XRP/USDT"):
        client.market("XRP/USDT")
    with pytest.raises(ccxt.ExchangeError):
        BitmartClient({}).set_markets_from_exchange(BitmartClient({}))
    await client.close()


async def test_unknown_symbol_fails_without_a_request(fake: FakeBitmart) -> None:
    account = fake.add_account()
    async with client_for(fake, account) as client:
        await client.load_markets()
        with pytest.raises(ccxt.BadSymbol):
            await client.fetch_my_trades("XRP/USDT", None, 200, {})
    assert fake.requests_to("/spot/v4/query/trades") == []


async def test_throttle_is_awaited_with_the_endpoint_cost(fake: FakeBitmart) -> None:
    account = fake.add_account()
    costs: list[float] = []

    async def throttle(cost: float) -> None:
        costs.append(cost)

    async with client_for(fake, account, enableRateLimit=True) as client:
        client.throttle = throttle
        await client.fetch_balance()
        await client.fetch_deposit_address("ETH", {"network": "ETH"})
    assert costs == [5, 5, 30]  # markets, wallet, deposit address
    async with client_for(fake, account, enableRateLimit=False) as client:
        client.throttle = throttle
        await client.fetch_balance()
    assert len(costs) == 3


async def test_fetch_time_asks_system_time_and_nothing_else(fake: FakeBitmart) -> None:
    fake.clock_offset_ms = 90_000
    async with client_for(fake) as client:
        assert client.has["fetchTime"]
        before = int(time.time() * 1000)
        server = await client.fetch_time()
        after = int(time.time() * 1000)
    assert server is not None and before + 90_000 <= server <= after + 90_000
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/system/time")]
    assert client.markets is None  # no market list was loaded for it


async def test_fetch_time_without_server_time_is_none_and_errors_raise_as_ccxt(fake: FakeBitmart) -> None:
    fake.force(status=200, body='{"code":1000,"trace":"t","message":"OK","data":{}}', include_public=True, times=1)
    async with client_for(fake) as client:
        assert await client.fetch_time() is None
    fake.force(status=503, body="<html>503 Service Unavailable</html>", include_public=True)
    async with client_for(fake) as client:
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await client.fetch_time()


async def test_close_closes_the_session_and_ends_the_client(fake: FakeBitmart) -> None:
    account = fake.add_account()
    client = client_for(fake, account)
    await client.fetch_balance()
    session = client.session
    assert session is not None and not session.closed
    await client.close()
    assert session.closed and client.session is None
    with pytest.raises(ccxt.ExchangeClosedByUser):
        await client.fetch_balance()
    await client.close()  # idempotent
    del session, client
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        gc.collect()


async def test_async_with_closes(fake: FakeBitmart) -> None:
    async with client_for(fake, fake.add_account()) as client:
        await client.fetch_balance()
        session = client.session
    assert session is not None and session.closed
