"""Bad input never answers 5xx and never changes anything (Kit §4.1, §6.2, §6.3).

Table-driven checks (malformed JSON, wrong Content-Type, wrong types, oversize fields,
huge numbers, odd ids, unknown routes, wrong methods) and Hypothesis-generated bodies
for the two creation operations. A refused call answers the Kit's error body
`{"errorCode", "errorMessage"}`, and `GET /_sandbox/events` shows no new
Transaction*/PreTransaction* event afterwards.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.client import KIT_PATH, KitClient, Reply
from sandbox.domain import seal
from tests.kit_table import KIT_TABLE

BAD_REQUEST = {"errorCode": "BAD_REQUEST", "errorMessage": "Bad request"}
PAYMENT_EVENTS = ("Transaction", "PreTransaction")
MAX_BODY = 256 * 1024


# --- helpers -------------------------------------------------------------------------------------

def raw(world: Any, method: str, path: str, data: bytes | str | None = None,
        headers: dict[str, str] | None = None) -> Reply:
    """A Kit call with exactly these bytes and headers (the client would re-encode the body)."""
    response = world.transport.client.open(KIT_PATH + path, method=method, headers=headers or {}, data=data)
    content = response.get_data()
    body = json.loads(content) if response.mimetype == "application/json" and content else None
    return Reply(response.status_code, dict(response.headers), content, body)


def sealed(world: Any, kit: KitClient, method: str, path: str, fields: list[Any], body: Any = None) -> Reply:
    """A call sealed with `kit`'s key over `fields`, whatever the body holds."""
    headers = {"ANCV-Security": seal.security_header(kit.key_version, kit.key, fields)}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return world.transport(method, KIT_PATH + path, headers, body)


def last_seq(world: Any) -> int:
    events = world.control.events()
    return events[-1]["seq"] if events else 0


def payment_events_since(world: Any, seq: int) -> list[str]:
    return [e["type"] for e in world.control.events(after=seq) if e["type"].startswith(PAYMENT_EVENTS)]


def assert_kit_error(reply: Reply, status: int | None = None, where: str = "") -> None:
    """Not a 5xx, JSON, exactly `{"errorCode", "errorMessage"}`; a Kit code carries its Kit message."""
    said = (where, reply.status, reply.body, reply.headers.get("X-Sandbox-Detail"))
    assert 400 <= reply.status < 500, said
    if status is not None:
        assert reply.status == status, said
    assert reply.headers.get("Content-Type", "").startswith("application/json"), (where, reply.headers)
    assert isinstance(reply.body, dict) and set(reply.body) == {"errorCode", "errorMessage"}, said
    assert all(isinstance(value, str) and value for value in reply.body.values()), said
    code = reply.body["errorCode"]
    if code in KIT_TABLE:
        assert KIT_TABLE[code] == (reply.status, reply.body["errorMessage"]), said


def assert_bad_request(reply: Reply, where: str = "") -> None:
    assert_kit_error(reply, 400, where)
    assert reply.body == BAD_REQUEST, (where, reply.body, reply.headers.get("X-Sandbox-Detail"))


