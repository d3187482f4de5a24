"""Rules that span a transaction, its beneficiary and its pre-transaction.

The entities each guard their own states; these functions keep them consistent with each
other: who may be asked to pay, what the personal code does, where the money goes when a
payment is authorized, executed, cancelled or times out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import errors
from .beneficiaries import WRONG_PINS_BEFORE_BLOCK, Beneficiary
from .ids import mask_holder
from .pre_transactions import PreTransaction
from .transactions import (
    ABORTED,
    AUTHORIZED,
    CANCELLED,
    CURRENCY,
    DEFERRED,
    EXPIRED,
    IN_ADJUSTMENT,
    NORMAL,
    REJECTED,
    REJECTED_DEVICE,
    REJECTED_INTERNAL,
    REJECTED_SECURITY,
    TSPD_FIXED,
    VALIDATED,
    Payer,
    Transaction,
)

CAPTURE_DEADLINE_LABEL = "Délai de validation dépassé"


def check_can_pay(beneficiary: Beneficiary, amount: int, tspd_mode: str, *, other_pending: bool,
                  now: datetime, propose_balance: bool = True) -> None:
    """The checks of /payer and of a scan, in the Kit's order (SPEC §4)."""
    if not beneficiary.has_active_device():
        raise errors.NoActiveDevice("the beneficiary has no active device")
    if other_pending:
        raise errors.OtherTransactionPending("the beneficiary already has a payment in progress")
    available = beneficiary.available(now)
    if available == 0:
        raise errors.InsufficientBalance("the beneficiary's available balance is zero")
    if available < amount and (tspd_mode == TSPD_FIXED or not propose_balance):
        raise errors.InsufficientBalance(f"{amount} cents asked, {available} available")


def start_payment(transaction: Transaction, beneficiary: Beneficiary, beneficiary_ref: Any, amount: int | None,
                  *, other_pending: bool, now: datetime, currency: str = CURRENCY, stalled: bool = False,
                  propose_balance: bool = True) -> None:
    """/payer: ask this beneficiary for `amount` (default: the whole order)."""
    transaction.require_initialized()
    if currency != CURRENCY:
        raise errors.InvalidTransactionCurrency(f"payer.amount.currency must be {CURRENCY}")
    if amount is None:
        amount = transaction.amount
    if not 1 <= amount <= transaction.amount:
        raise errors.InvalidPayerAmount(f"payer amount must be between 1 and {transaction.amount} cents")
    check_can_pay(beneficiary, amount, transaction.tspd_mode, other_pending=other_pending, now=now,
                  propose_balance=propose_balance)
    payer = Payer(beneficiary_ref=beneficiary_ref, beneficiary_id=beneficiary.beneficiary_id, amount=amount)
    transaction.start_payment(payer, now, stalled=stalled)


def proposed_amount(transaction: Transaction, beneficiary: Beneficiary, now: datetime) -> int:
    """What the app offers to pay: the amount asked, or the balance when lower (SR, tspd 001)."""
    assert transaction.payer is not None
    return max(1, min(transaction.payer.amount, beneficiary.available(now)))


def adjust(transaction: Transaction, beneficiary: Beneficiary, amount: int, now: datetime) -> None:
    if transaction.sub_state == IN_ADJUSTMENT and amount > beneficiary.available(now):
        raise errors.InsufficientBalance(f"{amount} cents asked, {beneficiary.available(now)} available")
    transaction.adjust(amount, now)


def authorize(transaction: Transaction, beneficiary: Beneficiary, pin: str, authorization_number: str,
              now: datetime, block_after: int = WRONG_PINS_BEFORE_BLOCK) -> None:
    """The beneficiary types the personal code (accepting the proposed amount if still adjusting)."""
    transaction.require_awaiting_beneficiary()
    if transaction.sub_state == IN_ADJUSTMENT:
        transaction.adjust(proposed_amount(transaction, beneficiary, now), now)
    if not beneficiary.has_active_device():
        transaction.reject(REJECTED_DEVICE, now)
        return
    if transaction.capture_mode == DEFERRED and transaction.capture_date and now >= transaction.capture_date:
        transaction.reject(REJECTED_INTERNAL, now)  # too late: it could no longer be validated
        return
    if not beneficiary.check_pin(pin, now, block_after):
        transaction.reject(REJECTED_SECURITY, now)  # SR: one attempt per transaction
        return
    assert transaction.payer is not None
    amount = transaction.payer.amount
    if amount > beneficiary.available(now):  # checked again at authorization (SPEC §4)
        transaction.reject(REJECTED_INTERNAL, now, cause=errors.InsufficientBalance.code)
        return
    transaction.authorize(authorization_number, mask_holder(beneficiary.beneficiary_id), now)
    if transaction.capture_mode == NORMAL:
        beneficiary.debit(transaction.transaction_id, amount, now)
    else:
        beneficiary.hold(transaction.transaction_id, amount, now)


