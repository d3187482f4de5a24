"""The sandbox's mailbox (/_sandbox/mail) in a real browser: a link clicked in a message's preview opens
its page in a new tab, outside the sandboxed preview, and that page's forms work (issue 14, item 3)."""

from datetime import timedelta

import pytest

from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.browser.conftest import DESKTOP, PHONE, go, log_in_portal, portal_shop, screenshot

DAY_S = 86_400
NEW_PASSWORD = "Nouveau2026"


@pytest.fixture
def sandbox(live_server):
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = portal_shop(world)
    payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
    return base, control, shop, payer


def open_mail(page, base, subject):
    """The mailbox, with the message of this subject in the preview."""
    page.goto(f"{base}/_sandbox/mail")
    with page.expect_navigation():
        page.click(f"#mails a:has-text({subject!r})")
    assert page.inner_text("#message h3").startswith(subject)


def follow(page, link):
    """Click a link of the previewed message: the tab it opens, loaded."""
    with page.context.expect_page() as opened:
        page.frame_locator("#message iframe").get_by_role("link", name=link).click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.evaluate("window.origin") != "null"  # a real page, not a sandboxed one
    return tab


def test_the_reset_link_opens_the_form_in_a_new_tab_and_the_new_password_logs_in(chromium, sandbox):
    base, _, shop, _ = sandbox
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/espace-ptl/mot-de-passe-oublie")
    page.fill("#login", shop["login"])
    go(page)
    open_mail(page, base, "Espace dédié ANCV – réinitialisation")
    screenshot(page, "mailbox-reset-link")
    tab = follow(page, "Choisir un nouveau mot de passe")
    assert "/espace-ptl/mot-de-passe/" in tab.url and tab.is_visible("#password")
    tab.fill("#password", NEW_PASSWORD)
    tab.fill("#confirm", NEW_PASSWORD)
    go(tab)
    assert tab.url.endswith("/espace-ptl/connexion") and "nouveau mot de passe est enregistré" in tab.inner_text("main")
    tab.fill("#login", shop["login"])
    tab.fill("#password", NEW_PASSWORD)
    go(tab)
    assert "/espace-ptl/connexion" not in tab.url and "Déconnexion" in tab.inner_text("body")
    context.close()


def test_the_portal_buttons_of_the_merchant_emails_open_the_portal_in_a_new_tab(chromium, sandbox):
    base, control, shop, payer = sandbox
    merchant, cashier = log_in_portal(chromium, base, shop)
    cashier.goto(f"{base}/espace-ptl/encaisser")  # parcours C, the merchant wants the emails
    cashier.check("input[name=timing][value=immediat]")
    cashier.check("input[name=validation][value=oui]")
    cashier.fill("#validation_days", "2")
    cashier.fill("#email", "gerant@example.fr")
    go(cashier, "button:has-text('Continuer')")
    cashier.fill("#amount", "40")
    cashier.fill("#order_id", "REF-MAIL")
    cashier.fill("#client", payer["beneficiaryId"])
    go(cashier, "button:has-text('Continuer')")
    go(cashier, "button:has-text('Envoyer')")
    control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    merchant.close()

    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR")  # the mailbox, logged in nowhere
    page = context.new_page()
    open_mail(page, base, "LA TRANSACTION A ÉTÉ VALIDÉE")
    tab = follow(page, "JE ME CONNECTE À MON ESPACE DÉDIÉ")
    assert tab.url.endswith("/espace-ptl/connexion")
    tab.fill("#login", shop["login"])
    tab.fill("#password", shop["password"])
    go(tab)
    assert "Déconnexion" in tab.inner_text("body")
    tab.close()

    control.advance(DAY_S + 3600)  # the validation deadline is in less than 24 h: the reminder
    open_mail(page, base, "Rappel : votre délai de validation")
    tab = follow(page, "JE VALIDE OU J'ANNULE L'OPÉRATION")
    assert "/espace-ptl/encaissement/operations/" in tab.url
    assert "REF-MAIL" in tab.inner_text("main") and "A valider" in tab.inner_text("main")
    context.close()


def test_the_client_s_payment_request_link_opens_the_app_which_pays_it_after_logging_in(chromium, sandbox):
    base, control, shop, payer = sandbox
    kit = shop_client(HttpTransport(base, timeout=5), shop)
    expires = format_date(parse_date(control.clock()["now"]) + timedelta(days=2))
    pre = kit.create_pre_transaction("REF-EMAIL", 2500, expires, tspd_mode="002")["preTransaction"]
    assert kit.contact(pre["id"], email=payer["email"]).status == 200
    context = chromium.new_context(viewport=PHONE, locale="fr-FR")  # the client's phone, logged in nowhere
    page = context.new_page()
    open_mail(page, base, "Demande de paiement de 25,00")
    tab = follow(page, "JE RÈGLE AVEC MON APP' CHÈQUE-VACANCES")
    assert tab.url.endswith("/app/connexion")  # the App' asks who pays, then comes back to the request
    tab.fill("#login", payer["email"])
    tab.fill("#password", payer["password"])
    go(tab)
    assert "/app/scanner" in tab.url and pre["id"] in tab.input_value("#url")
    go(tab, "#pay-url")
    assert "REF-EMAIL" in tab.inner_text("#order") and "25,00" in tab.inner_text("#asked")
    context.close()
