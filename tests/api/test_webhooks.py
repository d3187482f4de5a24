"""Webhooks (Kit §5.1): which URL for which change, the body, the retry policy, the record."""

import time


def urls(receiver):
    return {"returnUrl": receiver.url("/ok"), "cancelUrl": receiver.url("/ko")}


def delivered(world, receiver, count=1, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(receiver.requests) < count:
        time.sleep(0.01)
    assert world.sandbox.sender.wait_idle(timeout)
    return receiver.requests


def test_authorization_calls_return_url_with_the_transaction(world, receiver):
    """Kit §5.1.2.2 AUTHORIZED → returnUrl; §5.1.3 body {transaction, applicationContext, responseDate}."""
    tx = world.paid_transaction(redirect_urls=urls(receiver), application_context={"customerId": "c1"})
    [call] = delivered(world, receiver)
    assert call["path"] == "/ok"
    assert set(call["body"]) == {"transaction", "applicationContext", "responseDate"}
    assert call["body"]["transaction"]["id"] == tx["id"] and call["body"]["applicationContext"] == {"customerId": "c1"}


def test_rejection_and_abandon_call_cancel_url(world, receiver):
    """Kit §5.1.2.2: REJECTED and ABORTED → cancelUrl."""
    kit = world.kit()
    for behaviour in ("wrong_pin", "abandon"):
        tx = kit.create_transaction(behaviour, "1", 4000, redirect_urls=urls(receiver))["transaction"]
        kit.set_payer(tx["id"], world.beneficiary(behaviour)["beneficiaryId"])
    world.advance(3)
    calls = delivered(world, receiver, 2)
    assert [c["path"] for c in calls] == ["/ko", "/ko"]
    assert sorted(c["body"]["transaction"]["state"] for c in calls) == ["ABORTED", "REJECTED"]


def test_nothing_is_sent_on_cancellation_expiry_or_deferred_validation(world, receiver):
    """Kit §5.1.2.2: no call on CANCELLED, VALIDATED (execute), or an expired INITIALIZED transaction."""
    kit = world.kit()
    tx = world.paid_transaction(kit, capture_mode="DEFERRED", capture_date=world.later(days=1),
                                redirect_urls=urls(receiver))
    delivered(world, receiver)
    kit.execute(tx["id"], 100)
    kit.cancel(tx["id"])
    kit.create_transaction("expiring", "1", 100, redirect_urls=urls(receiver))
    world.advance(301)
    assert world.sandbox.sender.wait_idle(5)
    assert [c["path"] for c in receiver.requests] == ["/ok"]


def test_request_expiry_and_beneficiary_refusal_call_cancel_url_with_the_pre_transaction(world, receiver):
    """Kit §5.1.3: preTransaction body on expiry or beneficiary abandon."""
    kit, ben = world.kit(), world.beneficiary()
    expiring = kit.create_pre_transaction("a", 100, world.later(seconds=30), redirect_urls=urls(receiver))
    refused = kit.create_pre_transaction("b", 100, world.later(hours=1), redirect_urls=urls(receiver))
    url = kit.qr_code(refused["preTransaction"]["id"]).headers["pre-transaction-url"]
    world.control.act(ben["beneficiaryId"], "refuse", url=url)
    world.advance(30)
    calls = delivered(world, receiver, 2)
    bodies = {c["body"]["preTransaction"]["id"]: c["body"]["preTransaction"]["state"] for c in calls}
    assert bodies == {expiring["preTransaction"]["id"]: "EXPIRED", refused["preTransaction"]["id"]: "ABORTED"}
    assert {c["path"] for c in calls} == {"/ko"}


def test_failures_are_retried_after_100_150_225_337_ms_and_recorded(world, receiver):
    """Kit §5.1.2.1: up to 4 retries; each attempt visible at /_sandbox/webhooks."""
    receiver.statuses = [500, 404, 503]
    world.paid_transaction(redirect_urls=urls(receiver))
    stamps = [call["t"] for call in delivered(world, receiver, 4)]
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert len(stamps) == 4
    for gap, expected in zip(gaps, (0.100, 0.150, 0.225), strict=True):
        assert gap >= expected * 0.95
    [record] = world.control.webhooks()
    assert record["state"] == "delivered" and [a["status"] for a in record["attempts"]] == [500, 404, 503, 200]


def test_a_dead_endpoint_gets_five_attempts_then_fails(world):
    dead = "http://127.0.0.1:9/never"  # discard port: connection refused
    world.paid_transaction(redirect_urls={"returnUrl": dead})
    assert world.sandbox.sender.wait_idle(10)
    [record] = world.control.webhooks()
    assert record["state"] == "failed" and len(record["attempts"]) == 5
    assert all(a["status"] is None and a["error"] for a in record["attempts"])


def test_strict_mode_does_not_call_plain_http(world, receiver):
    """SR: plain http:// allowed unless strict mode (Kit §5.1.4 wants HTTPS)."""
    world.control.settings(strictWebhooks=True)
    world.paid_transaction(redirect_urls=urls(receiver))
    assert world.sandbox.sender.wait_idle(5)
    assert receiver.requests == [] and world.control.webhooks()[0]["state"] == "failed"
