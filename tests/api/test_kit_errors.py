"""Every error of the Kit's table (Kit §6.3) that the sandbox can produce, one scenario at a time.

Each test provokes one error through the Kit API, asserts the HTTP status, the `errorCode`
and the exact English `errorMessage` of Kit §6.3, and checks that the refused call changed
nothing: the objects it names read the same afterwards, no balance moved and no
Transaction*/PreTransaction*/Beneficiary* event was recorded.

`@produces(...)` declares the codes a test provokes and, when the test runs, checks that
each of them was really answered; the last test uses those declarations to prove that
every code of `sandbox.domain.errors.catalogue()` the sandbox can produce is covered here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from sandbox.client import KIT_PATH, KitClient, Reply, shop_client
from sandbox.domain import errors, seal
from sandbox.domain.ids import luhn_check_digit
from sandbox.services.behaviours import wrong_pin
from tests.kit_table import KIT_TABLE

# They concern the bank-card complement ("TA"), which the sandbox does not simulate, or a failure.
NEVER_PRODUCED = {
    "NO_TA_TRANSACTION_PENDING", "TRANSACTION_NOT_VALIDATED_ON_TA_SIDE", "TRANSACTION_VALIDATED_ON_TA_SIDE",
    "INTERNAL_SERVER_ERROR", "TA_COMMUNICATION_ERROR",
}

WATCHED_EVENTS = ("Transaction", "PreTransaction", "Beneficiary")
UNKNOWN_ID = "zzzzzzzzzz"  # well formed (10 lowercase alphanumerics), never issued with seed 42


# --- which test produces which code -------------------------------------------------------------

DECLARED: dict[str, frozenset[str]] = {}
_answered: list[str] = []


def produces(*kinds: type[errors.KitError]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare the Kit errors a test provokes; the test fails unless it really got each of them."""
    codes = frozenset(kind.code for kind in kinds)

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        DECLARED[test.__name__] = codes

        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> None:
            _answered.clear()
            test(*args, **kwargs)
            missing = codes - set(_answered)
            assert not missing, f"declared but never answered: {sorted(missing)}"

        return run

    return decorate


def assert_error(reply: Reply, kind: type[errors.KitError]) -> None:
    """The reply is exactly the Kit §6.3 row of `kind`: status, errorCode, English errorMessage."""
    status, message = KIT_TABLE[kind.code]
    detail = reply.headers.get("X-Sandbox-Detail")
    assert reply.status == status, (reply.status, reply.body, detail)
    assert reply.headers.get("Content-Type", "").startswith("application/json")
    assert reply.body == {"errorCode": kind.code, "errorMessage": message}, (reply.body, detail)
    _answered.append(kind.code)


# --- helpers -------------------------------------------------------------------------------------

def send(world: Any, method: str, path: str, body: Any = None, header: str | None = None,
         **headers: str) -> Reply:
    """A raw Kit call: any body, any ANCV-Security header (or none)."""
    sent = dict(headers)
    if header is not None:
        sent["ANCV-Security"] = header
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    return world.transport(method, KIT_PATH + path, sent, body)


def last_seq(world: Any) -> int:
    events = world.control.events()
    return events[-1]["seq"] if events else 0


def watched_events_since(world: Any, seq: int) -> list[str]:
    return [e["type"] for e in world.control.events(after=seq) if e["type"].startswith(WATCHED_EVENTS)]


@contextmanager
def unchanged(world: Any, kit: KitClient | None = None, *, tx: tuple[str, ...] = (),
              pre: tuple[str, ...] = ()) -> Iterator[None]:
    """The block changes nothing: these objects, every balance, no payment event."""
    kit = kit or world.kit()

    def snapshot() -> Any:
        return ({t: kit.get_transaction(t).body["transaction"] for t in tx},
                {p: kit.get_pre_transaction(p).body["preTransaction"] for p in pre},
                {b["beneficiaryId"]: b["balance"] for b in world.control.fixtures()["beneficiaries"]})

    before = snapshot()
    seq = last_seq(world)
    yield
    assert watched_events_since(world, seq) == []
    assert snapshot() == before


def valid_transaction_body(kit: KitClient, order_id: str = "order-1", amount: int = 4000,
                           **method: Any) -> dict[str, Any]:
    return {
        "merchant": {"shopId": kit.shop_id},
        "order": {"id": order_id, "paymentId": "1", "amount": {"total": amount, "currency": "978"}},
        "paymentMethod": {"captureMode": "NORMAL", "tspdMode": "001", **method},
    }


def new_transaction(world: Any, kit: KitClient | None = None, amount: int = 4000, **create: Any) -> str:
    kit = kit or world.kit()
    reply = kit.create_transaction(f"order-{last_seq(world)}", "1", amount, **create)
    assert reply.status == 201, reply.body
    return reply.body["transaction"]["id"]


def new_pre_transaction(world: Any, kit: KitClient | None = None, amount: int = 4000, **create: Any) -> str:
    kit = kit or world.kit()
    create.setdefault("expiration_date", world.later(hours=1))
    reply = kit.create_pre_transaction(f"request-{last_seq(world)}", amount, **create)
    assert reply.status == 201, reply.body
    return reply.body["preTransaction"]["id"]


def deferred_authorized(world: Any, amount: int = 4000) -> dict[str, Any]:
    tx = world.paid_transaction(amount=amount, capture_mode="DEFERRED", capture_date=world.later(days=2))
    assert tx["state"] == "AUTHORIZED", tx
    return tx


def unknown_beneficiary_number() -> str:
    payload = "1999999999"
    return payload + luhn_check_digit(payload)


# --- 400 BAD_REQUEST -----------------------------------------------------------------------------

@produces(errors.BadRequest)
def test_a_creation_body_without_its_payment_method_is_a_bad_request(world: Any) -> None:
    """Kit §6.3, §4.5.1.3: `paymentMethod` is mandatory; without it the request is malformed."""
    kit = world.kit()
    body = valid_transaction_body(kit)
    del body["paymentMethod"]
    with unchanged(world):
        assert_error(kit.post_create_transaction(body), errors.BadRequest)


