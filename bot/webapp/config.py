"""What the Mini App server needs to know: where it is reached from outside and where it listens.

A small frozen dataclass of its own, so the settings layer maps three environment variables onto it:

- `WEBAPP_URL` -> `url`: the public HTTPS address of the Mini App, e.g. `https://bot.example.org/webapp`.
  Set, the chat offers "Enter the key securely"; unset, nothing changes. Its path is the path the server
  answers under (a TLS proxy forwards paths unchanged); a bare origin means the path `/webapp`.
- `WEBAPP_LISTEN` -> `listen`: the interface of the standalone server (default 127.0.0.1: behind a proxy).
- `WEBAPP_PORT` -> `port`: its port (default 8081). In webhook mode the same aiohttp server can serve both:
  mount the Mini App on it with `MiniApp.add_to(app)` instead of starting a second server.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlencode, urlsplit

from bot.diagnosis.model import CampaignType

DEFAULT_PATH = "/webapp"
DEFAULT_PORT = 8081


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class WebAppConfig:
    url: str | None = None
    listen: str = "127.0.0.1"
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError("WEBAPP_PORT must be between 0 and 65535")
        if not self.url:
            return
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
            # Telegram opens Mini Apps over HTTPS only; plain HTTP is for the offline demo on this machine.
            raise ValueError("WEBAPP_URL must start with https:// (http:// only for 127.0.0.1, the offline demo)")
        if not host or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("WEBAPP_URL must be a plain address: https://host[:port][/path], no query or fragment")

    @property
    def enabled(self) -> bool:
        """True when the chat should offer the Mini App button."""
        return bool(self.url)

    @property
    def path_prefix(self) -> str:
        """The path the Mini App answers under on our server, e.g. `/webapp` (never empty, no trailing slash)."""
        path = urlsplit(self.url).path.rstrip("/") if self.url else ""
        return path or DEFAULT_PATH

    @property
    def base_url(self) -> str:
        """The public address of the Mini App root, with the path prefix and no trailing slash."""
        if not self.url:
            raise ValueError("WEBAPP_URL is not set")
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{self.path_prefix}"

    def page_url(self, exchange_id: str, campaign_type: CampaignType | str | None = None, language: str = "en") -> str:
        """The address the chat's `web_app` button opens: the form for one exchange. No credential ever goes here."""
        query: dict[str, str] = {"lang": language}
        if campaign_type:
            query["campaign"] = str(campaign_type)
        return f"{self.base_url}/key/{exchange_id}?{urlencode(query)}"
