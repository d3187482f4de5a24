"""`simulate --live`: the same agents against a real server on a sped-up wall clock, over HTTP,
Socket.IO and real webhooks.

One server (`serve --clock wall --speed 100`) serves the module; the small world below runs on it
once (20 simulated minutes, about 12 s) and several tests read that run. About 30 s in all.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import simpy
import yaml

from sandbox.client import ControlClient
from scenarios import runner, spec
from scenarios.in_process import InProcessPlatform
from scenarios.live import LivePlatform
from tests.conftest import free_port, serving

SPEED = 100  # sandbox seconds per real second
FINAL_TRANSACTION_STATES = {"VALIDATED", "CANCELLED", "EXPIRED", "ABORTED", "REJECTED"}
FINAL_REQUEST_STATES = {"USED", "ABORTED", "EXPIRED"}
REFUSALS = ("kit_errors", "app_errors", "portal_errors", "pro_errors")

# Every way of cashing, a few minutes long; generous balances so that no refusal blurs the comparison.
SMALL_WORLD = """
title: Un petit monde en direct
seed: 11
duration: 8min
drain: 12min
customers:
  - name: clients
    count: 14
    balance: 2000
    think: {uniform: [5, 20]}
    habits: {partial: 0.2, miss: 0.25}
merchants:
  - name: gîte
    channel: portal
    arrivals: {every: 40s}
    amount: {uniform: [20, 80]}
    parcours: {A_qr: 1, A_id: 1, C: 2}
    validate: {after: {uniform: [1min, 3min]}, lower: 0.3}
  - name: marché
    channel: pro
    arrivals: {every: 2min}
    amount: {uniform: [5, 30]}
  - name: moteur-webhooks
    channel: booking_engine
    arrivals: {every: 1min}
    amount: {uniform: [100, 250]}
    flows: {payer: 1}
    confirm_within: 3min
    notify: webhook
    webhook_failures: 0.5
  - name: moteur-polling
    channel: booking_engine
    arrivals: {every: 2min}
    amount: {uniform: [100, 250]}
    flows: {payer: 1, qr: 1}
    notify: poll
expect:
  transactions.VALIDATED: ">= 5"
"""

# Two minutes at a market stall: about a second of real time.
STALL = """
title: Un marché en direct
seed: 3
duration: 1min
drain: 1min
customers: [{name: clients, count: 3, think: 5, balance: 300}]
merchants: [{name: marché, channel: pro, arrivals: {every: 20s}, amount: 10}]
expect: {pre_transactions.USED: "%s"}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with serving(tmp_path_factory.mktemp("live"), "--clock", "wall", "--speed", str(SPEED)) as served:
        yield served


class RecordingPlatform(LivePlatform):
    """The live platform, keeping what the population request added (to log in as its merchants)."""

    world: dict[str, Any]

    def populate(self, request: dict[str, Any]) -> dict[str, Any]:
        self.world = super().populate(request)
        return self.world


@dataclass
class LiveRun:
    run: runner.Run
    world: dict[str, Any]
    before: int  # the timeline's last seq before the run
    url: str
    control: ControlClient
    threads_left: set[threading.Thread]


@pytest.fixture(scope="module")
def live_run(server: Any) -> LiveRun:
    url, control, _, _ = server
    before = max((e["seq"] for e in control.events()), default=0)
    threads = set(threading.enumerate())
    platform = RecordingPlatform(url)
    run = runner.run(spec.Scenario.parse(yaml.safe_load(SMALL_WORLD), "petit-monde"), platform,
                     platform.environment())
    return LiveRun(run, platform.world, before, url, control, set(threading.enumerate()) - threads)


def _last_states(events: list[dict[str, Any]], prefix: str, first: str, first_state: str) -> Counter[str]:
    """Each object's last state, read from raw timeline events (not through scenarios.metrics)."""
    last: dict[str, str] = {}
    for event in events:
        kind = event["type"]
        if kind.startswith(prefix):  # "PreTransaction…" does not start with "Transaction"
            state = first_state if kind == first else event["data"].get("state")
            if state:
                last[event["ref"]] = state
    return Counter(last.values())