@produces(errors.BadRequest)
def test_a_cancellation_with_a_reason_outside_the_kit_list_is_a_bad_request(world: Any) -> None:
    """Kit §6.3, §4.5.5.2: the reason must be COMPLEMENTARY_PAYMENT, CUSTOMER_ABORT or OTHER."""
    tx = world.paid_transaction()
    with unchanged(world, tx=(tx["id"],)):
        assert_error(world.kit().cancel(tx["id"], reason="CHANGED_MY_MIND"), errors.BadRequest)


@produces(errors.BadRequest)
def test_a_contact_with_both_an_email_and_a_beneficiary_is_a_bad_request(world: Any) -> None:
    """Kit §6.3, §4.6.4.2: exactly one of `contact` or `beneficiaryId` must be given."""
    kit = world.kit()
    pre_id = new_pre_transaction(world)
    ben = world.beneficiary("manual")
    with unchanged(world, pre=(pre_id,)):
        assert_error(kit.contact(pre_id, email=ben["email"], beneficiary_id=ben["beneficiaryId"]),
                     errors.BadRequest)
        assert_error(kit.contact(pre_id), errors.BadRequest)


@produces(errors.BadRequest)
def test_an_abort_with_a_reason_other_than_aborted_merchant_is_a_bad_request(world: Any) -> None:
    """Kit §6.3, §4.6.5.2, §6.2.4.17: the merchant aborts with ABORTED_MERCHANT only."""
    pre_id = new_pre_transaction(world)
    with unchanged(world, pre=(pre_id,)):
        assert_error(world.kit().abort(pre_id, reason="ABORTED_BENEFICIARY"), errors.BadRequest)


# --- 403 INVALID_SEAL ----------------------------------------------------------------------------

def _header_missing(kit: KitClient, fields: list[Any]) -> str | None:
    return None


def _header_malformed(kit: KitClient, fields: list[Any]) -> str | None:
    return "HmacSHA256:" + seal.compute_seal(kit.key, fields)


def _header_other_algorithm(kit: KitClient, fields: list[Any]) -> str | None:
    return f"HmacSHA1.{kit.key_version}.{seal.compute_seal(kit.key, fields)}"


def _header_empty_seal(kit: KitClient, fields: list[Any]) -> str | None:
    return f"HmacSHA256.{kit.key_version}."


def _header_wrong_key(kit: KitClient, fields: list[Any]) -> str | None:
    return seal.security_header(kit.key_version, "0123456789abcdef0123456789abcdef", fields)


def _header_wrong_key_version(kit: KitClient, fields: list[Any]) -> str | None:
    return seal.security_header(kit.key_version + "9", kit.key, fields)


SEAL_FAULTS = {
    "missing header": _header_missing,
    "malformed header": _header_malformed,
    "another algorithm": _header_other_algorithm,
    "empty seal": _header_empty_seal,
    "wrong key": _header_wrong_key,
    "wrong key version": _header_wrong_key_version,
}


@pytest.mark.parametrize("fault", SEAL_FAULTS)
@produces(errors.InvalidSeal)
def test_a_creation_with_a_bad_seal_is_refused_as_invalid_seal(world: Any, fault: str) -> None:
    """Kit §6.3, §5.3, §4.5.1.4: `ANCV-Security: HmacSHA256.{versionKey}.{seal}` over the sealed fields."""
    kit = world.kit()
    body = valid_transaction_body(kit)
    header = SEAL_FAULTS[fault](kit, seal.create_transaction_fields(body))
    with unchanged(world):
        assert_error(send(world, "POST", "/payment-transactions", body, header), errors.InvalidSeal)


@pytest.mark.parametrize("fault", SEAL_FAULTS)
@produces(errors.InvalidSeal)
def test_reading_a_transaction_with_a_bad_seal_is_refused_as_invalid_seal(world: Any, fault: str) -> None:
    """Kit §6.3, §5.3, §4.5.3.3: the transaction id is sealed with the creator's key."""
    kit = world.kit()
    tx_id = new_transaction(world)
    header = SEAL_FAULTS[fault](kit, seal.transaction_id_fields(tx_id))
    with unchanged(world, tx=(tx_id,)):
        assert_error(send(world, "GET", f"/payment-transactions/{tx_id}", header=header), errors.InvalidSeal)


@produces(errors.InvalidSeal)
def test_an_amount_changed_after_sealing_is_refused_as_invalid_seal(world: Any) -> None:
    """Kit §6.3, §4.5.1.4: `order.amount.total` is sealed; a body tampered with after sealing is refused."""
    kit = world.kit()
    body = valid_transaction_body(kit, amount=4000)
    header = seal.security_header(kit.key_version, kit.key, seal.create_transaction_fields(body))
    body["order"]["amount"]["total"] = 1
    with unchanged(world):
        assert_error(send(world, "POST", "/payment-transactions", body, header), errors.InvalidSeal)


@produces(errors.InvalidSeal)
def test_a_payer_changed_after_sealing_is_refused_as_invalid_seal(world: Any) -> None:
    """Kit §6.3, §4.5.2.4: `payer.beneficiaryId` and `payer.amount.total` are sealed."""
    kit = world.kit()
    tx_id = new_transaction(world)
    sealed = {"payer": {"beneficiaryId": world.beneficiary("manual")["beneficiaryId"]}}
    header = seal.security_header(kit.key_version, kit.key, seal.payer_fields(tx_id, sealed))
    tampered = {"payer": {"beneficiaryId": world.beneficiary("pay_full")["beneficiaryId"]}}
    with unchanged(world, tx=(tx_id,)):
        assert_error(send(world, "POST", f"/payment-transactions/{tx_id}/payer", tampered, header),
                     errors.InvalidSeal)


@produces(errors.InvalidSeal)
def test_a_cancellation_reason_changed_after_sealing_is_refused_as_invalid_seal(world: Any) -> None:
    """Kit §6.3, §4.5.5.3: the cancellation `reason` is sealed; the paid transaction stays as it was."""
    kit = world.kit()
    tx = world.paid_transaction()
    header = seal.security_header(kit.key_version, kit.key, seal.cancellation_fields(tx["id"], {"reason": "OTHER"}))
    with unchanged(world, tx=(tx["id"],)):
        assert_error(send(world, "POST", f"/payment-transactions/{tx['id']}/cancellation",
                          {"reason": "CUSTOMER_ABORT"}, header), errors.InvalidSeal)


