"""What every surface needs from the request: the sandbox, and for people's pages the merchant logged in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import current_app, redirect, session, url_for

from ..domain.accounts import MerchantAccount
from ..services import merchant_accounts
from . import csrf

if TYPE_CHECKING:
    from ..services.sandbox import Sandbox


def current_sandbox() -> Sandbox:
    return current_app.extensions["ancv_sandbox"]  # type: ignore[no-any-return]


def session_holder(session_key: str) -> tuple[str, str] | None:
    """Who this browser session logged in under `session_key`, and the grant of that login
    (domain/sessions), as `log_in_session` wrote them; None for anything else."""
    value = session.get(session_key)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return value[0], value[1]
    return None


def merchant_account(session_key: str) -> MerchantAccount | None:
    """The merchant this browser session logged in (each surface keeps its own session key), while
    that login's session is open and the account unlocked."""
    holder = session_holder(session_key)
    return merchant_accounts.logged_in_account(current_sandbox(), *holder) if holder else None


def merchant_required(session_key: str, login_endpoint: str,
                      admits: Callable[[MerchantAccount], bool] = lambda account: True
                      ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Views that need a logged-in, unlocked merchant this surface admits; they receive the account first."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = merchant_account(session_key)
            if account is None or not admits(account):
                session.pop(session_key, None)
                return redirect(url_for(login_endpoint))
            return view(account, *args, **kwargs)
        return wrapper
    return decorate


def log_in_session(surface_keys: tuple[str, ...], session_key: str, holder: str, grant: str) -> None:
    """A login on one surface: that surface's keys start afresh, `session_key` holds who logged in and
    the grant of their session, and the CSRF token changes, while the other surfaces of the same
    browser (the Espace dédié, the App' Pro, the App', the dashboard) stay logged in, so one browser
    can play the merchant and the client of a demo."""
    log_out_session(surface_keys)
    session.pop(csrf.FIELD, None)
    session[session_key] = [holder, grant]


def log_out_session(surface_keys: tuple[str, ...]) -> None:
    for key in surface_keys:
        session.pop(key, None)


def log_out_merchant(surface_keys: tuple[str, ...], session_key: str) -> None:
    """Déconnexion on a merchant surface: the login's session is closed, then forgotten by this browser."""
    if holder := session_holder(session_key):
        merchant_accounts.log_out(current_sandbox(), *holder)
    log_out_session(surface_keys)
