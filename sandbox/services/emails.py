"""The emails ANCV sends, in French, as text and HTML (SPEC §8): one function per message.

Who gets which message, and when, is decided in notifications.py; here is only what it says. Amounts and
dates are written by domain/french.py, as on the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from ..domain import operations
from ..domain.accounts import MerchantAccount
from ..domain.french import euros, french_date, french_moment
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import DEFERRED, Transaction


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def password_reset(account: MerchantAccount, link: str) -> Message:
    subject = "Espace dédié ANCV – réinitialisation de votre mot de passe"
    text = (
        f"Bonjour {account.holder_name},\n\nVous avez demandé à réinitialiser le mot de passe de votre compte "
        f"{account.login}. Choisissez un nouveau mot de passe avec ce lien, valable 24 heures :\n{link}\n\n"
        "Votre compte sera débloqué dès que le nouveau mot de passe sera enregistré.\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n\nL'ANCV\n"
    )
    html = (
        f"<p>Bonjour {escape(account.holder_name)},</p><p>Vous avez demandé à réinitialiser le mot de passe de "
        f"votre compte <strong>{escape(account.login)}</strong>.</p>"
        f'<p><a href="{escape(link)}">Choisir un nouveau mot de passe</a> (lien valable 24 heures)</p>'
        "<p>Votre compte sera débloqué dès que le nouveau mot de passe sera enregistré. Si vous n'êtes pas à "
        "l'origine de cette demande, ignorez ce message.</p><p>L'ANCV</p>"
    )
    return Message(subject, text, html)


def payment_request(pre: PreTransaction, url: str, qr_base64: str, merchant: str, app_link: str) -> Message:
    """To the client: the QR code (it encodes `url`) and a link that opens the request in the App'."""
    amount = euros(pre.amount)
    deadline = french_date(pre.expiration_date)
    subject = f"Demande de paiement de {amount} par Chèque-Vacances Connect – {merchant}"
    text = (
        f"Bonjour,\n\n{merchant} vous adresse une demande de paiement de {amount} "
        f"(N° de panier {pre.order_id}) à régler en Chèques-Vacances Connect.\n\n"
        f"Scannez le QR Code joint avec votre application Chèque-Vacances avant le {deadline}, "
        f"ou ouvrez ce lien depuis votre téléphone :\n{app_link}\n\nAdresse du QR code : {url}\n\n"
        "Cordialement,\nL'ANCV\n"
    )
    html = (
        f"<p>Bonjour,</p><p><strong>{escape(merchant)}</strong> vous adresse une demande de paiement de "
        f"<strong>{escape(amount)}</strong> (N° de panier {escape(pre.order_id)}) à régler en "
        "Chèques-Vacances Connect.</p>"
        f'<p><img alt="QR Code de paiement" width="300" height="300" src="data:image/png;base64,{qr_base64}"></p>'
        "<p>Scannez ce QR Code de paiement avec votre application Chèque-Vacances avant le "
        f"{escape(deadline)}, ou ouvrez ce lien depuis votre téléphone :</p>"
        f'<p><a href="{escape(app_link)}"><strong>JE RÈGLE AVEC MON APP\' CHÈQUE-VACANCES</strong></a></p>'
        f"<p>Adresse du QR code : {escape(url)}</p><p>Cordialement,<br>L'ANCV</p>"
    )
    return Message(subject, text, html)


# --- Chèque-Vacances Connect notices (SPEC §8: merchant notified, reminded 24 h ahead; client on confirm/cancel)

CLOSING = ("Nous vous remercions de votre confiance et à bientôt,", "l'Agence Nationale pour les Chèques-Vacances")
PORTAL_BUTTON = "JE ME CONNECTE À MON ESPACE DÉDIÉ"
PORTAL_HINT = "Pour plus d'information, n'hésitez pas à vous connecter à votre Espace dédié."