class Scene:
    """A shop with a fresh transaction, an authorized deferred one and a payment request, watched."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.kit: KitClient = world.kit()
        self.shop_id = self.kit.shop_id
        reply = self.kit.create_transaction("scene-new", "1", 4000)
        assert reply.status == 201, reply.body
        self.tx = reply.body["transaction"]["id"]
        authorized = world.paid_transaction(kit=self.kit, capture_mode="DEFERRED", capture_date=world.later(days=2))
        assert authorized["state"] == "AUTHORIZED", authorized
        self.authorized = authorized["id"]
        self.authorization = authorized["payers"][0]["authorizations"][0]["number"]
        self.beneficiary = authorized["payers"][0]["beneficiaryId"]
        reply = self.kit.create_pre_transaction("scene-request", 4000, world.later(hours=1))
        assert reply.status == 201, reply.body
        self.pre = reply.body["preTransaction"]["id"]
        self.before = self.snapshot()
        self.seq = last_seq(world)

    def snapshot(self) -> Any:
        return ([self.kit.get_transaction(t).body["transaction"] for t in (self.tx, self.authorized)],
                self.kit.get_pre_transaction(self.pre).body["preTransaction"],
                {b["beneficiaryId"]: b["balance"] for b in self.world.control.fixtures()["beneficiaries"]})

    def assert_unchanged(self) -> None:
        assert payment_events_since(self.world, self.seq) == []
        assert self.snapshot() == self.before

    # The Kit's POST operations on the scene's objects: (path, sealed fields of a body).
    def posts(self) -> dict[str, tuple[str, Callable[[Any], list[Any]]]]:
        tx, auth, pre = self.tx, self.authorized, self.pre
        return {
            "create transaction": ("/payment-transactions", seal.create_transaction_fields),
            "payer": (f"/payment-transactions/{tx}/payer", lambda b: seal.payer_fields(tx, b)),
            "execute": (f"/payment-transactions/{auth}/execute", lambda b: seal.transaction_id_fields(auth)),
            "cancellation": (f"/payment-transactions/{auth}/cancellation", lambda b: seal.cancellation_fields(auth, b)),
            "create pre-transaction": ("/pre-transactions", seal.create_pre_transaction_fields),
            "contact": (f"/pre-transactions/{pre}/contact", lambda b: seal.contact_fields(pre, b)),
            "abort": (f"/pre-transactions/{pre}/abort", lambda b: seal.abort_fields(pre, b)),
        }

    def post(self, operation: str, body: Any) -> Reply:
        path, fields = self.posts()[operation]
        return sealed(self.world, self.kit, "POST", path, fields(body), body)

    # Valid bodies of each POST operation, to break one field at a time.
    def valid(self, operation: str) -> dict[str, Any]:
        merchant = {"shopId": self.shop_id}
        bodies: dict[str, dict[str, Any]] = {
            "create transaction": {
                "merchant": merchant,
                "order": {"id": "order-ok", "paymentId": "1", "amount": {"total": 4000, "currency": "978"}},
                "paymentMethod": {"captureMode": "NORMAL", "tspdMode": "001"},
            },
            "payer": {"payer": {"beneficiaryId": self.beneficiary, "amount": {"total": 1000, "currency": "978"}}},
            "execute": {"amount": {"total": 3000, "currency": "978"},
                        "payers": [{"beneficiaryId": self.beneficiary, "authorizations": [
                            {"number": self.authorization, "amount": {"total": 3000, "currency": "978"}}]}]},
            "cancellation": {"reason": "OTHER", "label": "ok"},
            "create pre-transaction": {
                "merchant": merchant,
                "order": {"id": "request-ok", "prePaymentId": "1", "amount": {"total": 4000, "currency": "978"}},
                "paymentMethod": {"captureMode": "DEFERRED", "tspdMode": "001", "captureTerm": 3},
                "expirationDate": self.world.later(hours=2),
            },
            "contact": {"contact": "client@example.fr"},
            "abort": {"reason": "ABORTED_MERCHANT", "label": "ok"},
        }
        return copy.deepcopy(bodies[operation])


@pytest.fixture
def scene(world: Any) -> Scene:
    return Scene(world)


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`body` with the dotted `path` set to `value` (or removed when value is DROP); objects made as needed."""
    body = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    node: Any = body
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node.setdefault(name, {})
    if value is DROP:
        del node[leaf]
    elif isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return body


DROP = object()


# --- bodies that are not JSON objects -------------------------------------------------------------

NOT_OBJECTS = {
    "truncated JSON": b'{"merchant": {"shopId": 1',
    "missing value": b'{"merchant": }',
    "single quotes": b"{'merchant': {}}",
    "trailing data": b'{"a": 1} {"b": 2}',
    "trailing comma": b'{"a": 1,}',
    "JSON array": b'[{"merchant": {"shopId": 1}}]',
    "empty array": b"[]",
    "JSON string": b'"payment"',
    "JSON number": b"4000",
    "JSON null": b"null",
    "JSON true": b"true",
    "empty body": b"",
    "blank body": b"  \n ",
    "not UTF-8": b'{"label": "\xe9t\xe9"}',
    "UTF-16": '{"reason": "OTHER"}'.encode("utf-16"),
    "byte order mark": b'\xef\xbb\xbf{"reason": "OTHER"}',
    "NaN field": b'{"merchant": {"shopId": NaN}, "order": NaN, "reason": NaN, "payer": NaN, "amount": NaN}',
    "XML": b"<payment><amount>4000</amount></payment>",
}


@pytest.mark.parametrize("body", NOT_OBJECTS.values(), ids=NOT_OBJECTS.keys())
def test_a_body_that_is_not_a_json_object_is_a_bad_request_everywhere(scene: Scene, body: bytes) -> None:
    """Kit §4.1, §6.3: every POST takes a JSON object; anything else is BAD_REQUEST, before the seal."""
    for operation, (path, _fields) in scene.posts().items():
        headers = {"Content-Type": "application/json",
                   "ANCV-Security": seal.security_header(scene.kit.key_version, scene.kit.key, [path])}
        reply = raw(scene.world, "POST", path, body, headers)
        assert_bad_request(reply, operation)
    scene.assert_unchanged()


