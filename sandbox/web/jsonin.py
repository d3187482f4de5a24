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


def digits(text: str, name: str, max_length: int = 18) -> int:
    """An ASCII decimal number from a path or query string."""
    if text.isascii() and text.isdigit() and len(text) <= max_length:
        return int(text)
    raise errors.BadRequest(f"{name} must be a number")
