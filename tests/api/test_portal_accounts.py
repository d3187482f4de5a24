"""Espace dédié: logging in, lockout at the 3rd wrong password, "Mot de passe oublié", Mon compte (SPEC §8)."""

import html
import re

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A person's browser on the portal, through the Flask test client (cookies kept)."""

    def __init__(self, world):
        self.client = world.app.test_client()
        self.world = world

    def get(self, path):
        return self.client.get("/espace-ptl" + path)

    def post(self, path, **form):
        token = CSRF.search(self.get(path).get_data(as_text=True)) or CSRF.search(self.get("/connexion").get_data(
            as_text=True))  # the session's token, from the form itself or any page
        return self.client.post("/espace-ptl" + path, data={"csrf_token": token.group(1) if token else "", **form})

    def log_in(self, login, password):
        return self.post("/connexion", login=login, password=password)


@pytest.fixture
def browser(world):
    return Browser(world)


def convention(world, index=0):
    """A convention with several points d'accueil when index is 0."""
    conventions = sorted(world.fixtures["conventions"], key=lambda c: -len(c["shopIds"]))
    return conventions[index]


def test_point_d_accueil_logs_in_and_sees_its_id_ancv(world, browser):
    shop = world.shop()
    reply = browser.log_in(shop["login"], shop["password"])
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/espace-ptl/")
    page = browser.get("/mon-compte").get_data(as_text=True)
    assert "Fiche point d'accueil" in page and str(shop["shopId"]) in page
    assert "Bonjour, " in browser.get("/").get_data(as_text=True)


def test_administrator_chooses_among_the_points_of_its_convention(world, browser):
    admin = convention(world)
    assert len(admin["shopIds"]) > 1
    browser.log_in(admin["conventionId"], admin["password"])
    assert browser.get("/").headers["Location"].endswith("/espace-ptl/point-d-accueil")
    page = browser.get("/mon-compte").get_data(as_text=True)
    assert "Liste des points d'accueil" in page and all(str(s) in page for s in admin["shopIds"])
    others = [p["shopId"] for p in world.fixtures["pointsOfSale"] if p["shopId"] not in admin["shopIds"]]
    assert not any(str(s) in page for s in others)
    assert browser.post("/point-d-accueil", shop_id=str(others[0])).status_code == 400  # not one of its own
    assert browser.post("/point-d-accueil", shop_id=str(admin["shopIds"][1])).status_code == 302
    assert str(admin["shopIds"][1]) in browser.get("/").get_data(as_text=True)


def test_the_third_wrong_password_locks_and_a_reset_link_unlocks(world, browser):
    shop = world.shop()
    for attempt in range(1, 4):
        page = browser.log_in(shop["login"], "wrong-password").get_data(as_text=True)
        assert ("bloqué" in page) == (attempt == 3), attempt
    assert "bloqué" in browser.log_in(shop["login"], shop["password"]).get_data(as_text=True)

    assert "un e-mail vient d'être envoyé" in browser.post("/mot-de-passe-oublie", login=shop["login"]).get_data(
        as_text=True)
    mail = world.control.emails()[-1]
    assert "réinitialisation" in mail["subject"]
    link = re.search(r"/espace-ptl(/mot-de-passe/[\w-]+)", mail["text"]).group(1)
    assert "au moins une lettre" in browser.post(link, password="short", confirm="short").get_data(as_text=True)
    assert browser.post(link, password="Nouveau-2026", confirm="Nouveau-2026").status_code == 302
    assert browser.post(link, password="Encore-2026", confirm="Encore-2026").status_code == 410  # used once
    assert browser.log_in(shop["login"], "Nouveau-2026").status_code == 302
    assert world.control.fixtures()["pointsOfSale"][0]["password"] != ""


def test_forgot_password_says_the_same_for_an_unknown_account(world, browser):
    before = len(world.control.emails())
    page = browser.post("/mot-de-passe-oublie", login="999999").get_data(as_text=True)
    assert "Si ce compte existe" in page and len(world.control.emails()) == before


def test_wrong_login_and_unknown_account_get_the_same_french_refusal(world, browser):
    for login in ("000000", "abc", world.shop()["login"]):
        reply = browser.log_in(login, "nope")
        assert reply.status_code == 401 and "Identifiant ou mot de passe incorrect." in reply.get_data(as_text=True)


def test_forms_without_the_csrf_token_are_refused_in_french(world):
    client = world.app.test_client()
    reply = client.post("/espace-ptl/connexion", data={"login": world.shop()["login"], "password": "x"})
    assert reply.status_code == 400 and "session a expiré" in reply.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(world, browser):
    shop = world.shop()
    reply = browser.log_in(shop["login"], shop["password"])
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_need_a_session_and_logout_ends_it(world, browser):
    assert browser.get("/mon-compte").headers["Location"].endswith("/espace-ptl/connexion")
    shop = world.shop()
    browser.log_in(shop["login"], shop["password"])
    assert browser.get("/mon-compte").status_code == 200
    assert browser.get("/deconnexion").status_code == 405  # a link another site could make the browser follow
    assert browser.get("/mon-compte").status_code == 200
    assert browser.post("/deconnexion").status_code == 302
    assert browser.get("/mon-compte").status_code == 302


