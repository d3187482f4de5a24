"""Carrying out network faults on Kit calls (`/_sandbox/faults`, services/faults.py).

Which Kit operation a request is comes from the Kit blueprint's endpoint names (one table
below). A `before_request` hook draws the fault: `delay` sleeps (gevent's patched sleep under
`serve`), `error` answers without running the view, `reset` and `drop_response` ask the WSGI
middleware to hang up. Hanging up is raising a broken pipe out of the WSGI app, which both
gevent's pywsgi and Werkzeug's server take for a client gone (nothing written, connection
closed); Werkzeug's socket is shut down first, as its keep-alive loop would wait on it otherwise.
A test client sees the `ConnectionError` itself.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

from flask import Flask, Response, request
from werkzeug.http import HTTP_STATUS_CODES

from ..domain import events
from ..services.faults import OPERATIONS, Fault
from . import kit_api
from .context import current_sandbox
from .jsonout import json_response

# The Kit operations by the endpoint that serves them (kit_api.py).
OPERATION_OF_ENDPOINT = {
    "kit_api.create_transaction": "createTransaction",
    "kit_api.set_payer": "payer",
    "kit_api.get_transaction": "getTransaction",
    "kit_api.execute": "execute",
    "kit_api.cancel": "cancel",
    "kit_api.create_pre_transaction": "createPreTransaction",
    "kit_api.qr_code": "qrCode",
    "kit_api.get_pre_transaction": "getPreTransaction",
    "kit_api.contact": "contact",
    "kit_api.abort": "abort",
    "kit_api.get_point_of_sale": "pointOfSale",
}
FAULT_KEY = "ancv_sandbox.fault"  # {"id", "fault", "operation"}: for the request journal
HANG_UP_KEY = "ancv_sandbox.hang_up"
DETAIL_HEADER = "X-Sandbox-Detail"


class ConnectionHungUp(BrokenPipeError):
    """The sandbox closed the connection on purpose (a `reset` or `drop_response` fault)."""


def register(app: Flask) -> None:
    """Draw faults before Kit views, and hang up where one asks for it."""
    assert sorted(OPERATION_OF_ENDPOINT.values()) == sorted(OPERATIONS), "one endpoint per Kit operation"
    app.before_request(_inject)
    app.wsgi_app = HangUpMiddleware(app.wsgi_app, kit_api.bp.url_prefix or "")  # type: ignore[method-assign]


def _inject() -> Response | None:
    operation = OPERATION_OF_ENDPOINT.get(request.endpoint or "")
    if operation is None:
        return None
    sandbox = current_sandbox()
    shop_id = shop_of_request(sandbox, operation) if sandbox.faults.scoped() else None
    fault = sandbox.faults.draw(operation, sandbox.rng, shop_id)
    if fault is None:
        return None
    request.environ[FAULT_KEY] = {"id": fault.fault_id, "fault": fault.kind, "operation": operation}
    with sandbox.uow() as uow:
        uow.record(events.FAULT_INJECTED, _ref(operation), faultId=fault.fault_id, fault=fault.kind, operation=operation,
                   method=request.method, path=request.path)
    return _carry_out(fault, operation)


def shop_of_request(sandbox: Any, operation: str) -> int | None:
    """The point of sale a Kit call is about: named by a creation's body or the path, else the one of the
    transaction or payment request it calls (None when there is none yet)."""
    args = request.view_args or {}
    shop: Any = args.get("shop_id")
    if operation in ("createTransaction", "createPreTransaction"):
        body = request.get_json(silent=True, force=True)
        shop = body.get("merchant", {}).get("shopId") if isinstance(body, dict) and isinstance(
            body.get("merchant"), dict) else None
    elif "transaction_id" in args or "pre_id" in args:
        with sandbox.store.session() as s:
            found = (s.transaction(args["transaction_id"]) if "transaction_id" in args
                     else s.pre_transaction(args["pre_id"]))
        shop = found.shop_id if found is not None else None
    text = str(shop) if isinstance(shop, int | str) and not isinstance(shop, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def _ref(operation: str) -> str:
    """What the timeline files the fault under: the transaction or request called, else the operation."""
    values = [str(v) for v in (request.view_args or {}).values()]
    return values[0] if values else operation


def _carry_out(fault: Fault, operation: str) -> Response | None:
    detail = f"fault {fault.fault_id} ({fault.kind}) on {operation}"
    if fault.kind == "delay":
        time.sleep(fault.delay_ms / 1000)  # gevent's, under `serve`: other requests go on meanwhile
        return None
    if fault.kind == "error":
        name = HTTP_STATUS_CODES.get(fault.status, "Error")
        response = json_response({"errorCode": name.upper().replace(" ", "_").replace("'", ""),
                                  "errorMessage": f"{name} (injected by the sandbox)"}, fault.status)
        response.headers[DETAIL_HEADER] = detail
        return response
    request.environ[HANG_UP_KEY] = detail
    if fault.kind == "reset":
        return Response(status=204)  # never sent: the middleware hangs up before the view ran
    return None  # drop_response: the operation runs and commits, then the middleware hangs up


class HangUpMiddleware:
    """Kit calls: holds the response back until the app returned, then sends it, or hangs up."""

    def __init__(self, app: Callable[..., Iterable[bytes]], prefix: str) -> None:
        self.app, self.prefix = app, prefix

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.app(environ, start_response)
        held: list[tuple[Any, ...]] = []
        writers: list[Callable[[bytes], Any]] = []

        def write(data: bytes) -> Any:  # WSGI's legacy write(): starts the response for real
            if not writers:
                writers.append(start_response(*held[-1]))
            return writers[0](data)

        def hold(*args: Any) -> Callable[[bytes], Any]:
            held.append(args)
            return write

        result = self.app(environ, hold)
        detail = environ.get(HANG_UP_KEY)
        if detail is None:
            if held and not writers:
                start_response(*held[-1])
            return result
        if hasattr(result, "close"):
            result.close()
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionHungUp(errno.EPIPE, f"the sandbox hung up: {detail}")
