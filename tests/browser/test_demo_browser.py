"""The two-minute demo of the README, in a real browser: the merchant shows a QR code in the Espace dédié,
the client pays part of it in the App' Chèque-Vacances with the personal code, and the merchant's screen
turns by itself. Both screens are live (Socket.IO), no reload on either side."""

import re
from datetime import timedelta

from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.browser.conftest import log_in_portal, portal_shop, screenshot, show_qr_code

LIVE = "document.body.dataset.live === 'on'"


def test_merchant_shows_a_qr_code_the_client_pays_part_and_the_merchant_page_follows(chromium, live_server,
                                                                                     tmp_path):
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = portal_shop(world)
    client = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")

    _, desk = log_in_portal(chromium, base, shop)
    show_qr_code(desk, base, "40,00", "DEMO-1")  # Immédiatement, no validation delay: parcours A
    desk.wait_for_function(LIVE, timeout=10_000)
    photo = tmp_path / "screen.png"
    desk.locator("img.qr").screenshot(path=str(photo))  # what the phone's camera would see

    phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR").new_page()
    phone.goto(f"{base}/app/connexion")
    phone.fill("#login", client["email"])
    phone.fill("#password", client["password"])
    with phone.expect_navigation():
        phone.click("main button[type=submit]")
    phone.goto(f"{base}/app/scanner")
    phone.set_input_files("#image", str(photo))
    with phone.expect_navigation():
        phone.click("#upload")
    assert re.search(r"/app/paiement/\w+$", phone.url), phone.url
    phone.fill("#amount", "30,00")
    with phone.expect_navigation():
        phone.click("#confirm-amount")
    for digit in client["pin"]:
        phone.click(f"#keypad button[data-key='{digit}']")
    with phone.expect_navigation():
        phone.click("#pin-ok")
    assert "10,00" in phone.inner_text("#left-due") and phone.inner_text("#result").count("Reste dû") == 1
    screenshot(phone, "demo-client-paid")

    desk.wait_for_function("document.querySelector('#qr-status').textContent.includes('Le paiement a été effectué')",
                           timeout=10_000)
    with desk.expect_navigation():
        desk.click("button:has-text('Envoyer')")
    assert "30,00" in desk.inner_text("#outcome") and "Il reste 10,00" in desk.inner_text("#left-to-pay")
    screenshot(desk, "demo-merchant-detail")
    desk.goto(f"{base}/espace-ptl/encaissement")
    assert "Validé" in desk.inner_text("#operations tr:has(td:text-is('DEMO-1'))")

    # The rest of the day comes in while the page is open: a pre-booking to validate, a deferred request.
    desk.wait_for_function(LIVE, timeout=10_000)
    kit = shop_client(HttpTransport(base, timeout=5), shop)
    now = parse_date(control.clock()["now"])
    booking = kit.create_transaction("SEJOUR-0712", "1", 18000, capture_mode="DEFERRED",
                                     capture_date=format_date(now + timedelta(days=3)))["transaction"]
    kit.set_payer(booking["id"], client["beneficiaryId"])
    control.act(client["beneficiaryId"], "authorize", pin=client["pin"])
    request = kit.create_pre_transaction("NUITEE-88", 6500, format_date(now + timedelta(days=4)),
                                         tspd_mode="002")["preTransaction"]
    kit.contact(request["id"], email="famille.martin@example.fr")
    desk.wait_for_function("document.querySelector('#count-to-validate').textContent.includes('1') && "
                           "document.querySelector('#count-waiting').textContent.includes('1')", timeout=10_000)
    screenshot(desk, "demo-merchant-operations")
