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
