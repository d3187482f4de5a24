"""Every scenario file of the library is a test: it runs in-process and its expectations must hold.

QA adds a file to scenarios/library/ and CI runs it. Files tagged `slow` (the month of a
region) run with `-m slow`. Like SimPy's own examples, a scenario may also have a recorded
summary in tests/scenarios/recorded/NAME.json: the run must then reproduce it exactly (wall
time aside). Re-record after an intended change with `ANCV_RECORD_SCENARIOS=1`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import simpy

from scenarios import runner, spec
from scenarios.in_process import InProcessPlatform

RECORDED = Path(__file__).with_name("recorded")


def _cases() -> list[object]:
    cases = []
    for path in spec.library():
        scenario = spec.load(path)
        marks = [pytest.mark.slow] if "slow" in scenario.tags else []
        cases.append(pytest.param(path, id=path.stem, marks=marks))
    return cases


def run_in_process(scenario: spec.Scenario, seed: int | None = None) -> runner.Run:
    seed = scenario.seed if seed is None else seed
    return runner.run(scenario, InProcessPlatform(scenario.start, seed), simpy.Environment(), seed=seed)


def comparable(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "wall_seconds"}


@pytest.mark.parametrize("path", _cases())
def test_scenario(path: Path) -> None:
    scenario = spec.load(path)
    result = run_in_process(scenario)
    failed = [e for e in result.summary["expectations"] if not e["passed"]]
    assert not failed, f"{path.name}: expectations not met: {failed}"
    assert result.summary["payments"] > 0
    recorded = RECORDED / f"{scenario.name}.json"
    if os.environ.get("ANCV_RECORD_SCENARIOS"):
        RECORDED.mkdir(exist_ok=True)
        recorded.write_text(json.dumps(comparable(result.summary), ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    elif recorded.exists():
        assert comparable(result.summary) == json.loads(recorded.read_text(encoding="utf-8")), (
            f"{path.name} no longer reproduces {recorded.name}; if the change is intended, re-record with "
            "ANCV_RECORD_SCENARIOS=1")


def test_library_covers_every_channel_parcours_and_kit_flow() -> None:
    scenarios = [spec.load(p) for p in spec.library()]
    merchants = [m for s in scenarios for m in s.merchants]
    assert {m.channel for m in merchants} == set(spec.CHANNELS)
    assert {p for m in merchants if m.channel == "portal" for p in m.parcours} == set(spec.PARCOURS)
    assert {f for m in merchants if m.channel in ("booking_engine", "psp") for f in m.flows} == set(spec.KIT_FLOWS)
    assert {m.notify for m in merchants if m.channel in ("booking_engine", "psp")} == {"webhook", "poll"}
    assert {h for s in scenarios for c in s.customers for h in c.habits} == set(spec.HABITS)
    assert any(p.suffix == ".toml" for p in spec.library())
