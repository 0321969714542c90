"""What the bot says in Telegram, as data: the English source of the catalogs (`bot.i18n`), keyed for the code.

`t(language, key, **values)` gives the text in the user's language (English where the catalog has none). The
tables: `EN` the conversation (catalog context `chat.<key>`), `CARD` the support card (`card.<key>`, staff
language), `COMMANDS` the command menu (`command.<name>`). Advice per cause lives in `bot.advice`. Chat and card texts
are Telegram HTML; anything interpolated into them is escaped by the caller. Keys starting with `btn_` are button
labels (tests/test_i18n_catalogs.py holds them to BUTTON_LIMIT characters in every language).
"""

from __future__ import annotations

from bot.i18n import Plural, Texts

EN: dict[str, str | Plural] = {
    "welcome": (
        "👋 Hi {name}! I help HuFi users whose exchange API key is refused.\n\n"
        "I run the very checks HuFi runs (balance, ETH deposit address, spot trade history), tell you what "
        "the exchange actually said, and walk you through the fix. Got an error message from HuFi? Paste it here.\n\n"
        "HuFi only needs a <b>read-only</b> key: never enable trading or withdrawals for it. "
        "Messages that contain your key are deleted as soon as I read them."
    ),
    "help": Plural(
        (
            "<b>What I can do</b>\n"
            "/check – check an API key the way HuFi does\n"
            "/forget – delete any key I am keeping for “check again”\n"
            "/status – is HuFi, an exchange or this bot down right now?\n"
            "/support – talk to a person from HuFi support\n"
            "/cancel – stop what we are doing\n\n"
            "Got an error from HuFi? Paste it here and I'll tell you what it means.\n\n"
            "HuFi asks for three read-only permissions: account balance, the ETH deposit address and spot trade "
            "history. I keep a key encrypted for at most {minutes} minute so you can re-check after fixing "
            "something, and I delete it as soon as the check passes."
        ),
        (
            "<b>What I can do</b>\n"
            "/check – check an API key the way HuFi does\n"
            "/forget – delete any key I am keeping for “check again”\n"
            "/status – is HuFi, an exchange or this bot down right now?\n"
            "/support – talk to a person from HuFi support\n"
            "/cancel – stop what we are doing\n\n"
            "Got an error from HuFi? Paste it here and I'll tell you what it means.\n\n"
            "HuFi asks for three read-only permissions: account balance, the ETH deposit address and spot trade "
            "history. I keep a key encrypted for at most {minutes} minutes so you can re-check after fixing "
            "something, and I delete it as soon as the check passes."
        ),
        n="minutes",
    ),
    "help_no_keep": (
        "<b>What I can do</b>\n"
        "/check – check an API key the way HuFi does\n"
        "/status – is HuFi, an exchange or this bot down right now?\n"
        "/support – talk to a person from HuFi support\n"
        "/cancel – stop what we are doing\n\n"
        "Got an error from HuFi? Paste it here and I'll tell you what it means.\n\n"
        "HuFi asks for three read-only permissions: account balance, the ETH deposit address and spot trade "
        "history. I don't keep your key after a check."
    ),
    "btn_check": "🔑 Check a key",
    "pick_exchange": "Which exchange is the key for?",
    "pick_exchange_more": "Not listed on HuFi today:",
    "dex_no_key": "<b>{exchange}</b> needs no API key. {hint}",
    "pick_campaign": (
        "Which kind of HuFi campaign do you want to join? This only changes which permissions I highlight; "
        "I always check all three, as HuFi does."
    ),
    "campaign_any": "Not sure / all",
    "ask_key": (
        "Send me the <b>API key</b> for {exchange}.\n"
        "You can also send the key and the secret in one message, separated by a space or a line break.\n"
        "I delete the message right away."
    ),
    "ask_key_webapp": (
        "Tap <b>Enter the key securely</b> to type the key for {exchange} into a form that goes straight to me: "
        "it never becomes a chat message.\n\n"
        "Or send me the <b>API key</b> here. You can also send the key and the secret in one message, separated "
        "by a space or a line break. I delete the message right away."
    ),
    "btn_webapp": "🔒 Enter the key securely",
    "ask_secret": "Got the key ({fingerprint}). Now send the <b>secret key</b>. I delete it right away too.",
    "ask_separately": (
        "I deleted that message, but I could not tell which part of it is the API key: it held more than a key "
        "and a secret. Please send the <b>API key</b> alone first; I'll ask for the secret next."
    ),
    "ask_extra": "Last one: {exchange} also needs the <b>{label}</b> you chose when you created the key.",
    "deleted_notice": "🧹 I deleted your message with the {what}.",
    "delete_failed": (
        "⚠️ I could not delete your message with the {what}. Please delete it yourself now, and treat this key "
        "as exposed: when we are done, create a new one and delete this one on the exchange."
    ),
    "what_key": "API key",
    "what_secret": "secret",
    "what_pair": "key and secret",
    "what_extra": "passphrase",
    "checking": "🔎 Checking your {exchange} key {fingerprint}…",
    "queued": "⏳ Many people are checking keys right now. You are number {position} in the queue.",
    "state_waiting": "⏳",
    "state_granted": "✅",
    "state_failed": "❌",
    "state_not_checked": "▫️",
    "perm_VIEW_ACCOUNT_BALANCE": "Account balance",
    "perm_VIEW_DEPOSIT_ADDRESS": "ETH deposit address",
    "perm_VIEW_SPOT_TRADING_HISTORY": "Spot trade history",
    "verdict_ok": "✅ <b>Your {exchange} key {fingerprint} passes every check HuFi runs.</b>",
    "qualifies": "It qualifies for these HuFi campaign types: {types}.",
    "qualifies_none": "It does not qualify for any HuFi campaign type yet.",
    "forgot_after_ok": "I have not kept the key.",
    "verdict_fail": "❌ <b>{title}</b>",
    "verdict_partial": "Granted: {granted}. Missing: {missing}.",
    "step_header": "<b>Step {n} of {total}: {title}</b>\n{text}",
    "kept_for_recheck": Plural(
        "I keep the key encrypted for {minutes} minute so you can tap “Done, check again”.",
        "I keep the key encrypted for {minutes} minutes so you can tap “Done, check again”.",
        n="minutes",
    ),
    "not_kept": "I did not keep the key, so “check again” will ask for it.",
    "btn_again": "🔁 Done, check again",
    "btn_next": "➡️ Next step",
    "btn_support": "🙋 Talk to support",
    "btn_another": "🔑 Use another key",
    "btn_forget": "🗑 Forget my key",
    "question_prefix": "❓ {question}",
    "no_stored_key": Plural(
        "I no longer have that key (I keep keys for at most {minutes} minute, and never after /forget). "
        "Send it again to check it.",
        "I no longer have that key (I keep keys for at most {minutes} minutes, and never after /forget). "
        "Send it again to check it.",
        n="minutes",
    ),
    "forgot": "🗑 Done. I deleted every key and draft I was keeping for you.",
    "forgot_nothing": "I was not keeping any key for you.",
    "cancelled": "Okay, stopped. Nothing is kept. Use /check to start again.",
    "nothing_to_cancel": "There is nothing to cancel. Use /check to check a key.",
    "rate_limited": Plural(
        "You have checked {limit} key in the last hour, which is the most I allow, to keep stolen keys from "
        "being tested here. Please try again in {wait}.",
        "You have checked {limit} keys in the last hour, which is the most I allow, to keep stolen keys from "
        "being tested here. Please try again in {wait}.",
        n="limit",
    ),
    "rate_limited_key": Plural(
        "This API key has been checked {limit} time in the last hour (from any Telegram account), which is the "
        "most I allow for one key. Please try again in {wait}.",
        "This API key has been checked {limit} times in the last hour (from any Telegram account), which is the "
        "most I allow for one key. Please try again in {wait}.",
        n="limit",
    ),
    "rate_limited_global": Plural(
        "So many keys are being checked right now that I have reached my hourly limit for everyone (it keeps the "
        "exchanges from blocking me). This says nothing about your key. Please try again in {minutes} minute.",
        "So many keys are being checked right now that I have reached my hourly limit for everyone (it keeps the "
        "exchanges from blocking me). This says nothing about your key. Please try again in {minutes} minutes.",
        n="minutes",
    ),
    "wait_minutes": Plural("{minutes} minute", "{minutes} minutes", n="minutes"),
    "button_repeat": "Already on it: one moment.",
    "flow_timed_out": (
        "I stopped waiting for the rest of the key you started to send, and I kept none of it. "
        "Use /check whenever you are ready."
    ),
    "draft_lost": "I lost track of the key you started to send (it expires after a few minutes). Let's start again.",
    "stale_button": "This button is from an older message. Use /check to start again.",
    "unknown_input": "I did not get that. Use /check to check an API key, or /help to see what I can do.",
    "unknown_command": "I don't know that command. Use /help to see what I can do.",
    "media_hint": (
        "I can only read text here. Please don't send screenshots of your API settings if they show a secret. "
        "Use /check to check a key."
    ),
    "too_long": "That message is too long for me. Use /check to check a key.",
    "secret_outside_flow": (
        "🧹 I deleted your message because it looked like an API key or secret. To check a key, use /check: "
        "I will ask for each part and delete it straight away."
    ),
    "secret_in_command": (
        "🧹 I deleted your message because what followed the command looked like an API key or secret, and I did "
        "not act on it. Please send the command on its own: I ask for each part of a key myself and delete it "
        "straight away."
    ),
    "secret_in_edit": "🧹 I deleted the message you edited because it now looked like an API key or secret.",
    "group_secret": (
        "⚠️ A message that looked like an API key or secret was posted here{deleted}. Anyone in this chat may "
        "have seen it: please revoke that key on the exchange and create a new one. To check a key safely, "
        "talk to me in a private chat: {link}"
    ),
    "group_secret_deleted": " and I deleted it",
    "group_secret_not_deleted": " (I could not delete it: ask an admin to)",
    "error": "Sorry, something went wrong on my side. Please try again in a moment, or use /support.",
    "support_unavailable": (
        "Human support is not connected to this bot. You can reach HuFi at {contact}. Please never send your "
        "secret key to anyone."
    ),
    "banned": "Sorry, this bot can't help you at the moment. You can reach HuFi at {contact}.",
    "btn_question_other": "I'm not sure",
    "exchange_off": "{exchange} (off)",
    "group_secret_no_link": "a private chat with me",
    # -- /language ---------------------------------------------------------------------------------------------------
    "language_pick": "Which language should I write in? It is now {language}.",
    "language_set": "Done: from now on I write to you in {language}.",
    "language_current": "✓ {language}",
    # -- issue #16: the exchange's own words, HuFi's next step, pasted HuFi errors, /start <exchange> --------------
    "exchange_said_words": "{exchange} said: “{words}” (code <code>{code}</code>)",
    "exchange_said_words_only": "{exchange} said: “{words}”",
    "exchange_said_code": "{exchange} answered: <code>{code}</code>",
    "exchange_note": "What I saw: {note}",
    "hufi_next_ok": "<b>In HuFi:</b> {text}",
    "focus_header": "HuFi reported these as missing: {perms}. Here:",
    "focus_line": "{mark} {perm}",
    "focus_all_work": "All of them work with this key now.",
    "hufi_the_exchange": "the exchange",
    "hufi_missing": (
        "📋 That is HuFi's message for a key it could not use: {named} HuFi says “missing permissions” whenever "
        "{exchange} refuses one of its checks, so besides a permission that isn't ticked it can also be a typo in "
        "the key, a secret from another key, an expired key or an IP allow-list. {exchange}'s own reply tells them "
        "apart: let's run the same checks here."
    ),
    "hufi_missing_named": "its checks of {perms} were refused.",
    "hufi_missing_unnamed": "it doesn't say which checks failed.",
    "hufi_missing_deposit": (
        " When only the ETH deposit address is missing, the usual reason is that the account has no ETH deposit "
        "address yet."
    ),
    "hufi_invalid_banner": (
        "📋 HuFi shows this when a key that worked before failed its check again (HuFi re-checks keys while it "
        "scores campaigns): something changed on {exchange}, such as an expired key, a permission or an IP "
        "allow-list. Let's check the key here and find out what."
    ),
    "hufi_incomplete": (
        "📋 HuFi says a field was empty: the API key, the secret, or for KuCoin the API passphrase and for BitMart "
        "the memo. Let's check the key here with every part {exchange} needs."
    ),
    "hufi_failed": (
        "📋 HuFi shows this when its check could not finish: {exchange} did not answer in time or was down, HuFi's "
        "own service had a problem, or {exchange} sent a reply HuFi doesn't expect. It does not mean your "
        "permissions are wrong. Let's run the same three checks here and see what {exchange} actually says."
    ),
    "btn_check_exchange": "🔑 Check my {exchange} key",
    "hufi_check_named": "Tap the button and send me the {exchange} key: I'll look at these first.",
    "start_with_exchange": (
        "👋 Hi {name}! Let's check your <b>{exchange}</b> key the way HuFi does. Messages holding your key are "
        "deleted as soon as I read them."
    ),
    # -- support: the user's side --------------------------------------------------------------------------------
    "support_describe": (
        "🙋 I'll hand your case to a person from HuFi support, with the results of your last check "
        "(never your key or secret).\n\nDescribe the problem in a sentence, or tap Skip."
    ),
    "btn_skip": "Skip",
    "support_opened": (
        "✅ Your request #{ticket} is with HuFi support. Write here to add anything: I pass it on, and the "
        "team's answers appear in this chat.\n\n"
        "Please don't send screenshots or files that show a secret key: support never needs it."
    ),
    "support_reopened_by_message": (
        "🔓 I passed your message to HuFi support and reopened your request #{ticket}.\n\n"
        "Please don't send screenshots or files that show a secret key: support never needs it."
    ),
    "support_already_open": "Your request #{ticket} is already with HuFi support: just write here and I pass it on.",
    "support_added_check": "I added the results of this check to it.",
    "support_cancelled": "Okay, I did not contact support. Use /support whenever you need a person.",
    "support_secret_relay": (
        "🧹 I deleted your message because it looked like an API key or secret, and I never pass those on: "
        "HuFi support never needs your secret."
    ),
    "support_relay_limited": Plural(
        "You have sent many messages to HuFi support in the last hour, so I am not passing more on for now. "
        "Support already has what you sent; you can write again in {minutes} minute.",
        "You have sent many messages to HuFi support in the last hour, so I am not passing more on for now. "
        "Support already has what you sent; you can write again in {minutes} minutes.",
        n="minutes",
    ),
    "support_closed_user": (
        "Your support request #{ticket} was closed. If you still need help, just write here and it reopens."
    ),
    "support_reopened_user": "Your support request #{ticket} was reopened by HuFi support.",
    # -- support: the staff's side -----------------------------------------------------------------------------
    "staff_only": "Only HuFi support staff can use this command.",
    "staff_need_user": (
        "Whose ticket? Use /{command} in the user's topic, as a reply to one of their messages, or with their "
        "user id: <code>/{command} 123456789</code>"
    ),
    "staff_closed": "✅ Ticket #{ticket} closed. The user was told; their next message reopens it.",
    "staff_no_open": "This user has no open ticket.",
    "staff_reopened": "🔓 Ticket #{ticket} is open.",
    "staff_recheck_running": "🔁 Re-checking the kept {exchange} key {fingerprint}…",
    "staff_recheck_no_key": Plural(
        "I no longer keep a key for this user (keys are kept for at most {minutes} minute, and wiped after a "
        "passing check or /forget). Ask them to run /check again.",
        "I no longer keep a key for this user (keys are kept for at most {minutes} minutes, and wiped after a "
        "passing check or /forget). Ask them to run /check again.",
        n="minutes",
    ),
    "staff_recheck_failed": "⚠️ The re-check could not run: {error}",
    "staff_banned": (
        "⛔ User <code>{user}</code> is banned: they get a polite refusal and nothing is relayed. /unban lifts it."
    ),
    "staff_unbanned": "User <code>{user}</code> is no longer banned.",
    "staff_not_banned": "User <code>{user}</code> was not banned.",
    "staff_tickets_none": "No open tickets.",
    "staff_tickets_header": "<b>Open tickets: {count}</b> (oldest first)",
    "staff_ticket_line": "#{ticket} · {name} · <code>{user}</code> · opened {opened} · {cause}{link}",
    "staff_ticket_no_check": "no check",
    "staff_ticket_topic": "topic",
    "staff_anonymous": (
        "I can't tell who you are when you post as the group, and only listed staff may act here. To answer users "
        "or use staff commands, post as yourself: switch off “Remain anonymous” in your administrator rights "
        "(group settings → Administrators)."
    ),
    "note_user_blocked": "⚠️ Not delivered: the user has blocked the bot.",
    "note_not_delivered_chat_gone": "⚠️ Not delivered to the user: their chat no longer exists.",
    "note_not_delivered_deleted": "⚠️ Not delivered to the user: the message was deleted before I could copy it.",
    "note_not_delivered_uncopyable": (
        "⚠️ Not delivered to the user: Telegram does not let bots copy this kind of message. Send it as text, a "
        "photo or a file instead."
    ),
    "note_not_delivered_gave_up": (
        "⚠️ A message to the user could not be delivered after retrying for a long time. Please send it again."
    ),
    "note_not_shown_uncopyable": (
        "⚠️ The user sent something I can't show here: Telegram does not let bots copy that kind of message."
    ),
    "note_user_banned": "⛔ This user is banned: nothing is relayed to them. /unban lifts it.",
    "note_reopened_by_user": "🔓 The user wrote again: ticket #{ticket} reopened.",
}


