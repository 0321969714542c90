"""Turn a diagnosis into steps, titles and questions, from the text tables in `bot.advice.texts`, in the user's
language (`language`: a code of `bot.i18n.LANGUAGES`; English where the catalog has no translation)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from bot.advice.causes import HufiNext, recheck_helps, traits
from bot.advice.exchanges import (
    Guide,
    Ui,
    Variant,
    deposit_network,
    guide,
    permission_names,
    screen_words,
    variant_for,
)
from bot.advice.model import Answer, Question, Step
from bot.advice.texts import DEFAULT_LANGUAGE, lookup, plural_text
from bot.diagnosis.model import CAMPAIGN_PERMISSIONS, CampaignType, Cause, Diagnosis, Permission
from bot.exchanges.catalog import CATALOG
from bot.i18n import join_items, pgettext
from bot.security import redact

#: HuFi's troubleshooting order (docs "can't connect exchange API key"): general issues first, then permissions,
#: typo, secret of another key, expiry, IP allow-list, deposit address; then what HuFi's page doesn't cover (the
#: account-level causes last: only the exchange can lift those).
HUFI_ORDER: tuple[Cause, ...] = (
    Cause.EXCHANGE_UNREACHABLE,
    Cause.EXCHANGE_MAINTENANCE,
    Cause.RATE_LIMITED,
    Cause.CLOCK_SKEW,
    Cause.CHECK_FAILED,
    Cause.PERMISSION_MISSING,
    Cause.INCOMPLETE_CREDENTIALS,
    Cause.HUFI_FORM_LIMIT,
    Cause.MALFORMED_CREDENTIALS,
    Cause.KEY_SECRET_SWAPPED,
    Cause.KEY_INVALID,
    Cause.SECRET_MISMATCH,
    Cause.PASSPHRASE_WRONG,
    Cause.KEY_EXPIRED,
    Cause.KEY_FROZEN,
    Cause.IP_NOT_WHITELISTED,
    Cause.NO_DEPOSIT_ADDRESS,
    Cause.NONCE_WINDOW,
    Cause.NONCE_REUSED,
    Cause.DEMO_KEY,
    Cause.SUBACCOUNT_NO_API,
    Cause.ACCOUNT_RESTRICTED,
    Cause.RISK_CONTROL,
    Cause.REGION_BLOCKED,
    Cause.NO_KEY_NEEDED,
    Cause.UNKNOWN,
    Cause.OK,
)
_ORDER = {c: i for i, c in enumerate(HUFI_ORDER)}
#: Causes a question never offers: they are not something the user can tell us about.
_NOT_ASKABLE = frozenset({Cause.OK, Cause.UNKNOWN, Cause.CHECK_FAILED, Cause.NO_KEY_NEEDED})
_PERM_WHAT = {
    Permission.VIEW_ACCOUNT_BALANCE: "perm_balance",
    Permission.VIEW_DEPOSIT_ADDRESS: "perm_deposit",
    Permission.VIEW_SPOT_TRADING_HISTORY: "perm_trades",
}


class _Fill(dict[str, str]):
    """Leaves unknown placeholders as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fmt(template: object, ctx: dict[str, str]) -> str:
    if not isinstance(template, str):
        return ""
    try:
        return template.format_map(_Fill(ctx))
    except (ValueError, IndexError, AttributeError):
        return template


def _exchange(exchange_id: object) -> str:
    try:
        return str(exchange_id or "").strip().lower()
    except Exception:  # noqa: BLE001
        return ""


def _valid_ips(outbound_ips: Iterable[object]) -> list[str]:
    ips: list[str] = []
    for raw in outbound_ips or ():
        try:
            ip = str(ipaddress.ip_address(str(raw).strip()))
        except ValueError:
            try:
                ip = str(ipaddress.ip_network(str(raw).strip(), strict=False))
            except ValueError:
                continue
        if ip not in ips:
            ips.append(ip)
    return ips


def exchange_permission_names(exchange_id: str, language: str = DEFAULT_LANGUAGE) -> dict[Permission, str]:
    """What each HuFi permission's checkbox is called on `exchange_id` (generic wording where unknown)."""
    return permission_names(_exchange(exchange_id), language=language)


