"""Mes remboursements: the bank transfers ANCV paid a merchant's points d'accueil, as the Espace dédié shows them.

The back office (services.back_office) makes the transfers; this module only reads them, scoped to
the points d'accueil a merchant may see, with each transfer's transactions and their refunds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from ..domain.back_office import REIMBURSEMENT_DELAY_WORKING_DAYS, Transfer

if TYPE_CHECKING:
    from .ports import StoreSession
    from .sandbox import Sandbox

__all__ = ["HOW_IT_WORKS", "NONE_YET", "ReimbursedTransaction", "Reimbursement", "reimbursements_of",
           "reimbursement", "reimbursed_transactions"]

NONE_YET = "Aucun remboursement pour le moment."
HOW_IT_WORKS = (f"Les paiements validés d'une même journée sont additionnés et remboursés en un seul virement "
                f"sur votre compte bancaire, {REIMBURSEMENT_DELAY_WORKING_DAYS} jours ouvrés après cette journée.")


@dataclass(frozen=True)
class ReimbursedTransaction:
    """One line of a transfer: a transaction and what ANCV paid for it."""

    transaction_id: str
    order_id: str
    validated: datetime  # when the payment was validated: its day is the transfer's transaction day
    total: int
    fee: int
    net: int
    slip_number: str  # N° de bordereau
    label: str | None = None  # the libellé the merchant gave, to match the line with an invoice
    customer_ref: str | None = None  # the référence client (applicationContext.customerId)


@dataclass(frozen=True)
class Reimbursement:
    """One bank transfer to a point d'accueil, with the transactions it pays (empty in the list)."""

    transfer: Transfer
    point: str  # the point d'accueil's name
    transactions: list[ReimbursedTransaction]

    @property
    def transfer_id(self) -> str:
        return self.transfer.transfer_id

    @property
    def payment_date(self) -> date:
        return self.transfer.payment_date

    @property
    def transaction_day(self) -> date:
        return self.transfer.transaction_day

    @property
    def count(self) -> int:
        return len(self.transfer.transaction_ids)


def _point_name(session: StoreSession, shop_id: int) -> str:
    pos = session.point_of_sale(shop_id)
    return pos.name if pos is not None else f"Point d'accueil {shop_id}"


def _lines(session: StoreSession, transfer: Transfer) -> list[ReimbursedTransaction]:
    lines = []
    for transaction_id in transfer.transaction_ids:
        tx = session.transaction(transaction_id)
        if tx is None:  # purged meanwhile: the transfer's totals still stand
            continue
        refund = tx.refunds[0] if tx.refunds else None
        lines.append(ReimbursedTransaction(
            transaction_id, tx.order_id, tx.validation_date or tx.update_date,
            refund.total if refund else tx.authorized_amount, refund.fee if refund else 0,
            refund.net if refund else tx.authorized_amount, tx.slip_number or "", tx.label,
            (tx.application_context or {}).get("customerId")))
    return lines


def reimbursements_of(sandbox: Sandbox, shop_ids: list[int]) -> list[Reimbursement]:
    """The transfers paid to these points d'accueil, the latest first (without their transactions)."""
    with sandbox.store.session() as s:
        found = s.transfers(shop_ids)
        names = {shop_id: _point_name(s, shop_id) for shop_id in {t.shop_id for t in found}}
    return [Reimbursement(t, names[t.shop_id], []) for t in found]


def reimbursement(sandbox: Sandbox, shop_ids: list[int], transfer_id: str) -> Reimbursement | None:
    """One transfer of these points d'accueil with its transactions; anybody else's looks absent (None)."""
    with sandbox.store.session() as s:
        transfer = next((t for t in s.transfers(shop_ids) if t.transfer_id == transfer_id), None)
        if transfer is None:
            return None
        return Reimbursement(transfer, _point_name(s, transfer.shop_id), _lines(s, transfer))


def reimbursed_transactions(sandbox: Sandbox, shop_ids: list[int]) -> list[Reimbursement]:
    """Every transfer of these points d'accueil with its transactions, the latest first ("Exporter")."""
    with sandbox.store.session() as s:
        return [Reimbursement(t, _point_name(s, t.shop_id), _lines(s, t)) for t in s.transfers(shop_ids)]
