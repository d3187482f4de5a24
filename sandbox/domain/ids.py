"""Identifiers of CVCo: object ids, beneficiary numbers (Luhn), masked holders, numbers.

Every draw goes through a `Random`-like source passed in, so a seed reproduces ids.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

OBJECT_ID_ALPHABET = string.ascii_lowercase + string.digits
OBJECT_ID_LENGTH = 10
DIGITS = string.digits
BENEFICIARY_NUMBER_RE = re.compile(r"^[0-9]{11}$")  # [0-9]: \d also takes "١٢…"
# name@domain.tld, no blank and no control character (a NUL is no address, and PostgreSQL cannot store it)
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


_T = TypeVar("_T")


class RandomSource(Protocol):
    def choice(self, seq: Sequence[_T], /) -> _T: ...
    def randint(self, a: int, b: int, /) -> int: ...
    def randrange(self, start: int, /) -> int: ...


def draws_below(rng: RandomSource, n: int, count: int) -> list[int]:
    """`count` numbers in [0, n): the very ones `count` calls of `rng.randrange(n)` draw, for less.

    `random.Random` draws a number below n as `getrandbits(n.bit_length())`, again while it is n or
    more; calling that directly skips two Python-level calls a number (`choice`, `_randbelow`) and
    leaves the generator exactly where `choice` or `randint` would have."""
    own_draws = (type(rng) is not random.Random  # random.Random itself (every draw of a run): no look-up
                 and getattr(type(rng), "_randbelow", None) is not random.Random._randbelow_with_getrandbits)  # type: ignore[attr-defined]
    if own_draws or not isinstance(rng, random.Random):
        return [rng.randrange(n) for _ in range(count)]  # another source: its own way
    getrandbits, bits = rng.getrandbits, n.bit_length()
    drawn: list[int] = []
    left = count  # (counted down, not len(drawn) at each draw: a busy day draws 400,000 times)
    while left > 0:
        value = getrandbits(bits)
        if value < n:
            drawn.append(value)
            left -= 1
    return drawn


def new_object_id(rng: RandomSource) -> str:
    """A transaction or pre-transaction id: 10 lowercase alphanumerics (Kit §6.2.2.1), as ten
    `rng.choice(OBJECT_ID_ALPHABET)` would draw them."""
    return "".join([OBJECT_ID_ALPHABET[i] for i in draws_below(rng, len(OBJECT_ID_ALPHABET), OBJECT_ID_LENGTH)])


def digits(rng: RandomSource, count: int) -> str:
    """`count` decimal digits, as `rng.randint(0, 9)` would draw them."""
    return "".join([DIGITS[i] for i in draws_below(rng, 10, count)])


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_beneficiary_number(value: str) -> bool:
    """11 digits whose last is the Luhn check digit (Kit §5.4)."""
    return bool(BENEFICIARY_NUMBER_RE.match(value)) and luhn_check_digit(value[:-1]) == value[-1]


def new_beneficiary_number(rng: RandomSource) -> str:
    payload = "1" + digits(rng, 9)
    return payload + luhn_check_digit(payload)


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(EMAIL_RE.match(value))


def mask_holder(beneficiary_number: str) -> str:
    """First 2 and last 4 digits shown, stars between (`10*****1576`)."""
    return beneficiary_number[:2] + "*" * (len(beneficiary_number) - 6) + beneficiary_number[-4:]


CVCO_ID_PREFIX = "CVCoId="


def parse_cvco_id(payload: str) -> str | None:
    """The beneficiary number in a `CVCoId=…` code (prefix case-insensitive), if valid."""
    text = payload.strip()
    if text[: len(CVCO_ID_PREFIX)].lower() != CVCO_ID_PREFIX.lower():
        return None
    number = text[len(CVCO_ID_PREFIX):]
    return number if is_beneficiary_number(number) else None


PAYMENT_URL = re.compile(r"^(?P<base>.+)/pre-transactions/(?P<id>[a-z0-9]{1,10})/qr-code/?$")


def payment_request_id(text: str, kit_bases: Iterable[str]) -> str | None:
    """The request a payment QR code names (`{Kit base URL}/pre-transactions/{id}/qr-code`, Kit §4.6.2),
    if its base is one of `kit_bases` (a code of another platform is not ours to pay)."""
    match = PAYMENT_URL.match(text.strip())
    if match is None or match["base"] not in {base.rstrip("/") for base in kit_bases}:
        return None
    return match["id"]
