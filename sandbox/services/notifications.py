"""What the outside world is told when something happens: webhooks (Kit §5.1) and emails.

Transaction: returnUrl on AUTHORIZED; cancelUrl on REJECTED and ABORTED. Nothing on
VALIDATED, CANCELLED, CONSIGNED, PAID. Pre-transaction: cancelUrl when it expires or the
beneficiary refuses it. The body is the object as `GET` would show it after the change.

Emails (SPEC §8), in French, texts in emails.py:
- to the merchant, when the payment carries a `merchant_email` (Espace dédié): the client
  confirmed (AUTHORIZED, "LA TRANSACTION A ÉTÉ VALIDÉE"), abandoned, was rejected, refused
  the request, or the request expired unpaid; and the 24 h reminder of reminders.py;
- to the client (the payer's account email): a pre-booking confirmed by the merchant
  (DEFERRED → VALIDATED), a payment cancelled after authorization (re-credited);
- payment requests sent by `/contact`, password reset links.

Each function below plans what one event sends; `handlers.NOTIFICATIONS` says which event
sends what. They run once the unit of work's handlers are done, over all its events at once
(a request refused or expired sends its own email, not its payment's too).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..domain import errors, events, wire
from ..domain.accounts import MerchantAccount
from ..domain.events import Event
from ..domain.pre_transactions import ABORTED_BENEFICIARY, PROCESSING, PreTransaction
from ..domain.transactions import DEFERRED, Transaction
from . import emails
from .merchant_accounts import reset_link

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

PORTAL_LOGIN_PATH = "/espace-ptl/connexion"
PORTAL_OPERATION_PATH = "/espace-ptl/encaissement/operations/"
APP_SCANNER_PATH = "/app/scanner"


@dataclass(frozen=True)
class Plan:
    kind: str  # "webhook" or "email"
    to: str
    body: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    text: str = ""
    html: str = ""


@dataclass(frozen=True)
class Batch:
    """One unit of work's events, as the planners see them."""

    uow: UnitOfWork
    ended_requests: set[str]  # payment requests refused or expired in this unit of work (their own email)

    def saved(self, kind: type, ref: str) -> Any:
        """The entity an event is about, as this unit of work saved it (None for an event with none)."""
        return self.uow.saved(kind, ref)

    def link(self, path: str) -> str:
        return self.uow.sandbox.settings.public_url.rstrip("/") + path

    def request_of(self, tx: Transaction) -> PreTransaction | None:
        return self.uow.pre_transaction(tx.pre_transaction_id) if tx.pre_transaction_id else None

    def identifier(self, tx: Transaction) -> str:
        """The client as the merchant named them: the request's contact, else the payer as given."""
        pre = self.request_of(tx)
        if pre is not None and (pre.contact or pre.contact_beneficiary_id):
            return str(pre.contact or pre.contact_beneficiary_id)
        return str(tx.payer.beneficiary_ref) if tx.payer else ""

    def retry_until(self, tx: Transaction) -> datetime | None:
        """When a failed payment's request can still be paid, until when."""
        pre = self.request_of(tx)
        return pre.expiration_date if pre is not None and pre.state == PROCESSING else None

    def merchant_name(self, shop_id: int) -> str:
        pos = self.uow.session.point_of_sale(shop_id)
        return pos.name if pos else str(shop_id)


Planner = Callable[[Event, Batch], list[Plan]]


def plan(uow: UnitOfWork, table: Mapping[str, Sequence[Planner]], happened: list[Event]) -> list[Plan]:
    """Everything these events send, in their order, each event's as `table` lists them."""
    for event in happened:  # (a loop, not any(): this runs on every commit)
        if table.get(event.name):
            break
    else:
        return []  # most units of work send nothing: no batch to make
    batch = Batch(uow, {e.ref for e in happened if _request_ended(e)})
    return [p for event in happened for planner in table.get(event.name, ()) for p in planner(event, batch)]


def _email(to: str, message: emails.Message) -> Plan:
    return Plan("email", to, subject=message.subject, text=message.text, html=message.html)


def _request_ended(event: Event) -> bool:
    """A payment request expired, or its beneficiary refused it."""
    return event.name == events.PRE_TRANSACTION_EXPIRED or _refused(event)


def _refused(event: Event) -> bool:
    """The beneficiary refused a payment request in the app."""
    return event.name == events.PRE_TRANSACTION_ABORTED and event.data.get("reason") == ABORTED_BENEFICIARY


# --- webhooks (Kit §5.1) ------------------------------------------------------------------------------

def to_return_url(event: Event, batch: Batch) -> list[Plan]:
    tx = batch.saved(Transaction, event.ref)
    if tx is None or not tx.return_url:
        return []
    return [Plan("webhook", tx.return_url, wire.transaction_envelope(tx, batch.uow.now))]


def to_cancel_url(event: Event, batch: Batch) -> list[Plan]:
    tx = batch.saved(Transaction, event.ref)
    if tx is None or not tx.cancel_url:
        return []
    return [Plan("webhook", tx.cancel_url, wire.transaction_envelope(tx, batch.uow.now))]


def request_to_cancel_url(event: Event, batch: Batch) -> list[Plan]:
    pre = batch.saved(PreTransaction, event.ref)
    if pre is None or not pre.cancel_url or not _request_ended(event):
        return []
    return [Plan("webhook", pre.cancel_url, wire.pre_transaction_envelope(pre, batch.uow.now))]


