"""The request journal (`/_sandbox/requests`, issue 15 item 2): what a Kit or control call left behind,
and for a sealed Kit call what the sandbox sealed and why a seal was refused — never a key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from sandbox.client import KIT_PATH, Reply
from sandbox.domain import seal


def send(world: Any, method: str, path: str, body: Any = None, header: str | None = None) -> Reply:
    """A raw Kit call with any ANCV-Security header (or none)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if header is not None:
        headers["ANCV-Security"] = header
    return world.transport(method, KIT_PATH + path, headers, body)


def journal(world: Any, query: str = "") -> list[dict[str, Any]]:
    reply = world.transport("GET", "/_sandbox/requests" + query, {}, None)
    assert reply.status == 200, reply.body
    return reply.body["requests"]  # type: ignore[no-any-return]


def create_body(shop: dict[str, Any], order: str = "order-j1", payment: str = "1",
                amount: int = 4000) -> dict[str, Any]:
    return {"merchant": {"shopId": shop["shopId"]},
            "order": {"id": order, "paymentId": payment, "amount": {"total": amount, "currency": "978"}},
            "paymentMethod": {"captureMode": "NORMAL", "tspdMode": "001"}}


def raw_seal(key: str, message: str, encode: Any = base64.urlsafe_b64encode) -> str:
    return encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode().rstrip("=")


def header_for(shop: dict[str, Any], seal_value: str) -> str:
    return f"HmacSHA256.{shop['keyVersion']}.{seal_value}"


def test_a_kit_call_is_recorded_with_its_request_answer_and_seal(world: Any) -> None:
    shop = world.shop()
    created = world.kit().create_transaction("order-j0", "1", 4000)
    entry = journal(world, "?path=/payment-transactions&limit=1")[0]
    assert entry["surface"] == "kit" and entry["method"] == "POST" and entry["status"] == 201
    assert entry["path"] == KIT_PATH + "/payment-transactions"
    assert entry["body"]["order"]["id"] == "order-j0"
    assert entry["responseBody"]["transaction"]["id"] == created["transaction"]["id"]
    assert entry["headers"]["Ancv-Security"].startswith(f"HmacSHA256.{shop['keyVersion']}.")
    assert entry["at"] == world.control.clock()["now"] and entry["durationMs"] >= 0
    assert entry["seal"] == {
        "verdict": "ok", "keyVersion": shop["keyVersion"],
        "expectedKeyHolder": {"kind": "shop", "id": shop["shopId"]},
        "fields": ["merchant.shopId", "merchant.serviceProviderId", "order.id", "order.paymentId",
                   "order.amount.total"],
        "sealedString": f"{shop['shopId']}&order-j0&1&4000", "hint": None}


def test_control_calls_are_marked_and_reading_the_journal_is_not_recorded(world: Any) -> None:
    world.control.advance(1)
    journal(world)
    entries = journal(world)
    assert entries[0]["surface"] == "control" and entries[0]["path"] == "/_sandbox/clock/advance"
    assert not any(e["path"].startswith("/_sandbox/requests") for e in entries)


def test_a_mis_ordered_seal_shows_the_expected_fields_the_sealed_string_and_the_hint(world: Any) -> None:
    shop = world.shop()
    body = create_body(shop)
    wrong = raw_seal(shop["key"], f"order-j1&{shop['shopId']}&1&4000")
    reply = send(world, "POST", "/payment-transactions", body, header_for(shop, wrong))
    assert reply.status == 403 and reply.body["errorCode"] == "INVALID_SEAL"
    entry = journal(world, "?errorCode=INVALID_SEAL")[0]
    assert reply.headers["X-Sandbox-Detail"].endswith(f"(journal: /_sandbox/requests/{entry['id']})")
    pointed = world.transport("GET", f"/_sandbox/requests/{entry['id']}", {}, None).body
    assert pointed == entry
    check = entry["seal"]
    assert check["verdict"] == "invalid"
    assert check["fields"][:3] == ["merchant.shopId", "merchant.serviceProviderId", "order.id"]
    assert check["sealedString"] == f"{shop['shopId']}&order-j1&1&4000"
    assert "another order" in check["hint"] and "order.id, merchant.shopId" in check["hint"]


def test_other_near_misses_are_named(world: Any) -> None:
    shop = world.shop()
    send(world, "POST", "/payment-transactions", create_body(shop, "order-e"),
         header_for(shop, raw_seal(shop["key"], f"{shop['shopId']}&&order-e&1&4000")))
    assert "empty fields were not skipped" in journal(world, "?limit=1")[0]["seal"]["hint"]
    # an order id whose seal has '+' or '/' in standard base64, so the two alphabets differ
    order = next(f"order-b{i}" for i in range(100)
                 if {"+", "/"} & set(raw_seal(shop["key"], f"{shop['shopId']}&order-b{i}&1&4000", base64.b64encode)))
    standard = raw_seal(shop["key"], f"{shop['shopId']}&{order}&1&4000", base64.b64encode)
    send(world, "POST", "/payment-transactions", create_body(shop, order), header_for(shop, standard))
    assert "standard base64" in journal(world, "?limit=1")[0]["seal"]["hint"]
    padded = raw_seal(shop["key"], f"{shop['shopId']}&order-p&1&4000") + "="
    assert send(world, "POST", "/payment-transactions", create_body(shop, "order-p"),
                header_for(shop, padded)).status == 201
    entry = journal(world, "?limit=1")[0]
    assert entry["seal"]["verdict"] == "ok" and "padding" in entry["seal"]["hint"]


