"""✓ and ✗ of the Espace d'encaissement in a real browser (issue 14, items 1, 2 and 6; seeds 001/002):
each opens its own modal window over the table, "NON" / "Fermer sans valider" change nothing, "OUI" /
"Valider" do what they say; without JavaScript the same windows are pages of their own. The
`chromium` fixture fails the test on any page error (the old inline confirm() threw one)."""

from datetime import timedelta

import pytest

from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.browser.conftest import DESKTOP, log_in_portal, screenshot

NBSP = "\u00a0"
DAY_S = 86_400
PAID_BY_S = 7 * DAY_S + 6 * 3600  # a day's payments are reimbursed 5 working days later (see Mes remboursements)


@pytest.fixture
def portal(chromium, live_server):
    """The Espace dédié of a point d'accueil cashing directly, its Kit client and its client's app."""
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = next(p for p in world["pointsOfSale"]
                if p["status"] == "ACTIVE" and len(p["login"]) == 12 and not p.get("serviceProviderIds"))
    payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
    kit = shop_client(HttpTransport(base, timeout=5), shop)
    yield base, control, shop, payer, kit


def pre_booking(control, kit, payer, order_id, amount=4000):
    """Parcours C through the Kit: authorized by the client, "A valider" for the merchant."""
    later = format_date(parse_date(control.clock()["now"]) + timedelta(days=3))
    tx = kit.create_transaction(order_id, "1", amount, capture_mode="DEFERRED", capture_date=later)["transaction"]
    assert kit.set_payer(tx["id"], payer["beneficiaryId"]).status == 202
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    return tx["id"]


def row(order_id):
    return f"#operations tr:has(td:text-is('{order_id}'))"


def state(kit, tx_id):
    return kit.get_transaction(tx_id)["transaction"]["state"]


def test_cross_asks_in_a_window_and_non_changes_nothing_oui_cancels(chromium, portal):
    base, control, shop, payer, kit = portal
    tx_id = pre_booking(control, kit, payer, "REF-ANNUL")
    context, page = log_in_portal(chromium, base, shop)
    page.goto(f"{base}/espace-ptl/encaissement")
    page.click(f"{row('REF-ANNUL')} a[title=\"Annuler l'opération\"]")
    dialog = page.wait_for_selector("dialog.window-dialog[open]")
    assert page.evaluate("document.querySelector('dialog.window-dialog').matches(':modal')")
    words = dialog.inner_text()
    for expected in ("ANNULER L'OPÉRATION", "Voulez-vous annuler l'opération suivante ?", "Montant encaissé",
                     f"40,00{NBSP}€", "Êtes-vous sûr de vouloir annuler cette demande de pré-réserve ?"):
        assert expected in words, expected
    assert page.url.endswith("/espace-ptl/encaissement")  # a window over the table, not another page
    screenshot(page, "portal-cancel-window")
    page.click("dialog.window-dialog a:text-is('NON')")
    page.wait_for_selector("dialog.window-dialog", state="detached")
    assert state(kit, tx_id) == "AUTHORIZED"
    page.click(f"{row('REF-ANNUL')} a[title=\"Annuler l'opération\"]")
    page.wait_for_selector("dialog.window-dialog[open]")
    with page.expect_navigation():
        page.click("dialog.window-dialog button:text-is('OUI')")
    assert page.inner_text("#notice") == "Le paiement a été annulé. Votre client a été recrédité."
    assert page.inner_text("#status") == "Annulé" and state(kit, tx_id) == "CANCELLED"
    context.close()