CONTENT_TYPES = {
    "missing": None,
    "text/plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=xyz",
    "json-like": "application/jsonx",
    "json patch": "application/json-patch+json",
    "xml": "application/xml",
}


@pytest.mark.parametrize("content_type", CONTENT_TYPES.values(), ids=CONTENT_TYPES.keys())
def test_a_json_body_sent_with_another_content_type_is_a_bad_request(scene: Scene,
                                                                     content_type: str | None) -> None:
    """Kit §4.1: requests are `Content-Type: application/json`; a sealed, valid body under another type is refused."""
    for operation, (path, fields) in scene.posts().items():
        body = scene.valid(operation)
        headers = {"ANCV-Security": seal.security_header(scene.kit.key_version, scene.kit.key, fields(body))}
        if content_type is not None:
            headers["Content-Type"] = content_type
        assert_bad_request(raw(scene.world, "POST", path, json.dumps(body), headers), operation)
    scene.assert_unchanged()
    # The same body as application/json (with a charset) is accepted: the refusal was the type's.
    body = scene.valid("create transaction")
    headers = {"Content-Type": "application/json; charset=utf-8", "ANCV-Security": seal.security_header(
        scene.kit.key_version, scene.kit.key, seal.create_transaction_fields(body))}
    assert raw(scene.world, "POST", "/payment-transactions", json.dumps(body), headers).status == 201


# --- fields of the wrong type ----------------------------------------------------------------------

WRONG_TYPES: list[tuple[str, str, Any]] = [
    ("create transaction", "merchant", [{"shopId": 1}]),
    ("create transaction", "merchant", "13235554"),
    ("create transaction", "merchant", None),
    ("create transaction", "merchant.shopId", True),
    ("create transaction", "merchant.shopId", "13235554"),
    ("create transaction", "merchant.shopId", 13235554.0),
    ("create transaction", "merchant.shopId", None),
    ("create transaction", "merchant.shopId", [13235554]),
    ("create transaction", "merchant.serviceProviderId", "98232552"),
    ("create transaction", "merchant.serviceProviderId", False),
    ("create transaction", "merchant.shopAssistantId", 12),
    ("create transaction", "merchant.terminalId", {"id": "t1"}),
    ("create transaction", "order", [{"id": "x"}]),
    ("create transaction", "order", DROP),
    ("create transaction", "order.id", None),
    ("create transaction", "order.id", 33455),
    ("create transaction", "order.id", ""),
    ("create transaction", "order.id", ["panier"]),
    ("create transaction", "order.paymentId", DROP),
    ("create transaction", "order.paymentId", 42556),
    ("create transaction", "order.label", 7),
    ("create transaction", "order.amount", [4000, "978"]),
    ("create transaction", "order.amount", 4000),
    ("create transaction", "order.amount", None),
    ("create transaction", "order.amount.total", "4000"),
    ("create transaction", "order.amount.total", 40.5),
    ("create transaction", "order.amount.total", 4000.0),
    ("create transaction", "order.amount.total", True),
    ("create transaction", "order.amount.total", None),
    ("create transaction", "order.amount.total", [4000]),
    ("create transaction", "order.amount.total", {"value": 4000}),
    ("create transaction", "order.amount.currency", 978),
    ("create transaction", "order.amount.currency", None),
    ("create transaction", "order.amount.currency", "9780"),
    ("create transaction", "paymentMethod", ["NORMAL", "001"]),
    ("create transaction", "paymentMethod", None),
    ("create transaction", "paymentMethod.captureMode", "IMMEDIATE"),
    ("create transaction", "paymentMethod.captureMode", None),
    ("create transaction", "paymentMethod.captureMode", 1),
    ("create transaction", "paymentMethod.tspdMode", 1),
    ("create transaction", "paymentMethod.tspdMode", None),
    ("create transaction", "paymentMethod.tspdMode", "0001"),
    ("create transaction", "paymentMethod.captureDate", 1780000000),
    ("create transaction", "redirectUrls", ["http://ptl.example/ok"]),
    ("create transaction", "redirectUrls", "http://ptl.example/ok"),
    ("create transaction", "redirectUrls.returnUrl", ["http://ptl.example/ok"]),
    ("create transaction", "redirectUrls.returnUrl", "ftp://ptl.example/ok"),
    ("create transaction", "redirectUrls.cancelUrl", "not a url"),
    ("create transaction", "applicationContext", [{"customerId": "c1"}]),
    ("create transaction", "applicationContext.customerId", 1236555),
    ("create transaction", "applicationContext.returnContext", {"step": 1}),
    ("create transaction", "requestDate", 1780000000),
    ("create transaction", "requestDate", "yesterday"),
    ("create pre-transaction", "order.prePaymentId", 1),
    ("create pre-transaction", "order.amount.total", "4000"),
    ("create pre-transaction", "order.amount.total", 4000.5),
    ("create pre-transaction", "paymentMethod.captureTerm", "3"),
    ("create pre-transaction", "paymentMethod.captureTerm", 3.0),
    ("create pre-transaction", "paymentMethod.captureTerm", True),
    ("create pre-transaction", "expirationDate", None),
    ("create pre-transaction", "expirationDate", DROP),
    ("create pre-transaction", "expirationDate", 1780000000),
    ("create pre-transaction", "expirationDate", ["2026-06-03T08:00:00.000Z"]),
    ("create pre-transaction", "merchant.shopId", None),
    ("payer", "payer", [{"beneficiaryId": "10001001576"}]),
    ("payer", "payer", None),
    ("payer", "payer.beneficiaryId", None),
    ("payer", "payer.beneficiaryId", True),
    ("payer", "payer.beneficiaryId", ["10001001576"]),
    ("payer", "payer.beneficiaryId", {"id": "10001001576"}),
    ("payer", "payer.beneficiaryId", 10001001576.0),
    ("payer", "payer.beneficiaryId", ""),
    ("payer", "payer.amount", 1000),
    ("payer", "payer.amount.total", "1000"),
    ("payer", "payer.amount.total", None),
    ("payer", "requestDate", "tomorrow"),
    ("execute", "amount", DROP),
    ("execute", "amount", 3000),
    ("execute", "amount.total", "3000"),
    ("execute", "amount.total", 3000.0),
    ("execute", "amount.currency", 978),
    ("execute", "payers", {"beneficiaryId": "10001001576"}),
    ("execute", "payers", "all"),
    ("execute", "payers.0", "10001001576"),
    ("execute", "payers.0.authorizations", {"number": "1"}),
    ("execute", "payers.0.authorizations.0", "767909"),
    ("execute", "payers.0.authorizations.0.number", 767909),
    ("execute", "payers.0.authorizations.0.amount", DROP),
    ("execute", "payers.0.beneficiaryId", None),
    ("cancellation", "reason", None),
    ("cancellation", "reason", DROP),
    ("cancellation", "reason", 1),
    ("cancellation", "reason", ["OTHER"]),
    ("cancellation", "label", 5),
    ("contact", "contact", 5),
    ("contact", "contact", ["client@example.fr"]),
    ("contact", "contact", "not an email"),
    ("contact", "contact", DROP),
    ("contact", "beneficiaryId", True),
    ("abort", "reason", None),
    ("abort", "reason", "OTHER"),
    ("abort", "reason", ["ABORTED_MERCHANT"]),
    ("abort", "label", {"text": "no"}),
]


