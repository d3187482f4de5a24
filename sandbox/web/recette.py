"""The acceptance campaign's web side (`/_sandbox/recette`, services/recette.py): its routes, and what
each Kit call tells an open campaign.

The request journal's last hook (journal.py) hands every answered Kit call to `observe`, with the
journal entry's id; a `before_request` hook arranges what must be true before a /payer comes (a
payment pending elsewhere). Nothing is looked up when no campaign is open.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, request

from ..services import recette
from . import recette_report
from .context import current_sandbox
from .control import json_body, require_admin
from .faults import FAULT_KEY, HANG_UP_KEY, OPERATION_OF_ENDPOINT, shop_of_request
from .jsonout import json_response

bp = Blueprint("recette", __name__, url_prefix="/_sandbox/recette")
OBJECT_ARGS = ("transaction_id", "pre_id")


bp.before_request(require_admin)  # as every control call


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_before_payer)


@bp.post("")
def start() -> Response:
    """Start a campaign for a key holder: every case arranged, with the identifiers to play it."""
    sandbox = current_sandbox()
    return json_response(recette.campaign_json(sandbox, recette.start(sandbox, json_body())), 201)


@bp.get("")
def campaigns() -> Response:
    """Every campaign of this server process, newest first."""
    sandbox = current_sandbox()
    return json_response({"campaigns": [recette.campaign_line(sandbox, c) for c in sandbox.recette.all()]})


@bp.get("/<campaign_id>")
def campaign(campaign_id: str) -> Response:
    """The campaign, each case judged on what the sandbox saw so far."""
    sandbox = current_sandbox()
    return json_response(recette.campaign_json(sandbox, sandbox.recette.get(campaign_id)))


@bp.get("/<campaign_id>/report.json")
def report_json(campaign_id: str) -> Response:
    """The report as JSON (the campaign, downloadable)."""
    sandbox = current_sandbox()
    response = json_response(recette.campaign_json(sandbox, sandbox.recette.get(campaign_id)))
    response.headers["Content-Disposition"] = f'attachment; filename="recette-{campaign_id}.json"'
    return response


@bp.get("/<campaign_id>/report")
def report_html(campaign_id: str) -> Response:
    """The report as a self-contained HTML page in French (recette_report.py)."""
    sandbox = current_sandbox()
    html = recette_report.report_html(recette.campaign_json(sandbox, sandbox.recette.get(campaign_id)))
    return Response(html, mimetype="text/html")


@bp.get("/<campaign_id>/report.xml")
def report_junit(campaign_id: str) -> Response:
    """The report as JUnit XML, for CI systems (recette_report.py)."""
    sandbox = current_sandbox()
    xml = recette_report.report_junit(recette.campaign_json(sandbox, sandbox.recette.get(campaign_id)))
    response = Response(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="recette-{campaign_id}.xml"'
    return response


@bp.post("/<campaign_id>/end")
def end(campaign_id: str) -> Response:
    """Close the campaign: unplayed cases are `not_played`, unfinished ones have failed."""
    sandbox = current_sandbox()
    return json_response(recette.campaign_json(sandbox, recette.end(sandbox, campaign_id)))


@bp.post("/<campaign_id>/cases/<case_id>/declaration")
def declaration(campaign_id: str, case_id: str) -> Response:
    """What the integrator's system recorded (the partial payment case)."""
    sandbox = current_sandbox()
    return json_response(recette.campaign_json(sandbox, recette.declare(sandbox, campaign_id, case_id,
                                                                        json_body())), 201)


# --- what Kit calls tell a campaign -----------------------------------------------------------------------------

def _before_payer() -> None:
    if request.endpoint != "kit_api.set_payer":
        return
    sandbox = current_sandbox()
    if not recette.observed(sandbox):
        return
    body = request.get_json(silent=True, force=True)
    payer = body.get("payer") if isinstance(body, dict) else None
    if isinstance(payer, dict):
        recette.before_payer(sandbox, shop_of_request(sandbox, "payer"), payer.get("beneficiaryId"))


def observe(response: Response, journal_id: str | None) -> None:
    """A Kit call was answered (or hung up on): an open campaign keeps it, and may act on it."""
    operation = OPERATION_OF_ENDPOINT.get(request.endpoint or "")
    sandbox = current_sandbox()
    if operation is None or not recette.observed(sandbox):
        return
    environ = request.environ
    hung_up = environ.get(HANG_UP_KEY) is not None
    answer = response.get_json(silent=True) if response.mimetype == "application/json" and not hung_up else None
    body = request.get_json(silent=True, force=True)
    body = body if isinstance(body, dict) else {}
    object_id = _object_id(answer)
    shop_id = _shop_of_answer(answer) or shop_of_request(sandbox, operation)
    trace = g.get("seal_trace")
    check = trace.check if trace is not None else None
    fault = environ.get(FAULT_KEY)
    recette.observe_call(sandbox, {
        "journal_id": journal_id, "method": request.method, "path": request.path, "operation": operation,
        "status": None if hung_up else response.status_code,
        "error_code": answer.get("errorCode") if isinstance(answer, dict) and response.status_code >= 400 else None,
        "seal": check.verdict if check is not None else None,
        "sealed_for": check.expected_holder if check is not None else None,
        "https": request.scheme == "https", "shop_id": shop_id, "object_id": object_id, "body": body,
        "fault": fault["fault"] if fault else None,
    })
    if response.status_code < 300 and not hung_up and operation in ("qrCode", "contact"):
        recette.after_request_call(sandbox, operation, shop_id, (request.view_args or {}).get("pre_id"), body)


def _object_id(answer: Any) -> str | None:
    """The transaction or payment request called or created: the path names it, else the answer does."""
    args = request.view_args or {}
    for name in OBJECT_ARGS:
        if name in args:
            return str(args[name])
    if isinstance(answer, dict):
        obj = answer.get("transaction") or answer.get("preTransaction")
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            return str(obj["id"])
    return None


def _shop_of_answer(answer: Any) -> int | None:
    if not isinstance(answer, dict):
        return None
    obj = answer.get("transaction") or answer.get("preTransaction") or answer.get("pointOfSale")
    merchant = obj.get("merchant") if isinstance(obj, dict) else None
    shop = merchant.get("shopId") if isinstance(merchant, dict) else obj.get("shopId") if isinstance(obj, dict) else None
    return shop if isinstance(shop, int) and not isinstance(shop, bool) else None
