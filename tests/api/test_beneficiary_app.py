"""App' Chèque-Vacances (`/app`, issue 3 §3): the beneficiary logs in, sees the balance, answers the payments
merchants send (pushed live), lowers the amount, types the personal code, scans payment QR codes, and shows
the CVCoId codes merchants scan. Every answer must end as the same Kit objects `act` would make."""

import html
import io
import re

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from sandbox.adapters.qr import qr_png

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NBSP = "\u00a0"


def text(reply):
    """The page as the person reads it (entities such as &#39; decoded)."""
    return html.unescape(reply.get_data(as_text=True))


class Phone:
    """The beneficiary's phone: the app in Flask's test client."""

    def __init__(self, world):
        self.world = world
        self.client = world.app.test_client()

    def get(self, path):
        return self.client.get("/app" + path)

    def page(self, path):
        reply = self.get(path)
        assert reply.status_code == 200, (path, reply.status_code)
        return text(reply)

    def token(self):
        return CSRF.search(self.get("/connexion").get_data(as_text=True)).group(1)  # the session's token

    def post(self, path, **form):
        return self.client.post("/app" + path, data={"csrf_token": self.token(), **form})

    def upload(self, data, name="qr.png"):
        return self.client.post("/app/scanner", data={"csrf_token": self.token(), "image": (io.BytesIO(data), name)},
                                content_type="multipart/form-data")

    def log_in(self, login, password):
        return self.post("/connexion", login=login, password=password)


def logged_in(world, ben):
    phone = Phone(world)
    reply = phone.log_in(ben["beneficiaryId"], ben["password"])
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/app/accueil")
    return phone


@pytest.fixture
def ben(world):
    return world.beneficiary("manual")


@pytest.fixture
def phone(world, ben):
    return logged_in(world, ben)


def ask(world, ben, amount=4000, tspd_mode="001", order="PANIER-1", kit=None, **create):
    """A merchant asks this beneficiary to pay (Kit: create the transaction, then /payer)."""
    kit = kit or world.kit()
    tx = kit.create_transaction(order, "1", amount, tspd_mode=tspd_mode, **create)["transaction"]
    assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
    return tx["id"]


def state(world, tx_id, kit=None):
    tx = (kit or world.kit()).get_transaction(tx_id)["transaction"]
    return tx["state"], tx.get("subState")


def pushed_request(world, ben, amount=3000, order="RESA-7", **create):
    kit = world.kit()
    pre = kit.create_pre_transaction(order, amount, world.later(days=2), **create)["preTransaction"]
    assert kit.contact(pre["id"], beneficiary_id=ben["beneficiaryId"]).status in (200, 202)
    return pre["id"]


def merchant_name(world, index=0):
    return world.shop(index)["name"]


# --- connexion -------------------------------------------------------------------------------------------

def test_a_beneficiary_logs_in_with_the_eleven_digit_id_or_the_email(world, ben):
    by_id = Phone(world)
    assert by_id.log_in(ben["beneficiaryId"], ben["password"]).status_code == 302
    assert "500,00" in by_id.page("/accueil")
    by_email = Phone(world)
    assert by_email.log_in(ben["email"].upper(), ben["password"]).status_code == 302
    assert "Mon solde" in by_email.page("/accueil")


def test_wrong_credentials_get_one_french_refusal_whoever_it_is(world, ben):
    phone = Phone(world)
    wrong_password = phone.log_in(ben["beneficiaryId"], "nope")
    unknown = phone.log_in("10000000009", ben["password"])
    unknown_email = phone.log_in("personne@example.fr", ben["password"])
    for reply in (wrong_password, unknown, unknown_email):
        assert reply.status_code == 401
        assert "Identifiant ou mot de passe incorrect." in text(reply)
    assert phone.log_in("abc", "x").status_code == 400  # neither 11 digits nor an email
    assert phone.get("/accueil").status_code == 302  # still logged out


def test_pages_need_a_login_and_forms_need_the_session_token(world, ben):
    phone = Phone(world)
    assert phone.get("/accueil").headers["Location"].endswith("/app/connexion")
    assert phone.get("/historique").status_code == 302
    assert phone.get("/identifiant/qr.png").status_code == 302
    forged = phone.client.post("/app/connexion", data={"login": ben["beneficiaryId"], "password": ben["password"]})
    assert forged.status_code == 400 and "session a expiré" in text(forged)


