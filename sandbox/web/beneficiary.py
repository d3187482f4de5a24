"""App' Chèque-Vacances (`/app`), the beneficiary's phone app: balance, payment requests pushed live,
scan a payment QR code (camera, photo or pasted address), lower the amount, 6-digit personal code,
result with "Reste dû", history, and the beneficiary's own `CVCoId` as QR code and Code 128 (Kit §5.4).

Every answer to a payment goes through `services.beneficiary_app`, the path the behaviours and
`/_sandbox/beneficiaries/{id}/act` take; this module only turns forms into calls, and what the service
returns or raises into pages, worded by `beneficiary_pages`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..adapters.qr import MAX_IMAGE_BYTES, UnreadableImage, code128_png, code128_svg, qr_png
from ..domain import errors
from ..domain.beneficiaries import Beneficiary
from ..domain.french import french_day
from ..services import beneficiary_app
from ..services.sandbox import KIT_BASE_PATH
from . import beneficiary_pages as pages
from . import csrf, live
from .context import current_sandbox, log_in_session, log_out_session, session_holder

bp = Blueprint("app", __name__, url_prefix="/app")

UPLOAD_LIMIT_BYTES = MAX_IMAGE_BYTES + 64 * 1024  # the photo and the form around it
AFTER_LOGIN = "app_after_login"  # session key: the app page a logged-out visitor asked for
MAX_URL_CHARS = 512  # a pasted address, as the Kit bounds URLs


@bp.before_request
def _allow_photos() -> None:
    """A phone photo is larger than the app-wide body limit: the scan form alone may send one."""
    if request.endpoint == "app.scan" and request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT_BYTES  # Flask 3.1: a limit per request


bp.before_request(csrf.protect)


def _last_day(moment: datetime) -> str:
    """The last day before an end that is exclusive (an allocation valid until 01/01/2028 00h00: 31/12/2027)."""
    return french_day(moment - timedelta(microseconds=1))


def _waiting() -> pages.HomePage | None:
    """The balance and what waits for an answer, read once per page (every page shows the waiting payments)."""
    if "waiting" not in g:
        beneficiary = g.get("beneficiary")
        g.waiting = (pages.HomePage(beneficiary_app.home(current_sandbox(), beneficiary.beneficiary_id))
                     if beneficiary else None)
    return g.waiting


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {"beneficiary": g.get("beneficiary"), "csrf_token": csrf.token, "last_day": _last_day,
            "waiting": _waiting()}


def logged_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views for a logged-in beneficiary; they receive the beneficiary first."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        holder = session_holder(live.BENEFICIARY_SESSION)
        beneficiary = beneficiary_app.logged_in_beneficiary(current_sandbox(), *holder) if holder else None
        if beneficiary is None:  # never logged in, logged out (here or elsewhere), or the sandbox was reset
            session.pop(live.BENEFICIARY_SESSION, None)
            if request.method == "GET" and len(request.full_path) <= MAX_URL_CHARS * 2:
                session[AFTER_LOGIN] = request.full_path  # a link followed (a request's email): back to it
            return redirect(url_for("app.login"))
        g.beneficiary = beneficiary
        return view(beneficiary, *args, **kwargs)
    return wrapper


@bp.errorhandler(errors.KitError)
def _refused(error: errors.KitError) -> Any:
    """Anything the app cannot do, said in French on an app page, with the page's status."""
    refusal = pages.refusal_of(error)
    return render_template("app/message.html", title="Action impossible", message=refusal.message), refusal.status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Any:
    if request.endpoint != "app.scan":  # only the scan form sends an image
        return render_template("app/message.html", title="Requête trop volumineuse",
                               message="Ce formulaire est trop volumineux."), 413
    message = f"Cette image est trop lourde (au plus {MAX_IMAGE_BYTES // (1024 * 1024)} Mo)."
    return render_template("app/message.html", title="Image refusée", message=message), 413


def _other_bases() -> tuple[str, ...]:
    """The sandbox's Kit URL as this browser reaches it, besides its public URL (pasted addresses)."""
    return (request.host_url.rstrip("/") + KIT_BASE_PATH,)


# --- connexion ---------------------------------------------------------------------------------------

