"""The French emails as pure functions: what each one says, in text and in HTML (SPEC §8, seed 002)."""

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain.pre_transactions import PreTransaction
from sandbox.domain.transactions import Authorization, Cancellation, Payer, Transaction
from sandbox.services import emails

AUTHORIZED_AT = datetime(2020, 6, 24, 9, 59, 35, tzinfo=UTC)  # 11:59:35 in Paris (summer time)
PORTAL = "https://connect.example/espace-ptl/connexion"
NBSP, NNBSP = "\u00a0", "\u202f"


def transaction(amount: int = 5000, paid: int = 5000, **overrides) -> Transaction:
    """The payment of seed 002's email: n° foo2udp610, by ts-client2@yopmail.com, 50,00 €."""
    fields = dict(transaction_id="foo2udp610", shop_id=1, order_id="REF202006248", payment_id="1", amount=amount,
                  capture_mode="NORMAL", tspd_mode="001", creation_date=AUTHORIZED_AT, update_date=AUTHORIZED_AT,
                  state="AUTHORIZED", payer=Payer("ts-client2@yopmail.com", "10001001576", paid),
                  authorization=Authorization("123456", paid, AUTHORIZED_AT, "10*****1576"))
    fields.update(overrides)
    return Transaction(**fields)


def request(**overrides) -> PreTransaction:
    fields = dict(pre_transaction_id="req1", shop_id=1, order_id="REF202006249", amount=4000, capture_mode="NORMAL",
                  tspd_mode="002", creation_date=AUTHORIZED_AT, update_date=AUTHORIZED_AT,
                  expiration_date=AUTHORIZED_AT + timedelta(days=3))
    fields.update(overrides)
    return PreTransaction(**fields)


def test_confirmation_to_the_merchant_reads_like_seed_002():
    message = emails.transaction_validated(transaction(), "ts-client2@yopmail.com", PORTAL)
    assert message.subject == "LA TRANSACTION A ÉTÉ VALIDÉE"
    assert message.text == (
        "LA TRANSACTION A ÉTÉ VALIDÉE\n\n"
        "Bonjour,\n\n"
        "Nous vous informons que la transaction en Chèque-Vacances Connect [n° : foo2udp610] a été confirmée "
        "par votre client.\n\n"
        "Identifiant : ts-client2@yopmail.com\n"
        "Date : 24/06/2020 à 11:59:35\n"
        f"Montant réglé : 50,00{NBSP}€\n\n"
        "Pour plus d'information, n'hésitez pas à vous connecter à votre Espace dédié.\n\n"
        f"JE ME CONNECTE À MON ESPACE DÉDIÉ : {PORTAL}\n\n"
        "Nous vous remercions de votre confiance et à bientôt,\n"
        "l'Agence Nationale pour les Chèques-Vacances\n")
    assert "<h1>LA TRANSACTION A ÉTÉ VALIDÉE</h1>" in message.html
    assert "<strong>Identifiant</strong> : ts-client2@yopmail.com" in message.html
    assert f'<a href="{PORTAL}"><strong>JE ME CONNECTE À MON ESPACE DÉDIÉ</strong></a>' in message.html


def test_partial_payment_leaves_the_rest_to_another_means_of_payment():
    message = emails.transaction_validated(transaction(amount=5000, paid=2000), "10001001576", PORTAL)
    assert f"Montant réglé : 20,00{NBSP}€\n" in message.text
    assert f"Il reste 30,00{NBSP}€ à régler par le moyen de votre choix." in message.text


@pytest.mark.parametrize("sub_state, reason", [
    ("REJECTED_SECURITY", "Votre client a saisi un code personnel de paiement erroné."),
    ("REJECTED_TIMEOUT", "Votre client n'a pas confirmé le paiement dans le délai imparti."),
    ("REJECTED_DEVICE", "L'application Chèque-Vacances de votre client est bloquée ou n'est active sur aucun "
                        "téléphone."),
    ("REJECTED_INTERNAL", "Le paiement n'a pas pu être autorisé."),
    ("SOMETHING_NEW", "Le paiement n'a pas pu être autorisé."),
])
def test_rejection_says_why_the_payment_did_not_go_through(sub_state, reason):
    """In the very words the Espace d'encaissement shows as the operation's "Motif"."""
    tx = transaction(state="REJECTED", sub_state=sub_state, authorization=None)
    message = emails.payment_rejected(tx, PORTAL)
    assert f"de 50,00{NBSP}€ (N° de panier REF202006248) n'a pas abouti.\n\n{reason}\n" in message.text


