"""The sandbox's own controls under `/_sandbox` (SPEC §9): a fixed interface for tests and tools."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request, session

from ..domain import errors, requests, wire
from ..domain.dates import format_date, parse_date
from ..services import fixtures, paying, scheduler, sftp_log, sftp_space, tls_certificates
from ..services.notifications import resend_webhook as resend_delivery
from ..services.paying import find_beneficiary
from .context import current_sandbox
from .jsonin import digits, parse_json
from .jsonout import json_response

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


class AdminTokenRequired(errors.KitError):
    status, code, message = 401, "ADMIN_TOKEN_REQUIRED", "An admin token is required"


ADMIN_SESSION = "sandbox_admin"


def admin_grant(token: str) -> str:
    """What a browser session keeps once it gave `token`: a fingerprint of that very token, so a restart
    with another `--admin-token` revokes every session unlocked with the old one (the session cookie
    is signed with a key kept in the database, which outlives the token)."""
    key = current_sandbox().secret_key.encode()
    return hmac.new(key, b"admin-token:" + token.encode(), hashlib.sha256).hexdigest()


def is_admin() -> bool:
    """Loopback needs nothing; with an admin token, the Bearer header or a browser session that gave it."""
    token = current_sandbox().settings.admin_token
    if not token:
        return True
    granted = session.get(ADMIN_SESSION)
    if isinstance(granted, str) and hmac.compare_digest(granted.encode(), admin_grant(token).encode()):
        return True
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(presented.encode(), token.encode())


@bp.before_request
def require_admin() -> None:
    """Every control call but the health check needs the admin token, when one is set."""
    if request.endpoint != "control.health" and not is_admin():
        raise AdminTokenRequired("send Authorization: Bearer <admin token>")


def json_body(required: bool = True) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise errors.BadRequest("a JSON body is required")
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise errors.BadRequest("the body must be a JSON object")
    return body


@bp.get("/health")
def health() -> Response:
    """Ready."""
    return json_response({"status": "ok"})


@bp.post("/reset")
def reset() -> Response:
    """Drop all state, put a virtual clock back (to its first instant or `now`), re-create the fixtures."""
    body = json_body(required=False)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise errors.BadRequest("seed must be an integer")
    try:
        now = parse_date(body["now"]) if body.get("now") is not None else None
    except (ValueError, TypeError):
        raise errors.BadRequest("now must be an ISO 8601 instant with a zone, e.g. 2026-07-04T09:00:00.000Z") from None
    sandbox = current_sandbox()
    sandbox.reset_clock(now)
    used = fixtures.reset(sandbox, seed)
    sandbox.request_journal.clear()  # like WireMock's reset: a new world starts with an empty journal
    sandbox.sftp_log.clear()
    return json_response({"status": "ok", "seed": used, "now": format_date(sandbox.clock.now())})


@bp.get("/fixtures")
def get_fixtures() -> Response:
    """Credentials, keys and balances of the demo world."""
    return json_response(fixtures.as_json(current_sandbox()))


@bp.post("/population")
def population() -> Response:
    """Add generated merchants and beneficiaries (simulations); returns them with their secrets."""
    request_ = fixtures.PopulationRequest.parse(json_body())
    return json_response(fixtures.add_population(current_sandbox(), request_), 201)


@bp.get("/clock")
def clock() -> Response:
    """The sandbox's time."""
    return json_response(current_sandbox().clock_json())


@bp.post("/clock/advance")
def advance() -> Response:
    """Virtual clock: move time forward, firing due deadlines in order."""
    body = json_body()
    scheduler.advance(current_sandbox(), body.get("seconds"))
    return json_response(current_sandbox().clock_json())


@bp.post("/beneficiaries/<beneficiary_id>/act")
def act(beneficiary_id: str) -> Response:
    """Act as the beneficiary's app."""
    sandbox = current_sandbox()
    result = paying.act(sandbox, beneficiary_id, requests.parse_act(json_body()))
    return json_response(wire.act_json(result.transaction, result.pre_transaction, sandbox.clock.now()))


def _beneficiary_json(beneficiary: Any, now: Any) -> dict[str, Any]:
    return {
        "beneficiaryId": beneficiary.beneficiary_id, "email": beneficiary.email,
        "balance": beneficiary.available(now), "behaviour": beneficiary.behaviour,
        "devices": [{"id": d.device_id, "status": d.status} for d in beneficiary.devices],
    }


@bp.put("/beneficiaries/<beneficiary_id>/behaviour")
def set_behaviour(beneficiary_id: str) -> Response:
    """Set how the beneficiary's app answers on its own."""
    behaviour = json_body().get("behaviour")
    if not isinstance(behaviour, str):
        raise errors.BadRequest("behaviour must be a string")
    with current_sandbox().uow() as uow:
        beneficiary = find_beneficiary(uow, beneficiary_id)
        beneficiary.set_behaviour(behaviour, uow.now)
        uow.save(beneficiary)
        return json_response(_beneficiary_json(beneficiary, uow.now))


