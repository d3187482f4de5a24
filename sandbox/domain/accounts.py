"""Merchant accounts of the "Espace dédié" and of the App' Chèque-Vacances Pro (SPEC §8, seeds).

An administrator account logs in with the 6-digit convention number and reaches every
point d'accueil of the convention; a point d'accueil account logs in with its 12-digit
login and reaches that one. The 3rd wrong password in a row locks the account; "Mot de
passe oublié" sends a link that sets a new password and unlocks it.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import events
from .events import RecordsEvents
from .records import plain_fields
from .sessions import close_session, is_open, open_session

ADMINISTRATOR, POINT = "administrator", "point"
MAX_WRONG_PASSWORDS = 3
RESET_LINK_VALIDITY = timedelta(hours=24)
PASSWORD_RULE = re.compile(r"^(?=.*[A-Za-z])(?=.*\d).{8,64}$")


class AccountRefusal(Exception):
    """A refusal shown to the person, in French."""


class WrongCredentials(AccountRefusal):
    def __init__(self) -> None:
        super().__init__("Identifiant ou mot de passe incorrect.")


class AccountLocked(AccountRefusal):
    def __init__(self) -> None:
        super().__init__("Votre compte est bloqué après 3 mots de passe erronés. "
                         "Cliquez sur « Mot de passe oublié ? » pour le débloquer.")


class ResetLinkInvalid(AccountRefusal):
    def __init__(self) -> None:
        super().__init__("Ce lien de réinitialisation n'est plus valable. Faites une nouvelle demande.")


class WeakPassword(AccountRefusal):
    def __init__(self) -> None:
        super().__init__("Le mot de passe doit contenir de 8 à 64 caractères, dont au moins une lettre et un chiffre.")


def login_kind(login: str) -> str | None:
    """ADMINISTRATOR for a 6-digit convention number, POINT for a 12-digit login, else None."""
    if login.isascii() and login.isdigit():
        return {6: ADMINISTRATOR, 12: POINT}.get(len(login))
    return None


@dataclass
class MerchantAccount(RecordsEvents):
    login: str
    kind: str
    password: str
    shop_ids: list[int]
    email: str
    holder_name: str
    wrong_passwords: int = 0
    locked: bool = False
    reset_token: str | None = None
    reset_expires: datetime | None = None
    remembered_email: str | None = field(default=None)  # "Se souvenir de cet e-mail"
    sessions: list[str] = field(default_factory=list)  # grants of the browser sessions logged in (domain/sessions)

    @property
    def is_administrator(self) -> bool:
        """The convention's administrator (6-digit login), who acts for all its points d'accueil."""
        return self.kind == ADMINISTRATOR

    def log_in(self, password: str, now: datetime, grant: str) -> None:
        """Accept the right password, opening a session under `grant`; count wrong ones and lock at the third."""
        if self.locked:
            raise AccountLocked()
        if hmac.compare_digest(password.encode(), self.password.encode()):
            self.wrong_passwords = 0
            open_session(self.sessions, grant)
            self._record(events.MERCHANT_LOGGED_IN, self.login, now)
            return
        self.wrong_passwords += 1
        if self.wrong_passwords >= MAX_WRONG_PASSWORDS:
            self.locked = True
            self._record(events.MERCHANT_ACCOUNT_LOCKED, self.login, now)
            raise AccountLocked()
        self._record(events.MERCHANT_LOGIN_REFUSED, self.login, now, wrongPasswords=self.wrong_passwords)
        raise WrongCredentials()

    def start_reset(self, token: str, now: datetime) -> None:
        self.reset_token, self.reset_expires = token, now + RESET_LINK_VALIDITY
        self._record(events.MERCHANT_PASSWORD_RESET_REQUESTED, self.login, now)

    def reset_link_valid(self, token: str, now: datetime) -> bool:
        """Whether the link holding `token` may still set a new password (not used, not expired)."""
        return (self.reset_token is not None and self.reset_expires is not None and now < self.reset_expires
                and hmac.compare_digest(token.encode(), self.reset_token.encode()))

    def reset_password(self, token: str, new_password: str, now: datetime) -> None:
        if not self.reset_link_valid(token, now):
            raise ResetLinkInvalid()
        if not PASSWORD_RULE.match(new_password):
            raise WeakPassword()
        self.password, self.reset_token, self.reset_expires = new_password, None, None
        self.locked, self.wrong_passwords = False, 0
        self.sessions.clear()  # whoever knew the old password is logged out
        self._record(events.MERCHANT_PASSWORD_RESET, self.login, now)

    def log_out(self, grant: str) -> None:
        close_session(self.sessions, grant)

    def logged_in(self, grant: Any) -> bool:
        """Whether the browser session holding `grant` may act for this account now."""
        return not self.locked and is_open(self.sessions, grant)

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MerchantAccount:
        return cls(**data)
