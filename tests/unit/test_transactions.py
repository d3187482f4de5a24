"""The transaction state machine (Kit §4.5, §6.2.2.5–7), without any framework."""

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain import errors, payments
from sandbox.domain.beneficiaries import Allocation, Beneficiary, Device
from sandbox.domain.transactions import MOVES, TIMEOUTS, Transaction

T0 = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


def transaction(**overrides) -> Transaction:
    fields = dict(shop_id=1, order_id="o", payment_id="p", amount=4000, capture_mode="NORMAL", tspd_mode="001")
    fields.update(overrides)
    return Transaction.create("tx", T0, **fields)


def beneficiary(balance: int = 10_000, devices: bool = True) -> Beneficiary:
    return Beneficiary(
        beneficiary_id="10001001576", email="a@b.fr", password="x", pin="123456",
        devices=[Device("phone")] if devices else [],
        allocations=[Allocation("a1", balance, T0 - timedelta(days=1), T0 + timedelta(days=365))])


def pay(tx: Transaction, ben: Beneficiary, at: datetime = T0, amount: int | None = None) -> None:
    payments.start_payment(tx, ben, ben.beneficiary_id, amount, other_pending=False, now=at)


def test_a_new_transaction_is_initialized_and_expires_after_300_seconds():
    tx = transaction()
    assert (tx.state, tx.expiration_date) == ("INITIALIZED", T0 + timedelta(seconds=300))
    assert tx.due_timeout(T0 + timedelta(seconds=299)) is None
    tx.time_out(T0 + timedelta(seconds=300))
    assert tx.state == "EXPIRED" and tx.expiration_date is None


def test_tspd_001_goes_to_adjustment_and_002_straight_to_authorization_request():
    ben = beneficiary()
    adjustable, fixed = transaction(), transaction(tspd_mode="002")
    pay(adjustable, ben)
    pay(fixed, ben)
    assert (adjustable.state, adjustable.sub_state) == ("PROCESSING", "IN_ADJUSTMENT")
    assert (fixed.state, fixed.sub_state) == ("PROCESSING", "AUTHORIZATION_REQUEST")
    assert adjustable.expiration_date == T0 + timedelta(seconds=250)


@pytest.mark.parametrize("sub_state", ["IN_ADJUSTMENT", "AUTHORIZATION_REQUEST"])
def test_no_answer_within_250_seconds_rejects_with_timeout(sub_state):
    tx = transaction(tspd_mode="001" if sub_state == "IN_ADJUSTMENT" else "002")
    pay(tx, beneficiary())
    tx.time_out(T0 + timedelta(seconds=250))
    assert (tx.state, tx.sub_state) == ("REJECTED", "REJECTED_TIMEOUT")


def test_stalled_acquisition_is_rejected_internal_after_100_seconds():
    tx = transaction()
    tx.start_payment(payments.Payer("x", "10001001576", 4000), T0, stalled=True)
    assert tx.expiration_date == T0 + timedelta(seconds=100)
    tx.time_out(T0 + timedelta(seconds=100))
    assert (tx.state, tx.sub_state) == ("REJECTED", "REJECTED_INTERNAL")


def test_normal_capture_is_validated_at_once_and_debits_the_adjusted_amount():
    tx, ben = transaction(), beneficiary()
    pay(tx, ben)
    payments.adjust(tx, ben, 2500, T0)
    payments.authorize(tx, ben, "123456", "000001", T0)
    assert tx.state == "VALIDATED" and tx.authorization and tx.authorization.amount == 2500
    assert ben.available(T0) == 10_000 - 2500 and ben.spent() == 2500


def test_deferred_capture_holds_then_execute_debits_at_most_the_authorized_amount():
    tx, ben = transaction(capture_mode="DEFERRED", capture_date=T0 + timedelta(days=3)), beneficiary()
    pay(tx, ben)
    payments.authorize(tx, ben, "123456", "000001", T0)
    assert tx.state == "AUTHORIZED" and ben.held() == 4000 and ben.available(T0) == 6000
    with pytest.raises(errors.InvalidTransactionAmount):
        payments.execute(tx, ben, 4001, T0)
    payments.execute(tx, ben, 3000, T0 + timedelta(hours=1))
    assert tx.state == "VALIDATED" and ben.held() == 0 and ben.spent() == 3000


def test_deferred_payment_is_cancelled_when_capture_date_passes():
    tx, ben = transaction(capture_mode="DEFERRED", capture_date=T0 + timedelta(days=2)), beneficiary()
    pay(tx, ben)
    payments.authorize(tx, ben, "123456", "000001", T0)
    assert tx.next_deadline() == T0 + timedelta(days=2)
    assert payments.handle_deadline(tx, ben, T0 + timedelta(days=2))
    assert tx.state == "CANCELLED" and tx.cancellation and tx.cancellation.by_deadline
    assert ben.available(T0) == 10_000
    with pytest.raises(errors.ValidationDeadlineExceeded):
        tx.execute(100, T0 + timedelta(days=2, seconds=1))


