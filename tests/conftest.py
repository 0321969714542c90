"""Shared test fixtures: the no-internet guard and helpers every test module may use."""

from __future__ import annotations

import os
import socket

import pytest

# PTB 22 warns when it builds a RetryAfter unless durations are timedeltas; the suite runs with warnings as errors.
os.environ.setdefault("PTB_TIMEDELTA", "1")
# The simulated exchanges list as many markets as the real ones (thousands); tests that do not measure market
# loading use two per exchange, which keeps the suite fast (tests/test_sandbox_public.py checks the real sizes).
os.environ.setdefault("SANDBOX_MARKETS", "2")

_ALLOWED_HOSTS = {"127.0.0.1", "localhost", "::1", None}


class InternetBlockedError(OSError):
    """A test tried to reach something other than the loopback interface."""


def _loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    return host in _ALLOWED_HOSTS or (isinstance(host, str) and host.startswith("127."))


@pytest.fixture(autouse=True)
def quick_rate_limit_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rate-limit reply is retried as in production (same attempts, same budget, Retry-After obeyed), with
    0.01-0.04 s between tries instead of 0.5-4 s: a forced rate-limit reply would otherwise cost every test that
    forces one 3.5 s of sleeping. tests/test_rate_limit_retry.py checks the production delays with its own
    policies."""
    from bot.exchanges import probes

    monkeypatch.setattr(probes, "DEFAULT_RETRY", probes.RetryPolicy(first_delay=0.01, max_delay=0.04))


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any name lookup or connection that does not go to 127.0.0.1."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not _loopback(host):
            raise InternetBlockedError(f"test tried to resolve {host!r}: only 127.0.0.1 is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(address: object) -> None:
        if isinstance(address, tuple) and address and not _loopback(address[0]):
            raise InternetBlockedError(f"test tried to connect to {address[0]!r}: only 127.0.0.1 is allowed")

    def guarded_connect(self, address):  # type: ignore[no-untyped-def]
        _check(address)
        return real_connect(self, address)

    def guarded_connect_ex(self, address):  # type: ignore[no-untyped-def]
        _check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
