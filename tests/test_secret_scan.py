"""Spotting credentials in free text, masking them, and reading a pasted key/secret."""

from __future__ import annotations

import pytest

from bot.diagnosis.formats import FORMATS
from bot.secret_scan import (
    credential_tokens,
    looks_like_secret,
    mask_credential_tokens,
    scan,
    single_value,
    split_credentials,
    split_pair,
)

KEY = "mx0vglBqh6abc12345"
SECRET = "5d7a1c0e9f8b4a3c2d1e0f9a8b7c6d5e"
OKX_KEY = "3f2b8c1e-9a7d-4e6f-8b5c-1d2e3f4a5b6c"
OKX_SECRET = "8B1F2C3D4E5F60718293A4B5C6D7E8F9"


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        f"my key is {KEY}",
        f"{KEY}:{SECRET}",
        "aB3dE5gH7jK9mN1pQ3sT5vX7",
        "AbCdEfGhIjKlMnOpQrStUvWxYz",  # letters only, mixed case, base64-like
        "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----",
        f"密钥：{SECRET}",  # full-width colon
        f"我的密钥是{SECRET}，请帮忙",
        f"ключ-{SECRET}",
        f"{SECRET}!",
        f"{SECRET}?",
        f"{SECRET}…",
        f"**{SECRET}**",
        f"`{SECRET}`",
        f"🔑{SECRET}",
        f"«{SECRET}»",
        f"这个key{SECRET}不行",
        f"key:\u200b{SECRET}",  # zero-width space
        "５ｄ７ａ１ｃ０ｅ９ｆ８ｂ４ａ３ｃ２ｄ１ｅ０ｆ９ａ８ｂ７ｃ６ｄ５ｅ",  # full-width characters
        "5d7a1c0e9f8b\n4a3c2d1e0f9a\n8b7c6d5e",  # split over lines
        "passphrase: Hufi2024",
        "密码：qwerty123",
        "пароль — Tr4d1ngB0t",
        "my OKX passphrase aB3dE5gH#1",
        "P@ssw0rd2024 is what I set",
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
        "tx 0x" + "ab12" * 16 + " still pending",
        "see https://www.mexc.com/user/openapi?tab=1234567890abcdef",
        "https://etherscan.io/tx/0x" + "cd34" * 16,
        "https://t.me/+AbCdEf12GhIj34Kl and t.me/joinchat/AAAAAEkQxs0rT5bLe6xKzg",
        "",
        "/check",
        "please help me " * 50,
        "12345678901234567890123456",
        "order id 5bd6e9286d99522a52e458de was filled",
        "订单号：1321003749386327552",
        "хэш транзакции: " + "ef56" * 16,
        "TxID: " + "9a8b" * 16,
        "kraken order OQCLML-BW3P3-BUCMWZ",
        "order C02__443776347957968896",
        "my password is wrong",
        "memo: 123456789",
        "API key created 2026-11-24T10:30:00Z",
        "file hufi_report_2026Q4_final_v2.xlsx",
        "TRON address TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        "2001:db8::1 and 203.0.113.7",
        "the key for ETH/USDT, Read-Only",
        "fetchDepositAddressesByNetwork raised ExchangeNotAvailable",
        "我用的是Binance的API，权限是Read Only",
        "ключ Binance не работает",
        "email john.doe1985@gmail.com",
    ],
)
def test_prose_ids_addresses_and_links_are_not_secrets(text: str) -> None:
    assert not looks_like_secret(text), scan(text)


@pytest.mark.parametrize(
    "text",
    [
        f"{KEY} {SECRET}",
        f"{KEY}:{SECRET}",
        f"{KEY}\n{SECRET}",
        f"API key: {KEY}\nSecret: {SECRET}",
        f"`{KEY}`, `{SECRET}`",
        f"{KEY}，{SECRET}",
        f'{{"apiKey": "{KEY}", "secret": "{SECRET}"}}',
        f"key:{KEY},{SECRET}",
    ],
)
def test_a_pair_is_split_whatever_the_separator(text: str) -> None:
    assert split_pair(text) == (KEY, SECRET)


def test_one_or_three_tokens_are_not_a_pair() -> None:
    assert split_pair(KEY) is None
    assert split_pair(f"{KEY} {SECRET} {SECRET}x") is None


def test_masking_replaces_only_credentials() -> None:
    text = f"failed for {KEY} while reading VIEW_SPOT_TRADING_HISTORY (code 700007)"
    masked = mask_credential_tokens(text, "***")
    assert KEY not in masked
    assert "VIEW_SPOT_TRADING_HISTORY" in masked and "700007" in masked


def test_masking_keeps_the_surroundings_in_any_script() -> None:
    masked = mask_credential_tokens(f"我的密钥是{SECRET}，请帮忙 🔑**{KEY}**!", "[X]")
    assert masked == "我的密钥是[X]，请帮忙 🔑**[X]**!"
    masked = mask_credential_tokens(f"ключ\u200b-{SECRET}…", "[X]")
    assert SECRET not in masked and masked.startswith("ключ") and masked.endswith("…")


