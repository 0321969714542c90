"""A forwarding HTTP proxy, a TLS front and a throwaway certificate authority, all on 127.0.0.1, for the transport's
proxy tests (tests/test_proxy.py).

``ForwardProxy`` does what squid or tinyproxy do for a client: ``CONNECT host:port`` opens a tunnel, a request in
absolute form (``POST http://host:port/path``) is forwarded, ``Proxy-Authorization`` is checked when credentials
are set (``407`` otherwise, with ``Proxy-Authenticate``, RFC 9110 section 11.7.1). It never leaves 127.0.0.1: a
``CONNECT`` target must be listed in ``routes`` (``"api.telegram.org:443"`` -> a local port), anything else gets
``502``. More lenient than a real proxy: no request-size limits, no ``Via`` header, one request per forwarded
connection (it adds ``Connection: close``). Written here rather than taken from PyPI (``proxy.py``) because the
tests need it to misbehave on purpose (``stall``, ``stall-after-connect``) and to report what it saw, in-process
and on the test's event loop.

``TlsFront`` ends TLS for a name in the test CA's certificate and passes the plain bytes to a local server (the
Bot API emulator), keeping what it forwarded so a test can check what reached the Bot API side of a tunnel.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Mode = Literal["forward", "stall", "stall-after-connect"]


@dataclass(frozen=True)
class ProxyRequest:
    """The head of one request the proxy received (header names in lower case)."""

    method: str
    target: str
    headers: dict[str, str]


class _Server:
    """Connection bookkeeping shared by the proxy and the TLS front: every handler ends when ``close`` is called."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._track, "127.0.0.1", 0, ssl=self._ssl)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _open(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        upstream = await asyncio.open_connection("127.0.0.1", port)
        self._writers.add(upstream[1])
        return upstream

    async def _relay(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        sent: bytearray | None = None,
    ) -> None:
        """Copy both ways until either side closes."""

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter, keep: bytearray | None) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    if keep is not None:
                        keep.extend(data)
                    sink.write(data)
                    await sink.drain()

        up = asyncio.ensure_future(copy(client[0], upstream[1], sent))
        down = asyncio.ensure_future(copy(upstream[0], client[1], None))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            self._writers.discard(upstream[1])
            upstream[1].transport.abort()


class ForwardProxy(_Server):
    """An HTTP proxy on 127.0.0.1 (``http://``, or ``https://`` when given a server TLS context)."""

    def __init__(
        self,
        *,
        routes: dict[str, int] | None = None,
        mode: Mode = "forward",
        credentials: tuple[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(ssl_context)
        self.routes = dict(routes or {})
        self.mode: Mode = mode
        self._expected = None
        if credentials is not None:
            self._expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        #: Every request head received, oldest first.
        self.seen: list[ProxyRequest] = []
        #: Set when a request head arrives.
        self.arrived = asyncio.Event()

    @property
    def url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ForwardProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, target, version = request_line.split(" ", 2)
        headers = {name.strip().lower(): value.strip() for name, _, value in (x.partition(":") for x in lines if x)}
        self.seen.append(ProxyRequest(method, target, headers))
        self.arrived.set()
        if self.mode == "stall":
            await self._closing.wait()
            return
        if self._expected is not None and headers.get("proxy-authorization") != self._expected:
            writer.write(
                b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            return
        if method == "CONNECT":
            port = self.routes.get(target)
            if port is None:
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            upstream = await self._open(port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            if self.mode == "stall-after-connect":
                await self._closing.wait()
                return
            await self._relay((reader, writer), upstream)
            return
        url = urlsplit(target)
        if url.hostname != "127.0.0.1" or url.port is None:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        upstream = await self._open(url.port)
        path = url.path + (f"?{url.query}" if url.query else "")
        kept = [x for x in lines if x and not x.lower().startswith(("proxy-", "connection:"))]
        forwarded = "".join(f"{line}\r\n" for line in [f"{method} {path} {version}", *kept, "Connection: close"])
        upstream[1].write(f"{forwarded}\r\n".encode("latin-1"))
        await self._relay((reader, writer), upstream)


class TlsFront(_Server):
    """TLS on 127.0.0.1 in front of a plain local server; ``received`` holds the plain bytes passed on."""

    def __init__(self, target_port: int, ssl_context: ssl.SSLContext) -> None:
        super().__init__(ssl_context)
        self.target_port = target_port
        self.received = bytearray()

    async def __aenter__(self) -> TlsFront:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._relay((reader, writer), await self._open(self.target_port), self.received)


@dataclass
class TestCA:
    """A certificate authority made for one test, and a server certificate it signed."""

    __test__ = False  # not a pytest test class

    folder: Path
    names: tuple[str, ...] = ("api.telegram.org", "127.0.0.1")
    _ca_pem: bytes = field(init=False, default=b"")

    def __post_init__(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "HuFi bot test CA")])
        ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ca_ski, critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        alt_names: list[x509.GeneralName] = []
        for name in self.names:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt_names.append(x509.DNSName(name))
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.names[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self._ca_pem = ca.public_bytes(serialization.Encoding.PEM)
        (self.folder / "server.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        (self.folder / "server.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def client_context(self) -> ssl.SSLContext:
        """Verifies certificates against this CA only (hostname checks on)."""
        return ssl.create_default_context(cadata=self._ca_pem.decode())

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.folder / "server.pem", self.folder / "server.key")
        return context