@produces(errors.InvalidSeal)
def test_the_seal_is_checked_before_the_business_rules(world: Any) -> None:
    """Kit §6.3, §5.3: an unsealed creation with a zero amount answers INVALID_SEAL, not a 412."""
    kit = world.kit()
    body = valid_transaction_body(kit, amount=0)
    with unchanged(world):
        assert_error(send(world, "POST", "/payment-transactions", body, None), errors.InvalidSeal)


@pytest.mark.parametrize("operation", ["transaction", "pre-transaction"])
@produces(errors.InvalidSeal)
def test_an_unsealed_creation_with_a_malformed_date_answers_invalid_seal(world: Any, operation: str) -> None:
    """Kit §6.3, §5.3: who calls is checked before the business rules (412), whatever the date says."""
    kit = world.kit()
    if operation == "transaction":
        body = valid_transaction_body(kit, captureMode="DEFERRED", captureDate="not a date, Tuesday")
        path = "/payment-transactions"
    else:
        body = valid_transaction_body(kit)
        del body["order"]["paymentId"]
        body["expirationDate"] = "not a date, Tuesday"
        path = "/pre-transactions"
    with unchanged(world):
        assert_error(send(world, "POST", path, body, None), errors.InvalidSeal)


# --- 403 MERCHANT_NOT_ALLOWED --------------------------------------------------------------------

@pytest.mark.parametrize("operation", ["point of sale", "transaction", "pre-transaction"])
@produces(errors.MerchantNotAllowed)
def test_an_inactive_point_of_sale_is_not_allowed(world: Any, operation: str) -> None:
    """Kit §6.3, §4.4.1.1, §4.5.1.1, §4.6.1.1: an inactive point d'accueil is refused MERCHANT_NOT_ALLOWED."""
    kit = shop_client(world.transport, world.inactive_shop())
    with unchanged(world):
        if operation == "point of sale":
            reply = kit.point_of_sale()
        elif operation == "transaction":
            reply = kit.create_transaction("order-1", "1", 4000)
        else:
            reply = kit.create_pre_transaction("request-1", 4000, world.later(hours=1))
        assert_error(reply, errors.MerchantNotAllowed)


# --- 403 OPERATION_TRANSACTION_NOT_ALLOWED -------------------------------------------------------

@produces(errors.OperationTransactionNotAllowed)
def test_setting_a_payer_twice_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.5.2: a payer is set once, on an INITIALIZED transaction."""
    kit = world.kit()
    tx_id = new_transaction(world)
    assert kit.set_payer(tx_id, world.beneficiary("manual")["beneficiaryId"]).status == 202
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, world.beneficiary("pay_full")["beneficiaryId"]),
                     errors.OperationTransactionNotAllowed)


@produces(errors.OperationTransactionNotAllowed)
def test_executing_a_normal_capture_transaction_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.5.4: /execute is for DEFERRED transactions; a NORMAL one is validated at once."""
    tx = world.paid_transaction()
    assert tx["state"] == "VALIDATED"
    with unchanged(world, tx=(tx["id"],)):
        assert_error(world.kit().execute(tx["id"], 4000), errors.OperationTransactionNotAllowed)


@produces(errors.OperationTransactionNotAllowed)
def test_executing_a_transaction_nobody_paid_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.5.4: only an authorized transaction can be executed."""
    tx_id = new_transaction(world, capture_mode="DEFERRED", capture_date=world.later(days=1))
    with unchanged(world, tx=(tx_id,)):
        assert_error(world.kit().execute(tx_id, 4000), errors.OperationTransactionNotAllowed)


@produces(errors.OperationTransactionNotAllowed)
def test_cancelling_more_than_four_hours_after_the_authorization_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.5.5: a NORMAL VALIDATED payment can be cancelled for 4 hours, not after."""
    tx = world.paid_transaction()
    world.advance(4 * 3600 + 1)
    ben = world.beneficiary("manual")["beneficiaryId"]
    balance = world.balance(ben)
    with unchanged(world, tx=(tx["id"],)):
        assert_error(world.kit().cancel(tx["id"]), errors.OperationTransactionNotAllowed)
    assert world.balance(ben) == balance


@produces(errors.OperationTransactionNotAllowed)
def test_cancelling_a_rejected_transaction_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.5.5: a REJECTED transaction is final and cannot be cancelled."""
    kit = world.kit()
    ben = world.beneficiary("manual")
    tx_id = new_transaction(world)
    assert kit.set_payer(tx_id, ben["beneficiaryId"]).status == 202
    rejected = world.control.act(ben["beneficiaryId"], "authorize", pin=wrong_pin(ben["pin"]))["transaction"]
    assert (rejected["state"], rejected.get("subState")) == ("REJECTED", "REJECTED_SECURITY")
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.cancel(tx_id), errors.OperationTransactionNotAllowed)


@produces(errors.OperationTransactionNotAllowed)
def test_cancelling_again_with_another_reason_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.5.5: the same cancellation again is 200; a different one on a CANCELLED one is refused."""
    kit = world.kit()
    tx = world.paid_transaction()
    assert kit.cancel(tx["id"], reason="OTHER").status == 201
    assert kit.cancel(tx["id"], reason="OTHER").status == 200
    with unchanged(world, tx=(tx["id"],)):
        assert_error(kit.cancel(tx["id"], reason="CUSTOMER_ABORT"), errors.OperationTransactionNotAllowed)


# --- 403 OPERATION_PRE_TRANSACTION_NOT_ALLOWED ---------------------------------------------------

