"""Printable pages: the ticket de caisse with the payment QR code (Kit §6.5.1), from the Espace dédié's
ENCAISSER wizard and from the App' Pro, and the beneficiary's card with the CVCoId codes (Kit §5.4)."""

import html
import re

import pytest

from sandbox.adapters.qr import decode_image
from tests.api.test_beneficiary_app import Phone as BeneficiaryPhone
from tests.api.test_beneficiary_app import logged_in as beneficiary_logged_in
from tests.api.test_pro_app import Phone as ProPhone
from tests.people import Merchant, step1, step2

NBSP = "\u00a0"
SENTENCE = "Scannez ce QR Code de paiement avec votre application Chèque-Vacances"
TICKET_QR = re.compile(r'<img[^>]*\bid="ticket-qr"[^>]*\bsrc="([^"]+)"')
VALID_MINUTES = 15  # the requests' life, set here so the printed end is known: 10h00 + 15 min, in Paris


def text(reply):
    return html.unescape(reply.get_data(as_text=True))


@pytest.fixture
def merchant(world):
    world.control.settings(proRequestMinutes=VALID_MINUTES)
    return Merchant(world, world.shop())


@pytest.fixture
def phone(world):
    world.control.settings(proRequestMinutes=VALID_MINUTES)
    return pro_phone(world, world.shop())


def pro_phone(world, shop):
    phone = ProPhone(world)
    assert phone.post("/connexion", login=shop["login"], password=shop["password"]).status_code == 302
    return phone


def wizard_qr_request(merchant, **demand):
    """ENCAISSER parcours A by QR code up to step 3: the request's id and the page showing its code."""
    step1(merchant)
    step2(merchant, mode="qr", **demand)
    page = text(merchant.get("/encaisser/confirmation"))
    return re.search(r"/encaisser/qr/(\w+)\.png", page).group(1), page


def pro_request(phone, **form):
    reply = phone.post("/paiement", **form)
    assert reply.status_code == 302
    return reply.headers["Location"].rsplit("/", 1)[1]


def assert_is_the_ticket(world, client, reply, pre_id, order_id, amount):
    """The till receipt of Kit §6.5.1 for this request, its QR code the request's payment URL."""
    page = text(reply)
    assert reply.status_code == 200
    shop = world.shop()
    for words in (shop["name"], f"N° de convention : {shop['conventionId']}", f"ID ANCV : {shop['shopId']}",
                  f"N° de panier</span><span id=\"order-id\">{order_id}<", f"Montant à payer</span><span id=\"amount\">{amount}<",
                  "Payable en Chèque-Vacances Connect", SENTENCE,
                  "02/06/2026 10h00",  # printed now, by the sandbox's clock (08:00 UTC) in Paris
                  "Valable jusqu'au 02/06/2026 10h15"):
        assert words in page, words
    assert 'onclick="window.print()"' in page and "@page { size: 80mm" in page
    png = client.get(TICKET_QR.search(page).group(1))
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode_image(png.data) == [world.sandbox.payment_url(pre_id)]
    return page


def test_the_wizard_s_qr_code_prints_on_a_till_receipt(world, merchant):
    pre_id, step3 = wizard_qr_request(merchant, amount="40", order_id="PANIER-77", label="Séjour")
    assert f'href="/espace-ptl/encaisser/qr/{pre_id}/ticket">Imprimer le ticket' in step3
    page = assert_is_the_ticket(world, merchant.client, merchant.get(f"/encaisser/qr/{pre_id}/ticket"), pre_id,
                                "PANIER-77", f"40,00{NBSP}€")
    assert TICKET_QR.search(page).group(1) == f"/espace-ptl/encaisser/qr/{pre_id}.png"  # the code of step 3
    assert "Séjour" in page and 'href="/espace-ptl/encaisser/confirmation"' in page  # "Retour" to step 3


