"""What a beneficiary's app does to pay: scan, adjust, authorize, abandon, refuse.

One path for every way of paying: the automatic behaviours (behaviours.py), the control
plane's `/_sandbox/beneficiaries/{id}/act`, the App' Chèque-Vacances (`/app`) and the
simulated customers all come through these commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain import errors, payments
from ..domain.beneficiaries import Beneficiary
from ..domain.deadlines import PRE_TRANSACTION, TRANSACTION
from ..domain.events import Event
from ..domain.ids import digits
from ..domain.pre_transactions import PreTransaction
from ..domain.requests import Act
from ..domain.transactions import Transaction
from .scheduler import catch_up

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork


def find_beneficiary(uow: UnitOfWork, ref: Any) -> Beneficiary:
    """By 11-digit number or email, as the Kit's beneficiaryId allows."""
    text = str(ref).strip() if isinstance(ref, str | int) and not isinstance(ref, bool) else ""
    beneficiary = uow.session.beneficiary(text) if text.isdigit() else uow.session.beneficiary_by_email(text)
    if beneficiary is None:
        raise errors.BeneficiaryNotFound(f"no beneficiary {ref!r}")
    return uow.seen(beneficiary)


def scan(uow: UnitOfWork, beneficiary: Beneficiary, pre_transaction_id: str) -> Transaction:
    pre = uow.session.pre_transaction(pre_transaction_id)
    if pre is None:
        raise errors.PreTransactionNotFound(f"no payment request {pre_transaction_id}")
    pending = uow.session.pending_transaction_of(beneficiary.beneficiary_id)
    tx_id = uow.sandbox.new_id(lambda candidate: uow.session.transaction(candidate) is not None)
    tx = payments.scan(pre, beneficiary, tx_id, other_pending=pending is not None, now=uow.now,
                       propose_balance=uow.sandbox.rules.proposeBalanceWhenShort)
    uow.save(pre)
    uow.save(tx)  # the beneficiary is only read here, as by /payer: nothing of theirs to save
    return tx


def adjust(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction, amount: Any) -> Transaction:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise errors.BadRequest("amount must be an integer number of cents")
    payments.adjust(tx, beneficiary, amount, uow.now)
    uow.save(tx)  # (the beneficiary's balance is only read)
    return tx


def authorize(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction, pin: Any) -> Transaction:
    if not isinstance(pin, str) or not (pin.isascii() and pin.isdigit()) or len(pin) != 6:
        raise errors.BadRequest("pin must be the 6-digit personal code, as a string")
    payments.authorize(tx, beneficiary, pin, digits(uow.sandbox.rng, 6), uow.now,
                       block_after=uow.sandbox.rules.wrongPinsBeforeBlock)
    uow.save(tx)
    uow.save(beneficiary)
    return tx


def abandon(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction) -> Transaction:
    tx.abort(uow.now)
    uow.save(tx)  # nothing was taken from the beneficiary yet: nothing of theirs changes
    return tx


def refuse(uow: UnitOfWork, beneficiary: Beneficiary, pre: PreTransaction) -> PreTransaction:
    tx = uow.session.transaction(pre.current_transaction_id) if pre.current_transaction_id else None
    if tx is not None and tx.beneficiary_id != beneficiary.beneficiary_id:
        raise errors.OperationPreTransactionNotAllowed("another beneficiary is paying this request")
    payments.refuse(pre, tx, uow.now)
    uow.save(pre)
    if tx is not None:
        uow.save(tx)
    return pre


def request_follows(uow: UnitOfWork, event: Event) -> None:
    """A transaction's move that may end the payment running on a request: the request follows it
    (USED once paid, payable again after a failure, or EXPIRED if its time is up meanwhile)."""
    tx = uow.saved(Transaction, event.ref)
    if tx is None or not tx.pre_transaction_id:
        return
    # as this unit of work left it: a payment authorized then validated at once (NORMAL) follows twice,
    # and the second time reads the request the first one saved, not the store again
    pre = uow.pre_transaction(tx.pre_transaction_id)
    if pre is not None and pre.current_transaction_id == tx.transaction_id:
        payments.settle_request(pre, tx, uow.now)
        uow.save(pre)


# --- the control plane's `act`, and the app's buttons ------------------------------------------------

@dataclass(frozen=True)
class Acted:
    """What an action changed: the payment, its request, or both."""

    transaction: Transaction | None = None
    pre_transaction: PreTransaction | None = None

    def payment(self) -> Transaction:
        assert self.transaction is not None, "this action changes no payment"
        return self.transaction

    def request(self) -> PreTransaction:
        assert self.pre_transaction is not None, "this action changes no payment request"
        return self.pre_transaction


def _target_transaction(uow: UnitOfWork, beneficiary: Beneficiary, transaction_id: str | None) -> Transaction:
    if transaction_id is not None:
        tx = uow.session.transaction(transaction_id)
        if tx is None or tx.beneficiary_id != beneficiary.beneficiary_id:
            raise errors.TransactionNotFound("no such transaction for this beneficiary")
        return tx
    tx = uow.session.pending_transaction_of(beneficiary.beneficiary_id)
    if tx is None:
        raise errors.TransactionNotFound("this beneficiary has no payment waiting for an answer")
    return tx


def act(sandbox: Sandbox, beneficiary_ref: str, command: Act) -> Acted:
    """One of the app's actions (`requests.parse_act`), once any deadline already passed has been applied."""
    with sandbox.uow() as uow:
        beneficiary = find_beneficiary(uow, beneficiary_ref)
        if command.pre_transaction_id is not None:  # scan, or refuse a request not scanned yet
            pre_id = command.pre_transaction_id
            catch_up(uow, PRE_TRANSACTION, pre_id)
            if command.action == "scan":
                return Acted(transaction=scan(uow, beneficiary, pre_id))
            pre = uow.session.pre_transaction(pre_id)
            if pre is None:
                raise errors.PreTransactionNotFound(f"no payment request {pre_id}")
            return Acted(pre_transaction=refuse(uow, beneficiary, pre))
        tx = _target_transaction(uow, beneficiary, command.transaction_id)
        if catch_up(uow, TRANSACTION, tx.transaction_id):  # a deadline passed: reload what it changed
            beneficiary = find_beneficiary(uow, beneficiary_ref)
            tx = uow.session.transaction(tx.transaction_id) or tx
        if command.action == "adjust":
            return Acted(transaction=adjust(uow, beneficiary, tx, command.amount))
        if command.action == "authorize":
            return Acted(transaction=authorize(uow, beneficiary, tx, command.pin))
        if command.action == "abandon":
            return Acted(transaction=abandon(uow, beneficiary, tx))
        # refuse without a URL: the request behind the payment in progress
        if not tx.pre_transaction_id:
            raise errors.OperationTransactionNotAllowed("this payment does not come from a payment request")
        pre = uow.session.pre_transaction(tx.pre_transaction_id)
        assert pre is not None
        refused = refuse(uow, beneficiary, pre)
        return Acted(uow.session.transaction(tx.transaction_id), refused)
