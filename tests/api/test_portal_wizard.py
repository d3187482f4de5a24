"""ENCAISSER, the Espace dédié's 4-step wizard (SPEC §8, seeds 001 and 002): parcours A by QR code
and by identifier, B, C and D as the Kit objects they become; field errors; the QR code's fate."""

import html
import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from sandbox.domain.dates import paris_day, parse_date
from tests.people import Merchant, step1, step2


@pytest.fixture
def merchant(world):
    return Merchant(world, world.shop())


def text(reply):
    return html.unescape(reply.get_data(as_text=True))


def kit_state(world, ref):
    with world.sandbox.store.session() as s:
        return s.transaction(ref) or s.pre_transaction(ref)


def detail_ref(reply):
    match = re.search(r"/encaisser/paiement/(\w+)$", reply.headers["Location"])
    assert match, reply.headers.get("Location")
    return match.group(1)


def test_step_one_offers_the_four_parcours_and_checks_its_fields(merchant):
    page = text(merchant.get("/encaisser"))
    for words in ("1</b> | Choix du paiement", "Immédiatement", "En paiement différé", "Délai de validation",
                  "Se souvenir de cet e-mail pour les prochains encaissements"):
        assert words in page
    refused = step1(merchant, timing="differe", payment_days="0", validation="oui", validation_days="7",
                    email="pas-un-mail")
    page = text(refused)
    assert refused.status_code == 400
    assert 'id="payment_days-error" role="alert">Indiquez un nombre de jours entre 1 et 30.' in page
    assert 'id="validation_days-error" role="alert">Indiquez un nombre de jours entre 1 et 6.' in page
    assert 'id="email-error"' in page
    assert "Indiquez si vous souhaitez" in text(merchant.post("/encaisser", timing="immediat"))


def test_parcours_a_by_qr_code_shows_a_code_the_client_pays_partly(world, merchant):
    assert step1(merchant).headers["Location"].endswith("/encaisser/demande")
    page = text(merchant.get("/encaisser/demande"))
    assert "Demande de paiement immédiat" in page and "Générer un QR code ?" in page and "0,01 € minimum" in page
    assert step2(merchant, mode="qr", label="Séjour", customer_ref="C42").status_code == 302
    page = text(merchant.get("/encaisser/confirmation"))
    assert "QR Code de paiement" in page and "Changer de mode d'encaissement" in page and "Imprimer" in page
    pre_id = re.search(r"/encaisser/qr/(\w+)\.png", page).group(1)
    image = Image.open(io.BytesIO(merchant.get(f"/encaisser/qr/{pre_id}.png").data))
    assert image.size == (300, 300)
    pre = kit_state(world, pre_id)
    assert (pre.state, pre.capture_mode, pre.tspd_mode, pre.amount, pre.label) == (
        "PROCESSING", "NORMAL", "001", 4000, "Séjour")
    assert pre.application_context == {"customerId": "C42"}
    ben = world.beneficiary()
    world.control.act(ben["beneficiaryId"], "scan", url=world.sandbox.payment_url(pre_id))
    world.control.act(ben["beneficiaryId"], "adjust", amount=3000)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    assert "C'est bon ! Le paiement a été effectué." in text(merchant.get("/encaisser/confirmation"))
    assert detail_ref(merchant.post("/encaisser/confirmation")) == pre_id
    page = text(merchant.get(f"/encaisser/paiement/{pre_id}"))
    assert "4</b> | Détail du paiement" in page and "QR Code" in page
    assert "Le paiement a bien été réalisé pour un montant de 30,00\u00a0€" in page
    assert "Il reste 10,00\u00a0€ à régler par le moyen de votre choix" in page


def test_changing_mode_or_cancelling_withdraws_the_qr_code(world, merchant):
    step1(merchant)
    step2(merchant, mode="qr")
    first = re.search(r"/encaisser/qr/(\w+)\.png", text(merchant.get("/encaisser/confirmation"))).group(1)
    assert merchant.post("/encaisser/changer-de-mode").headers["Location"].endswith("/encaisser/demande")
    assert kit_state(world, first).state == "ABORTED"
    page = text(merchant.get("/encaisser/demande"))
    assert 'value="identifiant" checked' in page and 'value="REF-1"' in page  # what was typed is kept
    step2(merchant, mode="qr")
    second = re.search(r"/encaisser/qr/(\w+)\.png", text(merchant.get("/encaisser/confirmation"))).group(1)
    assert merchant.post("/encaisser/annuler").headers["Location"].endswith("/encaissement")  # the list
    assert kit_state(world, second).state == "ABORTED"
    assert merchant.get("/encaisser/confirmation").headers["Location"].endswith("/encaisser")


