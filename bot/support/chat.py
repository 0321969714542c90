"""Where the support chat is: SUPPORT_CHAT_ID, or the supergroup that group became.

Telegram upgrades a basic group to a supergroup when staff turn Topics on (or the group grows); the supergroup
has a new id, and every write to the old one fails with "group chat was upgraded to a supergroup chat" and
`migrate_to_chat_id` (PTB's `ChatMigrated`). Two service messages announce it as well: `migrate_to_chat_id` in the
old chat and `migrate_from_chat_id` in the new one.

The bot follows the move, whichever of these it sees first: `moved(old, new)` stores it (with the pending outbox
items for the old id, `storage.support.ChatMoveRepository`), so a restart goes on using the new id, and from then
on everything that reads `id` uses the new chat: delivery, topics, the staff rule, staff messages, /status, /stats
and the digest. The operator is told once per process, at WARNING, to set SUPPORT_CHAT_ID to the new id (after
the move, and at start-up while the setting still names the old group).
"""

from __future__ import annotations

import logging

from storage.support import ChatMoveRepository

log = logging.getLogger(__name__)


class SupportChat:
    """The support chat's current id (`id`), following Telegram's group-to-supergroup upgrade."""

    def __init__(self, configured: int, moves: ChatMoveRepository | None = None) -> None:
        self.configured = configured
        self._moves = moves
        self._id = configured
        self._told = False

    @property
    def id(self) -> int:
        return self._id

    @property
    def moved(self) -> bool:
        """Whether the chat is no longer where SUPPORT_CHAT_ID says."""
        return self._id != self.configured

    async def load(self) -> int:
        """Pick up a move stored by an earlier run (call once at start-up); returns the current id."""
        if self._moves is not None:
            self._id = await self._moves.resolve(self.configured)
        if self.moved:
            self._tell()
        return self._id

    async def follow(self, old: int, new: int) -> bool:
        """The chat `old` became `new`; True when that moved the support chat (False: another chat, or known)."""
        if old != self._id or new == old:
            return False
        self._id = new  # set before any await: concurrent reports of the same move see it followed
        if self._moves is not None:
            await self._moves.record(old, new)
        self._tell()
        return True

    def _tell(self) -> None:
        if self._told:
            return
        self._told = True
        log.warning(
            "the support chat %s was upgraded to a supergroup and is now %s: the bot uses %s; "
            "set SUPPORT_CHAT_ID=%s in the configuration",
            self.configured,
            self._id,
            self._id,
            self._id,
        )
