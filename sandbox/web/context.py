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


def merchant_account(session_key: str) -> MerchantAccount | None:
    """The merchant this browser session logged in (each surface keeps its own session key)."""
    login = session.get(session_key)
    return merchant_accounts.account(current_sandbox(), login) if login else None


def merchant_required(session_key: str, login_endpoint: str,
                      admits: Callable[[MerchantAccount], bool] = lambda account: True
                      ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Views that need a logged-in, unlocked merchant this surface admits; they receive the account first."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = merchant_account(session_key)
            if account is None or account.locked or not admits(account):
                session.pop(session_key, None)
                return redirect(url_for(login_endpoint))
            return view(account, *args, **kwargs)
        return wrapper
    return decorate


def log_in_session(surface_keys: tuple[str, ...], **values: Any) -> None:
    """A login on one surface: that surface's keys start afresh and the CSRF token changes, while the
    other surfaces of the same browser (the Espace dédié, the App' Pro, the App', the dashboard) stay
    logged in, so one browser can play the merchant and the client of a demo."""
    log_out_session(surface_keys)
    session.pop(csrf.FIELD, None)
    session.update(values)


def log_out_session(surface_keys: tuple[str, ...]) -> None:
    for key in surface_keys:
        session.pop(key, None)
