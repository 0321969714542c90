"""The staging keys (bot/sandbox/staging.py): every one gets the verdict the table documents, in-process for all of
them and through `python -m bot check` as a real subprocess for one key per case (spread over the exchanges)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from bot.diagnosis.precheck import precheck
from bot.exchanges.catalog import CATALOG, get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.factory import ClientFactory
from bot.exchanges.probes import KeyChecker
from bot.sandbox.exchanges import fake_classes
from bot.sandbox.staging import CASES, EXPECTED, SHAPES, StagingKey, staging_keys
from bot.sandbox.world import SandboxWorld
from bot.secret_scan import split_pair

ROOT = Path(__file__).resolve().parents[1]


def _creds(key: StagingKey) -> Credentials:
    extra = key.extra_to_send
    return Credentials.clean(
        key.api_key,
        key.secret_to_send,
        extra if key.passphrase is not None else None,
        extra if key.memo is not None else None,
    )


def test_every_simulated_exchange_has_staging_keys_for_every_cause_it_can_show() -> None:
    assert set(SHAPES) == set(fake_classes()) == {eid for eid, spec in CATALOG.items() if spec.needs_key}
    for exchange_id in SHAPES:
        cases = [k.case.name for k in staging_keys(exchange_id)]
        assert cases[:6] == [c.name for c in CASES[:6]]  # the demo's numbering holds on every exchange
        needs_extra = bool(get_spec(exchange_id).extra_credentials)
        assert any(k.case.send == "wrong_extra" for k in staging_keys(exchange_id)) == needs_extra
    for exchange_id, case in EXPECTED:
        assert case in {k.case.name for k in staging_keys(exchange_id)}, (exchange_id, case)


def test_staging_keys_are_fixed_obviously_fake_and_distinct() -> None:
    keys = staging_keys()
    assert keys == staging_keys()  # derived, never random
    assert len({k.api_key for k in keys}) == len(keys)
    for key in keys:
        assert "STAGING" in key.api_key.upper() or re.match(r"(bg_)?0000", key.api_key), key.api_key


@pytest.mark.parametrize("key", staging_keys(), ids=lambda k: f"{k.exchange_id}-{k.case.name}")
def test_the_bot_takes_each_staging_key_as_typed(key: StagingKey) -> None:
    """The format checks let it through, and key and secret sent in one chat message are recognised."""
    assert precheck(get_spec(key.exchange_id), _creds(key)) is None
    assert split_pair(f"{key.api_key} {key.secret_to_send}") == (key.api_key, key.secret_to_send)


async def test_every_staging_key_gets_its_documented_verdict() -> None:
    async with SandboxWorld() as world:
        world.add_staging_keys()
        assert len(world.add_staging_keys()) == len(staging_keys())  # twice: no duplicates
        factory = ClientFactory(url_overrides=world.url_overrides)
        checker = KeyChecker(factory)
        wrong = []
        for key in staging_keys():
            factory.limiter(get_spec(key.exchange_id)).interval = 0.0
            report = await checker.check(key.exchange_id, _creds(key))
            got = "ok" if report.ok else str(report.verdict.cause if report.verdict else None)
            if got != key.expected:
                wrong.append(f"{key.exchange_id}/{key.case.name}: {got}, documented {key.expected}")
    assert not wrong, wrong


def _key(exchange_id: str, case: str) -> StagingKey | None:
    return next((k for k in staging_keys(exchange_id) if k.case.name == case), None)


def _spread() -> list[StagingKey]:
    """One key per case, each on another exchange (the in-process test above covers every key; a check process
    costs seconds of CPU)."""
    chosen: list[StagingKey] = []
    for case in sorted(CASES, key=lambda c: len([e for e in SHAPES if _key(e, c.name)])):  # the rarest first
        used = {k.exchange_id for k in chosen}
        candidates = [k for e in SHAPES if (k := _key(e, case.name)) is not None]
        chosen.append(next((k for k in candidates if k.exchange_id not in used), candidates[0]))
    return chosen


async def _check_cli(key: StagingKey) -> tuple[int, dict[str, object], str]:
    lines = [key.api_key, key.secret_to_send] + ([key.extra_to_send] if key.extra_to_send is not None else [])
    env = {**os.environ, "EXCHANGE_SANDBOX": "true", "TELEGRAM_BOT_TOKEN": "", "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        "--exchange",
        key.exchange_id,
        "--stdin",
        "--json",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate("\n".join(lines).encode() + b"\n"), 120)
    assert proc.returncode is not None
    return proc.returncode, json.loads(out), err.decode()


async def test_staging_keys_pass_and_fail_as_documented_through_the_check_command() -> None:
    keys = _spread()
    assert {k.case.name for k in keys} == {c.name for c in CASES}
    assert len({k.exchange_id for k in keys}) == len(keys)
    slots = asyncio.Semaphore(2)

    async def one(key: StagingKey) -> tuple[StagingKey, int, dict[str, object], str]:
        async with slots:
            return (key, *await _check_cli(key))

    for key, code, report, err in await asyncio.gather(*(one(k) for k in keys)):
        name = f"{key.exchange_id}/{key.case.name}"
        assert "simulated" in err and "Traceback" not in err, name
        verdict = report["diagnosis"]
        if key.expected == "ok":
            assert (code, report["ok"]) == (0, True), name
        else:
            assert code == 1 and isinstance(verdict, dict), name
            assert verdict["cause"] == key.expected, f"{name}: {verdict['cause']}"
        # what was typed never comes back
        assert key.secret_to_send not in json.dumps(report) + err, name
