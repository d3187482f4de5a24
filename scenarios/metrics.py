"""A run's figures, read from what the sandbox recorded (its timeline, outbox and webhook log) and
from what the agents saw; and the scenario's expectations checked against them.

Final states come from the timeline, the same way for both transports: a payment's final state
is the state of its last state event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sandbox.domain import events as names

from .spec import Expectation, ScenarioError

TRANSACTION_EVENTS = {names.TRANSACTION_INITIALIZED: "INITIALIZED"}
PRE_TRANSACTION_EVENTS = {names.PRE_TRANSACTION_CREATED: "CREATED"}
ENDINGS = ("REJECTED", "ABORTED")
# Families of figures an expectation can name as `family.KEY` (a missing key counts 0) …
FAMILIES = ("transactions", "transaction_endings", "pre_transactions", "webhooks", "kit_errors", "app_errors",
            "portal_errors", "pro_errors", "fault_errors", "customers", "parcours", "flows", "pre_bookings")
# … and single figures.
FIGURES = ("visits", "visits_without_idle_customer", "payments", "emails", "amount_requested_cents",
           "amount_authorized_cents", "amount_validated_cents", "partial_payments", "remainder_other_means_cents",
           "bookings_cancelled", "bookings_cancelled_late", "confirmations_too_late", "polls", "webhooks_heard",
           "events", "transfers", "amount_reimbursed_cents", "amount_fees_cents")


def check_names(expectations: Iterable[Expectation]) -> None:
    for expectation in expectations:
        family, _, key = expectation.name.partition(".")
        if not ((family in FAMILIES and key) or (expectation.name in FIGURES)):
            raise ScenarioError(f"expect.{expectation.name}: unknown figure; use one of {', '.join(FIGURES)}, "
                                f"or family.KEY with a family among {', '.join(FAMILIES)}")


def final_states(events: Iterable[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each transaction's last state event data (with the amounts seen), and each pre-transaction's last state."""
    transactions: dict[str, dict[str, Any]] = {}
    requests: dict[str, str] = {}
    for event in events:
        kind, data = event["type"], event["data"]
        if kind.startswith(names.PRE_TRANSACTION_PREFIX):
            state = PRE_TRANSACTION_EVENTS.get(kind) or data.get("state")
            if state:
                requests[event["ref"]] = state
        elif kind.startswith(names.TRANSACTION_PREFIX):
            state = TRANSACTION_EVENTS.get(kind) or data.get("state")
            if not state:
                continue
            tx = transactions.setdefault(event["ref"], {"authorized": 0, "validated": 0})
            tx["state"], tx["subState"] = state, data.get("subState")
            if kind == names.TRANSACTION_AUTHORIZED:
                tx["authorized"] = data.get("amount", 0)
            elif kind == names.TRANSACTION_VALIDATED:
                tx["validated"] = data.get("amount", 0)
    return transactions, requests


def summarize(events: list[dict[str, Any]], emails: list[dict[str, Any]], webhooks: list[dict[str, Any]],
              tally: Counter[str]) -> dict[str, Any]:
    transactions, requests = final_states(events)
    states = Counter(tx["state"] for tx in transactions.values())
    endings = Counter(tx["subState"] for tx in transactions.values() if tx["state"] in ENDINGS and tx["subState"])
    families: dict[str, Counter[str]] = {family: Counter() for family in FAMILIES}
    figures: Counter[str] = Counter()
    for name, count in tally.items():
        family, _, key = name.partition(".")
        if key and family in families:
            families[family][key] += count
        else:
            figures[name] += count
    summary: dict[str, Any] = {
        "transactions": dict(sorted(states.items())),
        "transaction_endings": dict(sorted(endings.items())),
        "pre_transactions": dict(sorted(Counter(requests.values()).items())),
        "payments": len(transactions),
        "amount_requested_cents": figures.pop("amount_requested_cents", 0),
        "amount_authorized_cents": sum(tx["authorized"] for tx in transactions.values()),
        "amount_validated_cents": sum(tx["validated"] for tx in transactions.values()
                                      if tx["state"] not in ("CANCELLED", "AUTHORIZED")),
        "emails": len(emails),
        "webhooks": dict(sorted(Counter(w["state"] for w in webhooks).items())),
        "events": len(events),
        "transfers": sum(1 for e in events if e["type"] == names.TRANSFER_PAID),
        "amount_reimbursed_cents": sum(e["data"].get("net", 0) for e in events if e["type"] == names.TRANSFER_PAID),
        "amount_fees_cents": sum(e["data"].get("fee", 0) for e in events if e["type"] == names.TRANSFER_PAID),
    }
    for family in FAMILIES:
        if family not in summary:
            summary[family] = dict(sorted(families[family].items()))
    for name in FIGURES:
        summary.setdefault(name, figures.pop(name, 0))
    return summary


def merge(summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The figures of independent worlds (shards) as one world's: every figure is a count or an amount, so each is
    the sum of the worlds' (family by family, key by key); none is a rate or a mean to recompute."""
    families: dict[str, Counter[str]] = {family: Counter() for family in FAMILIES}
    figures: Counter[str] = Counter()
    for summary in summaries:
        for family in FAMILIES:
            families[family].update(summary.get(family, {}))
        for name in FIGURES:
            figures[name] += summary.get(name, 0)
    merged: dict[str, Any] = {}
    for name in (*SUMMARY_ORDER, *FAMILIES, *FIGURES):  # the order `summarize` gives
        if name not in merged:
            merged[name] = dict(sorted(families[name].items())) if name in families else figures[name]
    return merged


SUMMARY_ORDER = ("transactions", "transaction_endings", "pre_transactions", "payments", "amount_requested_cents",
                 "amount_authorized_cents", "amount_validated_cents", "emails", "webhooks", "events", "transfers",
                 "amount_reimbursed_cents", "amount_fees_cents")


def figure(summary: dict[str, Any], name: str) -> float:
    family, _, key = name.partition(".")
    if family in FAMILIES and key:
        return float(summary.get(family, {}).get(key, 0))
    return float(summary.get(name, 0))


def check(summary: dict[str, Any], expectations: Iterable[Expectation]) -> list[dict[str, Any]]:
    results = []
    for expectation in expectations:
        actual = figure(summary, expectation.name)
        results.append({"name": expectation.name, "condition": expectation.condition,
                        "actual": int(actual) if actual == int(actual) else actual,
                        "passed": expectation.holds(actual)})
    return results