@produces(errors.OperationPreTransactionNotAllowed)
def test_sending_a_payment_request_twice_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.6.4: /contact is only allowed in CREATED, and moves the request to PROCESSING."""
    kit = world.kit()
    pre_id = new_pre_transaction(world)
    assert kit.contact(pre_id, email="client@example.fr").status == 200
    with unchanged(world, pre=(pre_id,)):
        assert_error(kit.contact(pre_id, email="other@example.fr"), errors.OperationPreTransactionNotAllowed)


@produces(errors.OperationPreTransactionNotAllowed)
def test_aborting_a_payment_request_twice_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.6.5: a pre-transaction cannot be aborted twice; once ABORTED it never changes."""
    kit = world.kit()
    pre_id = new_pre_transaction(world)
    assert kit.abort(pre_id).status == 200
    with unchanged(world, pre=(pre_id,)):
        assert_error(kit.abort(pre_id), errors.OperationPreTransactionNotAllowed)


@produces(errors.OperationPreTransactionNotAllowed)
def test_the_qr_code_of_an_aborted_payment_request_is_not_allowed(world: Any) -> None:
    """Kit §6.3, §4.6.2, §4.6.5: once aborted, the payment QR code can no longer be used."""
    kit = world.kit()
    pre_id = new_pre_transaction(world)
    assert kit.abort(pre_id).status == 200
    with unchanged(world, pre=(pre_id,)):
        assert_error(kit.qr_code(pre_id), errors.OperationPreTransactionNotAllowed)


# --- 403 INSUFFICIENT_BALANCE --------------------------------------------------------------------

@produces(errors.InsufficientBalance)
def test_a_fixed_amount_above_the_beneficiarys_balance_is_insufficient_balance(world: Any) -> None:
    """Kit §6.3, §4.5.2: with tspdMode 002 the amount cannot be lowered, so it must fit the balance."""
    kit = world.kit()
    ben = world.beneficiary("low_balance")["beneficiaryId"]
    balance = world.balance(ben)
    assert balance == 500
    tx_id = new_transaction(world, amount=balance + 1, tspd_mode="002")
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, ben), errors.InsufficientBalance)
    assert world.balance(ben) == balance
    assert kit.get_transaction(tx_id).body["transaction"]["state"] == "INITIALIZED"


@produces(errors.InsufficientBalance)
def test_a_beneficiary_with_nothing_left_has_insufficient_balance_even_with_an_adjustable_amount(world: Any) -> None:
    """Kit §6.3, §4.5.2 (SPEC §4): with an available balance of zero, even tspdMode 001 is refused."""
    kit = world.kit()
    ben = world.beneficiary("low_balance")
    world.control.set_behaviour(ben["beneficiaryId"], "manual")
    spent = new_transaction(world, amount=world.balance(ben["beneficiaryId"]))
    assert kit.set_payer(spent, ben["beneficiaryId"]).status == 202
    assert world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]["state"] == "VALIDATED"
    assert world.balance(ben["beneficiaryId"]) == 0
    tx_id = new_transaction(world, amount=100, tspd_mode="001")
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, ben["email"]), errors.InsufficientBalance)


# --- 404 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("operation", ["get", "payer", "execute", "cancellation"])
@produces(errors.TransactionNotFound)
def test_an_unknown_transaction_is_not_found(world: Any, operation: str) -> None:
    """Kit §6.3, §4.5.2–4.5.5: an id the platform never issued answers TRANSACTION_NOT_FOUND."""
    kit = world.kit()
    with unchanged(world):
        reply = {
            "get": lambda: kit.get_transaction(UNKNOWN_ID),
            "payer": lambda: kit.set_payer(UNKNOWN_ID, world.beneficiary("manual")["beneficiaryId"]),
            "execute": lambda: kit.execute(UNKNOWN_ID, 100),
            "cancellation": lambda: kit.cancel(UNKNOWN_ID),
        }[operation]()
        assert_error(reply, errors.TransactionNotFound)


@pytest.mark.parametrize("reference", ["unknown number", "number failing Luhn", "unknown email"])
@produces(errors.BeneficiaryNotFound)
def test_an_unknown_beneficiary_is_not_found(world: Any, reference: str) -> None:
    """Kit §6.3, §4.5.2, §5.4: beneficiaryId is an 11-digit Luhn number or the account's email."""
    kit = world.kit()
    ref = {
        "unknown number": unknown_beneficiary_number(),
        "number failing Luhn": "10001001577",  # the Kit's example 10001001576, last digit changed
        "unknown email": "nobody@example.invalid",
    }[reference]
    tx_id = new_transaction(world)
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, ref), errors.BeneficiaryNotFound)


@produces(errors.BeneficiaryNotFound)
def test_pushing_a_payment_request_to_an_unknown_beneficiary_is_not_found(world: Any) -> None:
    """Kit §6.3, §4.6.4.2: `beneficiaryId` must name a beneficiary; the request stays CREATED."""
    kit = world.kit()
    pre_id = new_pre_transaction(world)
    with unchanged(world, pre=(pre_id,)):
        assert_error(kit.contact(pre_id, beneficiary_id=unknown_beneficiary_number()), errors.BeneficiaryNotFound)


@pytest.mark.parametrize("operation", ["get", "qr-code", "contact", "abort"])
@produces(errors.PreTransactionNotFound)
def test_an_unknown_pre_transaction_is_not_found(world: Any, operation: str) -> None:
    """Kit §6.3, §4.6.2–4.6.5: an id the platform never issued answers PRE_TRANSACTION_NOT_FOUND."""
    kit = world.kit()
    with unchanged(world):
        reply = {
            "get": lambda: kit.get_pre_transaction(UNKNOWN_ID),
            "qr-code": lambda: kit.qr_code(UNKNOWN_ID),
            "contact": lambda: kit.contact(UNKNOWN_ID, email="client@example.fr"),
            "abort": lambda: kit.abort(UNKNOWN_ID),
        }[operation]()
        assert_error(reply, errors.PreTransactionNotFound)


@pytest.mark.parametrize("operation", ["point of sale", "transaction", "pre-transaction"])
@produces(errors.PointOfSaleNotFound)
def test_an_unknown_shop_id_is_point_of_sale_not_found(world: Any, operation: str) -> None:
    """Kit §6.3, §4.4.1.1: a shopId that is no point d'accueil answers POINT_OF_SALE_NOT_FOUND."""
    kit = world.kit()
    unknown = 99999999
    with unchanged(world):
        if operation == "point of sale":
            reply = kit.point_of_sale(unknown)
        elif operation == "transaction":
            reply = kit.create_transaction("order-1", "1", 4000, shop_id=unknown)
        else:
            reply = kit.create_pre_transaction("request-1", 4000, world.later(hours=1), shop_id=unknown)
        assert_error(reply, errors.PointOfSaleNotFound)