def execute(transaction: Transaction, beneficiary: Beneficiary | None, amount: int, now: datetime, *,
            currency: str = CURRENCY, payers: list[tuple[Any, list[tuple[str, int]]]] | None = None) -> None:
    """/execute (Kit §4.5.4): validate a deferred payment for at most what was authorized."""
    if currency != CURRENCY:
        raise errors.InvalidTransactionCurrency(f"amount.currency must be {CURRENCY}")
    if payers is not None:
        check_execute_payers(transaction, payers, amount)
    transaction.execute(amount, now)
    assert beneficiary is not None  # an authorized transaction always has its payer
    beneficiary.debit(transaction.transaction_id, amount, now)


def check_execute_payers(transaction: Transaction, payers: list[tuple[Any, list[tuple[str, int]]]],
                         total: int) -> None:
    """With `payers`, every authorization of every payer is listed, each amount within its own, summing to total."""
    auth, payer = transaction.authorization, transaction.payer
    if auth is None or payer is None:
        raise errors.InvalidPayersAuthorizations("the transaction has no authorization")
    given = [(str(ref), number, cents) for ref, auths in payers for number, cents in auths]
    if (len(given) != 1 or given[0][0] not in (str(payer.beneficiary_ref), payer.beneficiary_id)
            or given[0][1] != auth.number):
        raise errors.InvalidPayersAuthorizations("payers must list exactly the transaction's authorizations")
    if not 1 <= given[0][2] <= auth.amount or given[0][2] != total:
        raise errors.InvalidPayersAuthorizations("each amount must be within its authorization and sum to amount")


def cancel(transaction: Transaction, beneficiary: Beneficiary | None, reason: str, label: str | None,
           now: datetime, *, by_deadline: bool = False) -> bool:
    """Cancel and re-credit; False when this very cancellation was already made (Kit: 200, no change)."""
    if transaction.same_cancellation(reason) and not by_deadline:
        return False
    transaction.cancel(reason, label, now, by_deadline=by_deadline)
    if beneficiary is not None:
        beneficiary.refund(transaction.transaction_id)
    return True


def handle_deadline(transaction: Transaction, beneficiary: Beneficiary | None, now: datetime) -> bool:
    """Apply whatever deadline of this transaction has passed; True when something changed."""
    if transaction.due_timeout(now) is not None:
        transaction.time_out(now)
        return True
    if transaction.capture_date_passed(now):
        cancel(transaction, beneficiary, "OTHER", CAPTURE_DEADLINE_LABEL, now, by_deadline=True)
        return True
    return False


def transaction_from_request(pre: PreTransaction, transaction_id: str, now: datetime) -> Transaction:
    """The transaction a scan creates from a payment request (Kit §4.6, SPEC §5)."""
    capture_date = now + timedelta(days=pre.capture_term) if pre.capture_mode == DEFERRED and pre.capture_term else None
    return Transaction.create(
        transaction_id, now,
        shop_id=pre.shop_id, service_provider_id=pre.service_provider_id,
        shop_assistant_id=pre.shop_assistant_id, terminal_id=pre.terminal_id,
        order_id=pre.order_id, payment_id=pre.pre_payment_id, label=pre.label, amount=pre.amount,
        capture_mode=pre.capture_mode, tspd_mode=pre.tspd_mode, capture_date=capture_date,
        return_url=pre.return_url, has_redirect_urls=pre.return_url is not None,
        application_context=pre.application_context, pre_transaction_id=pre.pre_transaction_id,
        merchant_email=pre.merchant_email,
    )


def scan(pre: PreTransaction, beneficiary: Beneficiary, transaction_id: str, *, other_pending: bool,
         now: datetime, propose_balance: bool = True) -> Transaction:
    """A beneficiary scans a payment QR code: a transaction is created and put in payment."""
    pre.require_payable()
    check_can_pay(beneficiary, pre.amount, pre.tspd_mode, other_pending=other_pending, now=now,
                  propose_balance=propose_balance)
    transaction = transaction_from_request(pre, transaction_id, now)
    pre.start_transaction(transaction_id, now)
    payer = Payer(beneficiary_ref=beneficiary.beneficiary_id, beneficiary_id=beneficiary.beneficiary_id,
                  amount=pre.amount)
    transaction.start_payment(payer, now)
    return transaction


def settle_request(pre: PreTransaction, transaction: Transaction, now: datetime) -> None:
    """Bring a payment request in line with the transaction running on it, once that one has ended."""
    if pre.current_transaction_id != transaction.transaction_id:
        return
    if transaction.state in (AUTHORIZED, VALIDATED):
        pre.transaction_authorized(transaction.transaction_id, transaction.authorized_amount, now)
    elif transaction.state in (REJECTED, ABORTED, CANCELLED, EXPIRED):
        pre.transaction_failed(now)


def refuse(pre: PreTransaction, transaction: Transaction | None, now: datetime) -> None:
    """The beneficiary explicitly refuses the request (ABORTED_BENEFICIARY)."""
    if transaction is not None and transaction.awaiting_beneficiary:
        transaction.abort(now)
        pre.current_transaction_id = None
    pre.abort_by("ABORTED_BENEFICIARY", None, now)
