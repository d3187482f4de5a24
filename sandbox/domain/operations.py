"""What merchants see of their payments (SPEC §8): one operation per payment request or transaction.

The four parcours of the portal map onto the Kit's objects; the statuses people read
("En attente de paiement client", "A valider", "Validé", …) are computed here, once, for the
portal and the App' Chèque-Vacances Pro alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .pre_transactions import ABORTED_BENEFICIARY, PreTransaction
from .transactions import ABORTED, DEFERRED, REJECTED, Transaction
from .transactions import CANCELLED as CANCELLED_STATE

IMMEDIATE, DELAYED, PRE_BOOKING, DELAYED_PRE_BOOKING = (
    "Paiement immédiat", "Paiement différé", "Pré-réservation", "Pré-réservation différée")
WAITING, TO_VALIDATE, VALIDATED = "En attente de paiement client", "A valider", "Validé"
CANCELLED, EXPIRED, REFUSED = "Annulé", "Expiré", "Refusé"  # "Refusé": SR, for REJECTED

TRANSACTION_STATUS = {
    "INITIALIZED": WAITING, "PROCESSING": WAITING, "AUTHORIZED": TO_VALIDATE, "VALIDATED": VALIDATED,
    "DELAYED": VALIDATED, "NO_SLIP_FOUND": VALIDATED, "CONSIGNED": VALIDATED, "PAID": VALIDATED,
    "CONFLICTED": VALIDATED, "CANCELLED": CANCELLED, "EXPIRED": EXPIRED, "REJECTED": REFUSED,
    "ABORTED": REFUSED,  # the client gave up: not the merchant's own "Annulé"
}
REQUEST_STATUS = {"CREATED": WAITING, "PROCESSING": WAITING, "AUTHORIZING": WAITING, "ABORTED": CANCELLED,
                  "EXPIRED": EXPIRED}

# Why a payment failed on the client's side, as the merchant reads it in the table, the export, the App
# Pro and the operation's detail: (status, explanation), by the Kit's sub-state, the request's abort
# reason, or the cause the sandbox kept for a REJECTED_INTERNAL. Never "Annulé", which is the
# merchant's own cancellation. Every one of them is a "Refusé" for the table's status filter (FAMILY).
FAILURES = {
    "REJECTED_SECURITY": ("Refusé : code personnel erroné",
                          "Votre client a saisi un code personnel de paiement erroné."),
    "REJECTED_TIMEOUT": ("Refusé : délai de confirmation dépassé",
                         "Votre client n'a pas confirmé le paiement dans le délai imparti."),
    "REJECTED_DEVICE": ("Refusé : téléphone du client bloqué",
                        "L'application Chèque-Vacances de votre client est bloquée ou n'est active sur aucun "
                        "téléphone."),
    "INSUFFICIENT_BALANCE": ("Refusé : solde insuffisant",
                             "Le solde Chèque-Vacances Connect de votre client ne couvre pas le montant."),
    "ABORTED_TSPD": ("Abandonné par le client", "Votre client a abandonné le paiement dans son application."),
    ABORTED_BENEFICIARY: ("Refusé par le client", "Votre client a refusé la demande de paiement dans son "
                          "application."),
}
OTHER_FAILURE = (REFUSED, "Le paiement n'a pas pu être autorisé.")
# A pre-booking nobody validated before its capture date: the sandbox cancelled it, not the merchant.
NOT_VALIDATED_IN_TIME = ("Annulé : délai de validation dépassé",
                         "La pré-réservation n'a pas été validée avant sa date limite : elle a été annulée et "
                         "votre client recrédité.")
FAMILY = {status: REFUSED for status, _ in FAILURES.values()} | {NOT_VALIDATED_IN_TIME[0]: CANCELLED}


def family(status: str) -> str:
    """The status the table's filter and counters know ("Refusé" for every refusal's wording)."""
    return FAMILY.get(status, status)


@dataclass(frozen=True)
class Operation:
    order_id: str
    kind: str
    status: str
    requested: int  # cents
    received: int | None  # cents, once authorized
    created: datetime
    updated: datetime
    transaction_id: str | None
    pre_transaction_id: str | None
    label: str | None
    client: str | None = None  # the client's identifier or email as the merchant gave it
    payment_deadline: datetime | None = None  # a payment request's expiry (parcours B, D)
    validation_deadline: datetime | None = None  # a pre-booking's capture date, once paid (C, D)
    validation_days: int | None = None  # a delayed pre-booking's validation delay, before payment (D)
    customer_ref: str | None = None  # "Référence client": the Kit's applicationContext.customerId
    paid: datetime | None = None  # "Date du paiement": when the client authorized it
    reason: str | None = None  # why it failed, in a sentence, when the client's side ended it
    last_attempt: str | None = None  # a request still payable (or expired) whose last payment failed: why

    @property
    def left_to_pay(self) -> int | None:
        """"Reste à payer": to be paid by another means when the client paid only part."""
        return None if self.received is None else self.requested - self.received

    @property
    def family(self) -> str:
        """The status as the filter knows it ("Refusé" for every refusal)."""
        return family(self.status)

    @property
    def awaiting_payment(self) -> bool:
        """"En attente de paiement client": the client may still pay (the QR code, the request is payable)."""
        return self.status == WAITING

    @property
    def is_expired(self) -> bool:
        """The client can no longer pay it: its deadline passed unpaid."""
        return self.status == EXPIRED

    @property
    def can_validate(self) -> bool:
        """✓ "Valider la pré-réservation": a pre-booking paid, waiting for the merchant's validation."""
        return self.status == TO_VALIDATE

    @property
    def can_cancel(self) -> bool:
        """✗ "Annuler l'opération": a request not paid yet, or a pre-booking not validated yet."""
        return self.status in (TO_VALIDATE, WAITING)

    @property
    def pays_later(self) -> bool:
        """Paiement différé, Pré-réservation différée: the client received the request and pays by its deadline."""
        return self.kind in (DELAYED, DELAYED_PRE_BOOKING)

    @property
    def is_pre_booking(self) -> bool:
        """Pré-réservation (différée or not): the merchant validates the payment once made."""
        return self.kind in (PRE_BOOKING, DELAYED_PRE_BOOKING)


