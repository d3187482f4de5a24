"""Network faults on demand (`/_sandbox/faults`) and webhook resends, through the Flask test client."""

import time

import pytest

from sandbox.client import ControlError


def create(world, order_id="order-1", kit=None):
    return (kit or world.kit()).create_transaction(order_id, "1", 4000)


def test_an_error_fault_answers_its_status_and_changes_nothing(world):
    fault = world.control.add_fault("createTransaction", "error", status=502, times=1)
    assert (fault["operation"], fault["fault"], fault["status"], fault["times"]) == ("createTransaction", "error",
                                                                                    502, 1)
    refused = create(world)
    assert refused.status == 502 and refused.body["errorCode"] == "BAD_GATEWAY"
    assert f"fault {fault['id']}" in refused.headers["X-Sandbox-Detail"]
    again = create(world)
    assert again.status == 201  # nothing was created by the refused call: the same order is new
    [injected] = world.events("FaultInjected")
    assert injected["data"]["faultId"] == fault["id"] and injected["data"]["operation"] == "createTransaction"


def test_an_error_fault_defaults_to_503_and_only_hits_its_operation(world):
    world.control.add_fault("getTransaction", "error")
    tx = create(world).body["transaction"]
    reply = world.kit().get_transaction(tx["id"])
    assert reply.status == 503 and reply.body["errorCode"] == "SERVICE_UNAVAILABLE"
    assert world.kit().get_transaction(tx["id"]).status == 503  # no `times`: until deleted


def test_times_counts_down_and_the_fault_goes_away(world):
    world.control.add_fault("*", "error", times=2)
    assert [create(world, f"o{i}").status for i in range(3)] == [503, 503, 201]
    assert world.control.faults() == []


def test_probability_zero_never_fires_and_one_always_does(world):
    world.control.add_fault("pointOfSale", "error", probability=0)
    assert world.kit().point_of_sale().status == 200
    world.control.clear_faults()
    world.control.add_fault("pointOfSale", "error", probability=1.0)
    assert world.kit().point_of_sale().status == 503


def test_a_delayed_call_still_answers_and_commits(world):
    world.control.add_fault("createTransaction", "delay", delayMs=20, times=1)
    started = time.monotonic()
    reply = create(world)
    assert reply.status == 201
    assert time.monotonic() - started >= 0.02  # it did wait (a lower bound, not a duration to meet)
    assert world.kit().get_transaction(reply.body["transaction"]["id"]).status == 200


def test_drop_response_commits_then_hangs_up(world):
    world.control.add_fault("createTransaction", "drop_response", times=1)
    with pytest.raises(ConnectionError):
        create(world)
    repeated = create(world)
    assert repeated.status == 200  # Kit idempotency: the dropped call did create it


def test_reset_hangs_up_before_anything_is_applied(world):
    world.control.add_fault("createTransaction", "reset", times=1)
    with pytest.raises(ConnectionError):
        create(world)
    assert create(world).status == 201


def test_faults_are_listed_deleted_one_by_one_and_cleared_by_a_reset(world):
    first = world.control.add_fault("payer", "delay", delayMs=5)
    second = world.control.add_fault("abort", "error", times=3)
    assert [f["id"] for f in world.control.faults()] == [first["id"], second["id"]]
    world.control.clear_faults(first["id"])
    assert [f["id"] for f in world.control.faults()] == [second["id"]]
    with pytest.raises(ControlError) as unknown:
        world.control.clear_faults(first["id"])
    assert unknown.value.status == 404 and unknown.value.code == "UNKNOWN_FAULT"
    world.control.reset()
    assert world.control.faults() == []


@pytest.mark.parametrize(("body", "says"), [
    ({"operation": "refund", "fault": "error"}, "createTransaction, payer"),
    ({"operation": "payer", "fault": "explode"}, "delay, error, drop_response, reset"),
    ({"operation": "payer", "fault": "delay", "delayMs": -1}, "delayMs"),
    ({"operation": "payer", "fault": "error", "status": 200}, "status"),
    ({"operation": "payer", "fault": "error", "times": 0}, "times"),
    ({"operation": "payer", "fault": "error", "probability": 1.5}, "probability"),
    ({"operation": "payer", "fault": "error", "probability": "half"}, "probability"),
    ({"operation": "payer", "fault": "error", "often": True}, "often"),
])
def test_bad_faults_are_refused_with_what_is_valid(world, body, says):
    reply = world.transport("POST", "/_sandbox/faults", {"Content-Type": "application/json"}, body)
    assert reply.status == 400 and reply.body["errorCode"] == "BAD_REQUEST"
    assert says in reply.body["errorMessage"] + reply.headers.get("X-Sandbox-Detail", "")
    assert world.control.faults() == []


