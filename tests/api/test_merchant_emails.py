"""The French emails of a payment (SPEC §8, seeds 001 and 002): the merchant who gave an email is told
of the client's actions and reminded 24 h before the validation deadline; the client is told when
the merchant confirms a pre-booking or a payment they made is cancelled.

The portal's payment wizard sets `merchant_email`; here payments are made through the Kit API and the
email is set on them the same way, in a unit of work, before the client acts.
"""

from datetime import timedelta

from sandbox.domain.dates import format_date
from sandbox.domain.french import euros

MERCHANT = "caisse@camping-des-pins.example"
PARIS_NOW = "02/06/2026 à 10:00:00"  # tests/conftest.py START, 08:00 UTC, in Paris
HOUR_S, DAY_S = 3600, 86400


def notify_merchant(world, *, tx_id=None, pre_id=None, email=MERCHANT):
    """What the portal wizard does with the "E-mail" field: the operation carries the merchant's email."""
    with world.sandbox.uow() as uow:
        if tx_id:
            tx = uow.session.transaction(tx_id)
            tx.merchant_email = email
            uow.save(tx)
        if pre_id:
            pre = uow.session.pre_transaction(pre_id)
            pre.merchant_email = email
            uow.save(pre)


def mails_to(world, to):
    return [m for m in world.control.emails() if m["to"] == to]


def asked(world, amount=4000, payer=None, behaviour="manual", notify=True, **create):
    """A payment (transaction + /payer) waiting for the client, the merchant's email on it."""
    kit, ben = world.kit(), world.beneficiary(behaviour)
    tx = kit.create_transaction("REF202006248", "1", amount, **create)["transaction"]
    if notify:
        notify_merchant(world, tx_id=tx["id"])
    assert kit.set_payer(tx["id"], payer or ben["beneficiaryId"]).status == 202
    return tx, ben


def paid(world, amount=4000, **create):
    tx, ben = asked(world, amount, **create)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    return tx, ben


def request(world, amount=4000, contact="ts-client2@example.org", **create):
    """A payment request sent to the client by email (parcours B/D), the merchant's email on it."""
    kit = world.kit()
    pre = kit.create_pre_transaction("REF202006249", amount, world.later(days=3), **create)["preTransaction"]
    notify_merchant(world, pre_id=pre["id"])
    assert kit.contact(pre["id"], email=contact).status == 200
    return pre, world.sandbox.payment_url(pre["id"])


# --- the client confirmed: "LA TRANSACTION A ÉTÉ VALIDÉE" ----------------------------------------

def test_merchant_is_told_when_the_client_confirms_with_the_fields_of_the_seed(world):
    """Seed 002: n°, Identifiant, Date (Paris, to the second), Montant réglé, link to the Espace dédié."""
    tx, ben = paid(world, 5000)
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LA TRANSACTION A ÉTÉ VALIDÉE"
    text = mail["text"]
    assert (f"Nous vous informons que la transaction en Chèque-Vacances Connect [n° : {tx['id']}] "
            "a été confirmée par votre client.") in text
    assert f"Identifiant : {ben['beneficiaryId']}\n" in text
    assert f"Date : {PARIS_NOW}\n" in text
    assert f"Montant réglé : {euros(5000)}\n" in text
    assert "JE ME CONNECTE À MON ESPACE DÉDIÉ : http://127.0.0.1:8421/espace-ptl/connexion" in text
    assert text.rstrip().endswith("Nous vous remercions de votre confiance et à bientôt,\n"
                                  "l'Agence Nationale pour les Chèques-Vacances")
    assert "Il reste" not in text
    assert f"[n° : {tx['id']}]" in mail["html"] and 'href="http://127.0.0.1:8421/espace-ptl/connexion"' in mail["html"]
    assert mail["at"] == format_date(world.now())


def test_identifier_is_the_one_the_merchant_gave_an_email_or_a_number(world):
    ben = world.beneficiary()
    asked(world, payer=ben["email"])
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    assert f"Identifiant : {ben['email']}\n" in mails_to(world, MERCHANT)[0]["text"]