# --- emails to the merchant ------------------------------------------------------------------------

def merchant_told_paid(event: Event, batch: Batch) -> list[Plan]:
    """The client confirmed: "LA TRANSACTION A ÉTÉ VALIDÉE"."""
    tx = batch.saved(Transaction, event.ref)
    if tx is None or not tx.merchant_email:
        return []
    return [_email(tx.merchant_email, emails.transaction_validated(tx, batch.identifier(tx),
                                                                   batch.link(PORTAL_LOGIN_PATH)))]


def merchant_told_failed(event: Event, batch: Batch) -> list[Plan]:
    """The payment was rejected or abandoned, unless its request's refusal or expiry says it (its own email)."""
    tx = batch.saved(Transaction, event.ref)
    if tx is None or not tx.merchant_email or tx.pre_transaction_id in batch.ended_requests:
        return []
    tell = emails.payment_rejected if event.name == events.TRANSACTION_REJECTED else emails.payment_abandoned
    return [_email(tx.merchant_email, tell(tx, batch.link(PORTAL_LOGIN_PATH), batch.retry_until(tx)))]


def merchant_told_request_ended(event: Event, batch: Batch) -> list[Plan]:
    pre = batch.saved(PreTransaction, event.ref)
    if pre is None or not pre.merchant_email or not _request_ended(event):
        return []
    portal = batch.link(PORTAL_LOGIN_PATH)
    message = emails.payment_refused(pre, portal) if _refused(event) else emails.request_expired(pre, portal)
    return [_email(pre.merchant_email, message)]


def merchant_reminded(event: Event, batch: Batch) -> list[Plan]:
    """A pre-booking's validation deadline is 24 h away (reminders.py)."""
    tx = batch.uow.session.transaction(event.ref)
    if tx is None or not event.data.get("to"):
        return []
    link = batch.link(PORTAL_OPERATION_PATH + tx.transaction_id)
    return [_email(event.data["to"], emails.validation_reminder(tx, link))]


def password_reset_link(event: Event, batch: Batch) -> list[Plan]:
    account = batch.saved(MerchantAccount, event.ref)
    if account is None:
        return []
    assert account.reset_token is not None
    return [_email(account.email, emails.password_reset(account, reset_link(batch.uow.sandbox, account.reset_token)))]


# --- emails to the client -----------------------------------------------------------------------------

def client_asked_to_pay(event: Event, batch: Batch) -> list[Plan]:
    """A payment request sent by email (`/contact`, parcours B and D): its QR code and a link to pay."""
    pre = batch.saved(PreTransaction, event.ref)
    if pre is None or not event.data.get("contact"):
        return []
    sandbox = batch.uow.sandbox
    png = sandbox.qr_png(pre.pre_transaction_id)
    url = sandbox.payment_url(pre.pre_transaction_id)
    message = emails.payment_request(pre, url, base64.b64encode(png).decode("ascii"),
                                     batch.merchant_name(pre.shop_id), _app_link(sandbox, url))
    return [_email(event.data["contact"], message)]


def _app_link(sandbox: Sandbox, payment_url: str) -> str:
    """The email's link: the App' Chèque-Vacances's scanner with the request's address, to pay with "Payer"
    (the Kit's QR address itself answers only sealed calls, not a person's browser)."""
    return f"{sandbox.settings.public_url.rstrip('/')}{APP_SCANNER_PATH}?{urlencode({'url': payment_url})}"


def client_told_confirmed(event: Event, batch: Batch) -> list[Plan]:
    """A pre-booking the merchant validated (DEFERRED → VALIDATED)."""
    tx = batch.saved(Transaction, event.ref)
    if tx is None or tx.capture_mode != DEFERRED:
        return []
    return _to_client(tx, batch, emails.deferred_payment_confirmed)


def client_told_cancelled(event: Event, batch: Batch) -> list[Plan]:
    """A payment cancelled after the client paid: re-credited."""
    tx = batch.saved(Transaction, event.ref)
    if tx is None or tx.authorization is None:
        return []
    return _to_client(tx, batch, emails.payment_cancelled)


def _to_client(tx: Transaction, batch: Batch, tell: Callable[[Transaction, str, str], emails.Message]) -> list[Plan]:
    beneficiary = batch.uow.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
    if beneficiary is None or not beneficiary.email:
        return []
    return [_email(beneficiary.email, tell(tx, beneficiary.first_name, batch.merchant_name(tx.shop_id)))]


class UnknownDelivery(errors.KitError):
    status, code, message = 404, "UNKNOWN_WEBHOOK", "No such webhook delivery"


def resend_webhook(sandbox: Sandbox, delivery_id: int) -> dict[str, Any]:
    """Post a recorded webhook delivery again, with its retries (Stripe's `events resend`); on the timeline."""
    with sandbox.uow() as uow:
        delivery = next((d for d in uow.session.webhooks() if d["id"] == delivery_id), None)
        if delivery is None:
            raise UnknownDelivery(f"no webhook delivery {delivery_id}")
        uow.session.record_webhook_attempts(delivery_id, "pending", delivery["attempts"])
        uow.record(events.WEBHOOK_RESENT, str(delivery_id), url=delivery["url"])
    delivery["state"] = "pending"
    sandbox.sender.resend(delivery)
    return delivery
