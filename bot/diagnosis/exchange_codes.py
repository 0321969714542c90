"""Every code each exchange documents for keys, accounts, time, limits and outages, and what it means for the user.

One `CodeTable` per exchange: the official error-code page it was taken from (`source`), how its words were
checked (`checked`), and `codes`: the exchange's code (or label, or Kraken error string) -> `Verdict`. A
verdict's `note` holds the documented words; an entry that comes from somewhere other than the table's page says
so in its own `source`. Families covered (issue #15): authentication, signatures, passphrases, permissions, IP
allow-lists, key expiry or freezing, account restrictions (risk control, compliance or region, disabled user,
sub-account without API access), demo/live mismatch, timestamps and nonces, rate limits and maintenance; plus the
few deposit-address codes HuFi's probe meets.

What ccxt raises for each code matters less than one would think: the classifier reads the code out of the
exception text first. Where ccxt's class misleads (OKX 50100/50119/50120 and Bitget 40010 come back as a bare
`ExchangeError` or as a "signature" `AuthenticationError`; MEXC 10072 as `BadRequest`), the code decides. The
table-driven test `tests/test_documented_codes.py` replays every documented code through a real ccxt client (our
own client for BitMart) against the fake exchange and pins both the class and the cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.diagnosis.names import (  # short names keep the tables readable
    CHECK,
    CLOCK,
    DEMO,
    DOWN,
    EXPIRED,
    FROZEN,
    INCOMPLETE,
    IP,
    KEY,
    MAINT,
    NO_ADDR,
    NONCE_REUSED,
    NONCE_WINDOW,
    PASS,
    PERM,
    RATE,
    REGION,
    RESTRICTED,
    RISK,
    SECRET,
    SUBACC,
)
from bot.diagnosis.verdict import V, Verdict


@dataclass(frozen=True, slots=True)
class CodeTable:
    """One exchange's documented codes."""

    exchange: str
    source: str  # the exchange's official error-code page
    checked: str  # how the words below were checked against it
    codes: Mapping[str, Verdict]


# ---------------------------------------------------------------------------------------------------------
# Binance

_BINANCE_WALLET = "https://developers.binance.com/docs/wallet/error-code"
_BINANCE_FUTURES = "https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code"

BINANCE = CodeTable(
    "binance",
    source="https://developers.binance.com/docs/binance-spot-api-docs/errors",
    checked="read in binance/binance-spot-api-docs errors.md, commit a5e0bc3 (2026-07-21)",
    codes={
        "-1000": V(MAINT, DOWN, note="UNKNOWN: An unknown error occurred while processing the request."),
        "-1001": V(MAINT, DOWN, note="DISCONNECTED: Internal error; unable to process your request. Please try again."),
        "-1002": V(PERM, note="UNAUTHORIZED: You are not authorized to execute this request."),
        "-1003": V(
            RATE, note="TOO_MANY_REQUESTS: Too much request weight used; current limit is %s request weight per %s."
        ),
        "-1004": V(MAINT, RATE, note="SERVER_BUSY: Server is busy, please wait and try again", source=_BINANCE_WALLET),
        "-1006": V(MAINT, DOWN, note="UNEXPECTED_RESP: An unexpected response was received from the message bus."),
        "-1007": V(DOWN, MAINT, note="TIMEOUT: Timeout waiting for response from backend server."),
        "-1008": V(MAINT, RATE, note="SERVER_BUSY: Server is currently overloaded with other requests."),
        "-1015": V(RATE, note="TOO_MANY_ORDERS: Too many new orders."),
        "-1016": V(MAINT, note="SERVICE_SHUTTING_DOWN: This service is no longer available."),
        "-1021": V(CLOCK, note="INVALID_TIMESTAMP: Timestamp for this request is outside of the recvWindow."),
        "-1022": V(SECRET, note="INVALID_SIGNATURE: Signature for this request is not valid."),
        "-1034": V(RATE, note="TOO_MANY_CONNECTIONS: Too many concurrent connections; current limit is '%s'."),
        "-1099": V(KEY, PERM, note="Not found, authenticated, or authorized", source=_BINANCE_WALLET),
        "-1121": V(CHECK, note="BAD_SYMBOL: Invalid symbol."),
        "-2008": V(EXPIRED, KEY, note="BAD_API_ID: Invalid Api-Key ID.", source=_BINANCE_FUTURES),
        "-2014": V(KEY, note="BAD_API_KEY_FMT: API-key format invalid."),
        "-2015": V(KEY, IP, PERM, EXPIRED, note="REJECTED_MBX_KEY: Invalid API-key, IP, or permissions for action."),
        "-2017": V(FROZEN, RESTRICTED, note="API Keys are locked on this account.", source="ccxt 4.5.90 binance table"),
        "-3022": V(RESTRICTED, note="You account's trading ability is forbidden.", source=_BINANCE_WALLET),
        "-4044": V(REGION, note="This is a blacklist country.", source=_BINANCE_WALLET),
        "-4402": V(
            REGION,
            note="Dear user, as per our Terms of Use and compliance with local regulations, this feature is currently "
            "not available in your region.",
            source=_BINANCE_FUTURES,
        ),
        "-10047": V(
            REGION,
            note="This coin is currently not supported in your location due to local regulations.",
            source=_BINANCE_WALLET,
        ),
    },
)

