"""The eleven operations of the Kit API (Kit §4.4–4.6), with seal checks and ownership.

Order of checks: the body's shape (400), then who calls (seal, 403; someone else's
object looks absent, 404), then the merchant (403), then the business rules (412…).
A caller is the holder whose key verifies the seal: the service provider when the
object was created with `merchant.serviceProviderId`, otherwise the shop (Kit §5.3.2.2).
Each operation takes an optional `SealTrace`, where the seal check it made is left for the
request journal (verdict, sealed string, hint: never a key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..domain import errors, payments, requests, seal
from ..domain.deadlines import PRE_TRANSACTION, TRANSACTION
from ..domain.ids import is_email
from ..domain.merchants import PointOfSale
from ..domain.pre_transactions import ABORTED_MERCHANT, PreTransaction
from ..domain.transactions import CURRENCY, Transaction
from .paying import find_beneficiary
from .ports import StoreSession
from .scheduler import catch_up

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

T = TypeVar("T", Transaction, PreTransaction)


@dataclass(frozen=True)
class Holder:
    """Who owns a key: ("shop", shopId) or ("provider", serviceProviderId)."""

    kind: str
    id: int


class SealTrace:
    """Where an operation leaves the seal check it made (the last one), for its caller to journal."""

    def __init__(self) -> None:
        self.check: seal.SealCheck | None = None


def _holder_pair(holder: Holder | None) -> tuple[str, int] | None:
    return (holder.kind, holder.id) if holder is not None else None


def owner_of(obj: Transaction | PreTransaction) -> Holder:
    if obj.service_provider_id is not None:
        return Holder("provider", obj.service_provider_id)
    return Holder("shop", obj.shop_id)


def _key_of(session: StoreSession, holder: Holder) -> tuple[str, str] | None:
    if holder.kind == "provider":
        sp = session.service_provider(holder.id)
        return (sp.key_version, sp.key) if sp else None
    pos = session.point_of_sale(holder.id)
    return (pos.key_version, pos.key) if pos else None


def verify(session: StoreSession, header: str | None, fields: list[Any], holder: Holder | None,
           trace: SealTrace | None = None) -> None:
    """The seal must be `holder`'s; another holder's valid seal means "not yours" (404)."""
    parsed = seal.parse_security_header(header)
    expected = _holder_pair(holder) if trace is not None else None  # (for the journal only)
    if parsed is None:
        if trace is not None:
            trace.check = seal.diagnose(header, fields, expected, None)
        raise errors.InvalidSeal("the ANCV-Security header is missing or not HmacSHA256.{versionKey}.{seal}")
    key = _key_of(session, holder) if holder is not None else None
    if _verifies(key, parsed, fields):
        if trace is not None:
            trace.check = seal.accepted(parsed, fields, expected)
        return
    others = [p.key for p in session.points_of_sale_with_key_version(parsed.key_version)]
    others += [s.key for s in session.service_providers_with_key_version(parsed.key_version)]
    if any(seal.seal_matches(k, fields, parsed.seal) for k in others):
        if trace is not None:
            # with no holder expected (the object does not exist), any merchant's valid seal is a good seal
            trace.check = (seal.diagnose(header, fields, expected, None, other_holder=True) if holder is not None
                           else seal.SealCheck(seal.OK, parsed.key_version, None, seal.field_names(fields),
                                               seal.seal_message(fields)))
        raise _NotYours()
    if trace is not None:
        trace.check = seal.diagnose(header, fields, expected, key)
    raise errors.InvalidSeal("the seal does not match the expected key and fields")


def require_some_seal(session: StoreSession, header: str | None, fields: list[Any],
                      trace: SealTrace | None = None) -> None:
    """Before saying "not found": the seal must be some merchant's, so ids cannot be probed unsealed."""
    try:
        verify(session, header, fields, None, trace)
    except _NotYours:
        return


class _NotYours(Exception):
    """A valid seal of another merchant: answered as if the object did not exist."""


# --- points of sale ----------------------------------------------------------------------------

def get_point_of_sale(sandbox: Sandbox, shop_id: int, provider_id: int | None, header: str | None,
                      trace: SealTrace | None = None) -> tuple[PointOfSale, Any]:
    """GET /point-of-sales/{shopId}?serviceProviderId= (Kit §4.4.1)."""
    with sandbox.uow() as uow:
        pos = _point_of_sale_for(uow.session, header, seal.point_of_sale_fields(shop_id, provider_id),
                                 shop_id, provider_id, trace)
        return pos, uow.now


