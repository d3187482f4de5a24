"""The cahier de recette's dashboard pages and report routes (issue 17, items 3 and 4), through Flask's test
client: the form starts a campaign for the holder chosen, refuses what is not one in French, the list and the
campaign page show it, « Terminer » ends it, and `/report` and `/report.xml` render the campaign."""

import re
import xml.etree.ElementTree as ET

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _form(client):
    page = client.get("/recette")
    assert page.status_code == 200
    return page.get_data(as_text=True), CSRF.search(page.get_data(as_text=True)).group(1)


def test_the_form_starts_a_campaign_for_the_holder_chosen_and_the_list_shows_it(world):
    client = world.app.test_client()
    page, token = _form(client)
    shop = world.shop()
    assert f'value="shop:{shop["shopId"]}"' in page and f'value="provider:{world.provider["serviceProviderId"]}"' in page
    assert "Aucune campagne" in page
    started = client.post("/recette", data={"csrf_token": token, "holder": f"shop:{shop['shopId']}"})
    assert started.status_code == 302 and started.headers["Location"] == "/recette/rc-1"
    assert world.control.recette("rc-1")["holder"]["id"] == shop["shopId"]
    page, _ = _form(client)
    assert 'href="/recette/rc-1"' in page and "0 / 24" in page and "en cours" in page
    made = {c["identifiers"]["shopId"] for c in world.control.recette("rc-1")["cases"] if "shopId" in c["identifiers"]}
    assert made and not any(f'value="shop:{shop_id}"' in page for shop_id in made)  # the cases' own shops are no holders


def test_the_campaign_page_follows_the_campaign_and_its_end_button_ends_it(world):
    client = world.app.test_client()
    _, token = _form(client)
    campaign = world.control.start_recette("provider", world.provider["serviceProviderId"], ["immediate-payment"])
    page = client.get(f"/recette/{campaign['id']}").get_data(as_text=True)
    assert f"/_sandbox/recette/{campaign['id']}/report.xml" in page and "Terminer la campagne" in page
    assert '"not_played": "Non jou\\u00e9"' in page  # the verdicts in French, for its script (JSON)
    ended = client.post(f"/recette/{campaign['id']}/terminer", data={"csrf_token": token})
    assert ended.status_code == 302 and world.control.recette(campaign["id"])["ended"] is True
    assert client.post(f"/recette/{campaign['id']}/terminer").status_code == 400  # no CSRF token: refused


def test_what_is_not_a_holder_or_a_campaign_is_refused_in_french(world):
    client = world.app.test_client()
    _, token = _form(client)
    for holder, status in (("shop:abc", 400), ("", 400), ("boutique:10000065", 400), ("shop:99999999", 404)):
        answer = client.post("/recette", data={"csrf_token": token, "holder": holder})
        assert answer.status_code == status, holder
        assert "dans la liste" in answer.get_data(as_text=True)
    assert world.control.recettes() == []
    missing = client.get("/recette/rc-404")
    assert missing.status_code == 404 and "Page introuvable" in missing.get_data(as_text=True)
    assert client.post("/recette/rc-404/terminer", data={"csrf_token": token}).status_code == 404


def test_the_report_routes_render_the_campaign_as_html_and_junit(world):
    campaign = world.control.start_recette("shop", world.shop()["shopId"], ["immediate-payment", "fixed-amount"])
    client = world.app.test_client()
    html = client.get(f"/_sandbox/recette/{campaign['id']}/report")
    assert html.mimetype == "text/html" and "Paiement immédiat accepté" in html.get_data(as_text=True)
    assert "En attente" in html.get_data(as_text=True)
    xml = client.get(f"/_sandbox/recette/{campaign['id']}/report.xml")
    suite = ET.fromstring(xml.get_data())
    assert xml.mimetype == "application/xml" and (suite.get("tests"), suite.get("skipped")) == ("2", "2")
    missing = client.get("/_sandbox/recette/rc-404/report.xml")
    assert missing.status_code == 404 and missing.get_json()["errorCode"] == "CAMPAIGN_NOT_FOUND"