def _case_id(case: tuple[str, str, Any]) -> str:
    operation, path, value = case
    shown = "dropped" if value is DROP else json.dumps(value)[:30]
    return f"{operation}: {path}={shown}"


@pytest.mark.parametrize("operation", sorted({case[0] for case in WRONG_TYPES}))
def test_a_field_of_the_wrong_type_or_missing_is_a_bad_request(scene: Scene, operation: str) -> None:
    """Kit §6.2, §6.3: a field of the wrong JSON type, or a missing mandatory one, is BAD_REQUEST (sealed body)."""
    cases = [case for case in WRONG_TYPES if case[0] == operation]
    for case in cases:
        _operation, path, value = case
        assert_bad_request(scene.post(operation, with_value(scene.valid(operation), path, value)), _case_id(case))
    scene.assert_unchanged()


OVERSIZE: list[tuple[str, str, Any, Any]] = [
    # (operation, field, longest accepted value, first refused value)
    ("create transaction", "order.id", "o" * 64, "o" * 65),
    ("create transaction", "order.paymentId", "p" * 40, "p" * 41),
    ("create transaction", "order.label", "l" * 255, "l" * 256),
    ("create transaction", "merchant.shopAssistantId", "a" * 50, "a" * 51),
    ("create transaction", "merchant.terminalId", "t" * 50, "t" * 51),
    ("create transaction", "redirectUrls.returnUrl", "https://ptl.example/" + "r" * 492,
     "https://ptl.example/" + "r" * 493),
    ("create transaction", "redirectUrls.cancelUrl", "http://ptl.example/" + "c" * 493,
     "http://ptl.example/" + "c" * 494),
    ("create transaction", "applicationContext.returnContext", "x" * 512, "x" * 513),
    ("create transaction", "applicationContext.customerId", "c" * 34, "c" * 35),
    ("create transaction", "applicationContext.customerId", "customer1236555", "customer-1236555"),
    ("create transaction", "applicationContext.customerId", "JohnDoe01", "John Doe 01"),
    ("create transaction", "applicationContext.customerId", "client01", "clïent01"),
    ("create pre-transaction", "order.prePaymentId", "p" * 40, "p" * 41),
    ("create pre-transaction", "order.id", "o" * 64, "o" * 65),
    ("create pre-transaction", "order.label", "l" * 255, "l" * 256),
    ("create pre-transaction", "redirectUrls.cancelUrl", "https://ptl.example/" + "c" * 492,
     "https://ptl.example/" + "c" * 493),
    ("cancellation", "label", "l" * 255, "l" * 256),
    ("abort", "label", "l" * 255, "l" * 256),
]


