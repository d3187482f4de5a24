"""The OpenAPI documents the sandbox publishes: valid OpenAPI 3.1, and faithful to the Kit.

`kit-api.yaml` must describe exactly the Kit's eleven operations and every error code of
the Kit's error table (§6.3); `control.yaml` must describe the fixed control plane (SPEC §9).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "sandbox" / "web" / "openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

KIT_OPERATIONS = {
    "getPointOfSale": ("get", "/point-of-sales/{shopId}"),
    "createPaymentTransaction": ("post", "/payment-transactions"),
    "setPayer": ("post", "/payment-transactions/{id}/payer"),
    "getPaymentTransaction": ("get", "/payment-transactions/{id}"),
    "executePaymentTransaction": ("post", "/payment-transactions/{id}/execute"),
    "cancelPaymentTransaction": ("post", "/payment-transactions/{id}/cancellation"),
    "createPreTransaction": ("post", "/pre-transactions"),
    "getPreTransactionQrCode": ("get", "/pre-transactions/{id}/qr-code"),
    "getPreTransaction": ("get", "/pre-transactions/{id}"),
    "contactPreTransaction": ("post", "/pre-transactions/{id}/contact"),
    "abortPreTransaction": ("post", "/pre-transactions/{id}/abort"),
}

# Kit §6.3, in the Kit's order: HTTP status, errorCode, errorMessage (wire values, verbatim).
KIT_ERROR_TABLE = [
    (400, "BAD_REQUEST", "Bad request"),
    (403, "INVALID_SEAL", "The seal is invalid"),
    (403, "MERCHANT_NOT_ALLOWED", "The merchant is not allowed"),
    (403, "OPERATION_TRANSACTION_NOT_ALLOWED", "The operation on transaction is not allowed"),
    (403, "OPERATION_PRE_TRANSACTION_NOT_ALLOWED", "The operation on pre-transaction amount is not allowed"),
    (403, "INSUFFICIENT_BALANCE", "The balance is insufficient"),
    (403, "NO_TA_TRANSACTION_PENDING", "No TA transaction is pending for this authorization"),
    (403, "TRANSACTION_NOT_VALIDATED_ON_TA_SIDE", "Transaction was not validated on TA side"),
    (403, "TRANSACTION_VALIDATED_ON_TA_SIDE", "Transaction was already validated on TA side"),
    (404, "TRANSACTION_NOT_FOUND", "The transaction was not found"),
    (404, "BENEFICIARY_NOT_FOUND", "The beneficiary was not found"),
    (404, "PRE_TRANSACTION_NOT_FOUND", "The pre-transaction was not found"),
    (404, "POINT_OF_SALE_NOT_FOUND", "The shopID is not recognized as a known point of sale"),
    (406, "Not Acceptable detail", "Could not find acceptable representation"),
    (409, "OTHER_TRANSACTION_PENDING", "Another transaction is pending"),
    (412, "INVALID_TRANSACTION_AMOUNT", "The transaction amount is invalid"),
    (412, "INVALID_TRANSACTION_CURRENCY", "The transaction currency is invalid"),
    (412, "INVALID_PAYER_AMOUNT", "The payer amount is invalid"),
    (412, "INVALID_TSPD_MODE", "The TSPD mode amount is invalid"),
    (412, "MISSING_CAPTURE_DATE", "The capture date is mandatory for deferred capture mode"),
    (412, "INVALID_CAPTURE_DATE", "The capture date is invalid"),
    (412, "MISSING_CAPTURE_TERM", "The capture term is mandatory for deferred capture mode"),
    (412, "INVALID_CAPTURE_TERM", "The capture term is invalid"),
    (412, "INVALID_EXPIRATION_DATE", "The expiration date is invalid"),
    (412, "TRANSACTION_EXPIRED", "The transaction has expired"),
    (412, "PRE_TRANSACTION_EXPIRED", "The pre-transaction has expired"),
    (412, "INVALID_PRE_TRANSACTION_AMOUNT", "The pre-transaction amount is invalid"),
    (412, "INVALID_PRE_TRANSACTION_CURRENCY", "The pre-transaction currency is invalid"),
    (412, "VALIDATION_DEADLINE_EXCEEDED", "The validation deadline has been exceeded"),
    (412, "INVALID_PAYERS_AUTHORIZATIONS", "Payers’ authorizations are invalid"),
    (412, "NO_ACTIVE_DEVICE", "The beneficiary has no active devices"),
    (500, "INTERNAL_SERVER_ERROR", "internal server error"),
    (502, "TA_COMMUNICATION_ERROR", "Failed to communicate with TA"),
]
# Codes of the complementary card payment (not imitated) and server faults: in the catalogue,
# but no operation lists them as an expected answer.
NOT_LISTED_BY_OPERATIONS = {
    "NO_TA_TRANSACTION_PENDING", "TRANSACTION_NOT_VALIDATED_ON_TA_SIDE", "TRANSACTION_VALIDATED_ON_TA_SIDE",
    "INTERNAL_SERVER_ERROR", "TA_COMMUNICATION_ERROR",
}

CONTROL_CALLS = {
    ("get", "/health"), ("post", "/reset"), ("get", "/fixtures"), ("get", "/clock"),
    ("post", "/clock/advance"), ("post", "/beneficiaries/{beneficiaryId}/act"),
    ("put", "/beneficiaries/{beneficiaryId}/behaviour"), ("get", "/webhooks"), ("get", "/emails"),
    ("get", "/events"),
    # sandbox additions
    ("post", "/beneficiaries/{beneficiaryId}/unblock"), ("get", "/settings"), ("patch", "/settings"),
    ("post", "/population"), ("get", "/journals"), ("get", "/journals/{name}"), ("get", "/sftp"), ("get", "/sftp/log"),
    ("put", "/sftp/accounts/{username}/keys"),
    # issue 15, item 2: the request journal
    ("get", "/requests"), ("delete", "/requests"), ("get", "/requests/{requestId}"),
    # issue 15, item 1: HTTPS with `serve --tls`
    ("get", "/tls/ca.pem"), ("post", "/tls/certificates"),
    # issue 15, item 3: network faults and webhook resends
    ("post", "/faults"), ("get", "/faults"), ("delete", "/faults"), ("delete", "/faults/{faultId}"),
    ("post", "/webhooks/{deliveryId}/resend"),
    # issue 17: the acceptance campaign (cahier de recette)
    ("post", "/recette"), ("get", "/recette"), ("get", "/recette/{campaignId}"),
    ("get", "/recette/{campaignId}/report.json"), ("get", "/recette/{campaignId}/report"),
    ("get", "/recette/{campaignId}/report.xml"), ("post", "/recette/{campaignId}/end"),
    ("post", "/recette/{campaignId}/cases/{caseId}/declaration"),
}


def load(name: str) -> dict[str, Any]:
    with (OPENAPI_DIR / name).open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/components/...`) until a real object."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def error_examples(document: dict[str, Any]) -> set[tuple[int, str, str]]:
    """Every (status, errorCode, errorMessage) an operation lists among its error answers."""
    found = set()
    for _method, _path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.isdigit() or int(status) < 400:
                continue
            for media in resolve(document, response).get("content", {}).values():
                examples = [resolve(document, e)["value"] for e in media.get("examples", {}).values()]
                if "example" in media:
                    examples.append(media["example"])
                found |= {(int(status), e["errorCode"], e["errorMessage"]) for e in examples}
    return found


@pytest.mark.parametrize("name", ["kit-api.yaml", "control.yaml"])
def test_document_is_valid_openapi_3_1(name: str) -> None:
    document = load(name)
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_kit_api_has_exactly_the_eleven_kit_operations() -> None:
    document = load("kit-api.yaml")
    found = {operation["operationId"]: (method, path) for method, path, operation in operations(document)}
    assert len(operations(document)) == 11
    assert found == KIT_OPERATIONS
    assert document["servers"][0]["url"] == "/acquisition/api/public/v1"


def test_kit_api_names_every_error_code_of_the_kit_table() -> None:
    document = load("kit-api.yaml")
    catalogue = set(document["components"]["schemas"]["ErrorCode"]["enum"])
    missing = [code for _status, code, _message in KIT_ERROR_TABLE if code not in catalogue]
    assert not missing, f"error codes of Kit §6.3 missing from kit-api.yaml: {missing}"


def test_kit_api_operations_list_each_expected_error_with_its_status_and_message() -> None:
    listed = error_examples(load("kit-api.yaml"))
    expected = {entry for entry in KIT_ERROR_TABLE if entry[1] not in NOT_LISTED_BY_OPERATIONS}
    assert expected - listed == set()
    assert {code for _status, code, _message in listed} <= {code for _status, code, _message in KIT_ERROR_TABLE}


def test_every_kit_operation_is_sealed_and_says_which_fields_enter_the_seal() -> None:
    document = load("kit-api.yaml")
    scheme = document["components"]["securitySchemes"]["ancvSeal"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "ANCV-Security")
    assert document["security"] == [{"ancvSeal": []}]
    for _method, _path, operation in operations(document):
        assert "security" not in operation, operation["operationId"]
        assert "Sealed fields, in order" in operation["description"], operation["operationId"]
        assert operation["x-seal-fields"], operation["operationId"]


def test_kit_api_documents_the_three_webhooks() -> None:
    assert set(load("kit-api.yaml")["webhooks"]) == {"transactionAuthorized", "transactionFailed", "preTransactionEnded"}


def test_control_document_has_exactly_the_control_plane_calls() -> None:
    document = load("control.yaml")
    assert document["servers"][0]["url"] == "/_sandbox"
    assert {(method, path) for method, path, _operation in operations(document)} == CONTROL_CALLS


def test_control_document_names_every_case_of_the_acceptance_catalogue() -> None:
    """The `cases` a campaign may name are the catalogue's (domain/recette.py), in its order."""
    from sandbox.domain.recette import CATALOGUE

    schema = load("control.yaml")["components"]["schemas"]["RecetteRequest"]
    assert schema["properties"]["cases"]["items"]["enum"] == [case.case_id for case in CATALOGUE]
