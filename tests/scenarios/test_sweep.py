"""Seed sweeps: `simulate NAME --replications N`, each figure's mean and 95 % interval, each expectation's pass rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios import spec, sweep
from tests.scenarios.test_library import comparable, run_in_process
from tests.scenarios.test_shards import TINY, simulate, tiny

ONE_WORLD = TINY.replace("shards: 2\n", "")


def without_wall_time(result: dict) -> dict:
    return {**comparable(result), "runs": [comparable(run) for run in result["runs"]]}


@pytest.mark.parametrize("df, t", [(1, 12.7062), (4, 2.7764), (30, 2.0423), (40, 2.0211), (120, 1.9799)])
def test_student_t_quantiles(df: int, t: float) -> None:
    assert sweep.t_975(df) == pytest.approx(t, abs=2e-4)


def test_spread_is_the_mean_with_its_95_percent_student_interval() -> None:
    s = sweep.spread([1, 2, 3, 4, 5])
    assert (s.mean, s.least, s.most) == (3, 1, 5)
    assert s.sd == pytest.approx(1.5811, abs=1e-4)
    assert (s.low, s.high) == (pytest.approx(3 - 1.9632, abs=1e-3), pytest.approx(3 + 1.9632, abs=1e-3))
    alone = sweep.spread([7])
    assert (alone.mean, alone.low, alone.high, alone.sd) == (7, None, None, None)


def test_replications_run_seed_after_seed_and_each_is_the_plain_run_of_its_seed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny(tmp_path, ONE_WORLD)
    status, out, _ = simulate(capsys, str(path), "--replications", "3", "--seed", "20", "--json")
    result = json.loads(out)
    assert status == 0
    assert result["seeds"] == [20, 21, 22] and result["replications"] == 3
    plain = run_in_process(spec.load(path), seed=21).summary
    assert comparable(result["runs"][1]) == comparable(plain)
    payments = [run["payments"] for run in result["runs"]]
    assert result["figures"]["payments"]["mean"] == pytest.approx(sum(payments) / 3, abs=1e-4)
    low, high = result["figures"]["payments"]["ci95"]
    assert low < result["figures"]["payments"]["mean"] < high


def test_the_same_replications_give_the_same_spread_whatever_the_workers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tiny(tmp_path))  # sharded, too: each replication is two worlds
    _, one, _ = simulate(capsys, path, "--replications", "2", "--workers", "1", "--json")
    _, two, err = simulate(capsys, path, "--replications", "2", "--workers", "2", "--json")
    first, second = json.loads(one), json.loads(two)
    assert without_wall_time(first) == without_wall_time(second)
    assert first["shards"] == 2 and all(run["shards"] == 2 for run in first["runs"])
    assert "[4/4] " in err


def test_an_expectation_failed_in_one_replication_fails_the_sweep(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny(tmp_path, ONE_WORLD.replace('payments: ">= 12"', 'payments: ">= 12"\n  visits: ">= 21"'))
    status, out, _ = simulate(capsys, str(path), "--replications", "3")
    assert status == 1
    assert "  ✓ payments >= 12: tenue dans 3/3 réplications (100%)" in out
    assert "  ✗ visits >= 21: tenue dans 2/3 réplications (67%)" in out
    assert out.rstrip().endswith("FAILED: 1 expectation(s) not met in every replication")


def test_replications_zero_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--replications", "0")
    assert (status, out) == (2, "")
    assert err == "ancv-sandbox simulate: --replications: a whole number from 1 to 10000 is expected, not 0\n"


def test_the_report_of_a_sweep_shows_pass_rates_and_the_spread(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = simulate(capsys, str(tiny(tmp_path, ONE_WORLD)), "--replications", "3", "--report",
                                str(tmp_path / "report"), "--json")
    result = json.loads(out)
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert status == 0 and f"report: {tmp_path / 'report' / 'index.html'}" in err
    assert "✓ Attentes tenues dans les 3 réplications" in page
    assert '<td class="num">3 sur 3</td><td class="num">100\u00a0%</td>' in page
    assert result["figures"]["payments"]["ci95"] is not None
    assert '<td><code>payments</code></td>' in page and "Intervalle de confiance à 95" in page
    assert 'id="plot-etats-finaux-dispersion"' in page
