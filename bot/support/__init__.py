"""Human support, transport-free: tickets, the outbox delivery engine, the users' forum topics, the staff rule.

`Support` is what the handlers get (as `services.support`, present only when SUPPORT_CHAT_ID is set):

- `chat` (`SupportChat`): where the support chat is now (it follows Telegram's upgrade to a supergroup);
- `desk` (`TicketDesk`): tickets, the description step, and queueing what staff or users must receive (stored
  before it is sent);
- `delivery` (`Delivery`): drains the outbox through the sender, in order per conversation, conversations in
  parallel;
- `topics` (`Topics`): a forum topic per user, created, reopened and re-created as needed.

The staff rule (`StaffRule`) lives beside it as `services.staff`, because /status asks it too. The messenger is a
`SupportSender` (`bot.support.sender`), implemented for Telegram in `handlers.support_sender`; the engine hands it
view models and catalog keys, never markup. No `telegram` import anywhere in this package.
"""

from __future__ import annotations

from bot.support.chat import SupportChat
from bot.support.delivery import Delivery
from bot.support.desk import TicketDesk
from bot.support.sender import SendError, SupportSender, Words
from bot.support.staff import StaffRule, StaffVerdict
from bot.support.topics import Topics
from storage.support import Ticket, TopicState

__all__ = [
    "Delivery",
    "SendError",
    "StaffRule",
    "StaffVerdict",
    "Support",
    "SupportChat",
    "SupportSender",
    "Ticket",
    "TicketDesk",
    "TopicState",
    "Topics",
    "Words",
]


class Support:
    """The support side of one bot: one support chat, its desk, topics and delivery."""

    def __init__(self, desk: TicketDesk, topics: Topics, delivery: Delivery) -> None:
        self.desk = desk
        self.topics = topics
        self.delivery = delivery
        self.chat = desk.chat
        desk.on_queued = delivery.kick
        #: What is wrong with the support chat's set-up (None until checked at start; empty when all is well).
        self.chat_problems: list[str] | None = None

    @property
    def chat_id(self) -> int:
        """The support chat's id now (SUPPORT_CHAT_ID, or the supergroup it became)."""
        return self.chat.id

    async def start(self) -> None:
        """Start delivering (releasing the outbox leases of a process that died first)."""
        await self.delivery.start()

    async def stop(self) -> None:
        await self.delivery.stop()
