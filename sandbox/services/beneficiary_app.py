"""What the beneficiary's app does: scan, adjust, authorize, abandon, refuse.

Used by the automatic behaviours, by `/_sandbox/beneficiaries/{id}/act`, and later by the
beneficiary web app and the simulated customers: one path for every way of paying.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..adapters.qr import UnreadableImage, decode_image
from ..domain import errors, ids, payments
from ..domain.beneficiaries import (
    LOGGED_IN,
    LOGIN_LOCK,
    LOGIN_LOCKED,
    WRONG_PASSWORDS_BEFORE_LOCK,
    Allocation,
    Beneficiary,
)
from ..domain.french import euros, french_date, french_day, parse_euros
from ..domain.ids import CVCO_ID_PREFIX, digits
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import (
    ABORTED,
    AUTHORIZATION_REQUEST,
    AUTHORIZED,
    CANCELLED,
    IN_ADJUSTMENT,
    INITIALIZED,
    PROCESSING,
    REJECTED_INTERNAL,
    REJECTED_SECURITY,
    REJECTED_TIMEOUT,
    Transaction,
)
from . import behaviours

if TYPE_CHECKING:
    from ..adapters.store import StoreSession
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
    if not isinstance(pin, str) or not (pin.isascii() and pin.isdigit()) or len(pin) != 6:
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


# --- the App' Chèque-Vacances: the beneficiary's web app (`/app`) ---------------------------------
# Every button of the app goes through `act` above, like the behaviours and the control plane;
# these functions only read what the app shows and say in French (Kit §6.4.4) why it cannot.

LOGIN_REFUSED = "Identifiant ou mot de passe incorrect."
LOGIN_LOCKED_MESSAGE = (f"Votre compte est bloqué après {WRONG_PASSWORDS_BEFORE_LOCK} mots de passe erronés. "
                        f"Réessayez dans {LOGIN_LOCK.seconds // 60} minutes.")
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # Kit §6.4.3: [xxxx]@[xxxxx].[xxx]

# Kit §6.4.4: what the beneficiary reads when a payment cannot start
REFUSALS = {
    "INSUFFICIENT_BALANCE": "Le solde de ce compte Chèque-Vacances Connect est insuffisant.",
    "BENEFICIARY_NOT_FOUND": "Ce compte bénéficiaire Chèque-Vacances Connect n'existe pas.",
    "OTHER_TRANSACTION_PENDING": ("Un autre paiement est déjà en cours sur votre compte Chèque-Vacances Connect. "
                                  "Vous devez tout d'abord le finaliser ou l'annuler pour pouvoir effectuer "
                                  "cette transaction."),
    "NO_ACTIVE_DEVICE": "Aucun de vos appareils électroniques ne dispose de l'application Chèques-Vacances.",
    "PRE_TRANSACTION_NOT_FOUND": "Cette demande de paiement n'existe pas.",
    "PRE_TRANSACTION_EXPIRED": "Cette demande de paiement a expiré : demandez au commerçant d'en faire une nouvelle.",
    "OPERATION_PRE_TRANSACTION_NOT_ALLOWED": ("Cette demande de paiement ne peut plus être payée : elle est déjà "
                                              "réglée, annulée ou en cours de paiement."),
    "TRANSACTION_NOT_FOUND": "Ce paiement est introuvable.",
    "OPERATION_TRANSACTION_NOT_ALLOWED": "Ce paiement n'attend plus votre réponse.",
    "INVALID_PAYER_AMOUNT": "Vous pouvez baisser le montant à payer, pas l'augmenter.",
}
# Kit §6.4.4: what the beneficiary reads when a payment ends without being accepted
ENDINGS = {
    "REJECTED_DEVICE": "Aucun de vos appareils électroniques ne dispose de l'application Chèques-Vacances.",
    "REJECTED_SECURITY": ("Le code personnel de paiement saisi est erroné, vous n'avez donc pas pu être identifié. "
                          "Le paiement n'a pas pu être validé."),
    "REJECTED_TIMEOUT": ("Le délai qui vous est laissé pour finaliser votre paiement via l'Application "
                         "Chèques-Vacances a été dépassé. La demande de paiement a été annulée."),
    "REJECTED_INTERNAL": "Le paiement n'a pas pu être validé. Vous pouvez renouveler votre demande.",
    "REJECTED_COMPLEMENT": "Le paiement complémentaire a été refusé.",
    "ABORTED_TSPD": "Vous avez abandonné ce paiement : aucun montant n'a été débité.",
    "ABORTED_COMPLEMENT": "Le paiement complémentaire a été abandonné.",
    "CANCELLED": "Le commerçant a annulé ce paiement.",
    "EXPIRED": "La demande de paiement du commerçant a expiré.",
}
REQUEST_ENDINGS = {
    "ABORTED_MERCHANT": "Le commerçant a annulé sa demande de paiement.",
    "ABORTED_BENEFICIARY": "Vous avez refusé cette demande de paiement.",
    "EXPIRED": "La demande de paiement du commerçant a expiré.",
    "USED": "Cette demande de paiement est réglée.",
}
CREDITED_BACK = "{amount} recrédités le {day}"  # a cancelled payment's amount back on the balance
NOT_VALIDATED_IN_TIME = "Le commerçant n'a pas validé la pré-réservation avant la date limite."
RECENT_CREDITS = timedelta(days=7)  # Mon solde recalls the credits of a cancelled payment this long
DEVICE_BLOCKED = ("Votre code personnel a été saisi {count} fois de suite de manière erronée : votre appareil "
                  "est bloqué. Contactez l'ANCV pour le débloquer.")
PAYMENT_STATUS = {  # Historique
    "INITIALIZED": "En attente", "PROCESSING": "En attente de votre réponse", "AUTHORIZED": "Autorisé",
    "VALIDATED": "Payé", "DELAYED": "Payé", "NO_SLIP_FOUND": "Payé", "CONSIGNED": "Payé", "PAID": "Payé",
    "CONFLICTED": "Payé", "REJECTED": "Refusé", "ABORTED": "Abandonné", "CANCELLED": "Annulé", "EXPIRED": "Expiré",
}


class AppRefusal(Exception):
    """What the app cannot do, said to the beneficiary in French, with the HTTP status of the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def refusal_of(error: errors.KitError) -> AppRefusal:
    """The Kit's error as the app says it (Kit §6.4.4)."""
    status = error.status if 400 <= error.status < 500 else 400
    return AppRefusal(REFUSALS.get(error.code, "Cette action n'est pas possible."), status)