@bp.post("/beneficiaries/<beneficiary_id>/unblock")
def unblock(beneficiary_id: str) -> Response:
    """Re-activate devices blocked after three wrong personal codes, and unlock the app's login."""
    with current_sandbox().uow() as uow:
        beneficiary = find_beneficiary(uow, beneficiary_id)
        beneficiary.unblock_devices(uow.now)
        uow.save(beneficiary)
        return json_response(_beneficiary_json(beneficiary, uow.now))


@bp.get("/settings")
def get_settings() -> Response:
    """The sandbox rules in force."""
    return json_response(asdict(current_sandbox().current_rules()))


@bp.patch("/settings")
def patch_settings() -> Response:
    """Change sandbox rules (think time, minimum amount, strict webhooks, faults)."""
    return json_response(asdict(current_sandbox().save_rules(json_body())))


@bp.get("/webhooks")
def webhooks() -> Response:
    """Every webhook delivery with its attempts."""
    with current_sandbox().store.session() as s:
        return json_response(s.webhooks())


@bp.get("/emails")
def emails() -> Response:
    """The outbox."""
    with current_sandbox().store.session() as s:
        return json_response(s.emails())


@bp.get("/events")
def events() -> Response:
    """The timeline, oldest first (`?after=SEQ` for what is new)."""
    after = digits(request.args.get("after", "0"), "after (a sequence number)")
    with current_sandbox().store.session() as s:
        return json_response(s.events(after=after))


@bp.get("/journals")
def journals() -> Response:
    """The daily journals (DLO, BRJ) the back office wrote, oldest first, without their content."""
    return json_response(sftp_space.journals_json(current_sandbox()))


@bp.get("/journals/<name>")
def journal(name: str) -> Response:
    """One journal, as the CSV file on the SFTP space."""
    text = sftp_space.journal_text(current_sandbox(), name)
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/sftp")
def sftp() -> Response:
    """The SFTP space: where it listens, and every account with its password and keys."""
    sandbox = current_sandbox()
    return json_response(sftp_space.as_json(sandbox, sandbox.sftp))


@bp.get("/sftp/log")
def sftp_log_entries() -> Response:
    """The SFTP space's log, newest first: `?username=&action=&limit=`."""
    args = request.args
    query = sftp_log.parse_query(args.get("username"), args.get("action"), args.get("limit"))
    found = current_sandbox().sftp_log.find(**query)
    return json_response({"entries": [sftp_log.entry_json(entry) for entry in found]})


@bp.put("/sftp/accounts/<username>/keys")
def sftp_keys(username: str) -> Response:
    """Replace the public keys an SFTP account may log in with (`{"publicKeys": [...]}`)."""
    account = sftp_space.set_keys(current_sandbox(), username, json_body())
    return json_response({"username": account.username, "publicKeys": list(account.public_keys)})


# --- TLS (issue 15, item 1) ---------------------------------------------------------------
@bp.get("/tls/ca.pem")
def tls_ca() -> Response:
    """The sandbox's CA certificate (with `serve --tls`), to trust in clients."""
    return Response(tls_certificates.ca_pem(current_sandbox()), mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="ancv-sandbox-ca.pem"'})


@bp.post("/tls/certificates")
def tls_certificate() -> Response:
    """A key and a certificate signed by the sandbox's CA, for `{"hosts": [...]}` (a webhook receiver's)."""
    return json_response(tls_certificates.issue(current_sandbox(), json_body()))


# --- network faults and webhook resends (issue 15, item 3) ----------------------------------------------
@bp.post("/faults")
def add_fault() -> Response:
    """Add a network fault for the next matching Kit calls (services/faults.py)."""
    return json_response(current_sandbox().faults.add(json_body()).as_json(), 201)


@bp.get("/faults")
def list_faults() -> Response:
    """The faults in force, oldest first."""
    return json_response({"faults": [fault.as_json() for fault in current_sandbox().faults.all()]})


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    current_sandbox().faults.clear()
    return Response(status=204)


@bp.delete("/faults/<fault_id>")
def remove_fault(fault_id: str) -> Response:
    """Remove one fault."""
    current_sandbox().faults.remove(digits(fault_id, "fault id"))
    return Response(status=204)


@bp.post("/webhooks/<delivery_id>/resend")
def resend_webhook(delivery_id: str) -> Response:
    """Post a recorded webhook delivery again, with its retries."""
    return json_response(resend_delivery(current_sandbox(), digits(delivery_id, "delivery id")), 202)
