"""Smoke tests of the benchmarks: `bench/bench_api.py` (a 1-second run with 2 clients) and `bench/kit_cost.py`.

Slow (they start `ancv-sandbox serve`, load-generator processes, a whole app): `./dev test -m slow`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "bench_api.py"
NUMBER = r"(\d+(?:\.\d+)?)"


def run_bench(*extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(BENCH), "--clients", "2", "--seconds", "1", "--warmup", "0.5", *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


@pytest.mark.slow
def test_bench_prints_both_rates_their_ratio_and_latencies() -> None:
    out = run_bench().stdout

    trivial = re.search(rf"^trivial\s+GET /_sandbox/health\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+0\s", out, re.M)
    kit = re.search(rf"^kit mix\s+sealed calls \(all four\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+0\s", out, re.M)
    assert trivial and kit, out
    for match in (trivial, kit):
        rps, p50, p99 = (float(g) for g in match.groups())
        assert rps > 0 and 0 < p50 <= p99, out
    for op in ("create", "payer", "status", "cancel"):
        assert re.search(rf"^\s+{op}\s+\S.*?\s{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$", out, re.M), out
    lifecycles = re.search(rf"^payment lifecycles/s .*?\s{NUMBER}\s", out, re.M)
    assert lifecycles and float(lifecycles.group(1)) > 0, out
    ratio = re.search(rf"^ratio kit-mix calls/s / trivial req/s\s+{NUMBER}\s+\(target >= 0\.4: (MET|NOT MET)\)", out, re.M)
    assert ratio, out
    expected = float(kit.group(1)) / float(trivial.group(1))
    assert float(ratio.group(1)) == pytest.approx(expected, abs=0.011), out
    if abs(float(ratio.group(1)) - 0.4) > 0.005:  # the verdict uses the unrounded ratio
        assert (ratio.group(2) == "MET") == (float(ratio.group(1)) >= 0.4), out
    assert re.search(r"^machine\s+\d+ CPUs .*Python \d+\.\d+", out, re.M), out
    assert re.search(r"^server\s+ancv-sandbox serve --server gevent --db file --clock wall", out, re.M), out
    assert re.search(r"^load\s+2 clients .* 1 s per phase", out, re.M), out


@pytest.mark.slow
def test_bench_json_summary() -> None:
    report: dict[str, Any] = json.loads(run_bench("--json").stdout)

    trivial, kit = report["phases"]["trivial"], report["phases"]["kit"]
    for phase in (trivial, kit):
        assert phase["rps"] > 0 and phase["errors"] == 0
        assert 0 < phase["p50Ms"] <= phase["p99Ms"]
    assert set(kit["operations"]) == {"create", "payer", "status", "cancel"}
    assert kit["lifecyclesPerS"] > 0 and kit["failedLifecycles"] == 0
    assert report["ratio"] == pytest.approx(kit["rps"] / trivial["rps"])
    assert report["meetsTarget"] == (report["ratio"] >= 0.4)
    assert report["config"]["clients"] == 2 and report["config"]["server"] == "gevent"
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]
    assert report["server"]["stopped"]  # the server was stopped


@pytest.mark.slow
def test_kit_cost_prints_cpu_per_call_and_the_statements_of_each_operation() -> None:
    command = [sys.executable, str(ROOT / "bench" / "kit_cost.py"), "--lifecycles", "20", "--health", "50",
               "--statements"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    out = done.stdout

    assert re.search(rf"^CPU per Kit call .*:\s+{NUMBER} ms$", out, re.M), out
    assert re.search(rf"^CPU per GET /_sandbox/health:\s+{NUMBER} ms$", out, re.M), out
    for op in ("create", "payer", "status", "cancel"):
        counted = re.search(rf"^\s+{op}\s+(\d+)\s+\((.*)\)$", out, re.M)
        assert counted and int(counted.group(1)) > 0 and "BEGIN 1" in counted.group(2), out
    assert re.search(rf"^\s+as the store runs it .*\s{NUMBER} us$", out, re.M), out


@pytest.mark.slow
def test_simulation_bench_prints_both_rates_and_their_ratio() -> None:
    command = [sys.executable, str(ROOT / "bench" / "simulation.py"), "--scenario", "gite-qr", "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    busy = json.loads(done.stdout)["busy"]
    assert busy["payments"] > 0 and busy["simpy_events"] > busy["payments"]
    assert busy["lifecycles_per_cpu_s"] > 0 and busy["bare_lifecycles_per_cpu_s"] > busy["lifecycles_per_cpu_s"]
    assert 0 < busy["ratio"] < 1  # bare SimPy is always the faster
    figures = json.loads(done.stdout)
    assert 0 < figures["python_cpu_s"] < figures["start_up_cpu_s"]


def test_the_scanner_bench_prints_every_family_size_and_decoder_and_the_real_time_figures() -> None:
    """bench/scanner.py, one frame per family and size and a one-second replay (about 15 s)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "scanner.py"), "--per-family", "1", "--seconds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for name in ("pyzbar", "zxing-cpp", "zxing-cpp+straighten", "zxing-cpp+upscale", "zxing-cpp+clahe", "chain"):
        assert re.search(rf"^\s+\[\d\] {re.escape(name)}$", out, re.M), out
    rows = re.findall(r"^(\w+)\s+(\d+x\d+)\s+(?:\s*\d+% +[\d.]+ +[\d.]+ ?ms){8}.*\s(yes|NO)$", out, re.M)
    assert len(rows) == 42 and {size for _, size, _ in rows} == {"640x480", "1280x720"}, out
    for family_set in ("classic families", "hard families", "all families"):
        assert re.search(rf"^{family_set} \(\d+ frames\): .* chain {NUMBER}%$", out, re.M), out
    assert re.search(r"^  chain ≥ best single decoder on every family and size: (MET|NOT MET)$", out, re.M), out
    assert re.search(r"^  false reads: \d+ \((MET|NOT MET)\)$", out, re.M), out
    live = re.search(rf"spread: captured (\d+) in {NUMBER} s = {NUMBER} fps; decoded (\d+) \({NUMBER} fps\); "
                     r"skipped (\d+)", out)
    assert live, out
    captured, decoded, skipped = int(live.group(1)), int(live.group(4)), int(live.group(6))
    assert captured > 0 and decoded + skipped == captured, out
    assert re.search(r"^target \(spread\): capture 30 fps, decoded ≥ 25 fps, median < 50 ms: (MET|NOT MET)$", out, re.M), out
    assert re.search(rf"^scan start .*: median {NUMBER} s, .* target under 1 s: (MET|NOT MET)$", out, re.M), out


