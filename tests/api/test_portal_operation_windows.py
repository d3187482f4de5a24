"""✓ and ✗ of the Espace d'encaissement (issue 14, items 1 and 2; seeds 001/002, "Choix 1" / "Choix 2"):
each opens its own window, which is also a page of its own (no JavaScript needed), and nothing changes
until that window's "Valider" or "OUI" is posted."""

import html
import re

import pytest

from tests.people import Merchant

NBSP = "\u00a0"


@pytest.fixture
def merchant(world):
    return Merchant(world, world.shop())


def pre_booking(world, amount=4000):
    """Parcours C through the Kit: a DEFERRED transaction authorized by the client, to validate."""
    return world.paid_transaction(world.kit(), amount, capture_mode="DEFERRED", capture_date=world.later(days=3))


def text(reply):
    return html.unescape(reply.get_data(as_text=True))


def window_of(page):
    """The window's part of the page (what the dialog shows), without the site's header."""
    return page.split('class="card window', 1)[1].split("</section>", 1)[0]


def state(world, tx_id):
    return world.kit().get_transaction(tx_id)["transaction"]["state"]


def actions_of(page, order_id):
    """The hrefs of the row's ✓ and ✗ in the operations table."""
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if f"<td>{order_id}</td>" in r)
    return {title: href for href, title in re.findall(r'<a href="([^"]+)" title="([^"]+)"', row)}


def test_check_and_cross_open_two_different_windows_with_their_own_buttons(world, merchant):
    tx = pre_booking(world)
    links = actions_of(text(merchant.get("/encaissement")), tx["order"]["id"])
    validate, cancel = links["Valider la pré-réservation"], links["Annuler l'opération"]
    assert validate != cancel
    validating = window_of(text(merchant.client.get(validate)))
    cancelling = window_of(text(merchant.client.get(cancel)))
    assert "VALIDER LA PRÉ-RÉSERVATION" in validating and "ANNULER L'OPÉRATION" not in validating
    assert "ANNULER L'OPÉRATION" in cancelling and "VALIDER LA PRÉ-RÉSERVATION" not in cancelling
    assert re.findall(r'<button type="submit"[^>]*>([^<]+)<', validating) == ["Valider"]
    assert re.findall(r'<button type="submit"[^>]*>([^<]+)<', cancelling) == ["OUI"]
    assert state(world, tx["id"]) == "AUTHORIZED"  # opening a window changes nothing


def test_the_validate_window_shows_the_guide_s_fields_then_says_it_is_validated(world, merchant):
    tx = pre_booking(world)
    window = text(merchant.get(f"/encaissement/operations/{tx['id']}/valider"))
    assert 'id="amount"' in window and 'value="40,00"' in window
    paid_on = world.now().strftime("%d/%m/%Y")
    assert re.search(r'id="payment-date">([^<]*)<', window).group(1) == paid_on
    assert "Date limite de validation après encaissement" in window
    assert re.search(r'id="validation-deadline">([^<]*)<', window).group(1).startswith(
        (world.now().date().fromordinal(world.now().date().toordinal() + 3)).strftime("%d/%m/%Y"))
    assert "Fermer sans valider" in window and "novalidate" in window
    done = merchant.post(f"/encaissement/operations/{tx['id']}/valider", amount="30,00")
    assert done.status_code == 302
    detail = text(merchant.client.get(done.headers["Location"]))
    assert "C'est bon ! Le paiement est validé." in detail
    assert re.search(r'id="status">([^<]*)<', detail).group(1) == "Validé"
    assert state(world, tx["id"]) == "VALIDATED"


def test_a_higher_amount_is_refused_in_french_in_the_window(world, merchant):
    tx = pre_booking(world)
    refused = merchant.post(f"/encaissement/operations/{tx['id']}/valider", amount="45,00")
    page = text(refused)
    assert refused.status_code == 400 and "VALIDER LA PRÉ-RÉSERVATION" in page
    assert f"Le montant ne peut pas dépasser 40,00{NBSP}€." in page and 'value="45,00"' in page
    assert state(world, tx["id"]) == "AUTHORIZED"


def test_the_cancel_window_asks_like_the_guide_and_nothing_changes_before_oui(world, merchant):
    tx = pre_booking(world)
    window = text(merchant.get(f"/encaissement/operations/{tx['id']}/annuler"))
    for words in ("ANNULER L'OPÉRATION", "Voulez-vous annuler l'opération suivante ?", "Montant encaissé",
                  f"40,00{NBSP}€", "Êtes-vous sûr de vouloir annuler cette demande de pré-réserve ?", ">NON<", ">OUI<"):
        assert words in window, words
    assert not re.search(r"\son[a-z]+=", window), "no inline handler a form field could shadow"
    again = merchant.post(f"/encaissement/operations/{tx['id']}/annuler")  # no "OUI": the window again
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/operations/{tx['id']}/annuler")
    assert state(world, tx["id"]) == "AUTHORIZED"
    done = merchant.post(f"/encaissement/operations/{tx['id']}/annuler", confirm="oui")
    assert state(world, tx["id"]) == "CANCELLED"
    detail = text(merchant.client.get(done.headers["Location"]))
    assert "Le paiement a été annulé." in detail and re.search(r'id="status">([^<]*)<', detail).group(1) == "Annulé"


def test_a_waiting_request_s_window_asks_about_a_payment_request(world, merchant):
    pre = world.kit().create_pre_transaction("REF-A", 1000, world.later(hours=2))["preTransaction"]
    window = text(merchant.get(f"/encaissement/operations/{pre['id']}/annuler"))
    assert "Êtes-vous sûr de vouloir annuler cette demande de paiement ?" in window
    assert f"Montant demandé</dt><dd id=\"cancel-amount\">10,00{NBSP}€" in window


def test_non_and_fermer_lead_back_where_the_merchant_came_from(world, merchant):
    tx = pre_booking(world)
    from_table = text(merchant.get(f"/encaissement/operations/{tx['id']}/annuler", retour="operations"))
    assert re.search(r'href="([^"]+)" data-close>NON<', from_table).group(1) == "/espace-ptl/encaissement"
    from_detail = text(merchant.get(f"/encaissement/operations/{tx['id']}/valider"))
    assert re.search(r'href="([^"]+)" data-close>Fermer sans valider<', from_detail).group(1) == (
        f"/espace-ptl/encaissement/operations/{tx['id']}")


def test_an_operation_that_can_no_longer_be_validated_or_cancelled_opens_its_detail(world, merchant):
    tx = pre_booking(world)
    merchant.post(f"/encaissement/operations/{tx['id']}/annuler", confirm="oui")
    for window in ("valider", "annuler"):
        reply = merchant.get(f"/encaissement/operations/{tx['id']}/{window}")
        assert reply.status_code == 302 and reply.headers["Location"].endswith(f"/operations/{tx['id']}")
