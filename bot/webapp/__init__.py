"""Keys that never enter the chat: a Telegram Mini App form that posts credentials to our own server (issue #21).

`MiniApp` is the web side (aiohttp, no python-telegram-bot import): the form page, its script, and the JSON
endpoint that validates Telegram's initData and hands the key to an injected `Submitter`. In the running bot
that is `CheckSubmitter` (the check service's limits, the check shown in the chat), inside `WebAppService`
(`Services.webapp`: the address for the chat's button, the server's start and stop). The chat's side (the
`web_app` button, running the check with live progress in the chat) lives with the handlers (handlers/webapp.py).
"""

from bot.webapp.config import WebAppConfig
from bot.webapp.initdata import InitDataError, WebAppInitData, sign_init_data, validate_init_data
from bot.webapp.result import SubmissionResult, Submitter, result_from_report
from bot.webapp.server import Limits, MiniApp, running_standalone
from bot.webapp.service import WebAppService
from bot.webapp.submit import ChatCheck, CheckSubmitter

__all__ = [
    "ChatCheck",
    "CheckSubmitter",
    "InitDataError",
    "Limits",
    "MiniApp",
    "SubmissionResult",
    "Submitter",
    "WebAppConfig",
    "WebAppInitData",
    "WebAppService",
    "result_from_report",
    "running_standalone",
    "sign_init_data",
    "validate_init_data",
]
