"""Espace dédié in a real browser: lockout at the 3rd wrong password, reset by email, Mon compte."""

import re

from tests.browser.conftest import go, screenshot


def test_a_merchant_is_locked_out_resets_by_email_and_finds_its_id_ancv(page, live_server):
    base, control, _, _ = live_server
    shop = next(p for p in control.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE")
    page.goto(f"{base}/espace-ptl/connexion")
    for _ in range(3):
        page.fill("#login", shop["login"])
        page.fill("#password", "pas-le-bon")
        go(page)
    assert "bloqué" in page.inner_text("[role=alert]")
    screenshot(page, "portal-locked")

    go(page, "role=link[name=\"Mot de passe oublié ?\"]")
    page.fill("#login", shop["login"])
    go(page)
    assert "un e-mail vient d'être envoyé" in page.inner_text("[role=status]")
    link = re.search(r"https?://\S+/mot-de-passe/[\w-]+", control.emails()[-1]["text"]).group(0)
    page.goto(link)
    page.fill("#password", "Vacances-2026")
    page.fill("#confirm", "Vacances-2026")
    go(page)
    assert "compte est débloqué" in page.inner_text("main")

    page.fill("#login", shop["login"])
    page.fill("#password", "Vacances-2026")
    go(page)
    go(page, "nav.menu >> text=Mon compte")
    assert str(shop["shopId"]) in page.inner_text("main")
    assert page.evaluate("getComputedStyle(document.querySelector('nav.menu')).backgroundColor") == "rgb(0, 63, 125)"
    screenshot(page, "portal-mon-compte")
