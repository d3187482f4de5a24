"""Full timelines, recorded and compared: the check that a restructuring changed no behaviour.

    .venv/bin/python -m tests.timelines record DIR [--slow] [--also FILE ...]   # write them to DIR
    .venv/bin/python -m tests.timelines compare OLD NEW       # exit 1 at the first difference

What is recorded, each a file of JSON lines: for every scenario of the library (the `slow` ones
with --slow, and any scenario file named with --also: a few simulated nights make journals), every event of the timeline in order, then every email of the outbox, every
webhook delivery with its attempts and every daily journal (DLO, BRJ) with its content; and the same for each example of a derandomized run of the
money invariants' Hypothesis state machine (tests/stateful). Record on the commit before the
change, record again after it, compare.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HYPOTHESIS_EXAMPLES = 25
HYPOTHESIS_STEPS = 30


def _lines(events: list[dict[str, Any]], emails: list[dict[str, Any]],
           webhooks: list[dict[str, Any]], journals: Sequence[dict[str, Any]] = ()) -> Iterator[str]:
    for kind, rows in (("event", events), ("email", emails), ("webhook", webhooks), ("journal", journals)):
        for row in rows:
            # the kind last: a journal has a "kind" of its own (DLO, BRJ), which its name also says
            yield json.dumps({**row, "kind": kind}, ensure_ascii=False, sort_keys=True, default=str)


def _write(path: Path, lines: Iterator[str]) -> int:
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


def record_scenarios(folder: Path, slow: bool, also: Sequence[Path] = ()) -> None:
    import simpy

    from scenarios import runner, spec
    from scenarios.in_process import InProcessPlatform

    class Observed(InProcessPlatform):
        """Keeps what the run observed (the runner closes the sandbox before returning)."""

        def observations(self) -> Any:
            self.seen = super().observations()
            with self._sandbox.store.session() as s:
                self.journals = s.journals()
            return self.seen

    for path in [*spec.library(), *also]:
        scenario = spec.load(path)
        if "slow" in scenario.tags and not slow and path not in also:
            continue
        platform = Observed(scenario.start, scenario.seed)
        runner.run(scenario, platform, simpy.Environment(), seed=scenario.seed)
        it = platform.seen
        count = _write(folder / f"scenario-{scenario.name}.jsonl", _lines(it.events, it.emails, it.webhooks,
                                                                                   platform.journals))
        print(f"scenario {scenario.name}: {count} lines")


def record_hypothesis(folder: Path) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.stateful.test_money_invariants import MoneyMachine

    runs: list[list[str]] = []

    class Recorded(MoneyMachine):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            sandbox = self.world.sandbox
            stop = sandbox.stop

            def record_then_stop() -> None:  # the teardown settles the run, then stops the sandbox
                with sandbox.store.session() as s:
                    runs.append(list(_lines(s.events(), s.emails(), s.webhooks(), s.journals())))
                stop()

            sandbox.stop = record_then_stop

    run_state_machine_as_test(Recorded, settings=settings(
        max_examples=HYPOTHESIS_EXAMPLES, stateful_step_count=HYPOTHESIS_STEPS, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck)))
    for i, lines in enumerate(runs):
        _write(folder / f"hypothesis-{i:03d}.jsonl", iter(lines))
    print(f"hypothesis: {len(runs)} runs, {sum(map(len, runs))} lines")


def compare(old: Path, new: Path) -> int:
    names = sorted({p.name for p in old.glob("*.jsonl")} | {p.name for p in new.glob("*.jsonl")})
    differ = 0
    for name in names:
        a, b = old / name, new / name
        if not a.exists() or not b.exists():
            print(f"{name}: only in {old if a.exists() else new}")
            differ += 1
            continue
        left, right = a.read_text(encoding="utf-8").splitlines(), b.read_text(encoding="utf-8").splitlines()
        first = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y), None)
        if first is None and len(left) == len(right):
            continue
        differ += 1
        at = first if first is not None else min(len(left), len(right))
        print(f"{name}: differs at line {at + 1} ({len(left)} vs {len(right)} lines)")
        print(f"  old: {left[at] if at < len(left) else '(end)'}")
        print(f"  new: {right[at] if at < len(right) else '(end)'}")
    print(f"{len(names)} timelines, {differ} different")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.timelines", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="write the timelines to DIR")
    rec.add_argument("folder", type=Path)
    rec.add_argument("--slow", action="store_true", help="also the scenarios tagged slow")
    rec.add_argument("--also", type=Path, nargs="*", default=[], help="scenario files outside the library")
    cmp = sub.add_parser("compare", help="compare two recordings")
    cmp.add_argument("old", type=Path)
    cmp.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.old, args.new)
    args.folder.mkdir(parents=True, exist_ok=True)
    record_scenarios(args.folder, args.slow, args.also)
    record_hypothesis(args.folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