#: The support card's words (bot.support.card's view, laid out by handlers.card), in the staff language.
CARD_EN: dict[str, str | Plural] = {
    "header": "🆘 <b>Ticket #{ticket}</b>",
    "header_new_check": "📎 <b>Ticket #{ticket}: a newer check</b>",
    "header_recheck": "🔁 <b>Ticket #{ticket}: re-check requested by staff</b>",
    "header_recheck_no_ticket": "🔁 <b>Re-check requested by staff</b> (no open ticket)",
    "header_new_topic": "🧵 <b>Ticket #{ticket}</b> (new topic: the previous one was deleted)",
    "header_again": (
        "🧵 <b>Ticket #{ticket}</b> (again: the support group was upgraded or got topics; earlier messages are "
        "further up)"
    ),
    "user": "👤 {name}{username} · id <code>{id}</code> · language {language}",
    "language_app": "{language}, Telegram app in {app}",
    "user_blocked": "⚠️ The user has blocked the bot: replies can't be delivered.",
    "description": "📝 {text}",
    "no_description": "📝 (no description)",
    "no_check": "🔎 No key check on record for this user.",
    "check": "🔎 Check #{id} at {time} · {exchange} · key <code>{fingerprint}</code>",
    "campaign": "Campaign type: {campaign}",
    "campaign_any": "not chosen",
    "perm_line": "{mark} {permission}{detail}",
    "perm_detail": " — {text}",
    "verdict_ok": "✅ Passes every check HuFi runs.",
    "cause": "Cause: <b>{title}</b> (<code>{cause}</code>)",
    "precheck": "Stopped before any request: <b>{title}</b> (<code>{cause}</code>)",
    "alternative": "{title} (<code>{cause}</code>)",
    "alternatives": "Or else: {items}",
    "code": "Exchange code: <code>{code}</code>",
    "detail": "Detail: <code>{detail}</code>",
    "qualifies": "Qualifies for: {types}",
    "qualifies_none": "Qualifies for no campaign type yet.",
    "steps": "Steps shown to the user:",
    "step": "{n}. {title}",
    "steps_more": Plural("… and {count} more", "… and {count} more"),
    "footer": "Bot {version} · card at {time}",
    "truncated": "… (shortened)",
}

