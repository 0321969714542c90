"""Stored and shown error details keep the exchange's code and words and lose signed-request details.

ccxt puts the request URL (query string included) into its exception text: real ccxt clients against every fake
exchange, failing the ways that make ccxt print the URL (connection dropped, gateway error page), must leave no
signature, timestamp, nonce or api-key parameter in the report that is stored and shown on the support card.
"""

from __future__ import annotations

import json
import re

import pytest

from bot.exchanges.catalog import get_spec
from bot.exchanges.probes import PLANS
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.sandbox.exchanges import fake_classes
from bot.security import MASK, redact_for_log, scrub_request_details
from tests.exchange_harness import call_probe, creds_of, running

FAKES = fake_classes()
GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
#: a sensitive parameter whose value is still there (not the mask)
LEFT_OVER = re.compile(
    r"(?i)(?<![a-z])(signature|sign|timestamp|recvwindow|recv_window|accesskeyid|apikey|api_key|nonce)"
    r"(=|%3D)(?!\[REDACTED\]|%5BREDACTED%5D)[^&\s\"]"
)


def _texts(report: KeyCheckReport) -> list[str]:
    out = [json.dumps(report.to_dict(), ensure_ascii=False)]
    out += [str(o.error) for o in report.outcomes.values() if o.error is not None]
    out += [o.error_message or "" for o in report.outcomes.values()]
    return out


@pytest.mark.parametrize("exchange", sorted(FAKES))
@pytest.mark.parametrize("how", ["disconnect", "gateway"])
async def test_report_of_a_failed_signed_request_carries_no_request_details(exchange: str, how: str) -> None:
    async with running(FAKES[exchange]) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        spec = get_spec(exchange)
        if PLANS[spec.check_style].needs_markets:
            await checker.factory.preload(spec)  # markets come in; only the signed calls fail
        if how == "disconnect":
            fake.force(mode="disconnect")
        else:
            fake.force(status=502, body=GATEWAY_PAGE)
        report = await checker.check(exchange, creds)
    failed = [o for o in report.outcomes.values() if o.status is ProbeStatus.FAILED]
    assert failed, report.to_dict()
    for text in _texts(report):
        assert LEFT_OVER.search(text) is None, text
        for secret in creds.secrets():
            assert secret not in text
    # what helps stays: the exchange, and for the gateway page its status
    assert any(exchange in (o.error_message or "") for o in failed), [o.error_message for o in failed]
    if how == "gateway":
        assert any("502" in (o.error_message or "") for o in failed), [o.error_message for o in failed]


@pytest.mark.parametrize("exchange", ["binance", "mexc", "htx"])
async def test_raw_ccxt_text_had_the_signed_url(exchange: str) -> None:
    """The exchanges whose signature travels in the query string: ccxt's own text holds it (so the test above
    would fail without the scrubbing), and the scrubbed text keeps method, host and path."""
    async with running(FAKES[exchange]) as (fake, checker):
        account = fake.add_account()
        spec = get_spec(exchange)
        await checker.factory.preload(spec)
        fake.force(status=502, body=GATEWAY_PAGE)
        async with checker.factory.client(spec, creds_of(account)) as client:
            with pytest.raises(Exception) as info:
                await call_probe(client, "fetch_balance")
    raw = str(info.value)
    assert LEFT_OVER.search(raw), raw
    clean = scrub_request_details(raw)
    assert LEFT_OVER.search(clean) is None and MASK in clean
    assert clean.split("?")[0] == raw.split("?")[0]  # "<id> GET http://127.0.0.1:port/path"
    assert "502" in clean and "Bad Gateway" in clean