def _point_of_sale_for(session: StoreSession, header: str | None, fields: list[Any],
                       shop_id: int, provider_id: int | None, trace: SealTrace | None = None) -> PointOfSale:
    """The active point of sale a call names, once the caller has proven it may use it."""
    holder = Holder("provider", provider_id) if provider_id is not None else Holder("shop", shop_id)
    if holder.kind == "provider" and session.service_provider(holder.id) is None:
        if trace is not None:
            trace.check = seal.diagnose(header, fields, _holder_pair(holder), None,
                                        note="unknown serviceProviderId: no key to check the seal with")
        raise errors.InvalidSeal("unknown serviceProviderId: no key to check the seal with")
    pos = session.point_of_sale(shop_id)
    if pos is None:
        require_some_seal(session, header, fields, trace)
        raise errors.PointOfSaleNotFound(f"no point of sale {shop_id}")
    try:
        verify(session, header, fields, holder, trace)
    except _NotYours:
        raise _wrong_key(session, header, fields, pos, holder) or errors.PointOfSaleNotFound(
            f"no point of sale {shop_id}") from None
    if provider_id is not None and not pos.served_by(provider_id):
        raise errors.PointOfSaleNotFound(f"point of sale {shop_id} is not served by {provider_id}")
    if not pos.is_active:
        raise errors.MerchantNotAllowed(f"point of sale {shop_id} is {pos.status}")
    return pos


def _wrong_key(session: StoreSession, header: str | None, fields: list[Any], pos: PointOfSale,
               holder: Holder) -> errors.InvalidSeal | None:
    """A seal made with the other key of the same caller: INVALID_SEAL saying which key to use (Kit §5.3.2.2).

    Only when the seal proves the caller holds the key it used, and that key is the named shop's own
    or one of its service providers': the answer then tells the caller nothing it does not know.
    Any other holder's seal still finds no point of sale (404), so shops cannot be probed.
    """
    if holder.kind == "provider":
        if _sealed_with(session, header, fields, Holder("shop", pos.shop_id)):
            return errors.InvalidSeal(
                f"serviceProviderId {holder.id} is given, so the seal must use that service provider's key "
                f"(Kit §5.3.2.2); it was made with point of sale {pos.shop_id}'s own key")
        return None
    for provider_id in pos.service_provider_ids:
        if _sealed_with(session, header, fields, Holder("provider", provider_id)):
            return errors.InvalidSeal(
                f"no serviceProviderId is given, so the seal must use point of sale {pos.shop_id}'s own key "
                f"(Kit §5.3.2.2); it was made with service provider {provider_id}'s key: name it in "
                "serviceProviderId to act for the shop")
    return None


def _sealed_with(session: StoreSession, header: str | None, fields: list[Any], holder: Holder) -> bool:
    parsed = seal.parse_security_header(header)
    return parsed is not None and _verifies(_key_of(session, holder), parsed, fields)


def _verifies(key: tuple[str, str] | None, parsed: seal.SecurityHeader, fields: list[Any]) -> bool:
    """Whether `key` (version, key) made the presented seal of these fields."""
    return key is not None and key[0] == parsed.key_version and seal.seal_matches(key[1], fields, parsed.seal)


# --- payment transactions ------------------------------------------------------------------------

def create_transaction(sandbox: Sandbox, body: Any, header: str | None,
                       trace: SealTrace | None = None) -> tuple[Transaction, bool, Any]:
    """POST /payment-transactions: (transaction, created?, now). Same-day duplicate → existing one."""
    new = requests.parse_create_transaction(body)
    f = new.fields
    with sandbox.uow() as uow:
        _point_of_sale_for(uow.session, header, seal.create_transaction_fields(body),
                           f["shop_id"], f["service_provider_id"], trace)
        existing = uow.session.transaction_by_order(f["shop_id"], f["service_provider_id"], uow.now,
                                                    f["order_id"], f["payment_id"])
        if existing is not None:
            return existing, False, uow.now
        tx_id = sandbox.new_id(lambda c: uow.session.transaction(c) is not None)
        tx = Transaction.create(tx_id, uow.now, currency=new.currency,
                                minimum_amount=sandbox.rules.minimumAmountCents, **new.resolve())
        uow.save(tx)
        return tx, True, uow.now


