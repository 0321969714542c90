"""Spotting credentials in free text, and splitting a pasted pair."""

from __future__ import annotations

import pytest

from bot.secret_scan import looks_like_secret, mask_credential_tokens, single_value, split_pair

KEY = "mx0vglBqh6abc12345"
SECRET = "5d7a1c0e9f8b4a3c2d1e0f9a8b7c6d5e"


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        f"my key is {KEY}",
        f"{KEY}:{SECRET}",
        "aB3dE5gH7jK9mN1pQ3sT5vX7",
        "AbCdEfGhIjKlMnOpQrStUvWxYz",  # letters only, mixed case, base64-like
        "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----",
        "12345678901234567890123456",
    ],
)
def test_credentials_are_spotted(text: str) -> None:
    assert looks_like_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "hello, my key does not work on MEXC",
        "VIEW_SPOT_TRADING_HISTORY is missing",
        "my deposit address is 0x8f3b2a1c9d4e5f60718293a4b5c6d7e8f9012345",
        "see https://www.mexc.com/user/openapi?tab=1234567890abcdef",
        "",
        "/check",
        "please help me " * 50,
    ],
)
def test_prose_ids_addresses_and_links_are_not_secrets(text: str) -> None:
    assert not looks_like_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        f"{KEY} {SECRET}",
        f"{KEY}:{SECRET}",
        f"{KEY}\n{SECRET}",
        f"API key: {KEY}\nSecret: {SECRET}",
        f"`{KEY}`, `{SECRET}`",
    ],
)
def test_a_pair_is_split_whatever_the_separator(text: str) -> None:
    assert split_pair(text) == (KEY, SECRET)


def test_one_or_three_tokens_are_not_a_pair() -> None:
    assert split_pair(KEY) is None
    assert split_pair(f"{KEY} {SECRET} {SECRET}x") is None


def test_single_values_lose_labels_and_quotes_but_keep_inner_spaces() -> None:
    assert single_value(f"  API key: {KEY} ") == KEY
    assert single_value(f'"{SECRET}"') == SECRET
    assert single_value("pass phrase") == "pass phrase"


def test_masking_replaces_only_credential_tokens() -> None:
    text = f"failed for {KEY} while reading VIEW_SPOT_TRADING_HISTORY (code 700007)"
    masked = mask_credential_tokens(text, "***")
    assert KEY not in masked
    assert "VIEW_SPOT_TRADING_HISTORY" in masked and "700007" in masked
