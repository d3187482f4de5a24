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
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..domain import errors, wire
from ..domain.accounts import MerchantAccount
from ..domain.events import Event
from ..domain.pre_transactions import ABORTED_BENEFICIARY, PROCESSING, PreTransaction
from ..domain.transactions import DEFERRED, Transaction
from . import emails, reminders
from .ports import StoreSession

if TYPE_CHECKING:
    from .sandbox import Sandbox

RETURN_URL_EVENTS = {"TransactionAuthorized"}
CANCEL_URL_EVENTS = {"TransactionRejected", "TransactionAborted"}
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


def plan(events: list[Event], saved: list[Any], now: datetime, sandbox: Sandbox,
         session: StoreSession) -> list[Plan]:
    latest: dict[str, Any] = {}
    for entity in saved:
        key = (getattr(entity, "transaction_id", None) or getattr(entity, "pre_transaction_id", None)
               or getattr(entity, "login", None))
        if key:
            latest[f"{type(entity).__name__}:{key}"] = entity
    plans: list[Plan] = []
    batch = _Batch(sandbox, session, latest, {e.ref for e in events if _request_ended(e)})
    for event in events:
        tx = latest.get(f"Transaction:{event.ref}")
        pre = latest.get(f"PreTransaction:{event.ref}")
        account = latest.get(f"MerchantAccount:{event.ref}")
        if event.name == reminders.REMINDER_DUE:
            plans.extend(_reminder(event, batch))
        elif isinstance(tx, Transaction):
            plans.extend(_for_transaction(event, tx, now))
            plans.extend(_transaction_emails(event, tx, batch))
        elif isinstance(pre, PreTransaction):
            plans.extend(_for_pre_transaction(event, pre, now, sandbox, session))
            plans.extend(_request_emails(event, pre, batch))
        elif isinstance(account, MerchantAccount) and event.name == "MerchantPasswordResetRequested":
            assert account.reset_token is not None
            from .merchant_accounts import reset_link

            plans.append(_email(account.email, emails.password_reset(account, reset_link(sandbox, account.reset_token))))
    return plans


def _for_transaction(event: Event, tx: Transaction, now: datetime) -> list[Plan]:
    if event.name in RETURN_URL_EVENTS and tx.return_url:
        return [Plan("webhook", tx.return_url, wire.transaction_envelope(tx, now))]
    if event.name in CANCEL_URL_EVENTS and tx.cancel_url:
        return [Plan("webhook", tx.cancel_url, wire.transaction_envelope(tx, now))]
    return []


def _for_pre_transaction(event: Event, pre: PreTransaction, now: datetime, sandbox: Sandbox,
                         session: StoreSession) -> list[Plan]:
    plans = []
    ended = _request_ended(event)
    if ended and pre.cancel_url:
        plans.append(Plan("webhook", pre.cancel_url, wire.pre_transaction_envelope(pre, now)))
    if event.name == "PreTransactionProcessing" and event.data.get("contact"):
        png = sandbox.qr_png(pre.pre_transaction_id)
        pos = session.point_of_sale(pre.shop_id)
        url = sandbox.payment_url(pre.pre_transaction_id)
        message = emails.payment_request(pre, url, base64.b64encode(png).decode("ascii"),
                                         pos.name if pos else str(pre.shop_id), _app_link(sandbox, url))
        plans.append(_email(event.data["contact"], message))
    return plans


def _app_link(sandbox: Sandbox, payment_url: str) -> str:
    """The email's link: the App' Chèque-Vacances's scanner with the request's address, to pay with "Payer"
    (the Kit's QR address itself answers only sealed calls, not a person's browser)."""
    return f"{sandbox.settings.public_url.rstrip('/')}{APP_SCANNER_PATH}?{urlencode({'url': payment_url})}"


def _request_ended(event: Event) -> bool:
    """A payment request expired, or its beneficiary refused it."""
    return event.name == "PreTransactionExpired" or _refused(event)


def _refused(event: Event) -> bool:
    """The beneficiary refused a payment request in the app."""
    return event.name == "PreTransactionAborted" and event.data.get("reason") == ABORTED_BENEFICIARY


