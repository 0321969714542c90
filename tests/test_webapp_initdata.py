"""initData validation against Telegram's documented algorithm, with vectors made independently of our code.

Algorithm: https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.webapp.initdata import InitDataError, WebAppInitData, secret_key, sign_init_data, validate_init_data

NOW = 1_767_225_600 + 30  # 30 s after the fixed vector was "opened"

# A vector computed once with openssl, not with Python, and written down here:
#   KEY=$(printf '%s' "$TOKEN" | openssl dgst -sha256 -mac HMAC -macopt key:WebAppData -hex)
#   printf 'auth_date=1767225600\nquery_id=AAQ-fixed-vector\nuser={"id":424242,"first_name":"Ada",...}' \
#     | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -hex
FIXED_TOKEN = "7000000001:AAF-webapp-fixed-vector-token-0000000"
FIXED_HASH = "3e6441ff694f43678b598c6a163c14dbaf5128b9ff9633a8654ab2d7c5e84bed"
FIXED_INIT_DATA = (
    "query_id=AAQ-fixed-vector"
    "&user=%7B%22id%22%3A424242%2C%22first_name%22%3A%22Ada%22%2C%22language_code%22%3A%22en%22%7D"
    "&auth_date=1767225600"
    f"&hash={FIXED_HASH}"
)

# A vector published by another implementation (Telegram-Mini-Apps/init-data-golang, validate_test.go:
# https://github.com/Telegram-Mini-Apps/init-data-golang/blob/master/validate_test.go), signed with its test token.
PUBLISHED_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
PUBLISHED_INIT_DATA = (
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C"
    "%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C"
    "%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
)


def reference_sign(pairs: list[tuple[str, str]], token: str) -> str:
    """Telegram's algorithm written out again from the documentation, independent of bot.webapp."""
    key = hmac.HMAC(b"WebAppData", token.encode("utf-8"), "sha256").digest()
    lines = sorted(f"{k}={v}" for k, v in pairs)
    digest = hmac.HMAC(key, "\n".join(lines).encode("utf-8"), "sha256").hexdigest()
    encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    return f"{encoded}&hash={digest}"


def user_json(user_id: int = 42, **more: object) -> str:
    return json.dumps({"id": user_id, "first_name": "Test", **more}, separators=(",", ":"))


def signed(token: str = FIXED_TOKEN, *, auth_date: int = NOW - 5, user: str | None = None, **extra: str) -> str:
    pairs = [("auth_date", str(auth_date)), ("user", user if user is not None else user_json()), *extra.items()]
    return reference_sign(pairs, token)


def reason(raw: object, token: str = FIXED_TOKEN, now: float = NOW) -> str:
    with pytest.raises(InitDataError) as caught:
        validate_init_data(raw, token, now=now)  # type: ignore[arg-type]
    return caught.value.reason


# -- known vectors ---------------------------------------------------------------------------------------------
def test_the_fixed_vector_validates_and_yields_the_user() -> None:
    data = validate_init_data(FIXED_INIT_DATA, FIXED_TOKEN, now=NOW)
    assert isinstance(data, WebAppInitData)
    assert (data.user_id, data.auth_date, data.hash) == (424242, 1767225600, FIXED_HASH)
    assert data.language_code == "en"
    assert data.query_id == "AAQ-fixed-vector"


def test_the_vector_published_by_another_implementation_validates() -> None:
    data = validate_init_data(PUBLISHED_INIT_DATA, PUBLISHED_TOKEN, now=1662771648 + 60)
    assert data.user_id == 279058397
    assert data.language_code == "ru"
    assert reason(PUBLISHED_INIT_DATA, PUBLISHED_TOKEN, now=1662771648 + 3601) == "stale"
    assert reason(PUBLISHED_INIT_DATA, FIXED_TOKEN, now=1662771648 + 60) == "bad_hash"


def test_our_signer_matches_the_reference_and_the_fixed_vector() -> None:
    user = {"id": 424242, "first_name": "Ada", "language_code": "en"}
    ours = sign_init_data(user, FIXED_TOKEN, auth_date=1767225600, extra={"query_id": "AAQ-fixed-vector"})
    assert ours.endswith(f"hash={FIXED_HASH}")
    assert validate_init_data(ours, FIXED_TOKEN, now=NOW).user_id == 424242