def test_pre_booking_confirmed_by_the_client_is_announced_with_the_validation_deadline(world):
    tx, _ = paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LA TRANSACTION A ÉTÉ VALIDÉE"
    assert "confirmer ou annuler cette pré-réservation depuis votre Espace dédié jusqu'au 05/06/2026 à 10h00" in (
        mail["text"])


def test_partial_payment_says_what_remains_to_be_paid(world):
    """SPEC §8: the client lowered the amount (tspd 001); the rest is paid another way."""
    tx, ben = asked(world, 4000)
    world.control.act(ben["beneficiaryId"], "adjust", amount=1500)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    text = mails_to(world, MERCHANT)[0]["text"]
    assert f"Montant réglé : {euros(1500)}\n" in text
    assert f"Il reste {euros(2500)} à régler par le moyen de votre choix." in text


def test_request_paid_by_scan_names_the_client_as_the_merchant_addressed_it(world):
    """Parcours D: the request went to the client's email; the transaction the scan creates inherits the
    merchant's email."""
    ben = world.beneficiary()
    pre, url = request(world, 4000, contact=ben["email"], capture_mode="DEFERRED", capture_term=2)
    tx = world.control.act(ben["beneficiaryId"], "scan", url=url)["transaction"]
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    [mail] = mails_to(world, MERCHANT)
    assert f"[n° : {tx['id']}]" in mail["text"] and f"Identifiant : {ben['email']}\n" in mail["text"]


def test_kit_api_payments_without_merchant_email_send_the_merchant_nothing(world):
    paid(world, notify=False)
    assert all(m["subject"] != "LA TRANSACTION A ÉTÉ VALIDÉE" for m in world.control.emails())


# --- the client did not pay ------------------------------------------------------------------------

def test_wrong_personal_code_tells_the_merchant_the_payment_did_not_go_through(world):
    tx, ben = asked(world)
    world.control.act(ben["beneficiaryId"], "authorize", pin="000000" if ben["pin"] != "000000" else "111111")
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LE PAIEMENT N'A PAS ABOUTI"
    assert "(N° de panier REF202006248) n'a pas abouti.\n\nVotre client a saisi un code personnel de paiement " \
           "erroné." in mail["text"]


def test_unanswered_payment_tells_the_merchant_when_it_times_out(world):
    asked(world, behaviour="no_answer")
    world.advance(249)
    assert mails_to(world, MERCHANT) == []
    world.advance(1)
    [mail] = mails_to(world, MERCHANT)
    assert "Votre client n'a pas confirmé le paiement dans le délai imparti." in mail["text"]
    assert mail["at"] == format_date(world.now())


def test_abandon_in_the_app_tells_the_merchant(world):
    _, ben = asked(world)
    world.control.act(ben["beneficiaryId"], "abandon")
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LE PAIEMENT A ÉTÉ ABANDONNÉ"
    assert f"de {euros(4000)} (N° de panier REF202006248) a été abandonné par votre client." in mail["text"]


def test_rejected_payment_of_a_request_says_until_when_the_client_may_try_again(world):
    ben = world.beneficiary()
    pre, url = request(world)
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    world.control.act(ben["beneficiaryId"], "abandon")
    [mail] = mails_to(world, MERCHANT)
    assert "Votre client peut encore régler cette demande de paiement jusqu'au 05/06/2026 à 10h00." in mail["text"]


def test_refused_request_tells_the_merchant_once(world):
    """The client refuses while paying: the payment is aborted with the request, one email says so."""
    ben = world.beneficiary()
    pre, url = request(world)
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    world.control.act(ben["beneficiaryId"], "refuse")
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LE PAIEMENT A ÉTÉ REFUSÉ"
    assert f"de {euros(4000)} (N° de panier REF202006249) a été refusé par votre client." in mail["text"]