def test_validated_payment_can_be_cancelled_for_four_hours_only():
    late, ben = transaction(), beneficiary()
    pay(late, ben)
    payments.authorize(late, ben, "123456", "000001", T0)
    with pytest.raises(errors.OperationTransactionNotAllowed):
        payments.cancel(late, ben, "OTHER", None, T0 + timedelta(hours=4, seconds=1))
    assert payments.cancel(late, ben, "CUSTOMER_ABORT", None, T0 + timedelta(hours=4))
    assert late.state == "CANCELLED" and ben.available(T0) == 10_000
    assert not payments.cancel(late, ben, "CUSTOMER_ABORT", None, T0 + timedelta(hours=5))  # same call: no change
    with pytest.raises(errors.OperationTransactionNotAllowed):
        payments.cancel(late, ben, "OTHER", None, T0 + timedelta(hours=5))


def test_wrong_code_rejects_and_three_in_a_row_block_the_device():
    ben = beneficiary()
    for _ in range(3):
        tx = transaction()
        pay(tx, ben)
        payments.authorize(tx, ben, "000000", "1", T0)
        assert (tx.state, tx.sub_state) == ("REJECTED", "REJECTED_SECURITY")
    assert not ben.has_active_device()
    with pytest.raises(errors.NoActiveDevice):
        pay(transaction(), ben)


def test_abandon_gives_aborted_tspd():
    tx = transaction()
    pay(tx, beneficiary())
    tx.abort(T0)
    assert (tx.state, tx.sub_state) == ("ABORTED", "ABORTED_TSPD")


def test_final_states_never_move_again():
    for final in ("PAID", "REJECTED", "ABORTED", "CANCELLED", "EXPIRED"):
        assert final not in MOVES


def test_every_waiting_state_has_the_kit_timeout():
    assert {key: value[0] for key, value in TIMEOUTS.items()} == {
        ("INITIALIZED", None): 300, ("PROCESSING", None): 100,
        ("PROCESSING", "IN_ADJUSTMENT"): 250, ("PROCESSING", "AUTHORIZATION_REQUEST"): 250}


@pytest.mark.parametrize("overrides, error", [
    ({"amount": 0}, errors.InvalidTransactionAmount),
    ({"tspd_mode": "003"}, errors.InvalidTspdMode),
    ({"capture_mode": "DEFERRED"}, errors.MissingCaptureDate),
    ({"capture_mode": "DEFERRED", "capture_date": T0 + timedelta(days=6, seconds=1)}, errors.InvalidCaptureDate),
    ({"capture_mode": "DEFERRED", "capture_date": T0}, errors.InvalidCaptureDate),
])
def test_creation_terms_are_checked(overrides, error):
    with pytest.raises(error):
        transaction(**overrides)


def test_balance_counts_only_valid_allocations_and_low_balance_limits_the_proposal():
    ben = beneficiary(balance=500)
    ben.allocations.append(Allocation("old", 9999, T0 - timedelta(days=400), T0 - timedelta(days=1)))
    assert ben.available(T0) == 500
    tx = transaction()
    pay(tx, ben)
    assert payments.proposed_amount(tx, ben, T0) == 500
    with pytest.raises(errors.InsufficientBalance):
        pay(transaction(tspd_mode="002"), ben)


def test_a_deferred_payment_past_its_capture_date_cannot_be_authorized_any_more():
    tx, ben = transaction(capture_mode="DEFERRED", capture_date=T0 + timedelta(seconds=60)), beneficiary()
    pay(tx, ben)
    payments.authorize(tx, ben, "123456", "1", T0 + timedelta(seconds=60))
    assert (tx.state, tx.sub_state) == ("REJECTED", "REJECTED_INTERNAL") and ben.held() == 0


def test_a_record_changed_with_with_values_is_what_dataclasses_replace_makes_and_the_original_stays() -> None:
    from dataclasses import replace

    from sandbox.domain.records import with_values

    allocation = Allocation("a1", 10_000, T0 - timedelta(days=1), T0 + timedelta(days=365), used=500)
    changed = with_values(allocation, used=2_500)
    assert changed == replace(allocation, used=2_500) and type(changed) is Allocation
    assert allocation.used == 500 and changed.remaining == 7_500
    with pytest.raises(AssertionError):  # a datetime would skip the record's own UTC normalisation
        with_values(allocation, valid_until=T0)
    with pytest.raises(AssertionError):
        with_values(allocation, spent=1)
