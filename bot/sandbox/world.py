"""All simulated exchanges at once, with the staging keys: the offline demo, staging and the end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass

from bot.diagnosis.model import Permission
from bot.sandbox.exchanges import fake_classes
from bot.sandbox.exchanges.base import FakeAccount, FakeExchange
from bot.sandbox.staging import StagingKey, staging_keys


@dataclass
class DemoKey:
    """A staging key on this world's simulated exchange (`bot.sandbox.staging`), as the demo and tests use it."""

    label: str  # what is wrong with it, in plain words
    exchange_id: str
    account: FakeAccount
    cause: str  # what the bot should find
    wrong_secret: str | None = None  # set when the key is sent with "the secret of another key"
    wrong_extra: str | None = None  # set when the key is sent with a wrong passphrase or memo
    case: str = ""  # the staging case's name

    @property
    def secret_to_send(self) -> str:
        return self.wrong_secret or self.account.secret

    @property
    def extra_to_send(self) -> str | None:
        """The passphrase or memo to type (None: the exchange asks for neither)."""
        return self.wrong_extra or self.account.passphrase or self.account.memo


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

    def add_staging_keys(self, exchange_id: str | None = None) -> list[DemoKey]:
        """Put the staging keys (`bot.sandbox.staging`) on the books of this world's exchanges (or of one);
        calling it again returns the same keys without adding them twice."""
        keys = []
        for eid, fake in self.fakes.items():
            if exchange_id is not None and eid != exchange_id:
                continue
            for staging in staging_keys(eid):
                keys.append(self._staging(fake, staging))
        return keys

    def _staging(self, fake: FakeExchange, key: StagingKey) -> DemoKey:
        known = next((k for k in self.demo_keys if k.exchange_id == key.exchange_id and k.case == key.case.name), None)
        if known is not None:
            return known
        fields = key.account_fields()
        if key.case.on_books:
            account = fake.add_account(**fields)
        else:  # the exchange has never heard of it
            account = FakeAccount(
                **{k: v for k, v in fields.items() if k in ("api_key", "secret", "passphrase", "memo")}
            )
        demo = DemoKey(
            key.label,
            key.exchange_id,
            account,
            key.expected,
            wrong_secret=key.secret_to_send if key.secret_to_send != key.secret else None,
            wrong_extra=key.extra_to_send if key.extra_to_send != (key.passphrase or key.memo) else None,
            case=key.case.name,
        )
        self.demo_keys.append(demo)
        return demo

    def seed_demo(self, exchange_id: str = "mexc") -> list[DemoKey]:
        """The staging keys of `exchange_id`, on its books (the table the demo prints)."""
        return self.add_staging_keys(exchange_id)

    def fix(self, key: DemoKey) -> None:
        """Repair a demo key the way the user would on the exchange."""
        account = key.account
        account.permissions = set(Permission)
        account.ip_whitelist = ()
        account.expired = False
        account.frozen = False
        if account.deposit_address is None:
            account.deposit_address = "0x" + "5" * 40
        key.wrong_secret = None
        key.wrong_extra = None
        fake = self.fakes.get(key.exchange_id)
        if fake is not None and account.api_key not in fake.accounts:
            fake.accounts[account.api_key] = account  # a new key made on the exchange
        for fake in self.fakes.values():
            fake.clear_forced()
