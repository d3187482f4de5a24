"""Pre-transactions: payment requests the beneficiary accepts later (Kit §4.6, §6.2.4).

CREATED -> PROCESSING (QR code asked or request sent) -> AUTHORIZING (a beneficiary scanned
it: a transaction runs) -> USED once that transaction is authorized. A failed transaction
gives the request back (PROCESSING); the merchant or the beneficiary may abort it; its
expiration date ends it (EXPIRED), but never while a transaction is still running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import errors, events
from .events import RecordsEvents
from .records import plain_fields, utc_fields
from .transactions import CURRENCY, DEFERRED, NORMAL, TSPD_FIXED, TSPD_MODES

CREATED, PROCESSING, AUTHORIZING = "CREATED", "PROCESSING", "AUTHORIZING"
USED, ABORTED, EXPIRED = "USED", "ABORTED", "EXPIRED"
ABORTED_MERCHANT, ABORTED_BENEFICIARY = "ABORTED_MERCHANT", "ABORTED_BENEFICIARY"
STATES = (CREATED, PROCESSING, AUTHORIZING, USED, ABORTED, EXPIRED)  # the Kit's list (§6.2.4.6)

MAX_EXPIRATION = timedelta(days=30)  # Kit §4.6.1.3
CAPTURE_TERMS = range(1, 7)  # Kit §6.2.4.15: 1 to 6 calendar days
DEFAULT_PRE_PAYMENT_ID = "0"

FINAL_STATES = frozenset({USED, ABORTED, EXPIRED})
USABLE_STATES = frozenset({CREATED, PROCESSING, AUTHORIZING})  # the QR code still works

MOVES: dict[str, frozenset[str]] = {
    CREATED: frozenset({PROCESSING, ABORTED, EXPIRED}),
    PROCESSING: frozenset({AUTHORIZING, ABORTED, EXPIRED}),
    AUTHORIZING: frozenset({USED, PROCESSING, ABORTED, EXPIRED}),
}

EVENT_NAMES = {
    PROCESSING: events.PRE_TRANSACTION_PROCESSING,
    AUTHORIZING: events.PRE_TRANSACTION_AUTHORIZING,
    USED: events.PRE_TRANSACTION_USED,
    ABORTED: events.PRE_TRANSACTION_ABORTED,
    EXPIRED: events.PRE_TRANSACTION_EXPIRED,
}


@dataclass(frozen=True)
class Abort:
    effective_date: datetime
    reason: str
    label: str | None = None

    def __post_init__(self) -> None:
        utc_fields(self, "effective_date")


@dataclass
class PreTransaction(RecordsEvents):
    pre_transaction_id: str
    shop_id: int
    order_id: str
    amount: int
    capture_mode: str
    tspd_mode: str
    creation_date: datetime
    update_date: datetime
    expiration_date: datetime
    state: str = CREATED
    pre_payment_id: str = DEFAULT_PRE_PAYMENT_ID
    service_provider_id: int | None = None
    shop_assistant_id: str | None = None
    terminal_id: str | None = None
    label: str | None = None
    capture_term: int | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    has_redirect_urls: bool = False
    application_context: dict[str, Any] | None = None
    validated_payment_transaction_id: str | None = None
    current_transaction_id: str | None = None
    abort: Abort | None = None
    contact: str | None = None  # email the request was sent to
    contact_beneficiary_id: str | None = None  # or the beneficiary it was pushed to
    merchant_email: str | None = None  # Espace dédié: notified of the client's actions

    @classmethod
    def create(cls, pre_transaction_id: str, now: datetime, currency: str = CURRENCY, minimum_amount: int = 1,
               **fields: Any) -> PreTransaction:
        pre = cls(pre_transaction_id=pre_transaction_id, creation_date=now, update_date=now, **fields)
        pre._check_terms(currency, minimum_amount, now)
        pre._record(events.PRE_TRANSACTION_CREATED, pre_transaction_id, now, amount=pre.amount, shopId=pre.shop_id)
        return pre

    def _check_terms(self, currency: str, minimum_amount: int, now: datetime) -> None:
        if self.amount < max(1, minimum_amount):
            raise errors.InvalidPreTransactionAmount(
                f"order.amount.total must be at least {max(1, minimum_amount)} cents")
        if currency != CURRENCY:
            raise errors.InvalidPreTransactionCurrency(f"currency must be {CURRENCY} (EUR)")
        if self.tspd_mode not in TSPD_MODES:
            raise errors.InvalidTspdMode("paymentMethod.tspdMode must be 001 or 002")
        if not now < self.expiration_date <= now + MAX_EXPIRATION:
            raise errors.InvalidExpirationDate("expirationDate must be in the future and at most 30 days ahead")
        if self.is_pre_booking:
            if self.capture_term is None:
                raise errors.MissingCaptureTerm("paymentMethod.captureTerm is required with DEFERRED")
            if self.capture_term not in CAPTURE_TERMS:
                raise errors.InvalidCaptureTerm("captureTerm must be between 1 and 6")
        else:
            self.capture_term = None

    def _move(self, state: str, now: datetime, **data: Any) -> None:
        if state not in MOVES.get(self.state, ()):
            raise errors.OperationPreTransactionNotAllowed(f"{self.state} cannot become {state}")
        self.state, self.update_date = state, now
        self._record(EVENT_NAMES[state], self.pre_transaction_id, now, state=state, **data)

    def _require(self, states: frozenset[str] | set[str], what: str) -> None:
        if self.state == EXPIRED:
            raise errors.PreTransactionExpired(f"the pre-transaction expired; {what} is no longer possible")
        if self.state not in states:
            raise errors.OperationPreTransactionNotAllowed(f"{what} is not possible in state {self.state}")

    def show_qr_code(self, now: datetime, activates: bool = True) -> None:
        """SR (`activates`): the first QR request makes the request usable (CREATED -> PROCESSING)."""
        self._require(USABLE_STATES, "showing the QR code")
        if self.state == CREATED and activates:
            self._move(PROCESSING, now, via="qr-code")

    def send_to(self, now: datetime, *, email: str | None = None, beneficiary_id: str | None = None) -> None:
        self._require({CREATED}, "sending the request")
        self.contact, self.contact_beneficiary_id = email, beneficiary_id
        self._move(PROCESSING, now, via="contact", contact=email, beneficiaryId=beneficiary_id)

    def require_payable(self) -> None:
        if self.state == AUTHORIZING:
            raise errors.OperationPreTransactionNotAllowed("a payment of this request is already in progress")
        self._require({PROCESSING}, "paying this request")

    def start_transaction(self, transaction_id: str, now: datetime) -> None:
        """A beneficiary scanned the code: a transaction now runs on this request."""
        self.require_payable()
        self.current_transaction_id = transaction_id
        self._move(AUTHORIZING, now, transactionId=transaction_id)

    def transaction_authorized(self, transaction_id: str, amount: int, now: datetime) -> None:
        """Paid: `amount` is what the beneficiary authorized (less than asked when they paid part)."""
        self.validated_payment_transaction_id = transaction_id
        self.current_transaction_id = None
        self._move(USED, now, transactionId=transaction_id, amount=amount)

    def transaction_failed(self, now: datetime) -> None:
        """The running transaction ended without authorization: the request is usable again."""
        self.current_transaction_id = None
        if now >= self.expiration_date:
            self._move(EXPIRED, now)
        else:
            self._move(PROCESSING, now)

    def abort_by(self, reason: str, label: str | None, now: datetime) -> None:
        """The merchant withdraws the request (Kit §4.6.5) or the beneficiary refuses it."""
        if reason not in (ABORTED_MERCHANT, ABORTED_BENEFICIARY):
            raise errors.BadRequest("reason must be ABORTED_MERCHANT")
        if reason == ABORTED_MERCHANT and self.state not in USABLE_STATES:
            # Kit §6.8.5: an expired request is final like a used or aborted one; /abort answers 403 for all
            # three (PRE_TRANSACTION_EXPIRED is for the operations that would still use it: QR code, contact)
            raise errors.OperationPreTransactionNotAllowed(f"aborting is not possible in state {self.state}")
        self._require(USABLE_STATES, "aborting")
        self.abort = Abort(effective_date=now, reason=reason, label=label)
        self._move(ABORTED, now, reason=reason)

    # --- deadlines ---------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        return self.expiration_date if self.state in (CREATED, PROCESSING) else None

    def expire_if_due(self, now: datetime) -> bool:
        if self.state in (CREATED, PROCESSING) and now >= self.expiration_date:
            self._move(EXPIRED, now)
            return True
        return False

    @property
    def payable(self) -> bool:
        """The client may pay it now: its QR code was shown or it was sent, and nobody is paying it."""
        return self.state == PROCESSING

    @property
    def is_pre_booking(self) -> bool:
        """A pre-booking: the merchant validates the payment within `capture_term` days (DEFERRED)."""
        return self.capture_mode == DEFERRED

    @property
    def amount_is_fixed(self) -> bool:
        """tspd 002: the client pays the amount asked, and may not lower it."""
        return self.tspd_mode == TSPD_FIXED

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreTransaction:
        data = dict(data)
        if data.get("abort"):
            data["abort"] = Abort(**data["abort"])
        return cls(**data)


__all__ = ["PreTransaction", "Abort", "CURRENCY", "NORMAL", "DEFERRED"]
