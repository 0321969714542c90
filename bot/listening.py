"""Opening a listening port for the bot's own HTTP servers (the webhook's, the Mini App's), with an error that
names the settings behind it, so that start-up can say which setting to change (`bot.lifecycle.StartError`)."""

from __future__ import annotations

from aiohttp import web


class PortUnavailable(Exception):
    """A server could not listen where the settings say: `what` names the settings, `reason` is the OS's error."""

    def __init__(self, what: str, reason: OSError) -> None:
        super().__init__(f"{what}: {reason.strerror or type(reason).__name__}")
        self.what = what
        self.reason = reason


async def start_site(site: web.TCPSite, what: str) -> None:
    """`site.start()`; a port in use, not allowed, or an address this host doesn't have is `PortUnavailable`."""
    try:
        await site.start()
    except OSError as exc:
        raise PortUnavailable(what, exc) from None
