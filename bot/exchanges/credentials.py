"""Credentials as entered by a user, and the checks that need no request."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.exchanges.catalog import KEY_MAX_LENGTH, SECRET_MAX_LENGTH, ExchangeSpec
from bot.secret_scan import KeyShape, SplitResult, split_credentials
from bot.security import fingerprint

#: What is shown in place of a fingerprint when the value is not known to be the API key.
UNKNOWN_FINGERPRINT = "—"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key with its secret and, where the exchange needs one, a passphrase or memo.

    The repr never shows the secret, passphrase or memo; `secrets()` lists every value to redact.
    `key_known` is False when `api_key` came from a message that could not be read as exactly a key (and a
    secret): then no fingerprint is made of it, anywhere (`fingerprint` gives UNKNOWN_FINGERPRINT).
    """

    api_key: str
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)
    memo: str | None = field(default=None, repr=False)
    key_known: bool = field(default=True, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.fingerprint!r})"

    __str__ = __repr__

    @classmethod
    def clean(
        cls, api_key: str | None, secret: str | None, passphrase: str | None = None, memo: str | None = None
    ) -> Credentials:
        """Trim every field, as HuFi does; `None` stays `None`."""

        def trim(value: str | None) -> str | None:
            return None if value is None else value.strip()

        return cls(trim(api_key) or "", trim(secret) or "", trim(passphrase), trim(memo))

    @property
    def fingerprint(self) -> str:
        """The key's first and last characters, only when `api_key` is known to be the key."""
        return fingerprint(self.api_key) if self.key_known else UNKNOWN_FINGERPRINT

    @classmethod
    def from_split(cls, split: SplitResult) -> Credentials:
        """Credentials from a key-flow message read by `split_credentials` (secret empty when it held a key
        only; key unknown, and empty, when it was ambiguous)."""
        if not split.key_known:
            return cls("", "", key_known=False)
        return cls.clean(split.api_key, split.secret or "")

    @classmethod
    def from_paste(cls, text: str, shape: KeyShape | None = None) -> tuple[Credentials, SplitResult]:
        """Read a message sent as the API key (maybe with the secret): the credentials and how it read."""
        split = split_credentials(text, shape)
        return cls.from_split(split), split

    def secrets(self) -> list[str]:
        """Every value that must never appear in a log, message or stored row."""
        return [v for v in (self.api_key, self.secret, self.passphrase, self.memo) if v]

    def extra(self, name: str) -> str | None:
        return {"passphrase": self.passphrase, "memo": self.memo}.get(name)

    def ccxt_config(self, spec: ExchangeSpec) -> dict[str, str]:
        """The credential part of a ccxt config for this exchange."""
        config = {"apiKey": self.api_key, "secret": self.secret}
        for cred in spec.extra_credentials:
            value = self.extra(cred.name)
            if value:
                config[cred.ccxt_param] = value
        return config


@dataclass(frozen=True, slots=True)
class CredentialProblem:
    """Something wrong with the credentials that is visible before any request."""

    field: str  # "api_key", "secret", "passphrase" or "memo"
    problem: str  # "missing", "too_long", "too_short", "whitespace", ...
    message: str  # English, never containing any part of a credential


def incomplete_problems(spec: ExchangeSpec, creds: Credentials) -> list[CredentialProblem]:
    """HuFi's `checkRequiredCredentials` plus its field limits: what makes credentials incomplete."""
    problems: list[CredentialProblem] = []
    if not creds.api_key:
        problems.append(CredentialProblem("api_key", "missing", "The API key is empty."))
    elif len(creds.api_key) > KEY_MAX_LENGTH:
        problems.append(
            CredentialProblem("api_key", "too_long", f"The API key is longer than {KEY_MAX_LENGTH} characters.")
        )
    if not creds.secret:
        problems.append(CredentialProblem("secret", "missing", "The secret key is empty."))
    elif len(creds.secret) > SECRET_MAX_LENGTH:
        problems.append(
            CredentialProblem("secret", "too_long", f"The secret is longer than {SECRET_MAX_LENGTH} characters.")
        )
    for cred in spec.extra_credentials:
        value = creds.extra(cred.name)
        if not value:
            problems.append(CredentialProblem(cred.name, "missing", f"{spec.display_name} needs the {cred.label}."))
        elif len(value) > cred.max_length:
            problems.append(
                CredentialProblem(
                    cred.name, "too_long", f"The {cred.label} is longer than {cred.max_length} characters."
                )
            )
        elif len(value) < cred.min_length:
            problems.append(
                CredentialProblem(
                    cred.name, "too_short", f"The {cred.label} is shorter than {cred.min_length} characters."
                )
            )
        elif cred.no_whitespace and any(ch.isspace() for ch in value):
            problems.append(CredentialProblem(cred.name, "whitespace", f"The {cred.label} contains a space."))
    return problems
