"""What the App' Chèque-Vacances says, in French (Kit §6.4.4): the page models its templates read, built
from the read models of services/beneficiary_app.py, and why an action cannot be done, as a message
with the HTTP status of its page.

The service returns facts and raises errors with machine reasons; every French word of the app
about them is here, so that the service serves any surface and the wording has one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.qr import UnreadableImage
from ..domain import errors
from ..domain.beneficiaries import LOGIN_LOCK, WRONG_PASSWORDS_BEFORE_LOCK, Beneficiary
from ..domain.french import euros, french_date, french_day, parse_euros
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import (
    ABORTED,
    AUTHORIZATION_REQUEST,
    AUTHORIZED,
    CANCELLED,
    IN_ADJUSTMENT,
    INITIALIZED,
    PROCESSING,
    REJECTED_INTERNAL,
    REJECTED_SECURITY,
    REJECTED_TIMEOUT,
    Transaction,
)
from ..services import beneficiary_app

LOGIN_REFUSED = "Identifiant ou mot de passe incorrect."
LOGIN_LOCKED_MESSAGE = (f"Votre compte est bloqué après {WRONG_PASSWORDS_BEFORE_LOCK} mots de passe erronés. "
                        f"Réessayez dans {LOGIN_LOCK.seconds // 60} minutes.")

# Kit §6.4.4: what the beneficiary reads when a payment cannot start
REFUSALS = {
    "INSUFFICIENT_BALANCE": "Le solde de ce compte Chèque-Vacances Connect est insuffisant.",
    "BENEFICIARY_NOT_FOUND": "Ce compte bénéficiaire Chèque-Vacances Connect n'existe pas.",
    "OTHER_TRANSACTION_PENDING": ("Un autre paiement est déjà en cours sur votre compte Chèque-Vacances Connect. "
                                  "Vous devez tout d'abord le finaliser ou l'annuler pour pouvoir effectuer "
                                  "cette transaction."),
    "NO_ACTIVE_DEVICE": "Aucun de vos appareils électroniques ne dispose de l'application Chèques-Vacances.",
    "PRE_TRANSACTION_NOT_FOUND": "Cette demande de paiement n'existe pas.",
    "PRE_TRANSACTION_EXPIRED": "Cette demande de paiement a expiré : demandez au commerçant d'en faire une nouvelle.",
    "OPERATION_PRE_TRANSACTION_NOT_ALLOWED": ("Cette demande de paiement ne peut plus être payée : elle est déjà "
                                              "réglée, annulée ou en cours de paiement."),
    "TRANSACTION_NOT_FOUND": "Ce paiement est introuvable.",
    "OPERATION_TRANSACTION_NOT_ALLOWED": "Ce paiement n'attend plus votre réponse.",
    "INVALID_PAYER_AMOUNT": "Vous pouvez baisser le montant à payer, pas l'augmenter.",
}
# Kit §6.4.4: what the beneficiary reads when a payment ends without being accepted
ENDINGS = {
    "REJECTED_DEVICE": "Aucun de vos appareils électroniques ne dispose de l'application Chèques-Vacances.",
    "REJECTED_SECURITY": ("Le code personnel de paiement saisi est erroné, vous n'avez donc pas pu être identifié. "
                          "Le paiement n'a pas pu être validé."),
    "REJECTED_TIMEOUT": ("Le délai qui vous est laissé pour finaliser votre paiement via l'Application "
                         "Chèques-Vacances a été dépassé. La demande de paiement a été annulée."),
    "REJECTED_INTERNAL": "Le paiement n'a pas pu être validé. Vous pouvez renouveler votre demande.",
    "REJECTED_COMPLEMENT": "Le paiement complémentaire a été refusé.",
    "ABORTED_TSPD": "Vous avez abandonné ce paiement : aucun montant n'a été débité.",
    "ABORTED_COMPLEMENT": "Le paiement complémentaire a été abandonné.",
    "CANCELLED": "Le commerçant a annulé ce paiement.",
    "EXPIRED": "La demande de paiement du commerçant a expiré.",
}
REQUEST_ENDINGS = {
    "ABORTED_MERCHANT": "Le commerçant a annulé sa demande de paiement.",
    "ABORTED_BENEFICIARY": "Vous avez refusé cette demande de paiement.",
    "EXPIRED": "La demande de paiement du commerçant a expiré.",
    "USED": "Cette demande de paiement est réglée.",
}
CREDITED_BACK = "{amount} recrédités le {day}"  # a cancelled payment's amount back on the balance
NOT_VALIDATED_IN_TIME = "Le commerçant n'a pas validé la pré-réservation avant la date limite."
DEVICE_BLOCKED = ("Votre code personnel a été saisi {count} fois de suite de manière erronée : votre appareil "
                  "est bloqué. Contactez l'ANCV pour le débloquer.")
PAYMENT_STATUS = {  # Historique
    "INITIALIZED": "En attente", "PROCESSING": "En attente de votre réponse", "AUTHORIZED": "Autorisé",
    "VALIDATED": "Payé", "DELAYED": "Payé", "NO_SLIP_FOUND": "Payé", "CONSIGNED": "Payé", "PAID": "Payé",
    "CONFLICTED": "Payé", "REJECTED": "Refusé", "ABORTED": "Abandonné", "CANCELLED": "Annulé", "EXPIRED": "Expiré",
}
# What the app cannot do for a reason of its own, and the status of the page that says it
APP_REFUSALS: dict[type[beneficiary_app.AppError], tuple[str, int]] = {
    beneficiary_app.NotAnIdentifier: ("Saisissez votre identifiant à 11 chiffres ou votre adresse e-mail.", 400),
    beneficiary_app.LoginRefused: (LOGIN_REFUSED, 401),
    beneficiary_app.LoginLocked: (LOGIN_LOCKED_MESSAGE, 401),
    beneficiary_app.NothingPasted: ("Collez l'adresse du QR code de paiement.", 400),
    beneficiary_app.NoCodeOnImage: ("Aucun QR code n'a été trouvé sur cette image : cadrez-le en entier et bien net.",
                                    400),
    beneficiary_app.BeneficiaryCode: ("Ce code est un identifiant de bénéficiaire (CVCoId), pas une demande de "
                                      "paiement.", 400),
    beneficiary_app.NotAPaymentCode: ("Ce QR code n'est pas une demande de paiement Chèque-Vacances Connect de ce "
                                      "bac à sable.", 400),
}


# --- refusals ----------------------------------------------------------------------------------------

class AppRefusal(Exception):
    """What the app cannot do, said to the beneficiary in French, with the HTTP status of the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


