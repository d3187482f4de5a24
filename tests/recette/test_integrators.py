"""The cahier de recette judged on simulated integrators: a correct one passes every case; each faulty one
fails exactly the cases its mistake breaks, with a reason a developer can act on."""

from __future__ import annotations

from typing import Any

from merchant_sim.integrator import Flaws
from sandbox.domain.recette import CATALOGUE


def verdicts(campaign: dict[str, Any]) -> dict[str, str]:
    return {case["id"]: case["status"] for case in campaign["cases"]}


def reasons(campaign: dict[str, Any], case_id: str) -> list[str]:
    return [r["en"] for c in campaign["cases"] if c["id"] == case_id for r in c["reasons"]]


def test_a_correct_integrator_passes_every_case_of_a_shop_campaign(campaigns):
    campaign = campaigns.play()

    failed = {c["id"]: [r["en"] for r in c["reasons"]] for c in campaign["cases"] if c["status"] != "passed"}
    assert failed == {}
    assert set(verdicts(campaign)) == {c.case_id for c in CATALOGUE if "shop" in c.holders}
    assert campaign["status"] == "passed"
    [retried] = next(c for c in campaign["cases"] if c["id"] == "webhook-retry")["evidence"]["webhooks"]
    assert [(a["status"], a.get("error", "")[:30], bool(a["at"])) for a in retried["attempts"]] == [
        (200, "answer lost on the way back (a", True), (200, "", True)]


WEBHOOK_CASES = {"immediate-payment", "partial-payment", "fixed-amount", "refused-wrong-code", "refused-no-answer",
                 "refused-abandon", "request-expired", "request-refused", "webhook-retry"}


def test_an_integrator_whose_receiver_fails_fails_every_case_judged_on_a_webhook(campaigns):
    campaign = campaigns.play(Flaws(ignores_webhooks=True))

    assert {case for case, status in verdicts(campaign).items() if status != "passed"} == WEBHOOK_CASES
    assert any("answered 500, 500, 500, 500, 500 on all 5 attempts" in r for r in reasons(campaign, "immediate-payment"))
    assert campaign["status"] == "failed"


def test_an_integrator_polling_too_fast_fails_the_polling_case_only(campaigns):
    campaign = campaigns.play(Flaws(polls_fast=True))

    assert {case for case, status in verdicts(campaign).items() if status != "passed"} == {"polling-rate"}
    [reason] = reasons(campaign, "polling-rate")
    assert reason.startswith("GET /acquisition/api/public/v1/payment-transactions/") and "polled 10 times in" in reason


def test_an_integrator_retrying_a_lost_creation_with_a_new_order_fails_the_idempotency_case_only(campaigns):
    campaign = campaigns.play(Flaws(new_order_on_retry=True))

    assert {case for case, status in verdicts(campaign).items() if status != "passed"} == {"idempotent-creation"}
    assert any("retried with a new order.id after a lost response: 2 transactions for one basket" in r
               for r in reasons(campaign, "idempotent-creation"))


def test_an_integrator_treating_a_partial_authorization_as_full_fails_the_partial_case_only(campaigns):
    campaign = campaigns.play(Flaws(partial_as_full=True))

    assert {case for case, status in verdicts(campaign).items() if status != "passed"} == {"partial-payment"}
    assert reasons(campaign, "partial-payment") == [
        "partial authorization treated as full: 40,00\xa0€ recorded, ANCV authorized 20,00\xa0€, "
        "20,00\xa0€ of the basket unpaid"]


def test_a_correct_provider_passes_its_campaign_sealing_every_call_with_its_key(campaigns):
    campaign = campaigns.play(kind="provider", cases=["immediate-payment", "request-by-app", "service-provider",
                                                      "reconciliation"])

    assert verdicts(campaign) == dict.fromkeys(
        ["immediate-payment", "request-by-app", "service-provider", "reconciliation"], "passed")
    provider = campaigns.world.provider["serviceProviderId"]
    assert {c["identifiers"].get("serviceProviderId") for c in campaign["cases"] if c["identifiers"]} == {provider}
    sftp = next(c for c in campaign["cases"] if c["id"] == "reconciliation")["evidence"]["sftp"]
    assert {e["username"] for e in sftp} == {str(provider)}
    assert {e["path"].rsplit("/", 1)[1][:3] for e in sftp if e["action"] == "download"} == {"DLO", "BRJ"}


def test_the_sftp_downloader_works_under_a_running_event_loop():
    """A test framework may leave an event loop running (it did in CI): downloading must still try the server."""
    import asyncio

    import pytest

    from merchant_sim.integrator import sftp_downloader
    from sandbox.pytest_plugin import free_port

    download = sftp_downloader("127.0.0.1", free_port())

    async def inside_a_loop() -> None:
        with pytest.raises(OSError):  # nobody listens there; before the fix: RuntimeError from asyncio.run
            download("someone", "secret")

    # the test's own loop runs on a thread of its own too: the one running it may hold one already (as in CI)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, inside_a_loop()).result()