# --- 406 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["application/json", "image/jpeg", "text/html;q=1, application/xml"])
@produces(errors.NotAcceptable)
def test_a_qr_code_in_a_format_the_kit_does_not_offer_is_not_acceptable(world: Any, accept: str) -> None:
    """Kit §6.3, §4.6.2.1: the QR code comes as image/png (image/*, */*) or text/plain (text/*) only."""
    pre_id = new_pre_transaction(world)
    with unchanged(world, pre=(pre_id,)):
        assert_error(world.kit().qr_code(pre_id, accept=accept), errors.NotAcceptable)
    assert world.kit().get_pre_transaction(pre_id).body["preTransaction"]["state"] == "CREATED"


# --- 409 -----------------------------------------------------------------------------------------

@produces(errors.OtherTransactionPending)
def test_a_beneficiary_with_a_payment_in_progress_has_another_transaction_pending(world: Any) -> None:
    """Kit §6.3, §4.5.2: a beneficiary pays one transaction at a time (the first is PROCESSING)."""
    kit = world.kit()
    ben = world.beneficiary("manual")["beneficiaryId"]
    first, second = new_transaction(world), new_transaction(world, amount=1000)
    assert kit.set_payer(first, ben).status == 202
    with unchanged(world, tx=(first, second)):
        assert_error(kit.set_payer(second, ben), errors.OtherTransactionPending)
    assert kit.get_transaction(first).body["transaction"]["state"] == "PROCESSING"
    assert kit.get_transaction(second).body["transaction"]["state"] == "INITIALIZED"


# --- 412 amounts and currencies --------------------------------------------------------------------

@pytest.mark.parametrize("amount", [0, -1, -4000])
@produces(errors.InvalidTransactionAmount)
def test_a_transaction_below_one_cent_has_an_invalid_amount(world: Any, amount: int) -> None:
    """Kit §6.3, §4.5.1.3 (v1.06): the minimum transaction amount is 1 cent."""
    with unchanged(world):
        assert_error(world.kit().create_transaction("order-1", "1", amount), errors.InvalidTransactionAmount)


@pytest.mark.parametrize("excess", [1, 100_000])
@produces(errors.InvalidTransactionAmount)
def test_executing_more_than_was_authorized_is_an_invalid_amount(world: Any, excess: int) -> None:
    """Kit §6.3, §4.5.4: the executed amount may be lowered, never raised above the authorization."""
    tx = deferred_authorized(world, amount=4000)
    with unchanged(world, tx=(tx["id"],)):
        assert_error(world.kit().execute(tx["id"], 4000 + excess), errors.InvalidTransactionAmount)
        assert_error(world.kit().execute(tx["id"], 0), errors.InvalidTransactionAmount)


@produces(errors.InvalidTransactionCurrency)
def test_a_transaction_in_another_currency_than_the_euro_has_an_invalid_currency(world: Any) -> None:
    """Kit §6.3, §6.2: the currency is "978" (EUR), at creation and at /execute."""
    kit = world.kit()
    with unchanged(world):
        assert_error(kit.create_transaction("order-1", "1", 4000, currency="840"), errors.InvalidTransactionCurrency)
    tx = deferred_authorized(world)
    with unchanged(world, tx=(tx["id"],)):
        reply = send(world, "POST", f"/payment-transactions/{tx['id']}/execute",
                     {"amount": {"total": 4000, "currency": "840"}},
                     seal.security_header(kit.key_version, kit.key, seal.transaction_id_fields(tx["id"])))
        assert_error(reply, errors.InvalidTransactionCurrency)


@pytest.mark.parametrize("amount", [4001, 0])
@produces(errors.InvalidPayerAmount)
def test_a_payer_amount_above_the_total_or_zero_is_invalid(world: Any, amount: int) -> None:
    """Kit §6.3, §4.5.2.3: the payer's amount is at least 1 cent and at most the transaction's total."""
    kit = world.kit()
    tx_id = new_transaction(world, amount=4000)
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, world.beneficiary("manual")["beneficiaryId"], amount=amount),
                     errors.InvalidPayerAmount)


@pytest.mark.parametrize("amount", [0, -1])
@produces(errors.InvalidPreTransactionAmount)
def test_a_pre_transaction_below_one_cent_has_an_invalid_amount(world: Any, amount: int) -> None:
    """Kit §6.3, §4.6.1.3: the minimum pre-transaction amount is 1 cent."""
    with unchanged(world):
        assert_error(world.kit().create_pre_transaction("request-1", amount, world.later(hours=1)),
                     errors.InvalidPreTransactionAmount)


@produces(errors.InvalidPreTransactionCurrency)
def test_a_pre_transaction_in_another_currency_than_the_euro_has_an_invalid_currency(world: Any) -> None:
    """Kit §6.3, §6.2.4: the currency is "978" (EUR)."""
    with unchanged(world):
        assert_error(world.kit().create_pre_transaction("request-1", 4000, world.later(hours=1), currency="826"),
                     errors.InvalidPreTransactionCurrency)


# --- 412 payment methods and dates ---------------------------------------------------------------

@pytest.mark.parametrize("operation", ["transaction", "pre-transaction"])
@produces(errors.InvalidTspdMode)
def test_a_tspd_mode_other_than_001_or_002_is_invalid(world: Any, operation: str) -> None:
    """Kit §6.3, §6.2.2, §6.2.4: tspdMode is 001 (adjustable) or 002 (fixed)."""
    kit = world.kit()
    with unchanged(world):
        if operation == "transaction":
            reply = kit.create_transaction("order-1", "1", 4000, tspd_mode="003")
        else:
            reply = kit.create_pre_transaction("request-1", 4000, world.later(hours=1), tspd_mode="000")
        assert_error(reply, errors.InvalidTspdMode)