def _owned(uow: UnitOfWork, kind: str, object_id: str, header: str | None, fields: list[Any],
           load: Callable[[str], T | None], not_found: type[errors.KitError], trace: SealTrace | None = None) -> T:
    """The caller's own object, with any deadline it has passed applied; others' look absent."""
    obj = load(object_id) if 0 < len(object_id) <= 10 and object_id.isascii() and object_id.isalnum() else None
    if obj is None:
        require_some_seal(uow.session, header, fields, trace)
        raise not_found(f"no {kind.replace('_', '-')} {object_id}")
    try:
        verify(uow.session, header, fields, owner_of(obj), trace)
    except _NotYours:
        raise not_found(f"no {kind.replace('_', '-')} {object_id}") from None
    if catch_up(uow, kind, object_id):
        obj = load(object_id)
        assert obj is not None
    return obj


def _owned_transaction(uow: UnitOfWork, transaction_id: str, header: str | None, fields: list[Any],
                       trace: SealTrace | None) -> Transaction:
    return _owned(uow, TRANSACTION, transaction_id, header, fields, uow.session.transaction,
                  errors.TransactionNotFound, trace)


def _require_active_shop(uow: UnitOfWork, shop_id: int) -> None:
    pos = uow.session.point_of_sale(shop_id)
    if pos is None or not pos.is_active:
        raise errors.MerchantNotAllowed(f"point of sale {shop_id} is not active")


def set_payer(sandbox: Sandbox, transaction_id: str, body: Any, header: str | None,
              trace: SealTrace | None = None) -> tuple[Transaction, Any]:
    """POST /payment-transactions/{id}/payer (Kit §4.5.2): 202 PROCESSING."""
    command = requests.parse_set_payer(body)
    with sandbox.uow() as uow:
        tx = _owned_transaction(uow, transaction_id, header, seal.payer_fields(transaction_id, body), trace)
        _require_active_shop(uow, tx.shop_id)
        tx.require_initialized()
        amount = command.amount
        ask_payer(uow, tx, command.beneficiary_ref, amount.total if amount else None,
                  amount.currency if amount else CURRENCY)
        return tx, uow.now


def ask_payer(uow: UnitOfWork, tx: Transaction, beneficiary_ref: Any, amount: int | None = None,
              currency: str = CURRENCY) -> None:
    """/payer's rules, for the Kit API and the Espace dédié alike: the beneficiary's app is asked to pay."""
    rules = uow.sandbox.rules
    beneficiary = find_beneficiary(uow, beneficiary_ref)
    pending = uow.session.pending_transaction_of(beneficiary.beneficiary_id)
    payments.start_payment(tx, beneficiary, beneficiary_ref, amount, currency=currency,
                           other_pending=pending is not None, now=uow.now, stalled=rules.stallAcquisition,
                           propose_balance=rules.proposeBalanceWhenShort)
    uow.save(tx)


def get_transaction(sandbox: Sandbox, transaction_id: str, header: str | None,
                    trace: SealTrace | None = None) -> tuple[Transaction, Any]:
    with sandbox.uow() as uow:
        tx = _owned_transaction(uow, transaction_id, header, seal.transaction_id_fields(transaction_id), trace)
        return tx, uow.now


def execute(sandbox: Sandbox, transaction_id: str, body: Any, header: str | None,
            trace: SealTrace | None = None) -> tuple[Transaction, Any]:
    """POST /payment-transactions/{id}/execute (Kit §4.5.4)."""
    command = requests.parse_execute(body)
    with sandbox.uow() as uow:
        tx = _owned_transaction(uow, transaction_id, header, seal.transaction_id_fields(transaction_id), trace)
        beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
        payers = None
        if command.payers is not None:
            payers = [(ref, [(number, money.total) for number, money in auths]) for ref, auths in command.payers]
        payments.execute(tx, beneficiary, command.amount.total, uow.now, currency=command.amount.currency,
                         payers=payers)
        uow.save(tx)
        if beneficiary is not None:
            uow.save(beneficiary)
        return tx, uow.now


def cancel(sandbox: Sandbox, transaction_id: str, body: Any, header: str | None,
           trace: SealTrace | None = None) -> tuple[Transaction, bool, Any]:
    """POST /payment-transactions/{id}/cancellation (Kit §4.5.5): (tx, changed?, now)."""
    command = requests.parse_reason(body)
    with sandbox.uow() as uow:
        tx = _owned_transaction(uow, transaction_id, header, seal.cancellation_fields(transaction_id, body), trace)
        beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
        changed = payments.cancel(tx, beneficiary, command.reason, command.label, uow.now)
        if changed:
            uow.save(tx)
            if beneficiary is not None:
                uow.save(beneficiary)
        return tx, changed, uow.now


# --- pre-transactions -------------------------------------------------------------------------------

