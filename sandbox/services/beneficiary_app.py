"""The App' Chèque-Vacances (`/app`), the beneficiary's web app, as use cases: log in and out, read the
balance, a payment, a pushed request or the history, scan a payment QR code, and answer a payment.

Every button goes through the paying commands (paying.py), the path the behaviours and the control
plane's `act` take. What the app shows comes back as read models of facts (entities, amounts, names),
which the web layer (web/beneficiary_pages.py) says in French; what it cannot do is raised, as one of
the Kit's errors or, where the Kit has none, as an `AppError` below.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..adapters.qr import decode_image
from ..domain import errors, ids, payments
from ..domain.beneficiaries import LOGGED_IN, LOGIN_LOCKED, Allocation, Beneficiary
from ..domain.deadlines import PRE_TRANSACTION, TRANSACTION
from ..domain.ids import CVCO_ID_PREFIX
from ..domain.pre_transactions import PreTransaction
from ..domain.requests import Act
from ..domain.transactions import CANCELLED, Transaction
from .paying import act, find_beneficiary
from .scheduler import catch_up

if TYPE_CHECKING:
    from .ports import StoreSession
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # Kit §6.4.3: [xxxx]@[xxxxx].[xxx]
RECENT_CREDITS = timedelta(days=7)  # Mon solde recalls the credits of a cancelled payment this long


class AppError(Exception):
    """What the app cannot do for a reason the Kit has no error for (one subclass per reason)."""


class NotAnIdentifier(AppError):
    """The login is neither an 11-digit identifier nor an email address."""


class LoginRefused(AppError):
    """No such account, or the wrong password: one refusal for both, so nobody learns who has an account."""


class LoginLocked(AppError):
    """Too many wrong passwords in a row: the login is locked for a while, even with the right one."""


class NothingPasted(AppError):
    """The payment address to scan is empty."""


class NoCodeOnImage(AppError):
    """No QR code could be read on the image."""


class BeneficiaryCode(AppError):
    """The code read is a beneficiary's `CVCoId`, which a merchant scans, not a payment request."""


class NotAPaymentCode(AppError):
    """No code read names a payment request of this sandbox."""


def log_in(sandbox: Sandbox, ref: str, password: str) -> tuple[Beneficiary, str]:
    """By 11-digit identifier or email; one refusal whatever is wrong, so nobody learns who has an account,
    until the 3rd wrong password in a row locks the account's login for a while (as in the Espace dédié).
    With the beneficiary, the grant of the session this login opens."""
    text = ref.strip() if isinstance(ref, str) else ""
    grant = secrets.token_urlsafe(24)  # never from the seeded generator
    if not ((text.isascii() and text.isdigit() and len(text) == 11) or EMAIL_SHAPE.match(text)):
        raise NotAnIdentifier()
    given = password if isinstance(password, str) else ""
    with sandbox.uow() as uow:
        beneficiary = uow.session.beneficiary(text) if text.isdigit() else uow.session.beneficiary_by_email(text)
        if beneficiary is None:
            hmac.compare_digest(given.encode(), secrets.token_hex(16).encode())  # as long as a wrong password
            raise LoginRefused()
        outcome = beneficiary.log_in(given, uow.now, grant)
        uow.save(beneficiary)
    if outcome == LOGIN_LOCKED:
        raise LoginLocked()
    if outcome != LOGGED_IN:
        raise LoginRefused()
    return beneficiary, grant


def log_out(sandbox: Sandbox, beneficiary_id: str, grant: str) -> None:
    """Close the app's session: a copy of its cookie logs nobody in any more."""
    with sandbox.uow() as uow:
        if (beneficiary := uow.session.beneficiary(beneficiary_id)) is not None:
            beneficiary.log_out(grant)
            uow.save(beneficiary)


def logged_in_beneficiary(sandbox: Sandbox, beneficiary_id: str, grant: str) -> Beneficiary | None:
    """The beneficiary an app session holding `grant` acts for: None once logged out (or after a reset)."""
    with sandbox.store.session() as s:
        beneficiary = s.beneficiary(beneficiary_id)
    return beneficiary if beneficiary is not None and beneficiary.logged_in(grant) else None


# --- what the app shows ------------------------------------------------------------------------------
# `merchant` is the name of the point of sale a payment or request is for (None: no such point of sale).

@dataclass(frozen=True)
class Incoming:
    """A payment request pushed to the app."""

    request: PreTransaction
    merchant: str | None


