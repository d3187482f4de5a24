"""The acceptance campaign's control calls (`/_sandbox/recette`, issue 17): what bad input gets, and
that campaigns live only as long as the sandbox's state (a reset drops them) behind the admin token."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.client import ControlClient, ControlError, FlaskTransport, Reply
from sandbox.web import create_app
from tests.conftest import make_settings

UNKNOWN_SHOP = 99999999


def post(world: Any, path: str, body: Any) -> Reply:
    """A raw control write (any body, even one the client would not send)."""
    return world.transport("POST", "/_sandbox" + path, {"Content-Type": "application/json"}, body)


def start(world: Any, body: Any) -> Reply:
    return post(world, "/recette", body)


def shop_holder(world: Any) -> dict[str, Any]:
    return {"kind": "shop", "id": world.shop()["shopId"]}


def refused(reply: Reply, status: int, code: str, *detail: str) -> None:
    """The reply is `{errorCode, errorMessage}` with this status and code, its detail naming each of `detail`."""
    assert reply.status == status, (reply.status, reply.body)
    assert reply.body["errorCode"] == code and reply.body["errorMessage"]
    for words in detail:
        assert words in reply.headers.get("X-Sandbox-Detail", ""), reply.headers


def identifiers(campaign: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(c for c in campaign["cases"] if c["id"] == case_id)["identifiers"]


# --- starting a campaign --------------------------------------------------------------------------------

@pytest.mark.parametrize("body, detail", [
    ([], "JSON object"),
    ("immediate-payment", "JSON object"),
    ({"holder": {"kind": "shop", "id": 10000065}, "case": ["immediate-payment"]}, "unknown field 'case'"),
    ({}, "holder must be"),
    ({"holder": None}, "holder must be"),
    ({"holder": {"kind": "merchant", "id": 10000065}}, "holder must be"),
    ({"holder": {"id": 10000065}}, "holder must be"),
    ({"holder": {"kind": "shop", "id": 10000065, "key": "x"}}, "holder must be"),
    ({"holder": {"kind": "shop", "id": "10-00"}}, "holder.id"),
    ({"holder": {"kind": "shop", "id": True}}, "holder.id"),
    ({"holder": {"kind": "shop"}}, "holder.id"),
    ({"holder": {"kind": "shop", "id": 0}}, "holder.id"),
])
def test_a_malformed_start_is_a_400_naming_what_is_wrong(world, body, detail):
    refused(start(world, body), 400, "BAD_REQUEST", detail)


def test_a_start_without_a_body_is_a_400(world):
    refused(world.transport("POST", "/_sandbox/recette", {"Content-Type": "application/json"}, None), 400,
            "BAD_REQUEST", "JSON body is required")


@pytest.mark.parametrize("cases, detail", [
    (["immediate-payment", "refund"], "unknown case 'refund'"),
    (["service-provider"], "for a service provider only"),
    ([], "at least one case"),
    ("immediate-payment", "cases must be a list"),
    ([1], "cases must be a list"),
])
def test_cases_must_name_cases_of_the_catalogue_fit_for_the_holder(world, cases, detail):
    refused(start(world, {"holder": shop_holder(world), "cases": cases}), 400, "BAD_REQUEST", detail)


def test_a_provider_may_play_the_service_provider_case(world):
    holder = {"kind": "provider", "id": world.provider["serviceProviderId"]}
    reply = start(world, {"holder": holder, "cases": ["service-provider"]})
    assert reply.status == 201
    assert [c["id"] for c in reply.body["cases"]] == ["service-provider"]


def test_a_holder_id_may_be_given_as_digits(world):
    reply = start(world, {"holder": {"kind": "shop", "id": str(world.shop()["shopId"])}, "cases": ["https"]})
    assert reply.status == 201 and reply.body["holder"]["id"] == world.shop()["shopId"]


@pytest.mark.parametrize("scale", ["fast", True, 0, -1, 3601, [60]])
def test_time_scale_must_be_a_number_in_range(world, scale):
    refused(start(world, {"holder": shop_holder(world), "timeScale": scale}), 400, "BAD_REQUEST", "timeScale")


def test_time_scale_on_a_virtual_clock_is_a_409(world):
    reply = start(world, {"holder": shop_holder(world), "timeScale": 60})
    refused(reply, 409, "WALL_CLOCK_REQUIRED", "/_sandbox/clock/advance")
    assert world.transport("GET", "/_sandbox/recette", {}).body == {"campaigns": []}  # nothing was started


@pytest.mark.parametrize("kind", ["shop", "provider"])
def test_an_unknown_holder_is_a_404(world, kind):
    refused(start(world, {"holder": {"kind": kind, "id": UNKNOWN_SHOP}}), 404, "HOLDER_NOT_FOUND", str(UNKNOWN_SHOP))


def test_a_shop_holder_cannot_be_a_service_provider_id(world):
    holder = {"kind": "shop", "id": world.provider["serviceProviderId"]}
    refused(start(world, {"holder": holder}), 404, "HOLDER_NOT_FOUND")


# --- reading and ending ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/recette/rc-9"), ("GET", "/recette/rc-9/report.json"), ("POST", "/recette/rc-9/end"),
    ("POST", "/recette/rc-9/cases/partial-payment/declaration"), ("GET", "/recette/nonsense"),
])
def test_an_unknown_campaign_is_a_404(world, method, path):
    reply = world.transport(method, "/_sandbox" + path, {"Content-Type": "application/json"},
                            {"transactionId": "x", "amountPaid": 1} if method == "POST" else None)
    refused(reply, 404, "CAMPAIGN_NOT_FOUND")


def test_campaigns_are_listed_newest_first(world):
    first = world.control.start_recette("shop", world.shop()["shopId"], ["https"])
    second = world.control.start_recette("shop", world.shop(1)["shopId"], ["https", "polling-rate"])
    listed = world.transport("GET", "/_sandbox/recette", {}).body["campaigns"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    assert listed[0]["summary"] == {"total": 2, "waiting": 2, "running": 0, "passed": 0, "failed": 0,
                                    "not_played": 0}


def test_ending_twice_keeps_the_first_end(world):
    campaign = world.control.start_recette("shop", world.shop()["shopId"], ["https"])
    ended = world.control.end_recette(campaign["id"])
    world.advance(60)
    again = world.control.end_recette(campaign["id"])
    assert ended["ended"] and again["endedAt"] == ended["endedAt"]
    assert [c["status"] for c in again["cases"]] == ["not_played"]


def test_a_reset_drops_every_campaign(world):
    campaign = world.control.start_recette("shop", world.shop()["shopId"], ["https"])
    world.control.reset()
    assert world.transport("GET", "/_sandbox/recette", {}).body == {"campaigns": []}
    refused(world.transport("GET", f"/_sandbox/recette/{campaign['id']}", {}), 404, "CAMPAIGN_NOT_FOUND")


# --- declarations (the partial payment case) ---------------------------------------------------------------

@pytest.fixture
def partial(world):
    """A campaign with the partial payment case and another one, and a transaction on the partial case's shop."""
    campaign = world.control.start_recette("shop", world.shop()["shopId"], ["partial-payment", "immediate-payment"])
    shop_id = identifiers(campaign, "partial-payment")["shopId"]
    tx = world.kit().create_transaction("recette-partial", "1", 4000, shop_id=shop_id).body["transaction"]
    return campaign, tx