def test_masking_a_pem_block_and_a_split_secret() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----"
    assert mask_credential_tokens(f"here:\n{pem}\nthanks", "[X]") == "here:\n[X]\nthanks"
    masked = mask_credential_tokens("secret:\n5d7a1c0e9f8b\n4a3c2d1e0f9a\n8b7c6d5e", "[X]")
    assert masked == "secret:\n[X]\n[X]\n[X]"


def test_tokens_in_order() -> None:
    assert credential_tokens(f"key {KEY} secret {SECRET}") == [KEY, SECRET]


def test_single_values_lose_labels_and_quotes_but_keep_inner_spaces() -> None:
    assert single_value(f"  API key: {KEY} ") == KEY
    assert single_value(f'"{SECRET}"') == SECRET
    assert single_value("pass phrase") == "pass phrase"


class TestSplitCredentials:
    def test_pair_in_order_is_known(self) -> None:
        result = split_credentials(f"{OKX_KEY} {OKX_SECRET}", FORMATS["okx"])
        assert (result.api_key, result.secret, result.key_known, result.is_pair) == (OKX_KEY, OKX_SECRET, True, True)

    def test_swapped_pair_is_put_right_by_the_formats(self) -> None:
        result = split_credentials(f"{OKX_SECRET}\n{OKX_KEY}", FORMATS["okx"])
        assert (result.api_key, result.secret, result.key_known) == (OKX_KEY, OKX_SECRET, True)

    def test_three_values_are_ambiguous(self) -> None:
        result = split_credentials(f"{OKX_KEY} {OKX_SECRET} Passw0rd#1", FORMATS["okx"])
        assert result.ambiguous and not result.key_known and result.api_key == "" and result.secret is None
        assert result.count == 3

    def test_a_secret_where_the_key_was_asked_is_not_the_key(self) -> None:
        result = split_credentials(OKX_SECRET, FORMATS["okx"])
        assert not result.key_known and result.api_key == ""

    def test_a_pair_that_fits_no_key_format_is_ambiguous(self) -> None:
        result = split_credentials(f"{OKX_SECRET} {SECRET}", FORMATS["okx"])
        assert not result.key_known

    def test_one_value_in_a_sentence_is_the_key(self) -> None:
        result = split_credentials(f"my key is {OKX_KEY}!", FORMATS["okx"])
        assert (result.api_key, result.secret, result.key_known) == (OKX_KEY, None, True)

    def test_no_credential_keeps_the_plain_answer(self) -> None:
        result = split_credentials("  hello world ")
        assert (result.api_key, result.secret, result.key_known, result.count) == ("hello world", None, True, 0)

    def test_key_with_a_pem_secret(self) -> None:
        pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ4x7uV0Ry3a6sT9bW1q\n-----END PRIVATE KEY-----"
        result = split_credentials(f"{'A1b2' * 16}\n{pem}", FORMATS["binance"])
        assert result.is_pair and result.api_key == "A1b2" * 16 and result.secret == pem

    def test_pem_with_two_other_values_is_ambiguous(self) -> None:
        pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ4x7uV0Ry3a6sT9bW1q\n-----END PRIVATE KEY-----"
        assert not split_credentials(f"{KEY} {SECRET}\n{pem}").key_known


def test_addresses_of_chains_without_a_prefix_are_quiet_only_when_named() -> None:
    """Solana, TON and IPFS CIDv0 look like random mixed-case runs: named as an address or wallet they are not
    credentials; bare, or after a credential word on the same line, they still are."""
    solana = "pxcLtFMzYEVKHDtimypAfh4TX24BWY1HVfhaKuvWRK72"
    ton = "UQSDxoz0TusWZFxlB7FatQfk7QkE4_gmBPPFKytt1EcKTgl-"
    cid = "QmDUirZBZYRaFgwVpnnzKoz76Mkvu2RxomSgKBxz2oDsje"
    for quiet in (
        f"my Solana wallet address: {solana}",
        f"адрес кошелька Solana: {solana}",
        f"我的Solana钱包地址是{solana}",
        f"TON wallet {ton}",
        f"ipfs cid {cid}",
    ):
        assert not looks_like_secret(quiet), quiet
    bybit_secret = "Ab3dEfGh" * 4 + "JkMn"  # 36 letters and digits, no 0, O, I or l: base58 too
    for loud in (
        solana,
        f"here: {ton}",
        f"my secret key address: {solana}",
        f"address {'mx0vgl' + 'Ab3dE' * 5 + 'x'}",
        f"my wallet address: {bybit_secret}",  # an exchange's secret shape stays a credential whatever names it
    ):
        assert looks_like_secret(loud), loud
