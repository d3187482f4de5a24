"""What a merchant asks for when cashing from ANCV's screens (the Espace dédié's ENCAISSER wizard,
the App' Pro's "Paiement"), read from forms with French messages, and how it maps onto the Kit.

Step 1 "Choix du paiement" → `Choice` (immediately or deferred, with or without a validation
delay: parcours A, B, C, D, SPEC §8); step 2 "Demande" → `Demand` (amount, N° de panier, who
pays, optional fields). `Demand.for_pro` is the App' Pro's form: parcours A by QR code only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from . import operations
from .french import parse_euros, plain_euros
from .ids import is_email
from .pre_transactions import MAX_EXPIRATION
from .requests import CUSTOMER_ID_RE
from .transactions import DEFERRED, MAX_CAPTURE_DELAY, NORMAL, TSPD_ADJUSTABLE, TSPD_FIXED

MAX_PAYMENT_DAYS = MAX_EXPIRATION.days  # a payment request lives at most 30 days (Kit §4.6.1.3)
MAX_VALIDATION_DAYS = MAX_CAPTURE_DELAY.days  # a capture at most 6 days after payment (Kit §4.5.4)
QR, IDENTIFIER, EMAIL = "qr", "identifiant", "email"  # how the client is reached
# What step 1 offers before the merchant types anything: the guide's own examples (seed 002: "10 jours"
# to pay, "2 jours" to validate), so choosing "En paiement différé" or "Oui" is enough to go on.
DEFAULT_PAYMENT_DAYS = 10
DEFAULT_VALIDATION_DAYS = 2
ORDER_PREFIX = "REF"  # the guide's N° de panier: REF, the day, the number of the day (REF202006241)


class FormErrors(Exception):
    """Field → French message, shown next to each field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields)
        self.fields = fields


DAYS = re.compile(r"[0-9]{1,3}")


def _days(text: str, field: str, limit: int, problems: dict[str, str]) -> int | None:
    text = (text or "").strip()
    if not DAYS.fullmatch(text) or not 1 <= int(text) <= limit:
        problems[field] = f"Indiquez un nombre de jours entre 1 et {limit}."
        return None
    return int(text)