Refused = errors.KitError | beneficiary_app.AppError | UnreadableImage  # what the service raises


def refusal_of(error: Refused) -> AppRefusal:
    """The service's error as the app says it (Kit §6.4.4); a Kit error keeps its 4xx status."""
    if isinstance(error, beneficiary_app.AppError):
        return AppRefusal(*APP_REFUSALS[type(error)])
    if isinstance(error, UnreadableImage):  # the adapter words it for people
        return AppRefusal(str(error))
    status = error.status if 400 <= error.status < 500 else 400
    return AppRefusal(REFUSALS.get(error.code, "Cette action n'est pas possible."), status)


def amount_typed(text: str) -> int:
    """"Montant à payer" as typed, in cents."""
    try:
        return parse_euros(text)
    except ValueError:
        raise AppRefusal("Indiquez un montant en euros, par exemple 15,00.") from None


AnswerError = AppRefusal | errors.KitError  # why an answer on the payment page failed: its form, or the service


def answer_refusal(error: AnswerError, page: PaymentPage) -> AppRefusal:
    """Why an answer on the payment page was refused."""
    return error if isinstance(error, AppRefusal) else refusal_of(error)


def amount_refusal(error: AnswerError, page: PaymentPage) -> AppRefusal:
    """A refused "Montant à payer" says how much the beneficiary may pay instead."""
    if isinstance(error, errors.InvalidPayerAmount):
        assert page.transaction.payer is not None
        return AppRefusal(f"Vous pouvez baisser le montant à payer, pas l'augmenter : au plus "
                          f"{euros(page.transaction.payer.amount)}.")
    if isinstance(error, errors.InsufficientBalance):
        return AppRefusal(f"{REFUSALS['INSUFFICIENT_BALANCE']} Vous pouvez payer au plus {euros(page.available)}.",
                          403)
    return answer_refusal(error, page)


