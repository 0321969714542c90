"""The per-exchange code tables: every entry names its source and documented words, and the lookups behind them
(Kraken's detailed error strings, an HTTP status attached to an error) hold up on odd input."""

from __future__ import annotations

import ccxt
import pytest

from bot.diagnosis import Cause, Permission, classify_error
from bot.diagnosis.exchange_codes import TABLES
from bot.diagnosis.rules import EXCHANGE_CODES, SOURCES

BALANCE = Permission.VIEW_ACCOUNT_BALANCE


def test_every_table_names_its_page_and_every_entry_its_words() -> None:
    assert {t.exchange for t in TABLES} == set(EXCHANGE_CODES) == set(SOURCES)
    for table in TABLES:
        assert table.source.startswith("https://") and table.checked
        for code, verdict in table.codes.items():
            assert verdict.causes and all(isinstance(c, Cause) for c in verdict.causes)
            assert Cause.UNKNOWN not in verdict.causes and Cause.OK not in verdict.causes, (table.exchange, code)
            assert code.endswith("*") or verdict.note, (table.exchange, code)


def test_a_kraken_error_with_details_is_read_by_its_code() -> None:
    error = ccxt.ExchangeError('kraken {"error":["EAccount:Invalid permissions:USDT trading restricted for US:TX"]}')
    diag = classify_error("kraken", BALANCE, error)
    assert (diag.cause, diag.code) == (Cause.REGION_BLOCKED, "EAccount:Invalid permissions")
    plain = classify_error("kraken", BALANCE, ccxt.ExchangeError('kraken {"error":["EAccount:Invalid permissions"]}'))
    assert plain.cause is Cause.PERMISSION_MISSING


class _Odd(ccxt.ExchangeError):
    @property
    def http_status(self) -> int:
        raise RuntimeError("broken")


@pytest.mark.parametrize("status", [True, "403", 403.0, -1, 1000, None, object()])
def test_an_odd_attached_status_is_ignored(status: object) -> None:
    error = ccxt.ExchangeError('bigone {"code":10777,"message":"x"}')
    error.http_status = status  # type: ignore[attr-defined]
    assert classify_error("bigone", BALANCE, error).cause is Cause.UNKNOWN


def test_a_broken_attached_status_never_breaks_the_diagnosis() -> None:
    assert classify_error("bigone", BALANCE, _Odd('bigone {"code":10777,"message":"x"}')).cause is Cause.UNKNOWN


@pytest.mark.parametrize(
    ("exchange", "text", "cause"),
    [
        # timeouts that ccxt files under a signature code are not a bad secret
        ("bitget", 'bitget {"code":"40010","msg":"Request timed out","data":null}', Cause.EXCHANGE_MAINTENANCE),
        # codes ccxt leaves as a bare ExchangeError still name their cause
        ("okx", 'okx {"code":"51733","data":[],"msg":"User is under risk control"}', Cause.RISK_CONTROL),
        ("okx", 'okx {"code":"59500","data":[],"msg":"Only the APIKey of the main account"}', Cause.SUBACCOUNT_NO_API),
        # words alone, on an exchange whose table doesn't know the code
        ("xt", '{"rc":1,"mc":"NEW_CODE","ma":["API key is frozen"]}', Cause.KEY_FROZEN),
        ("gate", '{"label":"NEW_LABEL","message":"Risk control triggered on this account"}', Cause.RISK_CONTROL),
        ("gate", '{"label":"NEW_LABEL","message":"Not available due to compliance"}', Cause.REGION_BLOCKED),
        ("mexc", '{"code":99999,"msg":"api key required"}', Cause.INCOMPLETE_CREDENTIALS),
    ],
)
def test_exchange_errors_with_known_meaning(exchange: str, text: str, cause: Cause) -> None:
    assert classify_error(exchange, BALANCE, ccxt.ExchangeError(text)).cause is cause