def test_logging_in_starts_a_fresh_session_and_logging_out_ends_it(world, ben):
    phone = logged_in(world, ben)
    other = world.beneficiary("pay_full")
    before = phone.token()
    assert phone.log_in(other["email"], other["password"]).status_code == 302
    assert phone.token() != before  # a new CSRF token with the new login
    assert other["beneficiaryId"] in phone.page("/identifiant") and ben["beneficiaryId"] not in phone.page("/identifiant")
    assert phone.post("/deconnexion").status_code == 302
    assert phone.get("/accueil").status_code == 302


def test_one_browser_plays_merchant_and_client_at_once(world, ben):
    """The README's demo in one browser: logging in to the App' keeps the Espace dédié's login, and back."""
    from tests.people import Merchant

    merchant = Merchant(world, world.shop())
    phone = Phone(world)
    phone.client = merchant.client  # the same browser, the same cookie
    assert phone.log_in(ben["email"], ben["password"]).status_code == 302
    assert merchant.get("/encaissement").status_code == 200
    assert phone.get("/accueil").status_code == 200
    assert merchant.post("/deconnexion").status_code == 302
    assert phone.get("/accueil").status_code == 200 and merchant.get("/encaissement").status_code == 302


def test_a_personal_code_in_other_digits_is_refused_not_counted(world, ben, phone):
    tx_id = ask(world, ben)
    reply = phone.post(f"/paiement/{tx_id}/code", pin="١٢٣٤٥٦")
    assert reply.status_code == 400
    assert state(world, tx_id) == ("PROCESSING", "IN_ADJUSTMENT")  # no attempt counted


# --- accueil ---------------------------------------------------------------------------------------------

def test_home_shows_the_available_balance_and_each_allocation_with_its_validity(world, phone):
    page = phone.page("/accueil")
    assert f"500,00{NBSP}€" in page
    assert f"300,00{NBSP}€" in page and f"200,00{NBSP}€" in page  # the two allocations (millésimes)
    assert "Jusqu'au 31/12/2027" in page and "Jusqu'au 31/12/2028" in page


def test_a_payment_asked_through_payer_shows_up_and_is_pushed_to_the_app(world, ben, phone):
    socket = world.app.extensions["socketio"].test_client(world.app, flask_test_client=phone.client)
    assert socket.emit("join", {"rooms": ["beneficiary"]}, callback=True) == {
        "joined": [f"beneficiary:{ben['beneficiaryId']}"]}
    tx_id = ask(world, ben, amount=4250)
    pushed = [m["args"][0] for m in socket.get_received() if m["name"] == "event"]
    assert any(e["type"] == "TransactionProcessing" and e["ref"] == tx_id for e in pushed)
    page = phone.page("/accueil")
    assert merchant_name(world) in page and f"42,50{NBSP}€" in page and f"/app/paiement/{tx_id}" in page


def test_another_beneficiary_s_room_hears_nothing_of_this_payment(world, ben):
    other = logged_in(world, world.beneficiary("manual", 1) if len(
        [b for b in world.fixtures["beneficiaries"] if b["behaviour"] == "manual"]) > 1
        else world.beneficiary("pay_full"))
    socket = world.app.extensions["socketio"].test_client(world.app, flask_test_client=other.client)
    assert socket.emit("join", {"rooms": ["beneficiary"]}, callback=True)["joined"] != []  # listening, to its own
    ask(world, ben)
    assert [m for m in socket.get_received() if m["name"] == "event"] == []


# --- paying ----------------------------------------------------------------------------------------------

def test_the_payment_page_shows_amount_merchant_and_basket(world, ben, phone):
    tx_id = ask(world, ben, amount=4000, order="REF253")
    page = phone.page(f"/paiement/{tx_id}")
    assert f"40,00{NBSP}€" in page and merchant_name(world) in page and "REF253" in page
    assert 'id="amount"' in page and "Valider ce montant" in page and "Abandonner" in page
    assert 'id="proposal"' not in page  # the balance covers it: nothing else is proposed


