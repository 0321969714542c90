"""The schema, as an ordered list of SQL scripts: version N is `MIGRATIONS[N - 1]`.

Append new scripts; never edit one that has shipped. Each script runs in its own transaction together with the
row that records it in `schema_version`. Times are Unix epoch seconds (REAL, UTC). No table holds a secret in
clear: the vault keeps AES-GCM ciphertext only, checks keep redacted reports.
"""

from __future__ import annotations

V1_CORE = """
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,          -- Telegram user id
    first_name    TEXT    NOT NULL DEFAULT '',
    username      TEXT,
    language_code TEXT,
    first_seen    REAL    NOT NULL,
    last_seen     REAL    NOT NULL,
    blocked_bot   INTEGER NOT NULL DEFAULT 0 CHECK (blocked_bot IN (0, 1))
);

CREATE TABLE checks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL,
    exchange_id     TEXT    NOT NULL,
    key_fingerprint TEXT    NOT NULL,           -- display form only ("abcd…wxyz")
    campaign_type   TEXT,
    cause           TEXT,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    report_json     TEXT    NOT NULL,           -- KeyCheckReport.to_dict(), already redacted
    created_at      REAL    NOT NULL
);
CREATE INDEX checks_by_user ON checks (user_id, created_at);

CREATE TABLE vault (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    exchange_id TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    nonce       BLOB    NOT NULL CHECK (length(nonce) = 12),
    ciphertext  BLOB    NOT NULL,               -- AES-256-GCM, AD = user id and exchange
    expires_at  REAL    NOT NULL,
    UNIQUE (user_id, exchange_id)
);
CREATE INDEX vault_by_expiry ON vault (expires_at);

CREATE TABLE conversations (
    name       TEXT NOT NULL,
    key_json   TEXT NOT NULL,
    state_json TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (name, key_json)
) WITHOUT ROWID;
"""

V2_ESCALATION = """
CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    description   TEXT    NOT NULL DEFAULT '',
    last_check_id INTEGER REFERENCES checks (id) ON DELETE SET NULL,
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL,
    closed_at     REAL
);
CREATE UNIQUE INDEX tickets_one_open_per_user ON tickets (user_id) WHERE status = 'open';
CREATE INDEX tickets_by_status ON tickets (status, updated_at);

CREATE TABLE support_topics (
    user_id    INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,                -- the support supergroup
    thread_id  INTEGER NOT NULL,                -- message_thread_id of the user's forum topic
    state      TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'deleted')),
    created_at REAL    NOT NULL,
    updated_at REAL    NOT NULL,
    UNIQUE (chat_id, thread_id)
);

CREATE TABLE message_links (
    id                 INTEGER PRIMARY KEY,
    user_chat_id       INTEGER NOT NULL,
    user_message_id    INTEGER NOT NULL,
    support_chat_id    INTEGER NOT NULL,
    support_message_id INTEGER NOT NULL,
    created_at         REAL    NOT NULL,
    UNIQUE (support_chat_id, support_message_id)
);
CREATE INDEX message_links_by_user ON message_links (user_chat_id, user_message_id);
CREATE INDEX message_links_by_age ON message_links (created_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,
    chat_id         INTEGER NOT NULL,
    payload_json    TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    claimed_until   REAL,                       -- lease of the worker sending it; expires on a crash
    last_error      TEXT,
    created_at      REAL    NOT NULL,
    sent_at         REAL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_chat ON outbox (chat_id, status, id);

CREATE TABLE bans (
    user_id   INTEGER PRIMARY KEY,
    banned_by INTEGER,
    reason    TEXT,
    at        REAL NOT NULL
);

CREATE TABLE rate_events (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    kind    TEXT    NOT NULL DEFAULT 'check',
    at      REAL    NOT NULL
);
CREATE INDEX rate_events_by_user ON rate_events (user_id, kind, at);
CREATE INDEX rate_events_by_age ON rate_events (at);
"""