def _text(value: str, field: str, limit: int, problems: dict[str, str], required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        problems[field] = "Ce champ est obligatoire."
    elif len(value) > limit:
        problems[field] = f"{limit} caractères au plus."
    return value or None


def suggested_order_id(day: date, taken: Iterable[str]) -> str:
    """A N° de panier for a new request, as the guide's (REF202006241): REF, the day, the first number
    of that day no operation of the point d'accueil uses yet."""
    stem, used = f"{ORDER_PREFIX}{day:%Y%m%d}", set(taken)
    number = 1
    while f"{stem}{number}" in used:
        number += 1
    return f"{stem}{number}"


@dataclass(frozen=True)
class Choice:
    """Step 1: when the client pays, and whether the merchant keeps a delay to validate."""

    deferred: bool  # "En paiement différé": the client has `payment_days` to pay
    payment_days: int | None
    validation_days: int | None  # "Délai de validation": the merchant confirms within these days
    notify_email: str | None  # told of the client's actions, reminded 24 h before the validation deadline
    remember_email: bool = False

    @staticmethod
    def first_form(remembered_email: str | None) -> dict[str, str]:
        """Step 1 as first shown: immediately, no validation delay, the day counts pre-filled for when the
        merchant picks the other choice, and the email remembered from an earlier request."""
        return {"timing": "immediat", "payment_days": str(DEFAULT_PAYMENT_DAYS), "validation": "non",
                "validation_days": str(DEFAULT_VALIDATION_DAYS), "email": remembered_email or "",
                "remember": "oui" if remembered_email else ""}

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> Choice:
        problems: dict[str, str] = {}
        timing, validation = form.get("timing", ""), form.get("validation", "")
        if timing not in ("immediat", "differe"):
            problems["timing"] = "Choisissez quand votre client paie."
        if validation not in ("non", "oui"):
            problems["validation"] = "Indiquez si vous souhaitez un délai de validation."
        payment_days = _days(form.get("payment_days", ""), "payment_days", MAX_PAYMENT_DAYS,
                             problems) if timing == "differe" else None
        validation_days = _days(form.get("validation_days", ""), "validation_days", MAX_VALIDATION_DAYS,
                                problems) if validation == "oui" else None
        email = (form.get("email") or "").strip() or None
        if email is not None and not is_email(email):
            problems["email"] = "Indiquez une adresse e-mail valide, par exemple nom@domaine.fr."
        if problems:
            raise FormErrors(problems)
        return cls(timing == "differe", payment_days, validation_days, email, form.get("remember") == "oui")

    @property
    def parcours(self) -> str:
        return {(False, False): "A", (True, False): "B", (False, True): "C", (True, True): "D"}[
            (self.deferred, self.validation_days is not None)]

    @property
    def kind(self) -> str:
        """The "Type de paiement" of the operations table."""
        return {"A": operations.IMMEDIATE, "B": operations.DELAYED, "C": operations.PRE_BOOKING,
                "D": operations.DELAYED_PRE_BOOKING}[self.parcours]

    @property
    def title(self) -> str:
        """Step 2's heading."""
        return {"A": "Demande de paiement immédiat", "B": "Demande de paiement différé",
                "C": "Demande de pré-réservation immédiate", "D": "Demande de pré-réservation différée"}[self.parcours]

    @property
    def pre_booking(self) -> bool:
        """C, D: the merchant keeps `validation_days` to confirm or cancel the payment once made."""
        return self.validation_days is not None

    @property
    def offers_qr_code(self) -> bool:
        """A: the merchant may show a QR code instead of asking for the client's identifier."""
        return QR in self.client_modes

    @property
    def by_email(self) -> bool:
        """B, D: the request reaches the client by email, to pay before its deadline."""
        return self.client_modes == (EMAIL,)

    @property
    def capture_mode(self) -> str:
        return DEFERRED if self.validation_days is not None else NORMAL

    @property
    def tspd_mode(self) -> str:
        """Only a deferred payment without validation delay (B) keeps the client from lowering the amount."""
        return TSPD_FIXED if self.parcours == "B" else TSPD_ADJUSTABLE

    @property
    def client_modes(self) -> tuple[str, ...]:
        """How the client may be reached: a QR code or their identifier (A), their identifier or email (C),
        an email with the request (B, D)."""
        return {"A": (QR, IDENTIFIER), "B": (EMAIL,), "C": (IDENTIFIER,), "D": (EMAIL,)}[self.parcours]

    def payment_deadline(self, now: datetime) -> datetime | None:
        """B, D: until when the client may pay the request."""
        return now + timedelta(days=self.payment_days) if self.payment_days else None

    def capture_date(self, now: datetime) -> datetime | None:
        """C: until when the merchant may validate a payment made now (D's runs from a payment made later)."""
        return now + timedelta(days=self.validation_days) if self.validation_days and not self.deferred else None

    def to_form(self) -> dict[str, str]:
        """Back to the form's fields (the wizard keeps them between steps; "< Précédent")."""
        return {"timing": "differe" if self.deferred else "immediat",
                "payment_days": str(self.payment_days or DEFAULT_PAYMENT_DAYS),
                "validation": "oui" if self.validation_days else "non",
                "validation_days": str(self.validation_days or DEFAULT_VALIDATION_DAYS), "email": self.notify_email or "",
                "remember": "oui" if self.remember_email else ""}


@dataclass(frozen=True)
class Demand:
    """Step 2: the amount, the N° de panier, who pays, and the optional fields."""

    amount: int  # cents
    order_id: str
    mode: str  # QR, IDENTIFIER or EMAIL
    client: str | None  # the client's 11-digit identifier or email (IDENTIFIER), or email (EMAIL)
    label: str | None = None
    customer_ref: str | None = None
    assistant: str | None = None

    @classmethod
    def parse(cls, form: Mapping[str, str], modes: tuple[str, ...], minimum_amount: int) -> Demand:
        problems: dict[str, str] = {}
        try:
            cents = parse_euros(form.get("amount", ""))
        except ValueError:
            cents = 0
            problems["amount"] = "Indiquez un montant en euros, par exemple 20,00."
        if "amount" not in problems and cents < minimum_amount:
            problems["amount"] = f"Le montant minimum est de {plain_euros(minimum_amount)} €."
        order = _text(form.get("order_id", ""), "order_id", 64, problems, required=True)
        mode = form.get("mode") or modes[0]
        if mode not in modes:
            problems["mode"] = "Choisissez un mode d'encaissement."
        client = None
        if mode == IDENTIFIER:
            client = _text(form.get("client", ""), "client", 254, problems, required=True)
            if client and not (client.isdigit() and len(client) == 11) and not is_email(client):
                problems["client"] = "Indiquez l'identifiant à 11 chiffres ou l'e-mail de contact de votre client."
        elif mode == EMAIL:
            client = _text(form.get("client", ""), "client", 254, problems, required=True)
            if client and not is_email(client):
                problems["client"] = "Indiquez une adresse e-mail valide, par exemple nom@domaine.fr."
        label = _text(form.get("label", ""), "label", 255, problems)
        customer = _text(form.get("customer_ref", ""), "customer_ref", 34, problems)
        if customer and not CUSTOMER_ID_RE.match(customer):
            problems["customer_ref"] = "Lettres et chiffres uniquement."
        assistant = _text(form.get("assistant", ""), "assistant", 50, problems)
        if problems:
            raise FormErrors(problems)
        assert order is not None
        return cls(cents, order, mode, client, label, customer, assistant)

    @classmethod
    def for_pro(cls, form: Mapping[str, str], minimum_amount: int) -> Demand:
        """The App' Pro's "Paiement": immediate, by QR code (seed 000)."""
        return cls.parse({**form, "mode": QR}, (QR,), minimum_amount)

    @property
    def application_context(self) -> dict[str, str] | None:
        return {"customerId": self.customer_ref} if self.customer_ref else None

    def to_form(self) -> dict[str, str]:
        return {"amount": plain_euros(self.amount), "order_id": self.order_id,
                "mode": self.mode, "client": self.client or "", "label": self.label or "",
                "customer_ref": self.customer_ref or "", "assistant": self.assistant or ""}