def declaration(world, campaign_id, case_id, body):
    return post(world, f"/recette/{campaign_id}/cases/{case_id}/declaration", body)


def test_a_declaration_is_kept_with_the_partial_payment_case(world, partial):
    campaign, tx = partial
    reply = declaration(world, campaign["id"], "partial-payment", {"transactionId": tx["id"], "amountPaid": 2000})
    assert reply.status == 201
    [declared] = next(c for c in reply.body["cases"] if c["id"] == "partial-payment")["evidence"]["declarations"]
    assert (declared["transactionId"], declared["amountPaid"]) == (tx["id"], 2000)


def test_a_declaration_on_another_case_is_a_400(world, partial):
    campaign, tx = partial
    refused(declaration(world, campaign["id"], "immediate-payment", {"transactionId": tx["id"], "amountPaid": 2000}),
            400, "BAD_REQUEST", "only the partial-payment case")


def test_a_declaration_on_a_case_the_campaign_does_not_play_is_a_404(world, partial):
    campaign, tx = partial
    refused(declaration(world, campaign["id"], "webhook-retry", {"transactionId": tx["id"], "amountPaid": 2000}),
            404, "CASE_NOT_FOUND", "webhook-retry")


@pytest.mark.parametrize("body, detail", [
    ([], "JSON object"),
    ({"transactionId": "tx", "amountPaid": 2000, "note": "x"}, "the body must be"),
    ({"amountPaid": 2000}, "transactionId"),
    ({"transactionId": "", "amountPaid": 2000}, "transactionId"),
    ({"transactionId": "TX", "amountPaid": "20,00"}, "amountPaid"),
    ({"transactionId": "TX", "amountPaid": 20.5}, "amountPaid"),
    ({"transactionId": "TX", "amountPaid": -1}, "amountPaid"),
    ({"transactionId": "TX"}, "amountPaid"),
])
def test_a_malformed_declaration_is_a_400(world, partial, body, detail):
    campaign, tx = partial
    body = {k: tx["id"] if v == "TX" else v for k, v in body.items()} if isinstance(body, dict) else body
    refused(declaration(world, campaign["id"], "partial-payment", body), 400, "BAD_REQUEST", detail)


