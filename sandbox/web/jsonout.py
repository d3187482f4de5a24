"""JSON responses the way the Kit writes them: keys in order, dates as Kit dates."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response

from ..domain.dates import format_date
from ..domain.errors import KitError


def plain(value: Any) -> Any:
    """Datetimes to Kit dates, recursively; everything else as it is."""
    if isinstance(value, datetime):
        return format_date(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _kit_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_date(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


MAX_HEADER_CHARS = 500


def header_value(text: str) -> str:
    """`text` made safe for an HTTP header: printable ASCII, control characters (CR, LF, NUL…) and
    anything else written as escapes, at most MAX_HEADER_CHARS; details quote what a caller sent,
    and a raw CR/LF in a header value is refused by the server (a 500 instead of the error)."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if " " <= c < "\x7f" else f"\\x{ord(c):02x}" for c in escaped)[:MAX_HEADER_CHARS]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_kit_date)
    response = Response(text, status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    for name, value in (headers or {}).items():
        response.headers[name] = header_value(value)
    return response


def error_response(error: KitError) -> Response:
    """The Kit's `{errorCode, errorMessage}`; the sandbox's reason rides in `X-Sandbox-Detail`."""
    headers = {}
    if error.detail:
        headers["X-Sandbox-Detail"] = error.detail
    return json_response(error.body(), error.status, headers)
