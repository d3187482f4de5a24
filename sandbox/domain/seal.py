"""The seal of Kit §5.3 and §6.7, and the ordered sealed fields of each operation.

seal = base64url, no padding, of HMAC-SHA256(key, the operation's fields joined by "&",
empty values skipped). Header: `ANCV-Security: HmacSHA256.{versionKey}.{seal}`.
The same field lists serve the server (to check) and the client (to seal).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

ALGORITHM = "HmacSHA256"


def seal_message(fields: list[Any]) -> str:
    """Join the values with "&", skipping empty ones (Kit §5.3.2.1)."""
    return "&".join(str(value) for value in fields if value is not None and str(value) != "")


def compute_seal(key: str, fields: list[Any]) -> str:
    digest = hmac.new(key.encode("utf-8"), seal_message(fields).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def security_header(key_version: str, key: str, fields: list[Any]) -> str:
    return f"{ALGORITHM}.{key_version}.{compute_seal(key, fields)}"


@dataclass(frozen=True)
class SecurityHeader:
    key_version: str
    seal: str


def parse_security_header(value: str | None) -> SecurityHeader | None:
    """The parts of an `ANCV-Security` header, or None when it is missing or malformed."""
    if not value:
        return None
    algorithm, sep, rest = value.strip().partition(".")
    key_version, sep2, seal = rest.rpartition(".")
    if not sep or not sep2 or algorithm != ALGORITHM or not key_version or not seal:
        return None
    return SecurityHeader(key_version=key_version, seal=seal)


def seal_matches(key: str, fields: list[Any], seal: str) -> bool:
    """Constant-time comparison of a presented seal with the expected one (padding tolerated)."""
    expected = compute_seal(key, fields).encode("ascii")
    presented = seal.rstrip("=").encode("ascii", errors="replace")
    return hmac.compare_digest(expected, presented)


def _get(body: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body


# Ordered sealed fields of each operation (Kit §4.4.1.5, 4.5.1.4, 4.5.2.4, 4.5.3.3, 4.5.4.3,
# 4.5.5.3, 4.6.1.4, 4.6.2.4, 4.6.3.3, 4.6.4.3, 4.6.5.3).

def point_of_sale_fields(shop_id: Any, service_provider_id: Any = None) -> list[Any]:
    return [shop_id, service_provider_id]


def create_transaction_fields(body: Any) -> list[Any]:
    return [
        _get(body, "merchant", "shopId"),
        _get(body, "merchant", "serviceProviderId"),
        _get(body, "order", "id"),
        _get(body, "order", "paymentId"),
        _get(body, "order", "amount", "total"),
    ]


def payer_fields(transaction_id: str, body: Any) -> list[Any]:
    return [transaction_id, _get(body, "payer", "beneficiaryId"), _get(body, "payer", "amount", "total")]


def transaction_id_fields(transaction_id: str) -> list[Any]:
    """GET /payment-transactions/{id} and /execute seal only the id."""
    return [transaction_id]


def cancellation_fields(transaction_id: str, body: Any) -> list[Any]:
    return [transaction_id, _get(body, "reason")]


def create_pre_transaction_fields(body: Any) -> list[Any]:
    return [
        _get(body, "merchant", "shopId"),
        _get(body, "merchant", "serviceProviderId"),
        _get(body, "order", "id"),
        _get(body, "order", "prePaymentId"),
        _get(body, "order", "amount", "total"),
        _get(body, "expirationDate"),
    ]


def pre_transaction_id_fields(pre_transaction_id: str) -> list[Any]:
    """GET /pre-transactions/{id} and its QR code seal only the id."""
    return [pre_transaction_id]


def contact_fields(pre_transaction_id: str, body: Any) -> list[Any]:
    return [pre_transaction_id, _get(body, "contact"), _get(body, "beneficiaryId")]


def abort_fields(pre_transaction_id: str, body: Any) -> list[Any]:
    return [pre_transaction_id, _get(body, "reason")]
