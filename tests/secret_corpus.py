"""A generated corpus for the secret scanner: hostile texts (credentials in every surrounding users produce) and
ordinary chat (no credential), both deterministic (fixed seed).

Hostile: each exchange's credential formats (keys, secrets, shaped passphrases and memos, PEM private keys) x the
surroundings real users type: Chinese with full-width punctuation, Russian, Markdown, emoji, quotes, trailing
``!?…``, labels, pairs, JSON/env snippets, a secret split over short lines, invisible characters. Each case
lists the planted values that must not get through.

Ordinary: real-looking chat in English, Russian and Chinese about keys, deposits and orders, with ETH addresses,
transaction hashes, order ids, URLs, Telegram links, numbers, dates, IPs, error texts. Categories let the
false-alarm rate be reported per kind of message.

Formats follow the exchanges' docs (see SHAPES in bot/secret_scan.py and bot/diagnosis/formats.py) and the fakes
in bot/sandbox/exchanges; BigONE's and XT's secrets are not documented, so two plausible shapes are used.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SEED = 20261214

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True, slots=True)
class Hostile:
    text: str
    planted: tuple[str, ...]  # values of which no 12-character piece (or the whole, if shorter) may get through
    exchange: str
    kind: str  # key, secret, passphrase, memo, pair, triple, pem, split
    surrounding: str


@dataclass(frozen=True, slots=True)
class Ordinary:
    text: str
    category: str
    language: str


# -- credentials ------------------------------------------------------------------------------------------------


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _b64(rng: random.Random, n_bytes: int) -> str:
    return base64.b64encode(rng.randbytes(n_bytes)).decode()


def _okx_passphrase(rng: random.Random) -> str:
    """OKX: 8-32 characters with upper and lower case, a digit and a special character."""
    n = rng.randint(8, 20)
    chars = [rng.choice(string.ascii_uppercase), rng.choice(string.ascii_lowercase), rng.choice(string.digits)]
    chars += [rng.choice(ALNUM) for _ in range(n - 4)]
    rng.shuffle(chars)
    chars.insert(rng.randint(1, len(chars) - 1), rng.choice("!@#$%^&*"))
    return "".join(chars)


def _random_passphrase(rng: random.Random) -> str:
    """A generated passphrase (KuCoin 7-32, Bitget 8-32 letters and digits), as password managers make them."""
    while True:
        value = _r(rng, ALNUM, rng.randint(12, 24))
        if any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value):
            return value


def _htx(rng: random.Random) -> str:
    first = _r(rng, LOWER_ALNUM, 10) if rng.random() < 0.5 else _r(rng, HEX, 8)
    return "-".join((first, _r(rng, HEX, 8), _r(rng, HEX, 8), _r(rng, HEX, 5)))


def ed25519_pem(rng: random.Random) -> str:
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def rsa_like_pem(rng: random.Random, header: str = "PRIVATE KEY") -> str:
    """A PEM block the size of a 2048-bit RSA private key (random body: the armour and layout are what count)."""
    body = base64.b64encode(b"\x30\x82\x04\xbd" + rng.randbytes(1213)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {header}-----\n" + "\n".join(lines) + f"\n-----END {header}-----\n"


Gen = Callable[[random.Random], str]

#: exchange -> credential kind -> generator. Passphrases and memos only where they have a shape.
FORMATS: dict[str, dict[str, list[Gen]]] = {
    "binance": {"key": [lambda r: _r(r, ALNUM, 64)], "secret": [lambda r: _r(r, ALNUM, 64)]},
    "bigone": {
        "key": [_uuid, lambda r: _r(r, HEX, 32)],
        "secret": [lambda r: _r(r, ALNUM, 64), lambda r: base64.urlsafe_b64encode(r.randbytes(32)).decode()],
    },
    "bitget": {
        "key": [lambda r: "bg_" + _r(r, HEX, 32)],
        "secret": [lambda r: _r(r, HEX, 64)],
        "passphrase": [_random_passphrase],
    },
    "bitmart": {
        "key": [lambda r: _r(r, HEX, 40)],
        "secret": [lambda r: _r(r, HEX, 64)],
        "memo": [_random_passphrase],
    },
    "bybit": {"key": [lambda r: _r(r, ALNUM, 18)], "secret": [lambda r: _r(r, ALNUM, 36)]},
    "gate": {"key": [lambda r: _r(r, HEX, 32)], "secret": [lambda r: _r(r, HEX, 64)]},
    "htx": {"key": [_htx], "secret": [_htx]},
    "kraken": {"key": [lambda r: _b64(r, 42)], "secret": [lambda r: _b64(r, 64)]},
    "kucoin": {
        "key": [lambda r: _r(r, HEX, 24)],
        "secret": [_uuid],
        "passphrase": [_random_passphrase, _okx_passphrase],
    },
    "mexc": {"key": [lambda r: "mx0v" + _r(r, ALNUM, 14)], "secret": [lambda r: _r(r, HEX, 32)]},
    "okx": {
        "key": [_uuid],
        "secret": [lambda r: _r(r, HEX.upper(), 32)],
        "passphrase": [_okx_passphrase],
    },
    "xt": {"key": [_uuid], "secret": [lambda r: _r(r, HEX, 40)]},
}
#: exchanges whose secret may be a PEM private key (RSA or Ed25519)
PEM_EXCHANGES = ("binance", "bybit")

# -- surroundings -----------------------------------------------------------------------------------------------

#: one value: {s}
SINGLE: dict[str, str] = {
    "bare": "{s}",
    "en_sentence": "my key is {s} please check",
    "en_exclaim": "here it is: {s}!",
    "en_question": "is this the right one? {s}?",
    "en_ellipsis": "{s}…",
    "en_period": "The secret is {s}.",
    "en_comma": "{s}, thanks a lot",
    "en_paren": "key ({s}) is not working",
    "en_brackets": "[{s}]",
    "en_angle": "<{s}>",
    "md_bold": "**{s}**",
    "md_italic": "_{s}_",
    "md_under": "__{s}__",
    "md_strike": "~~{s}~~",
    "md_spoiler": "||{s}||",
    "md_code": "`{s}`",
    "md_block": "```\n{s}\n```",
    "md_quote": "> {s}",
    "md_list": "- {s}",
    "quote_double": '"{s}"',
    "quote_single": "'{s}'",
    "quote_curly": "“{s}”",
    "quote_guillemets": "«{s}»",
    "quote_cjk": "「{s}」",
    "emoji_before": "🔑{s}",
    "emoji_after": "{s}🔑",
    "emoji_both": "👉{s}👈 🙏",
    "zh_colon": "密钥：{s}",
    "zh_sentence": "我的密钥是{s}，请帮忙",
    "zh_brackets": "API密钥【{s}】无效",
    "zh_end": "秘钥:{s}。谢谢！",
    "zh_question": "这个key{s}为什么不行？",
    "zh_paren": "（{s}）",
    "zh_book": "《{s}》",
    "zh_fullwidth_excl": "{s}！！",
    "ru_dash": "ключ-{s}",
    "ru_sentence": "мой ключ: {s}!",
    "ru_dash_long": "вот секрет — {s}…",
    "ru_quotes": "ключ «{s}» не работает",
    "ru_glued": "Ключ:{s}?",
    "ru_word_glued": "ключ{s}спасибо",
    "assign": "apiKey={s}",
    "query": "https://example.com/cb?apiKey={s}&x=1",
    "env": "API_SECRET={s}",
    "json": '{{"secret":"{s}"}}',
    "yaml": "secret: '{s}'",
    "semicolon": "key;{s};",
    "pipe": "|{s}|",
    "fullwidth_colon_en": "secret：{s}",
    "nbsp": "key\u00a0{s}\u00a0ok",
    "zero_width": "key:\u200b{s}\u200b",
    "rtl_mark": "\u200f{s}\u200e",
    "newline_label": "secret\n{s}\nthanks",
    "tab": "key\t{s}\t",
    "hashtag": "#{s}",
    "at": "@{s}",
    "trailing_q_zh": "{s}？",
    "trailing_dots": "{s}...",
}

#: two or three values: {a} {b} {c}
MULTI: dict[str, str] = {
    "space": "{a} {b}",
    "colon": "{a}:{b}",
    "newline": "{a}\n{b}",
    "labelled_en": "API key: {a}\nSecret: {b}",
    "labelled_zh": "API Key：{a}\nSecret Key：{b}",
    "labelled_ru": "ключ — {a}, секрет — {b}",
    "json": '{{"apiKey": "{a}", "secret": "{b}"}}',
    "comma_zh": "{a}，{b}",
    "markdown": "**{a}**\n`{b}`",
    "triple_space": "{a} {b} {c}",
    "triple_lines": "{a}\n{b}\n{c}",
    "triple_labelled": "key: {a}\nsecret: {b}\npassphrase: {c}",
}

#: a user-chosen passphrase or memo (no shape of its own) with the word that names it
LABELLED: dict[str, str] = {
    "en_passphrase": "passphrase: {s}",
    "en_password_is": "my API password is {s}",
    "en_memo": "memo = {s}",
    "zh_password": "密码：{s}",
    "zh_password_is": "API密码是{s}，谢谢",
    "zh_memo": "备注：{s}",
    "ru_password": "пароль: {s}",
    "ru_phrase": "кодовая фраза — {s}",
    "ru_memo": "мемо {s}!",
}
USER_CHOSEN = ("hufi2024key", "Hufi2024", "mymemo01", "qwerty123", "Tr4d1ngB0t", "kucoin_pass_77", "123456789")

#: a secret split over short lines
SPLIT: dict[str, str] = {
    "lines": "{lines}",
    "label_then_lines": "secret:\n{lines}",
    "zh_label_lines": "密钥如下：\n{lines}\n谢谢",
    "quoted_lines": "> " + "{qlines}",
}


def _split_lines(rng: random.Random, value: str) -> list[str]:
    parts: list[str] = []
    i = 0
    while i < len(value):
        n = rng.randint(8, 16)
        parts.append(value[i : i + n])
        i += n
    if len(parts) > 1 and len(parts[-1]) < 4:
        last = parts.pop()
        parts[-1] += last
    return parts


def _pieces(value: str) -> tuple[str, ...]:
    return (value,)


def hostile_corpus(instances: int = 2) -> list[Hostile]:
    """Every format x every surrounding, `instances` random credentials each; plus pairs, split lines and PEM."""
    rng = random.Random(SEED)
    out: list[Hostile] = []
    for exchange, kinds in FORMATS.items():
        for kind, gens in kinds.items():
            for gen in gens:
                for _ in range(instances):
                    value = gen(rng)
                    for name, template in SINGLE.items():
                        out.append(Hostile(template.format(s=value), _pieces(value), exchange, kind, name))
                    lines = _split_lines(rng, value)
                    if len(lines) > 1:
                        for name, template in SPLIT.items():
                            text = template.format(lines="\n".join(lines), qlines="\n> ".join(lines))
                            out.append(Hostile(text, tuple(lines), exchange, "split", name))
        for _ in range(instances):
            key = rng.choice(kinds["key"])(rng)
            secret = rng.choice(kinds["secret"])(rng)
            third = rng.choice(kinds.get("passphrase") or kinds.get("memo") or kinds["secret"])(rng)
            for name, template in MULTI.items():
                text = template.format(a=key, b=secret, c=third)
                planted = (key, secret, third) if "{c}" in template else (key, secret)
                out.append(Hostile(text, planted, exchange, "triple" if "{c}" in template else "pair", name))
    for value in USER_CHOSEN:
        for name, template in LABELLED.items():
            if value.isdigit() and "memo" in name:
                continue  # a number named "memo" is a deposit tag (XRP, XLM...), not a secret
            out.append(Hostile(template.format(s=value), (value,), "any", "labelled", name))
    for exchange in PEM_EXCHANGES:
        for pem in (ed25519_pem(rng), rsa_like_pem(rng), rsa_like_pem(rng, "RSA PRIVATE KEY")):
            body = tuple(line for line in pem.splitlines() if line and not line.startswith("-----"))
            key = _r(rng, ALNUM, 64 if exchange == "binance" else 18)
            for name, template in {
                "pem": "{pem}",
                "pem_with_key": "{key}\n{pem}",
                "pem_in_code": "```\n{pem}```",
                "pem_zh": "私钥如下：\n{pem}谢谢",
                "pem_body_only": "{body}",
            }.items():
                text = template.format(pem=pem, key=key, body="\n".join(body))
                out.append(Hostile(text, (*body, key) if "{key}" in template else body, exchange, "pem", name))
    return out


# -- ordinary chat ----------------------------------------------------------------------------------------------


def _eth(rng: random.Random) -> str:
    return "0x" + _r(rng, HEX, 40)


def _eth_checksum_like(rng: random.Random) -> str:
    return "0x" + "".join(c.upper() if rng.random() < 0.5 else c for c in _r(rng, HEX, 40))


def _tx(rng: random.Random) -> str:
    return "0x" + _r(rng, HEX, 64)


def _tron(rng: random.Random) -> str:
    base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    while True:
        value = "T" + _r(rng, base58, 33)
        if any(c.isupper() for c in value[1:]) and any(c.islower() for c in value):
            return value


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _mixed(value: str) -> bool:
    return any(c.isupper() for c in value) and any(c.islower() for c in value)


def _solana(rng: random.Random) -> str:
    while True:
        value = _r(rng, _BASE58, rng.randint(43, 44))  # a 32-byte key in base58: 43 or 44 characters
        if _mixed(value):
            return value


def _ton(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return rng.choice("EU") + "Q" + _r(rng, alphabet, 46)


def _cid(rng: random.Random) -> str:
    return "Qm" + _r(rng, _BASE58, 44)


def _btc(rng: random.Random) -> str:
    base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    while True:
        value = rng.choice("13") + _r(rng, base58, rng.randint(25, 33))
        if any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


def _order_numeric(rng: random.Random) -> str:
    return str(rng.randint(10**9, 10**19))


def _order_kraken(rng: random.Random) -> str:
    up = string.ascii_uppercase + string.digits
    return f"O{_r(rng, up, 5)}-{_r(rng, up, 5)}-{_r(rng, up, 6)}"


def _order_mexc(rng: random.Random) -> str:
    return f"C02__{rng.randint(10**17, 10**18)}"


def _amount(rng: random.Random) -> str:
    return rng.choice([f"{rng.uniform(1, 50000):,.2f}", f"{rng.uniform(0, 5):.6f}", str(rng.randint(1, 100000))])


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(2024, 2026), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}.{m:02d}.{y}",
            f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}",
            f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z",
            f"{y}年{m}月{d}日 {hh}:{mm:02d}",
            f"{hh:02d}:{mm:02d} UTC",
        ]
    )


def _ip(rng: random.Random) -> str:
    return rng.choice([f"203.0.113.{rng.randint(1, 254)}", f"198.51.100.{rng.randint(1, 254)}", "2001:db8::1"])


def _url(rng: random.Random) -> str:
    return rng.choice(
        [
            "https://www.binance.com/en/my/settings/api-management",
            f"https://www.okx.com/account/my-api?tab={rng.randint(1, 9)}",
            "https://www.bybit.com/app/user/api-management",
            f"https://www.mexc.com/user/openapi?tab=1234567890abcdef{rng.randint(0, 9)}",
            "https://docs.hu.finance/guides/connect-api-key#permissions",
            f"https://etherscan.io/tx/{_tx(rng)}",
            f"https://etherscan.io/address/{_eth(rng)}",
            f"https://tronscan.org/#/transaction/{_r(rng, HEX, 64)}",
            "https://www.kucoin.com/account/api?spm=kcWeb.B1homepage.Header4.1",
            f"https://app.hu.finance/campaigns/{_uuid(rng)}",
            f"https://www.gate.io/myaccount/apikeys?ch=ann{rng.randint(1000, 99999)}",
            "www.htx.com/en-us/apikey/",
            f"https://x.com/HuFi_finance/status/{rng.randint(10**18, 10**19)}",
            f"https://github.com/ccxt/ccxt/issues/{rng.randint(1000, 30000)}",
        ]
    )


def _tg(rng: random.Random) -> str:
    invite = _r(rng, ALNUM + "_-", 16)
    return rng.choice(
        [
            "https://t.me/hufi_support_bot?start=check",
            f"t.me/+{invite}",
            f"https://t.me/joinchat/{invite}",
            f"https://t.me/c/{rng.randint(10**9, 10**10)}/{rng.randint(1, 99999)}",
            "@hufi_support_bot",
            "t.me/hufi_official",
        ]
    )


def _error_text(rng: random.Random) -> str:
    return rng.choice(
        [
            '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}',
            "Provided API key can't be authorized. Missing permissions: VIEW_SPOT_TRADING_HISTORY",
            "Failed to add API key.",
            "AuthenticationError: okx 50110 Your IP 203.0.113.7 is not included in your API key's IP whitelist",
            'kucoin {"code":"400006","msg":"Invalid request ip, the current clientIp is:203.0.113.7"}',
            "EAPI:Invalid nonce",
            "retCode 10003 API key is invalid",
            "error 40018 Invalid IP",
            "PermissionDenied: gate FORBIDDEN Request IP not in whitelist",
        ]
    )


Fill = Callable[[random.Random], str]

_FILLS: dict[str, Fill] = {
    "eth": _eth,
    "ethc": _eth_checksum_like,
    "tx": _tx,
    "tron": _tron,
    "solana": _solana,
    "ton": _ton,
    "cid": _cid,
    "btc": _btc,
    "order": _order_numeric,
    "kraken_order": _order_kraken,
    "mexc_order": _order_mexc,
    "hex24": lambda r: _r(r, HEX, 24),
    "hex64": lambda r: _r(r, HEX, 64),
    "uuid": _uuid,
    "amount": _amount,
    "date": _date,
    "ip": _ip,
    "url": _url,
    "tg": _tg,
    "error": _error_text,
    "n": lambda r: str(r.randint(1, 500)),
    "uid": lambda r: str(r.randint(10**7, 10**10)),
    "ver": lambda r: f"{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 99)}",
    "pct": lambda r: f"{r.uniform(0, 100):.2f}%",
}

#: category -> language -> templates. Ids that share a shape with a credential (24/64 hex, UUID) appear with the
#: word that names them, as people write them; "ambiguous" has them bare and is reported on its own.
ORDINARY: dict[str, dict[str, list[str]]] = {
    "chat": {
        "en": [
            "Hi, my Binance key stopped working after I changed the IP whitelist",
            "HuFi says my key can't be authorized, what should I do?",
            "I created a new API key with read-only permissions but it still fails",
            "Which permissions does the market making campaign need?",
            "thanks, it works now!!! 🙏",
            "my passphrase is wrong I think",
            "I forgot the secret key, can I see it again on OKX?",
            "Is the API key the same as the secret? I'm confused",
            "The key expired after 90 days, I made a new one",
            "Can you check my KuCoin key again please?",
            "VIEW_SPOT_TRADING_HISTORY is missing, how do I enable it?",
            "I enabled Read-Only and Spot trading history, waited {n} minutes",
            "ok I will try again tomorrow",
            "My UID is {uid}",
            "Campaign ETH/USDT on MEXC, reward pool {amount} USDT",
            "I use ccxt {ver} and the error is AuthenticationError",
            "the bot says clock skew, my server time is {date}",
            "Where do I find the memo for BitMart?",
            "password for the account is not the API passphrase, right?",
            "I'm getting {error}",
            "Volume today {amount}, fees {pct}",
            "call me at +7 999 123-45-67 or +86 138 0013 8000",
            "email me at john.doe1985@gmail.com",
            "my telegram is @crypto_trader_2024",
            "version v{ver} of the app, build 20261124",
            "the API key for the ETH/USDT campaign is read-only",
            "key: Read-Only, IP restricted to {ip}",
            "API key with VIEW_ACCOUNT_BALANCE only?",
            "secret key (the long one) or the API key?",
            "passphrase: the one I set when creating the key",
            "my key was created {date}, label HuFi-MM",
            "memo is required for BitMart keys?",
            "2FA code 482913 didn't work, waited for a new one",
            "KYC level 2 done, sub-account UID {uid}",
            "ETHUSDT perpetual vs ETH/USDT spot?",
            "pls help!!! 😭😭",
            "I tried SOL-USDT-SWAP on OKX as well",
        ],
        "ru": [
            "Привет! Ключ от Bybit перестал работать после смены IP",
            "Какие права нужны для кампании маркет-мейкинга?",
            "Я создал новый ключ только для чтения, но ошибка осталась",
            "Спасибо, всё заработало!",
            "Пароль от аккаунта не подходит, что делать?",
            "секретный ключ потерял, придётся создать новый",
            "Ключ истёк через 90 дней?",
            "Мой UID {uid}, биржа Gate",
            "Вывел {amount} USDT {date}, до сих пор не пришло",
            "Ошибка: {error}",
            "Бот пишет, что часы расходятся, у меня {date}",
            "где найти memo на BitMart?",
            "Попробую завтра ещё раз, спасибо за помощь",
            "Комиссия {pct}, объём {amount}",
            "пишите в телеграм @hufi_ru_chat",
            "ключ Binance не работает, пароль тоже не подходит",
            "API ключ создан {date}, права только чтение",
            "ключ от OKX и секретный ключ — это разные вещи?",
            "пароль: тот, что я задал при создании",
        ],
        "zh": [
            "你好，我的币安API密钥无法使用了",
            "做市活动需要哪些权限？",
            "我已经创建了只读的API，但还是失败",
            "谢谢，现在可以了！",
            "密码错误怎么办？",
            "我忘了密钥，OKX上还能再看到吗？",
            "密钥过期了吗？已经{n}天了",
            "我的UID是{uid}",
            "{date}提现了{amount} USDT，还没到账",
            "报错：{error}",
            "机器人说时间不同步，我的服务器时间是{date}",
            "BitMart的备注在哪里找？",
            "明天再试一次，谢谢帮忙",
            "手续费{pct}，成交量{amount}",
            "我用的是Binance的API，权限是Read Only",
            "API密钥是{date}创建的，只开了读取权限",
            "密码是创建API时设置的那个吗？",
            "备注：做市用",
            "KuCoin的API密码和登录密码不一样吧？",
        ],
    },
    "eth_address": {
        "en": ["my ETH deposit address is {eth}", "send to {ethc} please", "address: {eth}"],
        "ru": ["мой адрес для депозита ETH: {eth}", "адрес кошелька {ethc}"],
        "zh": ["充值地址是{eth}，请帮忙看看", "我的钱包地址：{ethc}"],
    },
    "tx_hash": {
        "en": ["tx {tx} still pending", "deposit tx: {tx}", "check https://etherscan.io/tx/{tx}"],
        "ru": ["хэш транзакции {tx}", "транзакция {tx} не подтверждается"],
        "zh": ["交易哈希 {tx}", "转账哈希：{tx}，还没到账"],
    },
    "labelled_hash": {
        "en": ["TxID: {hex64}", "txid {hex64}", "the withdrawal hash is {hex64}"],
        "ru": ["TxID {hex64}", "хэш вывода: {hex64}"],
        "zh": ["交易哈希：{hex64}", "提现TxID：{hex64}"],
    },
    "order_id": {
        "en": [
            "order id {order} was filled",
            "Order #{order} stuck",
            "kraken order {kraken_order} not in history",
            "order {mexc_order} shows cancelled",
            "KuCoin order id: {hex24}",
            "bybit order ID {uuid} is missing",
        ],
        "ru": ["Номер ордера {order}", "ордер {kraken_order} не виден", "заказ {hex24} отменён"],
        "zh": ["订单号：{order}", "订单号 {hex24} 没有成交", "委托单{order}一直挂着"],
    },
    "url": {
        "en": ["see {url}", "I followed {url} but nothing changed", "link: {url}"],
        "ru": ["смотрите {url}", "инструкция тут: {url}"],
        "zh": ["参考 {url}", "我按照{url}操作了"],
    },
    "telegram": {
        "en": ["join {tg}", "ask in {tg} please", "the bot is {tg}"],
        "ru": ["наш чат {tg}", "пишите {tg}"],
        "zh": ["加入群 {tg}", "客服：{tg}"],
    },
    "numbers_dates": {
        "en": ["I have {amount} USDT since {date}", "{n} trades at {date}", "profit {pct} over {n} days"],
        "ru": ["Баланс {amount} USDT на {date}", "{n} сделок {date}"],
        "zh": ["{date}余额{amount} USDT", "{n}笔交易，收益{pct}"],
    },
    "ip": {
        "en": ["I whitelisted {ip} and {ip}", "my server IP is {ip}"],
        "ru": ["добавил IP {ip} в белый список"],
        "zh": ["IP白名单已添加{ip}"],
    },
    "addresses_other": {
        "en": [
            "my TRON address {tron}",
            "BTC: {btc}",
            "my Solana wallet address: {solana}",
            "send to address {solana} please",
            "TON wallet {ton}",
            "the ipfs CID is {cid}",
        ],
        "ru": ["адрес USDT TRC20: {tron}", "адрес кошелька Solana: {solana}", "мой TON-кошелёк {ton}"],
        "zh": ["波场地址{tron}", "我的Solana钱包地址是{solana}", "TON地址：{ton}"],
    },
    "identifiers": {
        "en": [
            "see screenshot IMG_20261124_143201.jpg",
            "file hufi_report_2026Q4_final_v2.xlsx attached",
            "I run node-v20.11.1-linux-x64 on ubuntu-22.04.3-live-server-amd64",
            "#HuFi2026 #MarketMaking",
            "my bot is market_maker_bot_v3.py with ccxt",
            "pair ETHUSDT240628 expired",
            "username crypto_trader_2024 on HuFi",
            "error class ExchangeNotAvailable and InvalidNonce",
            "fetchDepositAddressesByNetwork is not supported",
        ],
        "ru": ["скрин IMG_20261124_143201.jpg", "бот market_maker_bot_v3.py падает с InvalidNonce"],
        "zh": ["截图IMG_20261124_143201.jpg", "用的ccxt版本{ver}，报InvalidNonce"],
    },
    "ambiguous": {
        "en": ["{hex64}", "{uuid}", "{hex24} failed"],
        "ru": ["{hex64} не пришло"],
        "zh": ["{uuid}怎么回事"],
    },
}


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for name, fill in _FILLS.items():
        marker = "{" + name + "}"
        while marker in out:
            out = out.replace(marker, fill(rng), 1)
    return out


def ordinary_corpus(per_template: int = 12) -> list[Ordinary]:
    """Every ordinary template, `per_template` fillings each."""
    rng = random.Random(SEED + 1)
    out: list[Ordinary] = []
    for category, languages in ORDINARY.items():
        for language, templates in languages.items():
            for template in templates:
                for _ in range(per_template):
                    out.append(Ordinary(_fill(template, rng), category, language))
    return out


def random_unknown_formats(count: int = 400) -> Iterator[tuple[str, str]]:
    """Random strings of formats no exchange here uses (alphabet, length 16-64), to measure misses beyond the
    known formats: (alphabet name, value)."""
    rng = random.Random(SEED + 2)
    alphabets = {
        "alnum": ALNUM,
        "lower_alnum": LOWER_ALNUM,
        "hex": HEX,
        "base64": B64,
        "upper_alnum": "ABCDEFGHJKLMNPQRSTUVWXYZ23456789",
    }
    for _ in range(count):
        name = rng.choice(sorted(alphabets))
        yield name, _r(rng, alphabets[name], rng.randint(16, 64))


def leaked(output: str, planted: tuple[str, ...], window: int = 12) -> str | None:
    """The first planted value of which a piece of `window` characters (or the whole value, if shorter) is in
    `output`; None when nothing got through."""
    for value in planted:
        n = min(window, len(value))
        for i in range(len(value) - n + 1):
            if value[i : i + n] in output:
                return value
    return None
