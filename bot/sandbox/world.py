"""All simulated exchanges at once, with demo keys: the offline demo, staging and the end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass

from bot.diagnosis.model import Permission
from bot.sandbox.exchanges import fake_classes
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange


@dataclass
class DemoKey:
    label: str  # what is wrong with it, in plain words
    exchange_id: str
    account: FakeAccount
    cause: str  # what the bot should find
    wrong_secret: str | None = None  # set when the demo key is "the secret of another key"

    @property
    def secret_to_send(self) -> str:
        return self.wrong_secret or self.account.secret


class SandboxWorld:
    """Starts a fake server per exchange and returns the URL overrides for `ClientFactory`."""

    def __init__(self, exchange_ids: list[str] | None = None, *, latency: float = 0.0) -> None:
        classes = fake_classes()
        self.fakes: dict[str, FakeExchange] = {
            eid: cls(latency=latency) for eid, cls in classes.items() if exchange_ids is None or eid in exchange_ids
        }
        self.demo_keys: list[DemoKey] = []

    async def start(self) -> dict[str, str]:
        for fake in self.fakes.values():
            await fake.start()
        return self.url_overrides

    async def stop(self) -> None:
        for fake in self.fakes.values():
            await fake.stop()

    async def __aenter__(self) -> SandboxWorld:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url_overrides(self) -> dict[str, str]:
        return {eid: fake.base_url for eid, fake in self.fakes.items()}

    def seed_demo(self, exchange_id: str = "mexc") -> list[DemoKey]:
        """One key per common cause on `exchange_id` (the table the demo prints)."""
        fake = self.fakes[exchange_id]
        keys = [
            DemoKey("a good read-only key", exchange_id, fake.add_account(), "ok"),
            DemoKey(
                "trade history not allowed",
                exchange_id,
                fake.add_account(permissions=set(Permission) - {Permission.VIEW_SPOT_TRADING_HISTORY}),
                "permission_missing",
            ),
            DemoKey(
                "IP allow-list without HuFi's IP",
                exchange_id,
                fake.add_account(ip_whitelist=("198.51.100.23",)),
                "ip_not_whitelisted",
            ),
            DemoKey("expired key", exchange_id, fake.add_account(expired=True), "key_expired"),
            DemoKey(
                "no ETH deposit address yet", exchange_id, fake.add_account(deposit_address=None), "no_deposit_address"
            ),
        ]
        wrong = fake.add_account()
        keys.append(DemoKey("the secret of another key", exchange_id, wrong, "secret_mismatch", fake.new_secret()))
        self.demo_keys.extend(keys)
        return keys

    def fix(self, key: DemoKey) -> None:
        """Repair a demo key the way the user would on the exchange."""
        account = key.account
        account.permissions = set(Permission)
        account.ip_whitelist = ()
        account.expired = False
        account.frozen = False
        if account.deposit_address is None:
            account.deposit_address = "0x" + "5" * 40
        if key.wrong_secret:
            key.wrong_secret = None
        for fake in self.fakes.values():
            fake.clear_forced()
