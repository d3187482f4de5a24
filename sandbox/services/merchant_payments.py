"""Payments merchants start from ANCV's screens (App' Chèque-Vacances Pro, the Espace dédié's
ENCAISSER wizard), and the operations they see. Same entities and rules as the Kit API; French messages for people."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from ..domain import errors, operations, payments
from ..domain.cashing import Demand, FormErrors
from ..domain.dates import paris_day
from ..domain.french import euros, parse_euros
from ..domain.merchants import PointOfSale
from ..domain.operations import Operation
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import NORMAL, TSPD_ADJUSTABLE, Transaction
from .ports import StoreSession

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

__all__ = ["FormErrors", "request_immediate_payment", "operations_of", "operation", "request_operation", "Ticket",
           "payment_ticket", "validate_pre_booking", "cancel_operation", "filter_operations"]


def require_active_point(uow: UnitOfWork, shop_id: int) -> None:
    pos = uow.session.point_of_sale(shop_id)
    if pos is None or not pos.is_active:
        raise FormErrors({"form": "Ce point d'accueil ne peut pas encaisser."})


PRO_APP, PORTAL = "pro", "ptl"  # where a QR request was asked: its prePaymentId is "{source}-{id}"


def asked_from(pre: PreTransaction, source: str) -> bool:
    """Whether this payment request was asked from that surface (PRO_APP, PORTAL)."""
    return pre.pre_payment_id == f"{source}-{pre.pre_transaction_id}"


def qr_request(uow: UnitOfWork, shop_id: int, demand: Demand, notify_email: str | None,
                source: str) -> PreTransaction:
    """Parcours A by QR code: a request payable at once, shown on the merchant's screen."""
    sandbox = uow.sandbox
    require_active_point(uow, shop_id)
    pre_id = sandbox.new_id(lambda c: uow.session.pre_transaction(c) is not None)
    pre = PreTransaction.create(
        pre_id, uow.now, shop_id=shop_id, order_id=demand.order_id, pre_payment_id=f"{source}-{pre_id}",
        label=demand.label, amount=demand.amount, capture_mode=NORMAL, tspd_mode=TSPD_ADJUSTABLE,
        shop_assistant_id=demand.assistant, application_context=demand.application_context,
        expiration_date=uow.now + timedelta(minutes=sandbox.rules.proRequestMinutes),
        minimum_amount=sandbox.rules.minimumAmountCents, merchant_email=notify_email)
    pre.show_qr_code(uow.now)  # shown at once: usable at once
    uow.save(pre)
    return pre


def request_immediate_payment(sandbox: Sandbox, shop_id: int, form: Mapping[str, str]) -> PreTransaction:
    """App Pro "Paiement": an immediate payment request shown as a QR code (parcours A, NORMAL/001)."""
    demand = Demand.for_pro(form, sandbox.rules.minimumAmountCents)
    with sandbox.uow() as uow:
        return qr_request(uow, shop_id, demand, None, PRO_APP)


def _operation_of_request(session: StoreSession, pre: PreTransaction,
                          tries: Mapping[str, Transaction] | None = None) -> Operation:
    """A request's operation; with no payment running or made, its last failed try says why (`tries`:
    the last transaction of each request, when the caller read them already)."""
    tx_id = pre.validated_payment_transaction_id or pre.current_transaction_id
    if tx_id:
        return operations.of_request(pre, session.transaction(tx_id))
    if tries is None:
        tries = _last_tries(session.transactions([pre.shop_id]))
    return operations.of_request(pre, None, tries.get(pre.pre_transaction_id))


def _last_tries(transactions: list[Transaction]) -> dict[str, Transaction]:
    """The latest transaction made from each payment request (the store gives them oldest first)."""
    return {tx.pre_transaction_id: tx for tx in transactions if tx.pre_transaction_id}