def test_parcours_a_by_identifier_asks_the_client_s_app_at_once(world, merchant):
    ben = world.beneficiary()
    step1(merchant)
    step2(merchant, mode="identifiant", client=ben["email"])
    page = text(merchant.get("/encaisser/confirmation"))
    assert "3</b> | Confirmation" in page and f"Identifiant ANCV : {ben['email']}" in page
    ref = detail_ref(merchant.post("/encaisser/confirmation"))
    tx = kit_state(world, ref)
    assert (tx.state, tx.sub_state, tx.capture_mode, tx.tspd_mode) == ("PROCESSING", "IN_ADJUSTMENT", "NORMAL", "001")
    assert "Le paiement est en attente de validation par votre client." in text(merchant.get(f"/encaisser/paiement/{ref}"))
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    page = text(merchant.get(f"/encaisser/paiement/{ref}"))
    assert "Le paiement a bien été réalisé pour un montant de 40,00\u00a0€" in page and "Il reste" not in page
    assert kit_state(world, ref).state == "VALIDATED"


@pytest.mark.parametrize("client, words", [
    ("12345678901", "Aucun compte Chèque-Vacances Connect ne correspond à cet identifiant."),
    ("no_device", "n'a pas activé l'application Chèque-Vacances"),
    ("bad", "Indiquez l'identifiant à 11 chiffres ou l'e-mail de contact de votre client."),
])
def test_a_client_who_cannot_be_asked_is_said_next_to_the_field_and_nothing_is_created(world, merchant, client,
                                                                                        words):
    if client == "no_device":
        client = world.beneficiary("no_device")["beneficiaryId"]
    step1(merchant)
    before = len(world.events())
    reply = step2(merchant, mode="identifiant", client=client)
    if reply.status_code == 302:  # well-formed: refused at "Envoyer", by the Kit's rules
        reply = merchant.post("/encaisser/confirmation")
    assert reply.status_code == 400
    assert re.search(r'id="client-error" role="alert">[^<]*' + re.escape(words), text(reply))
    assert [e for e in world.events()[before:] if e["type"].startswith("Transaction")] == []


def test_parcours_b_emails_a_fixed_amount_request_with_a_deadline_in_days(world, merchant):
    now = world.now()
    assert step1(merchant, timing="differe", payment_days="4").status_code == 302
    page = text(merchant.get("/encaisser/demande"))
    assert "Demande de paiement différé" in page and "E-mail de mon client" in page
    assert "entre 1 et" not in page
    refused = step2(merchant, mode="identifiant", client="client@example.fr")  # B reaches clients by email only
    assert refused.status_code == 400 and "Choisissez un mode d'encaissement." in text(refused)
    assert step2(merchant, client="pas un mail").status_code == 400
    step2(merchant, client="client@example.fr", order_id="REF-B")
    page = text(merchant.get("/encaisser/confirmation"))
    deadline = (now + timedelta(days=4)).strftime("%d/%m/%Y")
    assert f"{deadline} (4 jours)" in page
    ref = detail_ref(merchant.post("/encaisser/confirmation"))
    pre = kit_state(world, ref)
    assert (pre.state, pre.capture_mode, pre.tspd_mode, pre.contact) == ("PROCESSING", "NORMAL", "002",
                                                                        "client@example.fr")
    assert pre.expiration_date == now + timedelta(days=4)
    assert "La demande de paiement a bien été envoyée à votre client" in text(merchant.get(f"/encaisser/paiement/{ref}"))
    assert any(m["to"] == "client@example.fr" and "40,00" in m["subject"] for m in world.control.emails())


