"""ENCAISSER in a real browser (seeds 001, 002): parcours A by QR code and by identifier, B, C (validated
for less, and cancelled) and D, each with the merchant's page following the client live."""

import re

import pytest

from tests.browser.conftest import log_in_portal, portal_shop, screenshot
from tests.conftest import serving

LIVE = "document.body.dataset.live === 'on'"


@pytest.fixture
def portal(chromium, live_server):
    """A merchant logged in to the Espace dédié, the control plane, and the sandbox's people."""
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = portal_shop(world)
    context, page = log_in_portal(chromium, base, shop)
    payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
    yield page, base, control, payer
    context.close()


def submit(page, label="Continuer"):
    with page.expect_navigation():
        page.click(f"button:has-text('{label}')")


def choose(page, base, timing="immediat", payment_days=None, validation="non", validation_days=None, email=None):
    """From the operations list, ENCAISSER, then step 1."""
    page.goto(f"{base}/espace-ptl/encaissement")
    with page.expect_navigation():
        page.click("#encaisser")
    page.check(f"input[name=timing][value={timing}]")
    if payment_days:
        page.fill("#payment_days", payment_days)
    page.check(f"input[name=validation][value={validation}]")
    if validation_days:
        page.fill("#validation_days", validation_days)
    if email:
        page.fill("#email", email)
    submit(page)


def demand(page, amount, order_id, client=None, mode=None):
    page.fill("#amount", amount)
    page.fill("#order_id", order_id)
    if mode:
        page.check(f"input[name=mode][value={mode}]")
    if client:
        page.fill("#client", client)
    submit(page)


def wait_text(page, selector, words):
    page.wait_for_function(f"document.querySelector({selector!r}) && "
                           f"document.querySelector({selector!r}).textContent.includes({words!r})", timeout=10_000)


def row_status(page, order_id):
    return page.inner_text(f"#operations tr:has(td:text-is('{order_id}')) td.status")


def test_parcours_a_by_qr_code_the_client_pays_part_while_the_code_is_shown(portal):
    page, base, control, payer = portal
    choose(page, base)
    assert "Demande de paiement immédiat" in page.inner_text(".stepper")
    assert page.input_value("#order_id").startswith("REF")  # today's next N° de panier, offered
    page.fill("#order_id", "")
    page.check("input[name=mode][value=qr]")
    submit(page)
    assert page.inner_text("#amount-error") == "Indiquez un montant en euros, par exemple 20,00."
    assert page.inner_text("#order_id-error") == "Ce champ est obligatoire."
    screenshot(page, "portal-encaisser-field-errors")
    demand(page, "40,00", "REF-A-QR", mode="qr")
    assert page.is_visible("img.qr") and page.is_visible("text=Changer de mode d'encaissement")
    page.wait_for_function(LIVE, timeout=10_000)
    screenshot(page, "portal-encaisser-qr-code")
    pre_id = re.search(r"/encaisser/qr/(\w+)\.png", page.inner_html(".printable")).group(1)
    control.act(payer["beneficiaryId"], "scan", url=f"{base}/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code")
    control.act(payer["beneficiaryId"], "adjust", amount=3000)
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    wait_text(page, "#qr-status", "C'est bon ! Le paiement a été effectué.")
    submit(page, "Envoyer")
    assert "Détail du paiement" in page.inner_text(".stepper")
    assert "30,00" in page.inner_text("#outcome") and "Il reste 10,00" in page.inner_text("#left-to-pay")
    screenshot(page, "portal-encaisser-detail-partial")


def test_parcours_a_by_identifier_the_detail_follows_the_client(portal):
    page, base, control, payer = portal
    choose(page, base)
    demand(page, "25", "REF-A-ID", mode="identifiant", client=payer["email"])
    assert f"Identifiant ANCV : {payer['email']}" in page.inner_text("#client")
    submit(page, "Envoyer")
    assert "en attente de validation par votre client" in page.inner_text("#outcome")
    page.wait_for_function(LIVE, timeout=10_000)
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    wait_text(page, "#outcome", "réalisé pour un montant de 25,00")
    assert page.inner_text("#status") == "Validé"