@pytest.mark.parametrize("case", OVERSIZE, ids=[f"{c[0]}: {c[1]}={c[3][:12]}…{len(c[3])}" for c in OVERSIZE])
def test_a_field_longer_than_the_kit_allows_is_a_bad_request(scene: Scene, case: tuple[str, str, Any, Any]) -> None:
    """Kit §6.2 (SPEC §2): order.id ≤64, paymentId ≤40, label ≤255, URLs ≤512, customerId ≤34 alphanumerics."""
    operation, path, longest, refused = case
    valid = scene.valid(operation)
    assert_bad_request(scene.post(operation, with_value(valid, path, refused)))
    scene.assert_unchanged()
    accepted = scene.post(operation, with_value(valid, path, longest))
    assert accepted.status in (200, 201), (accepted.status, accepted.body)


HUGE_NUMBER_FIELDS = [
    ("create transaction", "order.amount.total"),
    ("create transaction", "merchant.shopId"),
    ("create transaction", "merchant.serviceProviderId"),
    ("create pre-transaction", "order.amount.total"),
    ("create pre-transaction", "paymentMethod.captureTerm"),
    ("payer", "payer.amount.total"),
    ("execute", "amount.total"),
    ("execute", "payers.0.authorizations.0.amount.total"),
]


@pytest.mark.parametrize("operation, path", HUGE_NUMBER_FIELDS, ids=[f"{o}: {p}" for o, p in HUGE_NUMBER_FIELDS])
def test_an_integer_beyond_64_bits_is_a_bad_request(scene: Scene, operation: str, path: str) -> None:
    """Kit §6.2: amounts and ids are Java Longs; a number that does not fit one is BAD_REQUEST, not a crash."""
    for number in (2**63, -(2**63) - 1, 2**70, -(2**70), 10**400):
        body = with_value(scene.valid(operation), path, number)
        assert_bad_request(scene.post(operation, body), f"{path}={str(number)[:12]}")
    scene.assert_unchanged()


@pytest.mark.parametrize("operation", ["create transaction", "payer", "create pre-transaction"])
def test_a_body_over_256_kib_is_a_bad_request(scene: Scene, operation: str) -> None:
    """Kit §6.3: a body beyond the sandbox's 256 KiB limit answers a JSON BAD_REQUEST, not an HTML 413."""
    body = with_value(scene.valid(operation), "padding", "x" * (MAX_BODY + 1))
    path, fields = scene.posts()[operation]
    headers = {"Content-Type": "application/json",
               "ANCV-Security": seal.security_header(scene.kit.key_version, scene.kit.key, fields(body))}
    assert_bad_request(raw(scene.world, "POST", path, json.dumps(body), headers))
    scene.assert_unchanged()


# --- odd ids, unknown routes, wrong methods ----------------------------------------------------------

ODD_IDS = {
    "eleven characters": "abcdefghijk",
    "a thousand characters": "a" * 1000,
    "dot dot": "..",
    "encoded dot dot": "%2e%2e",
    "traversal to the control plane": "..%2F..%2F..%2F..%2F..%2F_sandbox%2Freset",
    "accented": "transacté",
    "emoji": "😀😀😀",
    "fullwidth": "ａｂｃ１２３",
    "superscript digit": "²",
    "ligature": "ﬀ",
    "NUL": "%00",
    "space": "%20",
    "semicolon": "abc;def",
    "uppercase": "ABCDEFGHIJ",
}


