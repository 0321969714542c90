"""Every word the Mini App page shows: the English source of the catalog entries `webapp.<key>` (bot.i18n).

`text(key, language)` gives it in the page's language (the user's: the chat puts it in the form's address), English
where the catalog has none. Plain text: the page escapes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n import DEFAULT_LANGUAGE, Plural, Texts, normalise

_EN: Mapping[str, str | Plural] = {
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
    "hourly_limit": Plural(
        "The key was not checked: you have checked {limit} key in the last hour, the most this bot allows, so "
        "that stolen keys can't be tested here. Try again in {minutes} min.",
        "The key was not checked: you have checked {limit} keys in the last hour, the most this bot allows, so "
        "that stolen keys can't be tested here. Try again in {minutes} min.",
        n="limit",
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

TEXTS = Texts("webapp", _EN, description="the Mini App key form (plain text)")

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
    """The page's language for a `lang` parameter or a Telegram `language_code` ("zh_Hans", "zh-hans", "ru-RU");
    English for anything we have no catalog for."""
    return normalise(code) if code else DEFAULT_LANGUAGE


def text(key: str, language: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text for `key` in `language` (English when missing), with `values` filled in."""
    return TEXTS(language_of(language), key, **values)


def script_texts(language: str) -> dict[str, str]:
    """The texts the page script shows, unformatted (the script fills `{label}` and `{exchange}`)."""
    return {key: text(key, language) for key in SCRIPT_KEYS}
