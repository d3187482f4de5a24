"""Every deadline of SPEC §4–§5, fired in order by the virtual clock."""

import pytest


def state(world, tx_id, kit=None):
    tx = (kit or world.kit()).get_transaction(tx_id)["transaction"]
    return tx["state"], tx.get("subState")


def test_initialized_transaction_expires_after_300_seconds(world):
    """Kit §6.2.2.7: INITIALIZED 300 s → EXPIRED."""
    tx = world.kit().create_transaction("p", "1", 4000)["transaction"]
    world.advance(299)
    assert state(world, tx["id"]) == ("INITIALIZED", None)
    world.advance(1)
    assert state(world, tx["id"]) == ("EXPIRED", None)


@pytest.mark.parametrize("tspd, sub_state", [("001", "IN_ADJUSTMENT"), ("002", "AUTHORIZATION_REQUEST")])
def test_unanswered_payment_is_rejected_after_250_seconds(world, tspd, sub_state):
    """Kit §6.2.2.7: IN_ADJUSTMENT / AUTHORIZATION_REQUEST 250 s → REJECTED_TIMEOUT."""
    kit, ben = world.kit(), world.beneficiary("no_answer")
    tx = kit.create_transaction("p", "1", 4000, tspd_mode=tspd)["transaction"]
    kit.set_payer(tx["id"], ben["beneficiaryId"])
    world.advance(249)
    assert state(world, tx["id"]) == ("PROCESSING", sub_state)
    world.advance(1)
    assert state(world, tx["id"]) == ("REJECTED", "REJECTED_TIMEOUT")


def test_adjustment_then_authorization_gives_the_beneficiary_250_plus_250_seconds(world):
    kit, ben = world.kit(), world.beneficiary()
    tx = kit.create_transaction("p", "1", 4000)["transaction"]
    kit.set_payer(tx["id"], ben["beneficiaryId"])
    world.advance(200)
    world.control.act(ben["beneficiaryId"], "adjust", amount=4000)
    world.advance(249)
    assert state(world, tx["id"]) == ("PROCESSING", "AUTHORIZATION_REQUEST")
    world.advance(1)
    assert state(world, tx["id"]) == ("REJECTED", "REJECTED_TIMEOUT")


def test_stalled_acquisition_is_rejected_internal_after_100_seconds(world):
    """Kit §6.2.2.7: PROCESSING before acquisition starts, 100 s → REJECTED_INTERNAL (fault injection)."""
    world.control.settings(stallAcquisition=True)
    kit = world.kit()
    tx = kit.create_transaction("p", "1", 4000)["transaction"]
    assert "subState" not in kit.set_payer(tx["id"], world.beneficiary()["beneficiaryId"])["transaction"]
    world.advance(100)
    assert state(world, tx["id"]) == ("REJECTED", "REJECTED_INTERNAL")


def test_unexecuted_deferred_payment_is_cancelled_at_capture_date_and_recredited(world):
    """Kit §4.5.4: past the validation delay, automatically cancelled, beneficiary re-credited."""
    kit, ben = world.kit(), world.beneficiary()
    before = world.balance(ben["beneficiaryId"])
    tx = world.paid_transaction(kit, 4000, capture_mode="DEFERRED", capture_date=world.later(days=2))
    world.advance(2 * 86400 - 1)
    assert state(world, tx["id"]) == ("AUTHORIZED", None)
    world.advance(1)
    assert state(world, tx["id"]) == ("CANCELLED", None)
    assert world.balance(ben["beneficiaryId"]) == before
    reply = kit.execute(tx["id"], 1000)
    assert (reply.status, reply["errorCode"]) == (412, "VALIDATION_DEADLINE_EXCEEDED")


def test_cancellation_window_closes_four_hours_after_execute(world):
    kit = world.kit()
    tx = world.paid_transaction(kit, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    world.advance(86400)
    kit.execute(tx["id"], 4000)
    world.advance(4 * 3600)
    assert kit.cancel(tx["id"]).status == 201  # exactly 4 h: still allowed


def test_payment_request_expires_and_its_code_no_longer_pays(world):
    """Kit §6.2.4.7: past expirationDate → EXPIRED."""
    kit = world.kit()
    pre = kit.create_pre_transaction("p", 4000, world.later(minutes=10))["preTransaction"]
    kit.qr_code(pre["id"])
    world.advance(600)
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "EXPIRED"
    assert kit.qr_code(pre["id"]).body["errorCode"] == "PRE_TRANSACTION_EXPIRED"


def test_a_request_does_not_expire_under_a_payment_in_progress(world):
    """Expiry waits for the running transaction; if it then fails, the request expires."""
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("p", 4000, world.later(seconds=60))["preTransaction"]
    url = kit.qr_code(pre["id"]).headers["pre-transaction-url"]
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    world.advance(120)
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "AUTHORIZING"
    world.advance(200)  # the transaction times out (250 s) and the request, past its date, expires
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "EXPIRED"


def test_deadlines_fire_in_order_with_their_own_timestamps(world):
    kit = world.kit()
    a = kit.create_transaction("a", "1", 100)["transaction"]
    world.advance(100)
    b = kit.create_transaction("b", "1", 100)["transaction"]
    world.advance(1000)
    expired = world.events("TransactionExpired")
    assert [e["ref"] for e in expired] == [a["id"], b["id"]]
    assert expired[0]["at"] == a["expirationDate"] and expired[1]["at"] == b["expirationDate"]
