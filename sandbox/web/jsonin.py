"""Reading JSON request bodies: anything that is not plain UTF-8 JSON is a clear 400."""

from __future__ import annotations

import json
from typing import Any

from ..domain import errors


def parse_json(raw: bytes) -> Any:
    """The parsed body; malformed, too deeply nested or not encodable as UTF-8 → BadRequest."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates ("\ud800") fail here
    except (UnicodeError, ValueError) as exc:
        raise errors.BadRequest(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise errors.BadRequest("malformed JSON: nested too deeply") from None
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def ascii_number(text: str, max_length: int = 18) -> int | None:
    """An ASCII decimal number of at most `max_length` digits, else None: `str.isdigit` also takes
    "²", "①" or "١٢" (which `int` refuses, or reads as 12), and `int` of 5,000 digits is refused too."""
    if 0 < len(text) <= max_length and text.isascii() and text.isdigit():
        return int(text)
    return None


def digits(text: str, name: str, max_length: int = 18) -> int:
    """An ASCII decimal number from a path or query string."""
    number = ascii_number(text, max_length)
    if number is None:
        raise errors.BadRequest(f"{name} must be a number")
    return number
