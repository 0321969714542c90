"""Logging: one line per event, every record redacted, noisy HTTP loggers kept quiet."""

from __future__ import annotations

import logging
import sys

from bot.security import RedactingFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger with the redaction filter on its handler.

    The HTTP clients' loggers (aiohttp's client, httpx, httpcore) stay at WARNING (request lines carry the bot
    token in the URL); `telegram` is never below INFO (its DEBUG lines carry update contents); ccxt never logs
    request bodies (verbose stays off).
    """
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    for name in ("httpx", "httpcore", "aiohttp.access", "aiohttp.client"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
