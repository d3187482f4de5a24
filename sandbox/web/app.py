"""`create_app(settings)`: the Flask application with its blueprints, errors and Socket.IO."""

from __future__ import annotations

import hmac
import logging
from html import escape
from typing import Any

from flask import Flask, Response, request
from flask_socketio import SocketIO, join_room
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..domain import errors
from ..domain.events import Event
from ..services.sandbox import Sandbox, Settings
from . import control, dashboard, docs, kit_api, portal, pro
from .jsonout import error_response, json_response, plain

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
JSON_PREFIXES = (kit_api.bp.url_prefix or "", control.bp.url_prefix or "", "/openapi")


def create_app(settings: Settings | None = None, *, sandbox: Sandbox | None = None,
               async_mode: str = "threading") -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    sandbox = sandbox or Sandbox(settings or Settings())
    app.config.update(SECRET_KEY=sandbox.secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="ancv_sandbox_session")
    app.extensions["ancv_sandbox"] = sandbox
    for blueprint in (kit_api.bp, control.bp, docs.bp, portal.bp, pro.bp, dashboard.bp):
        app.register_blueprint(blueprint)
    _register_errors(app)
    socketio = SocketIO(app, async_mode=async_mode, cors_allowed_origins=[sandbox.settings.public_url])
    _register_push(socketio, sandbox)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    return app


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(errors.KitError)
    def kit_error(error: errors.KitError) -> Response:
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


FRENCH_TITLES = {400: "Requête invalide", 403: "Accès refusé", 404: "Page introuvable", 405: "Méthode non autorisée",
                 413: "Requête trop volumineuse", 500: "Erreur interne"}


def _error_page(status: int, title: str, detail: str | None = None) -> Response:
    text = f"<p>{escape(detail)}</p>" if detail else ""
    html = (f"<!doctype html><html lang=fr><meta charset=utf-8><title>{escape(title)}</title>"
            f'<link rel="stylesheet" href="/static/ancv.css"><main><section class="card">'
            f"<h1>{escape(title)}</h1>{text}<p><a href=\"/\">Retour à l'accueil</a></p></section></main>")
    return Response(html, status=status, mimetype="text/html")


def _register_push(socketio: SocketIO, sandbox: Sandbox) -> None:
    """Every event goes to the `timeline` room and to the rooms of the shop and beneficiary it concerns."""

    @socketio.on("connect")
    def connect(auth: Any = None) -> None:
        """With an admin token (server not on loopback), live events need it too: {"token": …}."""
        token = sandbox.settings.admin_token
        presented = auth.get("token", "") if isinstance(auth, dict) else ""
        if token and not hmac.compare_digest(str(presented).encode(), token.encode()):
            raise ConnectionRefusedError("admin token required")

    @socketio.on("join")
    def join(data: Any) -> None:
        if isinstance(data, dict):
            for key, prefix in (("shopId", "shop"), ("beneficiaryId", "beneficiary")):
                if data.get(key) is not None:
                    join_room(f"{prefix}:{data[key]}")
            if data.get("timeline"):
                join_room("timeline")

    def push(events: list[Event], saved: list[Any]) -> None:
        rooms_of: dict[str, set[str]] = {}
        for entity in saved:
            ref = getattr(entity, "transaction_id", None) or getattr(entity, "pre_transaction_id", None)
            if ref:
                rooms = rooms_of.setdefault(ref, set())
                if getattr(entity, "shop_id", None) is not None:
                    rooms.add(f"shop:{entity.shop_id}")
                for attr in ("beneficiary_id", "contact_beneficiary_id"):
                    if getattr(entity, attr, None):
                        rooms.add(f"beneficiary:{getattr(entity, attr)}")
        occupied = socketio.server.manager.rooms.get("/", {})
        for event in events:
            targets = [room for room in ("timeline", *rooms_of.get(event.ref, ())) if occupied.get(room)]
            if targets:
                payload = plain({"type": event.name, "ref": event.ref, "at": event.at, "data": event.data})
                socketio.emit("event", payload, to=targets)

    sandbox.listeners.append(push)
