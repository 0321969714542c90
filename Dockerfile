# HuFi key-support bot. Build: docker build -t hufi-key-bot .   Run: see README, "Deploying".
FROM python:3.11-slim

# WEBHOOK_LISTEN, WEBAPP_LISTEN: in a container the webhook and Mini App servers must listen on every interface to
# be reachable through the published ports (outside containers the default stays 127.0.0.1). Leave them out of
# .env so these values hold.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PTB_TIMEDELTA=1 \
    DATABASE_PATH=/data/bot.sqlite3 \
    WEBHOOK_LISTEN=0.0.0.0 \
    WEBAPP_LISTEN=0.0.0.0

WORKDIR /app
# The exact versions CI tested, each checked against its hash (the build backend, setuptools, is among them);
# this layer is rebuilt only when the lock file changes. `make lock` regenerates it from pyproject.toml.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# The project itself: no dependency resolution, no download, built with the locked setuptools
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-deps --no-build-isolation . \
    && rm -rf build ./*.egg-info \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot:bot /data && chmod 700 /data

USER bot
VOLUME ["/data"]
# Webhook mode (WEBHOOK_PORT's default; the Mini App shares it), and the Mini App's own server when polling
# (WEBAPP_PORT's default, only with WEBAPP_URL set); polling alone needs no inbound port
EXPOSE 8443 8081

# Is the bot running and hearing from Telegram? `status --self` reads the heartbeat the bot rewrites next to its
# database after every successful poll (or, with a webhook, every getWebhookInfo): no network, no database, no
# ccxt or telegram import (about 15 MB and 0.1 s of CPU). It fails when the bot stopped, is gone, or has not heard
# from Telegram for HEARTBEAT_MAX_AGE_SECONDS (120): hung, or cut off. HuFi or an exchange being down doesn't count.
HEALTHCHECK --interval=60s --timeout=15s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot", "status", "--self"]

CMD ["python", "-m", "bot", "run"]
