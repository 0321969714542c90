"""The key vault: encryption round trip, associated-data binding, expiry, wiping, and the vault key."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.exchanges.credentials import Credentials
from storage import Database, StoredKey, Vault, VaultKeyError, load_or_create_key, parse_key

KEY = bytes(range(32))
CREDS = Credentials("AKIAexampleapikey1234", "s3cr3t-value-that-must-stay-hidden", "pass-phrase-1", None)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def test_round_trip(db: Database) -> None:
    clock = Clock()
    vault = Vault(db, KEY, ttl_seconds=600, clock=clock)
    await vault.put(42, "okx", CREDS, "HOLDING")
    stored = await vault.get(42, "okx")
    assert stored is not None
    assert stored.credentials == CREDS
    assert stored.exchange_id == "okx"
    assert stored.campaign_type == "HOLDING"
    assert stored.expires_at == clock.now + 600
    assert await vault.get(42, "bybit") is None
    assert await vault.get(43) is None
    assert await vault.count_active() == 1


async def test_row_holds_nothing_in_clear(db: Database) -> None:
    vault = Vault(db, KEY, ttl_seconds=600)
    await vault.put(42, "okx", CREDS)
    row = await db.fetchone("SELECT * FROM vault")
    assert row is not None
    assert set(row.keys()) == {"id", "user_id", "exchange_id", "fingerprint", "nonce", "ciphertext", "expires_at"}
    assert row["fingerprint"] == CREDS.fingerprint
    assert len(row["nonce"]) == 12
    for secret in CREDS.secrets():
        assert secret.encode() not in bytes(row["ciphertext"])


async def test_nonce_is_fresh_for_each_put(db: Database) -> None:
    vault = Vault(db, KEY, ttl_seconds=600)
    await vault.put(42, "okx", CREDS)
    first = await db.fetchone("SELECT nonce, ciphertext FROM vault")
    await vault.put(42, "okx", CREDS)
    second = await db.fetchone("SELECT nonce, ciphertext FROM vault")
    assert first is not None and second is not None
    assert first["nonce"] != second["nonce"]
    assert first["ciphertext"] != second["ciphertext"]
    assert await db.fetchval("SELECT COUNT(*) FROM vault") == 1


async def test_latest_entry_wins_without_exchange(db: Database) -> None:
    clock = Clock()
    vault = Vault(db, KEY, ttl_seconds=600, clock=clock)
    await vault.put(42, "okx", CREDS)
    clock.now += 10
    await vault.put(42, "bybit", Credentials("other-key-123456789", "other-secret-123456"))
    stored = await vault.get(42)
    assert stored is not None and stored.exchange_id == "bybit"


@pytest.mark.parametrize(
    ("column", "value"), [("user_id", 43), ("exchange_id", "bybit")], ids=["other-user", "other-exchange"]
)
async def test_moved_row_fails_to_decrypt_and_is_deleted(db: Database, column: str, value: object) -> None:
    vault = Vault(db, KEY, ttl_seconds=600)
    await vault.put(42, "okx", CREDS)
    await db.execute(f"UPDATE vault SET {column} = ?", (value,))
    assert await vault.get(43 if column == "user_id" else 42) is None
    assert await db.fetchval("SELECT COUNT(*) FROM vault") == 0


async def test_swapped_ciphertexts_fail(db: Database) -> None:
    vault = Vault(db, KEY, ttl_seconds=600)
    await vault.put(1, "okx", CREDS)
    await vault.put(2, "okx", Credentials("second-user-key-0001", "second-user-secret-0001"))
    for old, new in ((1, -1), (2, 1), (-1, 2)):  # swap the owners of the two rows
        await db.execute("UPDATE vault SET user_id = ? WHERE user_id = ?", (new, old))
    assert await vault.get(1) is None
    assert await vault.get(2) is None
    assert await vault.count_active() == 0


async def test_wrong_key_fails(db: Database) -> None:
    await Vault(db, KEY, ttl_seconds=600).put(42, "okx", CREDS)
    other = Vault(db, os.urandom(32), ttl_seconds=600)
    assert await other.get(42, "okx") is None
    assert await db.fetchval("SELECT COUNT(*) FROM vault") == 0


async def test_ttl_zero_keeps_nothing(db: Database) -> None:
    vault = Vault(db, KEY, ttl_seconds=0)
    assert not vault.enabled
    await vault.put(42, "okx", CREDS)
    assert await db.fetchval("SELECT COUNT(*) FROM vault") == 0
    assert await vault.get(42) is None


async def test_expired_entry_is_gone(db: Database) -> None:
    clock = Clock()
    vault = Vault(db, KEY, ttl_seconds=60, clock=clock)
    await vault.put(42, "okx", CREDS)
    await vault.put(7, "okx", CREDS)
    clock.now += 60
    assert await vault.count_active() == 0
    assert await vault.get(42, "okx") is None
    assert await db.fetchval("SELECT COUNT(*) FROM vault WHERE user_id = 42") == 0
    assert await vault.wipe_expired() == 1  # user 7's entry
    assert await db.fetchval("SELECT COUNT(*) FROM vault") == 0


async def test_expired_rows_wiped_at_startup(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    clock = Clock()
    async with await Database.open(path) as db:
        await Vault(db, KEY, ttl_seconds=60, clock=clock).put(42, "okx", CREDS)
    clock.now += 3600
    async with await Database.open(path) as db:
        assert await Vault(db, KEY, ttl_seconds=60, clock=clock).wipe_expired() == 1
        assert await db.fetchval("SELECT COUNT(*) FROM vault") == 0


async def test_lowered_ttl_applies_to_kept_entries(db: Database) -> None:
    clock = Clock()
    await Vault(db, KEY, ttl_seconds=1800, clock=clock).put(42, "okx", CREDS)
    shorter = Vault(db, KEY, ttl_seconds=60, clock=clock)
    assert await shorter.count_active() == 0
    assert await shorter.get(42) is None
    await Vault(db, KEY, ttl_seconds=1800, clock=clock).put(7, "okx", CREDS)
    assert await Vault(db, KEY, ttl_seconds=0, clock=clock).wipe_expired() == 1
    assert await db.fetchval("SELECT COUNT(*) FROM vault") == 0


async def test_wipe(db: Database) -> None:
    vault = Vault(db, KEY, ttl_seconds=600)
    await vault.put(42, "okx", CREDS)
    await vault.put(42, "bybit", CREDS)
    await vault.put(7, "okx", CREDS)
    assert await vault.wipe(42, "okx") == 1
    assert await vault.get(42, "okx") is None
    assert await vault.wipe(42) == 1
    assert await vault.get(42) is None
    assert await vault.count_active() == 1
    assert await vault.wipe_all() == 1


async def test_reprs_hide_secrets(db: Database) -> None:
    vault = Vault(db, KEY, ttl_seconds=600)
    await vault.put(42, "okx", CREDS)
    stored = await vault.get(42)
    assert isinstance(stored, StoredKey)
    for text in (repr(stored), str(stored), repr(vault)):
        for secret in CREDS.secrets():
            assert secret not in text
    assert CREDS.fingerprint in repr(stored)


def test_vault_rejects_bad_arguments() -> None:
    with pytest.raises(VaultKeyError):
        Vault(None, b"short")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Vault(None, KEY, ttl_seconds=-1)  # type: ignore[arg-type]


# -- the vault key ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda k: k.hex(),
        lambda k: k.hex().upper(),
        lambda k: base64.b64encode(k).decode(),
        lambda k: base64.urlsafe_b64encode(k).decode(),
        lambda k: base64.urlsafe_b64encode(k).decode().rstrip("="),
        lambda k: f"  {base64.b64encode(k).decode()}\n",
    ],
    ids=["hex", "HEX", "base64", "urlsafe", "unpadded", "whitespace"],
)
def test_env_key_formats(encode: object, tmp_path: Path) -> None:
    key = bytes([0xFB, 0xFF, 0xFE] * 10 + [1, 2])  # has +/ vs -_ characters in base64
    assert load_or_create_key(encode(key), tmp_path) == key  # type: ignore[operator]
    assert not (tmp_path / "vault.key").exists()


@pytest.mark.parametrize(
    "value",
    [
        "correct horse battery staple secret",
        "00" * 31,
        "zz" * 32,
        base64.b64encode(b"x" * 16).decode(),
        base64.b64encode(b"y" * 33).decode(),
        "hunter2-not-a-key!!",
    ],
)
def test_bad_env_key_is_rejected_without_echo(value: str, tmp_path: Path) -> None:
    with pytest.raises(VaultKeyError) as info:
        load_or_create_key(value, tmp_path)
    message = str(info.value)
    assert "BOT_ENCRYPTION_KEY" in message
    assert value not in message and value.strip() not in message
    assert info.value.__cause__ is None
    with pytest.raises(VaultKeyError):
        parse_key(value)


def test_key_file_created_0600_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = load_or_create_key(None, data_dir)
    path = data_dir / "vault.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert load_or_create_key("", data_dir) == key
    assert load_or_create_key("   ", data_dir) == key


def test_env_key_wins_over_key_file(tmp_path: Path) -> None:
    file_key = load_or_create_key(None, tmp_path)
    env_key = os.urandom(32)
    assert load_or_create_key(env_key.hex(), tmp_path) == env_key != file_key


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_exposed_key_file_is_refused(tmp_path: Path, mode: int) -> None:
    load_or_create_key(None, tmp_path)
    path = tmp_path / "vault.key"
    path.chmod(mode)
    with pytest.raises(VaultKeyError, match="chmod 600") as info:
        load_or_create_key(None, tmp_path)
    assert path.read_text().strip() not in str(info.value)


def test_garbage_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vault.key"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"not a key at all, sorry")
    os.close(fd)
    with pytest.raises(VaultKeyError) as info:
        load_or_create_key(None, tmp_path)
    assert "not a key" not in str(info.value)
