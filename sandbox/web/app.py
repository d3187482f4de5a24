"""`create_app(settings)`: the Flask application with its blueprints, errors and Socket.IO."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from flask import Flask, Response, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..domain import errors, french
from ..services.sandbox import Sandbox, Settings
from . import beneficiary, control, dashboard, docs, journal, kit_api, live, portal, pro, recette, trust
from . import faults as network_faults
from .jsonout import error_response, json_response

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
JSON_PREFIXES = (kit_api.bp.url_prefix or "", control.bp.url_prefix or "", "/openapi")


def create_app(settings: Settings | None = None, *, sandbox: Sandbox | None = None,
               async_mode: str = "threading", message_queue: str | None = None) -> Flask:
    """`message_queue` (e.g. `redis://127.0.0.1:6379/0`): several server processes share their
    Socket.IO pushes through it, so a page hears every event whichever process handled it."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    sandbox = sandbox or Sandbox(settings or Settings())
    app.config.update(SECRET_KEY=sandbox.secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="ancv_sandbox_session")
    app.extensions["ancv_sandbox"] = sandbox
    app.jinja_env.globals.update(  # French formatting, the same on every page as in emails and exports
        euros=french.euros, plain_euros=french.plain_euros, french_date=french.french_date,
        french_day=french.french_day, french_moment=french.french_moment, calendar_day=french.calendar_day)
    for blueprint in (kit_api.bp, control.bp, docs.bp, portal.bp, pro.bp, dashboard.bp, beneficiary.bp):
        app.register_blueprint(blueprint)
    _register_errors(app)
    journal.register(app, kit_api.bp.url_prefix or "", control.bp.url_prefix or "")  # the request journal
    hosts = trust.register(app, sandbox.settings.public_url, sandbox.settings.bind_host,
                           sandbox.settings.allowed_hosts)
    recette.register(app)  # acceptance campaigns: their routes, and the /payer arrangement
    network_faults.register(app)  # after the Host check; before Socket.IO wraps the WSGI app (Kit calls only)
    socketio = SocketIO(app, async_mode=async_mode, cors_allowed_origins=_origin_check(hosts),
                        message_queue=message_queue)
    live.register(socketio, sandbox, shared=message_queue is not None)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    return app


def _origin_check(hosts: trust.HostPolicy) -> Any:
    """Socket.IO from pages of this very server, under a name it answers (127.0.0.1, localhost, the
    laptop's address in a demo, an allowed host), or from the public URL; never from another site,
    nor from a page that reached it under a rebound name (Socket.IO runs before Flask's checks)."""

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        host = environ.get("HTTP_HOST", "")
        return (origin is not None and hosts.answers(host)
                and hosts.origin_allowed(origin, host, environ.get("wsgi.url_scheme", "http")))

    return allowed


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(errors.KitError)
    def kit_error(error: errors.KitError) -> Response:
        if isinstance(error, trust.HostNotAllowed | trust.OriginNotAllowed) and not _wants_json():
            return _error_page(error.status, FRENCH_TITLES[error.status], FRENCH_REFUSALS[type(error)])
        return error_response(error)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge) -> Any:
        if _wants_json():
            return error_response(errors.BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes"))
        return _error_page(413, "Requête trop volumineuse")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if _wants_json():
            code = (error.name or "error").upper().replace(" ", "_")
            return json_response({"errorCode": code, "errorMessage": (error.name or "Error").capitalize()},
                                 error.code or 500)
        detail = error.description if getattr(error, "for_people", False) else None
        return _error_page(error.code or 500, FRENCH_TITLES.get(error.code or 500, "Erreur"), detail)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(errors.InternalServerError(type(error).__name__))
        return _error_page(500, "Erreur interne")


FRENCH_REFUSALS = {
    trust.HostNotAllowed: "Ce bac à sable ne répond pas sous ce nom. Ouvrez-le par l'adresse affichée au démarrage, "
                          "ou démarrez-le avec --allowed-host NOM.",
    trust.OriginNotAllowed: "Cette action ne peut venir que des pages du bac à sable lui-même.",
}
FRENCH_TITLES = {400: "Requête invalide", 403: "Accès refusé", 404: "Page introuvable", 405: "Méthode non autorisée",
                 413: "Requête trop volumineuse", 500: "Erreur interne"}


def _error_page(status: int, title: str, detail: str | None = None) -> Response:
    text = f"<p>{escape(detail)}</p>" if detail else ""
    html = (f"<!doctype html><html lang=fr><meta charset=utf-8><title>{escape(title)}</title>"
            f'<link rel="stylesheet" href="/static/ancv.css"><main><section class="card">'
            f"<h1>{escape(title)}</h1>{text}<p><a href=\"/\">Retour à l'accueil</a></p></section></main>")
    return Response(html, status=status, mimetype="text/html")