@pytest.mark.parametrize("odd", ODD_IDS.values(), ids=ODD_IDS.keys())
def test_an_odd_object_id_is_simply_not_found(scene: Scene, odd: str) -> None:
    """Kit §6.2.2.1 (ids are ≤10 lowercase alphanumerics), §6.3: odd ids answer 404, never 5xx."""
    world, kit = scene.world, scene.kit
    sealed_id = unquote(odd)  # the server seals the id as it reads it, after URL decoding
    calls = [
        ("GET", f"/payment-transactions/{odd}", [sealed_id], None, "TRANSACTION_NOT_FOUND"),
        ("POST", f"/payment-transactions/{odd}/cancellation", [sealed_id, "OTHER"], {"reason": "OTHER"},
         "TRANSACTION_NOT_FOUND"),
        ("POST", f"/payment-transactions/{odd}/execute", [sealed_id], {"amount": {"total": 1, "currency": "978"}},
         "TRANSACTION_NOT_FOUND"),
        ("GET", f"/pre-transactions/{odd}", [sealed_id], None, "PRE_TRANSACTION_NOT_FOUND"),
        ("GET", f"/pre-transactions/{odd}/qr-code", [sealed_id], None, "PRE_TRANSACTION_NOT_FOUND"),
        ("POST", f"/pre-transactions/{odd}/abort", [sealed_id, "ABORTED_MERCHANT"], {"reason": "ABORTED_MERCHANT"},
         "PRE_TRANSACTION_NOT_FOUND"),
    ]
    for method, path, fields, body, code in calls:
        reply = sealed(world, kit, method, path, fields, body)
        assert_kit_error(reply, 404, f"{method} {path}")
        assert reply.body["errorCode"] in (code, "NOT_FOUND"), (path, reply.body)
    scene.assert_unchanged()
    assert world.control.fixtures()["pointsOfSale"], "the fixtures are still there"


@pytest.mark.parametrize("shop", [
    "abc", "-1", "1.5", "1e5", "0x10", "99999999999999999999", " 1", "é", "１２３", "١٢٣",
    "²",
])
def test_an_odd_shop_id_in_the_path_is_refused_without_a_crash(scene: Scene, shop: str) -> None:
    """Kit §4.4.1.2: shopId is a Long; anything else is BAD_REQUEST or POINT_OF_SALE_NOT_FOUND, never 5xx."""
    reply = sealed(scene.world, scene.kit, "GET", f"/point-of-sales/{shop}", [shop])
    assert_kit_error(reply)
    assert reply.body["errorCode"] in ("BAD_REQUEST", "POINT_OF_SALE_NOT_FOUND", "INVALID_SEAL"), reply.body
    scene.assert_unchanged()


@pytest.mark.parametrize("provider", [
    "abc", "-5", "1.0", "99999999999999999999", "１２３",
    "²",
])
def test_an_odd_service_provider_id_in_the_query_is_refused_without_a_crash(scene: Scene, provider: str) -> None:
    """Kit §4.4.1.3: serviceProviderId is a Long; anything else is a 4xx Kit error, never 5xx."""
    world = scene.world
    kit = world.provider_kit()
    reply = world.transport("GET", f"{KIT_PATH}/point-of-sales/{kit.shop_id}", {
        "ANCV-Security": seal.security_header(kit.key_version, kit.key, [kit.shop_id, provider])},
        None, {"serviceProviderId": provider})
    assert_kit_error(reply)
    scene.assert_unchanged()


UNKNOWN_ROUTES = [
    "", "/", "/nope", "/payment-transaction", "/payment-transactions/abc/refund",
    "/payment-transactions/abc/payer/extra", "/pre-transactions/abc/qr-code/big", "/point-of-sales",
    "/point-of-sales/13235554/extra", "/beneficiaries/10001001576", "/v2/payment-transactions",
]


@pytest.mark.parametrize("route", UNKNOWN_ROUTES)
def test_an_unknown_route_under_the_kit_base_is_a_json_404(scene: Scene, route: str) -> None:
    """Kit §6.3 (SPEC §3): under the Kit's base path even an unknown route answers a JSON error body."""
    for method in ("GET", "POST", "PUT", "DELETE"):
        has_body = method in ("POST", "PUT")
        reply = raw(scene.world, method, route, "{}" if has_body else None,
                    {"Content-Type": "application/json"} if has_body else {})
        assert_kit_error(reply, 404, f"{method} {route}")
    scene.assert_unchanged()