def test_lowering_the_amount_then_the_code_pays_part_and_shows_what_is_left_due(world, ben, phone):
    tx_id = ask(world, ben, amount=4000)
    assert phone.post(f"/paiement/{tx_id}/montant", amount="15,00").status_code == 302
    assert state(world, tx_id) == ("PROCESSING", "AUTHORIZATION_REQUEST")
    page = phone.page(f"/paiement/{tx_id}")
    assert 'id="keypad"' in page and f"15,00{NBSP}€" in page
    assert phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"]).status_code == 302
    tx = world.kit().get_transaction(tx_id)["transaction"]
    assert tx["state"] == "VALIDATED" and tx["payers"][0]["authorizations"][0]["amount"]["total"] == 1500
    page = phone.page(f"/paiement/{tx_id}")
    assert "Paiement accepté" in page and left_due(page) == f"25,00{NBSP}€"
    assert f"485,00{NBSP}€" in phone.page("/accueil")


def left_due(page):
    """The result's "Reste dû", said once (a label and its amount, not "Reste dû : Reste dû : …")."""
    result = page.split('id="result"', 1)[1].split("</section>", 1)[0]
    assert result.count("Reste dû") == 1, result
    return re.search(r'id="left-due">([^<]*)<', result).group(1)


def test_paying_the_whole_amount_shows_no_left_due(world, ben, phone):
    tx_id = ask(world, ben, amount=2000, tspd_mode="002")
    assert 'id="keypad"' in phone.page(f"/paiement/{tx_id}")  # 002: straight to the code
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    page = phone.page(f"/paiement/{tx_id}")
    assert "Paiement accepté" in page and "Reste dû" not in page


def test_raising_the_amount_is_refused_and_changes_nothing(world, ben, phone):
    tx_id = ask(world, ben, amount=4000)
    reply = phone.post(f"/paiement/{tx_id}/montant", amount="50")
    assert reply.status_code == 400 and "pas l'augmenter" in text(reply)
    assert state(world, tx_id) == ("PROCESSING", "IN_ADJUSTMENT")
    for junk in ("", "quinze", "-3", "0"):
        reply = phone.post(f"/paiement/{tx_id}/montant", amount=junk)
        assert reply.status_code == 400, junk
    assert state(world, tx_id) == ("PROCESSING", "IN_ADJUSTMENT")


def test_a_balance_spent_elsewhere_before_the_code_says_so_even_once_it_is_back(world, ben, phone):
    """Rechecked at authorization (REJECTED_INTERNAL): the result names the balance for good, not only while
    the balance happens to stay short (money held elsewhere, then released)."""
    tx_id = ask(world, ben, amount=2000, tspd_mode="002")
    with world.sandbox.uow() as uow:
        account = uow.session.beneficiary(ben["beneficiaryId"])
        account.hold("ailleurs", account.available(uow.now) - 100, uow.now)
        uow.save(account)
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert state(world, tx_id) == ("REJECTED", "REJECTED_INTERNAL")
    with world.sandbox.uow() as uow:
        account = uow.session.beneficiary(ben["beneficiaryId"])
        account.release("ailleurs")
        uow.save(account)
    assert "Le solde de ce compte Chèque-Vacances Connect est insuffisant." in phone.page(f"/paiement/{tx_id}")


def test_a_short_balance_is_proposed_instead_of_the_amount(world):
    ben = world.beneficiary("low_balance")
    world.control.set_behaviour(ben["beneficiaryId"], "manual")
    phone = logged_in(world, ben)
    tx_id = ask(world, ben, amount=2000)
    page = phone.page(f"/paiement/{tx_id}")
    assert 'value="5,00"' in page and "nous vous proposons de payer" in page
    reply = phone.post(f"/paiement/{tx_id}/montant", amount="20")
    assert reply.status_code == 403 and "insuffisant" in text(reply)
    phone.post(f"/paiement/{tx_id}/montant", amount="5")
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert left_due(phone.page(f"/paiement/{tx_id}")) == f"15,00{NBSP}€"


def test_a_wrong_code_rejects_the_payment_with_the_kit_message(world, ben, phone):
    tx_id = ask(world, ben)
    wrong = "000000" if ben["pin"] != "000000" else "111111"
    assert phone.post(f"/paiement/{tx_id}/code", pin=wrong).status_code == 302
    assert state(world, tx_id) == ("REJECTED", "REJECTED_SECURITY")
    page = phone.page(f"/paiement/{tx_id}")
    assert "Le code personnel de paiement saisi est erroné" in page and "encore 2 codes erronés" in page