def test_a_balance_that_no_longer_covers_the_payment_is_named_in_the_merchant_s_email():
    tx = transaction(state="REJECTED", sub_state="REJECTED_INTERNAL", authorization=None,
                     rejection_cause="INSUFFICIENT_BALANCE")
    message = emails.payment_rejected(tx, PORTAL)
    assert "Le solde Chèque-Vacances Connect de votre client ne couvre pas le montant." in message.text
    assert "peut encore régler" not in message.text


def test_failed_payment_of_a_request_says_until_when_it_can_be_paid():
    tx = transaction(state="ABORTED", sub_state="ABORTED_TSPD", authorization=None)
    message = emails.payment_abandoned(tx, PORTAL, retry_until=AUTHORIZED_AT + timedelta(days=2))
    assert "jusqu'au 26/06/2020 à 11h59." in message.text


def test_refusal_and_expiry_of_a_request_name_its_basket():
    assert "(N° de panier REF202006249) a été refusé par votre client." in emails.payment_refused(request(), PORTAL).text
    expired = emails.request_expired(request(), PORTAL)
    assert expired.subject == "LA DEMANDE DE PAIEMENT A EXPIRÉ"
    assert "n'a pas été réglé avant la date limite du 27/06/2020 à 11h59." in expired.text


def test_reminder_gives_the_deadline_in_its_subject_and_links_the_operation():
    tx = transaction(capture_mode="DEFERRED", capture_date=AUTHORIZED_AT + timedelta(days=3))
    message = emails.validation_reminder(tx, "https://connect.example/espace-ptl/encaissement/operations/foo2udp610")
    assert message.subject == "Rappel : votre délai de validation se termine le 27/06/2020 à 11h59"
    assert f"Montant réglé par votre client : 50,00{NBSP}€" in message.text
    assert 'href="https://connect.example/espace-ptl/encaissement/operations/foo2udp610"' in message.html


def test_client_messages_escape_names_in_html_only():
    tx = transaction(capture_mode="DEFERRED", state="VALIDATED", validation_date=AUTHORIZED_AT)
    message = emails.deferred_payment_confirmed(tx, "Zoé", "Bar <Chez Léa & Co>")
    assert message.subject == f"Votre paiement de 50,00{NBSP}€ a été confirmé par Bar <Chez Léa & Co>"
    assert message.text.startswith("VOTRE PAIEMENT A ÉTÉ CONFIRMÉ\n\nBonjour Zoé,\n\n")
    assert "Bar &lt;Chez Léa &amp; Co&gt;" in message.html and "<Chez" not in message.html


def test_cancellation_says_the_account_was_re_credited_and_why_when_the_deadline_passed():
    cancelled = Cancellation(AUTHORIZED_AT, "OTHER", "Délai de validation dépassé", by_deadline=True)
    tx = transaction(capture_mode="DEFERRED", state="CANCELLED", cancellation=cancelled)
    message = emails.payment_cancelled(tx, "", "Camping des Pins")
    assert message.text.startswith("VOTRE PAIEMENT A ÉTÉ ANNULÉ\n\nBonjour,\n\n")
    assert (f"Votre paiement de 50,00{NBSP}€ à Camping des Pins a été annulé, votre compte Chèque-Vacances Connect "
            f"a été re-crédité de 50,00{NBSP}€.") in message.text
    assert "Camping des Pins ne l'a pas confirmé avant la fin de son délai de validation." in message.text


@pytest.mark.parametrize("message", [
    emails.transaction_validated(transaction(), "x", PORTAL),
    emails.payment_rejected(transaction(state="REJECTED", sub_state="REJECTED_TIMEOUT"), PORTAL),
    emails.payment_abandoned(transaction(state="ABORTED"), PORTAL),
    emails.payment_refused(request(), PORTAL),
    emails.request_expired(request(), PORTAL),
    emails.validation_reminder(transaction(capture_date=AUTHORIZED_AT), PORTAL),
    emails.deferred_payment_confirmed(transaction(), "", "Camping"),
    emails.payment_cancelled(transaction(), "", "Camping"),
], ids=lambda m: m.subject[:30])
def test_every_notice_has_a_subject_a_text_and_an_html_part_signed_by_the_agency(message):
    assert message.subject and "\n" not in message.subject
    assert message.text.endswith("l'Agence Nationale pour les Chèques-Vacances\n")
    assert message.html.startswith("<p><strong>ancv</strong>") and "Chèques-Vacances</em></p>" in message.html