WRONG_METHODS = {
    "/payment-transactions": ("GET", "PUT", "PATCH", "DELETE"),
    "/payment-transactions/{tx}": ("POST", "PUT", "PATCH", "DELETE"),
    "/payment-transactions/{tx}/payer": ("GET", "PUT", "DELETE"),
    "/payment-transactions/{auth}/execute": ("GET", "PUT", "DELETE"),
    "/payment-transactions/{auth}/cancellation": ("GET", "PUT", "DELETE"),
    "/point-of-sales/{shop}": ("POST", "PUT", "DELETE"),
    "/pre-transactions": ("GET", "PUT", "DELETE"),
    "/pre-transactions/{pre}": ("POST", "PUT", "PATCH", "DELETE"),
    "/pre-transactions/{pre}/qr-code": ("POST", "PUT", "DELETE"),
    "/pre-transactions/{pre}/contact": ("GET", "PUT", "DELETE"),
    "/pre-transactions/{pre}/abort": ("GET", "PUT", "DELETE"),
}


@pytest.mark.parametrize("route", WRONG_METHODS)
def test_a_wrong_method_is_a_json_405_that_changes_nothing(scene: Scene, route: str) -> None:
    """Kit §4.4–4.6: each operation has one method; another answers a JSON 405 and does nothing."""
    path = route.format(tx=scene.tx, auth=scene.authorized, pre=scene.pre, shop=scene.shop_id)
    for method in WRONG_METHODS[route]:
        body = {"reason": "OTHER"} if method in ("POST", "PUT", "PATCH") else None
        reply = sealed(scene.world, scene.kit, method, path, [path.rsplit("/", 1)[-1]], body)
        assert_kit_error(reply, 405, f"{method} {path}")
    scene.assert_unchanged()


def test_unicode_ids_in_a_body_are_kept_verbatim(world: Any) -> None:
    """Kit §6.2: order.id and paymentId are strings (UTF-8, Kit §4.1); any character round-trips."""
    kit = world.kit()
    reply = kit.create_transaction("panier-été-😀-東京", "paiement-ß", 4000, label="Séjour à l'Île-d'Oléron")
    assert reply.status == 201, reply.body
    order = kit.get_transaction(reply.body["transaction"]["id"]).body["transaction"]["order"]
    assert (order["id"], order["paymentId"], order["label"]) == \
        ("panier-été-😀-東京", "paiement-ß", "Séjour à l'Île-d'Oléron")


# --- bad input the sandbox does not survive (bugs) ----------------------------------------------------

@pytest.mark.parametrize("operation", ["create transaction", "payer", "create pre-transaction"])
def test_deeply_nested_json_is_a_bad_request(scene: Scene, operation: str) -> None:
    """Kit §6.3: 20 000 nested arrays (40 kB, under the size limit) are malformed input, not a crash."""
    path, _fields = scene.posts()[operation]
    body = "[" * 20_000 + "]" * 20_000
    headers = {"Content-Type": "application/json",
               "ANCV-Security": seal.security_header(scene.kit.key_version, scene.kit.key, [path])}
    assert_bad_request(raw(scene.world, "POST", path, body, headers))
    scene.assert_unchanged()


@pytest.mark.parametrize("operation, path", [
    ("create transaction", "order.id"), ("create pre-transaction", "order.id"),
    ("payer", "payer.beneficiaryId"), ("cancellation", "reason"), ("contact", "contact"),
    ("create transaction", "order.label"), ("create transaction", "applicationContext.returnContext"),
])
def test_a_lone_surrogate_in_a_string_is_a_bad_request(scene: Scene, operation: str, path: str) -> None:
    """Kit §4.1: bodies are UTF-8 text; a string that is no Unicode text is malformed input, not a crash."""
    body = with_value(scene.valid(operation), path, "ab\ud800cd")
    api_path, fields = scene.posts()[operation]
    try:
        header = seal.security_header(scene.kit.key_version, scene.kit.key, fields(body))
    except UnicodeEncodeError:  # a sealed field: no client can seal it, but any header makes the sandbox try
        header = f"HmacSHA256.{scene.kit.key_version}.AAAA"
    headers = {"Content-Type": "application/json", "ANCV-Security": header}
    assert_kit_error(raw(scene.world, "POST", api_path, json.dumps(body), headers))
    scene.assert_unchanged()


@pytest.mark.parametrize("operation, path, date", [
    ("create transaction", "requestDate", "9999-12-31T23:59:59-05:00"),
    ("create transaction", "paymentMethod.captureDate", "0001-01-01T00:00:00+05:00"),
    ("create pre-transaction", "expirationDate", "9999-12-31T23:30:00-01:00"),
    ("cancellation", "requestDate", "0001-01-01T00:30:00+01:00"),
])
def test_a_date_at_the_end_of_the_calendar_is_refused_without_a_crash(scene: Scene, operation: str, path: str,
                                                                     date: str) -> None:
    """Kit §6.2 (dates are ISO 8601 UTC): an out-of-range date is a 4xx, never a 5xx."""
    body = scene.valid(operation)
    if path == "paymentMethod.captureDate":
        body = with_value(body, "paymentMethod.captureMode", "DEFERRED")
    assert_kit_error(scene.post(operation, with_value(body, path, date)))
    scene.assert_unchanged()


