"""Each case of the cahier de recette fails when it is played wrong, with a reason naming the mistake: the other
side of test_integrators.py (where the same cases pass, played right). One campaign of one case per test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from merchant_sim.integrator import AMOUNT, RecetteIntegrator
from sandbox.client import KitClient
from sandbox.domain.dates import format_date


def beneficiary(it: RecetteIntegrator, case_id: str) -> str:
    return str(it.case(case_id)["identifiers"]["beneficiaryId"])


def paid_without_urls(it: RecetteIntegrator, c: str) -> None:
    kit = it.kit(c)
    tx = kit.create_transaction(it.order(c), "1", AMOUNT)["transaction"]
    kit.set_payer(tx["id"], beneficiary(it, c))
    it.advance(it.think + 1)
    kit.get_transaction(tx["id"])


def paid_without_declaring(it: RecetteIntegrator, c: str) -> None:
    it.pay(c)


def adjustable_instead_of_fixed(it: RecetteIntegrator, c: str) -> None:
    it.pay(c, tspd_mode="001")


def payer_again_after_rejection(it: RecetteIntegrator, c: str) -> None:
    kit = it.kit(c)
    tx = it.create(c)
    kit.set_payer(tx["id"], beneficiary(it, c))
    it.advance(it.think + 1)
    it.heard(kit, tx["id"], "cancel")
    again = it.create(c)
    kit.set_payer(again["id"], beneficiary(it, c))


def no_time_moved(it: RecetteIntegrator, c: str) -> None:
    kit = it.kit(c)
    tx = it.create(c)
    kit.set_payer(tx["id"], beneficiary(it, c))


def rejection_never_read(it: RecetteIntegrator, c: str) -> None:
    kit = it.kit(c)
    tx = it.create(c)
    kit.set_payer(tx["id"], beneficiary(it, c))
    it.advance(it.think + 1)
    it.inbox.wait(tx["id"], "cancel")


def refused_payer_repeated(it: RecetteIntegrator, c: str, **options: Any) -> None:
    kit = it.kit(c)
    tx = it.create(c, **options)
    for _ in range(2):
        kit.set_payer(tx["id"], beneficiary(it, c))


def executed_in_full(it: RecetteIntegrator, c: str) -> None:
    tx = it._deferred(c, 2)
    assert tx is not None
    it.kit(c).execute(tx["id"], AMOUNT)


def deferred_left_alone(it: RecetteIntegrator, c: str) -> None:
    it._deferred(c, 1)


def cancelled_too_late(it: RecetteIntegrator, c: str, times: int = 1) -> None:
    tx = it.pay(c)
    assert tx is not None
    it.advance(5 * 3600)
    for _ in range(times):
        it.kit(c).cancel(tx["id"], "CUSTOMER_ABORT")


def request_paid_unread(it: RecetteIntegrator, c: str) -> None:
    kit = it.kit(c)
    pre = it.request(c)
    kit.qr_code(pre["id"])
    it.advance(it.think + 1)


def request_sent_elsewhere(it: RecetteIntegrator, c: str, **contact: Any) -> None:
    kit = it.kit(c)
    pre = it.request(c)
    kit.contact(pre["id"], **contact)
    it.advance(2 * (it.think + 1))
    kit.get_pre_transaction(pre["id"])


def request_expired_without_cancel_url(it: RecetteIntegrator, c: str) -> None:
    kit = it.kit(c)
    reply = kit.create_pre_transaction(it.order(c), AMOUNT, format_date(it.now() + timedelta(minutes=2)) or "")
    it.advance(180)
    kit.get_pre_transaction(reply["preTransaction"]["id"])


def aborted_unread(it: RecetteIntegrator, c: str) -> None:
    pre = it.request(c)
    it.kit(c).abort(pre["id"])


def refused_unread(it: RecetteIntegrator, c: str) -> None:
    pre = it.request(c)
    it.kit(c).contact(pre["id"], email=it.case(c)["identifiers"]["beneficiaryEmail"])


def creation_never_retried(it: RecetteIntegrator, c: str) -> None:
    try:
        it.create(c)
    except OSError:
        pass


def wrong_key(it: RecetteIntegrator, c: str) -> None:
    ids = it.case(c)["identifiers"]
    KitClient(it.transport, key="0" * 32, key_version=ids["keyVersion"], shop_id=ids["shopId"]).create_transaction(
        it.order(c), "1", AMOUNT)


def journals_not_fetched(it: RecetteIntegrator, c: str) -> None:
    it.pay(c)
    it.advance(3 * 86400)


WRONG: list[tuple[str, Callable[[RecetteIntegrator, str], None], str]] = [
    ("immediate-payment", paid_without_urls, "no returnUrl was called: give one at creation (Kit §5.1)"),
    ("immediate-payment", wrong_key, "call(s) refused for their seal (invalid)"),
    ("partial-payment", paid_without_declaring, "no declaration of the amount paid in Chèques-Vacances"),
    ("fixed-amount", adjustable_instead_of_fixed, "no transaction created (amount fixed (tspdMode 002))"),
    ("refused-wrong-code", payer_again_after_rejection, "2 /payer calls for the same beneficiary"),
    ("refused-no-answer", no_time_moved, "no REJECTED_TIMEOUT transaction"),
    ("refused-abandon", rejection_never_read, "no GET of the transaction after the cancelUrl webhook"),
    ("refused-no-device", refused_payer_repeated, "payer refused 2 times with NO_ACTIVE_DEVICE"),
    ("refused-insufficient-balance", lambda it, c: refused_payer_repeated(it, c, tspd_mode="002"),
     "payer refused 2 times with INSUFFICIENT_BALANCE"),
    ("refused-other-pending", refused_payer_repeated, "payer refused 2 times with OTHER_TRANSACTION_PENDING"),
    ("deferred-capture", executed_in_full, "no successful /execute for less than authorized with payers"),
    ("deferred-not-executed", deferred_left_alone, "no DEFERRED transaction cancelled at its captureDate"),
    ("cancel-within-4h", cancelled_too_late, "no cancellation accepted within 4 h of the validation"),
    ("cancel-after-4h", lambda it, c: cancelled_too_late(it, c, times=2), "cancel refused 2 times with OPERATION_TRANSACTION_NOT_ALLOWED"),
    ("request-qr-code", request_paid_unread, "no GET of the transaction validatedPaymentTransactionId names"),
    ("request-by-email", lambda it, c: request_sent_elsewhere(it, c, email="quelqu.un@example.fr"), "no request USED"),
    ("request-by-app", lambda it, c: request_sent_elsewhere(it, c, email=it.case(c)["identifiers"]["beneficiaryEmail"]),
     "no successful /contact with beneficiaryId"),
    ("request-expired", request_expired_without_cancel_url, "no cancelUrl was called"),
    ("request-aborted", aborted_unread, "no GET of the pre-transaction after /abort"),
    ("request-refused", refused_unread, "no GET of the pre-transaction after the cancelUrl webhook"),
    ("idempotent-creation", creation_never_retried, "the creation was not retried with the same order.id and paymentId"),
    ("reconciliation", journals_not_fetched, "no DLO downloaded from the SFTP space"),
]


@pytest.mark.parametrize(("case_id", "play", "reason"), WRONG, ids=[f"{c}-{p.__name__}" for c, p, _ in WRONG])
def test_a_case_played_wrong_fails_with_a_reason_naming_the_mistake(campaigns, case_id, play, reason):
    integrator = campaigns.integrator(cases=[case_id])

    play(integrator, case_id)
    [case] = campaigns.end(integrator)["cases"]

    assert case["status"] == "failed"
    assert any(reason in r["en"] for r in case["reasons"]), case["reasons"]
    assert all(r["fr"] for r in case["reasons"])


def test_calls_over_plain_http_fail_the_https_case(campaigns):
    integrator = campaigns.integrator(cases=["immediate-payment", "https"], https=False)

    integrator.play_all()
    campaign = campaigns.end(integrator)

    assert {c["id"]: c["status"] for c in campaign["cases"]} == {"immediate-payment": "passed", "https": "failed"}
    [https] = [c for c in campaign["cases"] if c["id"] == "https"]
    assert any("call(s) over plain HTTP, e.g. POST /acquisition/api/public/v1/payment-transactions → 201" in r["en"]
               for r in https["reasons"])


def test_a_provider_sealing_with_a_shop_key_fails_the_service_provider_case(campaigns):
    integrator = campaigns.integrator(kind="provider", cases=["immediate-payment", "service-provider"])
    ids = integrator.case("immediate-payment")["identifiers"]
    world = campaigns.world
    shop = next(p for p in world.control.fixtures()["pointsOfSale"] if p["shopId"] == ids["shopId"])

    integrator.play("immediate-payment")
    KitClient(campaigns.https, key=shop["key"], key_version=shop["keyVersion"], shop_id=shop["shopId"]).point_of_sale()
    campaign = campaigns.end(integrator)

    [provider] = [c for c in campaign["cases"] if c["id"] == "service-provider"]
    assert provider["status"] == "failed"
    assert any("not sealed with the provider's key" in r["en"] for r in provider["reasons"])


def test_cases_never_played_are_not_played_and_a_case_under_way_is_running_until_the_end(campaigns):
    integrator = campaigns.integrator(cases=["immediate-payment", "refused-no-answer", "fixed-amount"])
    no_time_moved(integrator, "refused-no-answer")

    running = campaigns.world.control.recette(integrator.campaign["id"])
    ended = campaigns.end(integrator)

    assert {c["id"]: c["status"] for c in running["cases"]} == {
        "immediate-payment": "waiting", "refused-no-answer": "running", "fixed-amount": "waiting"}
    assert running["status"] == "running" and running["ended"] is False
    assert {c["id"]: c["status"] for c in ended["cases"]} == {
        "immediate-payment": "not_played", "refused-no-answer": "failed", "fixed-amount": "not_played"}
    assert ended["status"] == "failed" and ended["summary"]["not_played"] == 2
