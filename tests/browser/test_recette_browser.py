"""The cahier de recette's page (`/recette`, issue 17 item 3) in a real browser: a campaign started from the
form for a point d'accueil, its `immediate-payment` case played through the Kit while the page is open, and
the case's row turning green without a reload. (The browser fixtures fail the test on any console error.)"""

from tests.browser.conftest import go, screenshot
from tests.recette_play import play_immediate_payment


def test_a_case_played_through_the_kit_turns_green_on_the_open_page(chromium, live_server, receiver):
    base, control, _, _ = live_server
    shop = control.fixtures()["pointsOfSale"][0]
    page = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR").new_page()
    page.goto(f"{base}/")
    go(page, "header a:has-text('Cahier de recette')")
    page.select_option("#holder", f"shop:{shop['shopId']}")
    go(page, "#start-recette button[type=submit]")
    campaign_id = page.locator("#campaign-id").inner_text()
    row = page.locator("li[data-case='immediate-payment']")
    row.wait_for(timeout=10_000)
    assert row.locator(".verdict").inner_text() == "En attente"
    row.locator("summary:has-text('À faire et identifiants')").click()
    assert "returnUrl" in row.inner_text()  # the case's instructions, in French, with its identifiers

    case = next(c for c in control.recette(campaign_id)["cases"] if c["id"] == "immediate-payment")
    play_immediate_payment(base, control, shop["key"], case, receiver)

    page.wait_for_selector("li[data-case='immediate-payment'][data-status='passed']", timeout=10_000)
    assert row.locator(".verdict").inner_text() == "Réussi"
    assert row.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(27, 127, 59)"  # green
    assert page.locator("li[data-case='refused-no-device'] .verdict").inner_text() == "En attente"
    screenshot(page, "recette-campaign")

    go(page, "#end-recette button[type=submit]")
    page.wait_for_selector("li[data-case='refused-no-device'][data-status='not_played']", timeout=10_000)
    assert page.locator("li[data-case='refused-no-device'] .verdict").inner_text() == "Non joué"
    assert page.locator("#end-recette").is_hidden()
    page.goto(f"{base}/_sandbox/recette/{campaign_id}/report")
    assert "Réussi" in page.locator("#case-immediate-payment").inner_text()