def test_request_that_expires_unpaid_tells_the_merchant(world):
    request(world)
    world.advance(3 * DAY_S - 1)
    assert mails_to(world, MERCHANT) == []
    world.advance(1)
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LA DEMANDE DE PAIEMENT A EXPIRÉ"
    assert "(N° de panier REF202006249) n'a pas été réglé avant la date limite du 05/06/2026 à 10h00." in mail["text"]


def test_a_request_that_expires_under_a_payment_that_times_out_sends_one_email(world):
    """The client's 250 s run past the request's end: the request's expiry is the one email."""
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("REF-LATE", 4000, world.later(seconds=120))["preTransaction"]
    notify_merchant(world, pre_id=pre["id"])
    kit.contact(pre["id"], email="client@example.org")
    world.control.act(ben["beneficiaryId"], "scan", url=world.sandbox.payment_url(pre["id"]))
    world.advance(400)
    assert [m["subject"] for m in mails_to(world, MERCHANT)] == ["LA DEMANDE DE PAIEMENT A EXPIRÉ"]


def test_request_aborted_by_the_merchant_sends_the_merchant_nothing(world):
    pre, _ = request(world)
    world.kit().abort(pre["id"])
    assert mails_to(world, MERCHANT) == []


# --- the reminder 24 h before the validation deadline ----------------------------------------------

def reminders(world):
    return [m for m in mails_to(world, MERCHANT) if m["subject"].startswith("Rappel")]


def test_reminder_comes_24_hours_before_the_validation_deadline(world):
    """Seed 001: "je recevrai un rappel 24h avant l'expiration du délai que j'ai choisi"."""
    start = world.now()
    tx, _ = paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    world.advance(2 * DAY_S - 1)
    assert reminders(world) == []
    world.advance(1)
    [mail] = reminders(world)
    assert mail["subject"] == "Rappel : votre délai de validation se termine le 05/06/2026 à 10h00"
    assert mail["at"] == format_date(start + timedelta(days=2))
    assert f"[n° : {tx['id']}]" in mail["text"] and f"Montant réglé par votre client : {euros(4000)}" in mail["text"]
    assert f"http://127.0.0.1:8421/espace-ptl/encaissement/operations/{tx['id']}" in mail["text"]
    world.advance(DAY_S)  # then the deadline itself cancels the pre-booking: no second reminder
    assert len(reminders(world)) == 1


def test_no_reminder_once_the_merchant_validated(world):
    tx, _ = paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    world.advance(DAY_S)
    assert world.kit().execute(tx["id"], 4000).status == 200
    world.advance(2 * DAY_S)
    assert reminders(world) == []


def test_no_reminder_once_the_merchant_cancelled(world):
    tx, _ = paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    world.advance(DAY_S)
    assert world.kit().cancel(tx["id"]).status == 201
    world.advance(2 * DAY_S)
    assert reminders(world) == []


def test_no_reminder_when_the_deadline_is_less_than_24_hours_away(world):
    paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(hours=20))
    world.advance(20 * HOUR_S)
    assert reminders(world) == []


def test_no_reminder_without_merchant_email(world):
    paid(world, 4000, notify=False, capture_mode="DEFERRED", capture_date=world.later(days=3))
    world.advance(3 * DAY_S)
    assert world.events("ValidationReminderDue") == []


# --- the client ------------------------------------------------------------------------------------

def test_client_is_told_when_the_merchant_confirms_a_pre_booking(world):
    tx, ben = paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    assert mails_to(world, ben["email"]) == []
    world.advance(HOUR_S)
    world.kit().execute(tx["id"], 3000)
    [mail] = mails_to(world, ben["email"])
    shop = world.shop()["name"]
    assert mail["subject"] == f"Votre paiement de {euros(3000)} a été confirmé par {shop}"
    assert f"Votre paiement de {euros(3000)} a été confirmé par {shop}." in mail["text"]
    assert "N° de panier : REF202006248\n" in mail["text"] and "Date : 02/06/2026 à 11:00:00\n" in mail["text"]


def test_client_gets_no_confirmation_for_an_immediate_payment(world):
    _, ben = paid(world, 4000)
    assert mails_to(world, ben["email"]) == []