# Why a payment failed, by the transaction's sub-state (Kit §6.2.2), as the merchant reads it.
@dataclass(frozen=True)
class _Notice:
    """The ANCV layout every payment notice shares: title, paragraphs, a few fields, a button."""

    title: str
    greeting: str
    before: tuple[str, ...]
    fields: tuple[tuple[str, str], ...] = ()
    after: tuple[str, ...] = ()
    button: tuple[str, str] | None = None  # (label, link)

    def message(self, subject: str | None = None) -> Message:
        text_parts = [self.title, self.greeting, *self.before]
        if self.fields:
            text_parts.append("\n".join(f"{label} : {value}" for label, value in self.fields))
        text_parts += list(self.after)
        if self.button:
            text_parts.append(f"{self.button[0]} : {self.button[1]}")
        text_parts.append("\n".join(CLOSING))
        html = ["<p><strong>ancv</strong> CHÈQUE-VACANCES <strong>CONNECT</strong></p>",
                f"<h1>{escape(self.title)}</h1>", f"<p>{escape(self.greeting)}</p>",
                *(f"<p>{escape(p)}</p>" for p in self.before)]
        if self.fields:
            html.append("<p>" + "<br>".join(f"<strong>{escape(label)}</strong> : {escape(value)}"
                                            for label, value in self.fields) + "</p>")
        html += [f"<p>{escape(p)}</p>" for p in self.after]
        if self.button:
            html.append(f'<p><a href="{escape(self.button[1])}"><strong>{escape(self.button[0])}</strong></a></p>')
        html.append(f"<p>{escape(CLOSING[0])}<br><em>{escape(CLOSING[1])}</em></p>")
        return Message(subject or self.title, "\n\n".join(text_parts) + "\n", "".join(html))


def _paid(tx: Transaction) -> int:
    return tx.authorized_amount


def transaction_validated(tx: Transaction, identifier: str, portal_link: str) -> Message:
    """To the merchant: the client confirmed the payment (seed: "LA TRANSACTION A ÉTÉ VALIDÉE")."""
    assert tx.authorization is not None
    after = []
    left = tx.amount - _paid(tx)
    if left > 0:
        after.append(f"Il reste {euros(left)} à régler par le moyen de votre choix.")
    if tx.capture_mode == DEFERRED and tx.capture_date is not None:
        after.append("Vous pouvez confirmer ou annuler cette pré-réservation depuis votre Espace dédié jusqu'au "
                     f"{french_moment(tx.capture_date)}.")
    return _Notice(
        "LA TRANSACTION A ÉTÉ VALIDÉE", "Bonjour,",
        (f"Nous vous informons que la transaction en Chèque-Vacances Connect [n° : {tx.transaction_id}] "
         "a été confirmée par votre client.",),
        (("Identifiant", identifier), ("Date", french_moment(tx.authorization.validation_date, seconds=True)),
         ("Montant réglé", euros(_paid(tx)))),
        (*after, PORTAL_HINT), (PORTAL_BUTTON, portal_link)).message()


OTHER_MEANS = "Vous pouvez proposer à votre client un autre moyen de paiement."


def _payment_failed(title: str, what: str, order_id: str, amount: int, portal_link: str,
                    then: str = OTHER_MEANS, why: tuple[str, ...] = ()) -> Message:
    return _Notice(
        title, "Bonjour,",
        (f"Nous vous informons que le paiement en Chèque-Vacances Connect de {euros(amount)} "
         f"(N° de panier {order_id}) {what}.", *why),
        after=(then, PORTAL_HINT), button=(PORTAL_BUTTON, portal_link)).message()


def payment_refused(pre: PreTransaction, portal_link: str) -> Message:
    """To the merchant: the client refused the payment request in the app."""
    return _payment_failed("LE PAIEMENT A ÉTÉ REFUSÉ", "a été refusé par votre client", pre.order_id, pre.amount,
                           portal_link)


def payment_abandoned(tx: Transaction, portal_link: str, retry_until: datetime | None = None) -> Message:
    """To the merchant: the client gave up in the app (ABORTED_TSPD)."""
    return _payment_failed("LE PAIEMENT A ÉTÉ ABANDONNÉ", "a été abandonné par votre client", tx.order_id,
                           tx.amount, portal_link, _retry(retry_until))