def test_a_delivery_is_resent_with_its_retries(world, receiver):
    receiver.statuses = [500] * 5  # the first round fails all five attempts
    world.paid_transaction(redirect_urls={"returnUrl": receiver.url("/ok"), "cancelUrl": receiver.url("/ko")})
    assert world.sandbox.sender.wait_idle(5)
    [failed] = world.control.webhooks()
    assert failed["state"] == "failed" and len(failed["attempts"]) == 5
    receiver.statuses = [500]  # the resend's first attempt fails, its first retry gets through
    resent = world.control.resend_webhook(failed["id"])
    assert resent["id"] == failed["id"] and resent["state"] == "pending"
    assert world.sandbox.sender.wait_idle(5)
    [delivered] = world.control.webhooks()
    assert delivered["state"] == "delivered" and [a["status"] for a in delivered["attempts"][5:]] == [500, 200]
    assert len(receiver.received()) == 7 and receiver.received()[-1]["body"] == failed["body"]
    assert [e["ref"] for e in world.events("WebhookResent")] == [str(failed["id"])]


def test_resending_an_unknown_delivery_is_a_404(world):
    with pytest.raises(ControlError) as unknown:
        world.control.resend_webhook(999)
    assert unknown.value.status == 404 and unknown.value.code == "UNKNOWN_WEBHOOK"


def test_the_request_journal_shows_which_fault_a_call_suffered(world):
    fault = world.control.add_fault("createTransaction", "drop_response", times=1)
    with pytest.raises(ConnectionError):
        create(world)
    entries = world.transport("GET", "/_sandbox/requests", {}, params={"path": "/payment-transactions"}).body
    [entry] = [e for e in entries["requests"] if e.get("fault")]
    assert entry["fault"] == {"id": fault["id"], "fault": "drop_response", "operation": "createTransaction"}
    assert entry["status"] is None  # no answer was sent


# --- faults scoped to a point of sale (issue 17: an acceptance campaign's cases each have their own) -------

def test_a_shop_scoped_fault_hits_creations_for_that_shop_only(world):
    fault = world.control.add_fault("createTransaction", "error", status=502, shopId=world.shop(0)["shopId"])
    assert create(world, "other-shop", kit=world.kit(1)).status == 201
    refused = create(world, "my-shop")
    assert refused.status == 502 and f"fault {fault['id']}" in refused.headers["X-Sandbox-Detail"]
    assert [f["fired"] for f in world.control.faults()] == [1]


def test_a_shop_scoped_fault_hits_calls_on_that_shops_transactions(world):
    mine = create(world, "mine").body["transaction"]
    theirs = create(world, "theirs", kit=world.kit(1)).body["transaction"]
    world.control.add_fault("getTransaction", "error", shopId=world.shop()["shopId"])
    assert world.kit().get_transaction(mine["id"]).status == 503
    assert world.kit(1).get_transaction(theirs["id"]).status == 200
    assert world.kit().get_transaction("no-such-transaction").status == 404  # no shop to match: no fault


def test_faults_show_their_shop_and_an_unscoped_fault_shows_none(world):
    shop_id = world.shop()["shopId"]
    world.control.add_fault("createTransaction", "drop_response", times=1, shopId=shop_id)
    world.control.add_fault("payer", "delay", delayMs=5)
    assert [f["shopId"] for f in world.control.faults()] == [shop_id, None]


@pytest.mark.parametrize("shop_id", ["10000065", 0, -3, True, 1.5, 10**12])
def test_a_bad_shop_id_on_a_fault_is_a_400(world, shop_id):
    with pytest.raises(ControlError) as refused:
        world.control.add_fault("createTransaction", "error", shopId=shop_id)
    assert refused.value.status == 400 and refused.value.code == "BAD_REQUEST"
    assert world.control.faults() == []
