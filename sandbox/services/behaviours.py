"""How a beneficiary's app answers on its own (SPEC §9), like test card numbers elsewhere.

When a payment reaches a beneficiary whose behaviour is automatic, an "app" timer is set
one think time ahead; when it fires, the app does what the behaviour says through the
same functions a person in the app (or `/_sandbox/…/act`) uses.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..domain import errors, payments
from ..domain.beneficiaries import Beneficiary
from ..domain.transactions import IN_ADJUSTMENT, Transaction

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork

APP_ANSWER = "app"  # timer kind: the app answers a transaction
APP_OPEN_REQUEST = "app_request"  # timer kind: the app opens a payment request pushed to it
TIMER_KINDS = (APP_ANSWER, APP_OPEN_REQUEST)
ANSWERING = {"pay_full", "pay_partial", "wrong_pin", "abandon", "low_balance"}


def _think_time(uow: UnitOfWork) -> timedelta:
    return timedelta(seconds=uow.sandbox.rules.thinkTimeSeconds)


def payment_reached(uow: UnitOfWork, tx: Transaction, beneficiary: Beneficiary) -> None:
    """A transaction now waits for this beneficiary: schedule the app's answer."""
    if beneficiary.behaviour in ANSWERING and tx.awaiting_beneficiary:
        uow.session.set_timer(APP_ANSWER, tx.transaction_id, uow.now + _think_time(uow))


def request_pushed(uow: UnitOfWork, pre_transaction_id: str, beneficiary: Beneficiary) -> None:
    """A payment request was pushed to this beneficiary's app (`/contact` with beneficiaryId)."""
    if beneficiary.behaviour in ANSWERING:
        uow.session.set_timer(APP_OPEN_REQUEST, pre_transaction_id, uow.now + _think_time(uow))


def after_transaction_change(uow: UnitOfWork, tx: Transaction) -> None:
    """Keep the payment request of a transaction in line once the transaction has moved."""
    if tx.pre_transaction_id:
        pre = uow.session.pre_transaction(tx.pre_transaction_id)
        if pre is not None:
            payments.settle_request(pre, tx, uow.now)
            uow.save(pre)


def answer(uow: UnitOfWork, kind: str, ref: str) -> None:
    from . import beneficiary_app

    if kind == APP_OPEN_REQUEST:
        pre = uow.session.pre_transaction(ref)
        if pre is None or pre.contact_beneficiary_id is None:
            return
        beneficiary = uow.session.beneficiary(pre.contact_beneficiary_id)
        if beneficiary is None or beneficiary.behaviour not in ANSWERING:
            return
        try:
            beneficiary_app.scan(uow, beneficiary, pre.pre_transaction_id)
        except errors.KitError as error:  # the request was withdrawn, expired, or the balance is short
            uow.record("BeneficiaryAppGaveUp", beneficiary.beneficiary_id, reason=error.code)
        return
    tx = uow.session.transaction(ref)
    if tx is None or not tx.awaiting_beneficiary or tx.beneficiary_id is None:
        return
    beneficiary = uow.session.beneficiary(tx.beneficiary_id)
    if beneficiary is None:
        return
    behaviour = beneficiary.behaviour
    if behaviour == "abandon":
        beneficiary_app.abandon(uow, beneficiary, tx)
        return
    if behaviour == "pay_partial" and tx.sub_state == IN_ADJUSTMENT:
        assert tx.payer is not None
        half = max(1, min(tx.payer.amount // 2, beneficiary.available(uow.now)))
        beneficiary_app.adjust(uow, beneficiary, tx, half)
    pin = beneficiary.pin if behaviour != "wrong_pin" else wrong_pin(beneficiary.pin)
    if behaviour in ANSWERING:
        beneficiary_app.authorize(uow, beneficiary, tx, pin)


def wrong_pin(pin: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in pin)
