"""How payments look to merchants (SPEC §8)."""

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain import operations
from sandbox.domain.pre_transactions import PreTransaction
from sandbox.domain.transactions import Transaction

T0 = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


def tx(**fields):
    base = dict(shop_id=1, order_id="REF253", payment_id="1", amount=2000, capture_mode="NORMAL", tspd_mode="001")
    base.update(fields)
    return Transaction.create("t1", T0, **base)


def request(**fields):
    base = dict(shop_id=1, order_id="REF253", amount=2000, capture_mode="NORMAL", tspd_mode="001",
                expiration_date=T0 + timedelta(hours=1))
    base.update(fields)
    return PreTransaction.create("p1", T0, **base)


@pytest.mark.parametrize("make, kind", [
    (lambda: operations.of_transaction(tx()), "Paiement immédiat"),
    (lambda: operations.of_transaction(tx(capture_mode="DEFERRED", capture_date=T0 + timedelta(days=2))),
     "Pré-réservation"),
    (lambda: operations.of_request(request(), None), "Paiement immédiat"),
    (lambda: operations.of_request(request(tspd_mode="002"), None), "Paiement différé"),
    (lambda: operations.of_request(request(capture_mode="DEFERRED", capture_term=3), None), "Pré-réservation différée"),
])
def test_the_four_parcours_have_their_type_of_payment(make, kind):
    operation = make()
    assert operation.kind == kind and operation.status == "En attente de paiement client"


def test_statuses_follow_the_transaction_and_received_is_the_authorized_amount():
    t = tx()
    t.state, t.authorization = "VALIDATED", None
    assert operations.of_transaction(t).status == "Validé"
    for state, sub_state, label in (("AUTHORIZED", None, "A valider"), ("CANCELLED", None, "Annulé"),
                                    ("EXPIRED", None, "Expiré"), ("REJECTED", "REJECTED_INTERNAL", "Refusé"),
                                    ("REJECTED", "REJECTED_SECURITY", "Refusé : code personnel erroné"),
                                    ("ABORTED", "ABORTED_TSPD", "Abandonné par le client")):
        t.state, t.sub_state = state, sub_state
        assert operations.of_transaction(t).status == label


def test_every_refusal_s_wording_is_a_refused_for_the_filter_and_never_the_merchant_s_annule():
    """Issue 14, item 5: the client's side ending a payment is told apart from the merchant's cancellation."""
    t = tx()
    t.state, t.sub_state, t.rejection_cause = "REJECTED", "REJECTED_INTERNAL", "INSUFFICIENT_BALANCE"
    operation = operations.of_transaction(t)
    assert (operation.status, operation.family) == ("Refusé : solde insuffisant", "Refusé")
    assert "solde" in (operation.reason or "")
    wordings = [status for status, _ in operations.FAILURES.values()]
    assert len(set(wordings)) == len(wordings) and "Annulé" not in wordings
    assert {operations.family(w) for w in wordings} == {"Refusé"}


def test_a_partial_payment_leaves_something_to_pay():
    from sandbox.domain.transactions import Authorization

    t = tx()
    t.state, t.authorization = "VALIDATED", Authorization("1", 1500, T0, "10*****1576")
    operation = operations.of_request(request(), t)
    assert (operation.received, operation.left_to_pay) == (1500, 500)
