"""`ancv-sandbox simulate`: list the library, run a scenario in-process or live, print or write its figures.

Exit status: 0 when every expectation holds, 1 when one fails, 2 when the scenario or the
server cannot be used (the message says why).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import simpy

from . import jobs, spec, sweep
from .jobs import JobsError
from .platform import PlatformError
from .runner import Run, run

MAX_WORKERS = 1024


def main(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.list:
        return _list(out, err)
    if not args.scenario:
        print("ancv-sandbox simulate: name a scenario (see --list) or a file", file=err)
        return 2
    try:
        scenario = _with_options(spec.load(spec.find(args.scenario)), args)
        if _parallel(scenario, args):
            return _in_parallel(scenario, args, out, err)
        result = _run(scenario, args, err)
    except spec.ScenarioError as error:
        _mistakes(error, err)
        return 2
    except (PlatformError, JobsError) as error:
        print(f"ancv-sandbox simulate: {error}", file=err)
        return 2
    return _show(result, args, out, err)


def _list(out: TextIO, err: TextIO) -> int:
    """The library, each scenario with the time it takes here (from its measured processor time)."""
    from . import durations

    known = durations.measured()
    cpu, cores = known.get("cpu_seconds", {}), jobs.default_workers()
    broken = 0
    for path in spec.library():
        try:
            scenario = spec.load(path)
        except spec.ScenarioError as error:
            broken += 1
            _mistakes(error, err)
            continue
        took = durations.text(durations.expected_wall(scenario, cpu[scenario.name], cores)) \
            if scenario.name in cpu else "?"
        worlds = f", {scenario.shards} mondes" if scenario.shards > 1 else ""
        print(f"{scenario.name:<26} {took:>8}  {scenario.title}{worlds}", file=out)
    if known:
        print(f"(durées : temps de processeur mesuré le {known.get('measured')} sur {known.get('machine')}, "
              f"réparti sur les {cores} cœurs d'ici pour un scénario en plusieurs mondes; « ? » : pas mesuré)",
              file=out)
    return 2 if broken else 0


def _show(result: Run, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.report:
        from .report import write_report

        page = write_report(Path(args.report), result.summary, result.events)
        print(f"report: {page}", file=err)
    if args.json:
        print(json.dumps(result.summary, ensure_ascii=False, indent=2), file=out)
    else:
        print(describe(result), file=out)
    return 0 if result.passed else 1


def _mistakes(error: spec.ScenarioError, err: TextIO) -> None:
    """One mistake on the command's line; several, one per line (`file:line: path: why`, as editors read them)."""
    if len(error.problems) == 1:
        print(f"ancv-sandbox simulate: {error}", file=err)
        return
    print(f"ancv-sandbox simulate: {len(error.problems)} mistakes, nothing was run:", file=err)
    print(error, file=err)


def _with_options(scenario: spec.Scenario, args: argparse.Namespace) -> spec.Scenario:
    """The scenario with `--shards` imposed, once the parallel options are checked."""
    for option, high in (("shards", spec.MAX_SHARDS), ("replications", sweep.MAX_REPLICATIONS),
                         ("workers", MAX_WORKERS)):
        value = getattr(args, option)
        if value is not None and not 1 <= value <= high:
            raise spec.ScenarioError(f"--{option}: a whole number from 1 to {high} is expected, not {value}")
    if args.shards is not None:
        scenario = scenario.with_shards(args.shards)
    if _parallel(scenario, args):
        for option, given in (("--live", args.live), ("--db", args.db), ("--speed", args.speed is not None)):
            if given:
                raise spec.ScenarioError(f"{option} is for a run of one world in this process: not with shards "
                                         f"({scenario.shards} here), --replications or --dask")
    return scenario


def _parallel(scenario: spec.Scenario, args: argparse.Namespace) -> bool:
    """Whether the run goes to other processes: several worlds, a sweep, or a Dask cluster."""
    return scenario.shards > 1 or args.replications is not None or args.dask is not None


