"""The dashboard at `/` in a real browser, under the trust rules of issue 14 (item 9 and 12): its clock
buttons, its live timeline and the mailbox preview keep working with JSON-only control-plane writes, the
Host and Origin checks and the anti-framing headers. (Another site's page trying them is refused in
tests/api/test_control.py and tests/integration/test_server.py: a browser logs those refusals as errors.)"""

from datetime import timedelta

from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.browser.conftest import screenshot


def test_the_dashboard_buttons_move_the_clock_and_the_timeline_follows(chromium, live_server):
    base, control, _, _ = live_server
    page = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR").new_page()
    page.goto(f"{base}/")
    before = parse_date(control.clock()["now"])
    with page.expect_navigation():
        page.click("button:has-text('+1 h')")
    assert parse_date(control.clock()["now"]) - before == timedelta(hours=1)
    assert page.url.rstrip("/") == base and page.locator("#clock-now").inner_text().startswith(
        format_date(before + timedelta(hours=1))[:16])
    assert "ClockAdvanced" in page.locator("#timeline").inner_text()
    control.advance(60)  # from elsewhere: the page's own fetch of /_sandbox/events brings it in
    page.wait_for_function("[...document.querySelectorAll('#timeline tbody td:nth-child(3)')]"
                           ".filter(td => td.textContent === 'ClockAdvanced').length >= 2", timeout=10_000)
    screenshot(page, "dashboard-after-advance")


def test_the_mailbox_previews_a_message_in_its_own_frame(chromium, live_server):
    base, control, _, _ = live_server
    shop = next(p for p in control.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE"
                and not p["serviceProviderIds"])
    kit = shop_client(HttpTransport(base), shop)
    later = format_date(parse_date(control.clock()["now"]) + timedelta(days=1))
    pre = kit.create_pre_transaction("panier-mail", 4000, later)["preTransaction"]
    assert kit.contact(pre["id"], email="client@example.org").status == 200
    page = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR").new_page()
    reply = page.goto(f"{base}/_sandbox/mail")
    assert reply.headers["x-frame-options"] == "SAMEORIGIN"
    frame = page.frame_locator("#message iframe")
    assert "panier-mail" in frame.locator("body").inner_text(timeout=10_000)

