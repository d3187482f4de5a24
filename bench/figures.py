#!/usr/bin/env python3
"""Regenerate docs/figures.md: every benchmark of the project, run now, on this machine.

    .venv/bin/python bench/figures.py [--out docs/figures.md] [--quick] [--only NAME ...]

Runs each benchmark of bench/ in turn, in its own process, on an otherwise idle machine, and
writes one page with the machine (CPU, cores, memory, OS, Python, key libraries), the date,
each benchmark's command line, its wall time and its own printed figures, verbatim. `--quick`
runs every benchmark at a tiny size (a smoke test of the page, not figures worth keeping);
`--only` runs some of them. Nothing is copied from an earlier run: a benchmark that fails says
so on the page, with its exit status and the end of its error output.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 3 * 3600


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    arguments: tuple[str, ...]  # what the page's figures are measured with
    quick: tuple[str, ...]  # a tiny run, to check the page is produced


BENCHMARKS = (
    Benchmark("bench_api", "Kit API over HTTP: throughput and latency (bench/bench_api.py)",
              ("bench/bench_api.py",), ("bench/bench_api.py", "--clients", "2", "--seconds", "1", "--warmup", "0.5")),
    Benchmark("bench_api_200", "Kit API with 200 concurrent clients (bench/bench_api.py --clients 200)",
              ("bench/bench_api.py", "--clients", "200"),
              ("bench/bench_api.py", "--clients", "4", "--procs", "2", "--seconds", "1", "--warmup", "0.5")),
    Benchmark("live_updates", "Merchant pages' live updates under load (bench/live_updates.py)",
              ("bench/live_updates.py",), ("bench/live_updates.py", "--pages", "5", "--payers", "2", "--seconds", "1")),
    Benchmark("live_updates_300", "300 merchant pages open, 16 paying threads (bench/live_updates.py --pages 300)",
              ("bench/live_updates.py", "--pages", "300", "--payers", "16"),
              ("bench/live_updates.py", "--pages", "6", "--payers", "3", "--seconds", "1")),
    Benchmark("kit_cost", "What one Kit call costs the sandbox itself (bench/kit_cost.py)",
              ("bench/kit_cost.py",), ("bench/kit_cost.py", "--lifecycles", "50", "--health", "200")),
    Benchmark("store_cost", "The store's cost per payment lifecycle (bench/store_cost.py)",
              ("bench/store_cost.py",), ("bench/store_cost.py", "--lifecycles", "100", "--rounds", "1")),
    Benchmark("simulation", "Simulations in process: lifecycles per second (bench/simulation.py)",
              ("bench/simulation.py", "--month"), ("bench/simulation.py", "--scenario", "gite-qr")),
    Benchmark("scanner", "The QR scanner per distortion family, and at 30 fps (bench/scanner.py)",
              ("bench/scanner.py",), ("bench/scanner.py", "--per-family", "1", "--seconds", "1")),
)


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal"))
        memory = f"{memory_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown"
    libraries = ", ".join(f"{name} {_version(name)}" for name in (
        "flask", "flask-socketio", "gevent", "sqlalchemy", "simpy", "opencv-python-headless", "pyzbar", "zxing-cpp"))
    return [f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; memory {memory}",
            f"- System: {platform.system()} {platform.release()} ({platform.machine()})",
            f"- Python {platform.python_version()}; {libraries}"]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def run(benchmark: Benchmark, quick: bool) -> tuple[list[str], bool]:
    """The benchmark's section of the page, and whether it ran to the end."""
    arguments = benchmark.quick if quick else benchmark.arguments
    command = [sys.executable, *arguments]
    started = time.monotonic()
    print(f"figures: running {' '.join(arguments)} …", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
        status, output, errors = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired:
        status, output, errors = -1, "", f"stopped after {TIMEOUT_S} s"
    seconds = time.monotonic() - started
    lines = [f"## {benchmark.title}", "", f"`.venv/bin/python {' '.join(arguments)}` — {seconds:.0f} s", ""]
    if status == 0:
        lines += ["```", output.rstrip(), "```", ""]
    else:
        tail = "\n".join(errors.rstrip().splitlines()[-15:])
        lines += [f"**Failed** (exit status {status}); the end of its error output:", "", "```", tail, "```", ""]
    return lines, status == 0


def page(sections: list[list[str]], quick: bool, started: datetime) -> str:
    head = ["# Figures", "",
            "Every benchmark of the project, run by `.venv/bin/python bench/figures.py` "
            f"on {started:%Y-%m-%d} (started {started:%H:%M} UTC), one after the other on an otherwise idle machine. "
            "What each measures and the targets are in [bench/README.md](../bench/README.md).", ""]
    if quick:
        head += ["**Quick run**: tiny sizes, to check this page is produced — not figures to quote.", ""]
    head += ["Machine:", "", *machine(), ""]
    return "\n".join(head + [line for section in sections for line in section]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures.md")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the page, not the figures")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS], help="run only these")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    results = [run(b, args.quick) for b in chosen]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page([section for section, _ in results], args.quick, started), encoding="utf-8")
    failed = [b.name for b, (_, ok) in zip(chosen, results, strict=True) if not ok]
    print(f"figures: {args.out} written; {len(chosen) - len(failed)} of {len(chosen)} benchmarks ran"
          + (f", failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
