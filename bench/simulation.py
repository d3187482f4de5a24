#!/usr/bin/env python3
"""How fast simulations run in-process: payment lifecycles per CPU-second, beside bare SimPy.

    .venv/bin/python bench/simulation.py [--scenario journee-chargee] [--db sqlite|memory] [--runs N] [--month] [--json]

1. Runs the scenario (default: the busy day) in-process and counts the SimPy events it took.
2. In the same process, processes the same number of bare SimPy events (timeouts of processes
   doing nothing else: no sandbox logic) and times them: the machine's normaliser.
3. Prints payment lifecycles per CPU-second for both (a lifecycle: one transaction from creation
   to its final state), and their ratio (issue 18: 0.019 before the per-core work; target: at
   least 0.05). CPU seconds, not wall: on a shared machine the wall clock also counts the others'
   work. With --runs N, each figure is the best of N runs (the least disturbed).
With --month it also runs `mois-region` (1,000 merchants, 10 payments each a day, 30 days; about
300,000 payments; target: under a minute on one core) and prints its figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios import runner, spec  # noqa: E402
from scenarios.in_process import InProcessPlatform  # noqa: E402

RATIO_TARGET = 0.05  # issue 18: bare SimPy's CPU over the busy day's (0.019 before the per-core work)


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        super().step()


def bare_simpy(events: int, processes: int = 1000) -> float:
    """CPU seconds SimPy alone takes to process `events` events (processes waiting on timeouts)."""
    env = simpy.Environment()
    per_process = max(1, events // processes)

    def idle(env: simpy.Environment, offset: float) -> Any:
        for _ in range(per_process - 1):  # a process's start is one event, each timeout one more
            yield env.timeout(1.0 + offset)

    for i in range(processes):
        env.process(idle(env, i / processes))
    started = time.process_time()
    env.run()
    return time.process_time() - started


def simulate(name: str, db: str | None) -> dict[str, Any]:
    scenario = spec.load(spec.find(name))
    env = CountingEnvironment()
    started = time.perf_counter()
    cpu = time.process_time()
    run = runner.run(scenario, InProcessPlatform(scenario.start, scenario.seed, db=db), env)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    payments = run.summary["payments"]
    return {"scenario": name, "payments": payments, "simpy_events": env.steps, "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "lifecycles_per_s": round(payments / wall, 1),
            "lifecycles_per_cpu_s": round(payments / cpu, 1),
            "simulated_days": round(run.summary["simulated_seconds"] / 86_400, 2),
            "expectations_met": run.passed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", default="journee-chargee")
    parser.add_argument("--db", choices=("sqlite", "memory"), default="memory",
                        help="the in-process sandbox's store: SQLite in memory, or the memory store (default)")
    parser.add_argument("--runs", type=int, default=1, help="run the busy day N times, keep the best (default 1)")
    parser.add_argument("--month", action="store_true", help="also run mois-region (about 300,000 payments)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    db = "memory" if args.db == "memory" else None

    if args.runs < 1:
        parser.error("--runs must be at least 1")
    busy = min((simulate(args.scenario, db) for _ in range(args.runs)), key=lambda figures: figures["cpu_s"])
    bare_cpu = min(bare_simpy(busy["simpy_events"]) for _ in range(args.runs))
    busy["bare_cpu_s"] = round(bare_cpu, 3)
    busy["bare_lifecycles_per_cpu_s"] = round(busy["payments"] / bare_cpu, 1)
    busy["ratio"] = round(bare_cpu / busy["cpu_s"], 4)
    figures: dict[str, Any] = {"busy": busy, "store": args.db}
    if args.month:
        figures["month"] = simulate("mois-region", db)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{busy['scenario']} in-process ({args.db} store): {busy['payments']} payments, "
          f"{busy['simpy_events']} SimPy events, {busy['wall_s']} s wall ({busy['cpu_s']} s CPU)")
    print(f"  sandbox + agents   {busy['lifecycles_per_cpu_s']:>10.1f} payment lifecycles per CPU-second")
    print(f"  bare SimPy         {busy['bare_lifecycles_per_cpu_s']:>10.1f} lifecycles per CPU-second "
          f"(the same {busy['simpy_events']} events, no sandbox logic: {busy['bare_cpu_s']} s CPU)")
    verdict = "MET" if busy["ratio"] >= RATIO_TARGET else "NOT MET"
    print(f"  ratio              {busy['ratio']:>10.4f}   (target >= {RATIO_TARGET}: {verdict})")
    if args.month:
        month = figures["month"]
        verdict = "MET" if month["wall_s"] < 60 else "NOT MET"
        print(f"mois-region in-process: {month['payments']} payments over {month['simulated_days']} days in "
              f"{month['wall_s']} s wall ({month['cpu_s']} s CPU), {month['lifecycles_per_s']} lifecycles/s "
              f"(target < 60 s: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
