"""A payment QR code that expires leaves the merchant's screen by itself (issue 14, item 4): ENCAISSER step 3
in the Espace dédié and the App Pro's payment page say until when the code is payable, then, once the
(virtual) clock passes that moment, swap it live for "QR code expiré" with nothing left to send."""

from datetime import datetime, timedelta

import pytest

from sandbox.domain.dates import PARIS
from tests.browser.conftest import go, log_in_portal, log_in_pro, portal_shop, screenshot, show_qr_code

LIVE = "document.body.dataset.live === 'on'"
PAYABLE_MINUTES = 10  # proRequestMinutes, the sandbox's default
EXPIRED = "document.querySelector('#qr-expired') !== null"


@pytest.fixture
def sandbox(live_server):
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = portal_shop(world)
    return base, control, shop


def payable_until(control):
    """What the merchant should read: the code's deadline, Paris time, to the minute."""
    now = datetime.fromisoformat(control.clock()["now"].replace("Z", "+00:00"))
    return (now + timedelta(minutes=PAYABLE_MINUTES)).astimezone(PARIS).strftime("Payable jusqu'au %d/%m/%Y à %Hh%M")


def assert_expired(page):
    assert "QR code expiré" in page.inner_text("#qr-expired")
    assert page.locator("img.qr").count() == 0 and page.locator("#qr-deadline").count() == 0
    assert page.locator("button:has-text('Envoyer')").count() == 0
    assert page.locator("#print-ticket").count() == 0


def test_the_portal_s_qr_code_says_until_when_it_is_payable_then_leaves_when_it_expires(chromium, sandbox):
    base, control, shop = sandbox
    context, page = log_in_portal(chromium, base, shop)
    expected = payable_until(control)
    show_qr_code(page, base, "40", "REF-QR-EXP")
    assert page.is_visible("img.qr") and page.inner_text("#qr-deadline") == expected
    page.wait_for_function(LIVE, timeout=10_000)

    control.advance(PAYABLE_MINUTES * 60 + 1)
    page.wait_for_function(EXPIRED, timeout=10_000)  # pushed: nobody reloaded the page
    assert_expired(page)
    assert page.is_visible("#new-request")
    screenshot(page, "portal-encaisser-qr-expired")
    page.reload()
    assert_expired(page)
    with page.expect_navigation():
        page.click("#new-request")  # back to step 2, filled in: Continuer gives a new, payable code
    go(page, "button:has-text('Continuer')")
    assert page.is_visible("img.qr") and page.inner_text("#qr-deadline") == payable_until(control)
    context.close()


def test_the_app_pro_s_qr_code_says_until_when_it_is_payable_then_leaves_when_it_expires(chromium, sandbox):
    base, control, shop = sandbox
    context, page = log_in_pro(chromium, base, shop)
    page.goto(f"{base}/pro/paiement")
    page.fill("#amount", "20")
    page.fill("#order_id", "REF-PRO-EXP")
    expected = payable_until(control)
    go(page, "main button[type=submit]")
    assert page.is_visible("img.qr") and page.inner_text("#qr-deadline") == expected
    page.wait_for_function(LIVE, timeout=10_000)

    control.advance(PAYABLE_MINUTES * 60 + 1)
    page.wait_for_function(EXPIRED, timeout=10_000)
    assert_expired(page)
    assert page.inner_text("#status").upper() == "EXPIRÉ"
    screenshot(page, "pro-qr-expired")
    page.reload()
    assert_expired(page)
    assert page.locator("text=Rafraîchir").count() == 0
    context.close()
