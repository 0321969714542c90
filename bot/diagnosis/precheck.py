"""Checks that need no request: credentials that can't be right whatever the exchange says.

Each check has its own cause and code. A detail never contains any part of a credential: it names the field
and the problem, nothing else.
"""

from __future__ import annotations

from bot.diagnosis.formats import FORMATS, MASK_RE, MIN_LENGTH, PEM_RE, CredentialFormat, full, only
from bot.diagnosis.model import Cause, Diagnosis
from bot.exchanges.catalog import ExchangeSpec
from bot.exchanges.credentials import Credentials, incomplete_problems
from bot.security import b64_looks_valid

_NAMES = {"api_key": "API key", "secret": "secret key", "passphrase": "passphrase", "memo": "memo"}


def _label(spec: ExchangeSpec, field: str) -> str:
    cred = spec.credential(field)
    return cred.label if cred is not None else _NAMES.get(field, field)


def _strip(value: object) -> str | None:
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else str(value).strip()


def precheck(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    """A Diagnosis when the credentials can't be right whatever the exchange says; None otherwise."""
    if not spec.needs_key:
        return Diagnosis(Cause.NO_KEY_NEEDED, code="dex", detail=spec.connect_hint)
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
    )


def _is_pem(fmt: CredentialFormat, secret: str) -> bool:
    return fmt.pem_secret and PEM_RE.search(secret) is not None


def _pem_unsupported(spec: ExchangeSpec, creds: Credentials, fmt: CredentialFormat) -> Diagnosis | None:
    if fmt.pem_secret or "PRIVATE KEY" not in creds.secret:
        return None
    return Diagnosis(
        Cause.MALFORMED_CREDENTIALS,
        code="secret_pem_unsupported",
        detail=f"The secret is a private key file; {spec.display_name} issues plain secret strings.",
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
    )


def _same_values(spec: ExchangeSpec, creds: Credentials) -> Diagnosis | None:
    if creds.api_key == creds.secret:
        return Diagnosis(
            Cause.KEY_SECRET_SWAPPED,
            code="key_equals_secret",
            detail="The API key and the secret key are the same text; one of them was pasted twice.",
        )
    for cred in spec.extra_credentials:
        value = creds.extra(cred.name)
        if value and value in (creds.api_key, creds.secret):
            which = "API key" if value == creds.api_key else "secret key"
            return Diagnosis(
                Cause.PASSPHRASE_WRONG,
                code=f"{cred.name}_equals_{'key' if which == 'API key' else 'secret'}",
                detail=f"The {cred.label} is the same text as the {which}; it is a separate value you chose.",
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
            )
        if not value.isascii() or not (pem or value.isprintable()):
            return Diagnosis(
                Cause.MALFORMED_CREDENTIALS,
                code="unexpected_characters",
                detail=f"The {_label(spec, field)} contains characters that no exchange uses in keys "
                "(non-Latin letters, symbols or invisible characters).",
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
            )
        low, high = lengths or (MIN_LENGTH, 10**6)
        if not low <= len(value) <= high:
            expected = f"{low}" if low == high else f"at least {low}" if high >= 10**6 else f"{low} to {high}"
            return Diagnosis(
                Cause.MALFORMED_CREDENTIALS,
                code=f"{short}_length",
                detail=f"The {_label(spec, field)} has {len(value)} characters; {spec.display_name} issues {expected}.",
            )
    return None