def test_a_live_run_ends_every_payment_in_the_state_the_server_recorded(live_run: LiveRun) -> None:
    summary = live_run.run.summary
    timeline = live_run.control.events(after=live_run.before)
    transactions = _last_states(timeline, "Transaction", "TransactionInitialized", "INITIALIZED")
    requests_ = _last_states(timeline, "PreTransaction", "PreTransactionCreated", "CREATED")
    assert summary["transport"] == "live" and live_run.run.passed
    assert summary["transactions"] == dict(transactions) and summary["pre_transactions"] == dict(requests_)
    assert set(transactions) <= FINAL_TRANSACTION_STATES and set(requests_) <= FINAL_REQUEST_STATES
    assert transactions["VALIDATED"] >= 10 and requests_["USED"] >= 3
    assert summary["payments"] == sum(transactions.values())
    # what the customers did shows on the server: partial payments, and missed ones timing out
    assert summary["partial_payments"] >= 1 and summary["customers"].get("miss", 0) >= 1
    assert transactions["REJECTED"] >= 1
    # no refusal anywhere: the pages and the Kit were driven the way they expect
    assert not any(summary[family] for family in REFUSALS)
    assert summary["polls"] > 0 and summary["visits"] == 24
    assert live_run.threads_left == set(), "the live platform left threads running"


def test_webhooks_reach_the_integrators_server_and_a_refused_call_is_retried(live_run: LiveRun) -> None:
    summary = live_run.run.summary
    assert summary["webhooks"].get("delivered", 0) >= 3 and summary["webhooks_heard"] >= 3
    deliveries = [w for w in live_run.control.webhooks() if "/moteur-webhooks-0/" in w["url"]]
    assert deliveries and all(w["url"].startswith("http://127.0.0.1:") for w in deliveries)
    statuses = [[a["status"] for a in w["attempts"]] for w in deliveries if w["state"] == "delivered"]
    assert any(s[0] == 500 and s[-1] == 200 for s in statuses), statuses  # answered 500, then retried
    assert Counter(w["state"] for w in deliveries) == Counter(summary["webhooks"])


def test_the_portal_merchants_payments_are_operations_of_the_espace_dedie(live_run: LiveRun) -> None:
    shop = live_run.world["pointsOfSale"][0]  # the portal merchant comes first in the scenario
    browser = requests.Session()
    page = browser.get(f"{live_run.url}/espace-ptl/connexion", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    browser.post(f"{live_run.url}/espace-ptl/connexion", timeout=10,
                 data={"csrf_token": token, "login": shop["login"], "password": shop["password"]})
    table = browser.get(f"{live_run.url}/espace-ptl/encaissement", timeout=10).text
    browser.close()
    rows = re.findall(r"<td>[^<]*</td><td>([^<]+)</td><td>[^<]*</td><td class=\"status\">([^<]+)</td>", table)
    served = sum(live_run.run.summary["parcours"].values())
    assert sorted(order for order, _ in rows) == sorted(f"{shop['shopId']}-{n}" for n in range(1, served + 1))
    statuses = Counter(status for _, status in rows)
    assert statuses["Validé"] >= 1
    assert not statuses["En attente de paiement client"] and not statuses["A valider"]  # nothing left midway


def test_in_process_and_live_runs_of_one_scenario_end_the_same_ways(live_run: LiveRun) -> None:
    scenario = spec.Scenario.parse(yaml.safe_load(SMALL_WORLD), "petit-monde")
    in_process = InProcessPlatform(scenario.start, scenario.seed)
    local = runner.run(scenario, in_process, simpy.Environment()).summary
    live = live_run.run.summary
    assert local["transport"] == "in-process"
    for summary in (local, live):  # real time is not deterministic: the same kinds, not the same numbers
        # a client who never answers, met by the booking engine with 3 minutes to confirm, is cancelled by
        # the engine at 3 minutes, before the Kit's 250 s timeout: which clients meet it depends on timing
        assert set(summary["transactions"]) - {"CANCELLED"} == {"VALIDATED", "REJECTED"}
        assert summary["transactions"].get("CANCELLED", 0) == summary.get("confirmations_too_late", 0)
        assert summary["transaction_endings"].keys() == {"REJECTED_TIMEOUT"}
        assert summary["pre_transactions"].get("USED", 0) >= 1
        assert summary["webhooks"].get("delivered", 0) >= 1 and summary["polls"] > 0
        assert summary["partial_payments"] >= 1
        assert not any(summary[family] for family in REFUSALS)
    # arrivals do not depend on time's pace, nor how many visits each merchant served; which flow or parcours
    # a visit took does: a merchant draws it after drawing clients until one is idle, and who is busy at that
    # moment depends on how long the others' payments took (a loaded machine gave payer 8, qr 2 against 9, 1)
    assert local["visits"] == live["visits"]
    assert sum(local["flows"].values()) == sum(live["flows"].values())
    assert sum(local["parcours"].values()) == sum(live["parcours"].values())
    assert abs(local["payments"] - live["payments"]) <= 4


# --- the command -------------------------------------------------------------------------------------------

def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    """`ancv-sandbox simulate …` as a person types it: its exit status and what it printed."""
    return subprocess.run([sys.executable, "-m", "sandbox.cli", "simulate", *args], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])


