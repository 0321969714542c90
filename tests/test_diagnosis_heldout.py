"""Replies that are NOT in the fixture file: other codes from the exchanges' docs and ccxt's tables, other
message texts, wrapped in the class ccxt raises for them. The rules must generalise from codes."""

from __future__ import annotations

import ccxt
import pytest

from bot.diagnosis import Cause, Permission, classify_error

B = Permission.VIEW_ACCOUNT_BALANCE
D = Permission.VIEW_DEPOSIT_ADDRESS
T = Permission.VIEW_SPOT_TRADING_HISTORY
C = Cause

HELD_OUT: list[tuple[str, str, Permission, BaseException, Cause]] = [
    # binance
    (
        "binance-2015",
        "binance",
        B,
        ccxt.AuthenticationError(
            'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action, request ip: 203.0.113.9"}'
        ),
        C.KEY_INVALID,
    ),
    (
        "binance-2015-relabelled",
        "binance",
        T,
        ccxt.DDoSProtection('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'),
        C.KEY_INVALID,
    ),
    (
        "binance-1022",
        "binance",
        B,
        ccxt.AuthenticationError('binance {"code":-1022,"msg":"Signature for this request is not valid."}'),
        C.SECRET_MISMATCH,
    ),
    (
        "binance-1003-429",
        "binance",
        B,
        ccxt.DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too much request weight used."}'),
        C.RATE_LIMITED,
    ),
    ("binance-msg-only", "binance", B, ccxt.AuthenticationError("binance API key does not exist"), C.KEY_INVALID),
    (
        "binance-451",
        "binance",
        B,
        ccxt.ExchangeNotAvailable(
            "binance GET https://api.binance.com/api/v3/account?timestamp=1&signature=ab 451 Unavailable For Legal "
            'Reasons {"code":0,"msg":"Service unavailable from a restricted location according to the terms."}'
        ),
        C.CHECK_FAILED,
    ),
    # okx
    (
        "okx-50111",
        "okx",
        B,
        ccxt.AuthenticationError('okx {"msg":"Invalid OK-ACCESS-KEY","code":"50111"}'),
        C.KEY_INVALID,
    ),
    ("okx-50113", "okx", T, ccxt.AuthenticationError('okx {"msg":"Invalid Sign","code":"50113"}'), C.SECRET_MISMATCH),
    (
        "okx-50105",
        "okx",
        D,
        ccxt.AuthenticationError('okx {"msg":"OK-ACCESS-PASSPHRASE incorrect","code":"50105"}'),
        C.PASSPHRASE_WRONG,
    ),
    ("okx-50110", "okx", B, ccxt.PermissionDenied('okx {"msg":"Invalid IP","code":"50110"}'), C.IP_NOT_WHITELISTED),
    (
        "okx-50119",
        "okx",
        B,
        ccxt.ExchangeError('okx {"msg":"API key doesn\'t exist","code":"50119"}'),
        C.KEY_INVALID,
    ),
    (
        "okx-50121",
        "okx",
        T,
        ccxt.ExchangeError('okx {"msg":"You can\'t access our API with this IP","code":"50121"}'),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "okx-50101-demo",
        "okx",
        B,
        ccxt.AuthenticationError('okx {"msg":"APIKey does not match current environment.","code":"50101"}'),
        C.DEMO_KEY,
    ),
    (
        "okx-sCode",
        "okx",
        T,
        ccxt.ExchangeError('okx {"code":"1","data":[{"sCode":"50120","sMsg":"no permission"}],"msg":""}'),
        C.PERMISSION_MISSING,
    ),
    # bybit
    (
        "bybit-33004",
        "bybit",
        B,
        ccxt.AuthenticationError('bybit {"retCode":33004,"retMsg":"Your api key has expired.","result":{}}'),
        C.KEY_EXPIRED,
    ),
    (
        "bybit-10003",
        "bybit",
        T,
        ccxt.AuthenticationError('bybit {"retCode":10003,"retMsg":"API key is invalid.","result":{},"time":1}'),
        C.KEY_INVALID,
    ),
    (
        "bybit-10010",
        "bybit",
        D,
        ccxt.PermissionDenied(
            'bybit {"retCode":10010,"retMsg":"Unmatched IP, please check your API key\'s bound IP addresses."}'
        ),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "bybit-10006",
        "bybit",
        B,
        ccxt.RateLimitExceeded('bybit {"retCode":10006,"retMsg":"Too many visits!"}'),
        C.RATE_LIMITED,
    ),
    # bitget
    (
        "bitget-40012-other-text",
        "bitget",
        B,
        ccxt.AuthenticationError('bitget {"code":"40012","msg":"Passphrase error","requestTime":1,"data":null}'),
        C.PASSPHRASE_WRONG,
    ),
    (
        "bitget-40018",
        "bitget",
        T,
        ccxt.PermissionDenied('bitget {"code":"40018","msg":"Invalid IP","requestTime":1,"data":null}'),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "bitget-40014",
        "bitget",
        D,
        ccxt.PermissionDenied('bitget {"code":"40014","msg":"Incorrect permissions","requestTime":1,"data":null}'),
        C.PERMISSION_MISSING,
    ),
    # kucoin
    (
        "kucoin-400003",
        "kucoin",
        B,
        ccxt.AuthenticationError('kucoin {"code":"400003","msg":"KC-API-KEY not exists"}'),
        C.KEY_INVALID,
    ),
    (
        "kucoin-400004",
        "kucoin",
        B,
        ccxt.AuthenticationError('kucoin {"code":"400004","msg":"Invalid KC-API-PASSPHRASE"}'),
        C.PASSPHRASE_WRONG,
    ),
    (
        "kucoin-400005",
        "kucoin",
        T,
        ccxt.AuthenticationError('kucoin {"code":"400005","msg":"Invalid KC-API-SIGN"}'),
        C.SECRET_MISMATCH,
    ),
    (
        "kucoin-411100",
        "kucoin",
        B,
        ccxt.AccountSuspended('kucoin {"code":"411100","msg":"User are frozen"}'),
        C.ACCOUNT_RESTRICTED,
    ),
    # htx
    (
        "htx-access-key",
        "htx",
        B,
        ccxt.AuthenticationError(
            'htx {"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature not valid: Incorrect '
            'Access key [Access key错误]","data":null}'
        ),
        C.KEY_INVALID,
    ),
    (
        "htx-verification",
        "htx",
        T,
        ccxt.AuthenticationError(
            'htx {"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature not valid: '
            'Verification failure [校验失败]","data":null}'
        ),
        C.SECRET_MISMATCH,
    ),
    (
        "htx-ip-chinese",
        "htx",
        B,
        ccxt.AuthenticationError(
            'htx {"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature not valid: ip地址错误",'
            '"data":null}'
        ),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "htx-time-chinese",
        "htx",
        B,
        ccxt.AuthenticationError(
            'htx {"status":"error","err-code":"api-signature-not-valid",'
            '"err-msg":"Signature not valid: 无效的提交时间","data":null}'
        ),
        C.CLOCK_SKEW,
    ),
    (
        "htx-rate",
        "htx",
        B,
        ccxt.RateLimitExceeded(
            'htx {"status":"error","err-code":"base-request-exceed-frequency-limit","err-msg":"slow down"}'
        ),
        C.RATE_LIMITED,
    ),
    # gate
    (
        "gate-invalid-key-other-text",
        "gate",
        B,
        ccxt.AuthenticationError('gate {"label":"INVALID_KEY","message":"Invalid API key"}'),
        C.KEY_INVALID,
    ),
    (
        "gate-forbidden-ip",
        "gate",
        T,
        ccxt.PermissionDenied('gate {"label":"FORBIDDEN","message":"Request IP not in whitelist: 203.0.113.7"}'),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "gate-forbidden-permission",
        "gate",
        T,
        ccxt.PermissionDenied('gate {"label":"FORBIDDEN","message":"API key has no spot read permission"}'),
        C.PERMISSION_MISSING,
    ),
    (
        "gate-locked",
        "gate",
        B,
        ccxt.AccountSuspended('gate {"label":"ACCOUNT_LOCKED","message":"Account is locked"}'),
        C.ACCOUNT_RESTRICTED,
    ),
    ("gate-address-none", "gate", D, ccxt.InvalidAddress("gate address is None"), C.NO_DEPOSIT_ADDRESS),
    # kraken
    (
        "kraken-permission",
        "kraken",
        B,
        ccxt.PermissionDenied('kraken {"error":["EGeneral:Permission denied"]}'),
        C.PERMISSION_MISSING,
    ),
    ("kraken-nonce", "kraken", B, ccxt.InvalidNonce('kraken {"error":["EAPI:Invalid nonce"]}'), C.NONCE_REUSED),
    ("kraken-key", "kraken", B, ccxt.AuthenticationError('kraken {"error":["EAPI:Invalid key"]}'), C.KEY_INVALID),
    (
        "kraken-busy",
        "kraken",
        B,
        ccxt.ExchangeNotAvailable('kraken {"error":["EService:Busy"]}'),
        C.EXCHANGE_MAINTENANCE,
    ),
    (
        "kraken-service-prefix",
        "kraken",
        T,
        ccxt.ExchangeError('kraken {"error":["EService:Deadline elapsed"]}'),
        C.EXCHANGE_MAINTENANCE,
    ),
    (
        "kraken-disabled",
        "kraken",
        B,
        ccxt.ExchangeError('kraken {"error":["EAuth:Account temporary disabled"]}'),
        C.ACCOUNT_RESTRICTED,
    ),
    (
        "kraken-padding-other-text",
        "kraken",
        B,
        __import__("binascii").Error("Invalid base64-encoded string: number of data characters (5)"),
        C.SECRET_MISMATCH,
    ),
    # xt
    (
        "xt-104",
        "xt",
        B,
        ccxt.AuthenticationError('xt {"rc":1,"mc":"AUTH_104","ma":[],"result":null}'),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "xt-103",
        "xt",
        T,
        ccxt.AuthenticationError('xt {"rc":1,"mc":"AUTH_103","ma":[],"result":null}'),
        C.SECRET_MISMATCH,
    ),
    ("xt-102", "xt", B, ccxt.AuthenticationError('xt {"rc":1,"mc":"AUTH_102","ma":[],"result":null}'), C.KEY_INVALID),
    # bitmart
    (
        "bitmart-30010",
        "bitmart",
        B,
        ccxt.PermissionDenied(
            'bitmart {"message":"IP is forbidden. We recommend enabling IP whitelist for API trading.","code":30010,'
            '"trace":"t","data":{}}'
        ),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "bitmart-30011",
        "bitmart",
        T,
        ccxt.AuthenticationError('bitmart {"message":"Header X-BM-KEY over expire time","code":30011,"data":{}}'),
        C.KEY_EXPIRED,
    ),
    (
        "bitmart-30002",
        "bitmart",
        B,
        ccxt.AuthenticationError('bitmart {"message":"Header X-BM-KEY not found","code":30002,"data":{}}'),
        C.KEY_INVALID,
    ),
    # mexc
    (
        "mexc-700007",
        "mexc",
        T,
        ccxt.AuthenticationError('mexc {"code":700007,"msg":"No permission to access the endpoint."}'),
        C.PERMISSION_MISSING,
    ),
    (
        "mexc-700006-new-text",
        "mexc",
        B,
        ccxt.BadRequest('mexc {"code":700006,"msg":"IP [203.0.113.7] not in the ip white list"}'),
        C.IP_NOT_WHITELISTED,
    ),
    (
        "mexc-typeerror-no-address",
        "mexc",
        D,
        TypeError('can only concatenate str (not "NoneType") to str'),
        C.NO_DEPOSIT_ADDRESS,
    ),
    (
        "mexc-no-address-with-network",
        "mexc",
        D,
        ccxt.InvalidAddress("mexc fetchDepositAddress() cannot find a deposit address for ETH, and networkERC20"),
        C.NO_DEPOSIT_ADDRESS,
    ),
    # bigone
    (
        "bigone-40004",
        "bigone",
        B,
        ccxt.AuthenticationError('bigone {"code":40004,"message":"invalid jwt"}'),
        C.KEY_INVALID,
    ),
    (
        "bigone-10403",
        "bigone",
        T,
        ccxt.PermissionDenied('bigone {"code":10403,"message":"permission denied"}'),
        C.PERMISSION_MISSING,
    ),
    # transport and client-side
    (
        "timeout-plain",
        "okx",
        B,
        ccxt.RequestTimeout("okx GET https://www.okx.com/api/v5/account/balance"),
        C.EXCHANGE_UNREACHABLE,
    ),
    (
        "cloudflare-503",
        "gate",
        B,
        ccxt.ExchangeNotAvailable(
            "gate GET https://api.gateio.ws/api/v4/spot/accounts 503 Service Unavailable <html>cloudflare</html>"
        ),
        C.EXCHANGE_MAINTENANCE,
    ),
    (
        "unknown-404",
        "bybit",
        B,
        ccxt.ExchangeNotAvailable("bybit GET https://api.bybit.com/v5/account/wallet-balance?x=1 404 Not Found "),
        C.CHECK_FAILED,
    ),
    (
        "ccxt-missing-credential",
        "binance",
        B,
        ccxt.AuthenticationError('binance requires "apiKey" credential'),
        C.INCOMPLETE_CREDENTIALS,
    ),
    ("python-timeout", "bigone", B, TimeoutError(), C.EXCHANGE_UNREACHABLE),
    ("connection-refused", "bigone", B, ConnectionRefusedError(111, "Connection refused"), C.EXCHANGE_UNREACHABLE),
    (
        "engine-wrapped-typeerror",
        "mexc",
        D,
        RuntimeError('TypeError: can only concatenate str (not "NoneType") to str'),
        C.NO_DEPOSIT_ADDRESS,
    ),
    (
        "huobi-alias",
        "huobi",
        B,
        ccxt.AuthenticationError(
            'htx {"err-code":"api-signature-not-valid","status":"error",'
            '"err-msg":"Signature not valid: API key has no permission"}'
        ),
        C.PERMISSION_MISSING,
    ),
]