@bp.get("/")
def index() -> Any:
    """Start page."""
    return redirect(url_for("app.home"))


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    """Identifiant (11 chiffres) or e-mail, and mot de passe."""
    if request.method == "GET":
        return render_template("app/login.html")
    ref = request.form.get("login", "").strip()
    try:
        beneficiary, grant = beneficiary_app.log_in(current_sandbox(), ref, request.form.get("password", ""))
    except beneficiary_app.AppError as error:
        refusal = pages.refusal_of(error)
        return render_template("app/login.html", error=refusal.message, login=ref), refusal.status
    log_in_session((live.BENEFICIARY_SESSION,), live.BENEFICIARY_SESSION, beneficiary.beneficiary_id, grant)
    return redirect(_after_login())


def _after_login() -> str:
    """The app's page a logged-out link led to, else Mon solde (never another site's address)."""
    wanted = session.pop(AFTER_LOGIN, None)
    if isinstance(wanted, str) and wanted.startswith("/app/") and "\\" not in wanted:
        return wanted
    return url_for("app.home")


@bp.post("/deconnexion")
def logout() -> Any:
    """Log out (a form with the CSRF token): the session is closed, then forgotten by this browser."""
    if holder := session_holder(live.BENEFICIARY_SESSION):
        beneficiary_app.log_out(current_sandbox(), *holder)
    log_out_session((live.BENEFICIARY_SESSION,))
    return redirect(url_for("app.login"))


# --- accueil -----------------------------------------------------------------------------------------

@bp.get("/accueil")
@logged_in
def home(beneficiary: Beneficiary) -> str:
    """Mon solde: available balance, allocations, payments waiting for an answer (pushed live)."""
    return render_template("app/home.html", home=_waiting())


# --- payment requests pushed to the app --------------------------------------------------------------

@bp.get("/demande/<pre_id>")
@logged_in
def pushed(beneficiary: Beneficiary, pre_id: str) -> str:
    """A payment request a merchant sent to this app."""
    sent = beneficiary_app.pushed_request(current_sandbox(), beneficiary.beneficiary_id, pre_id)
    incoming = pages.IncomingRequest(sent)
    return render_template("app/request.html", incoming=incoming, ending=pages.request_ending(incoming.request))


@bp.post("/demande/<pre_id>/payer")
@logged_in
def open_request(beneficiary: Beneficiary, pre_id: str) -> Any:
    """"Payer": the request becomes a payment to answer."""
    tx = beneficiary_app.open_request(current_sandbox(), beneficiary.beneficiary_id, pre_id)
    return redirect(url_for("app.payment", tx_id=tx.transaction_id))


@bp.post("/demande/<pre_id>/refuser")
@logged_in
def refuse_request(beneficiary: Beneficiary, pre_id: str) -> Any:
    """"Refuser" a request not opened yet."""
    beneficiary_app.refuse_request(current_sandbox(), beneficiary.beneficiary_id, pre_id)
    return redirect(url_for("app.pushed", pre_id=pre_id))


# --- scanner -----------------------------------------------------------------------------------------

@bp.route("/scanner", methods=["GET", "POST"])
@logged_in
def scan(beneficiary: Beneficiary) -> Any:
    """Scanner un QR code: camera (where the browser can), photo decoded here, or the address pasted."""
    if request.method == "GET":  # ?url=: the address a payment request's email links to, to confirm with Payer
        return render_template("app/scan.html", url=request.args.get("url", "")[:MAX_URL_CHARS])
    upload = request.files.get("image")
    sandbox = current_sandbox()
    try:
        if upload is not None and upload.filename:
            tx = beneficiary_app.scan_image(sandbox, beneficiary.beneficiary_id, upload.read(MAX_IMAGE_BYTES + 1),
                                            _other_bases())
        else:
            tx = beneficiary_app.scan_text(sandbox, beneficiary.beneficiary_id, request.form.get("url", ""),
                                           _other_bases())
    except (errors.KitError, beneficiary_app.AppError, UnreadableImage) as error:
        refusal = pages.refusal_of(error)
        return render_template("app/scan.html", error=refusal.message, url=request.form.get("url", "")), \
            refusal.status
    return redirect(url_for("app.payment", tx_id=tx.transaction_id))


# --- the payment page --------------------------------------------------------------------------------

@bp.get("/paiement/<tx_id>")
@logged_in
def payment(beneficiary: Beneficiary, tx_id: str) -> str:
    """Amount asked, merchant, N° de panier; lower the amount, personal code; or the result."""
    return render_template("app/payment.html", page=_page(beneficiary, tx_id))