def test_a_declaration_of_another_shops_transaction_is_a_404(world, partial):
    campaign, _tx = partial
    elsewhere = world.kit().create_transaction("not-the-case", "1", 4000).body["transaction"]
    reply = declaration(world, campaign["id"], "partial-payment", {"transactionId": elsewhere["id"], "amountPaid": 1})
    refused(reply, 404, "TRANSACTION_NOT_FOUND", str(identifiers(campaign, "partial-payment")["shopId"]))
    unknown = declaration(world, campaign["id"], "partial-payment", {"transactionId": "nope", "amountPaid": 1})
    refused(unknown, 404, "TRANSACTION_NOT_FOUND")
    reread = world.control.recette(campaign["id"])
    assert next(c for c in reread["cases"] if c["id"] == "partial-payment")["evidence"]["declarations"] == []


# --- the admin token ------------------------------------------------------------------------------------

def test_the_recette_calls_need_the_admin_token_when_one_is_set():
    app = create_app(make_settings(admin_token="s3cret"))
    try:
        transport = FlaskTransport(app)
        json = {"Content-Type": "application/json"}
        shop_id = ControlClient(transport, admin_token="s3cret").fixtures()["pointsOfSale"][0]["shopId"]
        body = {"holder": {"kind": "shop", "id": shop_id}, "cases": ["https"]}
        assert transport("POST", "/_sandbox/recette", json, body).status == 401
        assert transport("GET", "/_sandbox/recette", {}).status == 401
        campaign = ControlClient(transport, admin_token="s3cret").start_recette("shop", shop_id, ["https"])
        for method, path in [("GET", ""), ("GET", "/report.json"), ("POST", "/end")]:
            reply = transport(method, f"/_sandbox/recette/{campaign['id']}{path}", json, {} if method == "POST" else None)
            assert reply.status == 401 and reply.body["errorCode"] == "ADMIN_TOKEN_REQUIRED", (method, path)
        with pytest.raises(ControlError) as no_token:
            ControlClient(transport).recette(campaign["id"])
        assert no_token.value.status == 401
        assert ControlClient(transport, admin_token="s3cret").recette(campaign["id"])["id"] == campaign["id"]
    finally:
        app.extensions["ancv_sandbox"].stop()


# --- what a campaign arranges: the webhook-retry case loses its webhooks' first answer --------------------

def wait_for_posts(world: Any, receiver: Any, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(receiver.received()) < count:
        time.sleep(0.01)
    assert world.sandbox.sender.wait_idle(timeout)
    return receiver.received()


def test_the_webhook_retry_case_takes_the_first_answer_for_lost_and_the_retry_is_delivered(world, receiver):
    campaign = world.control.start_recette("shop", world.shop()["shopId"], ["webhook-retry"])
    case = identifiers(campaign, "webhook-retry")
    urls = {"returnUrl": receiver.url("/case"), "cancelUrl": receiver.url("/case-cancel")}
    kit = world.kit()  # a shop holder's cases are sealed with its own key
    tx = kit.create_transaction("retry-1", "1", 4000, shop_id=case["shopId"], redirect_urls=urls).body["transaction"]
    assert kit.set_payer(tx["id"], case["beneficiaryId"]).status == 202
    world.advance(30)  # the case's beneficiary pays on their own
    other = world.paid_transaction(redirect_urls={"returnUrl": receiver.url("/other")})

    posts = wait_for_posts(world, receiver, 3)
    assert sorted(p["path"] for p in posts) == ["/case", "/case", "/other"]  # the receiver answered 200 each time
    by_transaction = {w["body"]["transaction"]["id"]: w for w in world.control.webhooks()}
    first, retry = by_transaction[tx["id"]]["attempts"]
    assert first["status"] == 200 and "answer lost" in first["error"] and campaign["id"] in first["error"]
    assert retry["status"] == 200 and "error" not in retry
    assert by_transaction[tx["id"]]["state"] == "delivered"
    untouched = by_transaction[other["id"]]
    assert untouched["state"] == "delivered" and [a.get("error") for a in untouched["attempts"]] == [None]

    [seen] = next(c for c in world.control.recette(campaign["id"])["cases"])["evidence"]["webhooks"]
    assert [a["status"] for a in seen["attempts"]] == [200, 200] and "error" in seen["attempts"][0]