def test_check_opens_the_validate_window_which_lowers_the_amount_in_french(chromium, portal):
    base, control, shop, payer, kit = portal
    tx_id = pre_booking(control, kit, payer, "REF-VALID")
    context, page = log_in_portal(chromium, base, shop)
    page.goto(f"{base}/espace-ptl/encaissement")
    page.click(f"{row('REF-VALID')} a[title='Valider la pré-réservation']")
    dialog = page.wait_for_selector("dialog.window-dialog[open]")
    words = dialog.inner_text()
    for expected in ("VALIDER LA PRÉ-RÉSERVATION", "Montant", "Date du paiement",
                     "Date limite de validation après encaissement", "Fermer sans valider"):
        assert expected in words, expected
    assert "ANNULER" not in words and page.input_value("dialog #amount") == "40,00"
    assert page.inner_text("dialog button[type=submit]") == "Valider"
    screenshot(page, "portal-validate-window")
    page.click("dialog.window-dialog a:text-is('Fermer sans valider')")
    page.wait_for_selector("dialog.window-dialog", state="detached")
    assert state(kit, tx_id) == "AUTHORIZED"

    page.click(f"{row('REF-VALID')} a[title='Valider la pré-réservation']")
    page.wait_for_selector("dialog.window-dialog[open]")
    page.fill("dialog #amount", "45,00")
    with page.expect_navigation():
        page.click("dialog button:text-is('Valider')")  # no English bubble: the server answers in French
    assert page.inner_text("#amount-error") == f"Le montant ne peut pas dépasser 40,00{NBSP}€."
    page.fill("#amount", "30,00")
    with page.expect_navigation():
        page.click("button:text-is('Valider')")
    assert page.inner_text("#notice") == "C'est bon ! Le paiement est validé."
    assert page.inner_text("#status") == "Validé" and f"30,00{NBSP}€" in page.inner_text("table")
    assert state(kit, tx_id) == "VALIDATED"
    context.close()


def test_without_javascript_the_windows_are_pages_and_oui_is_still_needed(chromium, portal):
    base, control, shop, payer, kit = portal
    tx_id = pre_booking(control, kit, payer, "REF-NOJS")
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/espace-ptl/connexion")
    page.fill("#login", shop["login"])
    page.fill("#password", shop["password"])
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.goto(f"{base}/espace-ptl/encaissement")
    with page.expect_navigation():
        page.click(f"{row('REF-NOJS')} a[title=\"Annuler l'opération\"]")
    assert page.inner_text("h2") == "ANNULER L'OPÉRATION" and state(kit, tx_id) == "AUTHORIZED"
    with page.expect_navigation():
        page.click("a:text-is('NON')")
    assert page.url.endswith("/espace-ptl/encaissement") and state(kit, tx_id) == "AUTHORIZED"
    with page.expect_navigation():
        page.click(f"{row('REF-NOJS')} a[title=\"Annuler l'opération\"]")
    with page.expect_navigation():
        page.click("button:text-is('OUI')")
    assert page.inner_text("#status") == "Annulé" and state(kit, tx_id) == "CANCELLED"
    context.close()


ALIGNMENT = """selector => [...document.querySelectorAll(selector)].map(cell => {
  const row = cell.parentElement.getBoundingClientRect();
  return {display: getComputedStyle(cell).display,
          rowMiddle: row.top + row.height / 2,
          cellHeight: cell.getBoundingClientRect().height, rowHeight: row.height,
          icons: [...cell.querySelectorAll('a.action')].map(a => {
            const box = a.getBoundingClientRect(); return box.top + box.height / 2; })};
})"""


def assert_aligned(cells):
    """Each actions cell is a table cell as high as its row, its icons on one line in the row's middle."""
    assert cells
    for cell in cells:
        assert cell["display"] == "table-cell", cell
        assert abs(cell["cellHeight"] - cell["rowHeight"]) < 1, cell
        for middle in cell["icons"]:
            assert abs(middle - cell["rowMiddle"]) < 2, cell


def test_the_actions_column_is_aligned_in_the_table_and_in_mes_remboursements(chromium, portal):
    base, control, shop, payer, kit = portal
    pre_booking(control, kit, payer, "REF-ALIGN")
    tx = kit.create_transaction("REF-PAYE", "1", 2500)["transaction"]
    assert kit.set_payer(tx["id"], payer["beneficiaryId"]).status == 202
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    context, page = log_in_portal(chromium, base, shop)
    page.goto(f"{base}/espace-ptl/encaissement")
    assert_aligned(page.evaluate(ALIGNMENT, "#operations td.actions"))
    control.advance(PAID_BY_S)
    page.goto(f"{base}/espace-ptl/remboursements")
    assert_aligned(page.evaluate(ALIGNMENT, "#transfers td.actions"))
    screenshot(page, "portal-reimbursements-actions")
    context.close()
