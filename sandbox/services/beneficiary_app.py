"""What the beneficiary's app does: scan, adjust, authorize, abandon, refuse.

Used by the automatic behaviours, by `/_sandbox/beneficiaries/{id}/act`, and later by the
beneficiary web app and the simulated customers: one path for every way of paying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain import errors, payments
from ..domain.beneficiaries import Beneficiary
from ..domain.ids import digits
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import Transaction
from . import behaviours

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

PAYMENT_URL_MARKER = "/pre-transactions/"


def pre_transaction_id_from_url(url: Any) -> str:
    """The request id in a payment QR code's URL (`…/pre-transactions/{id}/qr-code`)."""
    if not isinstance(url, str) or PAYMENT_URL_MARKER not in url:
        raise errors.BadRequest("url must be a payment QR code URL ending in /pre-transactions/{id}/qr-code")
    tail = url.split(PAYMENT_URL_MARKER, 1)[1].strip("/").split("/")
    if not tail[0] or len(tail[0]) > 10 or not tail[0].isalnum():
        raise errors.BadRequest("the URL does not name a pre-transaction")
    return tail[0]


def _save_all(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction) -> None:
    uow.save(tx)
    uow.save(beneficiary)
    behaviours.after_transaction_change(uow, tx)


def scan(uow: UnitOfWork, beneficiary: Beneficiary, pre_transaction_id: str) -> Transaction:
    pre = uow.session.pre_transaction(pre_transaction_id)
    if pre is None:
        raise errors.PreTransactionNotFound(f"no payment request {pre_transaction_id}")
    pending = uow.session.pending_transaction_of(beneficiary.beneficiary_id)
    tx_id = uow.sandbox.new_id(lambda candidate: uow.session.transaction(candidate) is not None)
    tx = payments.scan(pre, beneficiary, tx_id, other_pending=pending is not None, now=uow.now,
                       propose_balance=uow.sandbox.rules.proposeBalanceWhenShort)
    uow.save(pre)
    uow.save(tx)
    uow.save(beneficiary)
    behaviours.payment_reached(uow, tx, beneficiary)
    return tx


def adjust(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction, amount: Any) -> Transaction:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise errors.BadRequest("amount must be an integer number of cents")
    payments.adjust(tx, beneficiary, amount, uow.now)
    _save_all(uow, beneficiary, tx)
    return tx


def authorize(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction, pin: Any) -> Transaction:
    if not isinstance(pin, str) or not pin.isdigit() or len(pin) != 6:
        raise errors.BadRequest("pin must be the 6-digit personal code, as a string")
    payments.authorize(tx, beneficiary, pin, digits(uow.sandbox.rng, 6), uow.now,
                       block_after=uow.sandbox.rules.wrongPinsBeforeBlock)
    _save_all(uow, beneficiary, tx)
    return tx


def abandon(uow: UnitOfWork, beneficiary: Beneficiary, tx: Transaction) -> Transaction:
    tx.abort(uow.now)
    _save_all(uow, beneficiary, tx)
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


# --- the control plane's `act` ----------------------------------------------------------------

ACTIONS = ("scan", "adjust", "authorize", "abandon", "refuse")


def find_beneficiary(uow: UnitOfWork, ref: Any) -> Beneficiary:
    """By 11-digit number or email, as the Kit's beneficiaryId allows."""
    text = str(ref).strip() if isinstance(ref, str | int) and not isinstance(ref, bool) else ""
    beneficiary = uow.session.beneficiary(text) if text.isdigit() else uow.session.beneficiary_by_email(text)
    if beneficiary is None:
        raise errors.BeneficiaryNotFound(f"no beneficiary {ref!r}")
    return beneficiary


def _target_transaction(uow: UnitOfWork, beneficiary: Beneficiary, body: dict[str, Any]) -> Transaction:
    if body.get("transactionId") is not None:
        tx = uow.session.transaction(str(body["transactionId"]))
        if tx is None or tx.beneficiary_id != beneficiary.beneficiary_id:
            raise errors.TransactionNotFound("no such transaction for this beneficiary")
        return tx
    tx = uow.session.pending_transaction_of(beneficiary.beneficiary_id)
    if tx is None:
        raise errors.TransactionNotFound("this beneficiary has no payment waiting for an answer")
    return tx


def act(sandbox: Sandbox, beneficiary_ref: str, body: Any) -> dict[str, Any]:
    """`POST /_sandbox/beneficiaries/{id}/act`: returns the affected objects."""
    from .kit import catch_up

    if not isinstance(body, dict) or body.get("action") not in ACTIONS:
        raise errors.BadRequest(f"action must be one of {', '.join(ACTIONS)}")
    action = body["action"]
    with sandbox.uow() as uow:
        beneficiary = find_beneficiary(uow, beneficiary_ref)
        if action == "scan":
            pre_id = pre_transaction_id_from_url(body.get("url"))
            catch_up(uow, "pre_transaction", pre_id)
            return {"transaction": scan(uow, beneficiary, pre_id)}
        if action == "refuse" and body.get("url") is not None:  # a request not scanned yet
            pre_id = pre_transaction_id_from_url(body["url"])
            catch_up(uow, "pre_transaction", pre_id)
            pre = uow.session.pre_transaction(pre_id)
            if pre is None:
                raise errors.PreTransactionNotFound(f"no payment request {pre_id}")
            return {"preTransaction": refuse(uow, beneficiary, pre)}
        tx = _target_transaction(uow, beneficiary, body)
        if catch_up(uow, "transaction", tx.transaction_id):  # a deadline passed: reload what it changed
            beneficiary = find_beneficiary(uow, beneficiary_ref)
            tx = uow.session.transaction(tx.transaction_id) or tx
        if action == "adjust":
            return {"transaction": adjust(uow, beneficiary, tx, body.get("amount"))}
        if action == "authorize":
            return {"transaction": authorize(uow, beneficiary, tx, body.get("pin"))}
        if action == "abandon":
            return {"transaction": abandon(uow, beneficiary, tx)}
        # refuse without a URL: the request behind the payment in progress
        if not tx.pre_transaction_id:
            raise errors.OperationTransactionNotAllowed("this payment does not come from a payment request")
        pre = uow.session.pre_transaction(tx.pre_transaction_id)
        assert pre is not None
        return {"preTransaction": refuse(uow, beneficiary, pre), "transaction": uow.session.transaction(tx.transaction_id)}