def test_the_event_cursor_of_the_control_plane_refuses_odd_digits_without_a_crash(world: Any) -> None:
    """SPEC §9: `GET /_sandbox/events?after=` takes a sequence number; anything else is a 400."""
    response = world.transport.client.get("/_sandbox/events?after=²")
    assert response.status_code == 400, response.get_data()


# --- generated bodies ------------------------------------------------------------------------------

JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from([0, -1, 1, 2**63 - 1, 2**63, "", "978", "001", "002", "NORMAL", "DEFERRED", "o" * 65]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                 timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]),
                 ).map(lambda moment: moment.isoformat()),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_MISSING = object()


def perturbed(data: st.DataObject, value: Any) -> Any:
    """`value` with, at every node, a chance of being dropped, replaced by random JSON, or added to."""
    action = data.draw(st.integers(min_value=0, max_value=11))
    if action == 0:
        return _MISSING
    if action == 1:
        return data.draw(JSON_VALUES)
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            new = perturbed(data, item)
            if new is not _MISSING:
                result[key] = new
        if data.draw(st.integers(min_value=0, max_value=9)) == 0:
            result[data.draw(st.text(max_size=12))] = data.draw(JSON_VALUES)
        return result
    return value


def check_generated_bodies(world: Any, post: Callable[[Any], Reply], template: Callable[[], dict[str, Any]],
                           envelope: str) -> list[int]:
    statuses: list[int] = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        body = perturbed(data, template()) if data.draw(st.integers(0, 4)) else data.draw(JSON_VALUES)
        if body is _MISSING:
            body = {}
        seq = last_seq(world)
        reply = post(body)
        statuses.append(reply.status)
        assert reply.status < 500, (reply.status, reply.body, body)
        if reply.status >= 400:
            assert_kit_error(reply)
            assert payment_events_since(world, seq) == [], body
        else:
            assert reply.status in (200, 201), (reply.status, reply.body)
            assert set(reply.body) >= {envelope, "responseDate"}, reply.body

    check()
    return statuses


def test_generated_creation_bodies_never_crash_the_transaction_api(world: Any) -> None:
    """Kit §4.5.1, §6.3: whatever JSON arrives (sealed from what it holds), the answer is a Kit answer, not 5xx."""
    kit = world.kit()

    def template() -> dict[str, Any]:
        return {
            "merchant": {"shopId": kit.shop_id, "shopAssistantId": "caisse-1"},
            "order": {"id": "gen", "paymentId": "1", "label": "Séjour",
                      "amount": {"total": 4000, "currency": "978"}},
            "paymentMethod": {"captureMode": "DEFERRED", "tspdMode": "001", "captureDate": world.later(days=2)},
            "redirectUrls": {"returnUrl": "http://127.0.0.1:9/ok", "cancelUrl": "http://127.0.0.1:9/ko"},
            "applicationContext": {"returnContext": "ctx", "customerId": "client01"},
            "requestDate": world.later(seconds=0),
        }

    statuses = check_generated_bodies(world, kit.post_create_transaction, template, "transaction")
    assert 400 in statuses and (201 in statuses or 200 in statuses), sorted(set(statuses))


def test_generated_creation_bodies_never_crash_the_pre_transaction_api(world: Any) -> None:
    """Kit §4.6.1, §6.3: whatever JSON arrives (sealed from what it holds), the answer is a Kit answer, not 5xx."""
    kit = world.kit()

    def template() -> dict[str, Any]:
        return {
            "merchant": {"shopId": kit.shop_id, "terminalId": "tpe-1"},
            "order": {"id": "gen", "prePaymentId": "1", "label": "Séjour",
                      "amount": {"total": 4000, "currency": "978"}},
            "paymentMethod": {"captureMode": "DEFERRED", "tspdMode": "002", "captureTerm": 3},
            "redirectUrls": {"returnUrl": "http://127.0.0.1:9/ok", "cancelUrl": "http://127.0.0.1:9/ko"},
            "expirationDate": world.later(days=1),
            "applicationContext": {"customerId": "client01"},
        }

    statuses = check_generated_bodies(world, kit.post_create_pre_transaction, template, "preTransaction")
    assert 400 in statuses and (201 in statuses or 200 in statuses), sorted(set(statuses))