def test_the_pro_app_s_qr_code_prints_on_a_till_receipt(world, phone):
    pre_id = pro_request(phone, amount="12,5", order_id="REF253")
    assert f'href="/pro/paiement/{pre_id}/ticket">Imprimer le ticket' in text(phone.get(f"/paiement/{pre_id}"))
    page = assert_is_the_ticket(world, phone.client, phone.get(f"/paiement/{pre_id}/ticket"), pre_id,
                                "REF253", f"12,50{NBSP}€")
    assert TICKET_QR.search(page).group(1) == f"/pro/paiement/{pre_id}/qr.png"


def test_a_request_no_longer_payable_prints_no_code(world, phone):
    pre_id = pro_request(phone, amount="20", order_id="LATE")
    world.advance(VALID_MINUTES * 60)
    page = text(phone.get(f"/paiement/{pre_id}/ticket"))
    assert "Cette demande de paiement n'est plus payable (Expiré)." in page
    assert 'id="ticket-qr"' not in page and SENTENCE not in page
    assert "Imprimer le ticket" not in text(phone.get(f"/paiement/{pre_id}"))


def test_another_merchant_gets_the_same_refusal_as_for_the_code(world, merchant, phone):
    wizard_id, _ = wizard_qr_request(merchant)
    pro_id = pro_request(phone, amount="20", order_id="MINE")
    stranger, stranger_phone = Merchant(world, world.shop(1)), pro_phone(world, world.shop(1))
    assert stranger.get(f"/encaisser/qr/{wizard_id}.png").status_code == 404
    refused = stranger.get(f"/encaisser/qr/{wizard_id}/ticket")
    assert refused.status_code == 404 and "Opération introuvable" in text(refused)
    assert world.shop()["name"] not in text(refused)
    assert stranger_phone.get(f"/paiement/{pro_id}/qr.png").status_code == 404
    refused = stranger_phone.get(f"/paiement/{pro_id}/ticket")
    assert refused.status_code == 404 and "MINE" not in text(refused) and SENTENCE not in text(refused)


@pytest.mark.parametrize("ref", ["zzzz999", "zz!z", "x" * 300, "%C2%B2"])
def test_an_unknown_request_gets_the_french_not_found_page(merchant, phone, ref):
    reply = merchant.get(f"/encaisser/qr/{ref}/ticket")
    assert reply.status_code == 404 and "Opération introuvable" in text(reply)
    reply = phone.get(f"/paiement/{ref}/ticket")
    assert reply.status_code == 404 and "Aucune opération" in text(reply)


def test_tickets_need_a_login(world):
    assert world.app.test_client().get("/espace-ptl/encaisser/qr/abc/ticket").headers["Location"].endswith(
        "/espace-ptl/connexion")
    assert world.app.test_client().get("/pro/paiement/abc/ticket").headers["Location"].endswith("/pro/connexion")


def test_the_beneficiary_prints_a_card_with_the_cvcoid_codes(world):
    ben = world.beneficiary("manual")
    assert BeneficiaryPhone(world).get("/identifiant/carte").headers["Location"].endswith("/app/connexion")
    phone = beneficiary_logged_in(world, ben)
    assert 'href="/app/identifiant/carte">Imprimer ma carte' in phone.page("/identifiant")
    page = phone.page("/identifiant/carte")
    assert f'<span id="id-number">{ben["beneficiaryId"]}</span>' in page
    assert 'src="/app/identifiant/qr.png"' in page and 'src="/app/identifiant/code128.svg"' in page
    assert "Présentez ce code au commerçant pour payer en Chèque-Vacances Connect." in page
    assert "@page { size: 85.6mm 54mm" in page and 'onclick="window.print()"' in page
    with world.sandbox.store.session() as s:
        beneficiary = s.beneficiary(ben["beneficiaryId"])
        name = f"{beneficiary.first_name} {beneficiary.last_name}"
    assert name in page
    assert decode_image(phone.get("/identifiant/qr.png").data) == [f"CVCoId={ben['beneficiaryId']}"]
