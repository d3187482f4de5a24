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

from ..domain import errors, operations
from ..domain.accounts import AccountRefusal, MerchantAccount
from ..domain.cashing import IDENTIFIER, QR, Choice, FormErrors
from ..domain.dates import paris_day
from ..domain.merchants import PointOfSale
from ..domain.operations import Operation
from ..services import cashing_wizard, merchant_accounts, merchant_payments, reimbursements
from . import csrf, exports
from .context import current_sandbox, log_in_session, log_out_merchant, merchant_account, merchant_required

bp = Blueprint("portal", __name__, url_prefix="/espace-ptl")
bp.before_request(csrf.protect)

ACCOUNT, SHOP, DRAFT = "portal_account", "portal_shop", "portal_encaisser"
SURFACE = (ACCOUNT, SHOP, DRAFT)  # this surface's session keys


# The top menu of the guide (seeds 001, 002): label, endpoint, its arguments, the endpoints (by prefix) the
# item stands for, sub-items. Rubriques the sandbox does not model open a page that says so (UNMODELLED).
Item = tuple[str, str, dict[str, Any], tuple[str, ...], list[tuple[str, str, dict[str, Any]]]]
MENU: list[Item] = [
    ("Accueil", "portal.home", {}, ("portal.home", "portal.choose_point"), []),
    ("Mon compte", "portal.my_account", {}, ("portal.my_account",), []),
    ("Encaissement", "portal.cashing", {}, ("portal.cash", "portal.operation", "portal.validate", "portal.cancel",
                                            "portal.export"),
     [("Espace d'encaissement", "portal.cashing", {})]),
    ("Mes remboursements", "portal.reimbursements", {}, ("portal.reimburse",), []),
    ("Mes données mises en ligne", "portal.unmodelled", {"slug": "mes-donnees-mises-en-ligne"}, (), []),
    ("Mes demandes", "portal.unmodelled", {"slug": "mes-demandes"}, (), []),
    ("Ma documentation", "portal.unmodelled", {"slug": "ma-documentation"}, (), []),
    ("FAQ", "portal.faq", {}, ("portal.faq",), []),
]
# The menu of the public pages, before logging in (seed 002's first screen).
PUBLIC_MENU: list[Item] = [
    ("Accueil", "portal.home", {}, ("portal.home",), []),
    ("Notice relative à la signature électronique", "portal.unmodelled", {"slug": "signature-electronique"}, (), []),
    ("Informations", "portal.unmodelled", {"slug": "informations"}, (), []),
    ("FAQ", "portal.faq", {}, ("portal.faq",), []),
]
# slug → (heading, whether it needs a login, what the real rubrique holds)
UNMODELLED: dict[str, tuple[str, bool, str]] = {
    "mes-donnees-mises-en-ligne": ("Mes données mises en ligne", True,
                                   "Dans l'Espace dédié, cette rubrique présente les informations publiées sur "
                                   "votre établissement."),
    "mes-demandes": ("Mes demandes", True, "Dans l'Espace dédié, cette rubrique suit vos demandes auprès de l'ANCV."),
    "ma-documentation": ("Ma documentation", True,
                         "Dans l'Espace dédié, cette rubrique rassemble vos documents (convention, guides)."),
    "signature-electronique": ("Notice relative à la signature électronique", False,
                               "Cette notice explique comment la convention est signée électroniquement."),
    "informations": ("Informations", False, "Cette page présente les informations générales de l'ANCV."),
    "creer-mon-compte": ("Créer mon compte", False,
                         "Dans le bac à sable, les comptes existent déjà : ceux de démonstration sont sur le "
                         "tableau de bord et dans GET /_sandbox/fixtures."),
}
NOT_SIMULATED = "Cette rubrique n'est pas simulée par le bac à sable."