def test_missing_malformed_and_other_holder_verdicts(world: Any) -> None:
    shop, other = world.shop(0), world.shop(1)
    send(world, "POST", "/payment-transactions", create_body(shop))
    assert journal(world, "?limit=1")[0]["seal"]["verdict"] == "missing"
    send(world, "POST", "/payment-transactions", create_body(shop), "HmacSHA1-nonsense")
    assert journal(world, "?limit=1")[0]["seal"]["verdict"] == "malformed"
    tx = world.kit(0).create_transaction("order-o", "1", 4000)["transaction"]
    other_seal = seal.security_header(other["keyVersion"], other["key"], seal.transaction_id_fields(tx["id"]))
    assert send(world, "GET", f"/payment-transactions/{tx['id']}", header=other_seal).status == 404
    entry = journal(world, "?limit=1")[0]
    assert entry["seal"]["verdict"] == "other_holder"
    assert entry["seal"]["expectedKeyHolder"] == {"kind": "shop", "id": shop["shopId"]}


def test_filters_by_path_status_and_error_code_newest_first(world: Any) -> None:
    kit = world.kit()
    first = kit.create_transaction("order-f1", "1", 4000)["transaction"]
    kit.get_transaction(first["id"])
    send(world, "GET", "/payment-transactions/NOPE")
    assert [e["status"] for e in journal(world, "?path=/payment-transactions")][:3] == [403, 200, 201]
    assert {e["status"] for e in journal(world, "?status=201")} == {201}
    assert {e["errorCode"] for e in journal(world, "?errorCode=INVALID_SEAL")} == {"INVALID_SEAL"}
    assert len(journal(world, "?limit=2")) == 2
    assert world.transport("GET", "/_sandbox/requests?limit=zero", {}, None).status == 400


def test_the_journal_never_grows_past_its_bound(world: Any) -> None:
    world.control.settings(requestJournalSize=3)
    for _ in range(5):
        world.control.clock()
    assert len(journal(world)) == 3


def test_the_bound_is_checked(world: Any) -> None:
    reply = world.transport("PATCH", "/_sandbox/settings", {"Content-Type": "application/json"},
                            {"requestJournalSize": 10**6})
    assert reply.status == 400 and "requestJournalSize" in reply.headers["X-Sandbox-Detail"]


def test_no_key_or_password_anywhere_in_the_journal(world: Any) -> None:
    fixtures = world.control.fixtures()  # its answer holds every key: recorded, masked
    world.kit().create_transaction("order-k", "1", 4000)
    world.provider_kit().create_transaction("order-k2", "1", 4000)
    text = json.dumps(journal(world))
    assert "/_sandbox/fixtures" in text
    secrets = [p["key"] for p in fixtures["pointsOfSale"]] + [s["key"] for s in fixtures["serviceProviders"]]
    secrets += [b["password"] for b in fixtures["beneficiaries"]]
    for secret in secrets:
        assert secret not in text


def test_delete_empties_the_journal_and_the_rule_turns_it_off(world: Any) -> None:
    world.kit().create_transaction("order-d", "1", 4000)
    assert world.transport("DELETE", "/_sandbox/requests", {"Content-Type": "application/json"}, {}).status == 200
    assert journal(world) == []
    world.control.settings(requestJournal=False)
    world.kit().create_transaction("order-d2", "1", 4000)
    assert journal(world) == []
    missing = world.transport("GET", "/_sandbox/requests/r999999", {}, None)
    assert missing.status == 404 and missing.body["errorCode"] == "REQUEST_NOT_FOUND"
    assert world.transport("GET", "/_sandbox/requests/nope", {}, None).status == 400


def test_a_fired_fault_is_in_its_entry_and_an_answer_never_sent_has_no_status(world: Any) -> None:
    fault = world.control.add_fault("createTransaction", "error", status=502, times=1)
    reply = world.kit().create_transaction("order-fe", "1", 4000)
    entry = journal(world, "?limit=1")[0]
    assert entry["status"] == 502 and entry["fault"]["id"] == fault["id"] and entry["fault"]["fault"] == "error"
    assert reply.headers["X-Sandbox-Detail"].endswith(f"(journal: /_sandbox/requests/{entry['id']})")
    world.control.add_fault("createTransaction", "drop_response", times=1)
    with pytest.raises(ConnectionError):
        world.kit().create_transaction("order-fd", "1", 4000)
    entry = journal(world, "?limit=1")[0]
    assert entry["status"] is None and entry["responseBody"] is None and entry["fault"]["fault"] == "drop_response"
    assert entry["seal"]["verdict"] == "ok"  # the operation ran (and committed) before the hang-up
