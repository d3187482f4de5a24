"""Every link of the emails leads somewhere a person can act (issue 14, item 3): the client's payment request
opens the App' Chèque-Vacances on the request, through its login when needed."""

import html
import re
from urllib.parse import parse_qs, urlsplit

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def request_email(world, beneficiary):
    kit = world.kit()
    pre = kit.create_pre_transaction("REF-LINK", 2500, world.later(days=2), tspd_mode="002")["preTransaction"]
    assert kit.contact(pre["id"], email=beneficiary["email"]).status == 200
    return pre, world.control.emails()[-1]


def app_link(mail):
    return html.unescape(re.search(r'<a href="([^"]+)"><strong>JE RÈGLE', mail["html"]).group(1))


def log_in(client, beneficiary):
    token = CSRF.search(client.get("/app/connexion").get_data(as_text=True)).group(1)
    return client.post("/app/connexion", data={"csrf_token": token, "login": beneficiary["email"],
                                               "password": beneficiary["password"]})


def test_the_payment_request_email_links_to_the_app_with_the_request_not_to_the_sealed_kit_address(world):
    ben = world.beneficiary()
    pre, mail = request_email(world, ben)
    link = app_link(mail)
    parts = urlsplit(link)
    assert parts.path == "/app/scanner"
    assert parse_qs(parts.query)["url"] == [world.sandbox.payment_url(pre["id"])]
    assert link in mail["text"] and world.sandbox.payment_url(pre["id"]) in mail["text"]


def test_the_link_comes_back_to_the_request_after_the_login_and_pays_it(world):
    ben = world.beneficiary()
    pre, mail = request_email(world, ben)
    parts = urlsplit(app_link(mail))
    client = world.app.test_client()
    first = client.get(f"{parts.path}?{parts.query}")
    assert first.status_code == 302 and first.headers["Location"].endswith("/app/connexion")
    back = log_in(client, ben)
    assert back.status_code == 302 and back.headers["Location"] == f"{parts.path}?{parts.query}"
    page = html.unescape(client.get(back.headers["Location"]).get_data(as_text=True))
    assert f'value="{world.sandbox.payment_url(pre["id"])}"' in page
    token = CSRF.search(page).group(1)
    paid = client.post("/app/scanner", data={"csrf_token": token, "url": world.sandbox.payment_url(pre["id"])})
    assert paid.status_code == 302 and "/app/paiement/" in paid.headers["Location"]


def test_a_plain_login_still_opens_mon_solde(world):
    client = world.app.test_client()
    reply = log_in(client, world.beneficiary())
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/app/accueil")
