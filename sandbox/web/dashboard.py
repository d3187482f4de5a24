"""The dashboard at `/` (what runs, the clock, demo credentials, links, the timeline) and the
mailbox `/_sandbox/mail`, for people; both behind the admin token when one is set."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from ..adapters.clock import VIRTUAL
from ..domain import errors
from ..services import fixtures, scheduler
from . import csrf
from .context import current_sandbox
from .control import ADMIN_SESSION, admin_grant, is_admin
from .jsonin import ascii_number

bp = Blueprint("dashboard", __name__)
bp.before_request(csrf.protect)

ADVANCES = [("+1 min", 60), ("+5 min", 300), ("+1 h", 3600), ("+1 jour", 86400)]
MAX_ADVANCE_DIGITS = 9  # about 31 years in seconds: more is a typo, and the scheduler refuses it anyway
MAX_INDEX_DIGITS = 9


@bp.before_request
def _admin_only() -> Any:
    if request.endpoint != "dashboard.unlock" and not is_admin():
        return render_template("dashboard/unlock.html", csrf_token=csrf.token), 401
    return None


@bp.post("/deverrouiller")
def unlock() -> Any:
    """Give the admin token once; the browser session keeps it."""
    token = current_sandbox().settings.admin_token or ""
    if hmac.compare_digest(request.form.get("token", "").encode(), token.encode()):
        session[ADMIN_SESSION] = admin_grant(token)
        return redirect(url_for("dashboard.home"))
    return render_template("dashboard/unlock.html", csrf_token=csrf.token, error="Jeton incorrect."), 401


@bp.get("/")
def home() -> str:
    """What runs, the clock, who is who, where everything is."""
    sandbox = current_sandbox()
    with sandbox.store.session() as s:
        recent = s.events(after=0)[-30:]
    return render_template("dashboard/home.html", sandbox=sandbox, clock=sandbox.clock_json(),
                           virtual_clock=sandbox.clock.mode == VIRTUAL, world=fixtures.as_json(sandbox),
                           events=list(reversed(recent)), advances=ADVANCES, csrf_token=csrf.token)


@bp.post("/horloge")
def advance_clock() -> Any:
    """The dashboard's advance buttons (virtual clock)."""
    seconds = ascii_number(request.form.get("seconds", ""), MAX_ADVANCE_DIGITS)
    if seconds is None:
        abort(400)
    try:
        scheduler.advance(current_sandbox(), seconds)
    except (scheduler.NotVirtualClock, errors.BadRequest):
        abort(409)
    return redirect(url_for("dashboard.home"))


@bp.get("/requetes")
def request_journal() -> str:
    """The request journal (`/_sandbox/requests`), live, with filters."""
    return render_template("dashboard/requests.html")


@bp.get("/_sandbox/mail")
def mailbox() -> str:
    """The outbox, newest first, read like a mail catcher."""
    with current_sandbox().store.session() as s:
        mails = list(reversed(s.emails()))
    chosen = ascii_number(request.args.get("n", ""), MAX_INDEX_DIGITS)
    selected = mails[chosen] if chosen is not None and chosen < len(mails) else (mails[0] if mails else None)
    return render_template("dashboard/mail.html", mails=mails, selected=selected)
