"""Logging merchants in (portal and Pro app): lockout, "Mot de passe oublié", their points d'accueil."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ..domain.accounts import AccountRefusal, MerchantAccount, ResetLinkInvalid, WrongCredentials, login_kind
from ..domain.merchants import PointOfSale

if TYPE_CHECKING:
    from .sandbox import Sandbox

RESET_PATH = "/espace-ptl/mot-de-passe/"


def log_in(sandbox: Sandbox, login: str, password: str) -> tuple[MerchantAccount, str]:
    """The account and the grant of the session this login opens, or a French refusal; a wrong password
    is remembered even though refused."""
    refusal: AccountRefusal | None = None
    grant = secrets.token_urlsafe(24)  # never from the seeded generator
    with sandbox.uow() as uow:
        account = uow.session.account(login.strip()) if login_kind(login.strip()) else None
        if account is None:
            raise WrongCredentials()
        try:
            account.log_in(password, uow.now, grant)
        except AccountRefusal as error:
            refusal = error
        uow.save(account)
    if refusal is not None:
        raise refusal
    return account, grant


def log_out(sandbox: Sandbox, login: str, grant: str) -> None:
    """Close the session: a copy of its cookie logs nobody in any more."""
    with sandbox.uow() as uow:
        if (account := uow.session.account(login)) is not None:
            account.log_out(grant)
            uow.save(account)


def request_reset(sandbox: Sandbox, login: str) -> None:
    """Email a reset link if the account exists; say nothing either way (no account probing)."""
    with sandbox.uow() as uow:
        account = uow.session.account(login.strip()) if login_kind(login.strip()) else None
        if account is not None:
            account.start_reset(secrets.token_urlsafe(24), uow.now)  # never from the seeded generator
            uow.save(account)


def reset_link(sandbox: Sandbox, token: str) -> str:
    return sandbox.settings.public_url.rstrip("/") + RESET_PATH + token


def reset_link_usable(sandbox: Sandbox, token: str) -> bool:
    """Whether this reset link can still set a password (asked before showing its form)."""
    with sandbox.uow() as uow:
        account = uow.session.account_by_reset_token(token) if token else None
        return account is not None and account.reset_link_valid(token, uow.now)


def reset_password(sandbox: Sandbox, token: str, new_password: str) -> MerchantAccount:
    with sandbox.uow() as uow:
        account = uow.session.account_by_reset_token(token) if token else None
        if account is None:
            raise ResetLinkInvalid()
        account.reset_password(token, new_password, uow.now)
        uow.save(account)
        return account


def account(sandbox: Sandbox, login: str) -> MerchantAccount | None:
    with sandbox.store.session() as s:
        return s.account(login)


def logged_in_account(sandbox: Sandbox, login: str, grant: str) -> MerchantAccount | None:
    """The account a browser session holding `grant` acts for: None once logged out, or locked."""
    found = account(sandbox, login)
    return found if found is not None and found.logged_in(grant) else None


def points_of(sandbox: Sandbox, account: MerchantAccount) -> list[PointOfSale]:
    """The points d'accueil this account may act for, in its order."""
    with sandbox.store.session() as s:
        points = [s.point_of_sale(shop_id) for shop_id in account.shop_ids]
    return [p for p in points if p is not None]
