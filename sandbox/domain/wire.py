"""The Kit's JSON shapes (Kit §4.4–4.6, §6.2), built from the entities.

One place for the wire format: API responses and webhook bodies both come from here.
Keys keep the Kit's order; absent optional values are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .dates import format_date
from .merchants import PointOfSale
from .pre_transactions import PreTransaction
from .transactions import CURRENCY, Transaction


def amount_json(total: int, **extra: int) -> dict[str, Any]:
    return {"total": total, **extra, "currency": CURRENCY}


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _merchant(obj: Transaction | PreTransaction) -> dict[str, Any]:
    return _without_none({
        "shopId": obj.shop_id,
        "shopAssistantId": obj.shop_assistant_id,
        "terminalId": obj.terminal_id,
        "serviceProviderId": obj.service_provider_id,
    })


def _redirect_urls(obj: Transaction | PreTransaction) -> dict[str, Any] | None:
    if not obj.has_redirect_urls:
        return None
    return _without_none({"returnUrl": obj.return_url, "cancelUrl": obj.cancel_url})


def transaction_json(tx: Transaction) -> dict[str, Any]:
    payment_method = _without_none({
        "captureMode": tx.capture_mode,
        "tspdMode": tx.tspd_mode,
        "captureDate": format_date(tx.capture_date),
    })
    data: dict[str, Any] = {
        "id": tx.transaction_id,
        "creationDate": format_date(tx.creation_date),
        "updateDate": format_date(tx.update_date),
        "expirationDate": format_date(tx.expiration_date),
        "state": tx.state,
    }
    if tx.sub_state:
        data["subState"] = tx.sub_state
    data["merchant"] = _merchant(tx)
    data["order"] = _without_none({
        "id": tx.order_id,
        "paymentId": tx.payment_id,
        "label": tx.label,
        "amount": amount_json(tx.amount),
    })
    data["paymentMethod"] = payment_method
    redirect_urls = _redirect_urls(tx)
    if redirect_urls is not None:
        data["redirectUrls"] = redirect_urls
    if tx.payer is not None:
        payer: dict[str, Any] = {"beneficiaryId": tx.payer.beneficiary_ref, "amount": amount_json(tx.payer.asked)}
        if tx.authorization is not None:
            auth = tx.authorization
            payer["authorizations"] = [{
                "number": auth.number,
                "type": auth.type,
                "amount": amount_json(auth.amount),
                "validationDate": format_date(auth.validation_date),
                "holder": auth.holder,
            }]
        data["payers"] = [payer]
    if tx.cancellation is not None:
        data["cancellation"] = _without_none({
            "effectiveDate": format_date(tx.cancellation.effective_date),
            "reason": tx.cancellation.reason,
            "label": tx.cancellation.label,
        })
    if tx.refunds:
        data["refunds"] = [{
            "amount": amount_json(r.total, net=r.net, fee=r.fee),
            "effectiveDate": format_date(r.effective_date),
            "type": r.type,
        } for r in tx.refunds]
    return data


def pre_transaction_json(pre: PreTransaction) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": pre.pre_transaction_id,
        "creationDate": format_date(pre.creation_date),
        "updateDate": format_date(pre.update_date),
        "expirationDate": format_date(pre.expiration_date),
        "state": pre.state,
    }
    if pre.validated_payment_transaction_id:
        data["validatedPaymentTransactionId"] = pre.validated_payment_transaction_id
    data["merchant"] = _merchant(pre)
    data["order"] = _without_none({
        "id": pre.order_id,
        "prePaymentId": pre.pre_payment_id,
        "label": pre.label,
        "amount": amount_json(pre.amount),
    })
    data["paymentMethod"] = _without_none({
        "captureMode": pre.capture_mode,
        "captureTerm": pre.capture_term,
        "tspdMode": pre.tspd_mode,
    })
    redirect_urls = _redirect_urls(pre)
    if redirect_urls is not None:
        data["redirectUrls"] = redirect_urls
    if pre.abort is not None:
        data["abort"] = _without_none({
            "effectiveDate": format_date(pre.abort.effective_date),
            "reason": pre.abort.reason,
            "label": pre.abort.label,
        })
    return data


def point_of_sale_json(pos: PointOfSale) -> dict[str, Any]:
    return {
        "name": pos.name,
        "ptlBusinessId": int(pos.convention_id),
        "acquirerBusinessId": 1,
        "businessId": 1,
        "shopId": pos.shop_id,
        "status": pos.status,
    }


def envelope(key: str, obj: dict[str, Any], application_context: dict[str, Any] | None,
             now: datetime) -> dict[str, Any]:
    """`{transaction|preTransaction, applicationContext?, responseDate}`: responses and webhooks."""
    body: dict[str, Any] = {key: obj}
    if application_context:
        body["applicationContext"] = application_context
    body["responseDate"] = format_date(now)
    return body


def transaction_envelope(tx: Transaction, now: datetime) -> dict[str, Any]:
    return envelope("transaction", transaction_json(tx), tx.application_context, now)


def pre_transaction_envelope(pre: PreTransaction, now: datetime) -> dict[str, Any]:
    return envelope("preTransaction", pre_transaction_json(pre), pre.application_context, now)


def act_json(transaction: Transaction | None, pre_transaction: PreTransaction | None, now: datetime) -> dict[str, Any]:
    """What the beneficiary's app changed (`POST /_sandbox/beneficiaries/{id}/act`)."""
    body: dict[str, Any] = {}
    if transaction is not None:
        body["transaction"] = transaction_json(transaction)
    if pre_transaction is not None:
        body["preTransaction"] = pre_transaction_json(pre_transaction)
    body["responseDate"] = format_date(now)
    return body