def _page(beneficiary: Beneficiary, tx_id: str) -> pages.PaymentPage:
    return pages.PaymentPage(beneficiary_app.payment(current_sandbox(), beneficiary.beneficiary_id, tx_id))


def _answer(beneficiary: Beneficiary, tx_id: str, answer: Callable[[], Any],
            refused: Callable[[pages.AnswerError, pages.PaymentPage], pages.AppRefusal] = pages.answer_refusal) -> Any:
    """Do the answer, then show the payment: its next step, its result, or why not (`refused` words it),
    on the same page."""
    try:
        answer()
    except (pages.AppRefusal, errors.KitError) as error:
        page = _page(beneficiary, tx_id)
        refusal = refused(error, page)
        return render_template("app/payment.html", page=page, error=refusal.message,
                               amount=request.form.get("amount")), refusal.status
    return redirect(url_for("app.payment", tx_id=tx_id))


@bp.post("/paiement/<tx_id>/montant")
@logged_in
def adjust(beneficiary: Beneficiary, tx_id: str) -> Any:
    """"Montant à payer" (tspd 001): lower it, never raise it."""
    return _answer(beneficiary, tx_id, lambda: beneficiary_app.adjust_payment(
        current_sandbox(), beneficiary.beneficiary_id, tx_id, pages.amount_typed(request.form.get("amount", ""))),
        pages.amount_refusal)


@bp.post("/paiement/<tx_id>/code")
@logged_in
def authorize(beneficiary: Beneficiary, tx_id: str) -> Any:
    """The 6-digit personal code."""
    return _answer(beneficiary, tx_id, lambda: beneficiary_app.authorize_payment(
        current_sandbox(), beneficiary.beneficiary_id, tx_id, request.form.get("pin", "")), pages.code_refusal)


@bp.post("/paiement/<tx_id>/abandon")
@logged_in
def abandon(beneficiary: Beneficiary, tx_id: str) -> Any:
    """"Abandonner" this payment."""
    return _answer(beneficiary, tx_id, lambda: beneficiary_app.abandon_payment(
        current_sandbox(), beneficiary.beneficiary_id, tx_id))


@bp.post("/paiement/<tx_id>/refus")
@logged_in
def refuse(beneficiary: Beneficiary, tx_id: str) -> Any:
    """"Refuser" the payment request behind this payment."""
    return _answer(beneficiary, tx_id, lambda: beneficiary_app.refuse_payment(
        current_sandbox(), beneficiary.beneficiary_id, tx_id))


# --- historique, mon identifiant ---------------------------------------------------------------------

@bp.get("/historique")
@logged_in
def history(beneficiary: Beneficiary) -> str:
    """My past payments."""
    found = beneficiary_app.history(current_sandbox(), beneficiary.beneficiary_id)
    return render_template("app/history.html", payments=[pages.PastPaymentLine(past) for past in found])


@bp.get("/identifiant")
@logged_in
def identifier(beneficiary: Beneficiary) -> str:
    """Mon identifiant: `CVCoId=…` as QR code and Code 128, for merchants to scan (Kit §5.4)."""
    return render_template("app/identifier.html", code=beneficiary_app.identifier_code(beneficiary.beneficiary_id))


@bp.get("/identifiant/carte")
@logged_in
def identifier_card(beneficiary: Beneficiary) -> str:
    """A card-sized page to print with the `CVCoId` QR code and Code 128."""
    return render_template("app/card.html", code=beneficiary_app.identifier_code(beneficiary.beneficiary_id),
                           back=url_for("app.identifier"))


@bp.get("/identifiant/qr.png")
@logged_in
def identifier_qr(beneficiary: Beneficiary) -> Response:
    """QR code of `CVCoId={id}`."""
    return Response(qr_png(beneficiary_app.identifier_code(beneficiary.beneficiary_id), with_logo=False),
                    mimetype="image/png")


@bp.get("/identifiant/code128.svg")
@logged_in
def identifier_barcode(beneficiary: Beneficiary) -> Response:
    """Code 128 of `CVCoId={id}`, as SVG."""
    return Response(code128_svg(beneficiary_app.identifier_code(beneficiary.beneficiary_id)),
                    mimetype="image/svg+xml")


@bp.get("/identifiant/code128.png")
@logged_in
def identifier_barcode_png(beneficiary: Beneficiary) -> Response:
    """The same Code 128, as PNG."""
    return Response(code128_png(beneficiary_app.identifier_code(beneficiary.beneficiary_id)),
                    mimetype="image/png")