def _email(to: str, message: emails.Message) -> Plan:
    return Plan("email", to, subject=message.subject, text=message.text, html=message.html)


@dataclass(frozen=True)
class _Batch:
    """What the emails of one unit of work look things up in."""

    sandbox: Sandbox
    session: StoreSession
    latest: dict[str, Any]
    ended_requests: set[str]  # payment requests refused or expired in this unit of work (their own email)

    def link(self, path: str) -> str:
        return self.sandbox.settings.public_url.rstrip("/") + path

    def request_of(self, tx: Transaction) -> PreTransaction | None:
        if not tx.pre_transaction_id:
            return None
        pre = self.latest.get(f"PreTransaction:{tx.pre_transaction_id}")
        return pre if isinstance(pre, PreTransaction) else self.session.pre_transaction(tx.pre_transaction_id)

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
        pos = self.session.point_of_sale(shop_id)
        return pos.name if pos else str(shop_id)


def _transaction_emails(event: Event, tx: Transaction, batch: _Batch) -> list[Plan]:
    plans = []
    portal = batch.link(PORTAL_LOGIN_PATH)
    if tx.merchant_email:
        message = None
        if event.name == "TransactionAuthorized":
            message = emails.transaction_validated(tx, batch.identifier(tx), portal)
        elif tx.pre_transaction_id in batch.ended_requests:
            pass  # the request's refusal or expiry is the one email (below)
        elif event.name == "TransactionRejected":
            message = emails.payment_rejected(tx, portal, batch.retry_until(tx))
        elif event.name == "TransactionAborted":
            message = emails.payment_abandoned(tx, portal, batch.retry_until(tx))
        if message is not None:
            plans.append(_email(tx.merchant_email, message))
    confirmed = event.name == "TransactionValidated" and tx.capture_mode == DEFERRED
    cancelled = event.name == "TransactionCancelled" and tx.authorization is not None  # the client had paid
    if (confirmed or cancelled) and tx.beneficiary_id:
        beneficiary = batch.session.beneficiary(tx.beneficiary_id)
        if beneficiary is not None and beneficiary.email:
            tell = emails.deferred_payment_confirmed if confirmed else emails.payment_cancelled
            plans.append(_email(beneficiary.email, tell(tx, beneficiary.first_name, batch.merchant_name(tx.shop_id))))
    return plans


def _request_emails(event: Event, pre: PreTransaction, batch: _Batch) -> list[Plan]:
    if not pre.merchant_email:
        return []
    portal = batch.link(PORTAL_LOGIN_PATH)
    if _refused(event):
        return [_email(pre.merchant_email, emails.payment_refused(pre, portal))]
    if event.name == "PreTransactionExpired":
        return [_email(pre.merchant_email, emails.request_expired(pre, portal))]
    return []


def _reminder(event: Event, batch: _Batch) -> list[Plan]:
    tx = batch.session.transaction(event.ref)
    if tx is None or not event.data.get("to"):
        return []
    link = batch.link(PORTAL_OPERATION_PATH + tx.transaction_id)
    return [_email(event.data["to"], emails.validation_reminder(tx, link))]


class UnknownDelivery(errors.KitError):
    status, code, message = 404, "UNKNOWN_WEBHOOK", "No such webhook delivery"


def resend_webhook(sandbox: Sandbox, delivery_id: int) -> dict[str, Any]:
    """Post a recorded webhook delivery again, with its retries (Stripe's `events resend`); on the timeline."""
    with sandbox.uow() as uow:
        delivery = next((d for d in uow.session.webhooks() if d["id"] == delivery_id), None)
        if delivery is None:
            raise UnknownDelivery(f"no webhook delivery {delivery_id}")
        uow.session.record_webhook_attempts(delivery_id, "pending", delivery["attempts"])
        uow.record("WebhookResent", str(delivery_id), url=delivery["url"])
    delivery["state"] = "pending"
    sandbox.sender.resend(delivery)
    return delivery
