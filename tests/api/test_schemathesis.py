"""Schemathesis against the sandbox's two OpenAPI documents, in process through the Flask app (WSGI).

Scenario: every operation of `kit-api.yaml` and `control.yaml` receives requests generated from the
document, valid ones and invalid ones; the Kit API is fuzzed twice, once sealed with a fixture shop's
key so that the requests reach the business rules, once without a valid seal; then a stateful phase
follows the documents' links (create → payer / read / execute / cancel, request → QR code / read /
contact / abort) with every step sealed.
Covers: issue 7 item 4 ("Schemathesis against the OpenAPI documents … including stateful links …
zero 5xx, zero leaks").

Checks on every answer: not a server error, a documented status, the documented media type, a body
that matches the documented schema, and no leak (no traceback, no file path, and on the Kit API no
sealing key). Bounded for CI (EXAMPLES_PER_OPERATION); the `slow` variants dig deeper.

How a generated request reaches the business rules (`steer`, schema hooks on the generated data):
a generated `merchant.shopId` becomes the fixture shop's (the only shop whose key the seal uses),
half the generated dates become dates the rules accept, and half the generated object ids and
beneficiaries become ones the sandbox holds. Invalid values (wrong types, …) are left as generated.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox.domain import seal
from sandbox.domain.dates import format_date
from tests.api.test_openapi_documents import KIT_OPERATIONS, load, operations

KIT_DOCUMENT = "/openapi/kit-api.json"
CONTROL_DOCUMENT = "/openapi/control.json"
EXAMPLES_PER_OPERATION = 20
UNSEALED_EXAMPLES_PER_OPERATION = 10  # one simple property: refused before anything
DEEP_EXAMPLES_PER_OPERATION = 300
STATEFUL_SCENARIOS = 40
DEEP_STATEFUL_SCENARIOS = 400
STATEFUL_STEPS = 10
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}
CONTROL_OPERATIONS = {operation["operationId"]: (method, path)
                      for method, path, operation in operations(load("control.yaml"))}


def control_cases() -> list[tuple[str, str]]:
    """(operationId, mode) of the control plane; an operation without parameters or body has nothing an
    invalid request could get wrong, so it takes valid requests only."""
    cases = []
    for _method, path, operation in operations(load("control.yaml")):
        takes_input = operation.get("parameters") or operation.get("requestBody") or "{" in path
        cases += [(operation["operationId"], mode) for mode in MODES if mode == "valid" or takes_input]
    return cases


CONTROL_CASES = control_cases()
REPOSITORY = str(Path(__file__).resolve().parents[2])
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages", REPOSITORY, "sqlalchemy.",
                "werkzeug.", "Werkzeug Debugger")
SEAL_REFUSALS = {(400, "BAD_REQUEST"), (403, "INVALID_SEAL")}


# --- sealing ------------------------------------------------------------------------------------

def sealed_fields(case: Any) -> list[Any]:
    """The fields the operation seals (Kit §5.3), taken from the generated request as it will be sent."""
    path = case.path_parameters or {}
    body = case.body
    identifier = path.get("id")
    return {
        "getPointOfSale": lambda: seal.point_of_sale_fields(path.get("shopId"),
                                                            (case.query or {}).get("serviceProviderId")),
        "createPaymentTransaction": lambda: seal.create_transaction_fields(body),
        "setPayer": lambda: seal.payer_fields(identifier, body),
        "getPaymentTransaction": lambda: seal.transaction_id_fields(identifier),
        "executePaymentTransaction": lambda: seal.transaction_id_fields(identifier),
        "cancelPaymentTransaction": lambda: seal.cancellation_fields(identifier, body),
        "createPreTransaction": lambda: seal.create_pre_transaction_fields(body),
        "getPreTransactionQrCode": lambda: seal.pre_transaction_id_fields(identifier),
        "getPreTransaction": lambda: seal.pre_transaction_id_fields(identifier),
        "contactPreTransaction": lambda: seal.contact_fields(identifier, body),
        "abortPreTransaction": lambda: seal.abort_fields(identifier, body),
    }[operation_id(case.operation)]()


def operation_id(operation: Any) -> str:
    return str(operation.definition.raw["operationId"])


def sealing_as(shop: dict[str, Any]) -> type:
    """A Schemathesis auth provider: the `ANCV-Security` header of `shop`, computed over each request."""

    class ShopSeal:
        def get(self, case: Any, context: Any) -> dict[str, Any]:
            return shop

        def set(self, case: Any, credentials: dict[str, Any], context: Any) -> None:
            try:
                header = seal.security_header(credentials["keyVersion"], credentials["key"], sealed_fields(case))
            except UnicodeEncodeError:  # a lone surrogate in a sealed field: no client can seal it
                header = f"{seal.ALGORITHM}.{credentials['keyVersion']}.AAAA"
            case.headers = {**dict(case.headers or {}), "ANCV-Security": header}

    return ShopSeal


# --- steering generated data towards the sandbox's objects -----------------------------------------

def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def steer(schema: Any, world: Any, ids: dict[str, list[str]] | None = None) -> None:
    """Schema hooks: the fixture shop as merchant, and half the time dates, ids and beneficiaries it knows."""
    shop_id = world.shop()["shopId"]
    beneficiaries = [b["beneficiaryId"] for b in world.fixtures["beneficiaries"]]
    ids = ids or {}

    def flatmap_body(context: Any, body: Any) -> Any:
        if not isinstance(body, dict):
            return st.just(body)
        body = dict(body)
        merchant = body.get("merchant")
        if isinstance(merchant, dict) and is_integer(merchant.get("shopId")):
            body["merchant"] = {k: v for k, v in merchant.items() if k != "serviceProviderId"} | {"shopId": shop_id}
        now = world.sandbox.clock.now()
        choices: dict[str, st.SearchStrategy[Any]] = {}
        if isinstance(body.get("expirationDate"), str):
            choices["expirationDate"] = st.integers(1, 30 * 24 * 60).map(lambda m: format_date(now + timedelta(minutes=m)))
        method = body.get("paymentMethod")
        if isinstance(method, dict) and isinstance(method.get("captureDate"), str):
            choices["captureDate"] = st.integers(1, 6 * 24 * 60).map(lambda m: format_date(now + timedelta(minutes=m)))
        for holder in (body, body.get("payer")):
            if isinstance(holder, dict) and isinstance(holder.get("beneficiaryId"), str | int):
                choices["beneficiaryId"] = st.sampled_from(beneficiaries)
        if not choices:
            return st.just(body)
        return st.fixed_dictionaries({name: st.none() | strategy for name, strategy in choices.items()}).map(
            lambda drawn: _replace(body, drawn))

    def flatmap_path_parameters(context: Any, parameters: Any) -> Any:
        known = ids.get(context.operation.path, [])
        if not known or not isinstance(parameters, dict) or not isinstance(parameters.get("id"), str):
            return st.just(parameters)
        return st.one_of(st.just(parameters), st.sampled_from(known).map(lambda i: {**parameters, "id": i}))

    schema.hook("flatmap_body")(flatmap_body)
    schema.hook("flatmap_path_parameters")(flatmap_path_parameters)


def _replace(body: dict[str, Any], drawn: dict[str, Any]) -> dict[str, Any]:
    """`body` with the drawn values (None: keep the generated one) where they belong."""
    body = dict(body)
    for name, value in drawn.items():
        if value is None:
            continue
        if name == "captureDate":
            body["paymentMethod"] = {**body["paymentMethod"], "captureDate": value}
        elif name == "beneficiaryId" and isinstance(body.get("payer"), dict):
            body["payer"] = {**body["payer"], "beneficiaryId": value}
        else:
            body[name] = value
    return body


# --- checks -----------------------------------------------------------------------------------------

def no_leak_of(secrets: list[str]) -> Any:
    """A check: no traceback, no file path, none of `secrets`, in the body or the headers."""

    def no_leak(ctx: Any, response: Any, case: Any) -> None:
        text = response.content.decode("utf-8", "replace") + " " + repr(dict(response.headers))
        found = [marker for marker in (*LEAK_MARKERS, *secrets) if marker in text]
        assert not found, f"the answer leaks {found}"

    return no_leak


def sealing_keys(world: Any) -> list[str]:
    return [holder["key"] for group in ("pointsOfSale", "serviceProviders") for holder in world.fixtures[group]]


def kit_schema(world: Any, sealed: bool = True, ids: dict[str, list[str]] | None = None) -> Any:
    """The Kit document loaded from the app; sealed: with the fixture shop's seal and the steering hooks.

    Links are the document's own: Schemathesis's inferred ones would make `abort` (a POST fed by a
    link) the only entry of the stateful phase, never creating anything."""
    config = schemathesis.Config.from_dict({"phases": {"stateful": {"inference": {"algorithms": []}}}})
    schema = schemathesis.openapi.from_wsgi(KIT_DOCUMENT, world.app, config=config)
    if sealed:
        schema.auth(refresh_interval=None)(sealing_as(world.shop()))
        steer(schema, world, ids)
    return schema


def known_ids(world: Any) -> dict[str, list[str]]:
    """A transaction waiting for a payer, one authorized (deferred) and a payment request, by path."""
    kit = world.kit()
    fresh = kit.create_transaction("schemathesis-new", "1", 4000).body["transaction"]["id"]
    authorized = world.paid_transaction(kit=kit, capture_mode="DEFERRED", capture_date=world.later(days=2))["id"]
    request = kit.create_pre_transaction("schemathesis-request", 4000, world.later(hours=2)).body["preTransaction"]["id"]
    transactions, requests = [fresh, authorized], [request]
    return {path: (requests if path.startswith("/pre-transactions") else transactions)
            for path in {p for _m, p in KIT_OPERATIONS.values()} if "{id}" in path}


def run_operation(operation: Any, mode: GenerationMode, examples: int, check: Any) -> None:
    """`check(case)` on `examples` requests generated for `operation` (deterministic, no database)."""
    from hypothesis import given

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def generated(case: Any) -> None:
        check(case)

    generated()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def error_code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("errorCode") if isinstance(body, dict) else None


# --- the Kit API ----------------------------------------------------------------------------------

def sealed_examples() -> list[Any]:
    return [EXAMPLES_PER_OPERATION, pytest.param(DEEP_EXAMPLES_PER_OPERATION, marks=pytest.mark.slow, id="deep")]


@pytest.mark.parametrize("examples", sealed_examples())
@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
@pytest.mark.parametrize("operation_name", KIT_OPERATIONS)
def test_generated_sealed_kit_requests_get_documented_answers(world: Any, operation_name: str,
                                                              mode: GenerationMode, examples: int) -> None:
    """Kit §4.4–4.6, §6.3: sealed with a fixture shop's key, whatever the request, a documented answer, no 5xx."""
    ids = known_ids(world)
    schema = kit_schema(world, ids=ids)
    method, path = KIT_OPERATIONS[operation_name]
    no_leak = no_leak_of(sealing_keys(world))
    answers: Counter[tuple[int, str | None]] = Counter()

    def check(case: Any) -> None:
        response = case.call_and_validate(checks=CHECKS, additional_checks=[no_leak])
        answers[(response.status_code, error_code(response))] += 1

    run_operation(schema[path][method.upper()], mode, examples, check)
    if mode is GenerationMode.POSITIVE:  # the seal hook works: some requests get past shape and seal
        assert any(status < 400 or code not in ("BAD_REQUEST", "INVALID_SEAL") for status, code in answers), answers


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
@pytest.mark.parametrize("operation_name", KIT_OPERATIONS)
def test_generated_kit_requests_without_a_valid_seal_are_refused_and_change_nothing(
        world: Any, operation_name: str, mode: GenerationMode) -> None:
    """Kit §5.3, §6.3: with a generated (or no) ANCV-Security header, BAD_REQUEST or INVALID_SEAL, never more."""
    ids = known_ids(world)
    schema = kit_schema(world, sealed=False)
    steer(schema, world, ids)  # the sandbox's own objects: still not reachable without the seal
    method, path = KIT_OPERATIONS[operation_name]
    no_leak = no_leak_of(sealing_keys(world))
    before = [e["seq"] for e in world.control.events()][-1]

    def check(case: Any) -> None:
        response = case.call_and_validate(checks=CHECKS, additional_checks=[no_leak])
        answer = (response.status_code, error_code(response))
        assert answer in SEAL_REFUSALS, (answer, case.headers)

    run_operation(schema[path][method.upper()], mode, UNSEALED_EXAMPLES_PER_OPERATION, check)
    changed = [e["type"] for e in world.control.events(after=before)
               if e["type"].startswith(("Transaction", "PreTransaction"))]
    assert changed == []


