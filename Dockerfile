# HuFi key-support bot. Build: docker build -t hufi-key-bot .   Run: see README ("Deploying").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PTB_TIMEDELTA=1 \
    DATABASE_PATH=/data/bot.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --upgrade pip && pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot:bot /data && chmod 700 /data

USER bot
VOLUME ["/data"]

# The bot process and its database only: HuFi or an exchange being down must not restart the bot.
HEALTHCHECK --interval=60s --timeout=15s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot", "status", "--self"]

CMD ["python", "-m", "bot", "run"]
