"""The rules the pages read as properties of what the views pass (issue 16): what an operation allows, which
parcours asks what, whether a request's amount is fixed, an allocation's validity, what remains due."""

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain import operations
from sandbox.domain.beneficiaries import Allocation
from sandbox.domain.cashing import Choice
from sandbox.domain.pre_transactions import PreTransaction
from sandbox.domain.transactions import Payer, Transaction

T0 = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


def operation(status: str, kind: str = operations.IMMEDIATE) -> operations.Operation:
    return operations.Operation("REF1", kind, status, 4000, None, T0, T0, "t1", None, None)


@pytest.mark.parametrize("status, validate, cancel, waiting, expired", [
    (operations.WAITING, False, True, True, False),
    (operations.TO_VALIDATE, True, True, False, False),
    (operations.VALIDATED, False, False, False, False),
    (operations.CANCELLED, False, False, False, False),
    (operations.EXPIRED, False, False, False, True),
    ("Refusé : code personnel erroné", False, False, False, False),
])
def test_what_the_merchant_may_do_follows_the_status(status, validate, cancel, waiting, expired):
    op = operation(status)
    assert (op.can_validate, op.can_cancel, op.awaiting_payment, op.is_expired) == (validate, cancel, waiting, expired)


@pytest.mark.parametrize("kind, later, pre_booking", [
    (operations.IMMEDIATE, False, False), (operations.DELAYED, True, False),
    (operations.PRE_BOOKING, False, True), (operations.DELAYED_PRE_BOOKING, True, True),
])
def test_the_kind_says_whether_the_client_pays_later_and_the_merchant_validates(kind, later, pre_booking):
    op = operation(operations.WAITING, kind)
    assert (op.pays_later, op.is_pre_booking) == (later, pre_booking)


@pytest.mark.parametrize("timing, validation, parcours, qr, email, pre_booking", [
    ("immediat", "non", "A", True, False, False),
    ("differe", "non", "B", False, True, False),
    ("immediat", "oui", "C", False, False, True),
    ("differe", "oui", "D", False, True, True),
])
def test_each_parcours_reaches_the_client_its_way(timing, validation, parcours, qr, email, pre_booking):
    choice = Choice.parse({"timing": timing, "payment_days": "10", "validation": validation, "validation_days": "2"})
    assert choice.parcours == parcours
    assert (choice.offers_qr_code, choice.by_email, choice.pre_booking) == (qr, email, pre_booking)


def test_only_a_pre_booking_paid_now_has_a_validation_date_before_payment():
    def capture_date(timing: str) -> datetime | None:
        return Choice.parse({"timing": timing, "payment_days": "10", "validation": "oui",
                             "validation_days": "2"}).capture_date(T0)

    assert capture_date("immediat") == T0 + timedelta(days=2)  # C
    assert capture_date("differe") is None  # D: two days from a payment that has not happened yet


@pytest.mark.parametrize("capture_mode, tspd_mode, pre_booking, fixed", [
    ("NORMAL", "001", False, False), ("NORMAL", "002", False, True), ("DEFERRED", "001", True, False),
])
def test_a_request_says_whether_it_is_a_pre_booking_and_whether_its_amount_is_fixed(
        capture_mode, tspd_mode, pre_booking, fixed):
    pre = PreTransaction.create("p1", T0, shop_id=1, order_id="REF1", amount=2000, capture_mode=capture_mode,
                                tspd_mode=tspd_mode, expiration_date=T0 + timedelta(days=1),
                                capture_term=2 if capture_mode == "DEFERRED" else None)
    assert (pre.is_pre_booking, pre.amount_is_fixed, pre.payable) == (pre_booking, fixed, False)
    pre.send_to(T0, email="client@example.fr")
    assert pre.payable


def test_an_allocation_has_ended_at_its_end_and_is_upcoming_before_its_start():
    allocation = Allocation("a1", 10_000, T0, T0 + timedelta(days=365))
    assert allocation.is_upcoming(T0 - timedelta(seconds=1)) and not allocation.is_upcoming(T0)
    assert not allocation.has_ended(T0 + timedelta(days=365, seconds=-1))
    assert allocation.has_ended(T0 + timedelta(days=365))


def test_what_is_left_due_is_what_the_payer_leaves_of_the_amount_asked():
    tx = Transaction.create("t1", T0, shop_id=1, order_id="REF1", payment_id="1", amount=5000,
                            capture_mode="NORMAL", tspd_mode="001")
    assert tx.left_due == 0
    tx.start_payment(Payer("10001001576", "10001001576", 5000), T0)
    assert tx.left_due == 0
    tx.adjust(3000, T0)
    assert tx.left_due == 2000
