"""Payments merchants start from ANCV's screens (App' Chèque-Vacances Pro, later the portal), and
the operations they see. Same entities and rules as the Kit API; French messages for people."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..adapters.store import StoreSession
from ..domain import errors, operations, payments
from ..domain.dates import paris_day
from ..domain.operations import Operation
from ..domain.pre_transactions import PreTransaction
from ..domain.requests import CUSTOMER_ID_RE
from ..domain.transactions import Transaction
from .emails import euros

if TYPE_CHECKING:
    from .sandbox import Sandbox


class FormErrors(Exception):
    """Field → French message, shown next to each field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields)
        self.fields = fields


def _text(value: str, field: str, limit: int, problems: dict[str, str], required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        problems[field] = "Ce champ est obligatoire."
    elif len(value) > limit:
        problems[field] = f"{limit} caractères au plus."
    return value or None


def request_immediate_payment(sandbox: Sandbox, shop_id: int, amount: str, order_id: str, label: str = "",
                              customer_ref: str = "", assistant: str = "") -> PreTransaction:
    """App Pro "Paiement": an immediate payment request shown as a QR code (parcours A, NORMAL/001)."""
    problems: dict[str, str] = {}
    try:
        cents = operations.parse_euros(amount)
    except ValueError:
        cents = 0
        problems["amount"] = "Indiquez un montant en euros, par exemple 20,00."
    order = _text(order_id, "order_id", 64, problems, required=True)
    label_text = _text(label, "label", 255, problems)
    customer = _text(customer_ref, "customer_ref", 34, problems)
    if customer and not CUSTOMER_ID_RE.match(customer):
        problems["customer_ref"] = "Lettres et chiffres uniquement."
    seller = _text(assistant, "assistant", 50, problems)
    minimum = sandbox.rules.minimumAmountCents
    if "amount" not in problems and cents < minimum:
        problems["amount"] = f"Le montant minimum est de {minimum // 100},{minimum % 100:02d} €."
    if problems:
        raise FormErrors(problems)
    with sandbox.uow() as uow:
        pos = uow.session.point_of_sale(shop_id)
        if pos is None or not pos.is_active:
            raise FormErrors({"form": "Ce point d'accueil ne peut pas encaisser."})
        pre_id = sandbox.new_id(lambda c: uow.session.pre_transaction(c) is not None)
        pre = PreTransaction.create(
            pre_id, uow.now, shop_id=shop_id, order_id=order, pre_payment_id=f"pro-{pre_id}", label=label_text,
            amount=cents, capture_mode="NORMAL", tspd_mode="001", shop_assistant_id=seller,
            application_context={"customerId": customer} if customer else None,
            expiration_date=uow.now + timedelta(minutes=sandbox.rules.proRequestMinutes),
            minimum_amount=minimum)
        pre.show_qr_code(uow.now)  # shown at once: usable at once
        uow.save(pre)
        return pre


def _operation_of_request(session: StoreSession, pre: PreTransaction) -> Operation:
    tx_id = pre.validated_payment_transaction_id or pre.current_transaction_id
    return operations.of_request(pre, session.transaction(tx_id) if tx_id else None)


def operations_of(sandbox: Sandbox, shop_ids: list[int]) -> list[Operation]:
    """Every operation of these points d'accueil, the latest action first."""
    with sandbox.store.session() as s:
        found = [operations.of_transaction(tx) for tx in s.transactions(shop_ids) if not tx.pre_transaction_id]
        found += [_operation_of_request(s, pre) for pre in s.pre_transactions(shop_ids)]
    return sorted(found, key=lambda o: o.updated, reverse=True)


def request_operation(sandbox: Sandbox, shop_ids: list[int], pre_transaction_id: str) -> Operation:
    """One payment request of these points d'accueil (others' look absent)."""
    with sandbox.store.session() as s:
        pre = s.pre_transaction(pre_transaction_id) if pre_transaction_id.isalnum() else None
        if pre is None or pre.shop_id not in shop_ids:
            raise errors.PreTransactionNotFound(pre_transaction_id)
        return _operation_of_request(s, pre)


def _their_transaction(session: StoreSession, shop_ids: list[int], transaction_id: str) -> Transaction:
    tx = session.transaction(transaction_id) if transaction_id.isalnum() else None
    if tx is None or tx.shop_id not in shop_ids:
        raise errors.TransactionNotFound(transaction_id)
    return tx


def validate_pre_booking(sandbox: Sandbox, shop_ids: list[int], transaction_id: str, amount: str) -> Transaction:
    """✓ "Valider la pré-réservation": the amount may be lowered, never raised (Kit §4.5.4)."""
    try:
        cents = operations.parse_euros(amount)
    except ValueError:
        raise FormErrors({"amount": "Indiquez un montant en euros, par exemple 20,00."}) from None
    with sandbox.uow() as uow:
        tx = _their_transaction(uow.session, shop_ids, transaction_id)
        if not 1 <= cents <= tx.authorized_amount:
            raise FormErrors({"amount": f"Le montant ne peut pas dépasser {euros(tx.authorized_amount)}."})
        beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
        try:
            payments.execute(tx, beneficiary, cents, uow.now)
        except errors.KitError as error:
            raise FormErrors({"form": "Cette pré-réservation ne peut plus être validée."}) from error
        uow.save(tx)
        if beneficiary is not None:
            uow.save(beneficiary)
        return tx


def cancel_operation(sandbox: Sandbox, shop_ids: list[int], transaction_id: str | None,
                     pre_transaction_id: str | None) -> None:
    """✗ "Annuler l'opération": a payment (re-crediting the client) or a request not paid yet."""
    from . import behaviours

    with sandbox.uow() as uow:
        try:
            if transaction_id:
                tx = _their_transaction(uow.session, shop_ids, transaction_id)
                beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
                payments.cancel(tx, beneficiary, "OTHER", "Annulée depuis l'Espace dédié", uow.now)
                uow.save(tx)
                if beneficiary is not None:
                    uow.save(beneficiary)
                behaviours.after_transaction_change(uow, tx)
            elif pre_transaction_id:
                pre = uow.session.pre_transaction(pre_transaction_id) if pre_transaction_id.isalnum() else None
                if pre is None or pre.shop_id not in shop_ids:
                    raise errors.PreTransactionNotFound(pre_transaction_id)
                pre.abort_by("ABORTED_MERCHANT", "Annulée depuis l'Espace dédié", uow.now)
                uow.save(pre)
        except (errors.OperationTransactionNotAllowed, errors.OperationPreTransactionNotAllowed,
                errors.PreTransactionExpired) as error:
            raise FormErrors({"form": "Cette opération ne peut plus être annulée."}) from error


def filter_operations(found: list[Operation], *, day_from: date | None = None, day_to: date | None = None,
                      status: str = "", kind: str = "", order_id: str = "") -> list[Operation]:
    """The table's filters: dates of the last action (French days), status, type, N° de panier."""
    return [o for o in found
            if (day_from is None or paris_day(o.updated) >= day_from)
            and (day_to is None or paris_day(o.updated) <= day_to)
            and (not status or o.status == status) and (not kind or o.kind == kind)
            and (not order_id or order_id.lower() in o.order_id.lower())]