def test_client_is_told_a_cancelled_payment_was_re_credited(world):
    tx, ben = paid(world, 4000)
    world.advance(HOUR_S)
    assert world.kit().cancel(tx["id"]).status == 201
    [mail] = mails_to(world, ben["email"])
    shop = world.shop()["name"]
    assert mail["subject"] == f"Votre paiement de {euros(4000)} à {shop} a été annulé"
    assert (f"Votre paiement de {euros(4000)} à {shop} a été annulé, votre compte Chèque-Vacances Connect "
            f"a été re-crédité de {euros(4000)}.") in mail["text"]


def test_client_is_told_when_the_validation_deadline_cancels_the_pre_booking(world):
    tx, ben = paid(world, 4000, capture_mode="DEFERRED", capture_date=world.later(days=2))
    world.advance(2 * DAY_S)
    [mail] = mails_to(world, ben["email"])
    assert "re-crédité" in mail["text"] and "ne l'a pas confirmé avant la fin de son délai de validation" in (
        mail["text"])


def test_cancelling_before_the_client_paid_sends_the_client_nothing(world):
    tx, ben = asked(world)
    assert world.kit().cancel(tx["id"]).status == 201
    assert mails_to(world, ben["email"]) == []


# --- through the Espace dédié's ENCAISSER wizard, which carries the merchant's email -----------------

def wizard(world, choice_form, demand_form):
    from sandbox.domain.cashing import Choice, Demand
    from sandbox.services import cashing_wizard

    choice = Choice.parse({"email": MERCHANT, **choice_form})
    demand = Demand.parse(demand_form, choice.client_modes, 1)
    return cashing_wizard.send_request(world.sandbox, world.shop()["shopId"], choice, demand,
                                       draft_id=demand.order_id)


def test_seed_002_parcours_d_from_the_wizard_to_the_client_confirmation(world):
    """Seed 002, D: 50,00 € asked by email, 3 days to pay, 2 days to validate; the merchant is told, reminded
    24 h before the end of the 2 days, validates, and the client is told."""
    from sandbox.services import merchant_payments

    ben = world.beneficiary()
    pre_id = wizard(world, {"timing": "differe", "payment_days": "3", "validation": "oui", "validation_days": "2"},
                    {"amount": "50,00", "order_id": "REF202006248", "mode": "email", "client": ben["email"]})
    world.advance(HOUR_S)
    tx = world.control.act(ben["beneficiaryId"], "scan", url=world.sandbox.payment_url(pre_id))["transaction"]
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    [validated] = mails_to(world, MERCHANT)
    assert f"[n° : {tx['id']}]" in validated["text"] and f"Identifiant : {ben['email']}\n" in validated["text"]
    assert "Date : 02/06/2026 à 11:00:00\n" in validated["text"] and f"Montant réglé : {euros(5000)}" in (
        validated["text"])
    world.advance(DAY_S)
    [reminder] = reminders(world)
    assert reminder["subject"] == "Rappel : votre délai de validation se termine le 04/06/2026 à 11h00"
    merchant_payments.validate_pre_booking(world.sandbox, [world.shop()["shopId"]], tx["id"], "50,00")
    [confirmed] = mails_to(world, ben["email"])[-1:]
    assert confirmed["subject"] == f"Votre paiement de {euros(5000)} a été confirmé par {world.shop()['name']}"


def test_parcours_c_from_the_wizard_tells_the_merchant_when_the_client_refuses_to_pay(world):
    ben = world.beneficiary()
    wizard(world, {"timing": "immediat", "validation": "oui", "validation_days": "3"},
           {"amount": "40,00", "order_id": "REF3", "mode": "identifiant", "client": ben["beneficiaryId"]})
    world.control.act(ben["beneficiaryId"], "abandon")
    [mail] = mails_to(world, MERCHANT)
    assert mail["subject"] == "LE PAIEMENT A ÉTÉ ABANDONNÉ" and "N° de panier REF3" in mail["text"]
