"""The "Espace dédié" (`/espace-ptl`): merchants log in, pick a point d'accueil, see their account.

Views parse the form, call a service, render a template; the rules (lockout, reset links,
who may see which point d'accueil) live in the domain and in services.merchant_accounts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from ..domain import operations
from ..domain.accounts import AccountRefusal, MerchantAccount
from ..domain.merchants import PointOfSale
from ..domain.operations import Operation
from ..services import merchant_accounts, merchant_payments
from ..services.emails import euros, french_date
from . import csrf, exports
from .context import current_sandbox, merchant_account, merchant_required

bp = Blueprint("portal", __name__, url_prefix="/espace-ptl")
bp.before_request(csrf.protect)

ACCOUNT, SHOP = "portal_account", "portal_shop"


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {"account": merchant_account(ACCOUNT), "csrf_token": csrf.token}


logged_in = merchant_required(ACCOUNT, "portal.login")


def _points(account: MerchantAccount) -> tuple[list[PointOfSale], PointOfSale | None]:
    """The account's points d'accueil and the one selected in this session."""
    points = merchant_accounts.points_of(current_sandbox(), account)
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
        account = merchant_accounts.log_in(current_sandbox(), login_text, request.form.get("password", ""))
    except AccountRefusal as refusal:
        return render_template("portal/login.html", error=str(refusal), login=login_text), 401
    session.clear()  # a new session at login: nothing carried over from before (no fixation)
    session[ACCOUNT] = account.login
    if len(account.shop_ids) == 1:
        session[SHOP] = account.shop_ids[0]
    return redirect(url_for("portal.home"))


@bp.get("/deconnexion")
def logout() -> Any:
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
    merchant_accounts.request_reset(current_sandbox(), login_text)
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
        merchant_accounts.reset_password(current_sandbox(), token, password)
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


STATUSES = [operations.WAITING, operations.TO_VALIDATE, operations.VALIDATED, operations.CANCELLED,
            operations.EXPIRED, operations.REFUSED]
KINDS = [operations.IMMEDIATE, operations.DELAYED, operations.PRE_BOOKING, operations.DELAYED_PRE_BOOKING]


def _current_shop(account: MerchantAccount) -> PointOfSale | None:
    points, current = _points(account)
    return current or (points[0] if len(points) == 1 else None)


def _filtered(shop_id: int) -> tuple[list[Operation], dict[str, str], str | None]:
    """The operations of a point d'accueil through the table's filters (from the query string)."""
    filters = {k: request.args.get(k, "").strip() for k in ("from", "to", "status", "kind", "order")}
    filters = {k: v for k, v in filters.items() if v}
    days, date_error = {}, None
    for key in ("from", "to"):
        if key in filters:
            try:
                days[key] = date.fromisoformat(filters[key])
            except ValueError:
                date_error = "Indiquez les dates au format jj/mm/aaaa."
    found = merchant_payments.filter_operations(
        merchant_payments.operations_of(current_sandbox(), [shop_id]), day_from=days.get("from"), day_to=days.get("to"),
        status=filters.get("status", "") if filters.get("status") in STATUSES else "",
        kind=filters.get("kind", "") if filters.get("kind") in KINDS else "", order_id=filters.get("order", ""))
    return found, filters, date_error


@bp.get("/encaissement")
@logged_in
def cashing(account: MerchantAccount) -> Any:
    """Espace d'encaissement: counters, the operations table with its filters and actions."""
    current = _current_shop(account)
    if current is None:
        return redirect(url_for("portal.choose_point"))
    found, filters, date_error = _filtered(current.shop_id)
    every = merchant_payments.operations_of(current_sandbox(), [current.shop_id])
    counts = {"to_validate": sum(o.status == operations.TO_VALIDATE for o in every),
              "waiting": sum(o.status == operations.WAITING for o in every)}
    notices = get_flashed_messages()
    return render_template("portal/cashing.html", current=current, operations=found, filters=filters,
                           date_error=date_error, counts=counts, statuses=STATUSES, kinds=KINDS,
                           error=notices[0] if notices else None, **_money())


def _money() -> dict[str, Any]:
    return {"euros": euros, "french_date": french_date, "to_validate": operations.TO_VALIDATE,
            "waiting": operations.WAITING, "plain": lambda cents: f"{cents // 100},{cents % 100:02d}"}


def _operation(account: MerchantAccount, ref: str) -> tuple[PointOfSale, Operation] | None:
    current = _current_shop(account)
    if current is None:
        return None
    found = merchant_payments.operations_of(current_sandbox(), [current.shop_id])
    match = next((o for o in found if ref in (o.transaction_id, o.pre_transaction_id)), None)
    return (current, match) if match else None


@bp.get("/encaissement/operations/<ref>")
@logged_in
def operation(account: MerchantAccount, ref: str) -> Any:
    """🔍 the details of one operation, with its actions."""
    found = _operation(account, ref)
    if found is None:
        return render_template("portal/page.html", heading="Opération introuvable",
                               paragraphs=["Cette opération n'existe pas pour ce point d'accueil."]), 404
    return render_template("portal/operation.html", operation=found[1], errors={}, **_money())


@bp.post("/encaissement/operations/<ref>/valider")
@logged_in
def validate(account: MerchantAccount, ref: str) -> Any:
    """✓ Valider la pré-réservation (the amount may be lowered, never raised)."""
    found = _operation(account, ref)
    if found is None:
        return redirect(url_for("portal.cashing"))
    amount = request.form.get("amount", "")
    try:
        merchant_payments.validate_pre_booking(current_sandbox(), [found[0].shop_id], ref, amount)
    except merchant_payments.FormErrors as problems:
        return render_template("portal/operation.html", operation=found[1], errors=problems.fields,
                               form_amount=amount, **_money()), 400
    return redirect(url_for("portal.operation", ref=ref))


@bp.post("/encaissement/operations/<ref>/annuler")
@logged_in
def cancel(account: MerchantAccount, ref: str) -> Any:
    """✗ Annuler l'opération, once confirmed."""
    found = _operation(account, ref)
    if found is None or request.form.get("confirm") != "oui":
        return redirect(url_for("portal.cashing"))
    shop, op = found
    try:
        merchant_payments.cancel_operation(current_sandbox(), [shop.shop_id], op.transaction_id,
                                           None if op.transaction_id else op.pre_transaction_id)
    except merchant_payments.FormErrors as problems:
        return render_template("portal/operation.html", operation=op, errors=problems.fields, **_money()), 400
    return redirect(url_for("portal.operation", ref=ref))


@bp.get("/encaissement/export.<fmt>")
@logged_in
def export(account: MerchantAccount, fmt: str) -> Any:
    """Exporter: the filtered table as .xlsx or .csv."""
    current = _current_shop(account)
    if current is None or fmt not in ("xlsx", "csv"):
        return redirect(url_for("portal.cashing"))
    found, _, _ = _filtered(current.shop_id)
    name = f"operations-{current.shop_id}.{fmt}"
    if fmt == "csv":
        body, mimetype = exports.as_csv(found), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.as_xlsx(found), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
