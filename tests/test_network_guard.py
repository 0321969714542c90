"""The no-internet guard of the test suite (tests/conftest.py) must bite; the secret guard is handlers/guard.py."""

import socket

import pytest

from tests.conftest import InternetBlockedError


def test_resolving_a_public_host_fails() -> None:
    with pytest.raises(InternetBlockedError):
        socket.getaddrinfo("api.mexc.com", 443)


def test_connecting_to_a_public_ip_fails() -> None:
    s = socket.socket()
    try:
        with pytest.raises(InternetBlockedError):
            s.connect(("8.8.8.8", 53))
    finally:
        s.close()


def test_loopback_is_allowed() -> None:
    assert socket.getaddrinfo("127.0.0.1", 80)
