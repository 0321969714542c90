"""Every word the Mini App page shows, in one table, looked up by language.

Issue #18 moves all texts to gettext catalogs; until then this table is the one place to translate the page:
add a language as another entry of `TEXTS` (missing keys fall back to English). The pre-check messages come
from `bot.diagnosis.precheck`, as in the chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_LANGUAGE = "en"

_EN: Mapping[str, str] = {
    "page_title": "{exchange} API key",
    "heading": "Check your {exchange} API key",
    "intro": (
        "What you type here goes straight to this bot's own server over an encrypted connection. "
        "It never becomes a Telegram message, so there is nothing to delete afterwards."
    ),
    "read_only": "Use a read-only key: the bot never trades or withdraws.",
    "campaign": "Campaign type: {campaign}",
    "label_api_key": "API key",
    "label_secret": "Secret key",
    "label_secret_pem": "Secret key (or the whole private key file)",
    "hint_passphrase": "The passphrase you chose when you created this key, not your account password.",
    "hint_memo": "The memo you typed when you created this key.",
    "show": "Show",
    "hide": "Hide",
    "submit": "Check the key",
    "checking": "Checking the key with {exchange}…",
    "missing_field": "Please fill in the {label}.",
    "result_note": "The verdict and the next steps are also in your chat with the bot.",
    "close": "Close",
    "not_found": "This page does not exist. Open the form from the button in the bot's chat.",
    "open_in_telegram": "Open this form from the button in the bot's chat in Telegram.",
    "err_bad_init_data": "This form could not be verified as opened from Telegram. Open it again from the chat.",
    "err_stale": "This form was opened more than an hour ago. Open it again from the chat.",
    "err_replayed": "This form was already used for one check. Open it again from the chat to check another key.",
    "err_too_large": "What you entered is far longer than any API key.",
    "err_content_type": "The request was not sent the way this page sends it. Open the form again from the chat.",
    "err_bad_request": "The request could not be read. Open the form again from the chat.",
    "err_unknown_exchange": "The bot does not check keys for this exchange.",
    "err_rate_limited": "Too many attempts from your account. Try again in {minutes} min.",
    "err_internal": "Something went wrong on our side and the key was not checked. Try again from the chat.",
    "err_network": "The page could not reach the bot's server. Check your connection and try again.",
    "verdict_ok": "The key passes every check HuFi makes.",
    "not_checked": "The key was not checked.",
    "hourly_limit": (
        "The key was not checked: you have checked {limit} keys in the last hour, the most this bot allows, so "
        "that stolen keys can't be tested here. Try again in {minutes} min."
    ),
    "busy_limit": (
        "The key was not checked: the bot is checking as many keys this hour as it can. Try again in {minutes} min."
    ),
    "banned": "The key was not checked: this bot can't help you at the moment. You can reach HuFi at {contact}.",
    "perm_VIEW_ACCOUNT_BALANCE": "Account balance",
    "perm_VIEW_DEPOSIT_ADDRESS": "ETH deposit address",
    "perm_VIEW_SPOT_TRADING_HISTORY": "Spot trade history",
    "perm_granted": "✓ {permission}: readable",
    "perm_failed": "✗ {permission}: {cause}",
    "perm_skipped": "– {permission}: not checked",
    "qualifies": "Enough for: {campaigns}",
    "exchange_said": "{exchange} answered: {code}",
    "campaign_MARKET_MAKING": "Market making",
    "campaign_COMPETITIVE_MARKET_MAKING": "Competitive market making",
    "campaign_THRESHOLD_MARKET_MAKING": "Threshold market making",
    "campaign_HOLDING": "Holding",
    "campaign_THRESHOLD": "Threshold",
}

#: language -> key -> text. Add a language here; keys it lacks fall back to English.
TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType({"en": MappingProxyType(_EN)})

#: The texts the page script needs at run time (the rest are rendered into the HTML).
SCRIPT_KEYS = (
    "show",
    "hide",
    "submit",
    "checking",
    "missing_field",
    "result_note",
    "close",
    "open_in_telegram",
    "err_network",
    "err_internal",
)


def language_of(code: str | None) -> str:
    """The table language for a Telegram `language_code` or `lang` parameter ("pt-br" -> "pt" when only "pt")."""
    if not code:
        return DEFAULT_LANGUAGE
    code = code.strip().lower().replace("_", "-")
    if code in TEXTS:
        return code
    base = code.split("-", 1)[0]
    return base if base in TEXTS else DEFAULT_LANGUAGE


def text(key: str, language: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text for `key` in `language` (English when missing), with `values` filled in."""
    table = TEXTS.get(language_of(language), TEXTS[DEFAULT_LANGUAGE])
    template = table.get(key) or TEXTS[DEFAULT_LANGUAGE][key]
    return template.format(**values) if values else template


def script_texts(language: str) -> dict[str, str]:
    """The texts the page script shows, unformatted (the script fills `{label}` and `{exchange}`)."""
    return {key: text(key, language) for key in SCRIPT_KEYS}