def test_a_code_that_is_not_six_digits_is_refused_before_anything(world, ben, phone):
    tx_id = ask(world, ben, tspd_mode="002")
    for junk in ("", "12345", "1234567", "abcdef"):
        reply = phone.post(f"/paiement/{tx_id}/code", pin=junk)
        assert reply.status_code == 400 and "6 chiffres" in text(reply)
    assert state(world, tx_id) == ("PROCESSING", "AUTHORIZATION_REQUEST")


def test_three_wrong_codes_block_the_device_and_the_app_says_so(world, ben, phone):
    wrong = "000000" if ben["pin"] != "000000" else "111111"
    for attempt in range(3):
        tx_id = ask(world, ben, order=f"P-{attempt}")
        phone.post(f"/paiement/{tx_id}/code", pin=wrong)
    page = phone.page(f"/paiement/{tx_id}")
    assert "appareil est bloqué" in page
    assert "appareil est bloqué" in phone.page("/accueil")
    kit = world.kit()
    tx = kit.create_transaction("P-4", "1", 1000)["transaction"]
    assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 412  # NO_ACTIVE_DEVICE


def test_abandoning_ends_the_payment_and_the_balance_is_untouched(world, ben, phone):
    tx_id = ask(world, ben)
    assert phone.post(f"/paiement/{tx_id}/abandon").status_code == 302
    assert state(world, tx_id) == ("ABORTED", "ABORTED_TSPD")
    assert "Vous avez abandonné ce paiement" in phone.page(f"/paiement/{tx_id}")
    assert phone.post(f"/paiement/{tx_id}/abandon").status_code == 403  # nothing left to abandon
    assert world.balance(ben["beneficiaryId"]) == 50_000


def test_a_payment_left_unanswered_times_out_with_the_kit_message(world, ben, phone):
    tx_id = ask(world, ben)
    world.advance(251)
    assert state(world, tx_id) == ("REJECTED", "REJECTED_TIMEOUT")
    assert "Le délai qui vous est laissé pour finaliser votre paiement" in phone.page(f"/paiement/{tx_id}")


def test_a_payment_the_merchant_cancels_says_so(world, ben, phone):
    tx_id = ask(world, ben)
    assert world.kit().cancel(tx_id, "CUSTOMER_ABORT").ok
    assert "Le commerçant a annulé ce paiement." in phone.page(f"/paiement/{tx_id}")
    reply = phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert reply.status_code == 403 and "n'attend plus votre réponse" in text(reply)
    assert state(world, tx_id) == ("CANCELLED", None)


# --- requests pushed to the app ----------------------------------------------------------------------------

def test_a_pushed_request_is_listed_and_can_be_refused(world, ben, phone):
    pre_id = pushed_request(world, ben, amount=3000, order="RESA-7")
    home = phone.page("/accueil")
    assert f"/app/demande/{pre_id}" in home and f"30,00{NBSP}€" in home
    page = phone.page(f"/demande/{pre_id}")
    assert "RESA-7" in page and "Refuser" in page
    assert phone.post(f"/demande/{pre_id}/refuser").status_code == 302
    pre = world.kit().get_pre_transaction(pre_id)["preTransaction"]
    assert pre["state"] == "ABORTED"
    assert "Vous avez refusé cette demande de paiement." in phone.page(f"/demande/{pre_id}")
    assert f"/app/demande/{pre_id}" not in phone.page("/accueil")


def test_a_pushed_request_is_paid_from_the_app(world, ben, phone):
    pre_id = pushed_request(world, ben, amount=3000)
    reply = phone.post(f"/demande/{pre_id}/payer")
    assert reply.status_code == 302
    tx_id = reply.headers["Location"].rsplit("/", 1)[1]
    phone.post(f"/paiement/{tx_id}/montant", amount="30")
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert "Paiement accepté" in phone.page(f"/paiement/{tx_id}")
    assert world.kit().get_pre_transaction(pre_id)["preTransaction"]["state"] == "USED"


def test_refusing_while_paying_a_request_aborts_the_request(world, ben, phone):
    pre_id = pushed_request(world, ben)
    tx_id = phone.post(f"/demande/{pre_id}/payer").headers["Location"].rsplit("/", 1)[1]
    assert phone.post(f"/paiement/{tx_id}/refus").status_code == 302
    assert world.kit().get_pre_transaction(pre_id)["preTransaction"]["state"] == "ABORTED"
    assert "Vous avez refusé cette demande de paiement." in phone.page(f"/paiement/{tx_id}")