#: The command menu (setMyCommands, one list per language): command -> its description (1-256 characters).
COMMANDS_EN: dict[str, str | Plural] = {
    "check": "Check an exchange API key the way HuFi does",
    "status": "Is HuFi, an exchange or this bot down?",
    "forget": "Delete any key kept for “check again”",
    "support": "Talk to HuFi support",
    "language": "Choose the language I write in",
    "cancel": "Stop the current step",
    "help": "What this bot does",
}

_NOTES = {
    "welcome": "The first message a user sees (/start).",
    "wait_minutes": "Put into “try again in {wait}”: the form that follows “in”.",
    "language_pick": "{language} is the name of the current language in itself (e.g. “Русский”).",
    "language_set": "{language} is the name of the new language in itself.",
    "state_waiting": "A mark in the progress message: keep it an emoji.",
    "menu_join": "Between menu items.",
}
CHAT = Texts("chat", EN, html=True, notes=_NOTES, description="the private chat")
CARD = Texts("card", CARD_EN, html=True, description="the support card (staff language)")
COMMANDS = Texts("command", COMMANDS_EN, description="the command menu (setMyCommands): at most 256 characters")


def t(language: str, key: str, /, **values: object) -> str:
    """The chat text `key` in `language` (English where the catalog has none), formatted with `values`."""
    return CHAT(language, key, **values)


def card_text(language: str, key: str, /, **values: object) -> str:
    """A support-card text in `language` (the staff language)."""
    return CARD(language, key, **values)