def _received(tx: Transaction) -> int | None:
    return tx.authorized_amount if TRANSACTION_STATUS[tx.state] in (TO_VALIDATE, VALIDATED) else None


def failure(tx: Transaction) -> tuple[str, str] | None:
    """(status, why in a sentence) of a transaction the client's side ended (REJECTED, ABORTED), else None:
    what the Espace d'encaissement, the App Pro and the merchant's email say."""
    if tx.state not in (REJECTED, ABORTED):
        return None
    return FAILURES.get(tx.rejection_cause or tx.sub_state or "", OTHER_FAILURE)


def _status(tx: Transaction) -> tuple[str, str | None]:
    ended = failure(tx)
    if ended:
        return ended
    if tx.state == CANCELLED_STATE and tx.cancellation is not None and tx.cancellation.by_deadline:
        return NOT_VALIDATED_IN_TIME
    return TRANSACTION_STATUS[tx.state], None


def _paid(tx: Transaction) -> datetime | None:
    return tx.authorization.validation_date if tx.authorization else None


def of_transaction(tx: Transaction) -> Operation:
    """A transaction made directly (parcours A by identifier, or C)."""
    status, reason = _status(tx)
    return Operation(tx.order_id, PRE_BOOKING if tx.capture_mode == DEFERRED else IMMEDIATE,
                     status, tx.amount, _received(tx), tx.creation_date, tx.update_date,
                     tx.transaction_id, None, tx.label, client=_client(tx), validation_deadline=tx.capture_date,
                     customer_ref=_customer_ref(tx.application_context),
                     paid=_paid(tx), reason=reason)


def _customer_ref(context: dict[str, Any] | None) -> str | None:
    return (context or {}).get("customerId")


def _client(tx: Transaction) -> str | None:
    return str(tx.payer.beneficiary_ref) if tx.payer else None


def of_request(pre: PreTransaction, paid_by: Transaction | None, last_try: Transaction | None = None) -> Operation:
    """A payment request (parcours A by QR code, B or D), with the transaction that used it (`paid_by`:
    the one paying or that paid it) or, when none, the last one that failed (`last_try`)."""
    if pre.is_pre_booking:
        kind = DELAYED_PRE_BOOKING
    else:
        kind = DELAYED if pre.amount_is_fixed else IMMEDIATE
    reason, last_attempt = None, None
    if paid_by is not None:
        (status, reason), received = _status(paid_by), _received(paid_by)
        updated = max(pre.update_date, paid_by.update_date)
    elif pre.abort is not None and pre.abort.reason == ABORTED_BENEFICIARY:
        (status, reason), received, updated = FAILURES[ABORTED_BENEFICIARY], None, pre.update_date
    else:
        status, received, updated = REQUEST_STATUS.get(pre.state, WAITING), None, pre.update_date
        ended = failure(last_try) if last_try is not None else None
        last_attempt = ended[0] if ended else None
    return Operation(pre.order_id, kind, status, pre.amount, received, pre.creation_date, updated,
                     paid_by.transaction_id if paid_by else None, pre.pre_transaction_id, pre.label,
                     client=pre.contact, customer_ref=_customer_ref(pre.application_context),
                     payment_deadline=pre.expiration_date,
                     validation_deadline=paid_by.capture_date if paid_by else None, validation_days=pre.capture_term,
                     paid=_paid(paid_by) if paid_by else None, reason=reason, last_attempt=last_attempt)


VALIDATION_DONE = "C'est bon ! Le paiement est validé."


def cancellation_question(operation: Operation) -> str:
    """The question of the "ANNULER L'OPÉRATION" window (seeds 001/002, Choix 2)."""
    if operation.can_validate:
        return "Êtes-vous sûr de vouloir annuler cette demande de pré-réserve ?"
    return "Êtes-vous sûr de vouloir annuler cette demande de paiement ?"


def cancellation_done(operation: Operation) -> str:
    """What the merchant reads once "OUI" cancelled it (a payment is re-credited to the client)."""
    if operation.received is not None:
        return "Le paiement a été annulé. Votre client a été recrédité."
    return "La demande de paiement a été annulée."

