"""App' Chèque-Vacances in a real phone-sized browser: a merchant's request appears by itself, the client lowers
the amount, types the code on the keypad and reads "Reste dû"; a photo of a payment QR code is read and paid."""

from datetime import timedelta

from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.browser.conftest import screenshot

PHONE = {"width": 390, "height": 844}
NBSP = "\u00a0"


def people(control):
    world = control.fixtures()
    shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
    client = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
    return shop, client


def log_in(chromium, base, client, login):
    context = chromium.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/app/connexion")
    page.fill("#login", login)
    page.fill("#password", client["password"])
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url.endswith("/app/accueil")
    return context, page


def test_a_payment_sent_by_a_merchant_appears_live_and_is_paid_in_part_on_the_keypad(chromium, live_server):
    base, control, _, _ = live_server
    shop, client = people(control)
    context, page = log_in(chromium, base, client, client["beneficiaryId"])
    assert "500,00" in page.inner_text("#balance")
    page.wait_for_function("document.body.dataset.live === 'on'", timeout=10_000)
    screenshot(page, "app-home")

    page.evaluate("window.__notReloaded = true")
    kit = shop_client(HttpTransport(base, timeout=5), shop)
    tx = kit.create_transaction("CHAMBRE-12", "1", 4000, label="Nuitée")["transaction"]
    assert kit.set_payer(tx["id"], client["beneficiaryId"]).status == 202
    page.wait_for_selector(f"#incoming a[href$='/app/paiement/{tx['id']}']", timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True  # it came without reloading the page
    screenshot(page, "app-incoming-payment")

    with page.expect_navigation():
        page.click(f"#incoming a[href$='/app/paiement/{tx['id']}']")
    assert f"40,00{NBSP}€" in page.inner_text("#asked") and "CHAMBRE-12" in page.inner_text("#order")
    page.fill("#amount", "15,00")
    with page.expect_navigation():
        page.click("#confirm-amount")
    assert f"15,00{NBSP}€" in page.inner_text("#to-pay")
    assert page.is_disabled("#pin-ok")
    for digit in client["pin"][:3]:
        page.click(f"#keypad button[data-key='{digit}']")
    page.click("#keypad button[data-key='erase']")
    page.keyboard.press(client["pin"][2])  # the keyboard works too
    assert page.locator("#pin-dots span.filled").count() == 3
    screenshot(page, "app-payment-keypad")
    for digit in client["pin"][3:]:
        page.click(f"#keypad button[data-key='{digit}']")
    assert page.is_enabled("#pin-ok")
    with page.expect_navigation():
        page.click("#pin-ok")
    assert "Paiement accepté" in page.inner_text("#result")
    assert page.inner_text("#left-due") == f"25,00{NBSP}€"  # next to its label "Reste dû", said once
    assert page.inner_text("#result").count("Reste dû") == 1
    screenshot(page, "app-payment-accepted")
    assert kit.get_transaction(tx["id"])["transaction"]["state"] == "VALIDATED"

    page.click("nav.tabs >> text=Mon identifiant")
    page.wait_for_selector("#id-barcode")
    page.wait_for_function("document.querySelector('#id-qr').naturalWidth > 0 && "
                           "document.querySelector('#id-barcode').naturalWidth > 0", timeout=10_000)
    assert f"CVCoId={client['beneficiaryId']}" in page.content()
    screenshot(page, "app-identifier")
    page.click("nav.tabs >> text=Historique")
    assert "CHAMBRE-12" in page.inner_text("#history") and "Payé" in page.inner_text("#history")
    context.close()


def test_a_photo_of_the_merchant_s_qr_code_is_read_and_paid_with_the_keyboard(chromium, live_server, tmp_path):
    base, control, _, _ = live_server
    shop, client = people(control)
    kit = shop_client(HttpTransport(base, timeout=5), shop)
    expires = format_date(parse_date(control.clock()["now"]) + timedelta(hours=1))
    pre = kit.create_pre_transaction("TICKET-88", 2350, expires)["preTransaction"]
    photo = tmp_path / "ticket.png"
    photo.write_bytes(kit.qr_code(pre["id"]).content)  # the Kit's own image, logo and all

    context, page = log_in(chromium, base, client, client["email"])
    page.click("nav.tabs >> text=Scanner")
    page.wait_for_selector("#upload-form")
    assert page.is_hidden("#camera")  # this Chromium cannot read QR codes from the camera: not offered
    screenshot(page, "app-scanner")
    page.set_input_files("#image", str(photo))
    with page.expect_navigation():
        page.click("#upload")
    assert f"23,50{NBSP}€" in page.inner_text("#asked") and "TICKET-88" in page.inner_text("#order")
    with page.expect_navigation():
        page.click("#confirm-amount")
    page.keyboard.type(client["pin"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Paiement accepté" in page.inner_text("#result")
    assert page.locator("#left-due").count() == 0
    screenshot(page, "app-scan-paid")
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "USED"

    page.click("nav.tabs >> text=Scanner")
    page.set_input_files("#image", {"name": "note.txt", "mimeType": "text/plain", "buffer": b"pas une image"})
    with page.expect_navigation():
        page.click("#upload")
    assert "n'est pas une image lisible" in page.inner_text("#scan-error")
    context.close()


def test_a_request_pushed_to_the_app_appears_live_and_its_withdrawal_shows_by_itself(chromium, live_server):
    base, control, _, _ = live_server
    shop, client = people(control)
    kit = shop_client(HttpTransport(base, timeout=5), shop)
    context, page = log_in(chromium, base, client, client["beneficiaryId"])
    page.wait_for_function("document.body.dataset.live === 'on'", timeout=10_000)
    expires = format_date(parse_date(control.clock()["now"]) + timedelta(days=2))
    pre = kit.create_pre_transaction("SEJOUR-3", 9900, expires)["preTransaction"]
    assert kit.contact(pre["id"], beneficiary_id=client["beneficiaryId"]).ok
    link = f"#incoming a[href$='/app/demande/{pre['id']}']"
    page.wait_for_selector(link, timeout=10_000)
    with page.expect_navigation():
        page.click(link)
    assert f"99,00{NBSP}€" in page.inner_text("#asked")
    with page.expect_navigation():
        page.click("#open")
    assert page.is_visible("#confirm-amount")
    page.wait_for_function("document.body.dataset.live === 'on'", timeout=10_000)

    assert kit.abort(pre["id"], label="Séjour complet").ok  # the merchant withdraws it meanwhile
    page.wait_for_selector("#result", timeout=10_000)  # the page moved on by itself
    assert "Le commerçant a annulé sa demande de paiement. Motif : Séjour complet" in page.inner_text("#result")
    assert page.locator("#confirm-amount").count() == 0
    screenshot(page, "app-request-withdrawn")
    context.close()