def create_pre_transaction(sandbox: Sandbox, body: Any, header: str | None,
                           trace: SealTrace | None = None) -> tuple[PreTransaction, bool, Any]:
    """POST /pre-transactions (Kit §4.6.1)."""
    new = requests.parse_create_pre_transaction(body)
    f = new.fields
    with sandbox.uow() as uow:
        _point_of_sale_for(uow.session, header, seal.create_pre_transaction_fields(body),
                           f["shop_id"], f["service_provider_id"], trace)
        existing = uow.session.pre_transaction_by_order(f["shop_id"], f["service_provider_id"], uow.now,
                                                        f["order_id"], f["pre_payment_id"])
        if existing is not None:
            return existing, False, uow.now
        pre_id = sandbox.new_id(lambda c: uow.session.pre_transaction(c) is not None)
        pre = PreTransaction.create(pre_id, uow.now, currency=new.currency,
                                    minimum_amount=sandbox.rules.minimumAmountCents, **new.resolve())
        uow.save(pre)
        return pre, True, uow.now


def _owned_pre_transaction(uow: UnitOfWork, pre_id: str, header: str | None, fields: list[Any],
                           trace: SealTrace | None) -> PreTransaction:
    return _owned(uow, PRE_TRANSACTION, pre_id, header, fields, uow.session.pre_transaction,
                  errors.PreTransactionNotFound, trace)


def get_pre_transaction(sandbox: Sandbox, pre_id: str, header: str | None,
                        trace: SealTrace | None = None) -> tuple[PreTransaction, Any]:
    with sandbox.uow() as uow:
        return _owned_pre_transaction(uow, pre_id, header, seal.pre_transaction_id_fields(pre_id), trace), uow.now


def qr_code(sandbox: Sandbox, pre_id: str, header: str | None, *, acceptable: bool = True,
            trace: SealTrace | None = None) -> tuple[bytes, str]:
    """GET /pre-transactions/{id}/qr-code (Kit §4.6.2): (PNG bytes, the URL it encodes)."""
    with sandbox.uow() as uow:
        pre = _owned_pre_transaction(uow, pre_id, header, seal.pre_transaction_id_fields(pre_id), trace)
        if not acceptable:  # checked before anything changes
            raise errors.NotAcceptable("Accept must allow image/png or text/plain")
        pre.show_qr_code(uow.now, activates=sandbox.rules.qrCodeActivatesRequest)
        uow.save(pre)
    return sandbox.qr_png(pre_id), sandbox.payment_url(pre_id)


def contact(sandbox: Sandbox, pre_id: str, body: Any, header: str | None,
            trace: SealTrace | None = None) -> tuple[PreTransaction, Any]:
    """POST /pre-transactions/{id}/contact (Kit §4.6.4): email the request or push it to the app."""
    command = requests.parse_contact(body)
    with sandbox.uow() as uow:
        pre = _owned_pre_transaction(uow, pre_id, header, seal.contact_fields(pre_id, body), trace)
        if command.email is not None:
            if not is_email(command.email):
                raise errors.BadRequest("contact must be an email address")
            pre.send_to(uow.now, email=command.email)
            uow.save(pre)
        else:
            beneficiary = find_beneficiary(uow, command.beneficiary_ref)
            pre.send_to(uow.now, beneficiary_id=beneficiary.beneficiary_id)
            uow.save(pre)
        return pre, uow.now


def abort(sandbox: Sandbox, pre_id: str, body: Any, header: str | None,
          trace: SealTrace | None = None) -> tuple[PreTransaction, Any]:
    """POST /pre-transactions/{id}/abort (Kit §4.6.5): only the merchant's ABORTED_MERCHANT."""
    command = requests.parse_reason(body)
    if command.reason != ABORTED_MERCHANT:
        raise errors.BadRequest("reason must be ABORTED_MERCHANT")
    with sandbox.uow() as uow:
        pre = _owned_pre_transaction(uow, pre_id, header, seal.abort_fields(pre_id, body), trace)
        tx = uow.session.transaction(pre.current_transaction_id) if pre.current_transaction_id else None
        pre.abort_by(command.reason, command.label, uow.now)
        if tx is not None and tx.cancellable(uow.now):  # the payment in progress is withdrawn with it
            beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
            payments.cancel(tx, beneficiary, "OTHER", command.label, uow.now)
            uow.save(tx)
            if beneficiary is not None:
                uow.save(beneficiary)
        pre.current_transaction_id = None
        uow.save(pre)
        return pre, uow.now
