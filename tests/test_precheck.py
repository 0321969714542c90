"""Checks before any request: each rule has its own cause and code, and no detail repeats a credential."""

from __future__ import annotations

import base64
import secrets
import string
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis import Cause, precheck
from bot.exchanges.catalog import CATALOG, cex_ids
from bot.exchanges.credentials import Credentials


def hexs(n: int) -> str:
    return secrets.token_hex(n)[:n]


def alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def b64(nbytes: int) -> str:
    return base64.b64encode(secrets.token_bytes(nbytes)).decode()


PEM = "\n".join(
    [
        "-----BEGIN PRIVATE KEY-----",
        "MC4CAQAwBQYDK2VwBCIEIGkpz8vR0bz3w1gFZbq0d7yHkZ2Vt1h0X8r3Zb0",
        "-----END PRIVATE KEY-----",
    ]
)

#: The shape of an RSA-2048 private key in PEM form (what a Bybit or Binance "self-generated" key uses as secret).
RSA_PEM = "\n".join(["-----BEGIN PRIVATE KEY-----", *(b64(48) for _ in range(25)), "-----END PRIVATE KEY-----"])

MAL = Cause.MALFORMED_CREDENTIALS
INC = Cause.INCOMPLETE_CREDENTIALS
SWAP = Cause.KEY_SECRET_SWAPPED
FORM = Cause.HUFI_FORM_LIMIT

#: A plausible good credential set per exchange (shapes as issued).
GOOD: dict[str, Credentials] = {
    "binance": Credentials(alnum(64), alnum(64)),
    "okx": Credentials(str(uuid.uuid4()), hexs(32).upper(), "Passphrase1"),
    "kucoin": Credentials(hexs(24), str(uuid.uuid4()), "passphrase7"),
    "bitget": Credentials("bg_" + hexs(32), hexs(64), "passphrase"),
    "gate": Credentials(hexs(32), hexs(64)),
    "mexc": Credentials("mx0vgl" + alnum(26), hexs(32)),
    "bybit": Credentials(alnum(18), alnum(36)),
    "kraken": Credentials(b64(42), b64(64)),
    "htx": Credentials(f"{hexs(8)}-{hexs(8)}-{hexs(8)}-{hexs(5)}", f"{hexs(8)}-{hexs(8)}-{hexs(8)}-{hexs(5)}"),
    "xt": Credentials(str(uuid.uuid4()), hexs(40)),
    "bigone": Credentials(str(uuid.uuid4()), alnum(64)),
    "bitmart": Credentials(hexs(40), hexs(64), memo="my memo 1"),
}


def assert_no_credential(detail: str, creds: Credentials) -> None:
    for value in creds.secrets():
        for part in {value, value.strip()} - {""}:
            assert part not in detail


def test_every_cex_has_a_good_example() -> None:
    assert set(cex_ids()) == set(GOOD)


@pytest.mark.parametrize("exchange", sorted(GOOD))
def test_good_credentials_pass(exchange: str) -> None:
    assert precheck(CATALOG[exchange], GOOD[exchange]) is None


@pytest.mark.parametrize("exchange", sorted(GOOD))
def test_surrounding_whitespace_is_trimmed_not_rejected(exchange: str) -> None:
    c = GOOD[exchange]
    padded = Credentials(f"  {c.api_key}\n", f"\t{c.secret} ", c.passphrase, c.memo)
    assert precheck(CATALOG[exchange], padded) is None


def test_pem_secrets_allowed_where_the_exchange_accepts_them() -> None:
    assert precheck(CATALOG["binance"], Credentials(alnum(64), PEM)) is None
    assert precheck(CATALOG["bybit"], Credentials(alnum(18), PEM)) is None
    d = precheck(CATALOG["okx"], Credentials(str(uuid.uuid4()), PEM, "pw"))
    assert d is not None and d.code == "secret_pem_unsupported"


