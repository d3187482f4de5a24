"""The Kit API blueprint (`/acquisition/api/public/v1`): parse, call the service, serialise."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, g, request

from ..domain import errors, wire
from ..services import kit
from .context import current_sandbox
from .jsonin import digits, parse_json
from .jsonout import json_response

bp = Blueprint("kit_api", __name__, url_prefix="/acquisition/api/public/v1")

SECURITY_HEADER = "ANCV-Security"


def _body() -> Any:
    """The JSON body; the Kit wants `Content-Type: application/json` in UTF-8 (Kit §4.1)."""
    if (request.mimetype or "") != "application/json":
        raise errors.BadRequest("Content-Type must be application/json")
    return parse_json(request.get_data(cache=True))


def _seal() -> str | None:
    return request.headers.get(SECURITY_HEADER)


def _trace() -> kit.SealTrace:
    """Where the operation leaves its seal check, for the request journal (sandbox/web/journal.py)."""
    trace = g.seal_trace = kit.SealTrace()
    return trace


@bp.get("/point-of-sales/<shop_id>")
def get_point_of_sale(shop_id: str) -> Response:
    """Contrôle du point d'accueil (Kit §4.4.1)."""
    provider = request.args.get("serviceProviderId")
    provider_id = digits(provider, "serviceProviderId") if provider else None
    pos, now = kit.get_point_of_sale(current_sandbox(), digits(shop_id, "shopId"), provider_id, _seal(), _trace())
    return json_response({"pointOfSale": wire.point_of_sale_json(pos), "responseDate": now})


@bp.post("/payment-transactions")
def create_transaction() -> Response:
    """Initialisation de transaction (Kit §4.5.1): 201, or 200 for a same-day duplicate."""
    tx, created, now = kit.create_transaction(current_sandbox(), _body(), _seal(), _trace())
    return json_response(wire.transaction_envelope(tx, now), 201 if created else 200)


@bp.post("/payment-transactions/<transaction_id>/payer")
def set_payer(transaction_id: str) -> Response:
    """Mise en paiement (Kit §4.5.2): 202 PROCESSING."""
    tx, now = kit.set_payer(current_sandbox(), transaction_id, _body(), _seal(), _trace())
    return json_response(wire.transaction_envelope(tx, now), 202)


@bp.get("/payment-transactions/<transaction_id>")
def get_transaction(transaction_id: str) -> Response:
    """Demande d'état de transaction (Kit §4.5.3)."""
    tx, now = kit.get_transaction(current_sandbox(), transaction_id, _seal(), _trace())
    return json_response(wire.transaction_envelope(tx, now))


@bp.post("/payment-transactions/<transaction_id>/execute")
def execute(transaction_id: str) -> Response:
    """Validation du paiement différé (Kit §4.5.4)."""
    tx, now = kit.execute(current_sandbox(), transaction_id, _body(), _seal(), _trace())
    return json_response(wire.transaction_envelope(tx, now))


@bp.post("/payment-transactions/<transaction_id>/cancellation")
def cancel(transaction_id: str) -> Response:
    """Transaction d'annulation (Kit §4.5.5): 201, or 200 when repeated."""
    tx, changed, now = kit.cancel(current_sandbox(), transaction_id, _body(), _seal(), _trace())
    return json_response(wire.transaction_envelope(tx, now), 201 if changed else 200)


@bp.post("/pre-transactions")
def create_pre_transaction() -> Response:
    """Création de pré-transaction (Kit §4.6.1): 201, or 200 for a same-day duplicate."""
    pre, created, now = kit.create_pre_transaction(current_sandbox(), _body(), _seal(), _trace())
    return json_response(wire.pre_transaction_envelope(pre, now), 201 if created else 200)


# What the client's Accept (with its wildcards: image/*, text/*, */*) chooses between.
REPRESENTATIONS = ("image/png", "text/plain")


@bp.get("/pre-transactions/<pre_id>/qr-code")
def qr_code(pre_id: str) -> Response:
    """Demande de QR Code de paiement (Kit §4.6.2): PNG, or base64 text, per Accept."""
    best = request.accept_mimetypes.best_match(REPRESENTATIONS) if request.headers.get("Accept") else "image/png"
    png, url = kit.qr_code(current_sandbox(), pre_id, _seal(), acceptable=best is not None,
                          trace=_trace())
    if best == "text/plain":
        response = Response(base64.b64encode(png).decode("ascii"), mimetype="text/plain")
    else:
        response = Response(png, mimetype="image/png")
    response.headers["pre-transaction-url"] = url
    return response


@bp.get("/pre-transactions/<pre_id>")
def get_pre_transaction(pre_id: str) -> Response:
    """Demande d'état de pré-transaction (Kit §4.6.3)."""
    pre, now = kit.get_pre_transaction(current_sandbox(), pre_id, _seal(), _trace())
    return json_response(wire.pre_transaction_envelope(pre, now))


@bp.post("/pre-transactions/<pre_id>/contact")
def contact(pre_id: str) -> Response:
    """Transmettre la demande (Kit §4.6.4)."""
    pre, now = kit.contact(current_sandbox(), pre_id, _body(), _seal(), _trace())
    return json_response(wire.pre_transaction_envelope(pre, now))


@bp.post("/pre-transactions/<pre_id>/abort")
def abort(pre_id: str) -> Response:
    """Abandon de la pré-transaction (Kit §4.6.5)."""
    pre, now = kit.abort(current_sandbox(), pre_id, _body(), _seal(), _trace())
    return json_response(wire.pre_transaction_envelope(pre, now))
