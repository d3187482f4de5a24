"""Printable pages in a real browser: from the QR code of the ENCAISSER wizard and of the App' Pro, "Imprimer le
ticket" opens the till receipt of Kit §6.5.1; printed, only the 80 mm ticket with its QR code is on the paper.
The beneficiary's card prints alone on one bank-card-sized sheet."""

import re

from tests.browser.conftest import go, log_in_portal, log_in_pro, portal_shop, screenshot, show_qr_code

MM_PX = 96 / 25.4  # CSS pixels per millimetre
PDF_POINTS_PER_MM = 72 / 25.4


def paper_sizes_mm(pdf):
    """Each page's width and height in millimetres, from the PDF's MediaBox entries."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(round((float(x1) - float(x0)) / PDF_POINTS_PER_MM), round((float(y1) - float(y0)) / PDF_POINTS_PER_MM))
            for x0, y0, x1, y1 in boxes]


def test_the_ticket_prints_alone_at_till_roll_width_with_its_qr_code(chromium, live_server):
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = portal_shop(world)
    context, page = log_in_portal(chromium, base, shop)
    show_qr_code(page, base, "40", "PANIER-TICKET")
    assert page.is_visible("img.qr") and page.inner_text("#print-ticket") == "Imprimer le ticket"
    with page.expect_navigation():
        page.click("#print-ticket")

    assert page.is_visible(".print-tools") and page.is_visible("#print")  # on screen: Retour, Imprimer
    page.emulate_media(media="print")
    assert page.is_hidden(".print-tools") and page.is_hidden("#print")
    assert page.is_visible("#ticket-qr") and page.is_visible("text=Scannez ce QR Code de paiement")
    assert page.evaluate("document.getElementById('ticket-qr').naturalWidth") == 300  # the Kit's PNG, loaded
    ticket = page.locator("#ticket").bounding_box()
    assert abs(ticket["width"] - 80 * MM_PX) < 1 and ticket["x"] < 1  # at the paper's edge, 80 mm wide
    assert "40,00" in page.inner_text("#amount") and page.inner_text("#order-id") == "PANIER-TICKET"
    screenshot(page, "ticket-de-caisse-print")
    sizes = paper_sizes_mm(page.pdf(prefer_css_page_size=True, print_background=True))
    assert len(sizes) == 1 and sizes[0][0] == 80, sizes  # one sheet off the till roll, as long as the ticket
    assert abs(sizes[0][1] - ticket["height"] / MM_PX) < 5, sizes
    context.close()

    _, phone = log_in_pro(chromium, base, shop)
    phone.goto(f"{base}/pro/paiement")  # the app opens on its operations list
    phone.fill("#amount", "20")
    phone.fill("#order_id", "REF-PRO")
    go(phone)
    assert phone.is_visible("img.qr") and phone.inner_text("#print-ticket") == "Imprimer le ticket"
    with phone.expect_navigation():
        phone.click("#print-ticket")
    assert phone.inner_text("#order-id") == "REF-PRO" and phone.is_visible("#ticket-qr")
    phone.context.close()


def test_the_beneficiary_s_card_prints_alone_on_a_bank_card_sized_sheet(chromium, live_server):
    base, control, _, _ = live_server
    ben = next(b for b in control.fixtures()["beneficiaries"] if b["behaviour"] == "manual")
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/app/connexion")
    page.fill("#login", ben["beneficiaryId"])
    page.fill("#password", ben["password"])
    go(page)
    page.goto(f"{base}/app/identifiant")
    with page.expect_navigation():
        page.click("text=Imprimer ma carte")
    page.emulate_media(media="print")
    assert page.is_hidden(".print-tools") and page.inner_text("#id-number") == ben["beneficiaryId"]
    assert page.evaluate("['card-qr', 'card-barcode'].every(id => document.getElementById(id).naturalWidth > 0)")
    screenshot(page, "carte-identifiant-print")
    assert paper_sizes_mm(page.pdf(prefer_css_page_size=True, print_background=True)) == [(86, 54)]
    context.close()
