"""What a scanned text may be: a payment QR code of this sandbox, or a beneficiary's `CVCoId`.

Anything else a camera happens to read (a poster's URL, another platform's code, a misread) is
refused here, before anyone acts on it. The rules themselves are the domain's (sandbox.domain.ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sandbox.client import KIT_PATH  # not sandbox.services.sandbox's: that one loads SQLAlchemy and asyncssh
from sandbox.domain import ids


@dataclass(frozen=True)
class PaymentCode:
    """A merchant's payment request (Kit §4.6.2)."""

    url: str
    pre_transaction_id: str


@dataclass(frozen=True)
class IdentifierCode:
    """A beneficiary's own code, `CVCoId={11 digits}` (Kit §5.4)."""

    beneficiary_id: str


Code = PaymentCode | IdentifierCode


@dataclass(frozen=True)
class Refused:
    """A read that is not a code we may act on, and why (English, for the operator)."""

    text: str
    reason: str


class Acceptor:
    """Turns a read text into a `Code`, or says why not, for one role.

    `kit_bases` are the sandbox's Kit URLs a payment code may start with (the server's address, and
    its public URL when that differs); `wanted` is the kind of code the role acts on."""

    def __init__(self, kit_bases: Iterable[str], wanted: type[PaymentCode] | type[IdentifierCode]) -> None:
        self.kit_bases = tuple(base.rstrip("/") for base in kit_bases)
        self.wanted = wanted

    def __call__(self, text: str) -> Code | Refused:
        code = self.classify(text)
        if isinstance(code, Refused) or isinstance(code, self.wanted):
            return code
        if isinstance(code, IdentifierCode):
            return Refused(text, "a beneficiary's CVCoId, not a payment request: scan it as a merchant (--as merchant)")
        return Refused(text, "a payment request, not a beneficiary's CVCoId: scan it as a beneficiary (--as beneficiary)")

    def classify(self, text: str) -> Code | Refused:
        beneficiary_id = ids.parse_cvco_id(text)
        if beneficiary_id is not None:
            return IdentifierCode(beneficiary_id)
        pre_id = ids.payment_request_id(text, self.kit_bases)
        if pre_id is not None:
            return PaymentCode(text.strip(), pre_id)
        if text.strip().lower().startswith(ids.CVCO_ID_PREFIX.lower()):
            return Refused(text, "a CVCoId whose number is not 11 digits with a valid Luhn check digit")
        if ids.PAYMENT_URL.match(text.strip()):
            return Refused(text, f"a payment code of another platform (this sandbox's Kit is {self.kit_bases[0]})")
        return Refused(text, "neither a payment request of this sandbox nor a CVCoId")


def kit_bases(server_url: str, public_url: str | None = None) -> tuple[str, ...]:
    """The Kit URLs of a sandbox reached at `server_url` whose codes may say `public_url`."""
    bases = [server_url.rstrip("/") + KIT_PATH]
    if public_url:
        bases.append(public_url.rstrip("/") + KIT_PATH)
    return tuple(bases)
