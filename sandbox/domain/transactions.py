"""Payment transactions (Kit §4.5, §6.2.2): states, sub-states, deadlines, as data.

`MOVES` lists every allowed state change; `TIMEOUTS` the deadline each waiting state
carries and what happens when it passes. One method per trigger; each checks the move,
stamps the dates and records a past-tense event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import errors, events
from .events import RecordsEvents
from .records import plain_fields, utc_fields, with_values

INITIALIZED, PROCESSING, AUTHORIZED, VALIDATED = "INITIALIZED", "PROCESSING", "AUTHORIZED", "VALIDATED"
DELAYED, NO_SLIP_FOUND, CONSIGNED, PAID = "DELAYED", "NO_SLIP_FOUND", "CONSIGNED", "PAID"
REJECTED, ABORTED, CANCELLED, EXPIRED, CONFLICTED = "REJECTED", "ABORTED", "CANCELLED", "EXPIRED", "CONFLICTED"

IN_ADJUSTMENT, AUTHORIZATION_REQUEST = "IN_ADJUSTMENT", "AUTHORIZATION_REQUEST"
REJECTED_DEVICE, REJECTED_SECURITY, REJECTED_TIMEOUT = "REJECTED_DEVICE", "REJECTED_SECURITY", "REJECTED_TIMEOUT"
REJECTED_INTERNAL, REJECTED_COMPLEMENT = "REJECTED_INTERNAL", "REJECTED_COMPLEMENT"
ABORTED_TSPD, ABORTED_COMPLEMENT = "ABORTED_TSPD", "ABORTED_COMPLEMENT"

# The Kit's lists (§6.2.2.5, §6.2.2.6): every state, and the sub-states each state may carry.
STATES = (INITIALIZED, PROCESSING, AUTHORIZED, VALIDATED, DELAYED, NO_SLIP_FOUND, CONSIGNED, PAID, REJECTED, ABORTED,
          CANCELLED, EXPIRED, CONFLICTED)
SUB_STATES: dict[str, tuple[str, ...]] = {
    PROCESSING: (IN_ADJUSTMENT, AUTHORIZATION_REQUEST),
    REJECTED: (REJECTED_DEVICE, REJECTED_SECURITY, REJECTED_TIMEOUT, REJECTED_INTERNAL, REJECTED_COMPLEMENT),
    ABORTED: (ABORTED_TSPD, ABORTED_COMPLEMENT),
}

NORMAL, DEFERRED = "NORMAL", "DEFERRED"
CAPTURE_MODES = (NORMAL, DEFERRED)
TSPD_ADJUSTABLE, TSPD_FIXED = "001", "002"
TSPD_MODES = (TSPD_ADJUSTABLE, TSPD_FIXED)
CANCELLATION_REASONS = ("COMPLEMENTARY_PAYMENT", "CUSTOMER_ABORT", "OTHER")
CURRENCY = "978"

MAX_CAPTURE_DELAY = timedelta(days=6)  # Kit §4.5.4: at most 6 calendar days
CANCELLATION_WINDOW = timedelta(hours=4)  # Kit §4.5.5

FINAL_STATES = frozenset({PAID, REJECTED, ABORTED, CANCELLED, EXPIRED})
AWAITING_BENEFICIARY = frozenset({IN_ADJUSTMENT, AUTHORIZATION_REQUEST})
ACQUISITION_FAULTS = (DELAYED, NO_SLIP_FOUND, CONFLICTED)

MOVES: dict[str, frozenset[str]] = {
    INITIALIZED: frozenset({PROCESSING, EXPIRED, CANCELLED}),
    PROCESSING: frozenset({PROCESSING, AUTHORIZED, REJECTED, ABORTED, CANCELLED}),
    AUTHORIZED: frozenset({VALIDATED, CANCELLED}),
    VALIDATED: frozenset({CONSIGNED, DELAYED, NO_SLIP_FOUND, CONFLICTED, CANCELLED}),
    DELAYED: frozenset({CONSIGNED, DELAYED, NO_SLIP_FOUND, CONFLICTED}),
    NO_SLIP_FOUND: frozenset({CONSIGNED, DELAYED, NO_SLIP_FOUND, CONFLICTED}),
    CONFLICTED: frozenset({CONSIGNED}),
    CONSIGNED: frozenset({PAID}),
}

# (state, sub-state) -> (seconds before the deadline, state, sub-state when it passes); Kit §6.2.2.7
TIMEOUTS: dict[tuple[str, str | None], tuple[int, str, str | None]] = {
    (INITIALIZED, None): (300, EXPIRED, None),
    (PROCESSING, None): (100, REJECTED, REJECTED_INTERNAL),
    (PROCESSING, IN_ADJUSTMENT): (250, REJECTED, REJECTED_TIMEOUT),
    (PROCESSING, AUTHORIZATION_REQUEST): (250, REJECTED, REJECTED_TIMEOUT),
}

# the same deadlines as delays, made once: every move of every payment looks its own up
DELAYS = {key: timedelta(seconds=seconds) for key, (seconds, *_) in TIMEOUTS.items()}

EVENT_NAMES = {
    PROCESSING: events.TRANSACTION_PROCESSING,
    AUTHORIZED: events.TRANSACTION_AUTHORIZED,
    VALIDATED: events.TRANSACTION_VALIDATED,
    REJECTED: events.TRANSACTION_REJECTED,
    ABORTED: events.TRANSACTION_ABORTED,
    CANCELLED: events.TRANSACTION_CANCELLED,
    EXPIRED: events.TRANSACTION_EXPIRED,
    CONSIGNED: events.TRANSACTION_CONSIGNED,
    DELAYED: events.TRANSACTION_DELAYED,
    NO_SLIP_FOUND: events.TRANSACTION_NO_SLIP_FOUND,
    CONFLICTED: events.TRANSACTION_CONFLICTED,
    PAID: events.TRANSACTION_PAID,
}


@dataclass(frozen=True)
class Payer:
    beneficiary_ref: Any  # as the caller gave it: number (str or int) or email
    beneficiary_id: str  # the resolved 11-digit number
    amount: int  # what the beneficiary pays: the amount asked, lowered in IN_ADJUSTMENT (tspd 001)
    # As given at /payer (or the basket total): `payers[].amount` keeps it when the beneficiary lowers the amount,
    # only the authorization carries the lower one (Kit §6.2.2.18, example of §4.5.3.5). None in records made
    # before it was kept: `amount` then.
    requested_amount: int | None = None

    @property
    def asked(self) -> int:
        """The amount asked of this payer at /payer (Kit `payers[].amount`)."""
        return self.amount if self.requested_amount is None else self.requested_amount


@dataclass(frozen=True)
class Authorization:
    number: str
    amount: int
    validation_date: datetime
    holder: str
    type: str = "CVCo"

    def __post_init__(self) -> None:
        utc_fields(self, "validation_date")


@dataclass(frozen=True)
class Cancellation:
    effective_date: datetime
    reason: str
    label: str | None = None
    by_deadline: bool = False  # the capture date passed without /execute

    def __post_init__(self) -> None:
        utc_fields(self, "effective_date")


@dataclass(frozen=True)
class Refund:
    total: int
    net: int
    fee: int
    effective_date: datetime
    type: str = "CVCo"

    def __post_init__(self) -> None:
        utc_fields(self, "effective_date")


@dataclass
class Transaction(RecordsEvents):
    transaction_id: str
    shop_id: int
    order_id: str
    payment_id: str
    amount: int
    capture_mode: str
    tspd_mode: str
    creation_date: datetime
    update_date: datetime
    state: str = INITIALIZED
    sub_state: str | None = None
    expiration_date: datetime | None = None
    service_provider_id: int | None = None
    shop_assistant_id: str | None = None
    terminal_id: str | None = None
    label: str | None = None
    capture_date: datetime | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    has_redirect_urls: bool = False
    application_context: dict[str, Any] | None = None
    payer: Payer | None = None
    authorization: Authorization | None = None
    cancellation: Cancellation | None = None
    refunds: list[Refund] = field(default_factory=list)
    validation_date: datetime | None = None  # start of the 4-hour cancellation window
    pre_transaction_id: str | None = None
    slip_number: str | None = None
    merchant_email: str | None = None  # Espace dédié: notified of the client's actions, reminded 24 h ahead
    rejection_cause: str | None = None  # why a REJECTED_INTERNAL happened, when the merchant is told (e.g. balance)

    # --- creation --------------------------------------------------------------------
    @classmethod
    def create(cls, transaction_id: str, now: datetime, currency: str = CURRENCY, minimum_amount: int = 1,
               **fields: Any) -> Transaction:
        transaction = cls(transaction_id=transaction_id, creation_date=now, update_date=now, **fields)
        transaction._check_terms(currency, minimum_amount, now)
        transaction.expiration_date = now + DELAYS[(INITIALIZED, None)]
        transaction._record(events.TRANSACTION_INITIALIZED, transaction_id, now, amount=transaction.amount,
                            shopId=transaction.shop_id)
        return transaction

    def _check_terms(self, currency: str, minimum_amount: int, now: datetime) -> None:
        if self.amount < max(1, minimum_amount):
            raise errors.InvalidTransactionAmount(f"order.amount.total must be at least {max(1, minimum_amount)} cents")
        if currency != CURRENCY:
            raise errors.InvalidTransactionCurrency(f"currency must be {CURRENCY} (EUR)")
        if self.tspd_mode not in TSPD_MODES:
            raise errors.InvalidTspdMode("paymentMethod.tspdMode must be 001 or 002")
        if self.capture_mode == DEFERRED:
            if self.capture_date is None:
                raise errors.MissingCaptureDate("paymentMethod.captureDate is required with DEFERRED")
            if not now < self.capture_date <= now + MAX_CAPTURE_DELAY:
                raise errors.InvalidCaptureDate("captureDate must be in the future and at most 6 days ahead")
        else:
            self.capture_date = None

    # --- the moves ---------------------------------------------------------------------
    def _move(self, state: str, sub_state: str | None, now: datetime, **data: Any) -> None:
        if state not in MOVES.get(self.state, ()):
            raise errors.OperationTransactionNotAllowed(f"{self.state} cannot become {state}")
        self.state, self.sub_state, self.update_date = state, sub_state, now
        delay = DELAYS.get((state, sub_state))
        self.expiration_date = None if delay is None else now + delay
        self._record(EVENT_NAMES[state], self.transaction_id, now, state=state, subState=sub_state, **data)

    def require_initialized(self) -> None:
        if self.state == EXPIRED:
            raise errors.TransactionExpired("the transaction expired before a payer was set")
        if self.state != INITIALIZED:
            raise errors.OperationTransactionNotAllowed(f"a payer can only be set on INITIALIZED, not {self.state}")

    def start_payment(self, payer: Payer, now: datetime, *, stalled: bool = False) -> None:
        """/payer accepted: the beneficiary's app is asked to adjust or to authorize."""
        self.require_initialized()
        if payer.requested_amount is None:
            payer = with_values(payer, requested_amount=payer.amount)
        self.payer = payer
        if stalled:  # fault injection: acquisition never starts -> REJECTED_INTERNAL after 100 s
            sub_state = None
        else:
            sub_state = IN_ADJUSTMENT if self.tspd_mode == TSPD_ADJUSTABLE else AUTHORIZATION_REQUEST
        self._move(PROCESSING, sub_state, now, beneficiaryId=payer.beneficiary_id, amount=payer.amount)

    @property
    def awaiting_beneficiary(self) -> bool:
        return self.state == PROCESSING and self.sub_state in AWAITING_BENEFICIARY

    def require_awaiting_beneficiary(self) -> None:
        if not self.awaiting_beneficiary:
            raise errors.OperationTransactionNotAllowed(f"the transaction is {self.state}, not awaiting the beneficiary")

    def adjust(self, amount: int, now: datetime) -> None:
        """The beneficiary confirms (tspd 001: possibly lowers) the amount to pay."""
        if self.state != PROCESSING or self.sub_state != IN_ADJUSTMENT:
            raise errors.OperationTransactionNotAllowed("the amount can only be adjusted while IN_ADJUSTMENT")
        assert self.payer is not None
        if not 1 <= amount <= self.payer.amount:
            raise errors.InvalidPayerAmount(f"the amount must be between 1 and {self.payer.amount} cents")
        self.payer = with_values(self.payer, amount=amount)
        self._move(PROCESSING, AUTHORIZATION_REQUEST, now, amount=amount)

    def authorize(self, number: str, holder: str, now: datetime) -> None:
        if self.state != PROCESSING or self.sub_state != AUTHORIZATION_REQUEST:
            raise errors.OperationTransactionNotAllowed("authorization is only possible in AUTHORIZATION_REQUEST")
        assert self.payer is not None
        self.authorization = Authorization(number=number, amount=self.payer.amount, validation_date=now, holder=holder)
        self._move(AUTHORIZED, None, now, amount=self.payer.amount, authorization=number)
        if self.capture_mode == NORMAL:
            self.validation_date = now
            self._move(VALIDATED, None, now, amount=self.payer.amount)

    def reject(self, sub_state: str, now: datetime, cause: str | None = None) -> None:
        """The payment fails; `cause` says why when the Kit's sub-state does not (kept for the merchant)."""
        self.rejection_cause = cause
        self._move(REJECTED, sub_state, now)

    def abort(self, now: datetime) -> None:
        """The beneficiary gives up in the app (ABORTED_TSPD)."""
        self.require_awaiting_beneficiary()
        self._move(ABORTED, ABORTED_TSPD, now)

    def execute(self, amount: int, now: datetime) -> None:
        """Deferred capture: validate the payment for at most the authorized amount (Kit §4.5.4)."""
        if self.state == CANCELLED and self.cancellation and self.cancellation.by_deadline:
            raise errors.ValidationDeadlineExceeded("the capture date passed; the payment was cancelled")
        if self.capture_mode != DEFERRED or self.state != AUTHORIZED:
            raise errors.OperationTransactionNotAllowed(f"/execute needs a DEFERRED AUTHORIZED transaction, not {self.state}")
        assert self.authorization is not None and self.capture_date is not None
        if now >= self.capture_date:
            raise errors.ValidationDeadlineExceeded("the capture date has passed")
        if not 1 <= amount <= self.authorization.amount:
            raise errors.InvalidTransactionAmount(f"the amount must be between 1 and {self.authorization.amount} cents")
        self.authorization = with_values(self.authorization, amount=amount)
        self.validation_date = now
        self._move(VALIDATED, None, now, amount=amount)

    def cancellable(self, now: datetime) -> bool:
        if self.state in (INITIALIZED, PROCESSING):
            return True
        if self.state == AUTHORIZED:
            return self.capture_mode == DEFERRED
        if self.state == VALIDATED:
            assert self.validation_date is not None
            return now <= self.validation_date + CANCELLATION_WINDOW
        return False

    def same_cancellation(self, reason: str) -> bool:
        return self.state == CANCELLED and self.cancellation is not None and self.cancellation.reason == reason

    def cancel(self, reason: str, label: str | None, now: datetime, *, by_deadline: bool = False) -> None:
        if reason not in CANCELLATION_REASONS:
            raise errors.BadRequest(f"reason must be one of {', '.join(CANCELLATION_REASONS)}")
        if not self.cancellable(now):
            raise errors.OperationTransactionNotAllowed(f"a {self.state} transaction cannot be cancelled now")
        self.cancellation = Cancellation(effective_date=now, reason=reason, label=label, by_deadline=by_deadline)
        self._move(CANCELLED, None, now, reason=reason)

    # --- the back office (Kit §5.2, §6.6) ------------------------------------------------
    def acquirable(self, now: datetime) -> bool:
        """Ready for an acquisition run: validated and past its cancellation window, or held back by the last run."""
        if self.state == VALIDATED:
            assert self.validation_date is not None
            return now > self.validation_date + CANCELLATION_WINDOW
        return self.state in (DELAYED, NO_SLIP_FOUND)

    def consign(self, slip_number: str, now: datetime) -> None:
        """Handed to ANCV on the slip (bordereau) `slip_number`."""
        self.slip_number = slip_number
        self._move(CONSIGNED, None, now, slipNumber=slip_number)

    def hold_back(self, state: str, now: datetime) -> None:
        """An acquisition fault: DELAYED or NO_SLIP_FOUND (tried again next run), or CONFLICTED."""
        if state not in ACQUISITION_FAULTS:
            raise ValueError(f"not an acquisition fault: {state}")
        self._move(state, None, now)

    def pay(self, refund: Refund, now: datetime) -> None:
        """The merchant's bank transfer is ordered (Kit §6.2.2.12)."""
        self.refunds = [refund]
        self._move(PAID, None, now, total=refund.total, net=refund.net, fee=refund.fee)

    # --- deadlines ---------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        if self.expiration_date is not None:
            return self.expiration_date
        if self.state == AUTHORIZED and self.capture_mode == DEFERRED:
            return self.capture_date
        return None

    def due_timeout(self, now: datetime) -> tuple[str, str | None] | None:
        """The (state, sub-state) the current timeout leads to, if it has passed."""
        if self.expiration_date is None or now < self.expiration_date:
            return None
        return TIMEOUTS[(self.state, self.sub_state)][1:]

    def capture_date_passed(self, now: datetime) -> bool:
        return (self.state == AUTHORIZED and self.capture_mode == DEFERRED
                and self.capture_date is not None and now >= self.capture_date)

    def time_out(self, now: datetime) -> None:
        target = self.due_timeout(now)
        assert target is not None
        state, sub_state = target
        self._move(state, sub_state, now, reason="timeout")

    # --- reading -----------------------------------------------------------------------
    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def beneficiary_id(self) -> str | None:
        return self.payer.beneficiary_id if self.payer else None

    @property
    def authorized_amount(self) -> int:
        return self.authorization.amount if self.authorization else 0

    @property
    def left_due(self) -> int:
        """"Reste dû" (Kit §6.4.3): what the payer's amount leaves of the amount asked, to be paid another way."""
        return max(0, self.amount - self.payer.amount) if self.payer else 0

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transaction:
        data = dict(data)
        if data.get("payer"):
            data["payer"] = Payer(**data["payer"])
        if data.get("authorization"):
            data["authorization"] = Authorization(**data["authorization"])
        if data.get("cancellation"):
            data["cancellation"] = Cancellation(**data["cancellation"])
        data["refunds"] = [Refund(**r) for r in data.get("refunds", [])]
        return cls(**data)