@settings(max_examples=60, deadline=None)
@given(
    user_id=st.integers(min_value=1, max_value=2**52),
    name=st.text(min_size=1, max_size=30),
    extra=st.dictionaries(
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda k: k not in {"hash", "auth_date", "user"}),
        st.text(max_size=40),
        max_size=4,
    ),
    age=st.integers(min_value=0, max_value=3600),
)
def test_any_reference_signed_init_data_validates(user_id: int, name: str, extra: dict[str, str], age: int) -> None:
    raw = signed(auth_date=NOW - age, user=user_json(user_id, first_name=name), **extra)
    data = validate_init_data(raw, FIXED_TOKEN, now=NOW)
    assert data.user_id == user_id
    assert dict(data.fields) == {"auth_date": str(NOW - age), "user": user_json(user_id, first_name=name), **extra}


# -- what is refused -------------------------------------------------------------------------------------------
def test_a_wrong_hash_is_refused() -> None:
    last = FIXED_HASH[-1]
    flipped = FIXED_INIT_DATA[:-1] + ("0" if last != "0" else "1")
    assert reason(flipped) == "bad_hash"
    assert reason(FIXED_INIT_DATA.replace(FIXED_HASH, FIXED_HASH.upper())) == "bad_hash"
    assert reason(FIXED_INIT_DATA.replace(FIXED_HASH, FIXED_HASH[:-2])) == "bad_hash"


def test_another_bots_token_is_refused() -> None:
    assert reason(FIXED_INIT_DATA, "7000000002:AAF-webapp-fixed-vector-token-0000000") == "bad_hash"


def test_a_tampered_user_is_refused() -> None:
    tampered = FIXED_INIT_DATA.replace("424242", "424243")
    assert reason(tampered) == "bad_hash"
    added = FIXED_INIT_DATA.replace("&auth_date", "&chat_type=private&auth_date")
    assert reason(added) == "bad_hash"


def test_a_missing_hash_is_refused() -> None:
    without = FIXED_INIT_DATA.rsplit("&hash=", 1)[0]
    assert reason(without) == "missing_hash"


def test_duplicated_fields_are_refused_even_when_one_copy_is_signed() -> None:
    # The signed copy first, an attacker's second copy after it: a dict-based parser would keep the last one.
    raw = signed(user=user_json(42)) + "&user=" + quote(user_json(1), safe="")
    assert reason(raw) == "duplicate_field"
    assert reason(FIXED_INIT_DATA + "&hash=" + FIXED_HASH) == "duplicate_field"


def test_a_stale_auth_date_is_refused_and_an_hour_is_the_limit() -> None:
    assert validate_init_data(signed(auth_date=NOW - 3600), FIXED_TOKEN, now=NOW).user_id == 42
    assert reason(signed(auth_date=NOW - 3601)) == "stale"
    assert reason(FIXED_INIT_DATA, now=1767225600 + 86_400) == "stale"


def test_an_auth_date_from_the_future_is_refused() -> None:
    assert validate_init_data(signed(auth_date=NOW + 60), FIXED_TOKEN, now=NOW).user_id == 42
    assert reason(signed(auth_date=NOW + 3600)) == "bad_auth_date"


def test_a_signed_init_data_without_a_usable_user_is_refused() -> None:
    assert reason(reference_sign([("auth_date", str(NOW))], FIXED_TOKEN)) == "no_user"
    for user in ('{"id":"42"}', '{"id":true}', '{"id":-5}', "[42]", "not json", '{"first_name":"x"}'):
        assert reason(signed(user=user)) == "no_user", user
    assert reason(reference_sign([("auth_date", "soon"), ("user", user_json())], FIXED_TOKEN)) == "bad_auth_date"


@pytest.mark.parametrize("raw", ["", None, 42, ["auth_date=1"], "no-equals-sign", "a=%ff%fe", "x" * 9000])
def test_garbage_is_refused_without_echoing_it(raw: object) -> None:
    with pytest.raises(InitDataError) as caught:
        validate_init_data(raw, FIXED_TOKEN, now=NOW)  # type: ignore[arg-type]
    assert caught.value.reason in {"missing", "malformed", "too_long", "missing_hash"}
    if isinstance(raw, str) and raw:
        assert raw not in str(caught.value)


def test_the_secret_key_is_derived_as_documented() -> None:
    # HMAC-SHA256 with the key "WebAppData" and the token as the message (not the other way round).
    expected = "25f6e0631d02b8f22e4efddac1980f4ea82e1b476c258dab83dd761b0800c685"  # openssl, see above
    assert secret_key(FIXED_TOKEN).hex() == expected
    assert hmac.new(FIXED_TOKEN.encode(), b"WebAppData", hashlib.sha256).hexdigest() != expected