def operations_of(sandbox: Sandbox, shop_ids: list[int]) -> list[Operation]:
    """Every operation of these points d'accueil, the latest action first."""
    with sandbox.store.session() as s:
        every = s.transactions(shop_ids)
        tries = _last_tries(every)
        found = [operations.of_transaction(tx) for tx in every if not tx.pre_transaction_id]
        found += [_operation_of_request(s, pre, tries) for pre in s.pre_transactions(shop_ids)]
    return sorted(found, key=lambda o: o.updated, reverse=True)


def operation(sandbox: Sandbox, shop_ids: list[int], ref: str) -> Operation | None:
    """The operation of these points d'accueil named by its transaction or payment request, as the table
    shows it (a payment of a request is found only while the request's operation shows that payment)."""
    if not (ref.isascii() and ref.isalnum() and len(ref) <= 10):
        return None
    with sandbox.store.session() as s:
        tx = s.transaction(ref)
        if tx is not None and tx.shop_id in shop_ids:
            if not tx.pre_transaction_id:
                return operations.of_transaction(tx)
            request = s.pre_transaction(tx.pre_transaction_id)
            found = _operation_of_request(s, request) if request is not None else None
            if found is not None and found.transaction_id == ref:
                return found
        pre = s.pre_transaction(ref)
        return _operation_of_request(s, pre) if pre is not None and pre.shop_id in shop_ids else None


def _their_request(session: StoreSession, shop_ids: list[int], pre_transaction_id: str) -> PreTransaction:
    pre = session.pre_transaction(pre_transaction_id) if pre_transaction_id.isalnum() else None
    if pre is None or pre.shop_id not in shop_ids:
        raise errors.PreTransactionNotFound(pre_transaction_id)
    return pre


def request_operation(sandbox: Sandbox, shop_ids: list[int], pre_transaction_id: str) -> Operation:
    """One payment request of these points d'accueil (others' look absent)."""
    with sandbox.store.session() as s:
        return _operation_of_request(s, _their_request(s, shop_ids, pre_transaction_id))


@dataclass(frozen=True)
class Ticket:
    """The ticket de caisse printed with a payment QR code (Kit §6.5.1, case 1)."""

    point: PointOfSale
    operation: Operation  # its payment_deadline is the request's expiry
    printed: datetime  # the sandbox's clock when the till prints it


def payment_ticket(sandbox: Sandbox, shop_ids: list[int], pre_transaction_id: str) -> Ticket:
    """The ticket de caisse of one payment request of these points d'accueil (others' look absent)."""
    with sandbox.store.session() as s:
        pre = _their_request(s, shop_ids, pre_transaction_id)
        point = s.point_of_sale(pre.shop_id)
        if point is None:
            raise errors.PreTransactionNotFound(pre_transaction_id)
        return Ticket(point, _operation_of_request(s, pre), sandbox.clock.now())


def _their_transaction(session: StoreSession, shop_ids: list[int], transaction_id: str) -> Transaction:
    tx = session.transaction(transaction_id) if transaction_id.isalnum() else None
    if tx is None or tx.shop_id not in shop_ids:
        raise errors.TransactionNotFound(transaction_id)
    return tx


def validate_pre_booking(sandbox: Sandbox, shop_ids: list[int], transaction_id: str, amount: str) -> Transaction:
    """✓ "Valider la pré-réservation": the amount may be lowered, never raised (Kit §4.5.4)."""
    try:
        cents = parse_euros(amount)
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
    with sandbox.uow() as uow:
        try:
            if transaction_id:
                tx = _their_transaction(uow.session, shop_ids, transaction_id)
                beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
                payments.cancel(tx, beneficiary, "OTHER", "Annulée depuis l'Espace dédié", uow.now)
                uow.save(tx)
                if beneficiary is not None:
                    uow.save(beneficiary)
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
    """The table's filters: dates of the last action (French days), status ("Refusé" finds every refusal's
    wording), type, N° de panier."""
    return [o for o in found
            if (day_from is None or paris_day(o.updated) >= day_from)
            and (day_to is None or paris_day(o.updated) <= day_to)
            and (not status or o.family == status) and (not kind or o.kind == kind)
            and (not order_id or order_id.lower() in o.order_id.lower())]
