"""Seed sweeps: a scenario replicated with N seeds (`simulate NAME --replications N`), and the spread of its figures.

Replication r (from 0) runs with the seed `seed + r`, so replication 0 is the plain run and any replication can be
run again alone with `--seed`. A sharded scenario is sharded in every replication (shard seeds derived from the
replication's seed, scenarios/shards.py). For each figure the sweep gives the mean over the replications and its
95 % confidence interval from Student's t (mean ± t(0.975, N − 1) · s / √N, s the sample standard deviation);
for each expectation, in how many replications it held.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import metrics, shards, spec
from .jobs import Job, Outcome
from .runner import Run

# Student's t quantile t(0.975, df) for df = 1 … 30; past 30, the Cornish–Fisher expansion below (error < 1e-4)
T_975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604,
         2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555,
         2.0518, 2.0484, 2.0452, 2.0423)
Z_975 = 1.959964
MAX_REPLICATIONS = 10_000


def replication_seed(seed: int, replication: int) -> int:
    """The seed of replication `replication` (from 0) of a sweep from `seed`."""
    return seed + replication


def t_975(df: int) -> float:
    """Student's t quantile at 0.975 for `df` degrees of freedom (the 95 % two-sided interval's factor)."""
    if df < 1:
        raise ValueError("at least one degree of freedom")
    if df <= len(T_975):
        return T_975[df - 1]
    z = Z_975
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def plan(scenario: spec.Scenario, seed: int, replications: int = 1, events: bool = False) -> list[Job]:
    """The jobs of a run: each replication's worlds, replication by replication, shard by shard."""
    jobs = []
    for r in range(replications):
        run_seed = replication_seed(seed, r)
        for k, world_seed in enumerate(shards.seeds(run_seed, scenario.shards)):
            parts = ([f"replication {r}"] if replications > 1 else []) + (
                [f"shard {k}"] if scenario.shards > 1 else [])
            jobs.append(Job(shards.world(scenario, k), world_seed, ", ".join(parts) or "the run", events))
    return jobs


def assemble(scenario: spec.Scenario, seed: int, outcomes: Sequence[Outcome], wall_seconds: float) -> list[Run]:
    """Each replication's run from its worlds' outcomes (in `plan`'s order): summaries merged, timelines joined."""
    n = scenario.shards
    runs = []
    for r in range(len(outcomes) // n):
        mine = outcomes[r * n:(r + 1) * n]
        wall = wall_seconds if len(outcomes) == n else max(o.summary["wall_seconds"] for o in mine)
        summary = shards.merge(scenario, replication_seed(seed, r), [o.summary for o in mine], wall)
        events = shards.merge_events([o.events or [] for o in mine])
        runs.append(Run(summary, events))
    return runs


@dataclass(frozen=True)
class Spread:
    """One figure across the replications."""

    mean: float
    low: float | None  # the 95 % confidence interval; None with a single replication
    high: float | None
    sd: float | None
    least: float
    most: float


def spread(values: Sequence[float]) -> Spread:
    """Mean, 95 % confidence interval (Student's t), standard deviation and range of one figure's values."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Spread(mean, None, None, None, min(values), max(values))
    sd = statistics.stdev(values)
    half = t_975(len(values) - 1) * sd / math.sqrt(len(values))
    return Spread(mean, mean - half, mean + half, sd, min(values), max(values))


def figure_names(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """The figures worth showing: every single figure, and each `family.KEY` some replication counted."""
    names = list(metrics.FIGURES)
    for family in metrics.FAMILIES:
        keys = sorted({key for s in summaries for key in s.get(family, {})})
        names += [f"{family}.{key}" for key in keys]
    return names


def sweep(scenario: spec.Scenario, seed: int, runs: Sequence[Run], wall_seconds: float) -> dict[str, Any]:
    """The sweep's result as plain data (`--json`): each figure's spread, each expectation's pass rate, each run."""
    summaries = [run.summary for run in runs]
    figures = {}
    for name in figure_names(summaries):
        s = spread([metrics.figure(summary, name) for summary in summaries])
        figures[name] = {"mean": _round(s.mean), "ci95": None if s.low is None else [_round(s.low), _round(s.high)],
                         "sd": None if s.sd is None else _round(s.sd), "min": _round(s.least),
                         "max": _round(s.most)}
    expectations = []
    for i, expectation in enumerate(scenario.expect):
        passed = sum(1 for summary in summaries if summary["expectations"][i]["passed"])
        expectations.append({"name": expectation.name, "condition": expectation.condition, "passed": passed,
                             "replications": len(runs), "pass_rate": round(passed / len(runs), 4)})
    return {"scenario": scenario.name, "title": scenario.title, "description": scenario.description, "seed": seed,
            "replications": len(runs), "seeds": [s["seed"] for s in summaries], "shards": scenario.shards,
            "transport": summaries[0]["transport"], "start": summaries[0]["start"],
            "simulated_seconds": summaries[0]["simulated_seconds"], "wall_seconds": round(wall_seconds, 3),
            "figures": figures, "expectations": expectations,
            "passed": all(e["passed"] == e["replications"] for e in expectations), "runs": summaries}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def describe(result: dict[str, Any]) -> str:
    """The sweep for people: figures that moved or counted something, then each expectation's pass rate."""
    s = result
    n = s["replications"]
    worlds = f", {s['shards']} mondes chacune" if s["shards"] > 1 else ""
    lines = [f"{s['title']} ({s['scenario']}, {n} réplications, graines {s['seeds'][0]}…{s['seeds'][-1]}{worlds}, "
             f"{s['transport']})",
             f"  {s['wall_seconds']:.2f} s en tout; moyenne et intervalle de confiance à 95 % (t de Student):"]
    width = max(len(name) for name in s["figures"])
    for name, f in s["figures"].items():
        if f["max"] == 0 and f["min"] == 0:
            continue
        interval = "" if f["ci95"] is None else f"  [{_number(f['ci95'][0])} ; {_number(f['ci95'][1])}]"
        lines.append(f"  {name:<{width}}  {_number(f['mean']):>14}{interval}")
    for e in s["expectations"]:
        mark = "✓" if e["passed"] == e["replications"] else "✗"
        lines.append(f"  {mark} {e['name']} {e['condition']}: tenue dans {e['passed']}/{e['replications']} "
                     f"réplications ({e['pass_rate']:.0%})")
    failing = sum(e["passed"] < e["replications"] for e in s["expectations"])
    lines.append(f"  FAILED: {failing} expectation(s) not met in every replication" if failing
                 else "  all expectations met in every replication")
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) and abs(value) < 1e15 else f"{value:.2f}"