def code_refusal(error: AnswerError, page: PaymentPage) -> AppRefusal:
    """A personal code not of 6 digits is asked again."""
    if isinstance(error, errors.BadRequest):
        return AppRefusal("Saisissez votre code personnel à 6 chiffres.")
    return answer_refusal(error, page)


# --- page models: each made from a read model of the service, with what the templates read ------------

def merchant_name(name: str | None, shop_id: int) -> str:
    """The point of sale's name, or its number where the sandbox has no such point of sale."""
    return name if name is not None else f"Point d'accueil {shop_id}"


def _device_blocked(beneficiary: Beneficiary) -> bool:
    return bool(beneficiary.devices) and not beneficiary.has_active_device()


class IncomingRequest:
    """A payment request pushed to the app, from whom."""

    def __init__(self, incoming: beneficiary_app.Incoming) -> None:
        self.request = incoming.request
        self.merchant = merchant_name(incoming.merchant, incoming.request.shop_id)


def request_ending(pre: PreTransaction) -> str:
    """Why a request can no longer be paid ("" while it can)."""
    if pre.abort is not None:
        return REQUEST_ENDINGS.get(pre.abort.reason, "")
    return REQUEST_ENDINGS.get(pre.state, "")


def _cancelled_by(tx: Transaction) -> str:
    """Who ended a cancelled payment: the merchant, or the validation deadline of a pre-booking."""
    if tx.cancellation is not None and tx.cancellation.by_deadline:
        return NOT_VALIDATED_IN_TIME
    return ENDINGS["CANCELLED"]


class PastPaymentLine:
    """A payment of Historique, or a credit of Mon solde, as the app words it."""

    def __init__(self, past: beneficiary_app.PastPayment) -> None:
        tx = self.transaction = past.transaction
        self.merchant = merchant_name(past.merchant, tx.shop_id)
        self.status = PAYMENT_STATUS.get(tx.state, tx.state)
        self.amount, self.credited = past.amount, past.credited
        self.credit_note = ""  # "Annulé – 40,00 € recrédités le 02/06/2026"
        self.reason = ""  # why it was cancelled, when it was
        if tx.state == CANCELLED and past.credited_on is None:  # before the beneficiary paid: nothing came back
            self.reason = ENDINGS["CANCELLED"]
        elif past.credited_on is not None:  # cancelled after paying: what came back, and who cancelled
            when = french_day(past.credited_on)
            self.credit_note = f"{self.status} – " + CREDITED_BACK.format(amount=euros(past.credited), day=when)
            self.reason = _cancelled_by(tx)


class HomePage:
    """Mon solde, and the payments waiting for an answer that every page shows: the service's `Home`,
    its merchants named and its credits worded."""

    def __init__(self, home: beneficiary_app.Home) -> None:
        self.beneficiary, self.now, self.allocations = home.beneficiary, home.now, home.allocations
        self.available, self.held = home.available, home.held
        self.payment = home.payment  # the payment waiting for this beneficiary's answer
        self.payment_merchant = merchant_name(home.payment_merchant, home.payment.shop_id) if home.payment else ""
        self.requests = [IncomingRequest(incoming) for incoming in home.requests]
        self.credits = [PastPaymentLine(past) for past in home.credits]  # what came back on the balance lately

    @property
    def blocked(self) -> bool:
        return _device_blocked(self.beneficiary)


@dataclass(frozen=True)
class Outcome:
    """How a payment ended, as the result page says it."""

    accepted: bool
    title: str
    message: str
    paid: int = 0
    left_due: int = 0  # "Reste dû" (Kit §6.4.3): asked minus paid, when positive
    warning: str = ""


