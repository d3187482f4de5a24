"""App' Chèque-Vacances Pro (seed 000): log in, ask for an immediate payment, follow it, list operations."""

import html
import re

import pytest

from sandbox.domain.dates import paris_day
from tests.people import Merchant, step1, step2

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Phone:
    def __init__(self, world):
        self.client = world.app.test_client()

    def get(self, path):
        return self.client.get("/pro" + path)

    def post(self, path, **form):
        token = CSRF.search(self.get(path).get_data(as_text=True))
        return self.client.post("/pro" + path, data={"csrf_token": token.group(1) if token else "", **form})


@pytest.fixture
def phone(world):
    shop = world.shop()
    p = Phone(world)
    assert p.post("/connexion", login=shop["login"], password=shop["password"]).status_code == 302
    return p


def test_an_immediate_payment_shows_a_qr_code_and_turns_validated_when_paid(world, phone):
    reply = phone.post("/paiement", amount="20", order_id="REF253", label="Nuitée")
    assert reply.status_code == 302
    pre_id = reply.headers["Location"].rsplit("/", 1)[1]
    page = phone.get(f"/paiement/{pre_id}").get_data(as_text=True)
    assert "Présentez ce QR Code à votre client." in page and "20,00\u00a0€" in page
    assert "En attente de paiement" in page
    qr = phone.get(f"/paiement/{pre_id}/qr.png")
    assert qr.status_code == 200 and qr.data[:4] == b"\x89PNG"

    ben = world.beneficiary()
    url = f"http://127.0.0.1:8421/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code"
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    world.control.act(ben["beneficiaryId"], "adjust", amount=1500)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    assert phone.get(f"/paiement/{pre_id}/statut").json == {"status": "Validé", "received": 1500}
    page = phone.get(f"/paiement/{pre_id}").get_data(as_text=True)
    assert "Validé" in page and "15,00\u00a0€" in page and "Reste à payer" in page and "5,00\u00a0€" in page
    operations = phone.get("/operations").get_data(as_text=True)
    assert "REF253" in operations and "VALIDÉ" in operations


def test_the_form_says_in_french_what_is_wrong_next_to_each_field(world, phone):
    reply = phone.post("/paiement", amount="vingt", order_id="", customer_ref="client-1")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert 'id="amount-error"' in page and "par exemple 20,00" in page
    assert 'id="order_id-error"' in page and "obligatoire" in page
    assert 'id="customer_ref-error"' in page and "Lettres et chiffres" in page


def test_an_unpaid_request_expires_after_the_setting(world, phone):
    world.control.settings(proRequestMinutes=5)
    pre_id = phone.post("/paiement", amount="12,50", order_id="REF1").headers["Location"].rsplit("/", 1)[1]
    world.advance(5 * 60)
    assert phone.get(f"/paiement/{pre_id}/statut").json["status"] == "Expiré"
    assert "EXPIRÉ" in phone.get("/operations").get_data(as_text=True)


def test_an_administrator_of_several_points_is_asked_for_a_point_login(world):
    admin = max(world.fixtures["conventions"], key=lambda c: len(c["shopIds"]))
    p = Phone(world)
    reply = p.post("/connexion", login=admin["conventionId"], password=admin["password"])
    assert reply.status_code == 401 and "12 chiffres" in reply.get_data(as_text=True)


def test_one_merchant_never_sees_another_merchants_request(world, phone):
    pre_id = phone.post("/paiement", amount="20", order_id="MINE").headers["Location"].rsplit("/", 1)[1]
    other = world.shop(1)
    intruder = Phone(world)
    intruder.post("/connexion", login=other["login"], password=other["password"])
    assert intruder.get(f"/paiement/{pre_id}").status_code == 404
    assert intruder.get(f"/paiement/{pre_id}/qr.png").status_code == 404
    assert "MINE" not in intruder.get("/operations").get_data(as_text=True)


def test_the_app_opens_on_its_operations_mine_or_all_and_the_payment_form_is_one_tap_away(world):
    shop = world.shop()
    merchant = Merchant(world, shop)  # the same point d'accueil in the Espace dédié
    step1(merchant)
    step2(merchant, order_id="FROM-PORTAL", mode="qr")
    p = Phone(world)
    landing = p.post("/connexion", login=shop["login"], password=shop["password"])
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/pro/operations")
    page = html.unescape(p.get("/operations").get_data(as_text=True))
    assert "Liste des opérations" in page and "Mes opérations" in page and "Toutes" in page
    assert 'href="/pro/paiement"' in page and "FROM-PORTAL" not in page
    assert p.post("/paiement", amount="20", order_id="FROM-APP").status_code == 302
    mine = html.unescape(p.get("/operations").get_data(as_text=True))
    assert "FROM-APP" in mine and "FROM-PORTAL" not in mine
    every = html.unescape(p.get("/operations?vue=toutes").get_data(as_text=True))
    assert "FROM-APP" in every and "FROM-PORTAL" in every


def test_the_payment_form_offers_today_s_next_basket_number(world, phone):
    today = paris_day(world.now()).strftime("%Y%m%d")
    page = phone.get("/paiement").get_data(as_text=True)
    assert f'value="REF{today}1"' in page and "novalidate" in page
    phone.post("/paiement", amount="20", order_id=f"REF{today}1")
    assert f'value="REF{today}2"' in phone.get("/paiement").get_data(as_text=True)


def test_the_lock_message_points_to_a_link_on_the_app_s_own_screen(world):
    shop = world.shop()
    p = Phone(world)
    for _ in range(3):
        reply = p.post("/connexion", login=shop["login"], password="pas-le-bon")
    page = html.unescape(reply.get_data(as_text=True))
    assert reply.status_code == 401 and "bloqué" in page
    named = re.search(r"« ([^»]+) »", page[page.index('role="alert"'):]).group(1).strip()
    link = re.search(rf'<a id="forgot" href="([^"]+)">{re.escape(named)}</a>', page)
    assert named == "Mot de passe oublié ?" and link, "the message names a link that is not on the screen"
    assert "Mot de passe oublié ?" in html.unescape(p.client.get(link.group(1)).get_data(as_text=True))


def test_empty_login_fields_are_named_in_french(world):
    reply = Phone(world).post("/connexion", login="", password="")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "Indiquez votre identifiant." in page and "Indiquez votre mot de passe." in page
