"""The dashboard at `/` and the mailbox `/_sandbox/mail` (for people, in French)."""

import re

from sandbox.web import create_app
from tests.conftest import make_settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_dashboard_shows_what_runs_the_clock_and_the_demo_credentials(world):
    page = world.app.test_client().get("/").get_data(as_text=True)
    assert "/acquisition/api/public/v1" in page and "virtuelle" in page
    shop, ben = world.shop(), world.beneficiary()
    assert shop["password"] in page and ben["pin"] in page and "500,00" in page
    assert "FixturesLoaded" in page


def test_the_advance_buttons_move_the_virtual_clock(world):
    client = world.app.test_client()
    token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    before = world.now()
    assert client.post("/horloge", data={"csrf_token": token, "seconds": "3600"}).status_code == 302
    assert (world.now() - before).total_seconds() == 3600
    assert client.post("/horloge", data={"csrf_token": token, "seconds": "-1"}).status_code == 400


def test_mailbox_lists_the_outbox_and_shows_a_message(world):
    kit = world.kit()
    pre = kit.create_pre_transaction("panier-9", 4000, world.later(days=1))["preTransaction"]
    kit.contact(pre["id"], email="client@example.org")
    client = world.app.test_client()
    page = client.get("/_sandbox/mail").get_data(as_text=True)
    assert "client@example.org" in page and "Demande de paiement de 40,00" in page
    assert "srcdoc=" in page and "panier-9" in page


def test_with_an_admin_token_people_give_it_once(tmp_path):
    app = create_app(make_settings(admin_token="s3cret"))
    client = app.test_client()
    locked = client.get("/")
    assert locked.status_code == 401 and "Jeton" in locked.get_data(as_text=True)
    assert client.get("/_sandbox/mail").status_code == 401
    token = CSRF.search(locked.get_data(as_text=True)).group(1)
    assert client.post("/deverrouiller", data={"csrf_token": token, "token": "wrong"}).status_code == 401
    assert client.post("/deverrouiller", data={"csrf_token": token, "token": "s3cret"}).status_code == 302
    assert client.get("/").status_code == 200 and client.get("/_sandbox/events").status_code == 200
    app.extensions["ancv_sandbox"].stop()


# --- issue 14, items 9, 11 and 12 ------------------------------------------------------------------------------

SESSION_COOKIE = "ancv_sandbox_session"


def _unlocked(app, token):
    client = app.test_client()
    csrf = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/deverrouiller", data={"csrf_token": csrf, "token": token}).status_code == 302
    return client


def test_a_restart_with_another_admin_token_revokes_the_dashboards_of_the_old_one(tmp_path):
    """The session cookie is signed with a key kept in the database: it outlives a restart, the token must not."""
    db = str(tmp_path / "sandbox.sqlite3")
    first = create_app(make_settings(db=db, admin_token="s3cret"))
    cookie = _unlocked(first, "s3cret").get_cookie(SESSION_COOKIE).value
    first.extensions["ancv_sandbox"].stop()
    for token, status in (("s3cret", 200), ("another", 401)):
        restarted = create_app(make_settings(db=db, admin_token=token))
        client = restarted.test_client()
        client.set_cookie(SESSION_COOKIE, cookie)
        assert client.get("/").status_code == status, token
        assert client.get("/_sandbox/events").status_code == (200 if status == 200 else 401)
        restarted.extensions["ancv_sandbox"].stop()


def test_the_advance_buttons_refuse_odd_numbers_without_an_error_500(world):
    """`isdigit()` takes "²", "①" and "١٢"; `int()` refuses the first two and reads the third as 12."""
    client = world.app.test_client()
    token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    before = world.now()
    for seconds in ("²", "①", "١٢", "9" * 5000, "", " 60", "60 "):
        reply = client.post("/horloge", data={"csrf_token": token, "seconds": seconds})
        assert reply.status_code == 400, seconds[:10]
    assert world.now() == before


def test_the_mailbox_ignores_an_odd_message_number(world):
    kit = world.kit()
    pre = kit.create_pre_transaction("panier-9", 4000, world.later(days=1))["preTransaction"]
    kit.contact(pre["id"], email="client@example.org")
    client = world.app.test_client()
    for n in ("²", "①", "١", "9" * 5000, "-1", "0"):
        reply = client.get("/_sandbox/mail", query_string={"n": n})
        assert reply.status_code == 200 and "panier-9" in reply.get_data(as_text=True), n[:10]


def test_the_dashboard_refuses_a_form_posted_by_another_site(world):
    client = world.app.test_client()
    token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    before = world.now()
    reply = client.post("/horloge", data={"csrf_token": token, "seconds": "60"},
                        headers={"Origin": "http://evil.example"})
    assert reply.status_code == 403 and "pages du bac à sable" in reply.get_data(as_text=True)
    assert world.now() == before
    same = client.post("/horloge", data={"csrf_token": token, "seconds": "60"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 302 and (world.now() - before).total_seconds() == 60


def test_pages_cannot_be_framed_by_another_site_and_the_mailbox_only_by_itself(world):
    client = world.app.test_client()
    for path in ("/", "/espace-ptl/connexion", "/pro/connexion", "/app/connexion", "/_sandbox/fixtures"):
        reply = client.get(path)
        assert reply.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"], path
    mailbox = client.get("/_sandbox/mail")
    assert mailbox.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in mailbox.headers["Content-Security-Policy"]