def test_a_request_the_merchant_withdraws_or_lets_expire_is_shown_so(world, ben, phone):
    withdrawn = pushed_request(world, ben, order="W-1")
    world.kit().abort(withdrawn)
    assert "Le commerçant a annulé sa demande de paiement." in phone.page(f"/demande/{withdrawn}")
    assert phone.post(f"/demande/{withdrawn}/payer").status_code == 403
    expiring = pushed_request(world, ben, order="E-1")
    world.advance(2 * 86_400 + 1)
    assert "La demande de paiement du commerçant a expiré." in phone.page(f"/demande/{expiring}")


# --- scanning ------------------------------------------------------------------------------------------------

def qr_request(world, amount=2500, order="QR-1"):
    """A payment request shown as a QR code by the merchant: the Kit's own PNG."""
    kit = world.kit()
    pre = kit.create_pre_transaction(order, amount, world.later(hours=1))["preTransaction"]
    image = kit.qr_code(pre["id"])
    assert image.status == 200
    return pre["id"], image.content


def test_a_photo_of_a_payment_qr_code_is_decoded_and_paid(world, ben, phone):
    pre_id, png = qr_request(world, amount=2500)
    assert png == world.sandbox.qr_png(pre_id)
    reply = phone.upload(png)
    assert reply.status_code == 302, text(reply)
    tx_id = reply.headers["Location"].rsplit("/", 1)[1]
    page = phone.page(f"/paiement/{tx_id}")
    assert f"25,00{NBSP}€" in page and "QR-1" in page
    phone.post(f"/paiement/{tx_id}/montant", amount="25")
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert "Paiement accepté" in phone.page(f"/paiement/{tx_id}")
    assert world.kit().get_pre_transaction(pre_id)["preTransaction"]["state"] == "USED"


def test_a_jpeg_photo_works_too(world, ben, phone):
    pre_id, png = qr_request(world)
    photo = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").resize((900, 900)).save(photo, format="JPEG", quality=80)
    assert phone.upload(photo.getvalue(), "photo.jpg").status_code == 302


def test_scanning_the_same_code_twice_opens_the_same_payment(world, ben, phone):
    _, png = qr_request(world)
    first = phone.upload(png).headers["Location"]
    assert phone.upload(png).headers["Location"] == first


def test_the_payment_address_can_be_pasted_by_hand(world, ben, phone):
    pre_id, _ = qr_request(world)
    reply = phone.post("/scanner", url=f"  {world.sandbox.payment_url(pre_id)} ")
    assert reply.status_code == 302 and "/app/paiement/" in reply.headers["Location"]


def test_uploads_that_are_not_payment_qr_codes_get_a_french_400(world, ben, phone):
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, format="PNG")
    cases = [
        (b"not an image at all", "n'est pas une image"),
        (blank.getvalue(), "Aucun QR code"),
        (qr_png("https://example.com/pay/123"), "n'est pas une demande de paiement"),
        (qr_png("https://evil.example/acquisition/api/public/v1/pre-transactions/abc/qr-code"),
         "n'est pas une demande de paiement"),
        (qr_png(f"CVCoId={ben['beneficiaryId']}"), "identifiant de bénéficiaire"),
    ]
    for data, words in cases:
        reply = phone.upload(data)
        assert reply.status_code == 400, words
        assert words in text(reply)
    for pasted in ("", "bonjour", "http://127.0.0.1:8421/acquisition/api/public/v1/pre-transactions/../qr-code"):
        assert phone.post("/scanner", url=pasted).status_code == 400
    assert phone.post("/scanner").status_code == 400
    assert world.events("TransactionProcessing") == []


def test_a_huge_upload_is_refused_in_french(world, ben, phone):
    reply = phone.upload(b"\x89PNG" + b"0" * (9 * 1024 * 1024))
    assert reply.status_code in (400, 413) and "trop lourde" in text(reply)


def test_a_request_for_an_unknown_id_is_a_french_404(world, ben, phone):
    reply = phone.post("/scanner", url=world.sandbox.payment_url("zzzzzzzz"))
    assert reply.status_code == 404 and "n'existe pas" in text(reply)


def test_scanning_while_another_payment_waits_is_a_409_with_the_kit_message(world, ben, phone):
    ask(world, ben)
    pre_id, _ = qr_request(world)
    reply = phone.post("/scanner", url=world.sandbox.payment_url(pre_id))
    assert reply.status_code == 409 and "Un autre paiement est déjà en cours" in text(reply)


