"""`POST /_sandbox/population`: generated merchants and beneficiaries for simulations."""

from __future__ import annotations

import pytest

from sandbox.client import ControlClient, FlaskTransport, shop_client
from tests.conftest import World, make_settings
from tests.people import Merchant


def _population(world, body):
    return world.app.test_client().post("/_sandbox/population", json=body)


def test_adds_usable_merchants_and_beneficiaries(world):
    reply = _population(world, {"seed": 7, "serviceProviders": 1,
                                "pointsOfSale": [{"count": 2, "category": "Gîte"},
                                                 {"count": 1, "category": "Parc de loisirs", "viaProvider": True}],
                                "beneficiaries": [{"count": 3, "balance": 12_345}, {"balance": 500, "device": False}]})
    assert reply.status_code == 201
    added = reply.get_json()
    assert len(added["serviceProviders"]) == 1 and len(added["pointsOfSale"]) == 3
    assert [b["balance"] for b in added["beneficiaries"]] == [12_345] * 3 + [500]
    served = added["pointsOfSale"][2]
    assert served["serviceProviderIds"] == [added["serviceProviders"][0]["serviceProviderId"]]
    # a new shop is sealed with its own key, and a new beneficiary pays with its own code
    transport = FlaskTransport(world.app)
    kit = shop_client(transport, added["pointsOfSale"][0])
    tx = kit.create_transaction("pop-1", "1", 1_000)
    assert tx.status == 201
    payer = added["beneficiaries"][0]
    assert kit.set_payer(tx["transaction"]["id"], payer["beneficiaryId"]).status == 202
    done = ControlClient(transport).act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
    assert done["transaction"]["state"] == "VALIDATED"
    # the one without a device cannot be asked
    refused = kit.set_payer(kit.create_transaction("pop-2", "1", 100)["transaction"]["id"],
                            added["beneficiaries"][3]["beneficiaryId"])
    assert refused.body["errorCode"] == "NO_ACTIVE_DEVICE"
    # and the portal login works
    assert Merchant(world, served).get("/encaissement").status_code == 200
    everything = world.app.test_client().get("/_sandbox/fixtures").get_json()
    assert {p["shopId"] for p in added["pointsOfSale"]} <= {p["shopId"] for p in everything["pointsOfSale"]}


def test_same_seed_same_population():
    body = {"seed": 3, "pointsOfSale": [{"count": 2}], "beneficiaries": [{"count": 2}]}
    replies = []
    for _ in range(2):
        w = World(make_settings())
        try:
            replies.append(_population(w, body).get_json())
        finally:
            w.sandbox.stop()
    assert replies[0] == replies[1]


def test_never_reuses_an_existing_id(world):
    body = {"seed": 3, "pointsOfSale": [{"count": 5}], "beneficiaries": [{"count": 5}]}
    once, twice = _population(world, body).get_json(), _population(world, body).get_json()
    assert not {p["shopId"] for p in once["pointsOfSale"]} & {p["shopId"] for p in twice["pointsOfSale"]}
    assert not ({b["beneficiaryId"] for b in once["beneficiaries"]}
                & {b["beneficiaryId"] for b in twice["beneficiaries"]})


@pytest.mark.parametrize("body", [
    [], {"seed": -1}, {"seed": "1"}, {"serviceProviders": 1000}, {"pointsOfSale": {"count": 1}},
    {"pointsOfSale": [{"count": 1, "category": "Casino"}]}, {"pointsOfSale": [{"viaProvider": True}]},
    {"beneficiaries": [{"balance": -5}]}, {"beneficiaries": [{"count": 10**9}]},
    {"beneficiaries": [{"device": "yes"}]}, {"beneficiaries": [1]},
])
def test_bad_requests_are_400_and_add_nothing(world, body):
    before = world.app.test_client().get("/_sandbox/fixtures").get_json()
    reply = _population(world, body)
    assert reply.status_code == 400 and reply.get_json()["errorCode"] == "BAD_REQUEST"
    assert world.app.test_client().get("/_sandbox/fixtures").get_json() == before
