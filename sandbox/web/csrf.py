"""CSRF protection for the people's forms: a token per session, checked on every POST."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session
from werkzeug.exceptions import BadRequest

FIELD = "csrf_token"


class SessionExpired(BadRequest):
    """Shown to the person as it is (French)."""

    description = "Votre session a expiré. Rechargez la page et recommencez."
    for_people = True


def token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return str(session[FIELD])


def protect() -> None:
    """A blueprint's before_request: refuse a POST whose form does not carry the session's token."""
    if request.method == "POST":
        sent = request.form.get(FIELD, "")
        if not sent or FIELD not in session or not hmac.compare_digest(sent, str(session[FIELD])):
            raise SessionExpired()