@produces(errors.MissingCaptureDate)
def test_a_deferred_transaction_without_a_capture_date_is_refused(world: Any) -> None:
    """Kit §6.3, §4.5.1.3: a DEFERRED capture needs a captureDate."""
    with unchanged(world):
        assert_error(world.kit().create_transaction("order-1", "1", 4000, capture_mode="DEFERRED"),
                     errors.MissingCaptureDate)


@pytest.mark.parametrize("when", ["in the past", "now", "six days and a second ahead", "not a date"])
@produces(errors.InvalidCaptureDate)
def test_a_capture_date_in_the_past_or_beyond_six_days_is_invalid(world: Any, when: str) -> None:
    """Kit §6.3, §4.5.1.3, §4.5.4: the capture date lies in the future, at most 6 calendar days ahead."""
    capture_date = {
        "in the past": world.later(hours=-1),
        "now": world.later(seconds=0),
        "six days and a second ahead": world.later(days=6, seconds=1),
        "not a date": "mardi prochain",
    }[when]
    with unchanged(world):
        assert_error(world.kit().create_transaction("order-1", "1", 4000, capture_mode="DEFERRED",
                                                    capture_date=capture_date), errors.InvalidCaptureDate)


@produces(errors.MissingCaptureTerm)
def test_a_deferred_pre_transaction_without_a_capture_term_is_refused(world: Any) -> None:
    """Kit §6.3, §6.2.4.15: a DEFERRED payment request needs a captureTerm."""
    with unchanged(world):
        assert_error(world.kit().create_pre_transaction("request-1", 4000, world.later(hours=1),
                                                        capture_mode="DEFERRED"), errors.MissingCaptureTerm)


@pytest.mark.parametrize("term", [0, 7, -1])
@produces(errors.InvalidCaptureTerm)
def test_a_capture_term_outside_one_to_six_days_is_invalid(world: Any, term: int) -> None:
    """Kit §6.3, §6.2.4.15: captureTerm is 1 to 6 days."""
    with unchanged(world):
        assert_error(world.kit().create_pre_transaction("request-1", 4000, world.later(hours=1),
                                                        capture_mode="DEFERRED", capture_term=term),
                     errors.InvalidCaptureTerm)


@pytest.mark.parametrize("when", ["in the past", "thirty days and a second ahead", "not a date"])
@produces(errors.InvalidExpirationDate)
def test_an_expiration_date_in_the_past_or_beyond_thirty_days_is_invalid(world: Any, when: str) -> None:
    """Kit §6.3, §4.6.1.3: expirationDate is in the future, at most 30 days ahead."""
    expiration = {
        "in the past": world.later(minutes=-1),
        "thirty days and a second ahead": world.later(days=30, seconds=1),
        "not a date": "dans un mois",
    }[when]
    with unchanged(world):
        assert_error(world.kit().create_pre_transaction("request-1", 4000, expiration),
                     errors.InvalidExpirationDate)


# --- 412 deadlines ---------------------------------------------------------------------------------

@produces(errors.TransactionExpired)
def test_setting_a_payer_after_five_minutes_finds_the_transaction_expired(world: Any) -> None:
    """Kit §6.3, §6.2.2.7: an INITIALIZED transaction expires after 300 s."""
    kit = world.kit()
    tx_id = new_transaction(world)
    world.advance(301)
    assert kit.get_transaction(tx_id).body["transaction"]["state"] == "EXPIRED"
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, world.beneficiary("manual")["beneficiaryId"]), errors.TransactionExpired)


@pytest.mark.parametrize("operation", ["contact", "qr-code"])
@produces(errors.PreTransactionExpired)
def test_using_a_payment_request_after_its_expiration_date_finds_it_expired(world: Any, operation: str) -> None:
    """Kit §6.3, §4.6.1.3, §4.6.4: past its expirationDate a payment request can no longer be used (/abort on it
    answers 403 like on an aborted one: tests/api/test_pre_transactions.py)."""
    kit = world.kit()
    pre_id = new_pre_transaction(world, expiration_date=world.later(hours=1))
    world.advance(3601)
    assert kit.get_pre_transaction(pre_id).body["preTransaction"]["state"] == "EXPIRED"
    with unchanged(world, pre=(pre_id,)):
        reply = {
            "contact": lambda: kit.contact(pre_id, email="client@example.fr"),
            "qr-code": lambda: kit.qr_code(pre_id),
        }[operation]()
        assert_error(reply, errors.PreTransactionExpired)


@produces(errors.ValidationDeadlineExceeded)
def test_executing_after_the_capture_date_exceeds_the_validation_deadline(world: Any) -> None:
    """Kit §6.3, §4.5.4: past the capture date a DEFERRED payment is cancelled and can no longer be executed."""
    tx = world.paid_transaction(capture_mode="DEFERRED", capture_date=world.later(days=1))
    assert tx["state"] == "AUTHORIZED"
    ben = world.beneficiary("manual")["beneficiaryId"]
    world.advance(86400 + 1)
    balance = world.balance(ben)
    with unchanged(world, tx=(tx["id"],)):
        assert_error(world.kit().execute(tx["id"], 4000), errors.ValidationDeadlineExceeded)
    assert world.balance(ben) == balance


@pytest.mark.parametrize("fault", ["wrong number", "no authorization", "amounts not summing to the total"])
@produces(errors.InvalidPayersAuthorizations)
def test_executing_with_payers_that_do_not_list_the_authorizations_is_invalid(world: Any, fault: str) -> None:
    """Kit §6.3, §4.5.4.4: with `payers`, every authorization of every beneficiary must be listed."""
    tx = deferred_authorized(world, amount=4000)
    auth = tx["payers"][0]["authorizations"][0]
    number = auth["number"]
    amount = {"total": 3000, "currency": "978"}
    authorizations = {
        "wrong number": [{"number": str((int(number) + 1) % 10**len(number)).zfill(len(number)), "amount": amount}],
        "no authorization": [],
        "amounts not summing to the total": [{"number": number, "amount": {"total": 2000, "currency": "978"}}],
    }[fault]
    payers = [{"beneficiaryId": tx["payers"][0]["beneficiaryId"], "authorizations": authorizations}]
    with unchanged(world, tx=(tx["id"],)):
        assert_error(world.kit().execute(tx["id"], 3000, payers=payers), errors.InvalidPayersAuthorizations)


