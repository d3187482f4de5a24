"""A unit of work: one database transaction, the time it happens at, and what it caused.

Entities are saved through it; at commit it writes their events to the timeline, sets the
reminders they call for, turns them into notifications (webhook deliveries, emails) in the
same transaction, and hands them to the sandbox to deliver once the commit succeeded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.accounts import MerchantAccount
from ..domain.beneficiaries import Beneficiary
from ..domain.events import Event
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import Transaction
from . import notifications, reminders
from .ports import StoreSession

if TYPE_CHECKING:
    from .sandbox import Sandbox


class UnitOfWork:
    def __init__(self, sandbox: Sandbox, now: datetime | None = None) -> None:
        self.sandbox = sandbox
        self._now = now
        self._events: list[Event] = []
        self._saved: list[Any] = []
        self._emails: list[dict[str, Any]] = []  # written to the outbox: relayed after commit

    def __enter__(self) -> UnitOfWork:
        self._context = self.sandbox.store.session()
        self.session: StoreSession = self._context.__enter__()
        self.now: datetime = self._now or self.sandbox.clock.now()
        self.sandbox.load_rules(self.session)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        deliveries: list[dict[str, Any]] = []
        if exc_type is None:
            try:
                deliveries = self._flush()
            except BaseException as error:
                self._context.__exit__(type(error), error, error.__traceback__)
                raise
        earliest_timer = self.session.earliest_timer
        result = self._context.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.sandbox.after_commit(self._events, deliveries, self._saved, earliest_timer, self._emails)
        return result

    def save(self, entity: Transaction | PreTransaction | Beneficiary | MerchantAccount) -> None:
        if isinstance(entity, Transaction):
            self.session.save_transaction(entity)
        elif isinstance(entity, PreTransaction):
            self.session.save_pre_transaction(entity)
        elif isinstance(entity, Beneficiary):
            self.session.save_beneficiary(entity)
        elif isinstance(entity, MerchantAccount):
            self.session.save_account(entity)
        else:  # pragma: no cover - a programming error
            raise TypeError(type(entity).__name__)
        self._saved.append(entity)
        self._events.extend(entity.pull_events())

    def record(self, name: str, ref: str, **data: Any) -> None:
        """An event with no entity behind it (control-plane actions)."""
        self._events.append(Event(name, ref, self.now, data))

    def _flush(self) -> list[dict[str, Any]]:
        reminders.follow(self.session, self._events, self._saved, self.now)
        self.session.add_events(self._events)
        deliveries = []
        for plan in notifications.plan(self._events, self._saved, self.now, self.sandbox, self.session):
            if plan.kind == "webhook":
                delivery_id = self.session.add_webhook(plan.to, plan.body, self.now)
                deliveries.append({"id": delivery_id, "url": plan.to, "body": plan.body, "attempts": []})
            else:
                self.session.add_email(plan.to, plan.subject, plan.text, plan.html, self.now)
                self._emails.append({"to": plan.to, "subject": plan.subject, "text": plan.text, "html": plan.html,
                                     "at": self.now})
        return deliveries
