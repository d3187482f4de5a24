"""What the outside world is told when something happens: webhooks (Kit §5.1) and emails.

Transaction: returnUrl on AUTHORIZED; cancelUrl on REJECTED and ABORTED. Nothing on
VALIDATED, CANCELLED, CONSIGNED, PAID. Pre-transaction: cancelUrl when it expires or the
beneficiary refuses it. The body is the object as `GET` would show it after the change.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.store import StoreSession
from ..domain import wire
from ..domain.accounts import MerchantAccount
from ..domain.events import Event
from ..domain.pre_transactions import ABORTED_BENEFICIARY, PreTransaction
from ..domain.transactions import Transaction
from . import emails

if TYPE_CHECKING:
    from .sandbox import Sandbox

RETURN_URL_EVENTS = {"TransactionAuthorized"}
CANCEL_URL_EVENTS = {"TransactionRejected", "TransactionAborted"}


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
    for event in events:
        tx = latest.get(f"Transaction:{event.ref}")
        pre = latest.get(f"PreTransaction:{event.ref}")
        account = latest.get(f"MerchantAccount:{event.ref}")
        if isinstance(tx, Transaction):
            plans.extend(_for_transaction(event, tx, now))
        elif isinstance(pre, PreTransaction):
            plans.extend(_for_pre_transaction(event, pre, now, sandbox, session))
        elif isinstance(account, MerchantAccount) and event.name == "MerchantPasswordResetRequested":
            assert account.reset_token is not None
            from .merchant_accounts import reset_link

            message = emails.password_reset(account, reset_link(sandbox, account.reset_token))
            plans.append(Plan("email", account.email, subject=message.subject, text=message.text, html=message.html))
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
    ended = event.name == "PreTransactionExpired" or (
        event.name == "PreTransactionAborted" and event.data.get("reason") == ABORTED_BENEFICIARY)
    if ended and pre.cancel_url:
        plans.append(Plan("webhook", pre.cancel_url, wire.pre_transaction_envelope(pre, now)))
    if event.name == "PreTransactionProcessing" and event.data.get("contact"):
        png = sandbox.qr_png(pre.pre_transaction_id)
        pos = session.point_of_sale(pre.shop_id)
        message = emails.payment_request(pre, sandbox.payment_url(pre.pre_transaction_id),
                                         base64.b64encode(png).decode("ascii"), pos.name if pos else str(pre.shop_id))
        plans.append(Plan("email", event.data["contact"], subject=message.subject, text=message.text,
                          html=message.html))
    return plans
