"""The request journal's web side: hooks that record each Kit and control-plane call, and its routes.

Every call to the Kit API, and to the control plane (marked `"surface": "control"`), becomes an entry
of `sandbox.request_journal` (services/request_journal.py): method, path, query, headers (the
ANCV-Security header kept: it is test data; Authorization and Cookie are not), bodies (truncated,
secrets such as keys and passwords masked), status, duration, and for a Kit call the seal check the
operation made (`seal`, from kit.SealTrace: never a key). A network fault fired on the call
(sandbox/web/faults.py) is copied in as `fault`; a call whose answer was never sent (`reset`,
`drop_response`) has `status: null`. Calls to the journal itself, health and static files are not
recorded. A refused Kit call's `X-Sandbox-Detail` ends with the path of its entry.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..domain import errors
from ..domain.dates import format_date
from ..domain.seal import SealCheck
from . import recette
from .context import current_sandbox
from .control import AdminTokenRequired, is_admin
from .faults import FAULT_KEY, HANG_UP_KEY  # set when a fault fires, and when the answer will not be sent
from .jsonin import digits
from .jsonout import header_value, json_response

bp = Blueprint("request_journal", __name__, url_prefix="/_sandbox")

MAX_BODY_CHARS = 8 * 1024  # a body longer than this is cut, and says so
MAX_LIMIT = 10_000
HIDDEN_HEADERS = {"authorization", "cookie"}  # the admin token and people's sessions are not test data
NOT_RECORDED = ("/_sandbox/requests", "/_sandbox/health")
HIDDEN = "(hidden)"


def register(app: Flask, kit_prefix: str, control_prefix: str) -> None:
    """Record the calls under `kit_prefix` and `control_prefix`, first hook in, last hook out."""
    app.register_blueprint(bp)

    def surface() -> str | None:
        path = request.path
        if path.startswith(kit_prefix):
            return "kit"
        if path.startswith(control_prefix) and not path.startswith(NOT_RECORDED):
            return "control"
        return None

    def start() -> None:
        g.journal_surface = surface()
        g.journal_started = time.perf_counter()

    def finish(response: Response) -> Response:
        kind = g.pop("journal_surface", None)
        if kind is None:
            return response
        sandbox = current_sandbox()
        entry_id = None
        if sandbox.rules.requestJournal:
            entry_id = sandbox.request_journal.new_id()
            entry = _entry(entry_id, kind, response, sandbox.clock.now())
            sandbox.request_journal.add(entry, sandbox.rules.requestJournalSize)
            if kind == "kit" and response.status_code >= 400:
                detail = response.headers.get("X-Sandbox-Detail")
                pointer = f"journal: /_sandbox/requests/{entry_id}"
                response.headers["X-Sandbox-Detail"] = header_value(f"{detail} ({pointer})" if detail else pointer)
        if kind == "kit":  # an open acceptance campaign keeps the call, journal or not
            recette.observe(response, entry_id)
        return response

    # before every other hook (a delay fault's sleep counts in the duration), after every other one
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request_funcs.setdefault(None, []).insert(0, finish)


def _entry(entry_id: str, kind: str, response: Response, now: Any) -> dict[str, Any]:
    # Recording stays cheap (it runs on every call): the request is looked up once, bodies are kept as
    # bytes, headers as the WSGI environ has them, the seal check as its object, the instant as a datetime;
    # all of them are turned into JSON when the journal is read (`rendered`).
    req = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    fault = environ.get(FAULT_KEY)
    hung_up = environ.get(HANG_UP_KEY) is not None
    trace = g.get("seal_trace")
    response_body = None if hung_up else _body_of(response.mimetype or "", response)
    error = (_error_code(response_body) if isinstance(response_body, RawBody) and response.status_code >= 400
             else None)
    entry: dict[str, Any] = {
        "id": entry_id,
        "at": now,
        "surface": kind,
        "method": req.method,
        "path": req.path,
        "query": environ.get("QUERY_STRING", ""),
        "headers": RawHeaders({k: v for k, v in environ.items() if k.startswith(HEADER_KEYS)}),
        "body": _request_body(req),
        "status": None if hung_up else response.status_code,
        "errorCode": error,
        "responseBody": response_body,
        "durationMs": round((time.perf_counter() - g.pop("journal_started", time.perf_counter())) * 1000, 2),
    }
    if trace is not None and trace.check is not None:
        entry["seal"] = trace.check
    if fault is not None:
        entry["fault"] = dict(fault)
    return entry


def _request_body(req: Any) -> Any:
    try:
        raw = req.get_data(cache=True)
    except (HTTPException, OSError):  # over the size limit, or the client went away: nothing to show
        return f"({req.content_length or 'unknown'} bytes, not read)"
    if not raw:
        return None
    return RawBody(raw, req.mimetype or "")  # at most the app's MAX_CONTENT_LENGTH, cut by RawBody


def _body_of(mimetype: str, response: Response) -> Any:
    if response.direct_passthrough or response.is_streamed:
        return f"({mimetype or 'a stream'}, not kept)"
    raw = response.get_data()
    if not raw:
        return None
    return RawBody(raw, mimetype)


class RawBody:
    """A body as received or sent, decoded (and its secrets masked) only when the journal is read."""

    __slots__ = ("raw", "mimetype", "size")

    def __init__(self, raw: bytes, mimetype: str) -> None:
        # a bounded journal is bounded in bytes too: only what will be shown is kept
        self.raw, self.mimetype, self.size = raw[:MAX_BODY_CHARS + 1], mimetype, len(raw)

    def decoded(self) -> Any:
        return _decoded(self.raw, self.mimetype, self.size)


def _error_code(body: RawBody) -> str | None:
    decoded = body.decoded()
    code = decoded.get("errorCode") if isinstance(decoded, dict) else None
    return code if isinstance(code, str) else None


HEADER_KEYS = ("HTTP_", "CONTENT_TYPE", "CONTENT_LENGTH")


class RawHeaders:
    """A request's headers as WSGI keys (`HTTP_ANCV_SECURITY`), named as on the wire when read."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def decoded(self) -> dict[str, str]:
        named = {key.removeprefix("HTTP_").replace("_", "-").title(): str(value)
                 for key, value in self.environ.items()}
        return {name: value for name, value in named.items() if name.lower() not in HIDDEN_HEADERS}


