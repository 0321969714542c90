"""The Mini App as a service of the running bot (`Services.webapp`): its address, its server, its submitter.

Built in `bot.services.open_services` from the settings (`Settings.webapp`). When WEBAPP_URL is not set it is
off: `enabled` is False, `page_url` is None (the chat shows no button) and nothing is served. When it is set:

- polling: `start` (from `Services.start`) serves the Mini App alone on WEBAPP_LISTEN:WEBAPP_PORT, `stop` ends it;
- webhook: the lifecycle calls `share()` before anything starts and mounts the returned function on the
  webhook's own aiohttp server, so one port answers both; `start` and `stop` then have nothing of their own.

`demo_user` turns on the offline demo's stand-in for Telegram's script (`MiniApp`); only the demo passes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bot.diagnosis.model import CampaignType
from bot.webapp.config import WebAppConfig
from bot.webapp.server import Limits, MiniApp
from bot.webapp.submit import ChatCheck, CheckSubmitter
from bot.webapp.texts import language_of

log = logging.getLogger(__name__)


class WebAppService:
    """The Mini App inside the bot process (see the module docstring)."""

    def __init__(
        self,
        config: WebAppConfig,
        *,
        bot_token: str,
        submitter: CheckSubmitter,
        limits: Limits | None = None,
        demo_user: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.submitter = submitter
        self.miniapp: MiniApp | None = None
        if config.enabled:
            self.miniapp = MiniApp(
                config, bot_token=bot_token, submit=submitter, limits=limits or Limits(), demo_user=demo_user
            )
        self._shared = False
        #: where the Mini App answers on this machine once started alone (e.g. http://127.0.0.1:8081/webapp)
        self.local_url: str | None = None

    def __repr__(self) -> str:
        return f"WebAppService(enabled={self.enabled}, shared={self._shared})"

    @property
    def enabled(self) -> bool:
        """True when WEBAPP_URL is set: the chat offers the form."""
        return self.miniapp is not None

    def page_url(self, exchange_id: str, campaign: str | None = None, language: str | None = None) -> str | None:
        """The address the chat's `web_app` button opens for this exchange (None when the Mini App is off).

        Only the exchange, the campaign type and the language go into it, never anything the user typed.
        """
        if not self.enabled:
            return None
        campaign_type = CampaignType(campaign) if campaign in CampaignType.__members__ else None
        return self.config.page_url(exchange_id, campaign_type, language_of(language))

    def attach(self, in_chat: ChatCheck) -> None:
        """The chat's side of a check (live progress and verdict in the user's chat), from the handlers."""
        self.submitter.attach(in_chat)

    def share(self) -> Callable[[web.Application], object]:
        """Serve on another server instead of alone (webhook mode: one port). Call before `start`; returns the
        function that mounts the Mini App on that server's (not yet started) aiohttp application."""
        self._shared = True

        def mount(app: web.Application) -> object:
            assert self.miniapp is not None
            return self.miniapp.add_to(app)

        return mount

    async def start(self) -> None:
        """Serve the Mini App alone on WEBAPP_LISTEN:WEBAPP_PORT, unless it is off or shared."""
        if self.miniapp is None or self._shared:
            return
        if not self.submitter.attached:
            log.warning("the Mini App starts without the chat: its checks will not show in the chat")
        self.local_url = await self.miniapp.start_standalone()
        log.info("Mini App listening on %s:%s", self.config.listen, self.miniapp.port)

    async def stop(self) -> None:
        """Stop serving (a check in flight finishes first)."""
        if self.miniapp is not None:
            await self.miniapp.stop()
        self.local_url = None


__all__ = ["WebAppService"]