# Replies Binance sends with a message only (the spot page's "Messages for -1010, -2010, -2011 and -2038").
BINANCE_TEXTS: tuple[tuple[str, Verdict], ...] = (
    (r"api[- ]?key does not exist", V(KEY, EXPIRED)),
    (r"not authori[sz]ed to execute", V(PERM)),
    (r"this action is disabled on (this|self) account", V(RESTRICTED, note="This action is disabled on this account.")),
    (r"this account may not place or cancel orders", V(RESTRICTED)),
    (r"you don't have permission", V(PERM)),
    (r"system is under maintenance", V(MAINT)),
    (r"system abnormality", V(MAINT)),
)


# ---------------------------------------------------------------------------------------------------------
# OKX

OKX = CodeTable(
    "okx",
    source="https://www.okx.com/docs-v5/en/#error-code",
    checked="not readable here: 50101-50114 checked against the page's Chinese table quoted in pyted/okx#1, the "
    "general codes and their HTTP statuses against OKX's web3 docs (same codes), the rest against the comments "
    "in ccxt 4.5.90's okx table and the replies in the fixtures",
    codes={
        "50001": V(MAINT, note="Service temporarily unavailable. Try again later"),
        "50004": V(
            DOWN, MAINT, note="API endpoint request timeout (does not mean that the request was successful or failed)"
        ),
        "50005": V(MAINT, note="API is offline or unavailable"),
        "50007": V(RESTRICTED, note="Account blocked"),
        "50008": V(KEY, RESTRICTED, note="User not found"),
        "50009": V(RESTRICTED, note="Account is suspended due to ongoing liquidation"),
        "50011": V(
            RATE, note="Rate limit reached. Please refer to API documentation and throttle requests accordingly"
        ),
        "50012": V(RESTRICTED, note="Account status invalid. Check account status"),
        "50013": V(MAINT, note="Systems are busy. Please try again later"),
        "50026": V(MAINT, note="System error. Try again later"),
        "50027": V(RESTRICTED, note="The account is restricted from trading"),
        "50030": V(PERM, note="No permission to use this API"),
        "50040": V(RATE, note="Too frequent operations, please try again later"),
        "50061": V(RATE, note="Sub-account rate limit reached"),
        "50100": V(FROZEN, EXPIRED, RESTRICTED, note="API frozen, please contact customer service"),
        "50101": V(DEMO, note="APIKey does not match current environment"),
        "50102": V(CLOCK, note="Timestamp request expired"),
        "50103": V(INCOMPLETE, note='Request header "OK-ACCESS-KEY" cannot be empty'),
        "50104": V(INCOMPLETE, PASS, note='Request header "OK-ACCESS-PASSPHRASE" cannot be empty'),
        "50105": V(PASS, note='Request header "OK-ACCESS-PASSPHRASE" incorrect'),
        "50106": V(CHECK, note='Request header "OK-ACCESS-SIGN" cannot be empty'),
        "50107": V(CHECK, note='Request header "OK-ACCESS-TIMESTAMP" cannot be empty'),
        "50108": V(CHECK, KEY, note="Exchange ID does not exist"),
        "50109": V(CHECK, note="Exchange domain does not exist"),
        "50110": V(IP, note="Your IP {param0} is not included in your API key's IP whitelist"),
        "50111": V(KEY, EXPIRED, note="Invalid OK-ACCESS-KEY"),
        "50112": V(CLOCK, CHECK, note="Invalid OK-ACCESS-TIMESTAMP"),
        "50113": V(SECRET, note="Invalid signature"),
        "50114": V(KEY, SECRET, PASS, note="Invalid authorization"),
        "50115": V(CHECK, note="Invalid request method"),
        "50119": V(KEY, EXPIRED, note="API key doesn't exist"),
        "50120": V(PERM, note="API key doesn't have permission to use this function"),
        "50121": V(IP, note="You can't access the API from this IP address ({param0})"),
        "4088": V(
            RESTRICTED,
            note="You can't trade or deposit until you've verified your identity again.",
            source="ccxt 4.5.90 okx table (an observed reply)",
        ),
        "51155": V(
            REGION,
            note="You can't trade this pair or borrow this crypto due to local compliance restrictions.",
            source="ccxt 4.5.90 okx table (an observed reply)",
        ),
        "51732": V(RESTRICTED, note="Required user KYC level not met"),
        "51733": V(RISK, note="User is under risk control"),
        "51734": V(REGION, note="User KYC Country is not supported"),
        "51735": V(SUBACC, note="Sub-account is not supported"),
        "51773": V(REGION, note="Feature not available in your region"),
        "58004": V(RESTRICTED, note="Account blocked"),
        "59500": V(SUBACC, note="Only the APIKey of the main account has permission"),
        "59508": V(RESTRICTED, SUBACC, note="The sub account of {param0} is suspended"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# Bybit

BYBIT = CodeTable(
    "bybit",
    source="https://bybit-exchange.github.io/docs/v5/error",
    checked="read in bybit-exchange/docs docs/v5/error.mdx, commit 072c197 (2026-07-24)",
    codes={
        "-2015": V(EXPIRED, note="(Spot) Your api key has expired"),
        "33004": V(EXPIRED, note="(Derivatives) Your api key has expired"),
        "429": V(MAINT, RATE, note="The trading service is experiencing a high server load. Please retry"),
        "10000": V(DOWN, MAINT, note="Server Timeout"),
        "10002": V(CLOCK, note="The request time exceeds the time window range."),
        "10003": V(
            KEY,
            DEMO,
            EXPIRED,
            note="API key is invalid. Check whether the key and domain are matched, there are 4 env: mainnet, "
            "testnet, mainnet-demo, testnet-demo",
        ),
        "10004": V(SECRET, note="Error sign, please check your signature generation algorithm."),
        "10005": V(PERM, note="Permission denied, please check your API key permissions."),
        "10006": V(RATE, note="Too many visits. Exceeded the API Rate Limit."),
        "10007": V(KEY, INCOMPLETE, SECRET, note="User authentication failed."),
        "10008": V(RESTRICTED, note="Common banned, please check your account mode"),
        "10009": V(
            REGION,
            CHECK,
            note="Service Restricted: Access is currently unavailable for your region. Please contact our support "
            "team for further assistance",
        ),
        "10010": V(IP, note="Unmatched IP, please check your API key's bound IP addresses."),
        "10016": V(MAINT, note="Server error."),
        "10017": V(CHECK, note="Route not found."),
        "10018": V(RATE, note="Exceeded the IP Rate Limit. (struck out on the page, still in ccxt's table)"),
        "10024": V(REGION, RESTRICTED, note="Compliance rules triggered"),
        "10027": V(RESTRICTED, note="Transactions are banned."),
        "10028": V(CHECK, note="The API can only be accessed by unified account users."),
        "100028": V(CHECK, note="The API cannot be accessed by unified account users."),
        "110100": V(
            DEMO,
            note="You cannot place, modify, or cancel Pre-Market Perpetual orders when you are in Demo Trading.",
        ),
        "110302": V(DEMO, note="Demo user is prohibited"),
        "131004": V(RESTRICTED, note="KYC needed"),
        "131065": V(RESTRICTED, note="Your KYC information is incomplete, please go to the KYC information page"),
        "131092": V(RESTRICTED, note="User status is abnormal"),
        "131217": V(RISK, note="Risk check error"),
        "131226": V(RISK, note="Due to security reasons, we are unable to proceed with the current action."),
        "131230": V(MAINT, note="The system is busy, please try again later"),
        "141004": V(SUBACC, RESTRICTED, note="sub member is not normal"),
        "170007": V(DOWN, MAINT, note="Timeout waiting for response from backend server."),
        "170222": V(RATE, note="Too many requests in this time frame."),
        "81007": V(REGION, note="Bybit Europe is not supported create API Key"),
        "20096": V(RESTRICTED, note="need KYC authentication"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# KuCoin

_KUCOIN_CCXT = "ccxt 4.5.90 kucoin table (KuCoin's current docs)"

KUCOIN = CodeTable(
    "kucoin",
    source="https://docs.kucoin.com/#errors",
    checked="read in Kucoin/kucoin-api-docs source/localizable/index.html.md (the source of that page), commit "
    "7f01bbe (2023-06-09); newer codes from ccxt 4.5.90's kucoin table and HuFi's kucoin/constants.ts",
    codes={
        "400001": V(
            INCOMPLETE,
            note="Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing in your request "
            "header",
        ),
        "400002": V(CLOCK, note="KC-API-TIMESTAMP Invalid"),
        "400003": V(KEY, EXPIRED, note="KC-API-KEY not exists"),
        "400004": V(PASS, SECRET, note="KC-API-PASSPHRASE error (a wrong secret breaks the passphrase too)"),
        "400005": V(SECRET, PASS, note="Signature error"),
        "400006": V(IP, note="The requested ip address is not in the api whitelist"),
        "400007": V(PERM, note="Access Denied"),
        "400500": V(
            REGION, note="Your located country/region is currently not supported for the trading of this token"
        ),
        "400700": V(RISK, note="Transaction restricted, there's a risk problem in your account"),
        "411100": V(RESTRICTED, note="User are frozen"),
        "200009": V(RESTRICTED, note="Please complete the KYC verification before you trade XX"),
        "500000": V(MAINT, note="Internal Server Error"),
        "429000": V(RATE, MAINT, note="Too many requests. System-level rate limit exceeded (server overloaded)"),
        "400401": V(KEY, SECRET, note="User is not logged in", source="HuFi recording-oracle kucoin/constants.ts"),
        "400444": V(
            RESTRICTED, note="account temporarily restricted", source="HuFi recording-oracle kucoin/constants.ts"
        ),
        "400303": V(RESTRICTED, note="please complete the identity verification process", source=_KUCOIN_CCXT),
        "126002": V(
            RISK,
            note="There is a risk problem in your account and transactions are temporarily not allowed!",
            source=_KUCOIN_CCXT,
        ),
        "126037": V(
            REGION,
            note="Due to country and region restrictions, this function has been suspended!",
            source=_KUCOIN_CCXT,
        ),
        "126047": V(RESTRICTED, note="Please complete identity verification", source=_KUCOIN_CCXT),
        "126048": V(
            SUBACC, RESTRICTED, note="Please complete authentication for the master account", source=_KUCOIN_CCXT
        ),
        "130201": V(
            RESTRICTED,
            note="Your account has restricted access to certain features. Please contact customer service",
            source=_KUCOIN_CCXT,
        ),
        "130302": V(RESTRICTED, note="Your relevant permission rights have been restricted", source=_KUCOIN_CCXT),
        "130315": V(REGION, note="This feature has been suspended due to country restrictions", source=_KUCOIN_CCXT),
        "114001": V(MAINT, NO_ADDR, note="deposits of this coin are disabled", source="HuFi recording-oracle"),
        "260220": V(NO_ADDR, note="deposit.address.not.exists", source="fixtures (an observed reply)"),
        # the page's HTTP status table; KuCoin also puts these numbers in the body's code
        "401": V(KEY, EXPIRED, note="Unauthorized -- Invalid API Key."),
        "429": V(RATE, note="Too Many Requests"),
        "500": V(MAINT, note="Internal Server Error -- We had a problem with our server. Try again later."),
        "503": V(
            MAINT, note="Service Unavailable -- We're temporarily offline for maintenance. Please try again later."
        ),
    },
)


# ---------------------------------------------------------------------------------------------------------
# Bitget

BITGET = CodeTable(
    "bitget",
    source="https://www.bitget.com/api-doc/common/error-code/restapi",
    checked="not readable here: words from the comments in ccxt 4.5.90's bitget table, which copies the page; "
    "40010 is the page's 'Request timed out' that ccxt files as a signature error",
    codes={
        "40001": V(INCOMPLETE, note="ACCESS_KEY cannot be empty"),
        "40002": V(INCOMPLETE, note="SECRET_KEY cannot be empty"),
        "40003": V(CHECK, note="Signature cannot be empty"),
        "40004": V(CLOCK, note="Request timestamp expired"),
        "40005": V(CLOCK, CHECK, note="Invalid ACCESS_TIMESTAMP"),
        "40006": V(KEY, EXPIRED, note="Invalid ACCESS_KEY"),
        "40008": V(CLOCK, note="Request timestamp expired"),
        "40009": V(SECRET, note="sign signature error"),
        "40010": V(MAINT, DOWN, note="Request timed out (ccxt files it as 'sign signature error')"),
        "40011": V(INCOMPLETE, PASS, note="ACCESS_PASSPHRASE cannot be empty"),
        "40012": V(PASS, KEY, note="apikey/password is incorrect"),
        "40013": V(RESTRICTED, note="User status is abnormal"),
        "40014": V(PERM, note="Incorrect permissions"),
        "40015": V(MAINT, note="System is abnormal, please try again later"),
        "40016": V(RESTRICTED, note="The user must bind the phone or Google"),
        "40018": V(IP, note="Invalid IP"),
        "40031": V(RESTRICTED, note="The account has been cancelled and cannot be used again"),
        "40037": V(KEY, EXPIRED, note="Apikey does not exist"),
        "40085": V(CHECK, note="You are in Unified Account mode, and the Classic Account API is not supported"),
        "40200": V(MAINT, note="Server upgrade, please try again later"),
        "40301": V(
            PERM, note="Permission has not been obtained yet. If you need to use it, please contact customer service"
        ),
        "40308": V(MAINT, note="contract under maintenance"),
        "41114": V(MAINT, note="The current trading pair is under maintenance"),
        "43115": V(MAINT, note="The current trading pair is opening soon"),
        "429": V(RATE, note="Too many requests"),
        "1001": V(RATE, note="The request is too frequent and has been throttled"),
        "50009": V(RATE, note="The operation is too frequent, please try again later"),
        "50010": V(
            RESTRICTED,
            note="The account is abnormally frozen. If you have any questions, please contact customer service.",
        ),
    },
)


# ---------------------------------------------------------------------------------------------------------
# Gate

_GATE_FORBIDDEN = V(
    PERM,
    IP,
    note="FORBIDDEN: Account has no permission to request operation (also sent for the IP allow-list, naming the IP)",
    refine=((r"\bip\b|white ?list|allow ?list", V(IP)),),
)

GATE = CodeTable(
    "gate",
    source="https://www.gate.com/docs/developers/apiv4/en/#label-list",
    checked="not readable here: labels from ccxt 4.5.90's gate table, messages from the fixtures' observed replies",
    codes={
        "INVALID_KEY": V(KEY, EXPIRED, note="Invalid key provided"),
        "INVALID_CREDENTIALS": V(KEY, SECRET, EXPIRED, note="Invalid credentials provided"),
        "AUTHENTICATION_FAILED": V(KEY, SECRET, EXPIRED, note="authentication failed"),
        "INVALID_SIGNATURE": V(SECRET, note="Signature mismatch"),
        "IP_FORBIDDEN": V(IP, note="Request IP not in whitelist"),
        "FORBIDDEN": _GATE_FORBIDDEN,
        "READ_ONLY": V(PERM, note="API key is read-only"),
        "REQUEST_EXPIRED": V(CLOCK, note="gap between request Timestamp and server time exceeds limit"),
        "MISSING_REQUIRED_HEADER": V(INCOMPLETE, CHECK, note="Missing required authentication header"),
        "ACCOUNT_LOCKED": V(RESTRICTED, note="Account is locked"),
        "SUB_ACCOUNT_LOCKED": V(RESTRICTED, SUBACC, note="Sub account is locked"),
        "USER_NOT_FOUND": V(KEY, RESTRICTED, note="User not found"),
        "TOO_FAST": V(RATE, note="Request Rate Limit Exceeded"),
        "TOO_MANY_REQUESTS": V(RATE, note="Too many requests"),
        "INTERNAL": V(MAINT, note="Internal server error"),
        "SERVER_ERROR": V(MAINT, note="Internal server error"),
        "TOO_BUSY": V(MAINT, note="Server is too busy at the moment"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# MEXC

_MEXC_CONTRACT = "https://mexcdevelop.github.io/apidocs/contract_v1_en/#error-code-example (ccxt's table mixes both)"

MEXC = CodeTable(
    "mexc",
    source="https://mexcdevelop.github.io/apidocs/spot_v3_en/#error-code",
    checked="not readable here: words checked against the comments in ccxt 4.5.90's mexc table and the mexc-rs "
    "crate's copy of the page (docs.rs, spot::v3::ErrorCode)",
    codes={
        "400": V(INCOMPLETE, note="api key required"),
        "401": V(KEY, EXPIRED, note="No authority"),
        "403": V(PERM, IP, note="Access Denied"),
        "429": V(RATE, note="Too Many Requests"),
        "500": V(MAINT, note="Internal error"),
        "503": V(MAINT, note="service not available, please try again"),
        "504": V(DOWN, MAINT, note="Gateway Time-out"),
        "602": V(SECRET, note="Signature verification failed"),
        "10001": V(KEY, RESTRICTED, note="user does not exist"),
        "10072": V(KEY, EXPIRED, note="invalid access key (also for a removed key)"),
        "10073": V(CLOCK, note="invalid Request-Time"),
        "10098": V(RISK, note="risk control system detected abnormal"),
        "10099": V(SUBACC, note="user sub account does not open"),
        "10216": V(NO_ADDR, note="No available deposit address"),
        "140002": V(SUBACC, RESTRICTED, note="sub account is forbidden"),
        "700001": V(KEY, EXPIRED, note="API-key format invalid."),
        "700002": V(SECRET, note="Signature for this request is not valid."),
        "700003": V(CLOCK, note="Timestamp for this request is outside of the recvWindow."),
        "700005": V(CHECK, CLOCK, note="recvWindow must less than 60000"),
        "700006": V(IP, note="IP non white list"),
        "700007": V(PERM, note="No permission to access the endpoint."),
        "730100": V(RESTRICTED, note="Unusual user status"),
        "402": V(EXPIRED, note="API Key expired, please apply again", source=_MEXC_CONTRACT),
        "406": V(IP, note="Accessing IP is not in the whitelist", source=_MEXC_CONTRACT),
        "510": V(RATE, note="Requests are too frequent, please try again later", source=_MEXC_CONTRACT),
        "501": V(MAINT, note="System busy, try again later", source=_MEXC_CONTRACT),
        "511": V(PERM, note="You do not have access to the interface", source=_MEXC_CONTRACT),
        "604": V(MAINT, note="Sorry, this feature is under maintenance", source=_MEXC_CONTRACT),
        "701": V(PERM, note="Please enable API Key read access", source=_MEXC_CONTRACT),
        "703": V(PERM, note="Trading information read access is required", source=_MEXC_CONTRACT),
        "801": V(MAINT, note="System under maintenance", source=_MEXC_CONTRACT),
        "11444": V(MAINT, note="This feature is temporarily unavailable.", source="ccxt 4.5.90 mexc table"),
        "30018": V(RESTRICTED, note="the account can't place orders for now", source="ccxt 4.5.90 mexc table"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# HTX

_HTX_SIGNATURE = V(
    SECRET,
    KEY,
    note="Signature not valid: <reason> (the err-msg suffix tells the cause apart)",
    refine=(
        (r"incorrect ip|ip ?address|ip ?地址|\bip\b.{0,20}(white|allow|bound|invalid)", V(IP)),
        (r"no permission|没有权限|permission", V(PERM)),
        (r"request expired|请求过期|提交时间|timestamp|time ?out of", V(CLOCK)),
        (r"expired|过期", V(EXPIRED, KEY)),
        (r"frozen|冻结|disabled|禁用", V(FROZEN, EXPIRED)),
        (r"incorrect access ?key|access ?key ?错误|access ?key|accesskeyid", V(KEY, EXPIRED)),
        (r"verification failure|校验失败", V(SECRET)),
    ),
)

HTX = CodeTable(
    "htx",
    source="https://huobiapi.github.io/docs/spot/v1/en/#errors-in-api-calls",
    checked="not readable here: codes and err-msg texts from ccxt 4.5.90's htx table (observed replies) and "
    "the fixtures",
    codes={
        "api-signature-not-valid": _HTX_SIGNATURE,
        "api-signature-check-failed": V(SECRET, KEY, note="Signature check failed"),
        "login-required": V(INCOMPLETE, KEY, note="Signature parameters are missing"),
        "account-frozen-account-inexistent-error": V(RESTRICTED, note="Account is frozen or does not exist"),
        "system-maintenance": V(MAINT, note="System is in maintenance!"),
        "gateway-internal-error": V(MAINT, note="Failed to load data. Try again later."),
        "timeout": V(DOWN, MAINT, note="Request Timeout"),
        "base-request-exceed-frequency-limit": V(RATE, note="Frequency of requests has exceeded the limit"),
        "rate-too-many-requests": V(RATE, note="exceeded rate limit"),
        "request limit": V(RATE, note="request limit (the err-msg of an invalid-parameter reply)"),
        "1003": V(SECRET, KEY, note="invalid signature (v2 API)"),
        "1010": V(RESTRICTED, KEY, note="account does not exist"),
        "1220": V(RESTRICTED, note="account not activated"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# XT

XT = CodeTable(
    "xt",
    source="https://doc.xt.com/#documentationerrorCode",
    checked="not readable here: words from the comments in ccxt 4.5.90's xt table, which copies the page",
    codes={
        "AUTH_001": V(INCOMPLETE, note="missing request header xt-validate-appkey"),
        "AUTH_002": V(CHECK, note="missing request header xt-validate-timestamp"),
        "AUTH_003": V(CHECK, note="missing request header xt-validate-recvwindow"),
        "AUTH_004": V(CHECK, note="bad request header xt-validate-recvwindow"),
        "AUTH_005": V(CHECK, note="missing request header xt-validate-algorithms"),
        "AUTH_006": V(CHECK, note="bad request header xt-validate-algorithms"),
        "AUTH_007": V(CHECK, note="missing request header xt-validate-signature"),
        "AUTH_101": V(KEY, EXPIRED, note="ApiKey does not exist"),
        "AUTH_102": V(KEY, note="ApiKey is not activated"),
        "AUTH_103": V(SECRET, note="Signature error"),
        "AUTH_104": V(IP, note="Unbound IP request"),
        "AUTH_105": V(CLOCK, note="outdated message"),
        "AUTH_106": V(PERM, note="Exceeded apikey permission"),
        "COMMON_001": V(KEY, RESTRICTED, note="The user does not exist"),
        "COMMON_002": V(MAINT, note="System busy, please try it later"),
        "SYMBOL_004": V(REGION, note="Symbol country disallow trading"),
        "ORDER_007": V(SUBACC, note="The sub-account has no transaction authority"),
        "DEPOSIT_001": V(MAINT, NO_ADDR, note="deposit not open"),
        "DEPOSIT_002": V(
            RESTRICTED,
            note="The current account security level is low, please bind any two security verifications before deposit",
        ),
        "DEPOSIT_005": V(NO_ADDR, note="address of offline wallet not found"),
        "DEPOSIT_006": V(NO_ADDR, note="no deposit address"),
        "DEPOSIT_007": V(NO_ADDR, note="Address is being generated, please try it later"),
        "DEPOSIT_008": V(MAINT, NO_ADDR, note="deposit not available"),
        "429": V(RATE, note="The request is too frequent"),
        "503": V(MAINT, note="Service unavailable, please try again later"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# Kraken (a key ending in "*" matches every code that starts with the rest)

KRAKEN = CodeTable(
    "kraken",
    source="https://docs.kraken.com/api/docs/guides/spot-errors",
    checked="not readable here: error strings from ccxt 4.5.90's kraken table and the fixtures; the nonce and "
    "permission meanings from Kraken's API-key guide (reference/realworld.md §2)",
    codes={
        "EAPI:Invalid key": V(KEY, SECRET, EXPIRED, note="unknown key, wrong secret or expired key"),
        "EAPI:Invalid signature": V(SECRET, note="Invalid signature"),
        "EAPI:Invalid nonce": V(NONCE_REUSED, NONCE_WINDOW, CLOCK, note="Invalid nonce (not increasing)"),
        "EAPI:Rate limit exceeded": V(RATE, note="Rate limit exceeded"),
        "EAPI:Feature disabled": V(CHECK, note="Feature disabled"),
        "EAPI:Bad request": V(CHECK, note="Bad request"),
        "EGeneral:Permission denied": V(PERM, IP, note="Permission denied (key permission, or its IP restriction)"),
        "EAccount:Invalid permissions": V(
            PERM,
            REGION,
            note="Invalid permissions (also '<asset> trading restricted for <region>')",
            refine=((r"restricted for|not available in|region|country", V(REGION)),),
        ),
        "EGeneral:Temporary lockout": V(RATE, RESTRICTED, note="Temporary lockout"),
        "EGeneral:Too many requests": V(RATE, note="Too many requests"),
        "EGeneral:Invalid arguments": V(CHECK, note="Invalid arguments"),
        "EGeneral:Internal error": V(MAINT, note="Internal error"),
        "EDatabase:Internal error": V(MAINT, note="Internal error"),
        "EService:Unavailable": V(MAINT, note="The matching engine or API is offline"),
        "EService:Busy": V(MAINT, note="Busy"),
        "EService:Deadline elapsed": V(MAINT, DOWN, note="Deadline elapsed"),
        "EService:Market in cancel_only mode": V(MAINT, note="Market in cancel_only mode"),
        "EService:Market in post_only mode": V(MAINT, note="Market in post_only mode"),
        "EAuth:Rate limit exceeded": V(RATE, note="Rate limit exceeded"),
        "EAuth:Account temporary disabled": V(RESTRICTED, note="Account temporary disabled"),
        "EAuth:Account unconfirmed": V(RESTRICTED, note="Account unconfirmed"),
        "ETrade:User Locked": V(RESTRICTED, note="User Locked"),
        "EService:*": V(MAINT),
        "EAuth:*": V(RESTRICTED),
        "EFunding:*": V(CHECK, NO_ADDR),
    },
)


# ---------------------------------------------------------------------------------------------------------
# BigONE

BIGONE = CodeTable(
    "bigone",
    source="https://open.big.one/docs/api_error_codes.html",
    checked="not readable here: codes and words from ccxt 4.5.90's bigone table; 10403 and the API-key scopes "
    "from BigONE's API-key setup page (reference/realworld.md §2)",
    codes={
        "40004": V(KEY, SECRET, EXPIRED, CLOCK, note="invalid jwt (any authentication problem)"),
        "10403": V(PERM, note="permission denied"),
        "40301": V(PERM, note="permission denied"),
        "10429": V(RATE, note="too many requests"),
        "40601": V(RESTRICTED, CHECK, note="resource is locked"),
        "10005": V(MAINT, note="internal error"),
        "10011": V(MAINT, note="system error"),
    },
)


# ---------------------------------------------------------------------------------------------------------
# BitMart

BITMART = CodeTable(
    "bitmart",
    source="https://developer-pro.bitmart.com/en/spot/#error-code-list",
    checked="not readable here: words and HTTP statuses from the comments in ccxt 4.5.70's bitmart table, which "
    "copies the page",
    codes={
        "30000": V(CHECK, note="Not found"),
        "30001": V(INCOMPLETE, note="Header X-BM-KEY is empty"),
        "30002": V(KEY, EXPIRED, note="Header X-BM-KEY not found"),
        "30003": V(FROZEN, EXPIRED, RESTRICTED, note="Header X-BM-KEY has frozen"),
        "30004": V(CHECK, note="Header X-BM-SIGN is empty"),
        "30005": V(SECRET, PASS, note="Header X-BM-SIGN is wrong (a wrong secret or a wrong memo)"),
        "30006": V(CHECK, note="Header X-BM-TIMESTAMP is empty"),
        "30007": V(CLOCK, note="Header X-BM-TIMESTAMP range. Within a minute"),
        "30008": V(CHECK, CLOCK, note="Header X-BM-TIMESTAMP invalid format"),
        "30010": V(IP, note="IP is forbidden. We recommend enabling IP whitelist for API trading."),
        "30011": V(EXPIRED, note="Header X-BM-KEY over expire time"),
        "30012": V(PERM, note="Header X-BM-KEY is forbidden to request it"),
        "30013": V(RATE, note="Request too many requests"),
        "30014": V(MAINT, note="Service unavailable"),
        "30016": V(MAINT, note="Service maintenance, the function is temporarily unavailable"),
        "30017": V(
            RATE, note="Your account request is temporarily rejected due to violation of current limiting rules"
        ),
        "30019": V(PERM, note="You do not have the permissions to perform this operation"),
        "53000": V(RESTRICTED, note="Your account is frozen due to security policies. Please contact customer service"),
        "53001": V(REGION, note="Your kyc country is restricted. Please contact customer service."),
        "53002": V(RESTRICTED, note="Your account has not yet completed the kyc advanced certification"),
        "53003": V(SUBACC, PERM, note="No permission, please contact the main account"),
        "53005": V(PERM, note="Don't have permission to access the interface"),
        "60020": V(RESTRICTED, note="Your account is not allowed to recharge"),
        "60026": V(SUBACC, note="Sub-account does not have permission to operate"),
        "60027": V(CHECK, SUBACC, note="Only supports sub-account calls"),
        "60029": V(
            RESTRICTED,
            SUBACC,
            note="The account is frozen by the master account, please contact the master account to unfreeze",
        ),
        "61006": V(CHECK, SUBACC, note="The sub-account api only supports organization accounts"),
    },
)


TABLES: tuple[CodeTable, ...] = (
    BINANCE,
    OKX,
    BYBIT,
    KUCOIN,
    BITGET,
    GATE,
    MEXC,
    HTX,
    XT,
    KRAKEN,
    BIGONE,
    BITMART,
)

#: exchange id -> its table
BY_EXCHANGE: Mapping[str, CodeTable] = MappingProxyType({t.exchange: t for t in TABLES})
#: exchange id -> the official error-code page its table was taken from
SOURCES: Mapping[str, str] = MappingProxyType({t.exchange: t.source for t in TABLES})