V3_DRAFTS = """
-- What a user has typed so far in the key flow (exchange, campaign type, API key), encrypted like the vault,
-- so a restart in the middle of the flow resumes it without keeping anything in clear.
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    exchange_id TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    nonce       BLOB    NOT NULL CHECK (length(nonce) = 12),
    ciphertext  BLOB    NOT NULL,
    expires_at  REAL    NOT NULL,
    UNIQUE (user_id, exchange_id)
);
CREATE INDEX drafts_by_expiry ON drafts (expires_at);
"""

V4_ABUSE = """
-- Limits beyond the account: checks per API key, counted by an HMAC of the key (keyed with a key derived from
-- the vault key), never the key or a plain hash of it; nothing links a row to a user.
CREATE TABLE key_events (
    id      INTEGER PRIMARY KEY,
    key_mac TEXT    NOT NULL CHECK (length(key_mac) = 32),  -- hex of the first 16 bytes of the HMAC-SHA256
    at      REAL    NOT NULL
);
CREATE INDEX key_events_by_key ON key_events (key_mac, at);
CREATE INDEX key_events_by_age ON key_events (at);
-- the global hourly ceiling counts every user's checks; relays are counted per user (kind 'relay')
CREATE INDEX rate_events_by_kind ON rate_events (kind, at);
-- retention: check reports and ticket texts older than the configured number of days are deleted
CREATE INDEX checks_by_age ON checks (created_at);
CREATE INDEX tickets_by_age ON tickets (updated_at);
"""

V5_INSIGHTS = """
-- Support insights (issue 22): when staff first answered a ticket, and indexes for the per-period queries.
-- (checks are already indexed by created_at, in version 4.)
ALTER TABLE tickets ADD COLUMN first_staff_reply_at REAL;  -- the first staff message relayed to the user
CREATE INDEX tickets_by_created ON tickets (created_at);
CREATE INDEX tickets_by_closed ON tickets (closed_at) WHERE closed_at IS NOT NULL;
"""

V6_SUPPORT = """
-- The support desk over the real Bot API (issue 13).
-- Outbox order is kept per conversation (`lane`: a user's ticket in the support chat, a user's private chat), not
-- per chat, so one user's failing message never holds up another's; `lease_owner` names the process that leased an
-- item, so a restart releases the leases of a process that died instead of waiting for them to run out.
ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
UPDATE outbox SET lane = 'chat:' || chat_id;  -- items queued before this version keep their order per chat
CREATE INDEX outbox_by_lane ON outbox (lane, status, id);
-- A support group upgraded to a supergroup (turning Topics on does it) has a new id: the bot follows it, also
-- after a restart, until SUPPORT_CHAT_ID is updated.
CREATE TABLE support_chat_moves (
    old_id   INTEGER PRIMARY KEY,
    new_id   INTEGER NOT NULL,
    moved_at REAL    NOT NULL
);
-- A user who asked for a person and is writing their description: the step outlives a restart of the bot.
CREATE TABLE support_requests (
    user_id  INTEGER PRIMARY KEY,
    check_id INTEGER REFERENCES checks (id) ON DELETE SET NULL,
    asked_at REAL    NOT NULL
);
"""

V7_LANGUAGE = """
-- Every user in their own language (issue 18): the language the bot writes to the user in (a code of
-- bot.i18n.LANGUAGES: en, ru, zh_Hans, es, tr, vi). Set on first contact from Telegram's language_code, changed
-- with /language; NULL for a user seen before this version until their next message sets it.
ALTER TABLE users ADD COLUMN language TEXT;
"""

#: Version N of the schema is reached by running MIGRATIONS[:N] in order.
MIGRATIONS: tuple[str, ...] = (V1_CORE, V2_ESCALATION, V3_DRAFTS, V4_ABUSE, V5_INSIGHTS, V6_SUPPORT, V7_LANGUAGE)

SCHEMA_VERSION = len(MIGRATIONS)