def _menu(items: list[Item]) -> list[dict[str, Any]]:
    """The menu as the template draws it, the rubrique of the current page marked."""
    here, slug = request.endpoint or "", (request.view_args or {}).get("slug")

    def current(endpoint: str, args: dict[str, Any], covers: tuple[str, ...]) -> bool:
        if endpoint == "portal.unmodelled":
            return here == endpoint and slug == args.get("slug")
        return any(here.startswith(prefix) for prefix in covers)

    return [{"label": label, "url": url_for(endpoint, **args), "current": current(endpoint, args, covers),
             "children": [{"label": sub, "url": url_for(sub_endpoint, **sub_args)}
                          for sub, sub_endpoint, sub_args in children]}
            for label, endpoint, args, covers, children in items]


@bp.context_processor
def _inject() -> dict[str, Any]:
    account = merchant_account(ACCOUNT)
    return {"account": account, "csrf_token": csrf.token, "menu": _menu(MENU if account else PUBLIC_MENU)}


logged_in = merchant_required(ACCOUNT, "portal.login")


def _points(account: MerchantAccount) -> tuple[list[PointOfSale], PointOfSale | None]:
    """The account's points d'accueil and the one selected in this session."""
    points = merchant_accounts.points_of(current_sandbox(), account)
    current = next((p for p in points if p.shop_id == session.get(SHOP)), None)
    return points, current


@bp.get("/")
def home() -> Any:
    """Accueil: the public welcome page (Se connecter, Créer mon compte), or the logged-in merchant's."""
    account = merchant_account(ACCOUNT)
    if account is None:
        return render_template("portal/welcome.html")
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
    login_text, password = request.form.get("login", "").strip(), request.form.get("password", "")
    missing = {name: message for name, value, message in (
        ("login", login_text, "Indiquez votre N° de convention ou votre identifiant point d'accueil."),
        ("password", password, "Indiquez votre mot de passe.")) if not value}
    if missing:
        return render_template("portal/login.html", errors=missing, login=login_text), 400
    try:
        account, grant = merchant_accounts.log_in(current_sandbox(), login_text, password)
    except AccountRefusal as refusal:
        return render_template("portal/login.html", error=str(refusal), login=login_text), 401
    log_in_session(SURFACE, ACCOUNT, account.login, grant)
    if len(account.shop_ids) == 1:
        session[SHOP] = account.shop_ids[0]
    return redirect(url_for("portal.home"))


@bp.post("/deconnexion")
def logout() -> Any:
    """Déconnexion (a form with the CSRF token: another site cannot log the merchant out)."""
    log_out_merchant(SURFACE, ACCOUNT)
    return redirect(url_for("portal.home"))


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
    """The link of the email: choose a new password, which unlocks the account; a link already used,
    expired or unknown says so instead of showing a form that could only fail."""
    if not merchant_accounts.reset_link_usable(current_sandbox(), token):
        return render_template("portal/reset.html", spent=True), 410
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


def _filtered(every: list[Operation]) -> tuple[list[Operation], dict[str, str], str | None]:
    """A point d'accueil's operations through the table's filters (from the query string)."""
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
        every, day_from=days.get("from"), day_to=days.get("to"),
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
    every = merchant_payments.operations_of(current_sandbox(), [current.shop_id])
    found, filters, date_error = _filtered(every)
    counts = {"to_validate": sum(o.can_validate for o in every), "waiting": sum(o.awaiting_payment for o in every)}
    notices = get_flashed_messages()
    return render_template("portal/cashing.html", current=current, operations=found, filters=filters,
                           date_error=date_error, counts=counts, statuses=STATUSES, kinds=KINDS,
                           error=notices[0] if notices else None)


def _operation(account: MerchantAccount, ref: str) -> tuple[PointOfSale, Operation] | None:
    current = _current_shop(account)
    if current is None:
        return None
    match = merchant_payments.operation(current_sandbox(), [current.shop_id], ref)
    return (current, match) if match else None


def _no_such_operation() -> Any:
    return render_template("portal/page.html", heading="Opération introuvable",
                           paragraphs=["Cette opération n'existe pas pour ce point d'accueil."]), 404


@bp.get("/encaissement/operations/<ref>")
@logged_in
def operation(account: MerchantAccount, ref: str) -> Any:
    """🔍 the details of one operation, with its actions."""
    found = _operation(account, ref)
    if found is None:
        return _no_such_operation()
    notices = get_flashed_messages()
    return render_template("portal/operation.html", operation=found[1], notice=notices[0] if notices else None)