@pytest.mark.parametrize("scenarios", [STATEFUL_SCENARIOS,
                                       pytest.param(DEEP_STATEFUL_SCENARIOS, marks=pytest.mark.slow, id="deep")])
def test_stateful_scenarios_follow_the_kit_links_with_sealed_calls(world: Any, scenarios: int) -> None:
    """Kit §4.5–4.6: create → payer / read / execute / cancel and request → QR code / read / contact / abort,
    chained through the document's links, every step sealed, every answer documented, no 5xx."""
    schema = kit_schema(world)
    no_leak = no_leak_of(sealing_keys(world))
    reached: Counter[str] = Counter()

    class KitScenarios(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            world.control.reset()  # each scenario from the same seeded world: answers replay identically

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            if response.status_code < 300:
                reached[operation_id(case.operation)] += 1
            case.validate_response(response, checks=CHECKS, additional_checks=[no_leak])

    KitScenarios.run(settings=settings(max_examples=scenarios, stateful_step_count=STATEFUL_STEPS, deadline=None,
                                       derandomize=True, database=None, suppress_health_check=list(HealthCheck)))
    print(dict(reached))
    assert {"createPaymentTransaction", "createPreTransaction"} <= set(reached), reached
    assert {"getPaymentTransaction", "setPayer", "cancelPaymentTransaction"} & set(reached), reached
    assert {"getPreTransaction", "getPreTransactionQrCode", "contactPreTransaction", "abortPreTransaction"} \
        & set(reached), reached


# --- the control plane ------------------------------------------------------------------------------

def control_schema(world: Any, campaign: dict[str, Any] | None = None) -> Any:
    """The control document; half the generated path ids and holders are ones the sandbox knows, and with
    `campaign` (an acceptance campaign) its id, its cases and a transaction of its partial payment case."""
    schema = schemathesis.openapi.from_wsgi(CONTROL_DOCUMENT, world.app)
    known: dict[str, list[Any]] = {
        "beneficiaryId": [b["beneficiaryId"] for b in world.fixtures["beneficiaries"]],
        "username": [str(p["shopId"]) for p in world.fixtures["pointsOfSale"]],
    }
    holders = [world.shop()["shopId"], world.provider["serviceProviderId"]]
    transactions: list[str] = []
    if campaign is not None:
        known["campaignId"] = [campaign["id"]]
        known["caseId"] = [case["id"] for case in campaign["cases"]]
        partial = next(c for c in campaign["cases"] if c["id"] == "partial-payment")["identifiers"]["shopId"]
        transactions.append(world.kit().create_transaction("schemathesis-recette", "1", 4000,
                                                           shop_id=partial).body["transaction"]["id"])

    def flatmap_path_parameters(context: Any, parameters: Any) -> Any:
        if not isinstance(parameters, dict):
            return st.just(parameters)
        drawn = {name: st.none() | st.sampled_from(values) for name, values in known.items()
                 if values and isinstance(parameters.get(name), str)}
        return st.fixed_dictionaries(drawn).map(
            lambda values: {**parameters, **{n: v for n, v in values.items() if v is not None}})

    def flatmap_body(context: Any, body: Any) -> Any:
        holder = body.get("holder") if isinstance(body, dict) else None
        if isinstance(holder, dict) and is_integer(holder.get("id")):
            return st.one_of(st.just(body), st.sampled_from(holders).map(
                lambda i: {**body, "holder": {**holder, "id": i}}))
        if transactions and isinstance(body, dict) and isinstance(body.get("transactionId"), str):
            return st.one_of(st.just(body), st.just({**body, "transactionId": transactions[0]}))
        return st.just(body)

    schema.hook("flatmap_path_parameters")(flatmap_path_parameters)
    schema.hook("flatmap_body")(flatmap_body)
    return schema


@pytest.mark.parametrize("examples", sealed_examples())
@pytest.mark.parametrize("operation_name, mode", CONTROL_CASES, ids=[f"{n}-{m}" for n, m in CONTROL_CASES])
def test_generated_control_plane_requests_get_documented_answers(world: Any, operation_name: str, mode: str,
                                                                 examples: int) -> None:
    """SPEC §9: whatever the request to `/_sandbox`, a documented answer, no 5xx, no traceback."""
    method, path = CONTROL_OPERATIONS[operation_name]
    campaign = (world.control.start_recette("shop", world.shop()["shopId"], ["partial-payment", "immediate-payment"])
                if path.startswith("/recette/") else None)
    schema = control_schema(world, campaign)
    no_leak = no_leak_of([])

    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, additional_checks=[no_leak])

    run_operation(schema[path][method.upper()], MODES[mode], examples, check)
