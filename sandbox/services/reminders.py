"""The merchant's reminder 24 hours before a pre-booking's validation deadline (seed 001: "rappel 24h").

When a DEFERRED transaction with a merchant email becomes AUTHORIZED, a VALIDATION_REMINDER
timer is set at its capture date minus 24 h (none when that instant has already passed).
When it fires and the payment still waits for the merchant, a `ValidationReminderDue` event
is recorded; notifications.py turns it into the email. Validating or cancelling the payment
removes the timer; the firing checks the state again anyway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..domain import events
from ..domain.dates import format_date
from ..domain.deadlines import VALIDATION_REMINDER
from ..domain.events import Event
from ..domain.transactions import AUTHORIZED, DEFERRED, Transaction

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork

LEAD_TIME = timedelta(hours=24)


def awaits_merchant(tx: Transaction) -> bool:
    """A pre-booking the merchant still has to validate, and who asked to be told."""
    return (tx.state == AUTHORIZED and tx.capture_mode == DEFERRED and tx.capture_date is not None
            and bool(tx.merchant_email))


def set_reminder(uow: UnitOfWork, event: Event) -> None:
    """TransactionAuthorized: a pre-booking now waits for its merchant, who is reminded a day before the end."""
    tx = uow.saved(Transaction, event.ref)
    if tx is not None and awaits_merchant(tx):
        assert tx.capture_date is not None
        due = tx.capture_date - LEAD_TIME
        if due > uow.now:
            uow.session.set_timer(VALIDATION_REMINDER, tx.transaction_id, due)


def drop_reminder(uow: UnitOfWork, event: Event) -> None:
    """TransactionValidated or TransactionCancelled: nothing left to remind of."""
    tx = uow.saved(Transaction, event.ref)
    if tx is not None and tx.capture_mode == DEFERRED and tx.merchant_email:
        uow.session.set_timer(VALIDATION_REMINDER, tx.transaction_id, None)


def remind(uow: UnitOfWork, ref: str) -> None:
    """The timer fired: remind the merchant, unless the payment was validated or cancelled meanwhile."""
    tx = uow.session.transaction(ref)
    if tx is not None and awaits_merchant(tx):
        uow.record(events.VALIDATION_REMINDER_DUE, ref, to=tx.merchant_email, captureDate=format_date(tx.capture_date))
