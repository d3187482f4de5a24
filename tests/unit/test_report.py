"""The simulation report: numbers read from a hand-made timeline, the page it writes, and its cost on a big run.

`synthetic_run` builds a plausible run (summary and events) from a seed; the browser test uses it too.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from scenarios.report import (
    peaks_between,
    percentile,
    read_timeline,
    sample_instants,
    starts_per_day,
    starts_per_hour,
    states_at,
    write_report,
)

START = datetime(2026, 7, 4, 6, 0, tzinfo=UTC)  # 08:00 in Paris
NNBSP = "\u202f"


def event(seq: int, seconds: float, kind: str, ref: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"seq": seq, "at": START + timedelta(seconds=seconds), "type": kind, "ref": ref, "data": data}


def small_run() -> list[dict[str, Any]]:
    """Five payments with known timings: A partial then validated, B timed out, C expired, D abandoned,
    E paid a payment request P."""
    rows = [
        (0, "TransactionInitialized", "A", {"amount": 4000, "shopId": 1}),
        (0, "PreTransactionCreated", "P", {"amount": 6000, "shopId": 1}),
        (1, "PreTransactionProcessing", "P", {"state": "PROCESSING", "via": "qr-code"}),
        (5, "ClockAdvanced", "clock", {"seconds": 5}),
        (10, "TransactionProcessing", "A", {"state": "PROCESSING", "subState": "IN_ADJUSTMENT",
                                            "beneficiaryId": "10001001576", "amount": 4000}),
        (20, "TransactionProcessing", "A", {"state": "PROCESSING", "subState": "AUTHORIZATION_REQUEST",
                                            "amount": 3000}),
        (30, "TransactionInitialized", "B", {"amount": 2500, "shopId": 1}),
        (40, "TransactionProcessing", "B", {"state": "PROCESSING", "subState": "IN_ADJUSTMENT"}),
        (70, "TransactionAuthorized", "A", {"state": "AUTHORIZED", "amount": 3000, "authorization": "123"}),
        (100, "TransactionValidated", "A", {"state": "VALIDATED", "amount": 3000}),
        (290, "TransactionRejected", "B", {"state": "REJECTED", "subState": "REJECTED_TIMEOUT", "reason": "timeout"}),
        (500, "TransactionInitialized", "E", {"amount": 6000, "shopId": 1}),
        (500, "PreTransactionAuthorizing", "P", {"state": "AUTHORIZING", "transactionId": "E"}),
        (505, "TransactionProcessing", "E", {"state": "PROCESSING", "subState": "AUTHORIZATION_REQUEST"}),
        (525, "TransactionAuthorized", "E", {"state": "AUTHORIZED", "amount": 6000, "authorization": "124"}),
        (525, "PreTransactionUsed", "P", {"state": "USED", "transactionId": "E"}),
        (600, "TransactionValidated", "E", {"state": "VALIDATED", "amount": 6000}),
        (3700, "TransactionInitialized", "C", {"amount": 1000, "shopId": 2}),
        (3800, "TransactionInitialized", "D", {"amount": 5000, "shopId": 2}),
        (3805, "TransactionProcessing", "D", {"state": "PROCESSING", "subState": "IN_ADJUSTMENT"}),
        (3835, "TransactionAborted", "D", {"state": "ABORTED", "subState": "ABORTED_TSPD"}),
        (4000, "TransactionExpired", "C", {"state": "EXPIRED"}),
    ]
    return [event(seq, *row) for seq, row in enumerate(rows, start=1)]


def test_states_over_time_count_each_transaction_in_its_latest_state_at_or_before_each_instant():
    timeline = read_timeline(small_run(), START, 7200)
    series = states_at(timeline, [0, 10, 69, 70, 100, 3750, 4000, 7200])

    def at(k: int) -> dict[str, int]:
        return {state: counts[k] for state, counts in series.items() if counts[k]}

    assert at(0) == {"INITIALIZED": 1}
    assert at(1) == {"PROCESSING": 1}
    assert at(2) == {"PROCESSING": 2}
    assert at(3) == {"AUTHORIZED": 1, "PROCESSING": 1}
    assert at(4) == {"VALIDATED": 1, "PROCESSING": 1}
    assert at(5) == {"VALIDATED": 2, "REJECTED": 1, "INITIALIZED": 1}
    assert at(6) == {"VALIDATED": 2, "REJECTED": 1, "ABORTED": 1, "EXPIRED": 1}
    assert at(7) == at(6)
    assert timeline.transactions == 5
    assert list(series)[:2] == ["VALIDATED", "AUTHORIZED"]  # stacked bottom-up: money first


def test_peaks_catch_what_waited_between_two_samples():
    timeline = read_timeline(small_run(), START, 7200)
    instants = [0, 100, 3750, 4000]
    peaks = peaks_between(timeline, instants)
    assert peaks["PROCESSING"] == [0, 2, 1, 1]  # A and B together at 40-70 s; D only 3805-3835 s
    assert peaks["INITIALIZED"] == [1, 1, 1, 2]  # C waits from 3700 s, D joins it at 3800 s
    assert peaks["AUTHORIZED"] == [0, 1, 1, 0]
    assert states_at(timeline, instants)["PROCESSING"] == [0, 1, 0, 0]  # what samples alone would show


def test_waiting_times_run_from_the_first_processing_to_the_answer_split_by_outcome():
    timeline = read_timeline(small_run(), START, 7200)
    assert sorted(timeline.waits["AUTHORIZED"]) == [20, 60]  # E 505->525; A 10->70, not 20->70
    assert timeline.waits["REJECTED"] == [250]
    assert timeline.waits["ABORTED"] == [30]
    assert timeline.pre_waits == [525]  # P created at 0, used at 525


def test_amounts_and_partial_payments_come_from_initialized_and_authorized_events():
    timeline = read_timeline(small_run(), START, 7200)
    assert sorted(timeline.requested) == [1000, 2500, 4000, 5000, 6000]
    assert timeline.pre_requested == [6000]
    assert sorted(timeline.authorized) == [3000, 6000]
    assert (timeline.partial, timeline.partial_unpaid) == (1, 1000)  # A: 30,00 € of 40,00 €


def test_payments_started_per_hour_are_split_by_their_final_state():
    hours = starts_per_hour(read_timeline(small_run(), START, 7200))
    assert hours == [Counter({"VALIDATED": 2, "REJECTED": 1}), Counter({"EXPIRED": 1, "ABORTED": 1})]


def test_hours_follow_the_clock_when_the_run_starts_at_half_past():
    start = START + timedelta(minutes=30)
    events = [{"seq": 1, "at": "2026-07-04T06:55:00.000Z", "type": "TransactionInitialized", "ref": "A",
               "data": {"amount": 100}},
              {"seq": 2, "at": "2026-07-04T07:01:40.000Z", "type": "TransactionInitialized", "ref": "B",
               "data": {"amount": 100}}]
    hours = starts_per_hour(read_timeline(events, start, 3600))
    assert [sum(hour.values()) for hour in hours] == [1, 1]  # 06:30-07:00 holds A, 07:00-07:30 holds B


def test_long_runs_count_starts_per_calendar_day_in_paris():
    start = datetime(2026, 7, 4, 20, 30, tzinfo=UTC)  # 22:30 in Paris
    hours = [Counter({"VALIDATED": k + 1}) for k in range(5)]  # 22h, 23h, then 00h, 01h, 02h on the 5th
    assert starts_per_day(start, hours) == [(date(2026, 7, 4), Counter({"VALIDATED": 3})),
                                            (date(2026, 7, 5), Counter({"VALIDATED": 12}))]


def test_iso_strings_and_shuffled_events_read_like_datetimes_in_order():
    events = small_run()
    as_strings = [{**e, "at": e["at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")} for e in events]
    random.Random(3).shuffle(as_strings)
    as_strings.sort(key=lambda e: e["seq"] % 3)  # thoroughly out of order, as a stress
    instants = sample_instants(7200, 36)
    assert states_at(read_timeline(as_strings, START, 7200), instants) == states_at(
        read_timeline(events, START, 7200), instants)


def test_without_a_start_the_first_event_starts_the_clock():
    timeline = read_timeline(small_run()[3:], None, 0)  # from the ClockAdvanced at 06:00:05
    assert timeline.start == START + timedelta(seconds=5)
    assert timeline.duration == 3995
    assert timeline.waits["REJECTED"] == [250]


def test_percentiles_interpolate_between_ranks():
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile(list(range(101)), 0.95) == 95
    assert percentile([7], 0.95) == 7
    assert percentile([], 0.5) == 0


SUMMARY: dict[str, Any] = {
    "scenario": "gite-qr", "title": "Un gîte encaisse ses hôtes par QR code",
    "description": "Des hôtes paient leur séjour en scannant le QR code du gîte.",
    "seed": 42, "transport": "in-process", "start": "2026-07-04T06:00:00.000Z",
    "simulated_seconds": 7200.0, "wall_seconds": 1.84,
    "transactions": {"VALIDATED": 2, "REJECTED": 1, "ABORTED": 1, "EXPIRED": 1},
    "transaction_endings": {"REJECTED_TIMEOUT": 1, "ABORTED_TSPD": 1},
    "pre_transactions": {"USED": 1},
    "amount_requested_cents": 2650000, "amount_authorized_cents": 900000, "amount_validated_cents": 900000,
    "emails": 4, "webhooks": {"delivered": 3, "failed": 1},
    "kit_errors": {"OTHER_TRANSACTION_PENDING": 2, "INSUFFICIENT_BALANCE": 1},
    "visits": 140,
    "queue_peak": 17, "smtp": {"relayed_cents": 1234},
    "expectations": [
        {"name": "transactions.VALIDATED", "condition": ">= 2", "actual": 2, "passed": True},
        {"name": "kit_errors.INSUFFICIENT_BALANCE", "condition": "== 0", "actual": 1, "passed": False},
    ],
}


def test_report_page_shows_the_run_its_expectations_and_its_figures(tmp_path):
    path = write_report(tmp_path / "report" / "nested", SUMMARY, small_run())
    html = path.read_text(encoding="utf-8")

    assert path == tmp_path / "report" / "nested" / "index.html"
    assert "<h1>Un gîte encaisse ses hôtes par QR code</h1>" in html
    assert "gite-qr" in html and "in-process" in html
    assert "2\u00a0h 00\u00a0min" in html  # simulated duration
    assert "1,84\u00a0s" in html  # wall time
    assert "samedi 4 juillet 2026 à 08:00 (heure de Paris)" in html
    assert "1 attente non satisfaite sur 2" in html
    assert re.search(r'<tr class="ok"><td class="mark">✓</td><td><code>transactions\.VALIDATED', html)
    assert re.search(r'<tr class="ko"><td class="mark">✗</td><td><code>kit_errors\.INSUFFICIENT_BALANCE', html)
    assert f"26{NNBSP}500,00\u00a0€" in html  # amount requested, the French way
    assert "Refusé : délai de confirmation dépassé" in html.replace("&#x27;", "'")
    assert "OTHER_TRANSACTION_PENDING" in html
    assert "1 paiement partiel" in html and "10,00\u00a0€ restant à payer" in html
    assert "Autres chiffres" in html and "queue_peak" in html and "12,34\u00a0€" in html
    for figure in ("etats-finaux", "etats-dans-le-temps", "temps-de-reponse", "montants", "activite"):
        assert re.search(rf'<figure id="plot-{figure}"><svg ', html), figure
    assert "<script" not in html
    assert not re.search(r'(src|href)="https?:|url\(https?:|@import', html)  # nothing fetched from a network


def test_a_report_where_every_expectation_holds_says_so(tmp_path):
    summary = {**SUMMARY, "expectations": [SUMMARY["expectations"][0]]}
    html = write_report(tmp_path, summary, small_run()).read_text(encoding="utf-8")
    assert "Attentes satisfaites (1 sur 1)" in html
    assert "non satisfaite" not in html


def test_a_run_without_any_event_still_writes_a_readable_report(tmp_path):
    summary = {"seed": 1, "simulated_seconds": 0.0, "wall_seconds": 0.01, "transactions": {},
               "pre_transactions": {}, "expectations": []}
    html = write_report(tmp_path, summary, []).read_text(encoding="utf-8")
    assert "Aucune transaction" in html
    assert "<h1>Simulation</h1>" in html
    assert "Attentes satisfaites" not in html and "<svg" not in html


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def synthetic_run(payments: int, seed: int = 42, hours: float = 12.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A plausible day: payments start through the day, a third of them from a payment request; clients answer
    after about 40 s, some too late, some give up; some pay less than asked; most merchants validate."""
    rng = random.Random(seed)
    span = hours * 3600
    rows: list[tuple[float, str, str, dict[str, Any]]] = []
    finals: Counter[str] = Counter()
    endings: Counter[str] = Counter()
    pre_finals: Counter[str] = Counter()
    requested = authorized = validated = 0

    def add(t: float, kind: str, ref: str, **data: Any) -> None:
        rows.append((t, kind, ref, data))

    for i in range(payments):
        tx = f"tx{i:07d}"
        t = rng.triangular(0, span * 0.97, span * 0.45)
        amount = rng.choice((2000, 3500, 5000, 8000, 12000, 20000, 45000)) + rng.randrange(0, 3000, 50)
        requested += amount
        pre = f"pre{i:07d}" if rng.random() < 0.3 else None
        if pre:
            created = max(0.0, t - rng.uniform(30, 3600))
            add(created, "PreTransactionCreated", pre, amount=amount, shopId=1 + i % 40)
            add(created + 1, "PreTransactionProcessing", pre, state="PROCESSING", via="qr-code")
            add(t, "PreTransactionAuthorizing", pre, state="AUTHORIZING", transactionId=tx)
        add(t, "TransactionInitialized", tx, amount=amount, shopId=1 + i % 40)
        draw = rng.random()
        if draw < 0.03 and not pre:
            add(t + 300, "TransactionExpired", tx, state="EXPIRED")
            finals["EXPIRED"] += 1
            continue
        if draw < 0.05 and not pre:
            add(t + rng.uniform(20, 250), "TransactionCancelled", tx, state="CANCELLED", reason="OTHER")
            finals["CANCELLED"] += 1
            continue
        t += rng.uniform(2, 30)
        add(t, "TransactionProcessing", tx, state="PROCESSING", subState="IN_ADJUSTMENT", amount=amount)
        answer = rng.random()
        if answer < 0.07:
            state, sub, t = "REJECTED", "REJECTED_TIMEOUT", t + 250
        elif answer < 0.10:
            state, sub, t = "REJECTED", "REJECTED_SECURITY", t + rng.lognormvariate(math.log(50), 0.4)
        elif answer < 0.15:
            state, sub, t = "ABORTED", "ABORTED_TSPD", t + rng.lognormvariate(math.log(25), 0.6)
        else:
            state, sub, t = "AUTHORIZED", None, t + min(240.0, rng.lognormvariate(math.log(40), 0.5))
        if state != "AUTHORIZED":
            add(t, f"Transaction{state.capitalize()}", tx, state=state, subState=sub)
            endings[sub] += 1
            finals[state] += 1
            if pre:
                add(t, "PreTransactionProcessing", pre, state="PROCESSING")
                pre_finals["PROCESSING"] += 1
            continue
        paid = amount if rng.random() > 0.12 else amount * rng.randrange(30, 95) // 100
        authorized += paid
        add(t, "TransactionAuthorized", tx, state="AUTHORIZED", amount=paid, authorization=f"{i:09d}")
        if pre:
            add(t, "PreTransactionUsed", pre, state="USED", transactionId=tx)
            pre_finals["USED"] += 1
        after = rng.random()
        if after < 0.88:
            add(t + rng.uniform(1, 900), "TransactionValidated", tx, state="VALIDATED", amount=paid)
            validated += paid
            finals["VALIDATED"] += 1
        elif after < 0.93:
            add(t + rng.uniform(60, 3600), "TransactionCancelled", tx, state="CANCELLED", reason="CUSTOMER_ABORT")
            finals["CANCELLED"] += 1
        else:
            finals["AUTHORIZED"] += 1
    for minute in range(int(span // 60)):
        add(minute * 60.0, "ClockAdvanced", "clock", seconds=60)
    rows.sort(key=lambda row: row[0])
    events = [{"seq": seq, "at": iso(START + timedelta(seconds=t)), "type": kind, "ref": ref, "data": data}
              for seq, (t, kind, ref, data) in enumerate(rows, start=1)]
    summary = {
        "scenario": "journee-synthetique", "title": "Une journée synthétique de paiements",
        "description": f"{payments} paiements tirés au hasard (graine {seed}), sans serveur : le jeu d'essai du "
                       "rapport.",
        "seed": seed, "transport": "in-process", "start": iso(START), "simulated_seconds": span,
        "wall_seconds": 3.2, "transactions": dict(finals), "transaction_endings": dict(endings),
        "pre_transactions": dict(pre_finals), "amount_requested_cents": requested,
        "amount_authorized_cents": authorized, "amount_validated_cents": validated,
        "emails": finals["VALIDATED"] // 3, "webhooks": {"delivered": payments, "failed": 0},
        "kit_errors": {"OTHER_TRANSACTION_PENDING": payments // 100}, "visits": payments + payments // 3,
        "expectations": [
            {"name": "transactions.VALIDATED", "condition": f">= {payments // 2}", "actual": finals["VALIDATED"],
             "passed": finals["VALIDATED"] >= payments // 2},
            {"name": "webhooks.failed", "condition": "== 0", "actual": 0, "passed": True},
        ],
    }
    return summary, events


def test_synthetic_run_reads_back_as_its_own_summary():
    summary, events = synthetic_run(500, seed=7)
    timeline = read_timeline(events, START, summary["simulated_seconds"])
    end = states_at(timeline, [summary["simulated_seconds"]])
    assert {state: counts[0] for state, counts in end.items() if counts[0]} == summary["transactions"]
    hours = starts_per_hour(timeline)
    assert len(hours) == 12 and sum(sum(hour.values()) for hour in hours) == 500


@pytest.mark.parametrize("payments", [20_000, pytest.param(200_000, marks=pytest.mark.slow)])
def test_a_big_run_renders_into_a_small_page(tmp_path, payments):
    """The page holds figures, not events: its size does not follow the run's (200,000 payments: -m slow)."""
    summary, events = synthetic_run(payments, seed=1)
    assert len(events) > 4 * payments
    path = write_report(tmp_path, summary, events)
    size = path.stat().st_size
    assert size < 2_000_000
    assert path.read_text(encoding="utf-8").count("<figure") == 5