@pytest.mark.parametrize(
    ("exchange", "creds", "cause", "code"),
    [
        ("gate", Credentials("", hexs(64)), INC, "api_key_missing"),
        ("gate", Credentials(hexs(32), "   "), INC, "secret_missing"),
        ("okx", Credentials(str(uuid.uuid4()), hexs(32), None), INC, "passphrase_missing"),
        ("kucoin", Credentials(hexs(24), str(uuid.uuid4()), "  "), INC, "passphrase_missing"),
        ("bitmart", Credentials(hexs(40), hexs(64)), INC, "memo_missing"),
        ("gate", Credentials(hexs(16) + " " + hexs(16), hexs(64)), MAL, "whitespace_inside"),
        ("gate", Credentials(hexs(32), hexs(32) + "\n" + hexs(32)), MAL, "whitespace_inside"),
        (
            "okx",
            Credentials(str(uuid.uuid4()), hexs(32), "pass word"),
            MAL,
            "whitespace_inside",
        ),
        ("bitmart", Credentials(hexs(40), hexs(64), memo="a\nb"), MAL, "whitespace_inside"),
        (
            "kucoin",
            Credentials(hexs(24), str(uuid.uuid4()), "abc12"),
            FORM,
            "hufi_passphrase_too_short",
        ),
        ("gate", Credentials("k" * 201, hexs(64)), FORM, "hufi_api_key_too_long"),
        ("binance", Credentials("A" * 64, "A" * 64), SWAP, "key_equals_secret"),
        ("okx", Credentials(hexs(32), str(uuid.uuid4()), "pw"), SWAP, "key_secret_swapped"),
        (
            "kucoin",
            Credentials(str(uuid.uuid4()), hexs(24), "passphrase"),
            SWAP,
            "key_secret_swapped",
        ),
        ("gate", Credentials(hexs(64), hexs(32)), SWAP, "key_secret_swapped"),
        ("kraken", Credentials(b64(64), b64(42)), SWAP, "key_secret_swapped"),
        ("mexc", Credentials(hexs(32), "mx0vgl" + alnum(26)), SWAP, "key_secret_swapped"),
        ("gate", Credentials(hexs(6) + "****" + hexs(6), hexs(64)), MAL, "masked_value"),
        ("binance", Credentials(alnum(64), alnum(20) + "…"), MAL, "masked_value"),
        ("binance", Credentials(alnum(63) + "я", alnum(64)), MAL, "unexpected_characters"),
        ("binance", Credentials(alnum(63) + "\u200b", alnum(64)), MAL, "unexpected_characters"),
        ("kraken", Credentials(b64(42), b64(64)[:-1]), MAL, "secret_not_base64"),
        ("kraken", Credentials(b64(42), b64(64)[:-4] + "!!!!"), MAL, "secret_not_base64"),
        ("gate", Credentials(hexs(31) + "z", hexs(64)), MAL, "key_alphabet"),
        ("okx", Credentials(str(uuid.uuid4()), hexs(31) + "g", "pw"), MAL, "secret_alphabet"),
        ("binance", Credentials(alnum(63), alnum(64)), MAL, "key_length"),
        ("kucoin", Credentials(hexs(23), str(uuid.uuid4()), "passphrase"), MAL, "key_length"),
        ("htx", Credentials("abc-def", f"{hexs(8)}-{hexs(8)}"), MAL, "key_length"),
        ("okx", Credentials(str(uuid.uuid4()), hexs(32), "P" + hexs(31)), None, None),
    ],
)
def test_rules(exchange: str, creds: Credentials, cause: Cause | None, code: str | None) -> None:
    d = precheck(CATALOG[exchange], creds)
    if cause is None:
        assert d is None
        return
    assert d is not None, "expected a diagnosis"
    assert (d.cause, d.code) == (cause, code), d
    assert d.detail
    assert_no_credential(d.detail, creds)