def exchange_words(label: str, exchange_id: str, language: str = DEFAULT_LANGUAGE) -> str:
    """An exchange's own label (a credential's name, "API passphrase") as the user reads it in `language`: the
    exchange's localised words where known, else the English ones quoted (`bot.advice.exchanges`)."""
    return screen_words(Ui(label), _exchange(exchange_id), language)


def _permission_list(names: dict[Permission, str], language: str, wanted: Sequence[Permission]) -> str:
    """E.g. "Enable Reading (balances, deposit address and trade history)"."""
    phrases = lookup(language, "phrases")
    groups: dict[str, list[str]] = {}
    for perm in wanted:
        groups.setdefault(names[perm], []).append(phrases[_PERM_WHAT[perm]])
    joiner = phrases["list_and"]
    items = []
    for name, whats in groups.items():
        what = whats[0] if len(whats) == 1 else join_items(whats[:-1], language) + joiner + whats[-1]
        items.append(_fmt(phrases["perm_item"], {"name": name, "what": what}))
    return phrases["perm_join"].join(items)


def _expiry_text(found: Guide | None, name: str, language: str, ips: list[str], *, unbound_only: bool) -> str:
    """What the exchange's key lifetime rule means for this user ("" when the exchange has none we know of).
    `unbound_only`: only a rule about keys without an IP binding (for the advice to remove an allow-list)."""
    if found is None or found.expiry is None:
        return ""
    expiry = found.expiry
    if unbound_only and expiry.days_without_ip is None:
        return ""
    texts = lookup(language, "expiry")
    ctx = {"exchange": name, "days": str(expiry.days_without_ip or ""), "ips": ", ".join(ips)}
    text = _fmt(plural_text(language, expiry.days_without_ip or 0, "expiry", expiry.text), ctx)
    if expiry.days_without_ip is not None:
        text += _fmt(texts["days_without_ip_ips" if ips else "days_without_ip_no_ips"], ctx)
    return text


def _context(
    exchange: str,
    language: str,
    outbound_ips: Iterable[object] = (),
    missing: Iterable[Permission] | None = None,
    variant: Variant | None = None,
) -> dict[str, str]:
    phrases = lookup(language, "phrases")
    spec = CATALOG.get(exchange)
    found = guide(exchange)
    name = spec.display_name if spec is not None else (exchange or "the exchange")
    url = spec.api_management_url if spec is not None else ""
    join = phrases["menu_join"]
    if found is not None:
        path = [screen_words(item, exchange, language) for item in found.menu.path]
        menu = join.join(path)
        menu_create = join.join((*path, screen_words(found.menu.create, exchange, language)))
        api_page = _fmt(phrases["api_page_url" if url else "api_page"], {"exchange": name, "url": url, "menu": menu})
    else:
        menu, menu_create = phrases["menu_unknown"], phrases["menu_create_unknown"]
        api_page = _fmt(phrases["api_page_unknown"], {"exchange": name})
    wanted = [p for p in Permission if missing is None or p in set(missing)] or list(Permission)
    labels = [screen_words(Ui(c.label), exchange, language) for c in spec.extra_credentials] if spec else []
    ips = _valid_ips(outbound_ips)
    names = permission_names(exchange, variant, language)
    ctx = {
        "exchange": name,
        "api_page": api_page,
        "api_page_short": _fmt(phrases["api_page_short"], {"exchange": name}),
        "menu": menu,
        "menu_create": menu_create,
        "perm_balance": names[Permission.VIEW_ACCOUNT_BALANCE],
        "perm_deposit": names[Permission.VIEW_DEPOSIT_ADDRESS],
        "perm_trades": names[Permission.VIEW_SPOT_TRADING_HISTORY],
        "perm_list": _permission_list(names, language, wanted),
        "passphrase_label": labels[0] if labels else phrases["passphrase"],
        "extra_needed": "".join(_fmt(phrases["extra_needed"], {"label": label}) for label in labels),
        "deposit_network": deposit_network(exchange, language),
        "ips_text": _fmt(phrases["ips_known"], {"ips": ", ".join(ips)}) if ips else phrases["ips_unknown"],
        "connect_hint": connect_hint(exchange, language) or phrases["default_connect_hint"],
    }
    unbound = _expiry_text(found, name, language, ips, unbound_only=True)
    ctx["expiry_unbound"] = " " + unbound if unbound else ""
    ctx["expiry_why"] = _expiry_text(found, name, language, ips, unbound_only=False) or phrases["expiry_generic"]
    return ctx