# --- privacy ---------------------------------------------------------------------------------------------------

def test_one_beneficiary_never_sees_or_answers_another_s_payment(world, ben, phone):
    tx_id = ask(world, ben, order="MINE")
    pre_id = pushed_request(world, ben, order="MINE-TOO")
    other_ben = next(b for b in world.fixtures["beneficiaries"]
                     if b["beneficiaryId"] != ben["beneficiaryId"] and b["behaviour"] != "no_device")
    intruder = logged_in(world, other_ben)
    assert intruder.get(f"/paiement/{tx_id}").status_code == 404
    for action, form in (("code", {"pin": ben["pin"]}), ("montant", {"amount": "1"}), ("abandon", {}),
                         ("refus", {})):
        assert intruder.post(f"/paiement/{tx_id}/{action}", **form).status_code == 404
    assert intruder.get(f"/demande/{pre_id}").status_code == 404
    assert intruder.post(f"/demande/{pre_id}/refuser").status_code == 404
    assert intruder.post(f"/demande/{pre_id}/payer").status_code == 404
    page = intruder.page("/accueil") + intruder.page("/historique")
    assert "MINE" not in page and tx_id not in page and pre_id not in page
    assert state(world, tx_id) == ("PROCESSING", "IN_ADJUSTMENT")
    assert intruder.get("/paiement/..%2F..").status_code == 404
    assert intruder.get("/paiement/zz!z").status_code == 404


# --- historique, mon identifiant --------------------------------------------------------------------------------

def test_history_lists_past_payments_with_french_statuses(world, ben, phone):
    paid = ask(world, ben, amount=1200, order="H-1")
    phone.post(f"/paiement/{paid}/montant", amount="12")
    phone.post(f"/paiement/{paid}/code", pin=ben["pin"])
    given_up = ask(world, ben, amount=800, order="H-2")
    phone.post(f"/paiement/{given_up}/abandon")
    page = phone.page("/historique")
    assert "H-1" in page and "Payé" in page and f"12,00{NBSP}€" in page
    assert "H-2" in page and "Abandonné" in page and f"8,00{NBSP}€" in page
    assert page.index("H-2") < page.index("H-1")  # latest first
    assert merchant_name(world) in page and re.search(r"\d\d/\d\d/20\d\d \d\dh\d\d", page)


def balance_shown(phone):
    return re.search(r'<p class="big-amount" id="balance">([^<]+)</p>', phone.page("/accueil")).group(1)


def history_line(phone, order):
    """The history entry of the payment with this basket, as the beneficiary reads it."""
    page = phone.page("/historique")
    entry = next(e for e in page.split('<a class="op history-item"')[1:] if f"N° de panier {order}" in e)
    return re.sub(r"[ \n]+", " ", re.sub(r"<[^>]+>", " ", entry.split("</a>", 1)[0])).strip()


def test_a_payment_the_merchant_cancels_within_four_hours_is_credited_back(world, ben, phone):
    before = balance_shown(phone)
    tx_id = ask(world, ben, amount=4000, order="ANNUL-1", tspd_mode="002")
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert balance_shown(phone) == f"460,00{NBSP}€"
    world.advance(3600)
    assert world.kit().cancel(tx_id, "OTHER", "Séjour annulé").ok
    assert balance_shown(phone) == before
    line = history_line(phone, "ANNUL-1")
    assert f"Annulé – 40,00{NBSP}€ recrédités le 02/06/2026" in line and f"+40,00{NBSP}€" in line
    assert "Le commerçant a annulé ce paiement." in line
    notice = (f"Annulé – 40,00{NBSP}€ recrédités le 02/06/2026 ({merchant_name(world)}, N° de panier ANNUL-1). "
              "Le commerçant a annulé ce paiement.")
    assert notice in phone.page("/accueil")  # Mon solde says why the balance went up
    world.advance(8 * 86_400)
    assert "recrédités" not in phone.page("/accueil") and "recrédités" in history_line(phone, "ANNUL-1")


