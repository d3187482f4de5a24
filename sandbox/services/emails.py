"""The emails ANCV sends, in French, as text and HTML (SPEC §8)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..domain.accounts import MerchantAccount
from ..domain.dates import PARIS
from ..domain.pre_transactions import PreTransaction


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def euros(cents: int) -> str:
    """40,00 € — the French way, only ever at the edge."""
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{'-' if cents < 0 else ''}{grouped},{rest:02d}\u00a0€"


def french_date(moment) -> str:  # noqa: ANN001
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %Hh%M")


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


def payment_request(pre: PreTransaction, url: str, qr_base64: str, merchant: str) -> Message:
    amount = euros(pre.amount)
    deadline = french_date(pre.expiration_date)
    subject = f"Demande de paiement de {amount} par Chèque-Vacances Connect – {merchant}"
    text = (
        f"Bonjour,\n\n{merchant} vous adresse une demande de paiement de {amount} "
        f"(N° de panier {pre.order_id}) à régler en Chèques-Vacances Connect.\n\n"
        f"Scannez le QR Code joint avec votre application Chèque-Vacances avant le {deadline}, "
        f"ou ouvrez ce lien depuis votre téléphone :\n{url}\n\n"
        "Cordialement,\nL'ANCV\n"
    )
    html = (
        f"<p>Bonjour,</p><p><strong>{escape(merchant)}</strong> vous adresse une demande de paiement de "
        f"<strong>{escape(amount)}</strong> (N° de panier {escape(pre.order_id)}) à régler en "
        "Chèques-Vacances Connect.</p>"
        f'<p><img alt="QR Code de paiement" width="300" height="300" src="data:image/png;base64,{qr_base64}"></p>'
        "<p>Scannez ce QR Code de paiement avec votre application Chèque-Vacances avant le "
        f"{escape(deadline)}.</p><p><a href=\"{escape(url)}\">{escape(url)}</a></p><p>Cordialement,<br>L'ANCV</p>"
    )
    return Message(subject, text, html)