@pytest.mark.parametrize(
    ("exchange", "creds", "code"),
    [
        ("bybit", Credentials(alnum(18), RSA_PEM), "hufi_secret_too_long"),
        ("gate", Credentials(hexs(101), hexs(64)), "hufi_api_key_too_long"),
        ("xt", Credentials(str(uuid.uuid4()), alnum(201)), "hufi_secret_too_long"),
        ("bitmart", Credentials(hexs(40), hexs(64), memo="m" * 33), "hufi_memo_too_long"),
        ("kucoin", Credentials(hexs(24), str(uuid.uuid4()), "p" * 33), "hufi_passphrase_too_long"),
        ("kucoin", Credentials(hexs(24), str(uuid.uuid4()), "pass word7"), "hufi_passphrase_whitespace"),
    ],
)
def test_hufi_form_refuses_what_the_exchange_may_accept(exchange: str, creds: Credentials, code: str) -> None:
    d = precheck(CATALOG[exchange], creds)
    assert d is not None and (d.cause, d.code) == (FORM, code), d
    assert "HuFi's key form refuses" in d.detail and "HuFi's form will not" in d.detail
    assert_no_credential(d.detail, creds)


def test_hufi_form_limits_are_counted_after_trimming_and_include_the_bounds() -> None:
    fits = Credentials(" " + hexs(100) + "\n", alnum(200) + "  ", memo=" " + "m" * 32 + " ")
    assert precheck(CATALOG["bitmart"], fits) is None
    assert precheck(CATALOG["kucoin"], Credentials(hexs(24), str(uuid.uuid4()), " " + "p" * 32 + " ")) is None
    assert precheck(CATALOG["kucoin"], Credentials(hexs(24), str(uuid.uuid4()), "p" * 7)) is None


def test_hufi_form_applies_only_to_exchanges_hufi_lists() -> None:
    # Binance isn't on HuFi: its own limits apply, and an RSA secret is a valid Binance secret.
    assert not CATALOG["binance"].hufi_listed
    assert precheck(CATALOG["binance"], Credentials(alnum(64), RSA_PEM)) is None


def test_passphrase_pasted_as_secret() -> None:
    key, secret = str(uuid.uuid4()), hexs(32)
    d = precheck(CATALOG["okx"], Credentials(key, secret, secret))
    assert d is not None and d.cause is Cause.PASSPHRASE_WRONG and d.code == "passphrase_equals_secret"
    assert secret not in d.detail


def test_dex_needs_no_key() -> None:
    d = precheck(CATALOG["hyperliquid"], Credentials("", ""))
    assert d is not None and d.cause is Cause.NO_KEY_NEEDED


def test_unsure_exchanges_are_not_rejected_on_shape() -> None:
    # xt, bigone, htx, bitmart: only the alphabet and a minimum length are known; odd but plausible shapes pass.
    for exchange in ("xt", "bigone", "htx", "bitmart"):
        creds = Credentials(alnum(30), alnum(50), memo="m" if exchange == "bitmart" else None)
        assert precheck(CATALOG[exchange], creds) is None, exchange


@settings(max_examples=150, deadline=None)
@given(
    exchange=st.sampled_from(sorted(GOOD)),
    # "§7" never appears in a detail, so a hit can only be the credential itself.
    key=st.text(min_size=6, max_size=80).map(lambda s: s + "§7"),
    secret=st.text(min_size=6, max_size=120).map(lambda s: "§7" + s),
    extra=st.one_of(st.none(), st.text(min_size=6, max_size=40).map(lambda s: s[:3] + "§7" + s[3:])),
)
def test_no_detail_ever_contains_a_credential(exchange: str, key: str, secret: str, extra: str | None) -> None:
    creds = Credentials(key, secret, passphrase=extra, memo=extra)
    d = precheck(CATALOG[exchange], creds)
    if d is None:
        return
    for value in (key, secret, extra):
        if value and value.strip() and len(value.strip()) >= 8:
            assert value.strip() not in d.detail
            assert value.strip() not in (d.code or "")