def _in_parallel(scenario: spec.Scenario, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Shards and replications played in other processes (or on a Dask cluster), then merged."""
    seed = scenario.seed if args.seed is None else args.seed
    sweeping = args.replications is not None
    planned = sweep.plan(scenario, seed, args.replications or 1, events=bool(args.report) and not sweeping)
    started = time.perf_counter()

    def done(job: jobs.Job, outcome: jobs.Outcome, finished: int, total: int) -> None:
        if total > 1:
            print(f"[{finished}/{total}] {job.name}: fini à {time.perf_counter() - started:.0f} s "
                  f"({outcome.cpu_seconds:.0f} s de processeur)", file=err)

    outcomes = jobs.execute(planned, workers=args.workers, dask=args.dask, done=done)
    wall = time.perf_counter() - started
    runs = sweep.assemble(scenario, seed, outcomes, wall)
    if not sweeping:
        return _show(runs[0], args, out, err)
    result = sweep.sweep(scenario, seed, runs, wall)
    if args.report:
        from .report import write_sweep_report

        page = write_sweep_report(Path(args.report), result)
        print(f"report: {page}", file=err)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else sweep.describe(result), file=out)
    return 0 if result["passed"] else 1


def _run(scenario: spec.Scenario, args: argparse.Namespace, err: TextIO) -> Run:
    seed = scenario.seed if args.seed is None else args.seed
    bar = ProgressBar(err)
    if args.live:
        from .live import LivePlatform

        platform: Any = LivePlatform(args.live, speed=args.speed, admin_token=args.admin_token)
        env: simpy.Environment = platform.environment()
    else:
        from .in_process import InProcessPlatform

        if args.speed is not None:
            raise spec.ScenarioError("--speed is for --live runs (in-process runs go as fast as they can)")
        platform = InProcessPlatform(scenario.start, seed, db=args.db)
        env = simpy.Environment()
    try:
        return run(scenario, platform, env, seed=seed, progress=bar.update)
    finally:
        bar.close()


class ProgressBar:
    """Shown on stderr once a run has taken more than a second of real time."""

    def __init__(self, stream: TextIO, after_s: float = 1.0, width: int = 30) -> None:
        self.stream, self.after_s, self.width = stream, after_s, width
        self.terminal = stream.isatty()
        self.started = time.perf_counter()
        self.last = 0.0
        self.shown = False

    def update(self, now: float, horizon: float, figures: dict[str, int]) -> None:
        elapsed = time.perf_counter() - self.started
        # on a terminal, redrawn in place a few times a second; in a log, one line every 10 s
        if elapsed < self.after_s or elapsed - self.last < (0.2 if self.terminal else 10.0):
            return
        self.last = elapsed
        done = min(1.0, now / horizon) if horizon else 1.0
        filled = int(done * self.width)
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {done:4.0%}  "
                f"{_hours(now)} simulées, {figures['visits']} visites, {elapsed:.0f} s")
        self.stream.write(f"\r{line}" if self.terminal else f"{line}\n")
        self.stream.flush()
        self.shown = self.terminal

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _hours(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def describe(result: Run) -> str:
    """The summary for people: what happened, and each expectation with ✓ or ✗."""
    s = result.summary
    worlds = f", {s['shards']} mondes (graines {', '.join(map(str, s['shard_seeds']))})" if s.get("shards") else ""
    lines = [f"{s['title']} ({s['scenario']}, seed {s['seed']}{worlds}, {s['transport']})",
             f"  {_hours(s['simulated_seconds'])} simulées en {s['wall_seconds']:.2f} s; "
             f"{s['visits']} visites, {s['payments']} paiements, {s['events']} événements"]
    for family in ("transactions", "transaction_endings", "pre_transactions", "kit_errors", "app_errors",
                   "portal_errors", "pro_errors", "webhooks"):
        if s.get(family):
            lines.append(f"  {family}: " + ", ".join(f"{k} {v}" for k, v in s[family].items()))
    lines.append(f"  amounts: requested {s['amount_requested_cents'] / 100:.2f} €, authorized "
                 f"{s['amount_authorized_cents'] / 100:.2f} €, validated {s['amount_validated_cents'] / 100:.2f} €; "
                 f"emails {s['emails']}")
    for e in s["expectations"]:
        lines.append(f"  {'✓' if e['passed'] else '✗'} {e['name']} {e['condition']} (actual {e['actual']})")
    failed = sum(not e["passed"] for e in s["expectations"])
    lines.append("  FAILED: " + f"{failed} expectation(s) not met" if failed else "  all expectations met")
    return "\n".join(lines)
