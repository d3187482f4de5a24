"""How long `ancv-sandbox serve` takes to answer `GET /_sandbox/health` from a fresh database.

Starts the server N times (each on a new SQLite file in a temporary folder, seeded fixtures, a
free loopback port), measures the time from spawning the process to the first `{"status": "ok"}`,
and prints the runs with their median. A figure, not a verdict: tests never time the server.

    .venv/bin/python bench/startup.py [--runs 5] [--server gevent|threading] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sandbox.pytest_plugin import free_port, stop_server

GIVE_UP_S = 60.0


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_sandbox/health", timeout=1) as answer:
            return json.load(answer) == {"status": "ok"}
    except OSError:
        return False


def one_start(folder: Path, server: str) -> float:
    """Seconds from spawning `serve` to its first healthy answer; the server is stopped after."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(port), "--sftp-port", "0",
               "--server", server, "--db", str(folder / "serve.sqlite3")]
    base = f"http://127.0.0.1:{port}"
    with open(folder / "serve.log", "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not healthy(base):
                if process.poll() is not None:
                    raise SystemExit(f"serve exited with {process.returncode}: see {folder / 'serve.log'}")
                if time.perf_counter() - started > GIVE_UP_S:
                    raise SystemExit(f"serve was not ready after {GIVE_UP_S:.0f} s")
                time.sleep(0.01)
            return time.perf_counter() - started
        finally:
            stop_server(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", choices=("gevent", "threading"), default="gevent")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    seconds = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="ancv-startup-") as folder:
            seconds.append(one_start(Path(folder), args.server))
        if not args.json:
            print(f"run {run + 1}: ready in {seconds[-1]:.2f} s")
    figures = {"server": args.server, "runs": seconds, "median_s": statistics.median(seconds)}
    print(json.dumps(figures) if args.json else f"median: {figures['median_s']:.2f} s over {args.runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