def test_a_pre_booking_the_merchant_does_not_validate_in_time_is_credited_back(world, ben, phone):
    tx_id = ask(world, ben, amount=2500, order="RESA-9", tspd_mode="002", capture_mode="DEFERRED",
                capture_date=world.later(days=3))
    phone.post(f"/paiement/{tx_id}/code", pin=ben["pin"])
    assert balance_shown(phone) == f"475,00{NBSP}€"  # held for the merchant
    world.advance(3 * 86_400 + 60)
    assert state(world, tx_id) == ("CANCELLED", None)
    assert balance_shown(phone) == f"500,00{NBSP}€"
    line = history_line(phone, "RESA-9")
    assert f"Annulé – 25,00{NBSP}€ recrédités le 05/06/2026" in line
    assert "n'a pas validé la pré-réservation avant la date limite" in line
    assert "avant la date limite" in phone.page(f"/paiement/{tx_id}")


def test_a_payment_cancelled_before_the_beneficiary_paid_credits_nothing(world, ben, phone):
    tx_id = ask(world, ben, amount=4000, order="ANNUL-2")
    world.kit().cancel(tx_id, "CUSTOMER_ABORT")
    line = history_line(phone, "ANNUL-2")
    assert "Annulé" in line and "recrédités" not in line and f"40,00{NBSP}€" in line


def test_mon_identifiant_shows_the_cvcoid_as_qr_code_and_code_128(world, ben, phone):
    expected = f"CVCoId={ben['beneficiaryId']}"
    page = phone.page("/identifiant")
    assert expected in page and "/app/identifiant/qr.png" in page and "/app/identifiant/code128.svg" in page
    qr = phone.get("/identifiant/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png" and qr.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert [s.data.decode() for s in decode(Image.open(io.BytesIO(qr.data)).convert("L"))] == [expected]
    svg = phone.get("/identifiant/code128.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data and b"<rect" in svg.data
    png = phone.get("/identifiant/code128.png")
    symbols = decode(Image.open(io.BytesIO(png.data)).convert("L"))
    assert [(s.type, s.data.decode()) for s in symbols] == [("CODE128", expected)]


# --- the split of issue 16: the service answers in facts and machine reasons, the web words them -------

def test_the_app_service_refuses_with_machine_reasons_that_the_web_words(world, ben):
    """Another surface (a simulated customer, another language) can tell why without reading French."""
    from sandbox.domain import errors
    from sandbox.services import beneficiary_app as app
    from sandbox.web import beneficiary_pages

    sandbox, ben_id = world.sandbox, ben["beneficiaryId"]
    refused = [
        (app.NotAnIdentifier, lambda: app.log_in(sandbox, "12345", "x")),
        (app.LoginRefused, lambda: app.log_in(sandbox, "nobody@example.fr", "x")),
        (app.NothingPasted, lambda: app.scan_text(sandbox, ben_id, "  ")),
        (app.BeneficiaryCode, lambda: app.scan_text(sandbox, ben_id, f"CVCoId={ben_id}")),
        (app.NotAPaymentCode, lambda: app.scan_text(sandbox, ben_id,
                                                      "https://example.org/pre-transactions/a/qr-code")),
        (errors.TransactionNotFound, lambda: app.payment(sandbox, ben_id, "nosuch")),
        (errors.PreTransactionNotFound, lambda: app.pushed_request(sandbox, ben_id, "nosuch")),
    ]
    for kind, call in refused:
        with pytest.raises(kind):
            call()
    for _ in range(2):
        with pytest.raises(app.LoginRefused):
            app.log_in(sandbox, ben_id, "wrong")
    with pytest.raises(app.LoginLocked):  # the 3rd wrong password in a row
        app.log_in(sandbox, ben_id, "wrong")
    assert set(beneficiary_pages.APP_REFUSALS) == set(app.AppError.__subclasses__())  # each reason is worded


def test_the_app_service_reads_facts_that_the_web_words(world, ben):
    from sandbox.services import beneficiary_app as app
    from sandbox.web import beneficiary_pages

    tx_id = ask(world, ben, amount=4000, order="FAITS-1")
    world.kit().cancel(tx_id, "CUSTOMER_ABORT")
    (past,) = app.history(world.sandbox, ben["beneficiaryId"])
    assert (past.transaction.transaction_id, past.amount, past.credited, past.credited_on) == (tx_id, 4000, 0, None)
    assert past.merchant == merchant_name(world)
    line = beneficiary_pages.PastPaymentLine(past)
    assert (line.status, line.reason) == ("Annulé", "Le commerçant a annulé ce paiement.")
