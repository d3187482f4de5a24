"""Espace d'encaissement (SPEC §8, seeds 001–003): counters, table, filters, export, ✓ validate, ✗ cancel."""

import io
import re

import pytest
from openpyxl import load_workbook

from tests.people import Merchant


@pytest.fixture
def merchant(world):
    return Merchant(world, world.shop())


def pre_booking(world, amount=4000):
    """Parcours C through the Kit: a DEFERRED transaction authorized by the client."""
    return world.paid_transaction(world.kit(), amount, capture_mode="DEFERRED", capture_date=world.later(days=3))


def test_counters_and_table_show_each_parcours_with_its_status(world, merchant):
    tx = pre_booking(world)
    kit = world.kit()
    kit.create_pre_transaction("REF-B", 2500, world.later(days=2), tspd_mode="002")
    page = merchant.get("/encaissement").get_data(as_text=True)
    assert "A valider : 1" in page and "En attente de paiement client : 1" in page
    assert tx["order"]["id"] in page and "Pré-réservation" in page and "Paiement différé" in page
    assert "+40,00\u00a0€" in page and "+25,00\u00a0€" in page


def test_a_pre_booking_is_validated_for_less_never_more(world, merchant):
    tx = pre_booking(world)
    refused = merchant.post(f"/encaissement/operations/{tx['id']}/valider", amount="45,00")
    assert refused.status_code == 400 and "ne peut pas dépasser 40,00" in refused.get_data(as_text=True)
    assert merchant.post(f"/encaissement/operations/{tx['id']}/valider", amount="30").status_code == 302
    detail = merchant.get(f"/encaissement/operations/{tx['id']}").get_data(as_text=True)
    assert "Validé" in detail and "30,00\u00a0€" in detail
    assert world.kit().get_transaction(tx["id"])["transaction"]["state"] == "VALIDATED"


def test_cancelling_needs_the_confirmation_and_recredits_the_client(world, merchant):
    ben = world.beneficiary()
    before = world.balance(ben["beneficiaryId"])
    tx = pre_booking(world)
    assert merchant.post(f"/encaissement/operations/{tx['id']}/annuler").status_code == 302  # no confirm: nothing
    assert world.kit().get_transaction(tx["id"])["transaction"]["state"] == "AUTHORIZED"
    merchant.post(f"/encaissement/operations/{tx['id']}/annuler", confirm="oui")
    assert world.kit().get_transaction(tx["id"])["transaction"]["state"] == "CANCELLED"
    assert world.balance(ben["beneficiaryId"]) == before


def test_a_waiting_request_is_cancelled_as_aborted_by_the_merchant(world, merchant):
    pre = world.kit().create_pre_transaction("REF-A", 1000, world.later(hours=2))["preTransaction"]
    merchant.post(f"/encaissement/operations/{pre['id']}/annuler", confirm="oui")
    state = world.kit().get_pre_transaction(pre["id"])["preTransaction"]
    assert state["state"] == "ABORTED" and state["abort"]["reason"] == "ABORTED_MERCHANT"


def test_filters_by_status_and_basket(world, merchant):
    pre_booking(world)
    world.kit().create_pre_transaction("REF-XYZ", 1000, world.later(hours=2))
    only_waiting = merchant.get("/encaissement", status="En attente de paiement client").get_data(as_text=True)
    assert re.findall(r'<td class="status">([^<]+)</td>', only_waiting) == ["En attente de paiement client"]
    assert "REF-XYZ" in only_waiting
    by_basket = merchant.get("/encaissement", order="xyz").get_data(as_text=True)
    assert "REF-XYZ" in by_basket
    assert "jj/mm/aaaa" in merchant.get("/encaissement", **{"from": "22/06/2020"}).get_data(as_text=True)


def test_export_is_a_real_xlsx_and_a_french_csv(world, merchant):
    pre_booking(world, 4200)
    xlsx = merchant.get("/encaissement/export.xlsx")
    assert "attachment" in xlsx.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("Date de création", "Dernière action", "N° de panier", "N° de transaction",
                           "Type de paiement", "Statut")
    assert rows[1][4:6] == ("Pré-réservation", "A valider") and rows[1][8:] == (42, 42, 0)
    csv = merchant.get("/encaissement/export.csv").data.decode("utf-8")
    assert csv.startswith("\ufeffDate de création;") and ";42,00;42,00;0,00" in csv


def test_another_merchants_operation_is_not_found(world, merchant):
    other = world.shop(1)
    pre = world.kit(1).create_pre_transaction("THEIRS", 1000, world.later(hours=2))["preTransaction"]
    assert other["shopId"] != world.shop()["shopId"]
    assert merchant.get(f"/encaissement/operations/{pre['id']}").status_code == 404
    merchant.post(f"/encaissement/operations/{pre['id']}/annuler", confirm="oui")
    assert world.kit(1).get_pre_transaction(pre["id"])["preTransaction"]["state"] == "CREATED"
    assert "THEIRS" not in merchant.get("/encaissement").get_data(as_text=True)