def test_every_menu_page_answers_in_french(world, browser):
    shop = world.shop()
    browser.log_in(shop["login"], shop["password"])
    for path, heading in (("/", "Bienvenue"), ("/encaissement", "Encaissement"),
                          ("/remboursements", "Aucun remboursement"), ("/faq", "Questions fréquentes")):
        reply = browser.get(path)
        assert reply.status_code == 200 and heading in reply.get_data(as_text=True), path


def test_a_used_expired_or_unknown_reset_link_says_so_before_any_form(world, browser):
    shop = world.shop()
    browser.post("/mot-de-passe-oublie", login=shop["login"])
    link = re.search(r"/espace-ptl(/mot-de-passe/[\w-]+)", world.control.emails()[-1]["text"]).group(1)
    fresh = browser.get(link)
    assert fresh.status_code == 200 and 'name="password"' in fresh.get_data(as_text=True)
    assert browser.post(link, password="Nouveau-2026", confirm="Nouveau-2026").status_code == 302

    used = browser.get(link)
    page = used.get_data(as_text=True)
    assert used.status_code == 410 and "n'est plus valable" in page and "déjà servi" in page
    assert 'name="password"' not in page and "Mot de passe oublié ?" in page  # no form, a way to ask again
    assert browser.get("/mot-de-passe/inconnu").status_code == 410

    browser.post("/mot-de-passe-oublie", login=shop["login"])
    late = re.search(r"/espace-ptl(/mot-de-passe/[\w-]+)", world.control.emails()[-1]["text"]).group(1)
    world.advance(25 * 3600)  # the link lives 24 hours
    expired = browser.get(late)
    assert expired.status_code == 410 and 'name="password"' not in expired.get_data(as_text=True)


def test_the_public_home_page_welcomes_people_not_logged_in(world, browser):
    reply = browser.get("/")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "Bienvenue dans votre Espace dédié !" in page
    assert "Se connecter" in page and "Créer mon compte" in page and "Déjà conventionné ?" in page
    for label in ("Notice relative à la signature électronique", "Informations", "FAQ"):
        assert label in page
    assert "Encaissement" not in page  # the merchant's menu comes with the login
    create = html.unescape(browser.get("/rubrique/creer-mon-compte").get_data(as_text=True))
    assert "Cette rubrique n'est pas simulée par le bac à sable." in create
    assert browser.get("/faq").status_code == 200  # in the public menu


def test_logged_in_people_keep_their_accueil_which_says_who_they_are_in_good_french(world, browser):
    admin = convention(world)
    browser.log_in(admin["conventionId"], admin["password"])
    browser.post("/point-d-accueil", shop_id=str(admin["shopIds"][0]))
    page = html.unescape(browser.get("/").get_data(as_text=True))
    assert "en tant qu'administrateur de la convention" in page and "en tant que administrateur" not in page
    assert browser.post("/deconnexion").headers["Location"].endswith("/espace-ptl/")  # back to the welcome page

    shop = world.shop()
    browser.log_in(shop["login"], shop["password"])
    page = html.unescape(browser.get("/").get_data(as_text=True))
    assert "Vous êtes connecté en tant que point d'accueil" in page and "Se connecter" not in page


def test_the_full_menu_of_the_guide_and_a_page_for_each_rubrique_not_simulated(world, browser):
    shop = world.shop()
    browser.log_in(shop["login"], shop["password"])
    page = html.unescape(browser.get("/encaissement").get_data(as_text=True))
    menu = page[page.index('<nav class="menu"'):page.index("</nav>")]
    labels = re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', menu)
    assert labels == ["Accueil", "Mon compte", "Encaissement", "Espace d'encaissement", "Mes remboursements",
                      "Mes données mises en ligne", "Mes demandes", "Ma documentation", "FAQ"]
    assert 'class="current" aria-current="page">Encaissement<' in menu
    for slug, heading in (("mes-donnees-mises-en-ligne", "Mes données mises en ligne"),
                          ("mes-demandes", "Mes demandes"), ("ma-documentation", "Ma documentation")):
        reply = browser.get(f"/rubrique/{slug}")
        text = html.unescape(reply.get_data(as_text=True))
        assert reply.status_code == 200 and f"<h2>{heading}</h2>" in text
        assert "Cette rubrique n'est pas simulée par le bac à sable." in text
    assert browser.get("/rubrique/inconnue").status_code == 404
    browser.post("/deconnexion")
    assert browser.get("/rubrique/mes-demandes").headers["Location"].endswith("/espace-ptl/connexion")


def test_empty_login_fields_are_named_in_french_by_the_server(world, browser):
    reply = browser.log_in("", "")
    page = html.unescape(reply.get_data(as_text=True))
    assert reply.status_code == 400
    assert 'id="login-error"' in page and "Indiquez votre N° de convention" in page
    assert 'id="password-error"' in page and "Indiquez votre mot de passe." in page
    assert "novalidate" in page  # the browser leaves the checking to the server (no English bubble)
    forgot = browser.post("/mot-de-passe-oublie", login="")
    assert forgot.status_code == 400 and "Indiquez votre identifiant." in forgot.get_data(as_text=True)