# --- 412 NO_ACTIVE_DEVICE --------------------------------------------------------------------------

@produces(errors.NoActiveDevice)
def test_a_beneficiary_without_an_enrolled_device_has_no_active_device(world: Any) -> None:
    """Kit §6.3, §4.5.2: the beneficiary confirms in the app; without a device it cannot be asked."""
    kit = world.kit()
    tx_id = new_transaction(world)
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, world.beneficiary("no_device")["beneficiaryId"]), errors.NoActiveDevice)


@produces(errors.NoActiveDevice)
def test_a_beneficiary_blocked_after_three_wrong_codes_has_no_active_device(world: Any) -> None:
    """Kit §6.3, §4.5.2 (SPEC §4 SR): three wrong personal codes in a row block the device."""
    kit = world.kit()
    ben = world.beneficiary("manual")
    for _ in range(3):
        tx_id = new_transaction(world, amount=1000)
        assert kit.set_payer(tx_id, ben["beneficiaryId"]).status == 202
        world.control.act(ben["beneficiaryId"], "authorize", pin=wrong_pin(ben["pin"]))
    tx_id = new_transaction(world, amount=1000)
    with unchanged(world, tx=(tx_id,)):
        assert_error(kit.set_payer(tx_id, ben["beneficiaryId"]), errors.NoActiveDevice)
        assert_error(kit.set_payer(tx_id, ben["email"]), errors.NoActiveDevice)
    world.control.unblock(ben["beneficiaryId"])
    assert kit.set_payer(tx_id, ben["beneficiaryId"]).status == 202


# --- isolation: someone else's objects look absent -------------------------------------------------

@pytest.mark.parametrize("operation", ["get", "payer", "execute", "cancellation"])
@produces(errors.TransactionNotFound)
def test_another_shops_valid_seal_finds_no_transaction(world: Any, operation: str) -> None:
    """Kit §6.3, §5.3.2.2 (SPEC §3): a caller sees only its own shops' objects; others answer 404."""
    owner, intruder = world.kit(0), world.kit(1)
    assert owner.shop_id != intruder.shop_id
    tx = deferred_authorized(world)
    with unchanged(world, owner, tx=(tx["id"],)):
        reply = {
            "get": lambda: intruder.get_transaction(tx["id"]),
            "payer": lambda: intruder.set_payer(tx["id"], world.beneficiary("pay_full")["beneficiaryId"]),
            "execute": lambda: intruder.execute(tx["id"], 1000),
            "cancellation": lambda: intruder.cancel(tx["id"]),
        }[operation]()
        assert_error(reply, errors.TransactionNotFound)


@pytest.mark.parametrize("operation", ["get", "qr-code", "contact", "abort"])
@produces(errors.PreTransactionNotFound)
def test_another_shops_valid_seal_finds_no_pre_transaction(world: Any, operation: str) -> None:
    """Kit §6.3, §5.3.2.2 (SPEC §3): another shop's payment request answers 404 as if absent."""
    owner, intruder = world.kit(0), world.kit(1)
    pre_id = new_pre_transaction(world, owner)
    with unchanged(world, owner, pre=(pre_id,)):
        reply = {
            "get": lambda: intruder.get_pre_transaction(pre_id),
            "qr-code": lambda: intruder.qr_code(pre_id),
            "contact": lambda: intruder.contact(pre_id, email="client@example.fr"),
            "abort": lambda: intruder.abort(pre_id),
        }[operation]()
        assert_error(reply, errors.PreTransactionNotFound)


@produces(errors.PointOfSaleNotFound)
def test_another_shops_valid_seal_finds_no_point_of_sale(world: Any) -> None:
    """Kit §6.3, §4.4.1 (SPEC §3): a shop cannot look up, or create payments for, another shop."""
    owner, intruder = world.kit(0), world.kit(1)
    foreign = KitClient(world.transport, key=intruder.key, key_version=intruder.key_version, shop_id=owner.shop_id)
    with unchanged(world):
        assert_error(foreign.point_of_sale(), errors.PointOfSaleNotFound)
        assert_error(foreign.create_transaction("order-1", "1", 4000), errors.PointOfSaleNotFound)
        assert_error(foreign.create_pre_transaction("request-1", 4000, world.later(hours=1)),
                     errors.PointOfSaleNotFound)


@produces(errors.PointOfSaleNotFound)
def test_a_service_provider_finds_no_shop_it_does_not_serve(world: Any) -> None:
    """Kit §6.3, §4.4.1.3: a service provider acts only for the points d'accueil linked to it."""
    provider = world.provider_kit()
    with unchanged(world):
        assert_error(provider.point_of_sale(world.shop()["shopId"]), errors.PointOfSaleNotFound)
        assert_error(provider.create_transaction("order-1", "1", 4000, shop_id=world.shop()["shopId"]),
                     errors.PointOfSaleNotFound)


@pytest.mark.parametrize("operation", ["transaction", "pre-transaction", "point-of-sale"])
@produces(errors.InvalidSeal)
def test_naming_the_service_provider_but_sealing_with_the_shops_own_key_is_an_invalid_seal(
        world: Any, operation: str) -> None:
    """Kit §5.3.2.2: with `serviceProviderId` the provider's key must be used; the shop (which holds the key it
    used) is told so, instead of a 404 POINT_OF_SALE_NOT_FOUND for a shop that exists."""
    shop = world.provided_shop()
    mixed = KitClient(world.transport, key=shop["key"], key_version=shop["keyVersion"], shop_id=shop["shopId"],
                      service_provider_id=world.provider["serviceProviderId"])
    with unchanged(world):
        reply = {
            "transaction": lambda: mixed.create_transaction("order-1", "1", 4000),
            "pre-transaction": lambda: mixed.create_pre_transaction("request-1", 4000, world.later(hours=1)),
            "point-of-sale": lambda: mixed.point_of_sale(),
        }[operation]()
        assert_error(reply, errors.InvalidSeal)
    assert "must use that service provider's key" in reply.headers["X-Sandbox-Detail"]