def test_parcours_c_pre_books_now_and_leaves_days_to_validate(world, merchant):
    ben = world.beneficiary()
    now = world.now()
    step1(merchant, validation="oui", validation_days="2", email="gerant@gite.fr")
    assert "Demande de pré-réservation immédiate" in text(merchant.get("/encaisser/demande"))
    step2(merchant, client=ben["beneficiaryId"], mode="identifiant", order_id="REF-C")
    page = text(merchant.get("/encaisser/confirmation"))
    assert f"{(now + timedelta(days=2)).strftime('%d/%m/%Y')} (2 jours)" in page
    assert "Je pourrai confirmer ou annuler la réservation" in page
    ref = detail_ref(merchant.post("/encaisser/confirmation"))
    tx = kit_state(world, ref)
    assert (tx.capture_mode, tx.tspd_mode, tx.capture_date, tx.merchant_email) == (
        "DEFERRED", "001", now + timedelta(days=2), "gerant@gite.fr")
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    page = text(merchant.get(f"/encaisser/paiement/{ref}"))
    assert "A valider" in page and "Je peux confirmer ou annuler la réservation jusqu'au" in page
    assert merchant.post(f"/encaissement/operations/{ref}/valider", amount="35").status_code == 302
    tx = kit_state(world, ref)
    assert (tx.state, tx.authorized_amount) == ("VALIDATED", 3500)


def test_parcours_d_emails_a_request_that_becomes_a_pre_booking(world, merchant):
    now = world.now()
    step1(merchant, timing="differe", payment_days="3", validation="oui", validation_days="2")
    assert "Demande de pré-réservation différée" in text(merchant.get("/encaisser/demande"))
    step2(merchant, client="client@example.fr", amount="50", order_id="REF-D")
    page = text(merchant.get("/encaisser/confirmation"))
    assert "Délai limite de validation après encaissement" in page and "2 jours" in page
    ref = detail_ref(merchant.post("/encaisser/confirmation"))
    pre = kit_state(world, ref)
    assert (pre.capture_mode, pre.tspd_mode, pre.capture_term, pre.amount) == ("DEFERRED", "001", 2, 5000)
    assert pre.expiration_date == now + timedelta(days=3)
    ben = world.beneficiary()
    world.control.act(ben["beneficiaryId"], "scan", url=world.sandbox.payment_url(ref))
    tx = world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]
    assert tx["state"] == "AUTHORIZED"
    assert parse_date(tx["paymentMethod"]["captureDate"]) == world.now() + timedelta(days=2)
    cashing = text(merchant.get("/encaissement"))
    assert "Pré-réservation différée" in cashing and "A valider : 1" in cashing
    for opened_by in (tx["id"], ref):  # the operation opens by its payment or by its request
        assert "A valider" in text(merchant.get(f"/encaissement/operations/{opened_by}"))
    assert Merchant(world, world.shop(1)).get(f"/encaissement/operations/{tx['id']}").status_code == 404


def test_the_notification_email_is_remembered_when_asked(world, merchant):
    step1(merchant, email="compta@gite.fr", remember="oui")
    merchant.post("/encaisser/annuler")
    assert 'value="compta@gite.fr"' in text(merchant.get("/encaisser"))
    other = Merchant(world, world.shop())
    assert 'value="compta@gite.fr"' in text(other.get("/encaisser"))  # kept on the account, not the session


def test_previous_keeps_what_was_typed(merchant):
    step1(merchant, timing="differe", payment_days="10")
    page = text(merchant.get("/encaisser"))
    assert 'value="differe" checked' in page and 'value="10"' in page


def test_one_merchant_never_sees_another_s_wizard_codes_or_details(world, merchant):
    step1(merchant)
    step2(merchant, mode="qr")
    pre_id = re.search(r"/encaisser/qr/(\w+)\.png", text(merchant.get("/encaisser/confirmation"))).group(1)
    stranger = Merchant(world, world.shop(1))
    assert stranger.get(f"/encaisser/qr/{pre_id}.png").status_code == 404
    assert stranger.get(f"/encaisser/paiement/{pre_id}").status_code == 404
    assert stranger.get("/encaisser/confirmation").status_code == 302  # no draft of theirs


def test_steps_need_the_previous_ones(merchant):
    assert merchant.get("/encaisser/demande").headers["Location"].endswith("/encaisser")
    assert merchant.get("/encaisser/confirmation").headers["Location"].endswith("/encaisser")
    assert merchant.post("/encaisser/demande", amount="1").status_code == 302


@pytest.mark.parametrize("days", ["²", "٣", "9" * 5000, "-1", "1.5", " "])
def test_odd_day_counts_are_field_errors_not_crashes(merchant, days):
    reply = step1(merchant, timing="differe", payment_days=days, validation="oui", validation_days=days)
    assert reply.status_code == 400
    assert "Indiquez un nombre de jours entre 1 et 30." in text(reply)
    assert "Indiquez un nombre de jours entre 1 et 6." in text(reply)