@dataclass(frozen=True)
class PastPayment:
    """A payment of the history: what it came to, and what its cancellation gave back to the balance."""

    transaction: Transaction
    merchant: str | None
    amount: int  # paid when it was, credited back when cancelled after paying, else asked
    credited: int = 0  # what the cancellation gave back to the balance
    credited_on: datetime | None = None  # when it did (None: nothing came back)

    @classmethod
    def of(cls, tx: Transaction, merchant: str | None) -> PastPayment:
        if tx.state != CANCELLED:
            return cls(tx, merchant, tx.authorized_amount if tx.authorization
                       else (tx.payer.amount if tx.payer else tx.amount))
        if tx.authorization is None:  # cancelled before the beneficiary paid: nothing to give back
            return cls(tx, merchant, tx.payer.amount if tx.payer else tx.amount)
        credited = tx.authorization.amount  # the debit, or the hold of a pre-booking, that payments.cancel gave back
        when = tx.cancellation.effective_date if tx.cancellation else tx.update_date
        return cls(tx, merchant, credited, credited, when)


@dataclass(frozen=True)
class Home:
    """Accueil: the balance, its allocations, what waits for an answer, and what came back lately."""

    beneficiary: Beneficiary
    now: datetime
    available: int
    held: int  # pre-bookings authorized, awaiting the merchant's validation
    allocations: list[Allocation]  # by end of validity
    payment: Transaction | None  # the payment waiting for this beneficiary's answer
    payment_merchant: str | None
    requests: list[Incoming]  # pushed and not expired
    credits: list[PastPayment]  # payments cancelled lately, whose amount came back on the balance


@dataclass(frozen=True)
class Payment:
    """One of this beneficiary's payments, with what its page needs to show and to say how it ended."""

    transaction: Transaction
    merchant: str | None
    request: PreTransaction | None  # the payment request it pays, if any
    beneficiary: Beneficiary
    proposed: int  # what the app offers to pay while the amount may still be lowered
    available: int
    block_after: int  # wrong personal codes in a row that block the device (the sandbox's rules)


def _merchant(session: StoreSession, shop_id: int) -> str | None:
    pos = session.point_of_sale(shop_id)
    return pos.name if pos is not None else None


def _pending(uow: UnitOfWork, beneficiary_id: str) -> Transaction | None:
    """The payment waiting for this beneficiary, once any deadline already passed has been applied."""
    tx = uow.session.pending_transaction_of(beneficiary_id)
    if tx is not None and catch_up(uow, TRANSACTION, tx.transaction_id):
        tx = uow.session.pending_transaction_of(beneficiary_id)
    return tx


def home(sandbox: Sandbox, beneficiary_id: str) -> Home:
    """Accueil, and the waiting payments every page shows."""
    with sandbox.uow() as uow:
        tx = _pending(uow, beneficiary_id)
        beneficiary = find_beneficiary(uow, beneficiary_id)
        requests = [Incoming(pre, _merchant(uow.session, pre.shop_id))
                    for pre in uow.session.pre_transactions_sent_to(beneficiary_id) if pre.expiration_date > uow.now]
        credits = [p for p in _past_payments(uow.session, beneficiary_id)
                   if p.credited and p.transaction.update_date > uow.now - RECENT_CREDITS]
        return Home(beneficiary, uow.now, beneficiary.available(uow.now), beneficiary.held(),
                    sorted(beneficiary.allocations, key=lambda a: a.valid_until), tx,
                    _merchant(uow.session, tx.shop_id) if tx else None, requests, credits)


def payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str) -> Payment:
    """One of this beneficiary's payments (anybody else's looks absent: TRANSACTION_NOT_FOUND)."""
    with sandbox.uow() as uow:
        tx = uow.session.transaction(transaction_id) if transaction_id.isalnum() else None
        if tx is None or tx.beneficiary_id != beneficiary_id:
            raise errors.TransactionNotFound(transaction_id)
        if catch_up(uow, TRANSACTION, transaction_id):
            tx = uow.session.transaction(transaction_id) or tx
        beneficiary = find_beneficiary(uow, beneficiary_id)
        pre = uow.session.pre_transaction(tx.pre_transaction_id) if tx.pre_transaction_id else None
        proposed = payments.proposed_amount(tx, beneficiary, uow.now) if tx.payer else 0
        return Payment(tx, _merchant(uow.session, tx.shop_id), pre, beneficiary, proposed,
                       beneficiary.available(uow.now), uow.sandbox.rules.wrongPinsBeforeBlock)


def _past_payments(session: StoreSession, beneficiary_id: str) -> list[PastPayment]:
    found = session.transactions_of_beneficiary(beneficiary_id)
    merchants = {shop_id: _merchant(session, shop_id) for shop_id in {tx.shop_id for tx in found}}
    return [PastPayment.of(tx, merchants[tx.shop_id])
            for tx in sorted(found, key=lambda t: (t.update_date, t.transaction_id), reverse=True)]