def test_the_command_exits_0_when_expectations_hold_and_1_when_one_fails(server: Any, tmp_path: Path) -> None:
    url = server[0]
    holds, fails = tmp_path / "holds.yaml", tmp_path / "fails.yaml"
    holds.write_text(STALL % ">= 1", encoding="utf-8")
    fails.write_text(STALL % ">= 100", encoding="utf-8")
    passed = simulate(str(holds), "--live", url)
    assert passed.returncode == 0, passed.stderr
    assert "live)" in passed.stdout and "✓ pre_transactions.USED >= 1" in passed.stdout
    failed = simulate(str(fails), "--live", url, "--speed", str(SPEED))
    assert failed.returncode == 1, failed.stderr
    assert "✗ pre_transactions.USED >= 100" in failed.stdout


def test_the_command_refuses_a_server_it_cannot_play_against_with_status_2(server: Any,
                                                                           tmp_path: Path) -> None:
    stall = tmp_path / "stall.yaml"
    stall.write_text(STALL % ">= 1", encoding="utf-8")
    nobody = simulate(str(stall), "--live", f"http://127.0.0.1:{free_port()}")
    assert nobody.returncode == 2 and "cannot reach a sandbox" in nobody.stderr
    other_speed = simulate(str(stall), "--live", server[0], "--speed", "7")
    assert other_speed.returncode == 2 and f"runs at speed {SPEED}" in other_speed.stderr
    with serving(tmp_path, "--clock", "virtual") as (virtual_url, *_):
        virtual = simulate(str(stall), "--live", virtual_url)
    assert virtual.returncode == 2 and "virtual clock" in virtual.stderr and "--clock wall" in virtual.stderr


def test_a_server_with_an_admin_token_is_played_with_the_token_and_refused_without(tmp_path: Path) -> None:
    stall = tmp_path / "stall.yaml"
    stall.write_text(STALL % ">= 1", encoding="utf-8")
    with serving(tmp_path, "--clock", "wall", "--speed", str(SPEED), "--admin-token", "s3cret") as (url, *_):
        without = simulate(str(stall), "--live", url)
        wrong = simulate(str(stall), "--live", url, "--admin-token", "guess")
        played = simulate(str(stall), "--live", url, "--admin-token", "s3cret")
    assert without.returncode == 2 and "--admin-token" in without.stderr
    assert wrong.returncode == 2 and "--admin-token" in wrong.stderr
    assert played.returncode == 0, played.stderr  # the control plane and the timeline both took the token
