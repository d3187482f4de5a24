"""What merchants see of their payments (SPEC §8): one operation per payment request or transaction.

The four parcours of the portal map onto the Kit's objects; the statuses people read
("En attente de paiement client", "A valider", "Validé", …) are computed here, once, for the
portal and the App' Chèque-Vacances Pro alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .pre_transactions import PreTransaction
from .transactions import DEFERRED, TSPD_FIXED, Transaction

IMMEDIATE, DELAYED, PRE_BOOKING, DELAYED_PRE_BOOKING = (
    "Paiement immédiat", "Paiement différé", "Pré-réservation", "Pré-réservation différée")
WAITING, TO_VALIDATE, VALIDATED = "En attente de paiement client", "A valider", "Validé"
CANCELLED, EXPIRED, REFUSED = "Annulé", "Expiré", "Refusé"  # "Refusé": SR, for REJECTED

TRANSACTION_STATUS = {
    "INITIALIZED": WAITING, "PROCESSING": WAITING, "AUTHORIZED": TO_VALIDATE, "VALIDATED": VALIDATED,
    "DELAYED": VALIDATED, "NO_SLIP_FOUND": VALIDATED, "CONSIGNED": VALIDATED, "PAID": VALIDATED,
    "CONFLICTED": VALIDATED, "CANCELLED": CANCELLED, "EXPIRED": EXPIRED, "REJECTED": REFUSED,
    "ABORTED": CANCELLED,  # the client gave up
}
REQUEST_STATUS = {"CREATED": WAITING, "PROCESSING": WAITING, "AUTHORIZING": WAITING, "ABORTED": CANCELLED,
                  "EXPIRED": EXPIRED}


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

    @property
    def left_to_pay(self) -> int | None:
        """"Reste à payer": to be paid by another means when the client paid only part."""
        return None if self.received is None else self.requested - self.received


def _received(tx: Transaction) -> int | None:
    return tx.authorized_amount if TRANSACTION_STATUS[tx.state] in (TO_VALIDATE, VALIDATED) else None


def of_transaction(tx: Transaction) -> Operation:
    """A transaction made directly (parcours A by identifier, or C)."""
    return Operation(tx.order_id, PRE_BOOKING if tx.capture_mode == DEFERRED else IMMEDIATE,
                     TRANSACTION_STATUS[tx.state], tx.amount, _received(tx), tx.creation_date, tx.update_date,
                     tx.transaction_id, None, tx.label, client=_client(tx), validation_deadline=tx.capture_date,
                     customer_ref=_customer_ref(tx.application_context))


def _customer_ref(context: dict[str, Any] | None) -> str | None:
    return (context or {}).get("customerId")


def _client(tx: Transaction) -> str | None:
    return str(tx.payer.beneficiary_ref) if tx.payer else None


def of_request(pre: PreTransaction, paid_by: Transaction | None) -> Operation:
    """A payment request (parcours A by QR code, B or D), with the transaction that used it."""
    if pre.capture_mode == DEFERRED:
        kind = DELAYED_PRE_BOOKING
    else:
        kind = DELAYED if pre.tspd_mode == TSPD_FIXED else IMMEDIATE
    if paid_by is not None:
        status, received = TRANSACTION_STATUS[paid_by.state], _received(paid_by)
        updated = max(pre.update_date, paid_by.update_date)
    else:
        status, received, updated = REQUEST_STATUS.get(pre.state, WAITING), None, pre.update_date
    return Operation(pre.order_id, kind, status, pre.amount, received, pre.creation_date, updated,
                     paid_by.transaction_id if paid_by else None, pre.pre_transaction_id, pre.label,
                     client=pre.contact, payment_deadline=pre.expiration_date,
                     validation_deadline=paid_by.capture_date if paid_by else None, validation_days=pre.capture_term,
                     customer_ref=_customer_ref(pre.application_context))


EUROS = re.compile(r"^\s*([0-9]{1,7})(?:[.,]([0-9]{1,2}))?\s*(?:€)?\s*$")  # [0-9]: \d takes "١٢" for 12


def parse_euros(text: str) -> int:
    """"20", "20,5", "20.50 €" → cents; ValueError otherwise (never a float)."""
    match = EUROS.match(text or "")
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def plain_euros(cents: int) -> str:
    """4000 → "40,00": what a form field shows, and parse_euros reads back."""
    return f"{cents // 100},{cents % 100:02d}"