def history(sandbox: Sandbox, beneficiary_id: str) -> list[PastPayment]:
    """Historique: every payment of this beneficiary, latest first; a cancelled one says what came back."""
    with sandbox.store.session() as s:
        return _past_payments(s, beneficiary_id)


def pushed_request(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> Incoming:
    """A request pushed to this beneficiary (`/contact`), in whatever state; anybody else's looks absent."""
    with sandbox.uow() as uow:
        pre = uow.session.pre_transaction(pre_transaction_id) if pre_transaction_id.isalnum() else None
        if pre is None or pre.contact_beneficiary_id != beneficiary_id:
            raise errors.PreTransactionNotFound(pre_transaction_id)
        if catch_up(uow, PRE_TRANSACTION, pre_transaction_id):
            pre = uow.session.pre_transaction(pre_transaction_id) or pre
        return Incoming(pre, _merchant(uow.session, pre.shop_id))


def identifier_code(beneficiary_id: str) -> str:
    """What the beneficiary's QR code and Code 128 say (Kit §5.4)."""
    return f"{CVCO_ID_PREFIX}{beneficiary_id}"


# --- what the app does: every button through the paying commands ------------------------------------

def open_request(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> Transaction:
    """"Payer" on a pushed request: the app scans it, as if its QR code had been read."""
    pushed_request(sandbox, beneficiary_id, pre_transaction_id)
    return _scan(sandbox, beneficiary_id, pre_transaction_id)


def refuse_request(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> PreTransaction:
    """"Refuser" on a pushed request not opened yet."""
    pushed_request(sandbox, beneficiary_id, pre_transaction_id)
    return act(sandbox, beneficiary_id, Act("refuse", pre_transaction_id=pre_transaction_id)).request()


def _scan(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> Transaction:
    with sandbox.store.session() as s:
        pending = s.pending_transaction_of(beneficiary_id)
    if pending is not None and pending.pre_transaction_id == pre_transaction_id:
        return pending  # scanned twice: the payment already waits
    return act(sandbox, beneficiary_id, Act("scan", pre_transaction_id=pre_transaction_id)).payment()


def payment_request_id(sandbox: Sandbox, text: str, other_bases: tuple[str, ...] = ()) -> str | None:
    """The request a payment QR code of this sandbox names (`{Kit base URL}/pre-transactions/{id}/qr-code`)."""
    return ids.payment_request_id(text, (sandbox.kit_base_url, *other_bases))


def _not_a_payment_code(texts: list[str]) -> AppError:
    if any(ids.parse_cvco_id(text) is not None for text in texts):
        return BeneficiaryCode()
    return NotAPaymentCode()


def scan_text(sandbox: Sandbox, beneficiary_id: str, text: str, other_bases: tuple[str, ...] = ()) -> Transaction:
    """A payment URL read by the camera or pasted by hand."""
    if not isinstance(text, str) or not text.strip():
        raise NothingPasted()
    pre_id = payment_request_id(sandbox, text, other_bases)
    if pre_id is None:
        raise _not_a_payment_code([text.strip()])
    return _scan(sandbox, beneficiary_id, pre_id)


def scan_image(sandbox: Sandbox, beneficiary_id: str, data: bytes, other_bases: tuple[str, ...] = ()) -> Transaction:
    """A photo or screenshot of a payment QR code, decoded here (pyzbar; an image it cannot read raises
    the adapter's `UnreadableImage`)."""
    texts = decode_image(data)
    if not texts:
        raise NoCodeOnImage()
    for text in texts:
        pre_id = payment_request_id(sandbox, text, other_bases)
        if pre_id is not None:
            return _scan(sandbox, beneficiary_id, pre_id)
    raise _not_a_payment_code(texts)


def adjust_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str, amount: int) -> Transaction:
    """"Montant à payer", in cents: lower the amount (tspd 001), never raise it."""
    return act(sandbox, beneficiary_id, Act("adjust", amount=amount, transaction_id=transaction_id)).payment()


def authorize_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str, pin: str) -> Transaction:
    """The 6-digit personal code; a wrong one ends the payment (SR: one attempt per payment)."""
    return act(sandbox, beneficiary_id, Act("authorize", pin=pin, transaction_id=transaction_id)).payment()


def abandon_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str) -> Transaction:
    """"Abandonner": give up this payment (ABORTED_TSPD); a payment request stays payable."""
    return act(sandbox, beneficiary_id, Act("abandon", transaction_id=transaction_id)).payment()


def refuse_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str) -> PreTransaction:
    """"Refuser": refuse the payment request behind this payment (ABORTED_BENEFICIARY)."""
    return act(sandbox, beneficiary_id, Act("refuse", transaction_id=transaction_id)).request()