@contextmanager
def _in_french() -> Iterator[None]:
    try:
        yield
    except errors.KitError as error:
        raise refusal_of(error) from error


def log_in(sandbox: Sandbox, ref: str, password: str) -> tuple[Beneficiary, str]:
    """By 11-digit identifier or email; one refusal whatever is wrong, so nobody learns who has an account,
    until the 3rd wrong password in a row locks the account's login for a while (as in the Espace dédié).
    With the beneficiary, the grant of the session this login opens."""
    text = ref.strip() if isinstance(ref, str) else ""
    grant = secrets.token_urlsafe(24)  # never from the seeded generator
    if not ((text.isascii() and text.isdigit() and len(text) == 11) or EMAIL_SHAPE.match(text)):
        raise AppRefusal("Saisissez votre identifiant à 11 chiffres ou votre adresse e-mail.", 400)
    given = password if isinstance(password, str) else ""
    with sandbox.uow() as uow:
        beneficiary = uow.session.beneficiary(text) if text.isdigit() else uow.session.beneficiary_by_email(text)
        if beneficiary is None:
            hmac.compare_digest(given.encode(), secrets.token_hex(16).encode())  # as long as a wrong password
            raise AppRefusal(LOGIN_REFUSED, 401)
        outcome = beneficiary.log_in(given, uow.now, grant)
        uow.save(beneficiary)
    if outcome == LOGIN_LOCKED:
        raise AppRefusal(LOGIN_LOCKED_MESSAGE, 401)
    if outcome != LOGGED_IN:
        raise AppRefusal(LOGIN_REFUSED, 401)
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