# ✓ and ✗ open a window of their own (seeds 001/002, "Choix 1" and "Choix 2"): a page that works without
# JavaScript, shown as a modal dialog by portal-windows.js. Nothing changes until its form is posted:
# cancelling needs the window's "OUI" (confirm=oui), whatever else is posted.
BACK_TO_LIST = "operations"


def _back(ref: str) -> str:
    """Where "Fermer sans valider" / "NON" lead without JavaScript: the table or the operation's detail."""
    if request.values.get("retour") == BACK_TO_LIST:
        return url_for("portal.cashing")
    return url_for("portal.operation", ref=ref)


def _window(template: str, op: Operation, ref: str, status: int = 200, **context: Any) -> Any:
    return render_template(template, operation=op, ref=ref, back=_back(ref),
                           retour=BACK_TO_LIST if request.values.get("retour") == BACK_TO_LIST else "",
                           **context), status


@bp.get("/encaissement/operations/<ref>/valider")
@logged_in
def validate_window(account: MerchantAccount, ref: str) -> Any:
    """✓ the "VALIDER LA PRÉ-RÉSERVATION" window: amount (lowered only), payment date, deadline."""
    found = _operation(account, ref)
    if found is None:
        return _no_such_operation()
    op = found[1]
    if not op.can_validate or not op.transaction_id:
        return redirect(url_for("portal.operation", ref=ref))
    if op.transaction_id != ref:  # named by its payment request (parcours D): the payment is what is validated
        return redirect(url_for("portal.validate_window", ref=op.transaction_id, retour=request.args.get("retour")))
    return _window("portal/validate.html", op, ref, errors={})


@bp.post("/encaissement/operations/<ref>/valider")
@logged_in
def validate(account: MerchantAccount, ref: str) -> Any:
    """"Valider" in the window: the amount may be lowered, never raised."""
    found = _operation(account, ref)
    if found is None:
        return redirect(url_for("portal.cashing"))
    amount = request.form.get("amount", "")
    try:
        merchant_payments.validate_pre_booking(current_sandbox(), [found[0].shop_id], ref, amount)
    except merchant_payments.FormErrors as problems:
        return _window("portal/validate.html", found[1], ref, 400, errors=problems.fields, form_amount=amount)
    flash(operations.VALIDATION_DONE)
    return redirect(url_for("portal.operation", ref=ref))


@bp.get("/encaissement/operations/<ref>/annuler")
@logged_in
def cancel_window(account: MerchantAccount, ref: str) -> Any:
    """✗ the "ANNULER L'OPÉRATION" window: "Voulez-vous annuler l'opération suivante ?", NON / OUI."""
    found = _operation(account, ref)
    if found is None:
        return _no_such_operation()
    if not found[1].can_cancel:
        return redirect(url_for("portal.operation", ref=ref))
    return _window("portal/cancel.html", found[1], ref, errors={},
                   question=operations.cancellation_question(found[1]))


@bp.post("/encaissement/operations/<ref>/annuler")
@logged_in
def cancel(account: MerchantAccount, ref: str) -> Any:
    """"OUI" in the window: the operation is cancelled; anything else shows the window again."""
    found = _operation(account, ref)
    if found is None:
        return redirect(url_for("portal.cashing"))
    if request.form.get("confirm") != "oui":
        return redirect(url_for("portal.cancel_window", ref=ref))
    shop, op = found
    try:
        merchant_payments.cancel_operation(current_sandbox(), [shop.shop_id], op.transaction_id,
                                           None if op.transaction_id else op.pre_transaction_id)
    except merchant_payments.FormErrors as problems:
        return _window("portal/cancel.html", op, ref, 400, errors=problems.fields,
                       question=operations.cancellation_question(op))
    flash(operations.cancellation_done(op))
    return redirect(url_for("portal.operation", ref=ref))


