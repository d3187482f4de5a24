"""The Espace dédié, the App' Pro and the App' as people see them (issue 14, items 6 and 7): the guide's
structure (public home, full menu, Encaissement › Espace d'encaissement, Filtres, Exporter), a 390 px
phone without sideways scrolling, readable text (WCAG AA contrast, measured on the computed colours),
French answers instead of the browser's English bubbles, the ⓘ drawn without any font."""

import re

from tests.browser.conftest import DESKTOP, PHONE, go, log_in_portal, log_in_pro, portal_shop, screenshot

# The contrast of every piece of visible text against the background it is drawn on (blending the
# semi-transparent layers behind it), WCAG 2.x formula. Text made of symbols only (●, ✓, ✗, ▾) is a
# graphical object: 3:1 (WCAG 1.4.11); everything else 4.5:1 (1.4.3, AA), whatever its size.
CONTRAST_JS = r"""
() => {
  const parse = c => { const m = c.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
                                 b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let out = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) out = over(layers[i], out);
    return out;
  };
  const faded = el => { for (let e = el; e; e = e.parentElement) if (parseFloat(getComputedStyle(e).opacity) < 1) return true; return false; };
  const bad = [], seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim(), el = walker.currentNode.parentElement;
    if (!text || seen.has(el)) continue;
    seen.add(el);
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility !== "visible") continue;
    if (el.closest("script, style, noscript, option, [disabled]") || faded(el)) continue;  // disabled: exempt
    const back = background(el), fore = over(parse(style.color), back);
    const [hi, lo] = [lum(fore), lum(back)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05), need = /[\p{L}\p{N}]/u.test(text) ? 4.5 : 3;
    if (ratio < need) bad.push(`${ratio.toFixed(2)}:1 < ${need} for "${text.slice(0, 40)}" (${el.tagName.toLowerCase()}.${el.className})`);
  }
  return bad;
}
"""

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def fixtures(control):
    world = control.fixtures()
    shop = portal_shop(world)
    return world, shop


def readable(page, where):
    bad = page.evaluate(CONTRAST_JS)
    assert not bad, f"{where}: text below WCAG AA contrast:\n" + "\n".join(bad)


def test_the_public_home_page_and_the_guide_s_menu(chromium, live_server):
    base, control, _, _ = live_server
    _, shop = fixtures(control)
    page = chromium.new_context(viewport=DESKTOP, locale="fr-FR").new_page()
    page.goto(f"{base}/espace-ptl/")
    assert page.inner_text("main h2") == "Bienvenue dans votre Espace dédié !"
    assert page.is_visible("header >> text=Créer mon compte")
    screenshot(page, "portal-welcome")
    go(page, "#welcome-create")
    assert "Cette rubrique n'est pas simulée par le bac à sable." in page.inner_text("main")
    page.goto(f"{base}/espace-ptl/")
    go(page, "#welcome-login")
    page.fill("#login", shop["login"])
    page.fill("#password", shop["password"])
    go(page, "main button[type=submit]")
    menu = page.locator("nav.menu > ul > li > a").all_inner_texts()
    assert [m.replace("▾", "").strip() for m in menu] == [
        "Accueil", "Mon compte", "Encaissement", "Mes remboursements", "Mes données mises en ligne", "Mes demandes",
        "Ma documentation", "FAQ"]
    assert not page.is_visible("nav.menu >> text=Espace d'encaissement")
    page.hover("nav.menu >> text=Encaissement")  # "Je place mon curseur sur « Encaissement »"
    go(page, "nav.menu >> text=Espace d'encaissement")  # "Je clique sur « Espace d'encaissement »"
    assert page.url.endswith("/espace-ptl/encaissement") and page.is_visible("#encaisser")
    assert not page.is_visible("#filters form")  # folded under "Filtres"
    page.click("#filters summary")
    assert page.is_visible("#filters #status")
    assert page.locator("text=Exporter").count() == 1 and not page.is_visible("#export-xlsx")
    page.click("#export summary")
    assert page.is_visible("#export-xlsx") and page.is_visible("#export-csv")
    screenshot(page, "portal-espace-d-encaissement")
    go(page, "nav.menu >> text=Ma documentation")
    assert page.inner_text("main h2") == "Ma documentation"
    assert "Cette rubrique n'est pas simulée par le bac à sable." in page.inner_text("main")
    page.context.close()