@dataclass(frozen=True)
class Incoming:
    """A payment request pushed to the app and not opened yet."""

    request: PreTransaction
    merchant: str


@dataclass(frozen=True)
class Home:
    """Accueil: the balance, its allocations, and what waits for an answer."""

    beneficiary: Beneficiary
    now: datetime
    available: int
    held: int  # pre-bookings authorized, awaiting the merchant's validation
    allocations: list[Allocation]
    payment: Transaction | None  # the payment waiting for this beneficiary's answer
    payment_merchant: str
    requests: list[Incoming]
    credits: list[PastPayment]  # payments cancelled lately, whose amount came back on the balance

    @property
    def blocked(self) -> bool:
        return bool(self.beneficiary.devices) and not self.beneficiary.has_active_device()


def _merchant(session: StoreSession, shop_id: int) -> str:
    pos = session.point_of_sale(shop_id)
    return pos.name if pos is not None else f"Point d'accueil {shop_id}"


def _pending(uow: UnitOfWork, beneficiary_id: str) -> Transaction | None:
    """The payment waiting for this beneficiary, once any deadline already passed has been applied."""
    from .kit import catch_up

    tx = uow.session.pending_transaction_of(beneficiary_id)
    if tx is not None and catch_up(uow, "transaction", tx.transaction_id):
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
                    _merchant(uow.session, tx.shop_id) if tx else "", requests, credits)


@dataclass(frozen=True)
class Outcome:
    """How a payment ended, as the result page says it."""

    accepted: bool
    title: str
    message: str
    paid: int = 0
    left_due: int = 0  # "Reste dû" (Kit §6.4.3): asked minus paid, when positive
    warning: str = ""


@dataclass(frozen=True)
class PaymentPage:
    """The payment page: what is asked, by whom, what the app proposes, and how it ended."""

    transaction: Transaction
    merchant: str
    request: PreTransaction | None
    proposed: int  # what the app offers to pay while the amount may still be lowered
    available: int
    outcome: Outcome | None  # None while the payment waits for the beneficiary

    @property
    def adjustable(self) -> bool:
        return self.transaction.awaiting_beneficiary and self.transaction.sub_state == IN_ADJUSTMENT

    @property
    def asking_code(self) -> bool:
        return self.transaction.awaiting_beneficiary and self.transaction.sub_state == AUTHORIZATION_REQUEST


