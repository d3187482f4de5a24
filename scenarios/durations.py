"""How long each library scenario takes, for `simulate --list`: processor seconds measured, kept in durations.json.

The figures are measured, not estimated from a scenario's size: `python -m scenarios.durations [--slow]` plays
every library scenario in-process (the `slow` ones too with --slow) and writes each one's processor time, summed
over its shards, with the date and the machine. Processor time, not wall time, because it does not depend on what
else the machine is doing; `--list` divides it by the cores a sharded scenario can use here. Re-measure after a
change that makes runs faster or slower.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import jobs, spec, sweep

FILE = Path(__file__).with_name("durations.json")


def measured() -> dict[str, Any]:
    """What durations.json holds ({} when it is missing or unreadable: `--list` then shows no durations)."""
    try:
        data = json.loads(FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def expected_wall(scenario: spec.Scenario, cpu_seconds: float, cores: int) -> float:
    """Wall seconds to expect on `cores` idle cores: the worlds share the cores, one world uses one."""
    return cpu_seconds / max(1, min(scenario.shards, cores))


def text(seconds: float) -> str:
    """`~6 s`, `~2 min 30`, `~1 h 05` for the listing."""
    if seconds < 90:
        return f"~{seconds:.0f} s" if seconds >= 1 else "<1 s"
    minutes = round(seconds / 60)
    return f"~{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"~{minutes} min"


def measure(scenario: spec.Scenario) -> float:
    """Processor seconds of one play of `scenario` (its shards one after the other, in one worker)."""
    outcomes = jobs.execute(sweep.plan(scenario, scenario.seed), workers=1)
    return round(sum(o.cpu_seconds for o in outcomes), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", action="store_true", help="measure the `slow` scenarios too (mois-region: minutes)")
    args = parser.parse_args(argv)
    old = measured().get("cpu_seconds", {})
    figures = {}
    for path in spec.library():
        scenario = spec.load(path)
        if "slow" in scenario.tags and not args.slow:
            if scenario.name in old:
                figures[scenario.name] = old[scenario.name]
            continue
        figures[scenario.name] = measure(scenario)
        print(f"{scenario.name}: {figures[scenario.name]} s", flush=True)
    FILE.write_text(json.dumps({
        "measured": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, "
        f"{jobs.default_workers()} cores, Python {platform.python_version()}", "cpu_seconds": figures},
        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
