"""How a beneficiary's app answers on its own (SPEC §9), like test card numbers elsewhere.

When a payment reaches a beneficiary whose behaviour is automatic, an APP_ANSWER timer is set
one think time ahead; when it fires, the app does what the behaviour says through the same
commands a person in the app (or `/_sandbox/…/act`) uses (paying.py). A payment request pushed
to such a beneficiary's app (`/contact` with beneficiaryId) is opened the same way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..domain import errors, events
from ..domain.deadlines import APP_ANSWER, APP_OPEN_REQUEST
from ..domain.events import Event
from ..domain.transactions import IN_ADJUSTMENT, Transaction
from . import paying

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork

ANSWERING = {"pay_full", "pay_partial", "wrong_pin", "abandon", "low_balance"}


def _think_time(uow: UnitOfWork) -> timedelta:
    return timedelta(seconds=uow.sandbox.rules.thinkTimeSeconds)


def schedule_answer(uow: UnitOfWork, event: Event) -> None:
    """TransactionProcessing: when the payment has just reached its beneficiary (the move names them),
    an automatic app answers one think time later."""
    if "beneficiaryId" not in event.data:  # a later move of the same payment (the amount lowered)
        return
    tx = uow.saved(Transaction, event.ref)
    if tx is None or not tx.awaiting_beneficiary or tx.beneficiary_id is None:
        return
    beneficiary = uow.beneficiary(tx.beneficiary_id)
    if beneficiary is not None and beneficiary.behaviour in ANSWERING:
        uow.session.set_timer(APP_ANSWER, tx.transaction_id, uow.now + _think_time(uow))


def schedule_opening(uow: UnitOfWork, event: Event) -> None:
    """PreTransactionProcessing: a request pushed to a beneficiary's app is opened one think time later."""
    beneficiary_id = event.data.get("beneficiaryId")
    if not beneficiary_id:  # sent by email, or shown as a QR code
        return
    beneficiary = uow.beneficiary(beneficiary_id)
    if beneficiary is not None and beneficiary.behaviour in ANSWERING:
        uow.session.set_timer(APP_OPEN_REQUEST, event.ref, uow.now + _think_time(uow))


def open_request(uow: UnitOfWork, ref: str) -> None:
    """APP_OPEN_REQUEST fell due: the app scans the request pushed to it."""
    pre = uow.session.pre_transaction(ref)
    if pre is None or pre.contact_beneficiary_id is None:
        return
    beneficiary = uow.session.beneficiary(pre.contact_beneficiary_id)
    if beneficiary is None or beneficiary.behaviour not in ANSWERING:
        return
    try:
        paying.scan(uow, beneficiary, pre.pre_transaction_id)
    except errors.KitError as error:  # the request was withdrawn, expired, or the balance is short
        uow.record(events.BENEFICIARY_APP_GAVE_UP, beneficiary.beneficiary_id, reason=error.code)


def answer(uow: UnitOfWork, ref: str) -> None:
    """APP_ANSWER fell due: the app does what its behaviour says, if the payment still waits for it."""
    tx = uow.session.transaction(ref)
    if tx is None or not tx.awaiting_beneficiary or tx.beneficiary_id is None:
        return
    beneficiary = uow.session.beneficiary(tx.beneficiary_id)
    if beneficiary is None:
        return
    behaviour = beneficiary.behaviour
    if behaviour == "abandon":
        paying.abandon(uow, beneficiary, tx)
        return
    if behaviour == "pay_partial" and tx.sub_state == IN_ADJUSTMENT:
        assert tx.payer is not None
        half = max(1, min(tx.payer.amount // 2, beneficiary.available(uow.now)))
        paying.adjust(uow, beneficiary, tx, half)
    pin = beneficiary.pin if behaviour != "wrong_pin" else wrong_pin(beneficiary.pin)
    if behaviour in ANSWERING:
        paying.authorize(uow, beneficiary, tx, pin)


def wrong_pin(pin: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in pin)