def test_a_step_two_that_no_longer_holds_sends_back_to_step_two(world, merchant):
    step1(merchant)
    step2(merchant, mode="qr")
    merchant.post("/encaisser/changer-de-mode")  # identifier mode, no identifier typed yet
    for reply in (merchant.get("/encaisser/confirmation"), merchant.post("/encaisser/confirmation")):
        assert reply.status_code in (200, 400) and "Ce champ est obligatoire." in text(reply)
    step1(merchant, timing="differe", payment_days="3")  # now parcours B: step 2 starts again
    assert 'value="REF-1"' not in text(merchant.get("/encaisser/demande"))
    assert merchant.get("/encaisser/confirmation").headers["Location"].endswith("/encaisser")


def test_sending_the_same_draft_twice_gives_one_operation(world, merchant):
    step1(merchant, timing="differe", payment_days="3")
    step2(merchant, client="client@example.fr", order_id="REF-TWICE")
    saved = merchant.client.get_cookie("ancv_sandbox_session").value
    first = detail_ref(merchant.post("/encaisser/confirmation"))
    merchant.client.set_cookie("ancv_sandbox_session", saved)  # a double click, or the back button
    assert detail_ref(merchant.post("/encaisser/confirmation")) == first
    assert len([m for m in world.control.emails() if m["to"] == "client@example.fr"]) == 1


def test_a_draft_belongs_to_its_point_d_accueil(world):
    admin = next(c for c in world.fixtures["conventions"] if len(c["shopIds"]) == 2)
    first, second = admin["shopIds"]
    merchant = Merchant(world, {"login": admin["conventionId"], "password": admin["password"]})
    merchant.post("/point-d-accueil", shop_id=str(first))
    step1(merchant)
    step2(merchant, mode="qr")
    pre_id = re.search(r"/encaisser/qr/(\w+)\.png", text(merchant.get("/encaisser/confirmation"))).group(1)
    merchant.post("/point-d-accueil", shop_id=str(second))
    assert merchant.get("/encaisser/confirmation").headers["Location"].endswith("/encaisser")
    pre = kit_state(world, pre_id)
    assert (pre.shop_id, pre.state) == (first, "ABORTED")  # withdrawn from its own point, not left payable


def field_value(page, name):
    """The value a text field of the page starts with."""
    match = re.search(rf'<input id="{name}" name="{name}"[^>]*value="([^"]*)"', page)
    assert match, name
    return match.group(1)


def test_step_one_offers_the_guide_s_day_counts_so_choosing_is_enough(world, merchant):
    page = text(merchant.get("/encaisser"))
    assert field_value(page, "payment_days") == "10" and field_value(page, "validation_days") == "2"
    assert step1(merchant, timing="differe", validation="oui", payment_days="10", validation_days="2",
                 email="").status_code == 302
    page = text(merchant.get("/encaisser/demande"))
    assert "Demande de pré-réservation différée" in page


def test_step_two_offers_today_s_next_free_basket_number(world, merchant):
    today = paris_day(world.now()).strftime("%Y%m%d")
    step1(merchant)
    assert field_value(text(merchant.get("/encaisser/demande")), "order_id") == f"REF{today}1"
    step2(merchant, order_id=f"REF{today}1", mode="identifiant", client=world.beneficiary()["beneficiaryId"])
    merchant.post("/encaisser/confirmation")
    step1(merchant)
    assert field_value(text(merchant.get("/encaisser/demande")), "order_id") == f"REF{today}2"


def test_filters_are_folded_and_one_exporter_offers_excel_or_csv(merchant):
    page = text(merchant.get("/encaissement"))
    assert re.search(r'<details class="filters" id="filters"\s*>\s*<summary>Filtres</summary>', page)
    assert page.count(">Exporter<") == 1
    export = page[page.index('<details class="export"'):page.index("</details>")]
    assert "/encaissement/export.xlsx" in export and "/encaissement/export.csv" in export
    assert export.index("Exporter") < page.index('<table id="operations"')  # next to the counters
    filtered = text(merchant.get("/encaissement", status="Validé"))
    assert re.search(r'<details class="filters" id="filters"\s*open\s*>', filtered)  # a filter in use shows
    assert "/encaissement/export.csv?status=Valid" in filtered
