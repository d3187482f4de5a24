"""Same seed, same run: identical summary (wall time aside) and identical timeline."""

from __future__ import annotations

from scenarios import spec
from tests.scenarios.test_library import comparable, run_in_process


def _timeline(run) -> list[tuple]:
    return [(e["seq"], e["at"], e["type"], e["ref"], e["data"]) for e in run.events]


def test_same_seed_same_summary_and_timeline() -> None:
    scenario = spec.load(spec.find("moteur-reservation"))
    first, second = run_in_process(scenario), run_in_process(scenario)
    assert comparable(first.summary) == comparable(second.summary)
    assert _timeline(first) == _timeline(second)
    assert len(first.events) > 300


def test_another_seed_another_run() -> None:
    scenario = spec.load(spec.find("gite-qr"))
    first, other = run_in_process(scenario), run_in_process(scenario, seed=scenario.seed + 1)
    assert other.summary["seed"] == scenario.seed + 1
    assert _timeline(first) != _timeline(other)


def test_portal_and_kit_flows_reproduce_too() -> None:
    scenario = spec.load(spec.find("psp-caisse"))
    assert _timeline(run_in_process(scenario)) == _timeline(run_in_process(scenario))