class PaymentPage:
    """The payment page: what is asked, by whom, what the app proposes, and how it ended."""

    def __init__(self, payment: beneficiary_app.Payment) -> None:
        self.transaction = payment.transaction
        self.merchant = merchant_name(payment.merchant, payment.transaction.shop_id)
        self.proposed = payment.proposed  # what the app offers to pay while the amount may still be lowered
        self.available = payment.available
        self.outcome = _outcome(payment, self.merchant)  # None while the payment waits for the beneficiary

    @property
    def adjustable(self) -> bool:
        return self.transaction.awaiting_beneficiary and self.transaction.sub_state == IN_ADJUSTMENT

    @property
    def asking_code(self) -> bool:
        return self.transaction.awaiting_beneficiary and self.transaction.sub_state == AUTHORIZATION_REQUEST

    @property
    def balance_short(self) -> bool:
        """The app proposes less than asked: the balance does not cover it (the rest is paid otherwise)."""
        payer = self.transaction.payer
        return payer is not None and self.proposed < payer.amount


def _outcome(payment: beneficiary_app.Payment, merchant: str) -> Outcome | None:
    """The result page of a payment that no longer waits for the beneficiary (None while it does)."""
    tx, pre, beneficiary = payment.transaction, payment.request, payment.beneficiary
    if tx.awaiting_beneficiary or tx.state == INITIALIZED:
        return None
    if tx.state == PROCESSING:  # acquisition never started (fault injection)
        return Outcome(False, "Paiement en cours", "Le paiement est en cours de traitement par l'ANCV.")
    if tx.authorization is not None and tx.state != CANCELLED:
        paid = tx.authorization.amount
        message = f"Vous avez payé {euros(paid)} à {merchant}."
        if tx.state == AUTHORIZED and tx.capture_date is not None:
            message = (f"{euros(paid)} sont réservés sur votre solde pour {merchant}, qui validera le paiement "
                       f"au plus tard le {french_date(tx.capture_date)}.")
        return Outcome(True, "Paiement accepté", message, paid, max(0, tx.amount - paid))
    if tx.state == CANCELLED:
        if pre is not None and pre.abort is not None and pre.abort.reason == "ABORTED_MERCHANT":
            reason = f" Motif : {pre.abort.label}" if pre.abort.label else ""
            return Outcome(False, "Demande annulée", REQUEST_ENDINGS["ABORTED_MERCHANT"] + reason)
        if tx.authorization is not None:
            return Outcome(False, "Paiement annulé", f"{_cancelled_by(tx)} Les {euros(tx.authorization.amount)} "
                           "payés ont été recrédités sur votre compte.")
        return Outcome(False, "Paiement annulé", ENDINGS["CANCELLED"])
    if tx.state == ABORTED and pre is not None and pre.abort is not None and pre.abort.reason == "ABORTED_BENEFICIARY":
        return Outcome(False, "Paiement refusé", REQUEST_ENDINGS["ABORTED_BENEFICIARY"])
    key = tx.sub_state or tx.state
    message = ENDINGS.get(key, "Le paiement n'a pas abouti.")
    if key == REJECTED_INTERNAL and tx.rejection_cause == errors.InsufficientBalance.code:  # rechecked too short
        message = REFUSALS["INSUFFICIENT_BALANCE"]
    warning = ""
    if key == REJECTED_SECURITY:
        if _device_blocked(beneficiary):
            warning = DEVICE_BLOCKED.format(count=payment.block_after)
        elif 0 < beneficiary.wrong_pin_streak < payment.block_after:
            left = payment.block_after - beneficiary.wrong_pin_streak
            warning = (f"Attention : encore {left} code{'s' if left > 1 else ''} erroné{'s' if left > 1 else ''} "
                       "et votre appareil sera bloqué.")
    title = "Paiement abandonné" if tx.state == ABORTED else "Paiement refusé"
    if key == REJECTED_TIMEOUT:
        title = "Délai dépassé"
    return Outcome(False, title, message, warning=warning)
