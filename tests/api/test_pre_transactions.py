"""Payment requests: pre-transactions, QR codes, contact, abort, scans (Kit §4.6, SPEC §5)."""

import base64


def test_create_returns_201_created_with_default_pre_payment_id(world):
    """Kit §4.6.1, §6.2.4.13: prePaymentId defaults to "0"."""
    reply = world.kit().create_pre_transaction("panier-1", 4000, world.later(hours=2))
    assert reply.status == 201
    pre = reply["preTransaction"]
    assert pre["state"] == "CREATED" and pre["order"]["prePaymentId"] == "0"
    assert world.kit().create_pre_transaction("panier-1", 4000, world.later(hours=2)).status == 200


def test_deferred_request_carries_its_capture_term(world):
    reply = world.kit().create_pre_transaction("panier-1", 4000, world.later(days=1), capture_mode="DEFERRED",
                                               capture_term=4, pre_payment_id="18")
    assert reply.status == 201 and reply["preTransaction"]["paymentMethod"]["captureTerm"] == 4


def test_qr_code_is_a_300px_png_or_base64_with_the_url_header_and_stays_the_same(world):
    """Kit §4.6.2: Accept image/png or text/plain, header pre-transaction-url, same image each call."""
    from io import BytesIO

    from PIL import Image

    kit = world.kit()
    pre = kit.create_pre_transaction("panier-1", 4000, world.later(hours=1))["preTransaction"]
    png = kit.qr_code(pre["id"])
    text = kit.qr_code(pre["id"], accept="text/plain")
    star = kit.qr_code(pre["id"], accept="*/*")
    assert png.status == text.status == star.status == 200
    assert png.headers["Content-Type"] == "image/png" and Image.open(BytesIO(png.content)).size == (300, 300)
    assert base64.b64decode(text.content) == png.content == star.content
    assert png.headers["pre-transaction-url"].endswith(f"/acquisition/api/public/v1/pre-transactions/{pre['id']}/qr-code")
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "PROCESSING"  # SR: first QR request


def test_contact_by_email_sends_the_request_with_its_qr_code(world):
    """Kit §4.6.4: only in CREATED; → PROCESSING; an email with the QR code."""
    kit = world.kit()
    pre = kit.create_pre_transaction("panier-1", 4000, world.later(days=2))["preTransaction"]
    reply = kit.contact(pre["id"], email="client@example.org")
    assert reply.status == 200 and reply["preTransaction"]["state"] == "PROCESSING"
    mail = world.control.emails()[-1]
    assert mail["to"] == "client@example.org" and "40,00" in mail["subject"]
    assert "data:image/png;base64," in mail["html"] and pre["id"] in mail["text"]


def test_contact_to_a_beneficiary_pushes_the_request_to_the_app_which_pays_it(world):
    kit, ben = world.kit(), world.beneficiary("pay_full")
    pre = kit.create_pre_transaction("panier-1", 4000, world.later(days=2))["preTransaction"]
    assert kit.contact(pre["id"], beneficiary_id=ben["beneficiaryId"]).status == 200
    world.advance(3)  # the app opens the request
    world.advance(3)  # and pays it
    state = kit.get_pre_transaction(pre["id"])["preTransaction"]
    assert state["state"] == "USED" and state["validatedPaymentTransactionId"]
    tx = kit.get_transaction(state["validatedPaymentTransactionId"])["transaction"]
    assert tx["state"] == "VALIDATED" and tx["order"]["paymentId"] == "0"


def test_scan_creates_a_transaction_and_authorization_uses_the_request(world):
    """SPEC §5: scan → AUTHORIZING; authorization → USED with validatedPaymentTransactionId."""
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("panier-1", 4000, world.later(hours=1))["preTransaction"]
    url = kit.qr_code(pre["id"]).headers["pre-transaction-url"]
    tx = world.control.act(ben["beneficiaryId"], "scan", url=url)["transaction"]
    assert (tx["state"], tx["subState"]) == ("PROCESSING", "IN_ADJUSTMENT")
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "AUTHORIZING"
    world.control.act(ben["beneficiaryId"], "adjust", amount=1500)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    after = kit.get_pre_transaction(pre["id"])["preTransaction"]
    assert after["state"] == "USED" and after["validatedPaymentTransactionId"] == tx["id"]
    paid = kit.get_transaction(tx["id"])["transaction"]
    assert paid["payers"][0]["authorizations"][0]["amount"]["total"] == 1500  # partial: rest paid otherwise


