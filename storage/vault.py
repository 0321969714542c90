"""The key vault: credentials kept for "check again", encrypted, for minutes at most.

Each row holds only the user id, exchange id, the API key's display fingerprint, a 12-byte random nonce, the
AES-256-GCM ciphertext and the expiry. The associated data binds the ciphertext to the user and the exchange,
so a row moved to another user or exchange no longer decrypts; such a row is deleted as if it had expired.

Wiping is real: the database runs with secure_delete (a deleted row is zeroed, not left in a free page), and
every delete that removed a row is followed by a TRUNCATE checkpoint (`Database.purge_wal`), so the WAL no
longer holds the frames the row was written in. tests/test_vault_wipe.py searches the raw files for the
ciphertext and the nonce after each kind of wipe.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.exchanges.credentials import Credentials
from storage.db import Database

#: Default lifetime of a vault entry: 30 minutes. 0 keeps nothing.
DEFAULT_VAULT_TTL_SECONDS = 30 * 60

#: Name of the key file created in the data directory when BOT_ENCRYPTION_KEY is not set.
KEY_FILE_NAME = "vault.key"

KEY_SIZE = 32
NONCE_SIZE = 12
_AD_VERSION = b"\x01"

# A row is live while it has not expired and does not outlive the current TTL. Parameters: now, now + ttl.
_LIVE = "expires_at > ? AND expires_at <= ?"

#: Tables with the vault's shape: "vault" keeps keys for "check again", "drafts" keeps what a user typed so far.
VAULT_TABLES = ("vault", "drafts")

Clock = Callable[[], float]


class VaultKeyError(ValueError):
    """The vault key is missing, malformed or unsafely stored. The message never contains the key."""


def parse_key(value: str, *, source: str = "BOT_ENCRYPTION_KEY") -> bytes:
    """Decode a 32-byte key given as 64 hex characters or as base64 (standard or URL-safe, padding optional)."""
    text = value.strip()
    if len(text) == 2 * KEY_SIZE and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    key = _b64_key(text)
    if key is None:
        raise VaultKeyError(
            f"{source} must be {KEY_SIZE} random bytes encoded as base64 (standard or URL-safe) or as "
            f"{2 * KEY_SIZE} hex characters; the value given ({len(text)} characters) is neither. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return key


def _b64_key(text: str) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    for altchars in (None, b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == KEY_SIZE:
            return raw
    return None


def load_or_create_key(env_value: str | None, data_dir: Path) -> bytes:
    """The vault key: from BOT_ENCRYPTION_KEY when set, else from `<data_dir>/vault.key`, created if missing.

    A new key file is created atomically with mode 0600 (and its directory with 0700). An existing key file that
    group or others can access is refused.
    """
    if env_value is not None and env_value.strip():
        return parse_key(env_value)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    key = os.urandom(KEY_SIZE)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    try:
        data = base64.urlsafe_b64encode(key) + b"\n"
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return key


def _read_key_file(path: Path) -> bytes:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise VaultKeyError(f"vault key file {path} is not a regular file")
    if os.name == "posix" and info.st_mode & 0o077:
        raise VaultKeyError(
            f"vault key file {path} is accessible by group or others (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run: chmod 600 {path}"
        )
    raw = path.read_bytes()
    if len(raw) == KEY_SIZE:
        return raw
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise VaultKeyError(f"vault key file {path} does not hold a valid key") from None
    return parse_key(text, source=f"vault key file {path}")


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A live vault entry, decrypted. Its repr shows the key fingerprint only."""

    exchange_id: str
    credentials: Credentials = field(repr=False)
    campaign_type: str | None
    expires_at: float

    def __repr__(self) -> str:
        return (
            f"StoredKey(exchange_id={self.exchange_id!r}, key={self.credentials.fingerprint!r}, "
            f"campaign_type={self.campaign_type!r}, expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


def _associated_data(user_id: int, exchange_id: str) -> bytes:
    return _AD_VERSION + f"{int(user_id)}|{exchange_id}".encode()


class Vault:
    """Encrypted, short-lived storage of credentials, one entry per user and exchange."""

    def __init__(
        self,
        db: Database,
        key: bytes,
        ttl_seconds: int = DEFAULT_VAULT_TTL_SECONDS,
        clock: Clock = time.time,
        *,
        table: str = "vault",
    ) -> None:
        if table not in VAULT_TABLES:
            raise ValueError(f"unknown vault table {table!r}")
        if len(key) != KEY_SIZE:
            raise VaultKeyError(f"the vault key must be {KEY_SIZE} bytes")
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must be 0 (keep nothing) or positive")
        self._db = db
        self._aead = AESGCM(key)
        self.ttl_seconds = int(ttl_seconds)
        self._clock = clock
        self._table = table

    def __repr__(self) -> str:
        return f"Vault(ttl_seconds={self.ttl_seconds})"

    @property
    def enabled(self) -> bool:
        """False when the TTL is 0: nothing is ever kept."""
        return self.ttl_seconds > 0

    async def put(self, user_id: int, exchange_id: str, creds: Credentials, campaign_type: str | None = None) -> None:
        """Keep `creds` for the TTL, replacing any entry for the same user and exchange. No-op when TTL is 0."""
        if not self.enabled:
            return
        plaintext = json.dumps(
            {
                "k": creds.api_key,
                "s": creds.secret,
                "p": creds.passphrase,
                "m": creds.memo,
                "c": None if campaign_type is None else str(campaign_type),
                "u": creds.key_known,
            },
            separators=(",", ":"),
        ).encode()
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = self._aead.encrypt(nonce, plaintext, _associated_data(user_id, exchange_id))
        expires_at = self._clock() + self.ttl_seconds
        async with self._db.transaction() as tx:
            replaced = await tx.execute(
                f"DELETE FROM {self._table} WHERE user_id = ? AND exchange_id = ?", (user_id, exchange_id)
            )
            await tx.execute(
                f"INSERT INTO {self._table} (user_id, exchange_id, fingerprint, nonce, ciphertext, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, exchange_id, creds.fingerprint, nonce, ciphertext, expires_at),
            )
        if replaced:
            await self._db.purge_wal()  # the replaced entry's ciphertext

    async def get(self, user_id: int, exchange_id: str | None = None) -> StoredKey | None:
        """The latest live entry of the user (for `exchange_id` if given), decrypted.

        Expired entries of the user are deleted on the way (so are entries that would outlive the current TTL,
        e.g. after it was lowered); an entry that fails to decrypt (moved row, other key) is deleted and skipped.
        """
        now = self._clock()
        # one read of the user's rows (a few at most); a delete only when one of them is expired
        rows = await self._db.fetchall(
            f"SELECT id, exchange_id, nonce, ciphertext, expires_at, ({_LIVE}) AS live FROM {self._table} "
            "WHERE user_id = ? ORDER BY expires_at DESC, id DESC",
            (now, now + self.ttl_seconds, user_id),
        )
        stale = [row["id"] for row in rows if not row["live"]]
        found: StoredKey | None = None
        for row in rows:
            if not row["live"] or (exchange_id is not None and row["exchange_id"] != exchange_id):
                continue
            try:
                plaintext = self._aead.decrypt(
                    bytes(row["nonce"]), bytes(row["ciphertext"]), _associated_data(user_id, row["exchange_id"])
                )
                data = json.loads(plaintext)
            except (InvalidTag, ValueError):
                stale.append(row["id"])
                continue
            found = StoredKey(
                exchange_id=row["exchange_id"],
                credentials=Credentials(
                    data["k"], data["s"], data.get("p"), data.get("m"), key_known=bool(data.get("u", True))
                ),
                campaign_type=data.get("c"),
                expires_at=float(row["expires_at"]),
            )
            break
        if stale:
            marks = ",".join("?" * len(stale))
            await self._purged(f"DELETE FROM {self._table} WHERE id IN ({marks})", tuple(stale))
        return found

    async def wipe(self, user_id: int, exchange_id: str | None = None) -> int:
        """Delete the user's entries (for one exchange, or all), leaving nothing in the files; return how many."""
        if exchange_id is None:
            return await self._purged(f"DELETE FROM {self._table} WHERE user_id = ?", (user_id,))
        return await self._purged(
            f"DELETE FROM {self._table} WHERE user_id = ? AND exchange_id = ?", (user_id, exchange_id)
        )

    async def wipe_expired(self) -> int:
        """Delete every expired entry (run at start-up and from a periodic job).

        Entries that would outlive the current TTL (it was lowered, or set to 0) count as expired. A purge that a
        reader blocked earlier is retried here too.
        """
        now = self._clock()
        wiped = await self._purged(f"DELETE FROM {self._table} WHERE NOT ({_LIVE})", (now, now + self.ttl_seconds))
        if not wiped:
            await self._db.purge_pending()
        return wiped

    async def wipe_all(self) -> int:
        """Delete every entry (e.g. when the vault is disabled or the key changed)."""
        return await self._purged(f"DELETE FROM {self._table}")

    async def _purged(self, sql: str, params: tuple[object, ...] = ()) -> int:
        deleted = await self._db.execute(sql, params)
        if deleted:
            await self._db.purge_wal()
        return deleted

    async def count_active(self) -> int:
        """How many live entries there are, for /status."""
        now = self._clock()
        return int(
            await self._db.fetchval(f"SELECT COUNT(*) FROM {self._table} WHERE {_LIVE}", (now, now + self.ttl_seconds))
        )
