"""A unit of work: one database transaction, the time it happens at, and what it caused.

Entities are saved through it. Before the commit, in the same database transaction, it runs
what follows each of their events (`Wiring.events`, the table of `handlers.py`) until no new
event appears, writes the events to the timeline, turns them into webhook deliveries and
emails (`Wiring.notifications`), and hands those to the sandbox to deliver once the commit
succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.accounts import MerchantAccount
from ..domain.beneficiaries import Beneficiary
from ..domain.events import Event
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import Transaction
from . import notifications
from .ports import StoreSession

if TYPE_CHECKING:
    from .sandbox import Sandbox

EventHandler = Callable[["UnitOfWork", Event], None]
TimerHandler = Callable[["UnitOfWork", str], None]
Entity = Transaction | PreTransaction | Beneficiary | MerchantAccount


@dataclass(frozen=True)
class Wiring:
    """What follows what: made once by `handlers.py`, handed to every unit of work by the sandbox."""

    events: Mapping[str, Sequence[EventHandler]]  # event name -> its handlers, in order
    timers: Mapping[str, TimerHandler]  # deadline kind -> what happens when it falls due
    notifications: Mapping[str, Sequence[notifications.Planner]]  # event name -> the webhooks and emails it sends


class UnitOfWork:
    def __init__(self, sandbox: Sandbox, wiring: Wiring, now: datetime | None = None) -> None:
        self.sandbox = sandbox
        self.wiring = wiring
        self._now = now
        self._events: list[Event] = []
        self._handled = 0  # how many of `_events` have had their handlers run
        self._latest: dict[tuple[type, str], Any] = {}  # what this unit of work saved, by (type, id)
        self._seen: dict[str, Beneficiary] = {}  # beneficiaries it read (find_beneficiary), by id
        self._emails: list[dict[str, Any]] = []  # written to the outbox: relayed after commit

    def __enter__(self) -> UnitOfWork:
        self._context = self.sandbox.store.session()
        self.session: StoreSession = self._context.__enter__()
        self.now: datetime = self._now or self.sandbox.clock.now()
        self.sandbox.load_rules(self.session)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        # A unit of work that caused no event (a read: a Kit GET, a page) has nothing to write, send or
        # tell: its commit skips the flush and the listeners (a tenth of a busy day's units of work).
        happened = exc_type is None and bool(self._events)
        deliveries: list[dict[str, Any]] = []
        if happened:
            try:
                deliveries = self._flush()
            except BaseException as error:
                self._context.__exit__(type(error), error, error.__traceback__)
                raise
        earliest_timer = self.session.earliest_timer
        result = self._context.__exit__(exc_type, exc, tb)
        if happened or (exc_type is None and earliest_timer is not None):
            self.sandbox.after_commit(self._events, deliveries, list(self._latest.values()), earliest_timer,
                                      self._emails)
        return result

    def save(self, entity: Entity) -> None:
        if isinstance(entity, Transaction):
            self.session.save_transaction(entity)
            key = entity.transaction_id
        elif isinstance(entity, PreTransaction):
            self.session.save_pre_transaction(entity)
            key = entity.pre_transaction_id
        elif isinstance(entity, Beneficiary):
            self.session.save_beneficiary(entity)
            key = entity.beneficiary_id
        elif isinstance(entity, MerchantAccount):
            self.session.save_account(entity)
            key = entity.login
        else:  # pragma: no cover - a programming error
            raise TypeError(type(entity).__name__)
        slot = (type(entity), key)
        self._latest.pop(slot, None)  # re-inserted last: the order things were last saved in
        self._latest[slot] = entity
        self._events.extend(entity.pull_events())

    def record(self, name: str, ref: str, **data: Any) -> None:
        """An event with no entity behind it (control-plane actions, the back office's runs)."""
        self._events.append(Event(name, ref, self.now, data))

    def saved(self, kind: type[Entity], ref: str) -> Any:
        """The entity of this kind and id as this unit of work last saved it (None when it did not)."""
        return self._latest.get((kind, ref))

    def seen(self, beneficiary: Beneficiary) -> Beneficiary:
        """A beneficiary this unit of work read: what follows (a handler) reads the same one, not the store again."""
        self._seen[beneficiary.beneficiary_id] = beneficiary
        return beneficiary

    def beneficiary(self, beneficiary_id: str) -> Beneficiary | None:
        """The beneficiary as this unit of work saved or read it, else as stored."""
        found: Beneficiary | None = self.saved(Beneficiary, beneficiary_id) or self._seen.get(beneficiary_id)
        return found or self.session.beneficiary(beneficiary_id)

    def pre_transaction(self, pre_transaction_id: str) -> PreTransaction | None:
        """The payment request as this unit of work left it (saved here), else as stored."""
        return self.saved(PreTransaction, pre_transaction_id) or self.session.pre_transaction(pre_transaction_id)

    def react(self) -> None:
        """Run the handlers of every event not handled yet, and of those they cause, until none is left.

        The commit does it; a caller that goes on reading what a deadline changed (`scheduler.catch_up`)
        does it at once, so that it reads the world with every follow-up applied."""
        while self._handled < len(self._events):
            event = self._events[self._handled]
            self._handled += 1
            for handler in self.wiring.events.get(event.name, ()):
                handler(self, event)

    def _flush(self) -> list[dict[str, Any]]:
        self.react()
        self.session.add_events(self._events)
        deliveries = []
        for plan in notifications.plan(self, self.wiring.notifications, self._events):
            if plan.kind == "webhook":
                delivery_id = self.session.add_webhook(plan.to, plan.body, self.now)
                deliveries.append({"id": delivery_id, "url": plan.to, "body": plan.body, "attempts": []})
            else:
                self.session.add_email(plan.to, plan.subject, plan.text, plan.html, self.now)
                self._emails.append({"to": plan.to, "subject": plan.subject, "text": plan.text, "html": plan.html,
                                     "at": self.now})
        return deliveries
