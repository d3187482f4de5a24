"""The "Espace dédié" (`/espace-ptl`): merchants log in, pick a point d'accueil, see their account.

Views parse the form, call a service, render a template; the rules (lockout, reset links,
who may see which point d'accueil) live in the domain and in services.merchant_accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from ..domain.accounts import AccountRefusal, MerchantAccount
from ..domain.merchants import PointOfSale
from ..services import merchant_accounts
from . import csrf

bp = Blueprint("portal", __name__, url_prefix="/espace-ptl")
bp.before_request(csrf.protect)

ACCOUNT, SHOP = "portal_account", "portal_shop"


def _sandbox():  # noqa: ANN202
    return current_app.extensions["ancv_sandbox"]


def _account() -> MerchantAccount | None:
    login = session.get(ACCOUNT)
    return merchant_accounts.account(_sandbox(), login) if login else None


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {"account": _account(), "csrf_token": csrf.token}


def logged_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        account = _account()
        if account is None or account.locked:
            session.pop(ACCOUNT, None)
            return redirect(url_for("portal.login"))
        return view(account, *args, **kwargs)
    return wrapper


def _points(account: MerchantAccount) -> tuple[list[PointOfSale], PointOfSale | None]:
    """The account's points d'accueil and the one selected in this session."""
    points = merchant_accounts.points_of(_sandbox(), account)
    current = next((p for p in points if p.shop_id == session.get(SHOP)), None)
    return points, current


@bp.get("/")
@logged_in
def home(account: MerchantAccount) -> Any:
    """Accueil."""
    points, current = _points(account)
    if current is None and len(points) > 1:
        return redirect(url_for("portal.choose_point"))
    return render_template("portal/home.html", points=points, current=current or (points[0] if points else None))


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    """Se connecter: N° de convention (6 chiffres) ou identifiant point d'accueil (12 chiffres)."""
    notices = get_flashed_messages()
    if request.method == "GET":
        return render_template("portal/login.html", notice=notices[0] if notices else None)
    login_text = request.form.get("login", "").strip()
    try:
        account = merchant_accounts.log_in(_sandbox(), login_text, request.form.get("password", ""))
    except AccountRefusal as refusal:
        return render_template("portal/login.html", error=str(refusal), login=login_text), 401
    session.clear()  # a new session at login: nothing carried over from before (no fixation)
    session[ACCOUNT] = account.login
    if len(account.shop_ids) == 1:
        session[SHOP] = account.shop_ids[0]
    return redirect(url_for("portal.home"))


@bp.get("/deconnexion")
def logout() -> Response:
    """Déconnexion."""
    session.clear()
    return redirect(url_for("portal.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password() -> Any:
    """Mot de passe oublié ?: an email with a link, whatever the login (no account probing)."""
    if request.method == "GET":
        return render_template("portal/forgot.html")
    login_text = request.form.get("login", "").strip()
    if not login_text:
        return render_template("portal/forgot.html", error="Indiquez votre identifiant."), 400
    merchant_accounts.request_reset(_sandbox(), login_text)
    return render_template("portal/forgot.html", sent=True)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """The link of the email: choose a new password, which unlocks the account."""
    if request.method == "GET":
        return render_template("portal/reset.html")
    password = request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        return render_template("portal/reset.html", error="Les deux mots de passe ne sont pas identiques."), 400
    try:
        merchant_accounts.reset_password(_sandbox(), token, password)
    except AccountRefusal as refusal:
        return render_template("portal/reset.html", error=str(refusal)), 400
    flash("Votre nouveau mot de passe est enregistré et votre compte est débloqué. Vous pouvez vous connecter.")
    return redirect(url_for("portal.login"))


@bp.route("/point-d-accueil", methods=["GET", "POST"])
@logged_in
def choose_point(account: MerchantAccount) -> Any:
    """An administrator chooses the point d'accueil to work for."""
    points, current = _points(account)
    if request.method == "POST":
        chosen = request.form.get("shop_id", "")
        match = next((p for p in points if str(p.shop_id) == chosen), None)
        if match is None:
            return render_template("portal/choose.html", points=points, current=current,
                                   error="Choisissez un de vos points d'accueil."), 400
        session[SHOP] = match.shop_id
        return redirect(url_for("portal.home"))
    return render_template("portal/choose.html", points=points, current=current)


@bp.get("/mon-compte")
@logged_in
def my_account(account: MerchantAccount) -> str:
    """Mon compte: Fiche point d'accueil, or Liste des points d'accueil, with the ID ANCV."""
    points, _ = _points(account)
    return render_template("portal/account.html", points=points)


@bp.get("/encaissement")
@logged_in
def cashing(account: MerchantAccount) -> str:
    """Encaissement (the cashing space comes with the next part of the portal)."""
    return render_template("portal/page.html", heading="Encaissement", paragraphs=[
        "L'espace d'encaissement (ENCAISSER, suivi des opérations, export) n'est pas encore disponible dans "
        "cette version du bac à sable.",
        "En attendant, vos opérations peuvent être créées par l'API du Kit et suivies avec GET /_sandbox/events."])


@bp.get("/remboursements")
@logged_in
def reimbursements(account: MerchantAccount) -> str:
    """Mes remboursements: empty until the back office pays merchants."""
    return render_template("portal/page.html", heading="Mes remboursements", empty=True, paragraphs=[
        "Aucun remboursement pour le moment.",
        "Les transactions validées d'une même journée sont remboursées en un virement 5 jours ouvrés après."])


@bp.get("/faq")
@logged_in
def faq(account: MerchantAccount) -> str:
    """FAQ."""
    return render_template("portal/faq.html")
