"""App' Chèque-Vacances Pro (`/pro`), phone-sized: log in, land on the list of operations ("Mes opérations /
Toutes"), ask for an immediate payment by QR code, follow it until "Validé" (seed 000). Immediate payments
only, as in the real app."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from ..domain import errors
from ..domain.accounts import AccountLocked, AccountRefusal, MerchantAccount
from ..domain.operations import WAITING
from ..services import cashing_wizard, merchant_accounts, merchant_payments, pro_app
from . import csrf
from .context import current_sandbox, log_in_session, log_out_merchant, merchant_account, merchant_required

bp = Blueprint("pro", __name__, url_prefix="/pro")
bp.before_request(csrf.protect)

ACCOUNT = "pro_account"
# The app has no "Mot de passe oublié ?" of its own: its login screen links to the Espace dédié's (seed 000),
# and the lock message names that link as it appears on the screen.
LOCKED = ("Votre compte est bloqué après 3 mots de passe erronés. Pour le débloquer, touchez « Mot de passe "
          "oublié ? » ci-dessous : un e-mail vous permettra de choisir un nouveau mot de passe.")
PRO_STATUS = {WAITING: "EN ATTENTE"}  # the app writes the other statuses in capitals


def pro_status(status: str) -> str:
    return PRO_STATUS.get(status, status.upper())


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {"account": merchant_account(ACCOUNT), "csrf_token": csrf.token, "pro_status": pro_status}


# The app cashes for one point d'accueil: an administrator of several logs in with a point's login.
logged_in = merchant_required(ACCOUNT, "pro.login", admits=lambda account: len(account.shop_ids) == 1)


@bp.get("/")
def index() -> Any:
    """Start page."""
    return redirect(url_for("pro.operations"))


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    """Identifiant and mot de passe of the point d'accueil; the 3rd wrong password locks."""
    if request.method == "GET":
        return render_template("pro/login.html")
    login_text, password = request.form.get("login", "").strip(), request.form.get("password", "")
    missing = {name: message for name, value, message in (
        ("login", login_text, "Indiquez votre identifiant."), ("password", password, "Indiquez votre mot de passe."))
        if not value}
    if missing:
        return render_template("pro/login.html", errors=missing, login=login_text), 400
    try:
        account, grant = merchant_accounts.log_in(current_sandbox(), login_text, password)
    except AccountLocked:
        return render_template("pro/login.html", error=LOCKED, login=login_text), 401
    except AccountRefusal as refusal:
        return render_template("pro/login.html", error=str(refusal), login=login_text), 401
    if len(account.shop_ids) != 1:
        return render_template("pro/login.html", login=login_text, error=(
            "Connectez-vous avec l'identifiant à 12 chiffres du point d'accueil qui encaisse.")), 401
    log_in_session((ACCOUNT,), ACCOUNT, account.login, grant)
    return redirect(url_for("pro.operations"))


@bp.post("/deconnexion")
def logout() -> Any:
    """Log out (a form with the CSRF token)."""
    log_out_merchant((ACCOUNT,), ACCOUNT)
    return redirect(url_for("pro.login"))


@bp.route("/paiement", methods=["GET", "POST"])
@logged_in
def new_payment(account: MerchantAccount) -> Any:
    """Demande de paiement: montant, N° de panier, optional libellé, référence client, identifiant vendeur."""
    if request.method == "GET":
        return render_template("pro/payment_form.html", errors={},
                               form={"order_id": cashing_wizard.next_order_id(current_sandbox(), account.shop_ids)})
    form = {name: request.form.get(name, "") for name in ("amount", "order_id", "label", "customer_ref", "assistant")}
    try:
        pre = merchant_payments.request_immediate_payment(current_sandbox(), account.shop_ids[0], form)
    except merchant_payments.FormErrors as problems:
        return render_template("pro/payment_form.html", form=form, errors=problems.fields), 400
    return redirect(url_for("pro.payment", pre_id=pre.pre_transaction_id))


def _operation(account: MerchantAccount, pre_id: str) -> Any:
    try:
        return merchant_payments.request_operation(current_sandbox(), account.shop_ids, pre_id)
    except errors.PreTransactionNotFound:
        return None


def _no_such_request() -> Any:
    return render_template("pro/operations.html", operations=[], mine=True), 404


@bp.get("/paiement/<pre_id>")
@logged_in
def payment(account: MerchantAccount, pre_id: str) -> Any:
    """Récapitulatif de paiement with the QR code while the client has not paid."""
    operation = _operation(account, pre_id)
    if operation is None:
        return _no_such_request()
    return render_template("pro/payment.html", operation=operation)


@bp.get("/paiement/<pre_id>/ticket")
@logged_in
def ticket(account: MerchantAccount, pre_id: str) -> Any:
    """"Imprimer le ticket": the payment QR code on a till receipt (Kit §6.5.1)."""
    try:
        found = merchant_payments.payment_ticket(current_sandbox(), account.shop_ids, pre_id)
    except errors.PreTransactionNotFound:
        return _no_such_request()
    return render_template("shared/ticket.html", ticket=found, back=url_for("pro.payment", pre_id=pre_id),
                           qr_src=url_for("pro.qr_code", pre_id=pre_id))


@bp.get("/paiement/<pre_id>/statut")
@logged_in
def payment_status(account: MerchantAccount, pre_id: str) -> Any:
    """The status the page polls."""
    operation = _operation(account, pre_id)
    if operation is None:
        return jsonify({"status": None}), 404
    return jsonify({"status": operation.status, "received": operation.received})


@bp.get("/paiement/<pre_id>/qr.png")
@logged_in
def qr_code(account: MerchantAccount, pre_id: str) -> Response:
    """The payment QR code (the same image the Kit API gives)."""
    if _operation(account, pre_id) is None:
        return Response(status=404)
    return Response(current_sandbox().qr_png(pre_id), mimetype="image/png")


@bp.get("/operations")
@logged_in
def operations(account: MerchantAccount) -> str:
    """Liste des opérations, where the app opens: "Mes opérations" (asked from the app) or "Toutes"
    (?vue=toutes); Demandé, Reçu, Reste à payer, statut."""
    mine = request.args.get("vue") != "toutes"
    return render_template("pro/operations.html", mine=mine,
                           operations=pro_app.operations(current_sandbox(), account.shop_ids, mine_only=mine))


@bp.get("/profil")
@logged_in
def profile(account: MerchantAccount) -> str:
    """Mon profil."""
    return render_template("pro/profile.html", point=merchant_accounts.points_of(current_sandbox(), account)[0])
