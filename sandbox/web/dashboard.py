"""The dashboard at `/` (what runs, the clock, demo credentials, links, the timeline), the mailbox
`/_sandbox/mail` and the cahier de recette `/recette`, for people; all behind the admin token when one is set."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from ..adapters.clock import VIRTUAL
from ..domain import errors
from ..services import fixtures, recette, scheduler
from . import csrf, recette_report
from .context import current_sandbox
from .control import ADMIN_SESSION, admin_grant, is_admin
from .jsonin import ascii_number

bp = Blueprint("dashboard", __name__)
bp.before_request(csrf.protect)

ADVANCES = [("+1 min", 60), ("+5 min", 300), ("+1 h", 3600), ("+1 jour", 86400)]
MAX_ADVANCE_DIGITS = 9  # about 31 years in seconds: more is a typo, and the scheduler refuses it anyway
MAX_INDEX_DIGITS = 9
MAX_HOLDER_DIGITS = 12  # a shopId or a serviceProviderId


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


# --- the cahier de recette (issue 17): start a campaign, follow its cases live, end it ------------------------

HOLDER_REFUSALS: dict[type[errors.KitError], str] = {
    recette.HolderNotFound: "Ce titulaire n'existe pas (ou plus) dans le bac à sable : choisissez-en un dans la liste.",
}


def _recette_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    sandbox = current_sandbox()
    world = fixtures.as_json(sandbox)
    made = {shop for campaign in sandbox.recette.all() for shop in campaign.shops}  # each case's own point of sale
    holders = {"shops": [p for p in world["pointsOfSale"] if p["shopId"] not in made],
               "providers": world["serviceProviders"]}
    campaigns = [recette_report.campaign_line(recette.campaign_line(sandbox, c)) for c in sandbox.recette.all()]
    return render_template("dashboard/recette.html", holders=holders, campaigns=campaigns, error=error,
                           csrf_token=csrf.token), status


@bp.get("/recette")
def recette_home() -> tuple[str, int]:
    """The form that starts a campaign, and the campaigns so far."""
    return _recette_page()


@bp.post("/recette")
def start_recette() -> Any:
    """Start a campaign for the holder chosen (every case of the catalogue for its kind)."""
    kind, _, number = request.form.get("holder", "").partition(":")
    holder_id = ascii_number(number, MAX_HOLDER_DIGITS)
    if holder_id is None:
        return _recette_page("Choisissez un point d'accueil ou un prestataire de services dans la liste.", 400)
    try:
        campaign = recette.start(current_sandbox(), {"holder": {"kind": kind, "id": holder_id}, "cases": None})
    except errors.KitError as error:
        message = HOLDER_REFUSALS.get(type(error), "La campagne n'a pas pu commencer : choisissez un point "
                                                   "d'accueil ou un prestataire de services dans la liste.")
        return _recette_page(message, error.status)
    return redirect(url_for("dashboard.recette_campaign", campaign_id=campaign.campaign_id))


@bp.get("/recette/<campaign_id>")
def recette_campaign(campaign_id: str) -> str:
    """One campaign's cases as a checklist that follows `GET /_sandbox/recette/{id}` every second."""
    try:
        current_sandbox().recette.get(campaign_id)
    except recette.CampaignNotFound:
        abort(404)
    return render_template("dashboard/recette_campaign.html", campaign_id=campaign_id,
                           verdicts=recette_report.VERDICTS, campaign_statuses=recette_report.CAMPAIGN_STATUSES,
                           holder_kinds=recette_report.HOLDER_KINDS, csrf_token=csrf.token)


@bp.post("/recette/<campaign_id>/terminer")
def end_recette(campaign_id: str) -> Any:
    """« Terminer la campagne »: cases still waiting are not played, cases still running fail."""
    try:
        recette.end(current_sandbox(), campaign_id)
    except recette.CampaignNotFound:
        abort(404)
    return redirect(url_for("dashboard.recette_campaign", campaign_id=campaign_id))