@pytest.mark.parametrize(
    ("raw", "kept", "gone"),
    [
        (
            "htx GET https://api.huobi.pro/v1/account/accounts?AccessKeyId=bg5t6ygr6y-3a9c1d2e-7f8a9b0c-1d2e3"
            "&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2026-11-24T05%3A15%3A18"
            "&Signature=ZqRkx%2F9nc5fZn9BptAypGKbJpfWUTY8x47WRcOXqI8w%3D",
            ["htx GET https://api.huobi.pro/v1/account/accounts?", "SignatureMethod=HmacSHA256"],
            ["bg5t6ygr6y", "2026-11-24T05", "ZqRkx", "I8w%3D"],
        ),
        (
            "binance GET https://api.binance.com/api/v3/account?timestamp=1795497149991&recvWindow=10000"
            "&signature=b2d66cdacb49d98040f4b1bc226233beeae06d3376b1599ea60d7c3269e57dbc 502 Bad Gateway",
            ["/api/v3/account?", "502 Bad Gateway"],
            ["1795497149991", "10000", "b2d66cda"],
        ),
        (
            'bybit {"retCode":10004,"retMsg":"error sign! origin_string[1700000000000XyZ1aBcD2eFgH3iJkL5000'
            'accountType=UNIFIED]","result":{}}',
            ['"retCode":10004', "error sign!"],
            ["XyZ1aBcD2eFgH3iJkL", "1700000000000"],
        ),
        (
            "{'X-MBX-APIKEY': 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A', "
            "'OK-ACCESS-SIGN': 'c2lnbg==', 'OK-ACCESS-TIMESTAMP': '2026-11-24T05:15:18.123Z', "
            "'KC-API-KEY-VERSION': '2', 'ACCESS-PASSPHRASE': 'Hf12345', 'X-BM-TIMESTAMP': 1700000000000}",
            ["'X-MBX-APIKEY': '[REDACTED]'", "'OK-ACCESS-SIGN': '[REDACTED]'"],
            ["vmPUZE6", "c2lnbg", "2026-11-24T05", "Hf12345", "1700000000000"],
        ),
        (
            'bitget {"code":"40006","msg":"Invalid ACCESS_KEY","requestTime":1700000000000,"data":null}',
            ['"code":"40006"', "Invalid ACCESS_KEY"],
            ["1700000000000"],
        ),
        (
            "X-BAPI-API-KEY: XyZ1aBcD2eFgH3iJkL\nX-BAPI-TIMESTAMP: 1700000000000\nX-BAPI-RECV-WINDOW: 5000",
            ["X-BAPI-API-KEY: [REDACTED]"],
            ["XyZ1aBcD2eFgH3iJkL", "1700000000000", "5000"],
        ),
        (
            "xt-validate-appkey=3f2b8c1e-9a7d-4e6f&xt-validate-timestamp=1700000000000"
            "&xt-validate-signature=ab12cd&xt-validate-algorithms=HmacSHA256",
            ["xt-validate-algorithms=HmacSHA256"],
            ["3f2b8c1e", "1700000000000", "ab12cd"],
        ),
        (
            "next=https%3A%2F%2Fapi.mexc.com%2Fapi%2Fv3%2Faccount%3Ftimestamp%3D1700000000000%26signature%3Dab12",
            ["https%3A%2F%2Fapi.mexc.com%2Fapi%2Fv3%2Faccount%3F"],
            ["1700000000000", "ab12"],
        ),
        (
            'kraken {"error":["EAPI:Invalid nonce"]} body nonce=1700000000000123&asset=ETH',
            ["EAPI:Invalid nonce", "asset=ETH"],
            ["1700000000000123"],
        ),
        (
            "bigone Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrZXkiLCJub25jZSI6MX0.c2lnbmF0dXJl",
            ["bigone"],
            ["eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl"],
        ),
        (
            r'{"body":"{\"signature\":\"abcdef0123\",\"code\":-1022}"}',
            [r"\"code\":-1022"],
            ["abcdef0123"],
        ),
    ],
)
def test_scrub_request_details(raw: str, kept: list[str], gone: list[str]) -> None:
    for text in (scrub_request_details(raw), redact_for_log(raw)):
        for part in gone:
            assert part not in text, text
    clean = scrub_request_details(raw)
    for part in kept:
        assert part in clean, clean


@pytest.mark.parametrize(
    "text",
    [
        'binance {"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}',
        'okx {"msg":"Invalid OK-ACCESS-KEY","code":"50111"}',
        'kucoin {"code":"400004","msg":"Invalid KC-API-PASSPHRASE"}',
        'htx {"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature not valid: Incorrect IP"}',
        'kraken {"error":["EAPI:Invalid nonce"]}',
        "nonce_window=3000",
    ],
)
def test_the_exchanges_words_stay(text: str) -> None:
    assert scrub_request_details(text) == text


def test_a_stored_report_is_scrubbed_on_the_way_in_and_out() -> None:
    leaked = "okx GET https://www.okx.com/api/v5/account/balance?ts=1700000000000&sign=abc%3D 502"
    report = KeyCheckReport("okx")
    report.set_outcome(ProbeOutcome(next(iter(report.outcomes)), ProbeStatus.FAILED, error_message=leaked))
    report.evidence["raw"] = [leaked]
    data = report.to_dict()
    text = json.dumps(data)
    assert "1700000000000" not in text and "abc%3D" not in text and "/api/v5/account/balance" in text
    # a report stored before the scrubbing existed loses the details when loaded
    for outcome in data["outcomes"].values():
        outcome["error_message"] = leaked
    loaded = KeyCheckReport.from_dict(data)
    assert all("1700000000000" not in (o.error_message or "") for o in loaded.outcomes.values())
