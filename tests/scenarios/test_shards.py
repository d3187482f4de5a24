"""Shards: a scenario split into independent worlds played in other processes, and merged back into one run."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from sandbox import cli
from scenarios import jobs, metrics, shards, spec, sweep
from tests.scenarios.test_library import comparable

TINY = """\
title: Deux stands
seed: 5
duration: 1h
drain: 5min
shards: 2
customers:
  - name: clients
    count: 4
    habits: {miss: 0.1}
merchants:
  - name: stand
    count: 3
    channel: pro
    category: Parc de loisirs
    arrivals: {poisson: 5/h}
    amount: {uniform: [10, 80]}
  - name: moteur
    count: 1
    channel: booking_engine
    category: Gîte
    arrivals: {poisson: 4/h}
    amount: {uniform: [50, 200]}
expect:
  payments: ">= 12"
"""


def tiny(tmp_path: Path, text: str = TINY) -> Path:
    """A scenario small enough to be played many times: two worlds of an hour each."""
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`ancv-sandbox simulate …` in this process: its exit status, stdout and stderr."""
    status = cli.main(["simulate", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_each_group_is_split_evenly_with_the_remainder_to_the_first_shards(tmp_path: Path) -> None:
    scenario = spec.load(tiny(tmp_path)).with_shards(3)
    worlds = [shards.world(scenario, k) for k in range(3)]
    assert [w.customers[0].count for w in worlds] == [2, 1, 1]
    assert [[(m.name, m.count) for m in w.merchants] for w in worlds] == [
        [("stand", 1), ("moteur", 1)], [("stand", 1)], [("stand", 1)]]
    assert all(w.shards == 1 and w.expect == () for w in worlds)


def test_shard_seeds_are_derived_from_the_seed_and_the_shard_number_only() -> None:
    assert shards.seeds(42, 1) == [42]
    four = shards.seeds(42, 4)
    assert len(set(four)) == 4 and 42 not in four
    assert shards.seeds(42, 2) == four[:2]  # shard k's seed does not depend on the shard count
    assert four[1] == int.from_bytes(hashlib.sha256(b"42/shard/1").digest()[:8], "big") >> 2
    assert shards.seeds(43, 2) != four[:2]


def test_a_scenario_that_cannot_be_split_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--shards", "5")
    assert status == 2 and out == ""
    assert err == ("ancv-sandbox simulate: --shards 5: 5 shards, but customer group 'clients' has only 4 members: "
                   "each shard needs at least one of each group\n")
    with pytest.raises(spec.ScenarioError, match=r"tiny.yaml:5: shards: 5 shards, but customer group 'clients'"):
        spec.load(tiny(tmp_path, TINY.replace("shards: 2", "shards: 5")))
    with pytest.raises(spec.ScenarioError, match=r"tiny.yaml:5: shards: a whole number from 1 to 1024"):
        spec.load(tiny(tmp_path, TINY.replace("shards: 2", "shards: 0")))


@pytest.mark.parametrize("args, message", [
    (("--shards", "0"), "--shards: a whole number from 1 to 1024 is expected, not 0"),
    (("--workers", "0"), "--workers: a whole number from 1 to 1024 is expected, not 0"),
    (("--db", "x.db"), "--db is for a run of one world in this process: not with shards (2 here), --replications "
                       "or --dask"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple,
                                              message: str) -> None:
    status, out, err = simulate(capsys, str(tiny(tmp_path)), *args)
    assert (status, out, err) == (2, "", f"ancv-sandbox simulate: {message}\n")


def test_same_seed_and_shards_give_the_same_merged_summary_with_one_or_two_workers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tiny(tmp_path))
    status_one, one, _ = simulate(capsys, path, "--workers", "1", "--json")
    status_two, two, err = simulate(capsys, path, "--workers", "2", "--json")
    assert status_one == status_two == 0
    first, second = json.loads(one), json.loads(two)
    assert comparable(first) == comparable(second)
    assert first["shards"] == 2 and first["shard_seeds"] == shards.seeds(5, 2)
    assert "[2/2] shard " in err and "shard 1 (seed " in err  # a line as each world ends, in any order


def test_merged_figures_are_the_worlds_sums_and_expectations_hold_on_them(tmp_path: Path) -> None:
    scenario = spec.load(tiny(tmp_path))
    outcomes = jobs.execute(sweep.plan(scenario, scenario.seed), workers=2)
    worlds = [o.summary for o in outcomes]
    merged = sweep.assemble(scenario, scenario.seed, outcomes, 1.0)[0].summary
    assert merged["payments"] == sum(w["payments"] for w in worlds)
    assert merged["visits"] == sum(w["visits"] for w in worlds)
    for state in merged["transactions"]:
        assert merged["transactions"][state] == sum(w["transactions"].get(state, 0) for w in worlds)
    assert all(w["payments"] < 12 for w in worlds)  # no world alone meets the expectation …
    assert merged["expectations"] == [{"name": "payments", "condition": ">= 12", "actual": merged["payments"],
                                       "passed": True}]  # … both together do


def test_merging_a_single_world_changes_none_of_its_figures(tmp_path: Path) -> None:
    scenario = spec.load(tiny(tmp_path)).with_shards(1)
    summary = jobs.execute(sweep.plan(scenario, 9), workers=1)[0].summary
    figures = {k: v for k, v in summary.items() if k in (*metrics.FAMILIES, *metrics.FIGURES)}
    assert metrics.merge([summary]) == figures
    assert list(metrics.merge([summary])) == list(figures)  # in the same order


def test_the_report_of_a_sharded_run_shows_the_merged_worlds(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--report", str(tmp_path / "report"), "--json")
    summary = json.loads(out)
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert status == 0
    assert "<dt>Mondes</dt><dd>2 (graines " in page
    assert f'<div class="name">Paiements</div><div class="value">{summary["payments"]}</div>' in page


def _die(job: jobs.Job) -> jobs.Outcome:
    """A job whose process dies on the spot, as one killed or out of memory."""
    os._exit(3)


def test_a_worker_that_dies_fails_the_run_with_no_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "play", _die)
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--workers", "2")
    assert status == 2 and out == ""
    assert err.startswith("ancv-sandbox simulate: a worker process died (killed, out of memory, or exited) with "
                          "2 of 2 jobs unfinished (shard 0 (seed ")
    assert err.endswith("no summary, since part of the run is missing\n")


def test_the_listing_says_how_long_each_scenario_takes_here(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios import durations

    measured = tmp_path / "durations.json"
    measured.write_text(json.dumps({"measured": "2026-12-03", "machine": "x86_64, 2 cores",
                                    "cpu_seconds": {"journee-chargee": 6.2, "mois-region": 600}}), encoding="utf-8")
    monkeypatch.setattr(durations, "FILE", measured)
    monkeypatch.setattr(jobs, "default_workers", lambda: 2)
    status, out, _ = simulate(capsys, "--list")
    lines = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith("(")}
    assert status == 0 and set(lines) == {p.stem for p in spec.library()}
    assert lines["journee-chargee"].split()[1:3] == ["~6", "s"]
    assert lines["mois-region"].split()[1:3] == ["~5", "min"] and lines["mois-region"].endswith(", 4 mondes")
    assert lines["gite-qr"].split()[1] == "?"
    assert out.splitlines()[-1].startswith("(durées : temps de processeur mesuré le 2026-12-03 sur x86_64, 2 cores")


def test_every_library_scenario_has_a_measured_duration() -> None:
    from scenarios import durations

    assert set(durations.measured()["cpu_seconds"]) == {p.stem for p in spec.library()}