@bp.get("/encaissement/export.<fmt>")
@logged_in
def export(account: MerchantAccount, fmt: str) -> Any:
    """Exporter: the filtered table as .xlsx or .csv."""
    current = _current_shop(account)
    if current is None or fmt not in ("xlsx", "csv"):
        return redirect(url_for("portal.cashing"))
    found, _, _ = _filtered(merchant_payments.operations_of(current_sandbox(), [current.shop_id]))
    name = f"operations-{current.shop_id}.{fmt}"
    body = exports.as_csv(found) if fmt == "csv" else exports.as_xlsx(found)
    return _download(body, fmt, name)


def _download(body: bytes, fmt: str, name: str) -> Response:
    # content_type, not mimetype: Werkzeug appends a second "; charset=utf-8" to a text/* mimetype
    return Response(body, content_type=exports.CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- ENCAISSER: the 4-step wizard (seeds 001, 002; SPEC §8) ------------------------------------------
# The draft lives in the session (DRAFT): the point d'accueil it is for, an id that makes "Envoyer"
# safe to repeat, steps 1 and 2 as typed, and the QR request shown at step 3.


def _drop_qr_request(account: MerchantAccount, draft: dict[str, Any]) -> None:
    """The QR code shown at step 3 is withdrawn (Annuler, Changer de mode) unless the client already paid."""
    pre_id, shop_id = draft.pop("qr", None), draft.get("shop")
    if pre_id and shop_id in account.shop_ids:
        cashing_wizard.withdraw_qr_code(current_sandbox(), shop_id, pre_id)


def _draft(account: MerchantAccount, shop: PointOfSale) -> dict[str, Any]:
    """This point d'accueil's draft; one left for another point is withdrawn and forgotten."""
    draft = dict(session.get(DRAFT) or {})
    if draft and draft.get("shop") != shop.shop_id:
        _drop_qr_request(account, draft)
        session.pop(DRAFT, None)
        draft = {}
    return draft


def _wizard(template: str, step: int, choice: Choice | None, status: int = 200, **context: Any) -> Any:
    titles = ["Choix du paiement", choice.title if choice else "Demande", "Confirmation", "Détail du paiement"]
    if template == "portal/wizard_qr.html":
        titles[2] = "QR Code de paiement"
    return render_template(template, step=step, titles=titles, choice=choice, **context), status


@bp.route("/encaisser", methods=["GET", "POST"])
@logged_in
def cash_choice(account: MerchantAccount) -> Any:
    """Step 1, Choix du paiement: immediately or deferred (deadline in days), validation delay, email."""
    shop = _current_shop(account)
    if shop is None:
        return redirect(url_for("portal.choose_point"))
    draft, today = _draft(account, shop), paris_day(current_sandbox().clock.now())
    if request.method == "GET":
        form = draft.get("choice") or Choice.first_form(account.remembered_email)
        return _wizard("portal/wizard_choice.html", 1, None, form=form, errors={}, today=today)
    form = {k: request.form.get(k, "") for k in ("timing", "payment_days", "validation", "validation_days",
                                                 "email", "remember")}
    try:
        choice = cashing_wizard.choose(current_sandbox(), form, account.login)
    except FormErrors as problems:
        return _wizard("portal/wizard_choice.html", 1, None, 400, form=form, errors=problems.fields, today=today)
    _drop_qr_request(account, draft)
    before = _choice(draft)
    session[DRAFT] = {"shop": shop.shop_id, "id": draft.get("id") or cashing_wizard.new_draft_id(current_sandbox()),
                      "choice": choice.to_form(),
                      "demand": draft.get("demand") if before and before.parcours == choice.parcours else None}
    return redirect(url_for("portal.cash_demand"))


def _choice(draft: dict[str, Any]) -> Choice | None:
    try:
        return Choice.parse(draft["choice"]) if draft.get("choice") else None
    except FormErrors:
        return None


def _demand_page(choice: Choice, form: dict[str, str], problems: dict[str, str], status: int) -> Any:
    return _wizard("portal/wizard_demand.html", 2, choice, status, form=form, errors=problems,
                   minimum=current_sandbox().rules.minimumAmountCents)


@bp.route("/encaisser/demande", methods=["GET", "POST"])
@logged_in
def cash_demand(account: MerchantAccount) -> Any:
    """Step 2, Demande: amount, N° de panier, QR code or the client's identifier / email, optional fields."""
    shop = _current_shop(account)
    draft = _draft(account, shop) if shop else {}
    choice = _choice(draft)
    if choice is None or shop is None:
        return redirect(url_for("portal.cash_choice"))
    if request.method == "GET":
        form = draft.get("demand") or {"mode": choice.client_modes[0],
                                       "order_id": cashing_wizard.next_order_id(current_sandbox(), [shop.shop_id])}
        return _demand_page(choice, form, {}, 200)
    form = {k: request.form.get(k, "") for k in ("amount", "order_id", "mode", "client", "label", "customer_ref",
                                                 "assistant")}
    try:  # the QR code shown for this draft before gives way to the new demand's
        demand, shown = cashing_wizard.ask(current_sandbox(), shop.shop_id, choice, form, draft.pop("qr", None))
    except FormErrors as problems:
        return _demand_page(choice, form, problems.fields, 400)
    if shown is not None:
        draft["qr"] = shown.pre_transaction_id
    session[DRAFT] = {**draft, "demand": demand.to_form()}
    return redirect(url_for("portal.cash_confirm"))


@bp.route("/encaisser/confirmation", methods=["GET", "POST"])
@logged_in
def cash_confirm(account: MerchantAccount) -> Any:
    """Step 3: the QR code to show (parcours A by QR), or the summary to check before "Envoyer"."""
    shop = _current_shop(account)
    draft = _draft(account, shop) if shop else {}
    choice = _choice(draft)
    if choice is None or shop is None or not draft.get("demand"):
        return redirect(url_for("portal.cash_choice"))
    status = 400 if request.method == "POST" else 200
    try:  # step 2 as saved may no longer hold (mode changed, minimum amount raised): back to it
        demand = cashing_wizard.read_demand(current_sandbox(), choice, draft["demand"])
    except FormErrors as problems:
        return _demand_page(choice, draft["demand"], problems.fields, status)
    if demand.mode == QR:
        found = _operation(account, draft.get("qr") or "")
        if found is None:
            return redirect(url_for("portal.cash_demand"))
        if request.method == "POST":
            session.pop(DRAFT, None)
            return redirect(url_for("portal.cash_detail", ref=found[1].pre_transaction_id))
        return _wizard("portal/wizard_qr.html", 3, choice, demand=demand, operation=found[1])
    now = current_sandbox().clock.now()
    if request.method == "GET":
        return _wizard("portal/wizard_confirm.html", 3, choice, demand=demand,
                       payment_deadline=choice.payment_deadline(now), capture_date=choice.capture_date(now))
    try:
        ref = cashing_wizard.send_request(current_sandbox(), shop.shop_id, choice, demand, draft["id"])
    except FormErrors as problems:  # the client cannot be asked: back to the field to correct
        return _demand_page(choice, demand.to_form(), problems.fields, status)
    session.pop(DRAFT, None)
    return redirect(url_for("portal.cash_detail", ref=ref))


@bp.post("/encaisser/changer-de-mode")
@logged_in
def cash_change_mode(account: MerchantAccount) -> Any:
    """"Changer de mode d'encaissement": the QR code is withdrawn, the client's identifier asked instead."""
    shop = _current_shop(account)
    draft = _draft(account, shop) if shop else {}
    if draft:
        _drop_qr_request(account, draft)
        if draft.get("demand"):
            draft["demand"] = {**draft["demand"], "mode": IDENTIFIER}
        session[DRAFT] = draft
    return redirect(url_for("portal.cash_demand"))


@bp.post("/encaisser/annuler")
@logged_in
def cash_cancel(account: MerchantAccount) -> Any:
    """"Annuler": the draft is dropped (and a QR code shown is withdrawn)."""
    _drop_qr_request(account, dict(session.pop(DRAFT, None) or {}))
    return redirect(url_for("portal.cashing"))


@bp.get("/encaisser/qr/<pre_id>.png")
@logged_in
def cash_qr(account: MerchantAccount, pre_id: str) -> Any:
    """The payment QR code of step 3 (the image the Kit API gives)."""
    found = _operation(account, pre_id)
    if found is None or found[1].pre_transaction_id != pre_id:
        return Response(status=404)
    return Response(current_sandbox().qr_png(pre_id), mimetype="image/png")


@bp.get("/encaisser/qr/<pre_id>/ticket")
@logged_in
def cash_ticket(account: MerchantAccount, pre_id: str) -> Any:
    """"Imprimer le ticket": the payment QR code on a till receipt (Kit §6.5.1)."""
    current = _current_shop(account)
    try:
        ticket = merchant_payments.payment_ticket(current_sandbox(), [current.shop_id] if current else [], pre_id)
    except errors.PreTransactionNotFound:
        return _no_such_operation()
    return render_template("shared/ticket.html", ticket=ticket, back=url_for("portal.cash_confirm"),
                           qr_src=url_for("portal.cash_qr", pre_id=pre_id))


@bp.get("/encaisser/paiement/<ref>")
@logged_in
def cash_detail(account: MerchantAccount, ref: str) -> Any:
    """Step 4, Détail du paiement: follows the client's answer live."""
    found = _operation(account, ref)
    if found is None:
        return _no_such_operation()
    return _wizard("portal/wizard_detail.html", 4, None, operation=found[1], ref=ref)


# --- Mes remboursements: the bank transfers of the back office (SPEC §7–8) ------------------------------

def _refunds_page(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(template, none_yet=reimbursements.NONE_YET, how_it_works=reimbursements.HOW_IT_WORKS,
                           **context), status


@bp.get("/remboursements", endpoint="reimbursements")
@logged_in
def reimbursements_list(account: MerchantAccount) -> Any:
    """Mes remboursements: the point d'accueil's bank transfers, the latest first."""
    current = _current_shop(account)
    if current is None:
        return redirect(url_for("portal.choose_point"))
    found = reimbursements.reimbursements_of(current_sandbox(), [current.shop_id])
    return _refunds_page("portal/reimbursements.html", current=current, transfers=found)


@bp.get("/remboursements/export.<fmt>")
@logged_in
def reimbursements_export(account: MerchantAccount, fmt: str) -> Any:
    """Exporter: one line per reimbursed transaction, as .xlsx or .csv."""
    current = _current_shop(account)
    if current is None or fmt not in ("xlsx", "csv"):
        return redirect(url_for("portal.reimbursements"))
    found = reimbursements.reimbursed_transactions(current_sandbox(), [current.shop_id])
    name = f"remboursements-{current.shop_id}.{fmt}"
    body = exports.refunds_csv(found) if fmt == "csv" else exports.refunds_xlsx(found)
    return _download(body, fmt, name)


@bp.get("/remboursements/<transfer_id>")
@logged_in
def reimbursement(account: MerchantAccount, transfer_id: str) -> Any:
    """One bank transfer and the transactions it pays."""
    current = _current_shop(account)
    found = reimbursements.reimbursement(current_sandbox(), [current.shop_id], transfer_id) if current else None
    if found is None:
        return render_template("portal/page.html", heading="Remboursement introuvable", paragraphs=[
            "Ce remboursement n'existe pas pour ce point d'accueil."]), 404
    return _refunds_page("portal/reimbursement.html", current=current, transfer=found)


@bp.get("/faq")
def faq() -> str:
    """FAQ, open to all as in the public menu."""
    return render_template("portal/faq.html")


@bp.get("/rubrique/<slug>")
def unmodelled(slug: str) -> Any:
    """A rubrique of the real menu the sandbox does not model: a page of its own that says so."""
    found = UNMODELLED.get(slug)
    if found is None:
        return render_template("portal/page.html", heading="Page introuvable",
                               paragraphs=["Cette page n'existe pas dans l'Espace dédié."]), 404
    heading, private, what = found
    if private and merchant_account(ACCOUNT) is None:
        return redirect(url_for("portal.login"))
    return render_template("portal/page.html", heading=heading, paragraphs=[NOT_SIMULATED, what])