def test_the_portal_is_usable_on_a_390_px_phone(chromium, live_server):
    base, control, _, _ = live_server
    _, shop = fixtures(control)
    page = chromium.new_context(viewport=PHONE, locale="fr-FR").new_page()
    page.goto(f"{base}/espace-ptl/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the welcome page scrolls sideways"
    go(page, "header >> text=Se connecter")
    page.fill("#login", shop["login"])
    page.fill("#password", shop["password"])
    go(page, "main button[type=submit]")
    for path in ("/", "/mon-compte", "/encaissement", "/encaisser", "/remboursements", "/faq", "/rubrique/mes-demandes"):
        page.goto(f"{base}/espace-ptl{path}")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{path} scrolls sideways at 390 px"
        for item in page.locator("nav.menu > ul > li > a").all():
            box = item.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], path  # every item on screen
    page.goto(f"{base}/espace-ptl/encaissement")
    table = page.evaluate("(() => { const t = document.querySelector('#operations');"
                          " return [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX]; })()")
    assert table[2] == "auto"  # the table scrolls inside its own box, not the page
    screenshot(page, "portal-encaissement-390px")
    go(page, "nav.menu >> text=Encaissement")  # a tap on the menu item opens the Espace d'encaissement
    assert page.url.endswith("/espace-ptl/encaissement")
    page.context.close()


