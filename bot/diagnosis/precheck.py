"""Checks that need no request: credentials that can't be right whatever the exchange says, and credentials the
exchange would accept but HuFi's own key form refuses.

Each check has its own cause and code. A detail never contains any part of a credential: it names the field
and the problem, nothing else. The detail is English (the support card's); `args` carry the same facts (`kind`, the
field names, the numbers) for `bot.advice.prechecks`, which says them in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.diagnosis.formats import FORMATS, MASK_RE, MIN_LENGTH, PEM_RE, CredentialFormat, full, only
from bot.diagnosis.model import Cause, Diagnosis
from bot.exchanges.catalog import KEY_MAX_LENGTH, SECRET_MAX_LENGTH, ExchangeSpec
from bot.exchanges.credentials import CredentialProblem, Credentials, incomplete_problems
from bot.security import b64_looks_valid

_NAMES = {"api_key": "API key", "secret": "secret key", "passphrase": "passphrase", "memo": "memo"}


@dataclass(frozen=True, slots=True)
class FormLimit:
    """One field's limits in HuFi's key form, counted after trimming."""

    max_length: int
    min_length: int = 0
    no_whitespace: bool = False


#: HuFi's "add API key" form (campaign-launcher client `AddApiKeyDialog`, its yup schema; reference/hufi.md §1 and
#: realworld.md §3): key and secret are trimmed, the key may have at most 100 characters and the secret 200 (the
#: server would take 200 and 5000); BitMart's memo is required and at most 32; KuCoin's passphrase is required,
#: 7-32 characters and without whitespace. A key the exchange accepts can still be refused here, e.g. a Bybit or
#: Binance key with a self-generated RSA/Ed25519 private key as its secret.
HUFI_FORM: Mapping[str, FormLimit] = MappingProxyType({"api_key": FormLimit(100), "secret": FormLimit(200)})
HUFI_FORM_EXTRAS: Mapping[str, Mapping[str, FormLimit]] = MappingProxyType(
    {
        "bitmart": {"memo": FormLimit(32, 1)},
        "kucoin": {"passphrase": FormLimit(32, 7, no_whitespace=True)},
    }
)


def _label(spec: ExchangeSpec, field: str) -> str:
    cred = spec.credential(field)
    return cred.label if cred is not None else _NAMES.get(field, field)


def _args(kind: str, **values: object) -> tuple[tuple[str, str], ...]:
    return (("kind", kind), *((name, str(value)) for name, value in values.items()))


def _strip(value: object) -> str | None:
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else str(value).strip()


def precheck(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    """A Diagnosis when the credentials can't be right whatever the exchange says; None otherwise."""
    if not spec.needs_key:
        return Diagnosis(Cause.NO_KEY_NEEDED, code="dex", detail=spec.connect_hint, args=_args("dex"))
    clean = Credentials(
        _strip(creds.api_key) or "",
        _strip(creds.secret) or "",
        _strip(creds.passphrase),
        _strip(creds.memo),
    )
    fmt = FORMATS.get(spec.id, CredentialFormat())
    return (
        _incomplete(spec, clean)
        or _pem_unsupported(spec, clean, fmt)
        or _hufi_form(spec, clean)
        or _whitespace(spec, clean, fmt)
        or _lengths_hufi(spec, clean)
        or _same_values(spec, clean)
        or _masked_or_foreign(spec, clean, fmt)
        or _swapped(spec, clean, fmt)
        or _shape(spec, clean, fmt)
    )