@produces(errors.InvalidSeal)
def test_sealing_with_the_providers_key_without_naming_it_is_an_invalid_seal(world: Any) -> None:
    """Kit §5.3.2.2: without `serviceProviderId` the shop's own key must be used; its provider is told so."""
    shop, provider = world.provided_shop(), world.provider
    unnamed = KitClient(world.transport, key=provider["key"], key_version=provider["keyVersion"],
                        shop_id=shop["shopId"])
    with unchanged(world):
        reply = unnamed.create_transaction("order-1", "1", 4000)
        assert_error(reply, errors.InvalidSeal)
    assert f"point of sale {shop['shopId']}'s own key" in reply.headers["X-Sandbox-Detail"]


@produces(errors.PointOfSaleNotFound)
def test_another_shops_seal_naming_a_service_provider_still_finds_no_point_of_sale(world: Any) -> None:
    """SPEC §3: the INVALID_SEAL hint above is only for the named shop's own key; any other key learns nothing."""
    other, shop = world.shop(), world.provided_shop()
    foreign = KitClient(world.transport, key=other["key"], key_version=other["keyVersion"], shop_id=shop["shopId"],
                        service_provider_id=world.provider["serviceProviderId"])
    with unchanged(world):
        assert_error(foreign.create_transaction("order-1", "1", 4000), errors.PointOfSaleNotFound)
        assert_error(foreign.point_of_sale(), errors.PointOfSaleNotFound)


@produces(errors.TransactionNotFound, errors.PreTransactionNotFound)
def test_a_service_providers_transactions_are_not_visible_with_the_shops_own_key(world: Any) -> None:
    """Kit §6.3, §5.3.2.2: created with `serviceProviderId`, an object is sealed with the provider's key only."""
    provider = world.provider_kit()
    shop = shop_client(world.transport, world.provided_shop())
    assert provider.shop_id == shop.shop_id
    tx_id = new_transaction(world, provider)
    pre_id = new_pre_transaction(world, provider)
    assert provider.get_transaction(tx_id).body["transaction"]["merchant"]["serviceProviderId"] == \
        world.provider["serviceProviderId"]
    assert provider.get_pre_transaction(pre_id).status == 200
    with unchanged(world, provider, tx=(tx_id,), pre=(pre_id,)):
        assert_error(shop.get_transaction(tx_id), errors.TransactionNotFound)
        assert_error(shop.cancel(tx_id), errors.TransactionNotFound)
        assert_error(shop.get_pre_transaction(pre_id), errors.PreTransactionNotFound)
        assert_error(shop.abort(pre_id), errors.PreTransactionNotFound)


@produces(errors.TransactionNotFound, errors.PreTransactionNotFound)
def test_a_shops_own_transactions_are_not_visible_to_its_service_provider(world: Any) -> None:
    """Kit §6.3, §5.3.2.2: created with the shop's key (no serviceProviderId), the provider cannot see it."""
    provider = world.provider_kit()
    shop = shop_client(world.transport, world.provided_shop())
    tx_id = new_transaction(world, shop)
    pre_id = new_pre_transaction(world, shop)
    assert shop.get_transaction(tx_id).status == 200
    with unchanged(world, shop, tx=(tx_id,), pre=(pre_id,)):
        assert_error(provider.get_transaction(tx_id), errors.TransactionNotFound)
        assert_error(provider.set_payer(tx_id, world.beneficiary("manual")["beneficiaryId"]),
                     errors.TransactionNotFound)
        assert_error(provider.get_pre_transaction(pre_id), errors.PreTransactionNotFound)
        assert_error(provider.contact(pre_id, email="client@example.fr"), errors.PreTransactionNotFound)


@pytest.mark.parametrize("creator", ["shop", "provider"])
def test_a_same_day_duplicate_never_discloses_another_key_holders_object(world: Any, creator: str) -> None:
    """Kit §4.5.1.5, §4.6.1.5, §5.3.2.2 (SPEC §3): idempotency must not bypass the isolation of key holders."""
    provider = world.provider_kit()
    shop = shop_client(world.transport, world.provided_shop())
    first, second = (shop, provider) if creator == "shop" else (provider, shop)
    tx_id = new_transaction(world, first)
    pre_id = new_pre_transaction(world, first)
    tx_order = first.get_transaction(tx_id).body["transaction"]["order"]
    pre_body = first.get_pre_transaction(pre_id).body["preTransaction"]
    assert_error(second.get_transaction(tx_id), errors.TransactionNotFound)
    again = second.create_transaction(tx_order["id"], tx_order["paymentId"], 4000)
    assert again.status >= 400 or again.body["transaction"]["id"] != tx_id, again.body
    again_pre = second.create_pre_transaction(pre_body["order"]["id"], 4000, pre_body["expirationDate"])
    assert again_pre.status >= 400 or again_pre.body["preTransaction"]["id"] != pre_id, again_pre.body


# --- the catalogue -----------------------------------------------------------------------------------

def test_the_error_catalogue_is_the_kit_error_table() -> None:
    """Kit §6.3: every error class carries the table's status, code and English message, in its order."""
    assert [(k.code, k.status, k.message) for k in errors.catalogue()] == \
        [(code, status, message) for code, (status, message) in KIT_TABLE.items()]
    for kind in errors.catalogue():
        assert kind().body() == {"errorCode": kind.code, "errorMessage": KIT_TABLE[kind.code][1]}


def test_every_error_the_sandbox_can_produce_is_provoked_by_a_passing_test_here() -> None:
    """Kit §6.3: each code of the catalogue, but the bank-card (TA) ones and failures, has a scenario above."""
    module = globals()
    covered: set[str] = set()
    for name, codes in DECLARED.items():
        marks = getattr(module[name], "pytestmark", [])
        if not any(mark.name == "xfail" for mark in marks):
            covered |= codes
    expected = {kind.code for kind in errors.catalogue()} - NEVER_PRODUCED
    assert sorted(expected - covered) == []
    assert covered <= expected
