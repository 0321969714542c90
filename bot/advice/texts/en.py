"""The English advice texts: the source of the advice's catalog entries (`bot.advice.texts` says how they are keyed).

Keys are `Cause` and `CampaignType` values. Steps are `(title, text)` pairs; an exchange id key next to
"default" replaces the default steps on that exchange, and `<exchange>@<variant>` replaces them when a reply-dependent
variant applies (`bot.advice.exchanges.Variant`). Placeholders filled in by `bot.advice`:
{exchange} {api_page} {api_page_short} {menu} {menu_create} {perm_balance} {perm_deposit} {perm_trades} {perm_list}
{passphrase_label} {deposit_network} {ips_text} {expiry_unbound} {expiry_why}. Answers point to a cause value, or to
"primary" (keep the current diagnosis). The menu items and permission labels come from the exchange table
(`bot.advice.exchanges`), with their sources; the sentences here are ours. Translations live in the catalogs
(`bot/i18n/locales`), never here.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Plural

_PERMISSIONS_STEP = (
    "Tick the read permissions",
    "HuFi needs these, and only these: {perm_list}. Leave trading, transfers and withdrawals switched off; "
    "HuFi never needs them.",
)
_RECREATE = (
    "If you can't edit the key",
    "Some exchanges don't let you change a key after creation. Then delete it, create a new read-only key "
    "({menu_create}) and send me the new key and secret.",
)

TEXTS: dict[str, Any] = {
    "titles": {
        "ok": "The key works",
        "key_invalid": "The API key was not recognised",
        "key_expired": "The API key has expired or was disabled",
        "secret_mismatch": "The secret key doesn't belong to this API key",
        "passphrase_wrong": "The {passphrase_label} is wrong",
        "ip_not_whitelisted": "The key's IP allow-list blocks HuFi",
        "permission_missing": "A read permission is missing",
        "no_deposit_address": "There is no ETH deposit address yet",
        "clock_skew": "A clock difference between our server and the exchange",
        "rate_limited": "The exchange asked us to slow down",
        "exchange_maintenance": "The exchange is having problems or is under maintenance",
        "exchange_unreachable": "The exchange could not be reached",
        "unknown": "The exchange refused the key for a reason we couldn't identify",
        "incomplete_credentials": "Something is missing from the key details",
        "malformed_credentials": "The key details don't look like what the exchange issues",
        "key_secret_swapped": "The API key and the secret key are mixed up",
        "nonce_window": "The key's nonce window is too small",
        "nonce_reused": "Another app is using the same key at the same time",
        "account_restricted": "The exchange account is restricted",
        "demo_key": "This is a demo-trading key",
        "no_key_needed": "No API key is needed for this exchange",
        "check_failed": "The check itself failed on our side",
        "key_frozen": "{exchange} has frozen this API key",
        "subaccount_no_api": "This sub-account may not use the API",
        "risk_control": "{exchange}'s risk control is holding the account",
        "region_blocked": "{exchange} blocks this account or request for its region",
        "hufi_form_limit": "HuFi's form won't accept this key",
    },
    "summaries": {
        "ok": "The exchange accepted the key; nothing needs to change.",
        "key_invalid": "Copy the API key again from {api_page_short}, using the copy button, and send it once more.",
        "key_expired": "Check on {api_page_short} that the key is still active; renew it or create a new "
        "read-only key.",
        "secret_mismatch": "Make sure the secret key was created together with this API key; if unsure, create a "
        "new key.",
        "passphrase_wrong": "Enter the {passphrase_label} you chose when you created this key.",
        "ip_not_whitelisted": "Remove the key's IP allow-list on {api_page_short}, or add HuFi's addresses to "
        "it.{expiry_unbound}",
        "permission_missing": "Turn on {perm_list} for this key on {api_page_short}.",
        "no_deposit_address": "Create an ETH deposit address on the {deposit_network} network on {exchange}.",
        "clock_skew": "Nothing to change on your side; try again in a few minutes.",
        "rate_limited": "Wait a minute or two, then check again.",
        "exchange_maintenance": "Wait until {exchange} is back to normal, then check again.",
        "exchange_unreachable": "Try again in a few minutes; if it keeps failing, try later today.",
        "unknown": "Ask a human from support to look at the details.",
        "incomplete_credentials": "Fill in every field, including the {passphrase_label} if {exchange} asks for one.",
        "malformed_credentials": "Copy the key and secret again with the exchange's copy buttons.",
        "key_secret_swapped": "Send the API key first and the secret key second.",
        "nonce_window": "Set the key's nonce window to 5000 or more.",
        "nonce_reused": "Give HuFi a key of its own that no other app uses.",
        "account_restricted": "Check {exchange}'s notifications and lift the restriction with their support.",
        "demo_key": "Create the key in your live (real-money) account, not in demo trading.",
        "no_key_needed": "Connect your wallet in HuFi instead of an API key.",
        "check_failed": "Try again later, or ask support to look at it.",
        "key_frozen": "Ask {exchange}'s support why the key was frozen, or create a new read-only key.",
        "subaccount_no_api": "Create the key on the main account, or let the main account enable API access for "
        "this sub-account.",
        "risk_control": "Contact {exchange}'s support to lift the risk-control hold; a new key won't help.",
        "region_blocked": "Check {exchange}'s notices about your country or region; only {exchange} can lift it.",
        "hufi_form_limit": "Create a key with the exchange's own generated secret, short enough for HuFi's form.",
    },
    "steps": {
        "ok": {
            "default": [
                (
                    "Nothing to fix",
                    "{exchange} accepted the key for balances, the ETH deposit address and trade history. You "
                    "can add it in HuFi now.",
                ),
            ],
        },
        "key_invalid": {
            "default": [
                (
                    "Copy the key again",
                    "Open {api_page} and copy the API key with its copy button rather than selecting it by hand; "
                    "it's easy to miss the first or last character.",
                ),
                (
                    "Check it's the right account",
                    "Make sure the key belongs to the {exchange} account (or sub-account) you mean, in your live "
                    "account, and that it wasn't deleted.",
                ),
                (
                    "Activate the key if needed",
                    "Some exchanges only enable a new key after you confirm it by e-mail or 2FA. Look for a "
                    "pending confirmation.",
                ),
                (
                    "Still refused?",
                    "Create a new read-only key ({menu_create}) and send me the new key and secret.",
                ),
            ],
        },
        "key_expired": {
            "default": [
                (
                    "Look at the key on the exchange",
                    "Open {api_page}. If the key is marked expired, frozen or disabled, or is no longer listed, "
                    "it can't be used any more.",
                ),
                (
                    "Renew or replace it",
                    "If {exchange} offers to extend the key, do that. Otherwise create a new read-only key "
                    "({menu_create}) with {perm_list}.",
                ),
                ("Why keys expire", "{expiry_why}"),
            ],
        },
        "secret_mismatch": {
            "default": [
                (
                    "Use the secret of this very key",
                    "Every API key has its own secret key, shown only once when the key is created. A secret "
                    "from an older or another key won't work with this one.",
                ),
                (
                    "Check for typos",
                    "If you saved the secret yourself, copy it again in full; a single changed character breaks it.",
                ),
                (
                    "Lost the secret?",
                    "It can't be shown again. Delete the key on {api_page}, create a new read-only key "
                    "({menu_create}), and save the secret right away.",
                ),
            ],
        },
        "passphrase_wrong": {
            "default": [
                (
                    "Enter the {passphrase_label} of this key",
                    "It's the value you typed yourself when you created the key on {exchange}, not your login "
                    "password or fund password. Capital letters count.",
                ),
                (
                    "Check the secret too",
                    "On some exchanges a wrong secret key looks like a wrong {passphrase_label}, so make sure "
                    "the secret belongs to this key.",
                ),
                (
                    "Forgotten it?",
                    "It can't be looked up. Create a new read-only key, write the {passphrase_label} down, and "
                    "send me everything again.",
                ),
            ],
        },
        "ip_not_whitelisted": {
            "default": [
                (
                    "Remove the IP allow-list",
                    "Open the key on {api_page} and switch IP restriction off (no trusted IPs), then save. This "
                    "is the simplest fix for a read-only key.{expiry_unbound}",
                ),
                ("Or allow HuFi's addresses", "{ips_text}"),
                _RECREATE,
            ],
        },
        "permission_missing": {
            "default": [
                ("Open the key settings", "Go to {api_page} and edit this key."),
                _PERMISSIONS_STEP,
                _RECREATE,
            ],
            "kraken": [
                ("Open the key settings", "Go to {api_page} and edit this key."),
                (
                    "Tick the four query permissions",
                    "Turn on Query Funds, Query Open Orders & Trades, Query Closed Orders & Trades and Export "
                    "Data. Deposit Funds isn't needed unless Kraken refuses the deposit-address check afterwards "
                    "(I'll tell you if it does). Leave Withdraw Funds and the trading permissions off.",
                ),
                (
                    "Set the nonce window",
                    "Under the advanced settings, set the nonce window to 5000 or more; HuFi rejects Kraken keys "
                    "with a smaller one.",
                ),
                ("Save", "Save the key (Kraken may ask you to confirm with 2FA)."),
            ],
            "kraken@deposit_funds": [
                ("Open the key settings", "Go to {api_page} and edit this key."),
                (
                    "Add Deposit Funds",
                    "Kraken refused the ETH deposit-address request although this key has Query Funds: on Kraken "
                    "that request (DepositAddresses) also needs Deposit Funds. Tick Deposit Funds and keep Query "
                    "Funds. Deposit Funds lets the key read and create deposit addresses; it can't move money out. "
                    "Leave Withdraw Funds and the trading permissions off.",
                ),
                ("Save", "Save the key (Kraken may ask you to confirm with 2FA)."),
                (
                    "Why HuFi needs it",
                    "HuFi accepts a Kraken key with Query Funds alone when you add it, but it reads your ETH deposit "
                    "address later, when it scores campaigns; if Kraken refuses that, the key scores nothing.",
                ),
            ],
            "kucoin": [
                ("Open the key settings", "Go to {api_page} and edit this key."),
                (
                    "Turn on General",
                    "HuFi needs the General permission, which lets it read balances, deposit addresses and "
                    "trades. Leave Spot trading, Margin, Futures and Transfer off.",
                ),
                (
                    "Keep the passphrase at hand",
                    "KuCoin keys come with the API passphrase you chose (7 to 32 characters); you'll need it "
                    "together with the key and secret.",
                ),
            ],
        },
        "no_deposit_address": {
            "default": [
                (
                    "Open the ETH deposit page",
                    "On {exchange}, go to Deposit, choose ETH and the {deposit_network} network.",
                ),
                (
                    "Create the address",
                    "If no address is shown yet, generate one there. Then check again here.",
                ),
                (
                    "Why HuFi needs it",
                    "HuFi uses your ETH deposit address as your identity in a campaign, so that one person can't "
                    "join twice. When two participants show the same address, both score 0, so use the address "
                    "of your own account.",
                ),
            ],
            "kucoin": [
                (
                    "Open the ETH deposit page",
                    "On KuCoin, go to Deposit, choose ETH and the {deposit_network} network, with the deposit "
                    "going to your Funding (main) account.",
                ),
                ("Create the address", "If no address is shown yet, generate one there. Then check again here."),
                (
                    "Why HuFi needs it",
                    "HuFi uses your ETH deposit address as your identity in a campaign, so that one person can't "
                    "join twice. When two participants show the same address, both score 0, so use the address "
                    "of your own account.",
                ),
            ],
        },
        "clock_skew": {
            "default": [
                (
                    "Nothing wrong with your key",
                    "{exchange} judged the time on our checking server to be off. That's on our side, not yours.",
                ),
                ("Try again shortly", "Check again in a few minutes."),
                (
                    "Still failing?",
                    "Hand it to support; they'll fix the server clock. HuFi may show the same error until then.",
                ),
            ],
        },
        "rate_limited": {
            "default": [
                (
                    "Wait a moment",
                    "{exchange} limits how often it can be asked. Wait a minute or two, then check again once.",
                ),
                (
                    "Don't retry in a loop",
                    "Many quick retries make the pause longer. If you run other bots on this key, they share the "
                    "same limit.",
                ),
                ("Still limited later?", "Try again in an hour, or hand it to support."),
            ],
        },
        "exchange_maintenance": {
            "default": [
                (
                    "It's on the exchange's side",
                    "{exchange} answered with an error of its own: maintenance or a temporary fault. Your key "
                    "wasn't judged.",
                ),
                ("Try again in a few minutes", "Short hiccups often pass within minutes."),
                (
                    "Still failing?",
                    "Check {exchange}'s status page or announcements for maintenance, and try again later.",
                ),
            ],
        },
        "exchange_unreachable": {
            "default": [
                (
                    "Try again",
                    "{exchange} didn't answer in time. This is usually a short network or exchange problem; "
                    "check again in a minute.",
                ),
                (
                    "Try later",
                    "If it keeps failing, wait an hour or so, and check {exchange}'s status page.",
                ),
                ("Still nothing?", "Hand it to support so they can check our side."),
            ],
        },
        "unknown": {
            "default": [
                ("Try again", "Check again in a minute; a one-off error can happen."),
                ("Try later", "If it fails again, try in an hour; the exchange may be having trouble."),
                _PERMISSIONS_STEP,
                (
                    "Look for typos",
                    "Copy the API key and the secret key again with the exchange's copy buttons.",
                ),
                (
                    "Secret of another key?",
                    "The secret must come from the same key. If unsure, create a new read-only key.",
                ),
                ("Expired key?", "Check on {api_page_short} that the key is still active."),
                ("IP allow-list?", "If the key only allows some IP addresses, remove the restriction. {ips_text}"),
                (
                    "ETH deposit address",
                    "Make sure you have an ETH deposit address on the {deposit_network} network on {exchange}.",
                ),
                ("Ask a human", "If none of this helps, hand it to support; they'll see what the exchange said."),
            ],
        },
        "incomplete_credentials": {
            "default": [
                (
                    "Fill in every field",
                    "{exchange} needs the API key and the secret key{extra_needed}. One of them was empty.",
                ),
                (
                    "Send them again",
                    "Start the check again and paste each value when asked.",
                ),
            ],
        },
        "malformed_credentials": {
            "default": [
                (
                    "Copy with the copy button",
                    "Copy the API key and the secret key from {exchange} with their copy buttons, not from a "
                    "screenshot or a partly hidden (****) display.",
                ),
                (
                    "Paste one value at a time",
                    "Send each value on its own, with nothing before or after it and no line breaks inside.",
                ),
                (
                    "Lost the full secret?",
                    "Exchanges show the secret only once. Create a new read-only key if you no longer have it.",
                ),
            ],
        },
        "key_secret_swapped": {
            "default": [
                (
                    "Swap them",
                    "Send the API key (sometimes called access key) first and the secret key second. Also make "
                    "sure you didn't paste the same value twice.",
                ),
            ],
        },
        "nonce_window": {
            "default": [
                ("Open the key settings", "Go to {api_page} and edit this key."),
                (
                    "Raise the nonce window",
                    "In the key's advanced settings, set the nonce window to 5000 or more, then save. HuFi "
                    "rejects keys with a smaller window.",
                ),
            ],
        },
        "nonce_reused": {
            "default": [
                (
                    "Give HuFi its own key",
                    "Another app or bot seems to be using this key at the same time, which confuses {exchange}'s "
                    "request counter. Create a separate read-only key just for HuFi.",
                ),
                (
                    "Raise the nonce window",
                    "Set the key's nonce window to 5000 or more (HuFi needs that anyway), then check again.",
                ),
            ],
        },
        "account_restricted": {
            "default": [
                (
                    "Check your account",
                    "{exchange} says the account itself is limited (frozen, locked, or waiting for identity "
                    "verification). Look at its notifications and messages.",
                ),
                (
                    "Lift the restriction",
                    "Finish any pending verification or contact {exchange}'s support. A new key won't help "
                    "until the account is back to normal.",
                ),
            ],
        },
        "demo_key": {
            "default": [
                (
                    "Use a live-account key",
                    "This key was made for demo trading. HuFi needs a key from your live account: switch out of "
                    "demo mode on {exchange}, create a read-only key there and send it.",
                ),
            ],
        },
        "no_key_needed": {
            "default": [
                ("No key needed", "{connect_hint}"),
            ],
        },
        "key_frozen": {
            "default": [
                (
                    "The key itself is frozen",
                    "{exchange} marked this API key as frozen or locked. That's the exchange's decision about the "
                    "key, not a typo on your side.",
                ),
                (
                    "Ask why, or start fresh",
                    "Ask {exchange}'s support why the key was frozen. If the account is fine, delete the key on "
                    "{api_page} and create a new read-only key with {perm_list}.",
                ),
            ],
        },
        "subaccount_no_api": {
            "default": [
                (
                    "The key is on a sub-account",
                    "{exchange} says this sub-account may not use the API for these requests.",
                ),
                (
                    "Use the main account, or enable the sub-account",
                    "Either create the read-only key on your main account, or have the main account allow API "
                    "access for this sub-account, then send the key again.",
                ),
            ],
        },
        "risk_control": {
            "default": [
                (
                    "The account is on hold",
                    "{exchange}'s risk control has limited the account. Nothing in the key can change that.",
                ),
                (
                    "Contact the exchange",
                    "Look at {exchange}'s messages and contact its support to lift the hold, then check again.",
                ),
            ],
        },
        "region_blocked": {
            "default": [
                (
                    "A regional rule applies",
                    "{exchange} refused this for compliance reasons tied to a country or region (the account's "
                    "verification country, or where the request came from).",
                ),
                (
                    "What you can do",
                    "Check {exchange}'s notices for your region. If you think it's a mistake, contact its "
                    "support; HuFi can't change it. If it keeps happening, hand it to our support.",
                ),
            ],
        },
        "hufi_form_limit": {
            "default": [
                (
                    "HuFi's form has limits",
                    "HuFi's key form takes at most 100 characters for the API key and 200 for the secret "
                    "(and, where asked, up to 32 for a memo or passphrase). This key breaks one of those limits, "
                    "so HuFi will refuse it even though {exchange} may accept it.",
                ),
                (
                    "Create a key that fits",
                    "Create a new read-only key with the secret {exchange} generates for you (not your own RSA "
                    "or Ed25519 key pair) and send it again.",
                ),
            ],
        },
        "check_failed": {
            "default": [
                (
                    "Not your key's fault",
                    "Our check couldn't judge the key this time: the problem is on our side, not in your settings.",
                ),
                ("Try again later", "Check again in a little while."),
                ("Ask support", "If it keeps happening, hand it to support with this result attached."),
            ],
        },
    },
    "phrases": {
        "api_page": "the API page of {exchange} ({menu})",
        "api_page_url": "the API page of {exchange} ({menu}, or {url})",
        "api_page_short": "{exchange}'s API page",
        "api_page_unknown": "the API management page of {exchange}",
        "menu_join": " → ",
        "menu_unknown": "your account's API management page",
        "menu_create_unknown": "the “create API key” button on your account's API management page",
        "notes_title": "Good to know on {exchange}",
        "hufi_title": "Then in HuFi",
        "expiry_generic": "Exchanges often let keys lapse after a fixed time or after a long time without use, more "
        "quickly for keys without an IP allow-list.",
        "ips_known": "If you want to keep the allow-list, add every one of these addresses to it: {ips}. They "
        "are shared cloud addresses used for all HuFi users, so they limit who can use the key less than a "
        "personal address would.",
        "ips_unknown": "If you want to keep the allow-list, ask support for HuFi's current outbound IP addresses "
        "and add them all.",
        "if_not": "If that wasn't it: {title}",
        "recheck_title": "Check again",
        "recheck_text": "When you've made the change, run the check again; I'll tell you right away whether it worked.",
        "campaigns_title": "What this key can already join",
        "campaigns_some": "With what's granted now, the key qualifies for: {campaigns}.",
        "campaigns_none": "With what's granted now, the key doesn't qualify for any HuFi campaign type yet.",
        "campaigns_all": "The key qualifies for every HuFi campaign type.",
        "perm_join": "; ",
        "perm_item": "{name} ({what})",
        "perm_balance": "balances",
        "perm_deposit": "deposit address",
        "perm_trades": "trade history",
        "passphrase": "passphrase",
        "extra_needed": " plus the {label}",
        "default_connect_hint": "Connect your wallet in HuFi; no exchange key is involved.",
        "list_and": " and ",
    },
    "expiry": {
        "days_without_ip": Plural(
            "On {exchange}, a key without an IP binding expires after {days} day.",
            "On {exchange}, a key without an IP binding expires after {days} days.",
            n="days",
        ),
        "days_without_ip_ips": " Binding HuFi's addresses to the key ({ips}) avoids that.",
        "days_without_ip_no_ips": " Binding HuFi's addresses to it avoids that (support has the current list); "
        "otherwise renew the key before it lapses.",
        "kucoin_general": "On KuCoin, a key with only the General permission never expires. Keys that may trade "
        "and have no IP binding are deleted, or lose trading, after 30 days without use.",
    },
    "extras": {
        "passphrase_chosen": "The {passphrase_label} is the one you typed yourself when you created the key; "
        "{exchange} can't show it again.",
        "kucoin_passphrase": "KuCoin has you choose the API passphrase when you create the key (HuFi's form takes "
        "7 to 32 characters, no spaces); KuCoin can't show it again.",
        "bitmart_memo": "BitMart's memo is whatever you typed in the Memo field when you created the key (HuFi's "
        "form takes up to 32 characters); BitMart can't show it again.",
        "xt_application": "XT lets a key work only after your API application was approved (User Center → API "
        "Management → Create API → Submit for review; XT reviews it within 3 to 5 business days) and after "
        "identity verification (KYC).",
        "gate_trading_account": "HuFi's guide asks for the key on the Trading Account: pick that account type when "
        "you create the key.",
        "kraken_nonce_window": "Under the key's advanced settings, set the nonce window to 5000 or more; HuFi "
        "refuses Kraken keys with a smaller one.",
    },
    "hufi": {
        "revalidate": "Once the check here passes, open your API keys in HuFi and press the refresh icon next to "
        "the {exchange} key: HuFi checks all three permissions again, and the key no longer shows as invalid or "
        "missing permissions. No need to add it again.",
        "replace": "Once a key passes here, open your API keys in HuFi and edit the {exchange} key: paste the key "
        "and secret that passed{extra_needed}. Don't delete the old key first: deleting a key in HuFi ends your part "
        "in that exchange's campaigns. When HuFi accepts the new one, it shows it as connected.",
        "retry_later": "Nothing to change in HuFi. Once {exchange} answers normally again, press the refresh icon "
        "next to the key in your HuFi API keys (or add it again if HuFi said “Failed to add API key.”).",
        "ok": "add this key there for {exchange}, or, if it is already there and marked invalid, press the refresh "
        "icon next to it. HuFi runs these same three checks and shows the key as connected.",
    },
    "labels": {
        "no_address": "{exchange} accepted the key but returned no ETH deposit address.",
        "ccxt_empty_address": "{exchange}'s reply held no ETH deposit address.",
        "ccxt_network_selection": "{exchange} answered, but the reply could not be read on our side.",
        "network_param_missing": "The deposit-address request could not be made the way {exchange} expects (our side).",
        "ccxt_credentials": "A required part of the key details was empty.",
        "api_key_required": "{exchange} said the request carried no API key.",
        "restricted_location": "{exchange} refused requests from our checking server's country or region.",
        "gateway_page": "{exchange} answered with an error page instead of data.",
        "secret_not_base64": "The secret key is not in the format {exchange} issues.",
        "not_checked": "Some permissions could not be checked.",
        "key_info": "{exchange}'s key settings mark the key as expired.",
        "nonce_window=*": "The key's nonce window is {arg}; HuFi needs at least 5000.",
        "missing:*": "{exchange}'s key settings don't include {arg}.",
        "http_*": "{exchange} answered with HTTP status {arg}.",
    },
    "campaign_names": {
        "MARKET_MAKING": "Market making",
        "COMPETITIVE_MARKET_MAKING": "Competitive market making",
        "THRESHOLD_MARKET_MAKING": "Threshold market making",
        "HOLDING": "Holding",
        "THRESHOLD": "Threshold",
    },
    "questions": [
        {
            "key": "ip_allow_list",
            "about": ["key_invalid", "ip_not_whitelisted"],
            "text": "Does this key have an IP allow-list (a list of trusted IP addresses) on {exchange}?",
            "answers": [
                ["Yes, it has one", "ip_not_whitelisted"],
                ["No, any IP may use it", "key_invalid"],
                ["I'm not sure", "primary"],
            ],
        },
        {
            "key": "ip_allow_list_perm",
            "about": ["permission_missing", "ip_not_whitelisted"],
            "text": "Does this key have an IP allow-list (a list of trusted IP addresses) on {exchange}?",
            "answers": [
                ["Yes, it has one", "ip_not_whitelisted"],
                ["No, any IP may use it", "permission_missing"],
                ["I'm not sure", "primary"],
            ],
        },
        {
            "key": "key_still_active",
            "about": ["key_invalid", "key_expired"],
            "text": "On {exchange}'s API page, is this key still listed and active?",
            "answers": [
                ["Yes, listed and active", "key_invalid"],
                ["No: gone, expired or disabled", "key_expired"],
                ["I'm not sure", "primary"],
            ],
        },
        {
            "key": "key_matches_page",
            "about": ["key_invalid", "secret_mismatch"],
            "text": "Does the API key you sent match the one on {exchange}'s API page exactly (compare the first "
            "and last few characters)?",
            "answers": [
                ["Yes, it matches", "secret_mismatch"],
                ["No, or I can't tell", "key_invalid"],
            ],
        },
        {
            "key": "secret_or_passphrase",
            "about": ["secret_mismatch", "passphrase_wrong"],
            "text": "Which of the two are you less sure about?",
            "answers": [
                ["The secret key", "secret_mismatch"],
                ["The {passphrase_label}", "passphrase_wrong"],
                ["Both look right", "primary"],
            ],
        },
        {
            "key": "permissions_ticked",
            "about": ["key_invalid", "permission_missing"],
            "text": "On {exchange}'s API page, are all the read permissions ticked for this key ({perm_list})?",
            "answers": [
                ["Some are off", "permission_missing"],
                ["All are on", "key_invalid"],
                ["I'm not sure", "primary"],
            ],
        },
        {
            "key": "key_shared",
            "about": ["nonce_reused", "nonce_window"],
            "text": "Is this key also used by another app or bot?",
            "answers": [
                ["Yes", "nonce_reused"],
                ["No, only HuFi", "nonce_window"],
            ],
        },
        {
            "key": "key_frozen_or_expired",
            "about": ["key_frozen", "key_expired"],
            "text": "On {exchange}'s API page, how is this key marked?",
            "answers": [
                ["Frozen or locked", "key_frozen"],
                ["Expired, or gone", "key_expired"],
                ["I'm not sure", "primary"],
            ],
        },
        {
            "key": "account_notice",
            "about": ["key_expired", "account_restricted"],
            "text": "Has {exchange} told you your account is frozen, locked or waiting for verification?",
            "answers": [
                ["Yes", "account_restricted"],
                ["No", "key_expired"],
            ],
        },
        {
            "key": "deposit_or_down",
            "about": ["exchange_maintenance", "no_deposit_address"],
            "text": "When you open ETH deposits on {exchange}, can you see an address on the {deposit_network} "
            "network?",
            "answers": [
                ["Yes, there is one", "exchange_maintenance"],
                ["No address yet", "no_deposit_address"],
            ],
        },
    ],
}