def test_deferred_request_gives_a_transaction_with_capture_date_after_the_term(world):
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("p", 4000, world.later(days=2), capture_mode="DEFERRED", capture_term=4)
    url = kit.qr_code(pre["preTransaction"]["id"]).headers["pre-transaction-url"]
    tx = world.control.act(ben["beneficiaryId"], "scan", url=url)["transaction"]
    from sandbox.domain.dates import parse_date

    delta = parse_date(tx["paymentMethod"]["captureDate"]) - parse_date(tx["creationDate"])
    assert delta.days == 4 and tx["paymentMethod"]["captureMode"] == "DEFERRED"


def test_a_rejected_payment_gives_the_request_back(world):
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("p", 4000, world.later(hours=1))["preTransaction"]
    url = kit.qr_code(pre["id"]).headers["pre-transaction-url"]
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    tx = world.control.act(ben["beneficiaryId"], "authorize", pin="000000" if ben["pin"] != "000000" else "111111")
    assert tx["transaction"]["subState"] == "REJECTED_SECURITY"
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "PROCESSING"


def test_the_beneficiary_refusing_aborts_the_request(world):
    """Kit §4.6.5: explicit refusal → ABORTED_BENEFICIARY."""
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("p", 4000, world.later(hours=1))["preTransaction"]
    url = kit.qr_code(pre["id"]).headers["pre-transaction-url"]
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    world.control.act(ben["beneficiaryId"], "refuse")
    after = kit.get_pre_transaction(pre["id"])["preTransaction"]
    assert after["state"] == "ABORTED" and after["abort"]["reason"] == "ABORTED_BENEFICIARY"


def test_merchant_abort_ends_the_request_and_the_code_no_longer_pays(world):
    """Kit §4.6.5: ABORTED_MERCHANT; scanning it afterwards fails."""
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("p", 4000, world.later(hours=1))["preTransaction"]
    url = kit.qr_code(pre["id"]).headers["pre-transaction-url"]
    reply = kit.abort(pre["id"], "Abandon suite à une erreur de saisie")
    assert reply.status == 200 and reply["preTransaction"]["abort"]["reason"] == "ABORTED_MERCHANT"
    scan = world.transport("POST", f"/_sandbox/beneficiaries/{ben['beneficiaryId']}/act",
                           {"Content-Type": "application/json"}, {"action": "scan", "url": url})
    assert scan.status == 403 and scan.body["errorCode"] == "OPERATION_PRE_TRANSACTION_NOT_ALLOWED"


def test_abort_answers_403_on_an_expired_request_as_on_an_aborted_or_used_one(world):
    """Kit §4.6.5, §6.8.5: only a request not paid yet can be aborted; an expired one is final (403, not 412)."""
    kit = world.kit()
    expired = kit.create_pre_transaction("p-exp", 4000, world.later(hours=1))["preTransaction"]
    aborted = kit.create_pre_transaction("p-abo", 4000, world.later(days=2))["preTransaction"]
    assert kit.abort(aborted["id"]).status == 200
    world.advance(3601)
    assert kit.get_pre_transaction(expired["id"])["preTransaction"]["state"] == "EXPIRED"
    for pre_id, state in ((expired["id"], "EXPIRED"), (aborted["id"], "ABORTED")):
        reply = kit.abort(pre_id)
        assert reply.status == 403 and reply.body["errorCode"] == "OPERATION_PRE_TRANSACTION_NOT_ALLOWED"
        assert kit.get_pre_transaction(pre_id)["preTransaction"]["state"] == state
