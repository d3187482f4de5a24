"""Espace dédié: logging in, lockout at the 3rd wrong password, "Mot de passe oublié", Mon compte (SPEC §8)."""

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
    assert browser.post(link, password="Encore-2026", confirm="Encore-2026").status_code == 400  # used once
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