@pytest.mark.parametrize(
    ("exchange", "perm", "error", "expected"), [c[1:] for c in HELD_OUT], ids=[c[0] for c in HELD_OUT]
)
def test_held_out_reply(exchange: str, perm: Permission, error: BaseException, expected: Cause) -> None:
    diag = classify_error(exchange, perm, error)
    assert diag.cause is expected, diag


def test_held_out_count(capsys: pytest.CaptureFixture[str]) -> None:
    passed = sum(classify_error(ex, perm, err).cause is want for _, ex, perm, err, want in HELD_OUT)
    with capsys.disabled():
        print(f"\n[diagnosis] held-out replies: {passed}/{len(HELD_OUT)} classified right")
    assert passed == len(HELD_OUT)


def test_ambiguous_replies_keep_their_alternatives() -> None:
    d = classify_error("binance", B, ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key"}'))
    assert d.code == "-2015"
    assert {C.IP_NOT_WHITELISTED, C.PERMISSION_MISSING, C.KEY_EXPIRED} <= set(d.alternatives)
    d = classify_error("kraken", B, ccxt.AuthenticationError('kraken {"error":["EAPI:Invalid key"]}'))
    assert C.SECRET_MISMATCH in d.alternatives
    d = classify_error("bigone", B, ccxt.AuthenticationError('bigone {"code":40004,"message":"invalid jwt"}'))
    assert {C.SECRET_MISMATCH, C.KEY_EXPIRED, C.CLOCK_SKEW} <= set(d.alternatives)


def test_unknown_auth_code_falls_back_to_the_class_with_passphrase_where_needed() -> None:
    d = classify_error("okx", B, ccxt.AuthenticationError('okx {"msg":"something new","code":"59999"}'))
    assert d.cause is C.KEY_INVALID and C.PASSPHRASE_WRONG in d.alternatives and d.code == "59999"
    d = classify_error("gate", B, ccxt.AuthenticationError('gate {"label":"SOMETHING_NEW","message":"x"}'))
    assert d.cause is C.KEY_INVALID and C.PASSPHRASE_WRONG not in d.alternatives


def test_another_exchanges_body_does_not_confuse() -> None:
    d = classify_error("kucoin", B, ccxt.AuthenticationError('okx {"msg":"Invalid OK-ACCESS-KEY","code":"50111"}'))
    assert d.cause is C.KEY_INVALID