@pytest.mark.slow
def test_the_figures_page_holds_every_benchmark_the_machine_and_the_date(tmp_path: Path) -> None:
    """bench/figures.py --quick: each benchmark's section with its command and its own output (about 30 s)."""
    out = tmp_path / "figures.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "figures.py"), "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert re.search(r"^- CPU: .+, \d+ logical CPUs; memory [\d.]+ GiB$", text, re.M), text
    assert re.search(r"run by `.venv/bin/python bench/figures.py` on \d{4}-\d{2}-\d{2}", text), text
    for script in ("bench_api.py", "live_updates.py", "kit_cost.py", "store_cost.py", "simulation.py", "scanner.py"):
        assert re.search(rf"^`\.venv/bin/python bench/{script}[^`]*` — \d+ s$", text, re.M), script
    assert re.search(r"^`\.venv/bin/python bench/bench_api.py --clients 4 [^`]*` — \d+ s$", text, re.M), text
    assert text.count("```") == 2 * 8 and "**Failed**" not in text  # one fenced output per benchmark


@pytest.mark.slow
def test_the_live_updates_bench_times_every_push_and_counts_the_missing_ones() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "live_updates.py"), "--pages", "5", "--payers", "2",
                           "--seconds", "2", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["payments"] > 0 and figures["errors"] == 0 and figures["missing_pushes"] == 0
    assert 0 < figures["push_p50_ms"] <= figures["push_p99_ms"] <= figures["push_max_ms"]
