"""Canary: planted credentials never reach the database files, and wiped ciphertext does not linger."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.diagnosis.model import Cause, Diagnosis, Permission
from bot.exchanges.credentials import Credentials
from bot.exchanges.report import KeyCheckReport, ProbeOutcome, ProbeStatus
from bot.security import redact
from storage import (
    CheckRepository,
    Database,
    SecretInReportError,
    SqliteConversationPersistence,
    UserRepository,
    Vault,
)


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        secret.encode("utf-16-le"),
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        quote(secret, safe="").encode(),
    ]


def _files(db_path: Path) -> dict[str, bytes]:
    out = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = db_path.with_name(db_path.name + suffix)
        if file.exists():
            out[file.name] = file.read_bytes()
    return out


def _assert_absent(files: dict[str, bytes], needles: list[bytes]) -> None:
    for name, content in files.items():
        for needle in needles:
            assert needle not in content, f"{name} holds a planted value ({len(needle)} bytes)"


def _report(creds: Credentials, error_text: str) -> KeyCheckReport:
    report = KeyCheckReport(exchange_id="okx", key_fingerprint=creds.fingerprint)
    ip = Diagnosis(Cause.IP_NOT_WHITELISTED, code="50110", detail=error_text)
    report.set_outcome(
        ProbeOutcome(
            Permission.VIEW_ACCOUNT_BALANCE,
            ProbeStatus.FAILED,
            diagnosis=ip,
            error_type="PermissionDenied",
            error_message=error_text,
        )
    )
    report.diagnosis = ip
    return report


async def test_planted_credentials_never_reach_the_files(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    creds = Credentials(f"CANARYKEY{tag}", f"CANARYSECRET{tag}", f"CANARYPASS{tag}", f"CANARYMEMO{tag}")
    needles = [form for secret in creds.secrets() for form in _forms(secret)]
    db_path = tmp_path / "bot.sqlite3"

    db = await Database.open(db_path)
    try:
        vault = Vault(db, bytes(32), ttl_seconds=1800)
        checks = CheckRepository(db)
        await UserRepository(db).upsert(42, "Ann", "ann", "en")
        await vault.put(42, "okx", creds, "MARKET_MAKING")

        # A report built the normal way: the exchange's reply was redacted before it was stored.
        leaked = (
            f"GET https://www.okx.com/api/v5/account/balance?apiKey={creds.api_key}&sign={creds.secret} 401 "
            f"(echoed: {creds.passphrase})"
        )
        check_id = await checks.add(42, _report(creds, redact(leaked, creds.secrets())), forbidden=creds.secrets())

        # A report that slipped through unredacted is refused outright (signed-request parameters are dropped
        # when the report is serialised; the echoed passphrase is not such a parameter).
        with pytest.raises(SecretInReportError) as info:
            await checks.add(42, _report(creds, leaked), forbidden=creds.secrets())
        for secret in creds.secrets():
            assert secret not in str(info.value)
        assert creds.secret not in json.dumps(_report(creds, leaked).to_dict())

        persistence = SqliteConversationPersistence(db)
        await persistence.update_conversation("connect", (42, 42), "AWAITING_SECRET")

        stored = await vault.get(42, "okx")
        assert stored is not None and stored.credentials == creds
        assert await db.fetchval("SELECT COUNT(*) FROM checks") == 1
        record = await checks.get(check_id)
        assert record is not None and record.cause == "ip_not_whitelisted"

        # While the database is live (data still in the WAL) and after a checkpoint.
        files = _files(db_path)
        assert files.get("bot.sqlite3-wal"), "the WAL should hold the recent writes"
        _assert_absent(files, needles)
        await db.wal_checkpoint()
        _assert_absent(_files(db_path), needles)

        # The ciphertext is in the files now (the scan works) and is gone after a wipe and a checkpoint.
        row = await db.fetchone("SELECT nonce, ciphertext FROM vault")
        assert row is not None
        ciphertext, nonce = bytes(row["ciphertext"]), bytes(row["nonce"])
        assert any(ciphertext in content for content in _files(db_path).values())
        assert await vault.wipe(42) == 1
        await db.wal_checkpoint()
        _assert_absent(_files(db_path), [ciphertext, nonce, *needles])
    finally:
        await db.close()
    _assert_absent(_files(db_path), needles)


async def test_wiped_on_expiry_leaves_no_ciphertext(tmp_path: Path) -> None:
    now = [1000.0]
    db_path = tmp_path / "bot.sqlite3"
    async with await Database.open(db_path) as db:
        vault = Vault(db, bytes(range(32)), ttl_seconds=60, clock=lambda: now[0])
        creds = Credentials(f"CANARYKEY{uuid.uuid4().hex}", f"CANARYSECRET{uuid.uuid4().hex}")
        await vault.put(1, "bybit", creds)
        row = await db.fetchone("SELECT ciphertext FROM vault")
        assert row is not None
        ciphertext = bytes(row["ciphertext"])
        await db.wal_checkpoint()
        assert ciphertext in db_path.read_bytes()
        now[0] += 61
        assert await vault.wipe_expired() == 1
        await db.wal_checkpoint()
        _assert_absent(_files(db_path), [ciphertext])


async def test_a_signed_request_in_a_ccxt_error_never_reaches_the_files(tmp_path: Path) -> None:
    """ccxt's text for a gateway error holds the signed URL (timestamp, recvWindow, signature); the stored
    check report holds none of it, nor the key."""
    from bot.exchanges.catalog import get_spec
    from bot.sandbox.exchanges.binance import FakeBinance
    from tests.exchange_harness import creds_of, running

    async with running(FakeBinance) as (fake, checker):
        account = fake.add_account()
        creds = creds_of(account)
        await checker.factory.preload(get_spec("binance"))
        fake.force(status=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>")
        report = await checker.check("binance", creds)
        signed = [r for r in fake.requests if "signature=" in r.raw_query]
    assert signed, "the probes were signed and sent"
    db_path = tmp_path / "bot.sqlite3"
    async with await Database.open(db_path) as db:
        await CheckRepository(db).add(1, report, forbidden=creds.secrets())
        await db.wal_checkpoint()
        files = _files(db_path)
        assert any(b"502" in content for content in files.values())
        needles = [form for secret in creds.secrets() for form in _forms(secret)]
        for request in signed:
            query = dict(part.split("=", 1) for part in request.raw_query.split("&"))
            needles += [query["signature"].encode(), query["timestamp"].encode()]
        _assert_absent(files, needles)