def test_parcours_b_the_operations_list_turns_validated_when_the_client_pays(portal):
    page, base, control, payer = portal
    page.goto(f"{base}/espace-ptl/encaisser")
    page.check("input[name=timing][value=differe]")
    page.fill("#payment_days", "10")
    assert page.inner_text("#payment_date").startswith("Soit le ")
    screenshot(page, "portal-encaisser-step1-deferred")
    submit(page)
    demand(page, "40", "REF-B", client=payer["email"])
    assert "(10 jours)" in page.inner_text(".summary")
    submit(page, "Envoyer")
    assert "La demande de paiement a bien été envoyée" in page.inner_text("#outcome")
    pre_id = page.url.rsplit("/", 1)[1]
    page.goto(f"{base}/espace-ptl/encaissement")
    assert row_status(page, "REF-B") == "En attente de paiement client"
    page.wait_for_function(LIVE, timeout=10_000)
    control.act(payer["beneficiaryId"], "scan", url=f"{base}/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code")
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    page.wait_for_function("document.querySelector('#operations').textContent.includes('Validé')", timeout=10_000)
    assert row_status(page, "REF-B") == "Validé"
    screenshot(page, "portal-operations-live")


def test_parcours_c_validated_for_less_then_another_cancelled(portal):
    page, base, control, payer = portal
    for order_id in ("REF-C1", "REF-C2"):
        choose(page, base, validation="oui", validation_days="2", email="gerant@example.fr")
        demand(page, "40", order_id, client=payer["beneficiaryId"])
        assert "(2 jours)" in page.inner_text(".summary")
        submit(page, "Envoyer")
        page.wait_for_function(LIVE, timeout=10_000)
        control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
        wait_text(page, "#status", "A valider")
    page.goto(f"{base}/espace-ptl/encaissement")
    assert "A valider : 2" in page.inner_text("#count-to-validate")
    page.click("#operations tr:has(td:text-is('REF-C1')) a[title='Valider la pré-réservation']")
    page.fill("dialog.window-dialog[open] #amount", "30,00")
    screenshot(page, "portal-validate-pre-booking")
    with page.expect_navigation():
        page.click("dialog.window-dialog button:text-is('Valider')")
    assert page.inner_text("#status") == "Validé" and "30,00" in page.inner_text("table")
    page.goto(f"{base}/espace-ptl/encaissement")
    page.click("#operations tr:has(td:text-is('REF-C2')) a[title=\"Annuler l'opération\"]")
    with page.expect_navigation():
        page.click("dialog.window-dialog button:text-is('OUI')")
    assert page.inner_text("#status") == "Annulé"


def test_parcours_d_the_request_becomes_a_pre_booking_to_validate(portal):
    page, base, control, payer = portal
    choose(page, base, timing="differe", payment_days="3", validation="oui", validation_days="2")
    assert "Demande de pré-réservation différée" in page.inner_text(".stepper")
    demand(page, "50", "REF-D", client=payer["email"])
    assert "Délai limite de validation après encaissement" in page.inner_text(".summary")
    submit(page, "Envoyer")
    pre_id = page.url.rsplit("/", 1)[1]
    page.goto(f"{base}/espace-ptl/encaissement")
    page.wait_for_function(LIVE, timeout=10_000)
    control.act(payer["beneficiaryId"], "scan", url=f"{base}/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code")
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    page.wait_for_function("document.querySelector('#count-to-validate').textContent.includes('1')", timeout=10_000)
    assert row_status(page, "REF-D") == "A valider"
    assert "Pré-réservation différée" in page.inner_text("#operations")


def test_a_deadline_passing_on_the_wall_clock_updates_the_page_by_itself(chromium, tmp_path):
    """The background worker fires the client's 250 s window (here 100× faster): the push comes from it."""
    with serving(tmp_path, "--speed", "100", db=":memory:") as (base, control, _, _):
        world = control.fixtures()
        shop = portal_shop(world)
        payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
        context, page = log_in_portal(chromium, base, shop)
        choose(page, base)
        demand(page, "12", "REF-TIMEOUT", mode="identifiant", client=payer["beneficiaryId"])
        submit(page, "Envoyer")
        page.wait_for_function(LIVE, timeout=10_000)
        wait_text(page, "#status", "Refusé")  # nobody answered: REJECTED_TIMEOUT, pushed by the worker
        assert "n'a pas abouti" in page.inner_text("#outcome")
        context.close()