def _incomplete(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    missing = [p for p in incomplete_problems(spec, creds) if p.problem == "missing"]
    if not missing:
        return None
    return Diagnosis(
        Cause.INCOMPLETE_CREDENTIALS,
        code=f"{missing[0].field}_missing",
        detail=" ".join(p.message for p in missing),
        args=_args("missing", fields=",".join(p.field for p in missing)),
    )


def _hufi_form(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    """What HuFi's own form would refuse, for the exchanges HuFi lists."""
    if not spec.hufi_listed:
        return None
    limits = {**HUFI_FORM, **HUFI_FORM_EXTRAS.get(spec.id, {})}
    values = {"api_key": creds.api_key, "secret": creds.secret, "passphrase": creds.passphrase, "memo": creds.memo}
    for field, limit in limits.items():
        value = values.get(field) or ""
        label = _label(spec, field)
        if len(value) > limit.max_length:
            problem, why = "too_long", f"it takes at most {limit.max_length} characters and this one has {len(value)}"
            args = _args("hufi_too_long", field=field, max=limit.max_length, length=len(value))
        elif len(value) < limit.min_length:
            problem, why = "too_short", f"it takes at least {limit.min_length} characters and this one has {len(value)}"
            args = _args("hufi_too_short", field=field, min=limit.min_length, length=len(value))
        elif limit.no_whitespace and any(ch.isspace() for ch in value):
            problem, why = "whitespace", "it may not contain spaces and this one does"
            args = _args("hufi_whitespace", field=field)
        else:
            continue
        return Diagnosis(
            Cause.HUFI_FORM_LIMIT,
            code=f"hufi_{field}_{problem}",
            detail=f"HuFi's key form refuses this {label}: {why}. {spec.display_name} may accept the key, "
            "but HuFi's form will not.",
            args=args,
        )
    return None


def _is_pem(fmt: CredentialFormat, secret: str) -> bool:
    return fmt.pem_secret and PEM_RE.search(secret) is not None


def _pem_unsupported(spec: ExchangeSpec, creds: Credentials, fmt: CredentialFormat) -> Diagnosis | None:
    if fmt.pem_secret or "PRIVATE KEY" not in creds.secret:
        return None
    return Diagnosis(
        Cause.MALFORMED_CREDENTIALS,
        code="secret_pem_unsupported",
        detail=f"The secret is a private key file; {spec.display_name} issues plain secret strings.",
        args=_args("pem_unsupported"),
    )


def _whitespace(spec: ExchangeSpec, creds: Credentials, fmt: CredentialFormat) -> Diagnosis | None:
    bad: list[str] = []
    if any(ch.isspace() for ch in creds.api_key):
        bad.append("api_key")
    if any(ch.isspace() for ch in creds.secret) and not _is_pem(fmt, creds.secret):
        bad.append("secret")
    for cred in spec.extra_credentials:
        value = creds.extra(cred.name) or ""
        if (cred.no_whitespace and any(ch.isspace() for ch in value)) or "\n" in value or "\r" in value:
            bad.append(cred.name)
    if not bad:
        return None
    fields = ", ".join(f"the {_label(spec, f)}" for f in bad)
    return Diagnosis(
        Cause.MALFORMED_CREDENTIALS,
        code="whitespace_inside",
        detail=f"There is a space or line break inside {fields}; the exchange never issues those.",
        args=_args("whitespace_inside", fields=",".join(bad)),
    )


def _lengths_hufi(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    problems = [p for p in incomplete_problems(spec, creds) if p.problem in ("too_long", "too_short")]
    if not problems:
        return None
    first = problems[0]
    return Diagnosis(
        Cause.MALFORMED_CREDENTIALS,
        code=f"{first.field}_{first.problem}",
        detail=" ".join(p.message for p in problems),
        args=_length_args(spec, first),
    )


def _length_args(spec: ExchangeSpec, problem: CredentialProblem) -> tuple[tuple[str, str], ...]:
    """The limit `incomplete_problems` found broken, as `args`."""
    cred = spec.credential(problem.field)
    if problem.problem == "too_short":
        return _args("too_short", field=problem.field, min=cred.min_length if cred is not None else 1)
    limit = {"api_key": KEY_MAX_LENGTH, "secret": SECRET_MAX_LENGTH}.get(problem.field)
    return _args("too_long", field=problem.field, max=limit if limit is not None else cred.max_length if cred else 0)


def _same_values(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    if creds.api_key == creds.secret:
        return Diagnosis(
            Cause.KEY_SECRET_SWAPPED,
            code="key_equals_secret",
            detail="The API key and the secret key are the same text; one of them was pasted twice.",
            args=_args("key_equals_secret"),
        )
    for cred in spec.extra_credentials:
        value = creds.extra(cred.name)
        if value and value in (creds.api_key, creds.secret):
            which = "API key" if value == creds.api_key else "secret key"
            return Diagnosis(
                Cause.PASSPHRASE_WRONG,
                code=f"{cred.name}_equals_{'key' if which == 'API key' else 'secret'}",
                detail=f"The {cred.label} is the same text as the {which}; it is a separate value you chose.",
                args=_args("extra_equals", field=cred.name, other="api_key" if which == "API key" else "secret"),
            )
    return None


def _masked_or_foreign(spec: ExchangeSpec, creds: Credentials, fmt: CredentialFormat) -> Diagnosis | None:
    for field in ("api_key", "secret"):
        value = creds.api_key if field == "api_key" else creds.secret
        pem = field == "secret" and _is_pem(fmt, value)
        if not pem and MASK_RE.search(value):
            return Diagnosis(
                Cause.MALFORMED_CREDENTIALS,
                code="masked_value",
                detail=f"The {_label(spec, field)} contains '*' or '…': it looks like the partly hidden form "
                "the exchange displays, not the full value.",
                args=_args("masked_value", field=field),
            )
        if not value.isascii() or not (pem or value.isprintable()):
            return Diagnosis(
                Cause.MALFORMED_CREDENTIALS,
                code="unexpected_characters",
                detail=f"The {_label(spec, field)} contains characters that no exchange uses in keys "
                "(non-Latin letters, symbols or invisible characters).",
                args=_args("unexpected_characters", field=field),
            )
    return None


def _swapped(spec: ExchangeSpec, creds: Credentials, fmt: CredentialFormat) -> Diagnosis | None:
    key, secret = creds.api_key, creds.secret
    if fmt.key is None or fmt.secret is None:
        return None
    crossed = full(fmt.secret, key) and full(fmt.key, secret)
    own = full(fmt.key, key) or full(fmt.secret, secret)
    if crossed and not own:
        return Diagnosis(
            Cause.KEY_SECRET_SWAPPED,
            code="key_secret_swapped",
            detail=f"The API key looks like a {spec.display_name} secret key, and the secret like an API key: "
            "they were probably entered the other way round.",
            args=_args("key_secret_swapped"),
        )
    return None


def _shape(spec: ExchangeSpec, creds: Credentials, fmt: CredentialFormat) -> Diagnosis | None:
    pem = _is_pem(fmt, creds.secret)
    if fmt.secret_base64 and not pem and not b64_looks_valid(creds.secret):
        return Diagnosis(
            Cause.MALFORMED_CREDENTIALS,
            code="secret_not_base64",
            detail=f"{spec.display_name} secrets are base64 text; this one is not (a character is missing, "
            "added or changed).",
            args=_args("secret_not_base64"),
        )
    checks: list[tuple[str, str, str | None, tuple[int, int] | None]] = [
        ("api_key", creds.api_key, fmt.key_alphabet, fmt.key_lengths)
    ]
    if not pem:
        checks.append(("secret", creds.secret, fmt.secret_alphabet, fmt.secret_lengths))
    for field, value, alphabet, lengths in checks:
        short = "key" if field == "api_key" else "secret"
        if not only(alphabet, value):
            return Diagnosis(
                Cause.MALFORMED_CREDENTIALS,
                code=f"{short}_alphabet",
                detail=f"The {_label(spec, field)} contains a character {spec.display_name} never uses in it.",
                args=_args("alphabet", field=field),
            )
        low, high = lengths or (MIN_LENGTH, 10**6)
        if not low <= len(value) <= high:
            expected = f"{low}" if low == high else f"at least {low}" if high >= 10**6 else f"{low} to {high}"
            if low == high:
                args = _args("length_exact", field=field, length=len(value), n=low)
            elif high >= 10**6:
                args = _args("length_min", field=field, length=len(value), min=low)
            else:
                args = _args("length_range", field=field, length=len(value), min=low, max=high)
            return Diagnosis(
                Cause.MALFORMED_CREDENTIALS,
                code=f"{short}_length",
                detail=f"The {_label(spec, field)} has {len(value)} characters; {spec.display_name} issues {expected}.",
                args=args,
            )
    return None