def test_text_reads_at_wcag_aa_contrast_on_the_main_pages(chromium, live_server):
    base, control, _, _ = live_server
    world, shop = fixtures(control)
    page = chromium.new_context(viewport=DESKTOP, locale="fr-FR").new_page()
    page.goto(f"{base}/espace-ptl/")
    readable(page, "welcome")
    page.goto(f"{base}/espace-ptl/connexion")
    page.fill("#login", shop["login"])
    page.fill("#password", "pas-le-bon")
    go(page, "main button[type=submit]")
    readable(page, "login refused")
    page.fill("#login", shop["login"])
    page.fill("#password", shop["password"])
    go(page, "main button[type=submit]")
    readable(page, "accueil")
    page.goto(f"{base}/espace-ptl/encaisser")
    page.check("input[name=validation][value=oui]")
    readable(page, "step 1")
    go(page, "button:has-text('Continuer')")
    page.fill("#amount", "")
    go(page, "button:has-text('Continuer')")
    readable(page, "step 2 with errors")
    page.fill("#amount", "40")
    page.fill("#client", next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")["beneficiaryId"])
    go(page, "button:has-text('Continuer')")
    readable(page, "step 3")
    for path in ("/encaissement", "/mon-compte", "/remboursements", "/faq", "/rubrique/mes-demandes"):
        page.goto(f"{base}/espace-ptl{path}")
        page.hover("nav.menu >> text=Encaissement")
        readable(page, path)
    page.context.close()
    _, phone = log_in_pro(chromium, base, shop)
    readable(phone, "App' Pro operations")
    phone.goto(f"{base}/pro/paiement")
    readable(phone, "App' Pro payment form")
    phone.goto(f"{base}/app/connexion")
    readable(phone, "App' login")
    phone.context.close()


def submits_to_a_french_answer(page, selector, error):
    """Submitting the form with its fields empty reaches the server, which names what is missing in French
    (a browser's own validation would keep the page, showing its English bubble)."""
    before = page.url
    with page.expect_navigation(timeout=5_000):
        page.click(selector)
    assert error in page.inner_text("main"), (before, page.inner_text("main")[:300])


def test_empty_forms_get_french_messages_not_the_browser_s_bubbles(chromium, live_server):
    base, control, _, _ = live_server
    _, shop = fixtures(control)
    page = chromium.new_context(viewport=DESKTOP, locale="en-US").new_page()  # an English browser, even
    page.goto(f"{base}/espace-ptl/connexion")
    submits_to_a_french_answer(page, "main button[type=submit]", "Indiquez votre mot de passe.")
    page.goto(f"{base}/espace-ptl/mot-de-passe-oublie")
    submits_to_a_french_answer(page, "main button[type=submit]", "Indiquez votre identifiant.")
    page.fill("#login", shop["login"])
    go(page, "main button[type=submit]")
    link = re.search(r"https?://\S+/mot-de-passe/[\w-]+", control.emails()[-1]["text"]).group(0)
    page.goto(link)
    submits_to_a_french_answer(page, "main button[type=submit]", "au moins une lettre et un chiffre")
    page.goto(f"{base}/pro/connexion")
    submits_to_a_french_answer(page, "main button[type=submit]", "Indiquez votre identifiant.")
    page.goto(f"{base}/app/connexion")
    submits_to_a_french_answer(page, "main button[type=submit]", "Saisissez votre identifiant")
    page.context.close()

    context, portal = log_in_portal(chromium, base, shop)
    portal.goto(f"{base}/espace-ptl/encaisser")
    portal.check("input[name=timing][value=differe]")
    portal.fill("#payment_days", "")
    portal.fill("#email", "pas-un-mail")
    submits_to_a_french_answer(portal, "button:has-text('Continuer')", "Indiquez un nombre de jours entre 1 et 30.")
    context.close()
    _, phone = log_in_pro(chromium, base, shop)
    go(phone, "#new-payment")
    phone.fill("#order_id", "")
    submits_to_a_french_answer(phone, "main button[type=submit]", "Ce champ est obligatoire.")
    phone.context.close()


def test_a_used_reset_link_says_so_before_any_form(chromium, live_server):
    base, control, _, _ = live_server
    _, shop = fixtures(control)
    page = chromium.new_context(viewport=DESKTOP, locale="fr-FR").new_page()
    page.goto(f"{base}/espace-ptl/mot-de-passe-oublie")
    page.fill("#login", shop["login"])
    go(page, "main button[type=submit]")
    link = re.search(r"https?://\S+/mot-de-passe/[\w-]+", control.emails()[-1]["text"]).group(0)
    page.goto(link)
    page.fill("#password", "Vacances-2026")
    page.fill("#confirm", "Vacances-2026")
    go(page, "main button[type=submit]")
    page.goto(link)  # the same email, opened again
    assert "n'est plus valable" in page.inner_text("#link-spent") and page.locator("#password").count() == 0
    screenshot(page, "portal-reset-link-used")
    page.context.close()


def test_the_info_icon_is_drawn_not_a_font_glyph(chromium, live_server):
    base, control, _, _ = live_server
    world, shop = fixtures(control)
    payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
    context, page = log_in_portal(chromium, base, shop)
    page.goto(f"{base}/espace-ptl/encaisser")
    page.check("input[name=validation][value=oui]")
    go(page, "button:has-text('Continuer')")
    page.fill("#amount", "40")
    page.fill("#client", payer["beneficiaryId"])
    go(page, "button:has-text('Continuer')")
    notice = page.locator("p.notice:has-text('Je pourrai confirmer')")
    assert "ⓘ" not in notice.inner_text()
    icon = notice.locator("svg.icon.info").bounding_box()
    assert icon and icon["width"] >= 14 and icon["height"] >= 14
    context.close()


def test_the_app_pro_opens_on_its_operations_and_its_lock_message_points_to_its_own_link(chromium, live_server):
    base, control, _, _ = live_server
    _, shop = fixtures(control)
    context, phone = log_in_pro(chromium, base, shop)
    assert phone.url.endswith("/pro/operations")
    assert phone.inner_text("#view-mine") == "Mes opérations" and phone.inner_text("#view-all") == "Toutes"
    go(phone, "#new-payment")
    assert phone.is_visible("#amount") and phone.input_value("#order_id").startswith("REF")
    context.close()
    phone = chromium.new_context(viewport=PHONE, locale="fr-FR").new_page()
    phone.goto(f"{base}/pro/connexion")
    for _ in range(3):
        phone.fill("#login", shop["login"])
        phone.fill("#password", "pas-le-bon")
        go(phone, "main button[type=submit]")
    named = re.search(r"« (.+?) »", phone.inner_text("[role=alert]")).group(1)
    go(phone, f"main a:text-is('{named}')")  # what the message names is on the screen, and leads somewhere
    assert "Mot de passe oublié ?" in phone.inner_text("main h2")
    phone.context.close()
