"""The seal of Kit §5.3 and §6.7, and the ordered sealed fields of each operation.

seal = base64url, no padding, of HMAC-SHA256(key, the operation's fields joined by "&",
empty values skipped). Header: `ANCV-Security: HmacSHA256.{versionKey}.{seal}`.
The same field lists serve the server (to check) and the client (to seal); each list carries
the fields' names, so a refused seal can be explained (`diagnose`: the request journal's verdict
and near-miss hint, never a key).
"""

from __future__ import annotations

import base64
import hmac
import itertools
from dataclasses import dataclass
from typing import Any, NamedTuple

ALGORITHM = "HmacSHA256"


def seal_message(fields: list[Any]) -> str:
    """Join the values with "&", skipping empty ones (Kit §5.3.2.1)."""
    return "&".join([text for text in [str(value) for value in fields if value is not None] if text])


def compute_seal(key: str, fields: list[Any]) -> str:
    digest = hmac.digest(key.encode("utf-8"), seal_message(fields).encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def security_header(key_version: str, key: str, fields: list[Any]) -> str:
    return f"{ALGORITHM}.{key_version}.{compute_seal(key, fields)}"


class SecurityHeader(NamedTuple):
    """(A named tuple: every Kit call parses one, and a frozen dataclass costs four times more to make.)"""

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


class SealedFields(list[Any]):
    """An operation's sealed values in the Kit's order, with their names (for the journal)."""

    def __init__(self, values: list[Any], names: tuple[str, ...]) -> None:
        super().__init__(values)
        self.names = names


def _get(body: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body


# Ordered sealed fields of each operation (Kit §4.4.1.5, 4.5.1.4, 4.5.2.4, 4.5.3.3, 4.5.4.3,
# 4.5.5.3, 4.6.1.4, 4.6.2.4, 4.6.3.3, 4.6.4.3, 4.6.5.3).

def point_of_sale_fields(shop_id: Any, service_provider_id: Any = None) -> list[Any]:
    return SealedFields([shop_id, service_provider_id], ("shopId", "serviceProviderId"))


def create_transaction_fields(body: Any) -> list[Any]:
    return SealedFields([
        _get(body, "merchant", "shopId"),
        _get(body, "merchant", "serviceProviderId"),
        _get(body, "order", "id"),
        _get(body, "order", "paymentId"),
        _get(body, "order", "amount", "total"),
    ], ("merchant.shopId", "merchant.serviceProviderId", "order.id", "order.paymentId", "order.amount.total"))


def payer_fields(transaction_id: str, body: Any) -> list[Any]:
    return SealedFields([transaction_id, _get(body, "payer", "beneficiaryId"), _get(body, "payer", "amount", "total")],
                        ("id", "payer.beneficiaryId", "payer.amount.total"))


def transaction_id_fields(transaction_id: str) -> list[Any]:
    """GET /payment-transactions/{id} and /execute seal only the id."""
    return SealedFields([transaction_id], ("id",))


def cancellation_fields(transaction_id: str, body: Any) -> list[Any]:
    return SealedFields([transaction_id, _get(body, "reason")], ("id", "reason"))


def create_pre_transaction_fields(body: Any) -> list[Any]:
    return SealedFields([
        _get(body, "merchant", "shopId"),
        _get(body, "merchant", "serviceProviderId"),
        _get(body, "order", "id"),
        _get(body, "order", "prePaymentId"),
        _get(body, "order", "amount", "total"),
        _get(body, "expirationDate"),
    ], ("merchant.shopId", "merchant.serviceProviderId", "order.id", "order.prePaymentId", "order.amount.total",
        "expirationDate"))


def pre_transaction_id_fields(pre_transaction_id: str) -> list[Any]:
    """GET /pre-transactions/{id} and its QR code seal only the id."""
    return SealedFields([pre_transaction_id], ("id",))


def contact_fields(pre_transaction_id: str, body: Any) -> list[Any]:
    return SealedFields([pre_transaction_id, _get(body, "contact"), _get(body, "beneficiaryId")],
                        ("id", "contact", "beneficiaryId"))


def abort_fields(pre_transaction_id: str, body: Any) -> list[Any]:
    return SealedFields([pre_transaction_id, _get(body, "reason")], ("id", "reason"))


# --- diagnosis (the request journal) ----------------------------------------------------------------

OK, INVALID, MISSING, MALFORMED, OTHER_HOLDER = "ok", "invalid", "missing", "malformed", "other_holder"
MAX_REORDERED_FIELDS = 6  # 720 orders at most: tried only for a refused seal


@dataclass(frozen=True)
class SealCheck:
    """What the sandbox checked a presented seal against: the verdict, the string it sealed and,
    for a refused seal, a hint naming the near miss it matches. Never holds a key."""

    verdict: str
    key_version: str | None
    expected_holder: tuple[str, int] | None  # ("shop", shopId) or ("provider", serviceProviderId)
    fields: tuple[str, ...]
    sealed_string: str
    hint: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The journal entry's `seal`."""
        holder = self.expected_holder
        return {"verdict": self.verdict, "keyVersion": self.key_version,
                "expectedKeyHolder": {"kind": holder[0], "id": holder[1]} if holder else None,
                "fields": list(self.fields), "sealedString": self.sealed_string, "hint": self.hint}


def field_names(fields: list[Any]) -> tuple[str, ...]:
    """The names of sealed fields (their positions when the list carries none)."""
    return fields.names if isinstance(fields, SealedFields) else tuple(f"#{i + 1}" for i in range(len(fields)))


def _encodings(key: str, message: str) -> tuple[str, str, str]:
    """The seal of `message` as the Kit wants it (base64url, no padding), in standard base64, and in hex."""
    digest = hmac.digest(key.encode("utf-8"), message.encode("utf-8"), "sha256")
    return (base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
            base64.b64encode(digest).rstrip(b"=").decode("ascii"), digest.hex())


def accepted(parsed: SecurityHeader, fields: list[Any], expected_holder: tuple[str, int] | None) -> SealCheck:
    """The check of a seal the caller found valid (no second HMAC): "ok", with a note on '=' padding."""
    padded = "the Kit's seal has no '=' padding (accepted here)" if parsed.seal.endswith("=") else None
    return SealCheck(OK, parsed.key_version, expected_holder, field_names(fields), seal_message(fields), padded)


def diagnose(header: str | None, fields: list[Any], expected_holder: tuple[str, int] | None,
             expected_key: tuple[str, str] | None, *, other_holder: bool = False,
             note: str | None = None) -> SealCheck:
    """The verdict on `header` for `fields`, sealed with `expected_key` (version, key) of `expected_holder`.

    `other_holder`: the seal was found valid with another holder's key (the caller checked that).
    A refused seal is matched against near misses: the fields in another order, empty fields not
    skipped, standard base64 or hex instead of base64url; an accepted one with "=" padding says so.
    """
    names, message = field_names(fields), seal_message(fields)

    def check(verdict: str, version: str | None, hint: str | None) -> SealCheck:
        return SealCheck(verdict, version, expected_holder, names, message, hint)

    if header is None or not header.strip():
        return check(MISSING, None, note or "no ANCV-Security header: send HmacSHA256.{versionKey}.{seal}")
    parsed = parse_security_header(header)
    if parsed is None:
        return check(MALFORMED, None, note or "the ANCV-Security header is not HmacSHA256.{versionKey}.{seal}")
    version = parsed.key_version
    if other_holder:
        who = f"{expected_holder[0]} {expected_holder[1]}" if expected_holder else "the object's owner"
        return check(OTHER_HOLDER, version, note or f"the seal is valid with another holder's key, not {who}'s")
    if expected_key is None:
        return check(INVALID, version, note)
    key_version, key = expected_key
    presented = parsed.seal
    if key_version == version and seal_matches(key, fields, presented):
        return accepted(parsed, fields, expected_holder)
    if key_version != version:
        return check(INVALID, version, note or f"keyVersion {version} is not the expected key's version {key_version}")
    return check(INVALID, version, note or _near_miss(key, fields, names, presented.rstrip("=")))


def _near_miss(key: str, fields: list[Any], names: tuple[str, ...], presented: str) -> str | None:
    """The hint for a refused seal that matches a usual mistake, or None."""
    urlsafe, standard, hexa = _encodings(key, seal_message(fields))
    if presented == standard and standard != urlsafe:
        return "the seal is in standard base64 ('+', '/'): the Kit wants base64url ('-', '_'), without '='"
    if presented.lower() == hexa:
        return "the seal is the hexadecimal digest: the Kit wants it in base64url, without '='"
    if presented.replace("+", "-").replace("/", "_") != presented:
        presented = presented.replace("+", "-").replace("/", "_")  # one mistake at a time is enough to name
    with_empty = "&".join("" if value is None else str(value) for value in fields)
    if with_empty != seal_message(fields) and _encodings(key, with_empty)[0] == presented:
        return f"empty fields were not skipped: the seal is of {with_empty!r}; the Kit skips them"
    present = [(name, value) for name, value in zip(names, fields, strict=True)
               if value is not None and str(value) != ""]
    if 1 < len(present) <= MAX_REORDERED_FIELDS:
        for order in itertools.permutations(present):
            if list(order) == present:
                continue
            if _encodings(key, "&".join(str(value) for _, value in order))[0] == presented:
                return (f"the fields were sealed in another order ({', '.join(n for n, _ in order)}); "
                        f"the Kit's order is {', '.join(n for n, _ in present)}")
    return None
