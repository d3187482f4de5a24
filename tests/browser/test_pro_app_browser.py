"""App' Chèque-Vacances Pro in a real phone-sized browser: QR code shown, client pays, "Validé" appears by itself."""

import re

from tests.browser.conftest import log_in_pro, screenshot


def test_the_payment_page_turns_validated_while_the_client_pays(chromium, live_server):
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE")
    payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
    context, page = log_in_pro(chromium, base, shop)
    assert "Mes opérations" in page.inner_text("main")  # the app opens on its operations
    with page.expect_navigation():
        page.click("#new-payment")
    page.fill("#amount", "20")
    page.fill("#order_id", "REF253")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.is_visible("img.qr") and "En attente de paiement" in page.inner_text("#status")
    screenshot(page, "pro-qr-code")

    pre_id = re.search(r"/paiement/(\w+)", page.url).group(1)
    url = f"{base}/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code"
    control.act(payer["beneficiaryId"], "scan", url=url)
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    page.wait_for_function("document.querySelector('#status') && "
                           "document.querySelector('#status').textContent.includes('Validé')", timeout=10_000)
    assert "20,00" in page.inner_text("#received")
    screenshot(page, "pro-validated")
    context.close()