def rendered(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as JSON: its bodies and headers decoded, its instant a Kit date, its seal check as JSON."""
    out: dict[str, Any] = {}
    for name, value in entry.items():
        if isinstance(value, RawBody | RawHeaders):
            value = value.decoded()
        elif isinstance(value, SealCheck):
            value = value.as_json()
        elif name == "at":
            value = format_date(value)
        out[name] = value
    return out


def _decoded(raw: bytes, mimetype: str, size: int) -> Any:
    """JSON as JSON (keys and passwords masked), text as text, other bytes as their size; all bounded."""
    if mimetype == "application/json" and size <= MAX_BODY_CHARS:
        try:
            return _masked(json.loads(raw))
        except ValueError:
            pass
    if not (mimetype.startswith("text/") or mimetype.endswith("json")):
        return f"({size} bytes of {mimetype or 'unknown type'})"
    text = raw.decode("utf-8", "replace")
    if "PRIVATE KEY" in text:
        return HIDDEN
    return text if size <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + f"… (cut: {size} bytes in all)"


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return (("key" in lowered and lowered not in {"keyversion", "publickeys", "publickey"})
            or lowered in {"password", "pin", "secret", "token", "admintoken"} or lowered.endswith("password"))


def _masked(value: Any) -> Any:
    """`value` with every key, password, PIN or token replaced (fixtures and population answers hold them)."""
    if isinstance(value, dict):
        return {k: HIDDEN if _is_secret(str(k)) and v not in (None, "") else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


# --- routes --------------------------------------------------------------------------------------------

class RequestNotFound(errors.KitError):
    status, code, message = 404, "REQUEST_NOT_FOUND", "No such request in the journal"


@bp.before_request
def _check_token() -> None:
    if not is_admin():  # the same rule as every other control-plane call
        raise AdminTokenRequired("send Authorization: Bearer <admin token>")


@bp.get("/requests")
def list_requests() -> Response:
    """The journal, newest first: `?limit=&path=&status=&errorCode=`."""
    args = request.args
    limit = digits(args["limit"], "limit") if args.get("limit") else None
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise errors.BadRequest(f"limit must be 1 to {MAX_LIMIT}")
    status = digits(args["status"], "status") if args.get("status") else None
    found = current_sandbox().request_journal.find(limit=limit, path=args.get("path") or None, status=status,
                                                   error_code=args.get("errorCode") or None)
    return json_response({"requests": [rendered(entry) for entry in found]})


@bp.get("/requests/<entry_id>")
def get_request(entry_id: str) -> Response:
    """One entry of the journal."""
    if not (entry_id.startswith("r") and entry_id[1:].isascii() and entry_id[1:].isdigit() and len(entry_id) <= 19):
        raise errors.BadRequest("a journal entry's id is r followed by digits, e.g. r12")
    entry = current_sandbox().request_journal.get(entry_id)
    if entry is None:
        raise RequestNotFound(f"no entry {entry_id} in the journal (it may have been dropped: see requestJournalSize)")
    return json_response(rendered(entry))


@bp.delete("/requests")
def clear_requests() -> Response:
    """Empty the journal."""
    current_sandbox().request_journal.clear()
    return json_response({"status": "ok"})
