"""The merchant's reminder 24 hours before a pre-booking's validation deadline (seed 001: "rappel 24h").

When a DEFERRED transaction with a merchant email becomes AUTHORIZED, a "validation_reminder"
timer is set at its capture date minus 24 h (none when that instant has already passed).
When it fires and the payment still waits for the merchant, a `ValidationReminderDue` event
is recorded; notifications.py turns it into the email. Validating or cancelling the payment
removes the timer; the firing checks the state again anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..domain.dates import format_date
from ..domain.events import Event
from ..domain.transactions import AUTHORIZED, DEFERRED, Transaction
from .ports import StoreSession

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork

VALIDATION_REMINDER = "validation_reminder"  # timer kind
TIMER_KINDS = (VALIDATION_REMINDER,)
REMINDER_DUE = "ValidationReminderDue"  # event the email is planned from
LEAD_TIME = timedelta(hours=24)
SETTLED_EVENTS = {"TransactionValidated", "TransactionCancelled"}


def awaits_merchant(tx: Transaction) -> bool:
    """A pre-booking the merchant still has to validate, and who asked to be told."""
    return (tx.state == AUTHORIZED and tx.capture_mode == DEFERRED and tx.capture_date is not None
            and bool(tx.merchant_email))


def follow(session: StoreSession, events: list[Event], saved: list[Any], now: datetime) -> None:
    """Set or drop reminder timers for the transactions this unit of work changed."""
    latest = {entity.transaction_id: entity for entity in saved if isinstance(entity, Transaction)}
    for event in events:
        tx = latest.get(event.ref)
        if tx is None or tx.capture_mode != DEFERRED or not tx.merchant_email:
            continue
        if event.name == "TransactionAuthorized" and awaits_merchant(tx):
            assert tx.capture_date is not None
            due = tx.capture_date - LEAD_TIME
            if due > now:
                session.set_timer(VALIDATION_REMINDER, tx.transaction_id, due)
        elif event.name in SETTLED_EVENTS:
            session.set_timer(VALIDATION_REMINDER, tx.transaction_id, None)


def remind(uow: UnitOfWork, kind: str, ref: str) -> None:
    """The timer fired: remind the merchant, unless the payment was validated or cancelled meanwhile."""
    tx = uow.session.transaction(ref)
    if tx is not None and awaits_merchant(tx):
        uow.record(REMINDER_DUE, ref, to=tx.merchant_email, captureDate=format_date(tx.capture_date))