#: The catalog context of an exchange's `connect_hint` (a DEX: how to connect instead of a key).
CONNECT_HINT_CONTEXT = "exchange.connect_hint"


def connect_hint(exchange_id: str, language: str = DEFAULT_LANGUAGE) -> str:
    """How to connect a DEX in HuFi instead of a key (the catalog's `connect_hint`, in `language`); "" for none."""
    spec = CATALOG.get(_exchange(exchange_id))
    hint = spec.connect_hint if spec is not None else ""
    return pgettext(language, f"{CONNECT_HINT_CONTEXT}.{spec.id}", hint) if spec is not None and hint else ""


def cause_title(cause: Cause | str, language: str = DEFAULT_LANGUAGE, *, exchange_id: str = "") -> str:
    """A one-line human name for `cause`, e.g. "The API key was not recognised"."""
    try:
        key = Cause(str(cause)).value
    except ValueError:
        key = Cause.UNKNOWN.value
    title = lookup(language, "titles", key) or lookup(language, "titles", Cause.UNKNOWN.value)
    return redact(_fmt(title, _context(_exchange(exchange_id), language)))


def qualifying_campaigns(granted: Iterable[Permission]) -> list[CampaignType]:
    """The HuFi campaign types a key with these permissions can join."""
    have = set(granted)
    return [ct for ct in CampaignType if CAMPAIGN_PERMISSIONS[ct] <= have]


def _campaign_step(language: str, granted: Iterable[Permission]) -> Step:
    phrases = lookup(language, "phrases")
    types = qualifying_campaigns(granted)
    if len(types) == len(CampaignType):
        text = phrases["campaigns_all"]
    elif types:
        names = [lookup(language, "campaign_names", ct.value) or ct.value for ct in types]
        text = _fmt(phrases["campaigns_some"], {"campaigns": join_items(names, language)})
    else:
        text = phrases["campaigns_none"]
    return Step(phrases["campaigns_title"], text)


def _notes_step(cause: Cause, exchange: str, language: str, ctx: dict[str, str]) -> Step | None:
    """The exchange's notes that matter for `cause`: its key lifetime rule where the fix touches the key (not for the
    IP allow-list advice, which says it in its own step), and its extra steps."""
    found = guide(exchange)
    if found is None:
        return None
    touches = traits(cause).touches_key
    parts: list[str] = []
    if touches and cause is not Cause.IP_NOT_WHITELISTED:
        expiry = ctx["expiry_why"] if found.expiry is not None else ""
        if expiry:
            parts.append(expiry)
    extras = lookup(language, "extras")
    for extra in found.extras:
        if (extra.causes and cause in extra.causes) or (not extra.causes and touches):
            parts.append(_fmt(extras.get(extra.text, ""), ctx))
    text = " ".join(p for p in parts if p)
    if not text:
        return None
    return Step(_fmt(lookup(language, "phrases", "notes_title"), ctx), text)


