"""The Espace dédié's ENCAISSER wizard, one function a step (seeds 001, 002; SPEC §8), for the portal's
pages and the simulated merchants of scenarios/in_process.py alike: a simulation cashes as a person does.

1 "Choix du paiement" → `choose`; 2 "Demande" → `ask` (a demand by QR code makes the payment request at
once, for step 3 to show); 3 "Envoyer" → `send_request` (the client asked by identifier or by email).
What the forms accept is domain/cashing.py's; keeping the draft between steps is the caller's (the portal
keeps it in the browser session).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..domain import errors
from ..domain.cashing import EMAIL, QR, Choice, Demand, FormErrors, suggested_order_id
from ..domain.dates import paris_day
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import Transaction
from . import kit, merchant_payments
from .merchant_payments import PORTAL, qr_request, require_active_point

if TYPE_CHECKING:
    from .sandbox import Sandbox

# Kit refusals at /payer, as the merchant reads them next to the client's field (Kit §6.4.4).
CLIENT_REFUSALS: dict[type[errors.KitError], str] = {
    errors.BeneficiaryNotFound: "Aucun compte Chèque-Vacances Connect ne correspond à cet identifiant.",
    errors.NoActiveDevice: "Votre client n'a pas activé l'application Chèque-Vacances sur son téléphone.",
    errors.OtherTransactionPending: "Votre client a déjà un paiement en cours. Réessayez dans quelques minutes.",
    errors.InsufficientBalance: "Le solde Chèque-Vacances Connect de votre client est insuffisant.",
}


def choose(sandbox: Sandbox, form: Mapping[str, str], login: str | None = None) -> Choice:
    """Step 1: when the client pays, and whether the merchant keeps a delay to validate; with "Se souvenir
    de cet e-mail", the notification email is kept for the next requests of `login`."""
    choice = Choice.parse(form)
    if choice.remember_email and login is not None:
        remember_email(sandbox, login, choice.notify_email)
    return choice


def remember_email(sandbox: Sandbox, login: str, email: str | None) -> None:
    """"Se souvenir de cet e-mail pour les prochains encaissements"."""
    with sandbox.uow() as uow:
        account = uow.session.account(login)
        if account is not None and account.remembered_email != email:
            account.remembered_email = email
            uow.save(account)


def new_draft_id(sandbox: Sandbox) -> str:
    """The id of a new draft: "Envoyer" twice for the same draft gives the same operation."""
    return sandbox.new_id(lambda _: False)


def next_order_id(sandbox: Sandbox, shop_ids: list[int]) -> str:
    """The N° de panier offered before the merchant types one (step 2, and the App' Pro's "Paiement"):
    today's next free REF number of these points d'accueil."""
    taken = (o.order_id for o in merchant_payments.operations_of(sandbox, shop_ids))
    return suggested_order_id(paris_day(sandbox.clock.now()), taken)


def read_demand(sandbox: Sandbox, choice: Choice, form: Mapping[str, str]) -> Demand:
    """Step 2 as typed, or as a draft kept it: against the ways step 1 allows to reach the client and the
    sandbox's minimum amount (either may have changed since)."""
    return Demand.parse(form, choice.client_modes, sandbox.rules.minimumAmountCents)


def ask(sandbox: Sandbox, shop_id: int, choice: Choice, form: Mapping[str, str],
        replacing: str | None = None) -> tuple[Demand, PreTransaction | None]:
    """Step 2 "Continuer": the demand and, by QR code, the payment request step 3 shows. `replacing`: the
    request of a QR code shown before for the same draft, withdrawn once the new demand holds."""
    demand = read_demand(sandbox, choice, form)
    if replacing:
        withdraw_qr_code(sandbox, shop_id, replacing)
    return demand, show_qr_code(sandbox, shop_id, choice, demand) if demand.mode == QR else None


def show_qr_code(sandbox: Sandbox, shop_id: int, choice: Choice, demand: Demand) -> PreTransaction:
    """ENCAISSER, parcours A by QR code, step 3: the code the client scans while the merchant waits."""
    assert choice.offers_qr_code and demand.mode == QR
    with sandbox.uow() as uow:
        return qr_request(uow, shop_id, demand, choice.notify_email, PORTAL)


def withdraw_qr_code(sandbox: Sandbox, shop_id: int, pre_transaction_id: str) -> None:
    """The QR code step 3 showed is withdrawn (Annuler, Changer de mode, another demand) unless the
    client already paid it."""
    try:
        merchant_payments.cancel_operation(sandbox, [shop_id], None, pre_transaction_id)
    except (FormErrors, errors.PreTransactionNotFound):
        pass  # already paid, expired or gone: nothing to withdraw


def send_request(sandbox: Sandbox, shop_id: int, choice: Choice, demand: Demand, draft_id: str) -> str:
    """Step 3 "Envoyer" (SPEC §8): A by identifier and C ask the client's app at once
    (transaction + payer), B and D email the request (pre-transaction + contact). Returns the
    operation's reference. Nothing is created when the client cannot be asked; sending the same
    draft again gives the same operation (the Kit's same-day order rule, with the draft's id)."""
    payment_id = f"{PORTAL}-{draft_id}"
    with sandbox.uow() as uow:
        require_active_point(uow, shop_id)
        if sent := uow.session.transaction_by_order(shop_id, None, uow.now, demand.order_id, payment_id):
            return sent.transaction_id
        if sent_request := uow.session.pre_transaction_by_order(shop_id, None, uow.now, demand.order_id, payment_id):
            return sent_request.pre_transaction_id
        common: dict[str, Any] = {
            "shop_id": shop_id, "order_id": demand.order_id, "label": demand.label, "amount": demand.amount,
            "capture_mode": choice.capture_mode, "tspd_mode": choice.tspd_mode,
            "shop_assistant_id": demand.assistant, "application_context": demand.application_context,
            "merchant_email": choice.notify_email}
        minimum = sandbox.rules.minimumAmountCents
        if demand.mode == EMAIL:
            pre_id = sandbox.new_id(lambda c: uow.session.pre_transaction(c) is not None)
            pre = PreTransaction.create(pre_id, uow.now, minimum_amount=minimum, pre_payment_id=payment_id,
                                        expiration_date=choice.payment_deadline(uow.now),
                                        capture_term=choice.validation_days, **common)
            pre.send_to(uow.now, email=demand.client)
            uow.save(pre)
            return pre_id
        tx_id = sandbox.new_id(lambda c: uow.session.transaction(c) is not None)
        tx = Transaction.create(tx_id, uow.now, minimum_amount=minimum, payment_id=payment_id,
                                capture_date=choice.capture_date(uow.now), **common)
        try:
            kit.ask_payer(uow, tx, demand.client)
        except errors.KitError as refusal:
            message = CLIENT_REFUSALS.get(type(refusal), "La demande n'a pas pu être envoyée à votre client.")
            raise FormErrors({"client": message}) from refusal
        return tx_id