def _outcome(tx: Transaction, pre: PreTransaction | None, beneficiary: Beneficiary, merchant: str,
             block_after: int, now: datetime) -> Outcome | None:
    """The result page of a payment that no longer waits for the beneficiary (None while it does)."""
    if tx.awaiting_beneficiary or tx.state == INITIALIZED:
        return None
    if tx.state == PROCESSING:  # acquisition never started (fault injection)
        return Outcome(False, "Paiement en cours", "Le paiement est en cours de traitement par l'ANCV.")
    if tx.authorization is not None and tx.state != CANCELLED:
        paid = tx.authorization.amount
        message = f"Vous avez payé {euros(paid)} à {merchant}."
        if tx.state == AUTHORIZED and tx.capture_date is not None:
            message = (f"{euros(paid)} sont réservés sur votre solde pour {merchant}, qui validera le paiement "
                       f"au plus tard le {french_date(tx.capture_date)}.")
        return Outcome(True, "Paiement accepté", message, paid, max(0, tx.amount - paid))
    if tx.state == CANCELLED:
        if pre is not None and pre.abort is not None and pre.abort.reason == "ABORTED_MERCHANT":
            reason = f" Motif : {pre.abort.label}" if pre.abort.label else ""
            return Outcome(False, "Demande annulée", REQUEST_ENDINGS["ABORTED_MERCHANT"] + reason)
        if tx.authorization is not None:
            return Outcome(False, "Paiement annulé", f"{_cancelled_by(tx)} Les {euros(tx.authorization.amount)} "
                           "payés ont été recrédités sur votre compte.")
        return Outcome(False, "Paiement annulé", ENDINGS["CANCELLED"])
    if tx.state == ABORTED and pre is not None and pre.abort is not None and pre.abort.reason == "ABORTED_BENEFICIARY":
        return Outcome(False, "Paiement refusé", REQUEST_ENDINGS["ABORTED_BENEFICIARY"])
    key = tx.sub_state or tx.state
    message = ENDINGS.get(key, "Le paiement n'a pas abouti.")
    if key == REJECTED_INTERNAL and tx.rejection_cause == errors.InsufficientBalance.code:  # rechecked too short
        message = REFUSALS["INSUFFICIENT_BALANCE"]
    warning = ""
    if key == REJECTED_SECURITY:
        if beneficiary.devices and not beneficiary.has_active_device():
            warning = DEVICE_BLOCKED.format(count=block_after)
        elif 0 < beneficiary.wrong_pin_streak < block_after:
            left = block_after - beneficiary.wrong_pin_streak
            warning = (f"Attention : encore {left} code{'s' if left > 1 else ''} erroné{'s' if left > 1 else ''} "
                       "et votre appareil sera bloqué.")
    title = "Paiement abandonné" if tx.state == ABORTED else "Paiement refusé"
    if key == REJECTED_TIMEOUT:
        title = "Délai dépassé"
    return Outcome(False, title, message, warning=warning)


def payment_page(sandbox: Sandbox, beneficiary_id: str, transaction_id: str) -> PaymentPage:
    """One of this beneficiary's payments (anybody else's looks absent: 404)."""
    from .kit import catch_up

    with sandbox.uow() as uow, _in_french():
        tx = uow.session.transaction(transaction_id) if transaction_id.isalnum() else None
        if tx is None or tx.beneficiary_id != beneficiary_id:
            raise errors.TransactionNotFound(transaction_id)
        if catch_up(uow, "transaction", transaction_id):
            tx = uow.session.transaction(transaction_id) or tx
        beneficiary = find_beneficiary(uow, beneficiary_id)
        pre = uow.session.pre_transaction(tx.pre_transaction_id) if tx.pre_transaction_id else None
        proposed = payments.proposed_amount(tx, beneficiary, uow.now) if tx.payer else 0
        merchant = _merchant(uow.session, tx.shop_id)
        outcome = _outcome(tx, pre, beneficiary, merchant, uow.sandbox.rules.wrongPinsBeforeBlock, uow.now)
        return PaymentPage(tx, merchant, pre, proposed, beneficiary.available(uow.now), outcome)


def _act(sandbox: Sandbox, beneficiary_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with _in_french():
        return act(sandbox, beneficiary_id, body)


def adjust_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str, amount: str) -> Transaction:
    """"Montant à payer": lower the amount (tspd 001), never raise it."""
    try:
        cents = parse_euros(amount)
    except ValueError:
        raise AppRefusal("Indiquez un montant en euros, par exemple 15,00.") from None
    try:
        return _act(sandbox, beneficiary_id, {"action": "adjust", "amount": cents,
                                              "transactionId": transaction_id})["transaction"]
    except AppRefusal as refusal:
        if isinstance(refusal.__cause__, errors.InvalidPayerAmount):
            page = payment_page(sandbox, beneficiary_id, transaction_id)
            assert page.transaction.payer is not None
            raise AppRefusal(f"Vous pouvez baisser le montant à payer, pas l'augmenter : au plus "
                             f"{euros(page.transaction.payer.amount)}.") from refusal
        if isinstance(refusal.__cause__, errors.InsufficientBalance):
            page = payment_page(sandbox, beneficiary_id, transaction_id)
            raise AppRefusal(f"{REFUSALS['INSUFFICIENT_BALANCE']} Vous pouvez payer au plus "
                             f"{euros(page.available)}.", 403) from refusal
        raise