def hufi_next_text(cause: Cause | None, exchange_id: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What to do in HuFi's app once the key works ("" when nothing: a DEX). `cause` None: the key passes."""
    exchange = _exchange(exchange_id)
    key = "ok" if cause is None else traits(cause).hufi.value
    if key == HufiNext.NONE.value:
        return ""
    return redact(_fmt(lookup(language, "hufi", key) or "", _context(exchange, language)))


def steps_for(
    diagnosis: Diagnosis | None,
    exchange_id: str,
    *,
    outbound_ips: Sequence[str] = (),
    language: str = DEFAULT_LANGUAGE,
    granted: Iterable[Permission] | None = None,
    missing: Iterable[Permission] | None = None,
    key_permissions: Iterable[str] = (),
) -> list[Step]:
    """What to do about `diagnosis` on `exchange_id`, in order.

    The primary cause's steps come first (an exchange's own steps, or a reply-dependent variant of them), then one
    step per alternative (in HuFi's troubleshooting order), then the exchange's notes for this cause (key lifetime,
    extra steps), then, when `granted` is given, which campaign types the key already qualifies for, "check again"
    where checking the same key again can help, and last what to do in HuFi once the key works.
    `outbound_ips` are the addresses HuFi connects from (for keys with an IP allow-list); `missing` narrows the
    permission list to what failed; `key_permissions` are the permission names a key-info reply listed (they
    decide reply-dependent variants, e.g. Kraken's Deposit Funds).
    """
    cause = diagnosis.cause if isinstance(diagnosis, Diagnosis) else Cause.OK
    exchange = _exchange(exchange_id)
    missing_list = list(missing) if missing is not None else None
    variant = variant_for(exchange, cause, frozenset(missing_list or ()), frozenset(str(p) for p in key_permissions))
    ctx = _context(exchange, language, outbound_ips, missing_list, variant)
    table = lookup(language, "steps", cause.value) or lookup(language, "steps", Cause.UNKNOWN.value)
    raw = (
        (table.get(f"{exchange}@{variant.name}") if variant is not None else None)
        or table.get(exchange)
        or table.get("default")
        or []
    )
    steps = [Step(_fmt(title, ctx), _fmt(text, ctx)) for title, text in raw]

    alternatives = diagnosis.alternatives if isinstance(diagnosis, Diagnosis) else ()
    phrases = lookup(language, "phrases")
    for alt in sorted(set(alternatives) - {cause}, key=lambda c: _ORDER.get(c, len(_ORDER))):
        title = _fmt(phrases["if_not"], {"title": cause_title(alt, language, exchange_id=exchange)})
        steps.append(Step(title, _fmt(lookup(language, "summaries", alt.value), ctx)))
    if cause not in (Cause.OK, Cause.NO_KEY_NEEDED):
        notes = _notes_step(cause, exchange, language, ctx)
        if notes is not None:
            steps.append(notes)
    if granted is not None:
        steps.append(_campaign_step(language, granted))
    if cause not in (Cause.OK, Cause.NO_KEY_NEEDED):
        if recheck_helps(cause):
            steps.append(Step(phrases["recheck_title"], phrases["recheck_text"]))
        hufi = hufi_next_text(cause, exchange, language)
        if hufi:
            steps.append(Step(_fmt(phrases["hufi_title"], ctx), hufi))
    return [Step(redact(s.title), redact(s.text)) for s in steps if s.title.strip() and s.text.strip()]


def question_for(diagnosis: Diagnosis | None, exchange_id: str, language: str = DEFAULT_LANGUAGE) -> Question | None:
    """A question whose answer settles an ambiguous diagnosis, or None when there is nothing to ask."""
    if not isinstance(diagnosis, Diagnosis) or not diagnosis.alternatives:
        return None
    cands = [c for c in (diagnosis.cause, *diagnosis.alternatives) if c not in _NOT_ASKABLE]
    if len(cands) < 2:
        return None
    questions: list[dict[str, Any]] = lookup(language, "questions") or []
    by_pair = {frozenset(q["about"]): q for q in questions}
    pairs = [(cands[0], c) for c in cands[1:]] + [(a, b) for i, a in enumerate(cands) for b in cands[i + 1 :]]
    exchange = _exchange(exchange_id)
    ctx = _context(exchange, language)
    for a, b in pairs:
        q = by_pair.get(frozenset({a.value, b.value}))
        if q is None:
            continue
        answers = []
        for label, target in q["answers"]:
            cause = cands[0] if target == "primary" else Cause(target)
            answers.append(Answer(redact(_fmt(label, ctx)), cause))
        if 2 <= len(answers) <= 4:
            return Question(q["key"], redact(_fmt(q["text"], ctx)), tuple(answers))
    return None
