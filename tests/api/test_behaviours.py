"""Beneficiary behaviours (SPEC §9): how the app answers on its own, after a think time."""

import pytest


def run(world, behaviour, amount=4000, tspd="001"):
    kit, ben = world.kit(), world.beneficiary(behaviour)
    tx = kit.create_transaction(f"p-{behaviour}", "1", amount, tspd_mode=tspd)["transaction"]
    reply = kit.set_payer(tx["id"], ben["beneficiaryId"])
    world.advance(3)  # think time
    return reply, kit.get_transaction(tx["id"]).body.get("transaction")


def authorized(tx):
    return tx["payers"][0]["authorizations"][0]["amount"]["total"]


def test_pay_full_authorizes_the_whole_amount_after_the_think_time(world):
    kit, ben = world.kit(), world.beneficiary("pay_full")
    tx = kit.create_transaction("p", "1", 4000)["transaction"]
    kit.set_payer(tx["id"], ben["beneficiaryId"])
    world.advance(2.9)
    assert kit.get_transaction(tx["id"])["transaction"]["state"] == "PROCESSING"
    world.advance(0.1)
    after = kit.get_transaction(tx["id"])["transaction"]
    assert after["state"] == "VALIDATED" and authorized(after) == 4000


def test_pay_partial_pays_half(world):
    _, tx = run(world, "pay_partial")
    assert tx["state"] == "VALIDATED" and authorized(tx) == 2000


def test_wrong_pin_is_rejected_security(world):
    _, tx = run(world, "wrong_pin")
    assert (tx["state"], tx["subState"]) == ("REJECTED", "REJECTED_SECURITY")


def test_no_answer_times_out(world):
    _, tx = run(world, "no_answer")
    assert tx["state"] == "PROCESSING"
    world.advance(250)
    assert world.kit().get_transaction(tx["id"])["transaction"]["subState"] == "REJECTED_TIMEOUT"


def test_abandon_is_aborted_tspd(world):
    _, tx = run(world, "abandon")
    assert (tx["state"], tx["subState"]) == ("ABORTED", "ABORTED_TSPD")


def test_no_device_is_refused_at_payer(world):
    reply, tx = run(world, "no_device")
    assert (reply.status, reply["errorCode"]) == (412, "NO_ACTIVE_DEVICE") and tx["state"] == "INITIALIZED"


@pytest.mark.parametrize("tspd, outcome", [("001", "partial"), ("002", "INSUFFICIENT_BALANCE")])
def test_low_balance_pays_what_it_can_or_is_refused(world, tspd, outcome):
    reply, tx = run(world, "low_balance", amount=4000, tspd=tspd)
    if outcome == "partial":
        assert tx["state"] == "VALIDATED" and authorized(tx) == 500
    else:
        assert (reply.status, reply["errorCode"]) == (403, "INSUFFICIENT_BALANCE")


def test_manual_waits_for_act_and_behaviour_can_be_changed(world):
    ben = world.beneficiary()
    _, tx = run(world, "manual")
    world.advance(200)
    assert tx["state"] == "PROCESSING"
    world.control.set_behaviour(ben["beneficiaryId"], "pay_full")
    kit = world.kit()
    second = kit.create_transaction("p2", "1", 1000)["transaction"]
    world.advance(100)  # the first one times out, freeing the beneficiary
    assert kit.set_payer(second["id"], ben["beneficiaryId"]).status == 202
    world.advance(3)
    assert kit.get_transaction(second["id"])["transaction"]["state"] == "VALIDATED"


def test_three_wrong_codes_block_until_unblocked(world):
    kit, ben = world.kit(), world.beneficiary("wrong_pin")
    for index in range(3):
        tx = kit.create_transaction(f"p{index}", "1", 100)["transaction"]
        assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
        world.advance(3)
    blocked = kit.create_transaction("p4", "1", 100)["transaction"]
    assert kit.set_payer(blocked["id"], ben["beneficiaryId"])["errorCode"] == "NO_ACTIVE_DEVICE"
    world.control.unblock(ben["beneficiaryId"])
    assert kit.set_payer(blocked["id"], ben["beneficiaryId"]).status == 202


def test_think_time_is_a_setting(world):
    world.control.settings(thinkTimeSeconds=30)
    kit, ben = world.kit(), world.beneficiary("pay_full")
    tx = kit.create_transaction("p", "1", 4000)["transaction"]
    kit.set_payer(tx["id"], ben["beneficiaryId"])
    world.advance(29)
    assert kit.get_transaction(tx["id"])["transaction"]["state"] == "PROCESSING"
    world.advance(1)
    assert kit.get_transaction(tx["id"])["transaction"]["state"] == "VALIDATED"


def test_sandbox_rules_are_settings(world):
    """SR as settings: a short balance is refused when the app may not propose it; blocking after N codes."""
    world.control.settings(proposeBalanceWhenShort=False, wrongPinsBeforeBlock=1)
    reply, _ = run(world, "low_balance", amount=4000, tspd="001")
    assert reply["errorCode"] == "INSUFFICIENT_BALANCE"
    _, tx = run(world, "wrong_pin", amount=100)
    assert tx["subState"] == "REJECTED_SECURITY"
    kit = world.kit()
    blocked = kit.create_transaction("again", "1", 100)["transaction"]
    assert kit.set_payer(blocked["id"], world.beneficiary("wrong_pin")["beneficiaryId"])["errorCode"] == (
        "NO_ACTIVE_DEVICE")
    assert world.control.settings()["qrCodeActivatesRequest"] is True