KUCOIN_KEY = hexs(24)
PRECHECK_CASES = [
    ("okx", Credentials(str(uuid.uuid4()), "", None)),
    ("bitmart", Credentials(hexs(40), hexs(64), memo="a\nb")),
    ("kucoin", Credentials(hexs(24), str(uuid.uuid4()), "abc12")),
    ("kucoin", Credentials(hexs(24), str(uuid.uuid4()), "p" * 33)),
    ("kucoin", Credentials(hexs(24), str(uuid.uuid4()), "pass word7")),
    ("gate", Credentials("k" * 201, hexs(64))),
    ("binance", Credentials("A" * 64, "A" * 64)),
    ("okx", Credentials(hexs(32), str(uuid.uuid4()), "pw")),
    ("kucoin", Credentials(KUCOIN_KEY, str(uuid.uuid4()), KUCOIN_KEY)),
    ("gate", Credentials(hexs(6) + "****" + hexs(6), hexs(64))),
    ("binance", Credentials(alnum(63) + "я", alnum(64))),
    ("kraken", Credentials(b64(42), b64(64)[:-1])),
    ("gate", Credentials(hexs(31) + "z", hexs(64))),
    ("binance", Credentials(alnum(63), alnum(64))),
    ("htx", Credentials("abc-def", f"{hexs(8)}-{hexs(8)}")),
    ("mexc", Credentials("mx0vgl" + alnum(12), alnum(5))),
    ("gate", Credentials(hexs(32), PEM)),
    ("bybit", Credentials(alnum(18), RSA_PEM)),
    ("okx", Credentials(str(uuid.uuid4()), hexs(32), "p" * 33)),
    ("binance", Credentials("A" * 201, alnum(64))),
]


@pytest.mark.parametrize(("exchange", "creds"), PRECHECK_CASES)
def test_every_pre_check_is_said_in_every_language(exchange: str, creds: Credentials) -> None:
    """The user reads what a pre-check found in their language (the chat's verdict, the Mini App's form), with
    the numbers and field names of the detail support reads in English, and never a credential."""
    from bot.advice.prechecks import precheck_text
    from bot.i18n import LANGUAGES, format_number

    d = precheck(CATALOG[exchange], creds)
    assert d is not None and dict(d.args).get("kind"), d
    english = precheck_text(d, exchange, "en")
    assert english and "{" not in english
    numbers = [value for name, value in d.args if name in ("length", "max", "min", "n")]
    for number in numbers:
        assert format_number(int(number), "en") in english and number in d.detail, (number, english, d.detail)
    for language in LANGUAGES:
        said = precheck_text(d, exchange, language)
        assert said and "{" not in said, (language, said)
        assert language == "en" or said != english, f"{language}: {d.code} is not translated"
        assert_no_credential(said, creds)
        assert_no_credential(str(d.args), creds)


def test_a_pre_check_diagnosis_keeps_its_facts_when_stored() -> None:
    from bot.diagnosis.model import Diagnosis

    d = precheck(CATALOG["kucoin"], Credentials(hexs(24), str(uuid.uuid4()), "abc12"))
    assert d is not None
    assert Diagnosis.from_dict(d.to_dict()) == d
    assert "args" not in Diagnosis(Cause.KEY_INVALID, code="10003").to_dict(), "a reply's diagnosis stores as before"


def test_every_kind_of_pre_check_has_its_sentence() -> None:
    """Each entry of the table renders, the ones no exchange's format reaches today too (a range of lengths, a
    minimum length HuFi's form does not check first), and the cases above reach all the others."""
    from bot.advice.prechecks import precheck_text
    from bot.advice.texts.en import TEXTS
    from bot.diagnosis.model import Diagnosis
    from bot.i18n import LANGUAGES

    kinds = {kind for kind in TEXTS["prechecks"] if not kind.startswith("field_")}
    reached = {dict(precheck(CATALOG[e], c).args)["kind"] for e, c in PRECHECK_CASES}  # type: ignore[union-attr]
    assert kinds - reached == {"length_range", "too_short"}
    values = {"field": "memo", "fields": "api_key,memo", "other": "secret", "length": "3", "min": "8", "max": "9"}
    for kind in kinds:
        d = Diagnosis(Cause.MALFORMED_CREDENTIALS, code="x", args=(("kind", kind), *values.items(), ("n", "5")))
        for language in LANGUAGES:
            said = precheck_text(d, "bitmart", language)
            assert said and "{" not in said, (kind, language)
