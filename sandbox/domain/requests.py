"""Kit request bodies turned into commands, with the Kit's field rules (Kit §6.2).

Structural faults (not an object, wrong type, missing, too long) are `BAD_REQUEST`;
business rules (amounts, currency, modes, dates) are checked by the entities and give
the Kit's 412 codes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from . import errors
from .dates import parse_date

CUSTOMER_ID_RE = re.compile(r"^[A-Za-z0-9]{1,34}$")
URL_RE = re.compile(r"^https?://[^\s]+$")


class Fields:
    """Typed access to one JSON object of a request, naming the path in every error."""

    def __init__(self, data: Any, path: str = "body") -> None:
        if not isinstance(data, dict):
            raise errors.BadRequest(f"{path} must be a JSON object")
        self.data, self.path = data, path

    def _missing(self, name: str, required: bool) -> bool:
        if self.data.get(name) is None:
            if required:
                raise errors.BadRequest(f"{self.path}.{name} is required")
            return True
        return False

    def obj(self, name: str, required: bool = True) -> Fields | None:
        if self._missing(name, required):
            return None
        return Fields(self.data[name], f"{self.path}.{name}")

    def string(self, name: str, max_length: int, required: bool = True) -> str | None:
        if self._missing(name, required):
            return None
        value = self.data[name]
        if not isinstance(value, str):
            raise errors.BadRequest(f"{self.path}.{name} must be a string")
        if required and value == "":
            raise errors.BadRequest(f"{self.path}.{name} must not be empty")
        if len(value) > max_length:
            raise errors.BadRequest(f"{self.path}.{name} is longer than {max_length} characters")
        return value

    def integer(self, name: str, required: bool = True) -> int | None:
        if self._missing(name, required):
            return None
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.BadRequest(f"{self.path}.{name} must be an integer")
        if abs(value) > 2**63 - 1:
            raise errors.BadRequest(f"{self.path}.{name} is out of range")
        return value

    def date(self, name: str, required: bool = False) -> datetime | None:
        text = self.string(name, 64, required)
        if text is None:
            return None
        try:
            return parse_date(text)
        except ValueError as exc:
            raise errors.BadRequest(f"{self.path}.{name}: {exc}") from None

    def url(self, name: str) -> str | None:
        value = self.string(name, 512, required=False)
        if value is not None and not URL_RE.match(value):
            raise errors.BadRequest(f"{self.path}.{name} must be an http(s) URL")
        if value is not None and (address := link_local_address(value)) is not None:
            raise errors.BadRequest(f"{self.path}.{name} must not point to a link-local address ({address}): "
                                    "cloud metadata services live there")
        return value


# Cloud metadata services: 169.254.169.254 (in 169.254.0.0/16), AWS's fd00:ec2::254, and IPv6 link-local.
URLS_KEPT = 1 << 10
METADATA_NETWORKS = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
                     ipaddress.ip_network("fd00:ec2::254/128"))


@lru_cache(maxsize=URLS_KEPT)
def link_local_address(url: str) -> str | None:
    """The link-local or metadata address an http(s) URL's host names literally, if it does; an IPv4
    address may be written as one number or in hex or octal parts, which HTTP clients also accept.
    (Kept per URL: an integrator sends the same few, and telling a name from an address costs two
    failed parses.)"""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    address = _ip_literal(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address is not None and any(address in network for network in METADATA_NETWORKS):
        return str(address)
    return None


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and host.isascii() and all(part for part in host.split(".")) and host.count(".") <= 3:
        try:  # inet_aton's forms: 2852039166, 0xa9fea9fe, 169.254.43518, 0251.0376.0251.0376
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Money:
    total: int
    currency: str


def money(parent: Fields, name: str = "amount", required: bool = True) -> Money | None:
    amount = parent.obj(name, required)
    if amount is None:
        return None
    total = amount.integer("total")
    currency = amount.string("currency", 3)
    assert total is not None and currency is not None
    return Money(total, currency)


def _merchant(body: Fields) -> dict[str, Any]:
    merchant = body.obj("merchant")
    assert merchant is not None
    return {
        "shop_id": merchant.integer("shopId"),
        "service_provider_id": merchant.integer("serviceProviderId", required=False),
        "shop_assistant_id": merchant.string("shopAssistantId", 50, required=False),
        "terminal_id": merchant.string("terminalId", 50, required=False),
    }


def _redirect_urls(body: Fields) -> dict[str, Any]:
    urls = body.obj("redirectUrls", required=False)
    if urls is None:
        return {"return_url": None, "cancel_url": None, "has_redirect_urls": False}
    return {"return_url": urls.url("returnUrl"), "cancel_url": urls.url("cancelUrl"), "has_redirect_urls": True}


def _application_context(body: Fields) -> dict[str, Any] | None:
    context = body.obj("applicationContext", required=False)
    if context is None:
        return None
    return_context = context.string("returnContext", 512, required=False)
    customer_id = context.string("customerId", 34, required=False)
    if customer_id and not CUSTOMER_ID_RE.match(customer_id):
        raise errors.BadRequest("applicationContext.customerId must be 1 to 34 letters or digits")
    result: dict[str, Any] = {}
    if return_context is not None:
        result["returnContext"] = return_context
    if customer_id is not None:
        result["customerId"] = customer_id
    return result


def _request_date(body: Fields) -> None:
    body.date("requestDate")


def _payment_method(body: Fields) -> tuple[Fields, dict[str, Any]]:
    method = body.obj("paymentMethod")
    assert method is not None
    capture_mode = method.string("captureMode", 16)
    if capture_mode not in ("NORMAL", "DEFERRED"):
        raise errors.BadRequest("paymentMethod.captureMode must be NORMAL or DEFERRED")
    return method, {"capture_mode": capture_mode, "tspd_mode": method.string("tspdMode", 3)}


DATE_ERRORS: dict[str, type[errors.KitError]] = {
    "capture_date": errors.InvalidCaptureDate,
    "expiration_date": errors.InvalidExpirationDate,
}


@dataclass(frozen=True)
class NewPayment:
    """POST /payment-transactions or /pre-transactions, parsed."""

    fields: dict[str, Any]  # keyword arguments of Transaction.create / PreTransaction.create
    currency: str
    dates: dict[str, str | None]  # capture/expiration dates as sent: their 412s come after the seal check

    def resolve(self) -> dict[str, Any]:
        """The fields with their dates parsed (`INVALID_CAPTURE_DATE` / `INVALID_EXPIRATION_DATE`)."""
        fields = dict(self.fields)
        for name, text in self.dates.items():
            try:
                fields[name] = None if text is None else parse_date(text)
            except ValueError as exc:
                raise DATE_ERRORS[name](str(exc)) from None
        return fields


def _common(data: Any) -> tuple[Fields, Fields, Money, Fields, dict[str, Any]]:
    """What both creations share: merchant, order and its amount, payment method, requestDate."""
    body = Fields(data)
    order = body.obj("order")
    assert order is not None
    amount = money(order)
    assert amount is not None
    method, method_fields = _payment_method(body)
    _request_date(body)
    return body, order, amount, method, {**_merchant(body), **method_fields,
                                         **_redirect_urls(body), "amount": amount.total}


def parse_create_transaction(data: Any) -> NewPayment:
    body, order, amount, method, common = _common(data)
    fields = {
        **common,
        "order_id": order.string("id", 64),
        "payment_id": order.string("paymentId", 40),
        "label": order.string("label", 255, required=False),
        "application_context": _application_context(body),
    }
    return NewPayment(fields, amount.currency, {"capture_date": method.string("captureDate", 64, required=False)})


def parse_create_pre_transaction(data: Any) -> NewPayment:
    body, order, amount, method, common = _common(data)
    fields = {
        **common,
        "order_id": order.string("id", 64),
        "pre_payment_id": order.string("prePaymentId", 40, required=False) or "0",
        "label": order.string("label", 255, required=False),
        "capture_term": method.integer("captureTerm", required=False),
        "application_context": _application_context(body),
    }
    return NewPayment(fields, amount.currency, {"expiration_date": body.string("expirationDate", 64)})


@dataclass(frozen=True)
class SetPayer:
    beneficiary_ref: Any  # string or number, as given
    amount: Money | None


def beneficiary_ref(fields: Fields, name: str = "beneficiaryId", required: bool = True) -> Any:
    if fields._missing(name, required):
        return None
    value = fields.data[name]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise errors.BadRequest(f"{fields.path}.{name} must be a string or a number")
    if isinstance(value, str) and not 0 < len(value) <= 254:
        raise errors.BadRequest(f"{fields.path}.{name} must be 1 to 254 characters")
    return value


def parse_set_payer(data: Any) -> SetPayer:
    body = Fields(data)
    payer = body.obj("payer")
    assert payer is not None
    _request_date(body)
    return SetPayer(beneficiary_ref(payer), money(payer, required=False))


@dataclass(frozen=True)
class Execute:
    amount: Money
    payers: list[tuple[Any, list[tuple[str, Money]]]] | None  # [(beneficiaryId, [(authorization number, amount)])]


def parse_execute(data: Any) -> Execute:
    body = Fields(data)
    amount = money(body)
    assert amount is not None
    payers = None
    if body.data.get("payers") is not None:
        if not isinstance(body.data["payers"], list):
            raise errors.BadRequest("body.payers must be a list")
        payers = []
        for index, raw in enumerate(body.data["payers"]):
            payer = Fields(raw, f"body.payers[{index}]")
            authorizations = payer.data.get("authorizations")
            if not isinstance(authorizations, list):
                raise errors.BadRequest(f"body.payers[{index}].authorizations must be a list")
            parsed = []
            for j, raw_auth in enumerate(authorizations):
                auth = Fields(raw_auth, f"body.payers[{index}].authorizations[{j}]")
                auth_amount = money(auth)
                assert auth_amount is not None
                number = auth.string("number", 32)
                assert number is not None
                parsed.append((number, auth_amount))
            payers.append((beneficiary_ref(payer), parsed))
    return Execute(amount, payers)


@dataclass(frozen=True)
class Reason:
    reason: str
    label: str | None


def parse_reason(data: Any) -> Reason:
    """/cancellation and /abort: a reason, an optional label."""
    body = Fields(data)
    _request_date(body)
    reason = body.string("reason", 64)
    assert reason is not None
    return Reason(reason, body.string("label", 255, required=False))


@dataclass(frozen=True)
class Contact:
    email: str | None
    beneficiary_ref: Any


def parse_contact(data: Any) -> Contact:
    body = Fields(data)
    email = body.string("contact", 254, required=False)
    ref = beneficiary_ref(body, required=False)
    if (email is None) == (ref is None):
        raise errors.BadRequest("exactly one of contact or beneficiaryId must be given")
    return Contact(email, ref)


# --- the control plane's `POST /_sandbox/beneficiaries/{id}/act` (SPEC §9) ---------------------------------

ACTIONS = ("scan", "adjust", "authorize", "abandon", "refuse")
PAYMENT_URL_MARKER = "/pre-transactions/"


@dataclass(frozen=True)
class Act:
    """What a beneficiary's app does: `pre_transaction_id` for scan (and refuse, of a request not scanned yet),
    else the payment `transaction_id` names (default: the one waiting for the beneficiary). `amount` (adjust)
    and `pin` (authorize) are as given: the commands check them, whoever calls them."""

    action: str
    pre_transaction_id: str | None = None
    transaction_id: str | None = None
    amount: Any = None
    pin: Any = None


def pre_transaction_id_from_url(url: Any) -> str:
    """The request id in a payment QR code's URL (`…/pre-transactions/{id}/qr-code`)."""
    if not isinstance(url, str) or PAYMENT_URL_MARKER not in url:
        raise errors.BadRequest("url must be a payment QR code URL ending in /pre-transactions/{id}/qr-code")
    tail = url.split(PAYMENT_URL_MARKER, 1)[1].strip("/").split("/")
    if not tail[0] or len(tail[0]) > 10 or not tail[0].isalnum():
        raise errors.BadRequest("the URL does not name a pre-transaction")
    return tail[0]


def parse_act(data: Any) -> Act:
    if not isinstance(data, dict) or data.get("action") not in ACTIONS:
        raise errors.BadRequest(f"action must be one of {', '.join(ACTIONS)}")
    action = data["action"]
    url = data.get("url")
    pre_id = pre_transaction_id_from_url(url) if action == "scan" or (action == "refuse" and url is not None) else None
    tx_id = data.get("transactionId")
    return Act(action, pre_id, str(tx_id) if tx_id is not None else None, data.get("amount"), data.get("pin"))