def authorize_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str, pin: str) -> Transaction:
    """The 6-digit personal code; a wrong one ends the payment (SR: one attempt per payment)."""
    try:
        return _act(sandbox, beneficiary_id, {"action": "authorize", "pin": pin,
                                              "transactionId": transaction_id})["transaction"]
    except AppRefusal as refusal:
        if isinstance(refusal.__cause__, errors.BadRequest):
            raise AppRefusal("Saisissez votre code personnel à 6 chiffres.") from refusal
        raise


def abandon_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str) -> Transaction:
    """"Abandonner": give up this payment (ABORTED_TSPD); a payment request stays payable."""
    return _act(sandbox, beneficiary_id,
                {"action": "abandon", "transactionId": transaction_id})["transaction"]


def refuse_payment(sandbox: Sandbox, beneficiary_id: str, transaction_id: str) -> PreTransaction:
    """"Refuser": refuse the payment request behind this payment (ABORTED_BENEFICIARY)."""
    return _act(sandbox, beneficiary_id,
                {"action": "refuse", "transactionId": transaction_id})["preTransaction"]


def pushed_request(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> Incoming:
    """A request pushed to this beneficiary (`/contact`), in whatever state; anybody else's looks absent."""
    from .kit import catch_up

    with sandbox.uow() as uow, _in_french():
        pre = uow.session.pre_transaction(pre_transaction_id) if pre_transaction_id.isalnum() else None
        if pre is None or pre.contact_beneficiary_id != beneficiary_id:
            raise errors.PreTransactionNotFound(pre_transaction_id)
        if catch_up(uow, "pre_transaction", pre_transaction_id):
            pre = uow.session.pre_transaction(pre_transaction_id) or pre
        return Incoming(pre, _merchant(uow.session, pre.shop_id))


def request_ending(pre: PreTransaction) -> str:
    """Why a request can no longer be paid, in French ("" while it can)."""
    if pre.abort is not None:
        return REQUEST_ENDINGS.get(pre.abort.reason, "")
    return REQUEST_ENDINGS.get(pre.state, "")


def open_request(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> Transaction:
    """"Payer" on a pushed request: the app scans it, as if its QR code had been read."""
    pushed_request(sandbox, beneficiary_id, pre_transaction_id)
    return _scan(sandbox, beneficiary_id, pre_transaction_id)


def refuse_request(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> PreTransaction:
    """"Refuser" on a pushed request not opened yet."""
    pushed_request(sandbox, beneficiary_id, pre_transaction_id)
    return _act(sandbox, beneficiary_id, {"action": "refuse",
                                          "url": sandbox.payment_url(pre_transaction_id)})["preTransaction"]


def _scan(sandbox: Sandbox, beneficiary_id: str, pre_transaction_id: str) -> Transaction:
    with sandbox.store.session() as s:
        pending = s.pending_transaction_of(beneficiary_id)
    if pending is not None and pending.pre_transaction_id == pre_transaction_id:
        return pending  # scanned twice: the payment already waits
    return _act(sandbox, beneficiary_id, {"action": "scan",
                                          "url": sandbox.payment_url(pre_transaction_id)})["transaction"]


def payment_request_id(sandbox: Sandbox, text: str, other_bases: tuple[str, ...] = ()) -> str | None:
    """The request a payment QR code of this sandbox names (`{Kit base URL}/pre-transactions/{id}/qr-code`)."""
    return ids.payment_request_id(text, (sandbox.kit_base_url, *other_bases))


def _not_a_payment_code(texts: list[str]) -> AppRefusal:
    if any(ids.parse_cvco_id(text) is not None for text in texts):
        return AppRefusal("Ce code est un identifiant de bénéficiaire (CVCoId), pas une demande de paiement.")
    return AppRefusal("Ce QR code n'est pas une demande de paiement Chèque-Vacances Connect de ce bac à sable.")


def scan_text(sandbox: Sandbox, beneficiary_id: str, text: str, other_bases: tuple[str, ...] = ()) -> Transaction:
    """A payment URL read by the camera or pasted by hand."""
    if not isinstance(text, str) or not text.strip():
        raise AppRefusal("Collez l'adresse du QR code de paiement.")
    pre_id = payment_request_id(sandbox, text, other_bases)
    if pre_id is None:
        raise _not_a_payment_code([text.strip()])
    return _scan(sandbox, beneficiary_id, pre_id)


def scan_image(sandbox: Sandbox, beneficiary_id: str, data: bytes, other_bases: tuple[str, ...] = ()) -> Transaction:
    """A photo or screenshot of a payment QR code, decoded here (pyzbar)."""
    try:
        texts = decode_image(data)
    except UnreadableImage as error:
        raise AppRefusal(str(error)) from error
    if not texts:
        raise AppRefusal("Aucun QR code n'a été trouvé sur cette image : cadrez-le en entier et bien net.")
    for text in texts:
        pre_id = payment_request_id(sandbox, text, other_bases)
        if pre_id is not None:
            return _scan(sandbox, beneficiary_id, pre_id)
    raise _not_a_payment_code(texts)


def _cancelled_by(tx: Transaction) -> str:
    """Who ended a cancelled payment: the merchant, or the validation deadline of a pre-booking."""
    if tx.cancellation is not None and tx.cancellation.by_deadline:
        return NOT_VALIDATED_IN_TIME
    return ENDINGS["CANCELLED"]


@dataclass(frozen=True)
class PastPayment:
    transaction: Transaction
    merchant: str
    status: str  # in French
    amount: int  # paid when it was, credited back when cancelled after paying, else asked
    credited: int = 0  # what the cancellation gave back to the balance
    credit_note: str = ""  # "Annulé – 40,00 € recrédités le 02/06/2026"
    reason: str = ""  # why it was cancelled, when it was

    @classmethod
    def of(cls, tx: Transaction, merchant: str) -> PastPayment:
        status = PAYMENT_STATUS.get(tx.state, tx.state)
        if tx.state != CANCELLED:
            return cls(tx, merchant, status, tx.authorized_amount if tx.authorization
                       else (tx.payer.amount if tx.payer else tx.amount))
        if tx.authorization is None:  # cancelled before the beneficiary paid: nothing to give back
            return cls(tx, merchant, status, tx.payer.amount if tx.payer else tx.amount, reason=ENDINGS["CANCELLED"])
        credited = tx.authorization.amount  # the debit, or the hold of a pre-booking, that payments.cancel gave back
        when = tx.cancellation.effective_date if tx.cancellation else tx.update_date
        note = f"{status} – " + CREDITED_BACK.format(amount=euros(credited), day=french_day(when))
        return cls(tx, merchant, status, credited, credited, note, _cancelled_by(tx))


def _past_payments(session: StoreSession, beneficiary_id: str) -> list[PastPayment]:
    found = session.transactions_of_beneficiary(beneficiary_id)
    merchants = {shop_id: _merchant(session, shop_id) for shop_id in {tx.shop_id for tx in found}}
    return [PastPayment.of(tx, merchants[tx.shop_id])
            for tx in sorted(found, key=lambda t: (t.update_date, t.transaction_id), reverse=True)]


def history(sandbox: Sandbox, beneficiary_id: str) -> list[PastPayment]:
    """Historique: every payment of this beneficiary, latest first; a cancelled one says what came back."""
    with sandbox.store.session() as s:
        return _past_payments(s, beneficiary_id)


def identifier_code(beneficiary_id: str) -> str:
    """What the beneficiary's QR code and Code 128 say (Kit §5.4)."""
    return f"{CVCO_ID_PREFIX}{beneficiary_id}"
