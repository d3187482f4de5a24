"""The request journal's page (`/requetes`, issue 15 item 2) in a real browser: Kit calls appear on their
own, a filter keeps only the refused ones, and a refused seal's row shows the sealed string and the hint.
(The browser fixtures fail the test on any console error.)"""

import base64
import hashlib
import hmac

from sandbox.client import KIT_PATH, HttpTransport, shop_client


def test_the_journal_page_follows_kit_calls_and_explains_a_refused_seal(chromium, live_server):
    base, control, _, _ = live_server
    shop = next(p for p in control.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE"
                and not p["serviceProviderIds"])
    page = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR").new_page()
    page.goto(f"{base}/requetes")
    transport = HttpTransport(base)
    shop_client(transport, shop).create_transaction("order-page", "1", 4000)
    page.wait_for_selector("#requests tbody td:has-text('/payment-transactions')", timeout=10_000)
    body = {"merchant": {"shopId": shop["shopId"]},
            "order": {"id": "order-bad", "paymentId": "1", "amount": {"total": 4000, "currency": "978"}},
            "paymentMethod": {"captureMode": "NORMAL", "tspdMode": "001"}}
    reordered = hmac.new(shop["key"].encode(), f"order-bad&{shop['shopId']}&1&4000".encode(), hashlib.sha256)
    seal = base64.urlsafe_b64encode(reordered.digest()).decode().rstrip("=")
    reply = transport("POST", KIT_PATH + "/payment-transactions",
                      {"Content-Type": "application/json", "ANCV-Security": f"HmacSHA256.{shop['keyVersion']}.{seal}"},
                      body)
    assert reply.status == 403
    page.fill("#filter-error", "INVALID_SEAL")
    page.wait_for_function("document.querySelectorAll('#requests tbody tr').length === 1", timeout=10_000)
    page.click("#requests tbody tr")
    hint = page.locator("#detail-hint").inner_text()
    assert "invalid" in hint and "another order" in hint and f"{shop['shopId']}&order-bad&1&4000" in hint
    assert shop["key"] not in page.locator("#detail-json").inner_text()