def payment_rejected(tx: Transaction, portal_link: str, retry_until: datetime | None = None) -> Message:
    """To the merchant: the payment did not go through, and why in the Espace d'encaissement's words
    (wrong code, no answer in time, blocked phone, short balance…)."""
    why = (operations.failure(tx) or operations.OTHER_FAILURE)[1]
    return _payment_failed("LE PAIEMENT N'A PAS ABOUTI", "n'a pas abouti", tx.order_id, tx.amount, portal_link,
                           _retry(retry_until), why=(why,))


def _retry(retry_until: datetime | None) -> str:
    """What the merchant can do next: wait for the request still payable, or ask for another means."""
    if retry_until is None:
        return OTHER_MEANS
    return f"Votre client peut encore régler cette demande de paiement jusqu'au {french_moment(retry_until)}."


def request_expired(pre: PreTransaction, portal_link: str) -> Message:
    """To the merchant: the payment request reached its deadline unpaid."""
    return _payment_failed("LA DEMANDE DE PAIEMENT A EXPIRÉ",
                           f"n'a pas été réglé avant la date limite du {french_moment(pre.expiration_date)}",
                           pre.order_id, pre.amount, portal_link)


def validation_reminder(tx: Transaction, operation_link: str) -> Message:
    """To the merchant, 24 h before a pre-booking's validation deadline (seed: "rappel 24h")."""
    assert tx.capture_date is not None
    deadline = french_moment(tx.capture_date)
    return _Notice(
        "RAPPEL : VOTRE DÉLAI DE VALIDATION SE TERMINE BIENTÔT", "Bonjour,",
        (f"La pré-réservation en Chèque-Vacances Connect [n° : {tx.transaction_id}] (N° de panier "
         f"{tx.order_id}) attend votre validation. Votre délai de validation se termine le {deadline}.",),
        (("Montant réglé par votre client", euros(_paid(tx))), ("Date limite de validation", deadline)),
        ("Sans validation de votre part avant cette date, l'opération sera annulée et votre client re-crédité.",),
        ("JE VALIDE OU J'ANNULE L'OPÉRATION", operation_link),
    ).message(f"Rappel : votre délai de validation se termine le {deadline}")


def _dear(first_name: str) -> str:
    return f"Bonjour {first_name}," if first_name else "Bonjour,"


def deferred_payment_confirmed(tx: Transaction, first_name: str, merchant: str) -> Message:
    """To the client: the merchant confirmed the pre-booking (DEFERRED → VALIDATED)."""
    amount = euros(_paid(tx))
    moment = tx.validation_date or tx.update_date
    return _Notice(
        "VOTRE PAIEMENT A ÉTÉ CONFIRMÉ", _dear(first_name),
        (f"Votre paiement de {amount} a été confirmé par {merchant}.",),
        (("N° de panier", tx.order_id), ("Date", french_moment(moment, seconds=True)), ("Montant", amount)),
    ).message(f"Votre paiement de {amount} a été confirmé par {merchant}")


def payment_cancelled(tx: Transaction, first_name: str, merchant: str) -> Message:
    """To the client: a payment they had made was cancelled and their account re-credited."""
    amount = euros(_paid(tx))
    why: tuple[str, ...] = ()
    if tx.cancellation is not None and tx.cancellation.by_deadline:
        why = (f"{merchant} ne l'a pas confirmé avant la fin de son délai de validation.",)
    moment = tx.cancellation.effective_date if tx.cancellation else tx.update_date
    return _Notice(
        "VOTRE PAIEMENT A ÉTÉ ANNULÉ", _dear(first_name),
        (f"Votre paiement de {amount} à {merchant} a été annulé, votre compte Chèque-Vacances Connect "
         f"a été re-crédité de {amount}.", *why),
        (("N° de panier", tx.order_id), ("Date", french_moment(moment, seconds=True)),
         ("Montant re-crédité", amount)),
    ).message(f"Votre paiement de {amount} à {merchant} a été annulé")
