"""Payments merchants start from ANCV's screens (App' Chèque-Vacances Pro, later the portal), and
the operations they see. Same entities and rules as the Kit API; French messages for people."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..adapters.store import StoreSession
from ..domain import errors, operations
from ..domain.operations import Operation
from ..domain.pre_transactions import PreTransaction
from ..domain.requests import CUSTOMER_ID_RE

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
