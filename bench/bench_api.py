#!/usr/bin/env python3
"""Throughput of the sealed Kit API against a trivial route, on one running sandbox.

    .venv/bin/python bench/bench_api.py [--clients 16] [--seconds 10] [--server gevent|threading]
                                        [--db file|memory] [--procs 8] [--no-journal] [--json]

One run starts `ancv-sandbox serve` (127.0.0.1, a free port, a temporary SQLite file,
`--clock wall`), waits for `/_sandbox/health`, then measures two phases against that same
server, one after the other:

  trivial  `GET /_sandbox/health`, as fast as N clients can go;
  kit mix  payment lifecycles, each four sealed Kit calls: create transaction (201),
           payer (202, PROCESSING: the beneficiary is "manual"), status (200) and
           cancellation reason OTHER (201), which frees the beneficiary again.

Every client is a thread with its own `requests.Session` (keep-alive, like
`sandbox.client.HttpTransport`); the Kit mix goes through `sandbox.client.KitClient`, so
the client seals each call exactly as an integrator would. The clients run in `--procs`
separate load-generator processes (default 8), never in the server's process. A request
counts when it completes inside the measurement window (after a warm-up) with the
expected status; anything else is an error and is reported, not counted.

The Kit allows one PROCESSING transaction per beneficiary (409 OTHER_TRANSACTION_PENDING)
and the fixtures have 8 beneficiaries with a device, which the bench switches to the
"manual" behaviour. Clients share them round-robin; a client holds its beneficiary's
lock (a multiprocessing lock, across processes) from /payer to the cancellation, so no
409 is provoked. The time spent waiting for that lock is reported and is not latency.

With `--no-journal`, a third phase runs the kit mix again with the request journal turned off
(`PATCH /_sandbox/settings {"requestJournal": false}`), and the journal's cost is printed: how much
of the kit mix's throughput (and server CPU per request) recording every call takes (target < 5 %).

Prints requests/s, p50 and p99 per phase, payment lifecycles/s, the ratio
kit-mix calls/s / trivial requests/s (target >= 0.4) and the machine's facts; `--json`
prints the same as one JSON document, with the server's CPU ms per request of each phase
and the ratio computed from those (see bench/README.md). The server is always stopped (SIGTERM, then
SIGKILL) and the whole run is bounded by a watchdog. Exit status: 0 when both phases ran
without errors, 1 when some requests failed, 2 when the run could not be carried out.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.4
HEALTH_PATH = "/_sandbox/health"
KIT_OPS = ("create", "payer", "status", "cancel")
EXPECTED_STATUS = {"health": 200, "create": 201, "payer": 202, "status": 200, "cancel": 201}
AMOUNT_CENTS = 100  # 1 €: below every fixture balance, `low_balance` (5 €) included
SERVERS = ("gevent", "threading")
BUSY_MACHINE_PCT = 10.0  # CPUs busier than this (all of them) before the run: figures are suspect
SERVER_BOUND_PCT = 80.0  # below this share of one core, a phase did not saturate the (single-process) server
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The run could not be carried out (server did not start, a worker died, ...)."""


class Watchdog(BaseException):
    """The whole run took longer than its budget (raised by SIGALRM in the main process)."""


# --- the server under test ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(server: str, port: int, db: str) -> list[str]:
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--clock", "wall", "--no-sftp"]
    script = Path(sys.executable).with_name("ancv-sandbox")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "sandbox.cli"]
    return [*head, *args, "--server", server]


class Server:
    """`ancv-sandbox serve` in its own session (process group), stopped whatever happens."""

    def __init__(self, server: str, db_mode: str, workdir: Path) -> None:
        self.server, self.db_mode, self.workdir = server, db_mode, workdir
        self.db = str(workdir / "bench.sqlite3") if db_mode == "file" else ":memory:"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.command = server_command(server, self.port, self.db)
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopped: dict[str, Any] = {}

    def start(self, timeout: float = 60.0) -> None:
        import requests

        env = dict(os.environ, PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir, env=env, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.base_url + HEALTH_PATH, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise BenchError(f"the server did not answer {HEALTH_PATH} within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        proc = self.proc
        if proc is None or self.stopped:
            return
        t0 = time.monotonic()
        forced = False
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                forced = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.stopped = {"exitCode": proc.returncode, "seconds": round(time.monotonic() - t0, 3), "killed": forced}

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_problems(self) -> dict[str, int]:
        text = self.log_text()
        return {"tracebacks": text.count("Traceback (most recent call last)"),
                "errorLines": sum(1 for line in text.splitlines() if " ERROR " in line)}


def _die_with_parent() -> None:
    """In a child (server, load generator): get SIGKILL when the bench dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process (all its threads), from /proc."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# --- load generator (runs in worker processes) --------------------------------------------------

def _new_session(connection: str) -> Any:
    import requests

    session = requests.Session()
    if connection == "close":
        session.headers["Connection"] = "close"
    return session


def _health_loop(spec: dict[str, Any], client: dict[str, Any], go: dict[str, float], out: list[Any]) -> None:
    import requests

    session = _new_session(spec["connection"])
    url = spec["baseUrl"] + HEALTH_PATH
    stop_at, timeout = go["measureEnd"], spec["timeout"]
    while True:
        t0 = time.monotonic()
        if t0 >= stop_at:
            break
        try:
            response = session.get(url, timeout=timeout)
            _ = response.content
            status: Any = response.status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        out.append(("health", t0, time.monotonic(), status))


def _kit_loop(spec: dict[str, Any], client: dict[str, Any], go: dict[str, float], out: list[Any],
              lock: Any, waits: list[float]) -> None:
    import requests

    from sandbox.client import HttpTransport, shop_client

    kit = shop_client(HttpTransport(spec["baseUrl"], timeout=spec["timeout"],
                                    session=_new_session(spec["connection"])), client["shop"])
    beneficiary = client["beneficiaryId"]
    stop_at = go["measureEnd"]
    prefix = f"bench-{spec['runId']}-{client['index']}"

    def call(op: str, fn: Any, *args: Any) -> Any:
        t0 = time.monotonic()
        try:
            reply = fn(*args)
            status: Any = reply.status
        except requests.RequestException as exc:
            reply, status = None, type(exc).__name__
        out.append((op, t0, time.monotonic(), status))
        return reply if status == EXPECTED_STATUS[op] else None

    n = 0
    while time.monotonic() < stop_at:
        n += 1
        started = time.monotonic()
        created = call("create", kit.create_transaction, f"{prefix}-{n}", "1", AMOUNT_CENTS)
        if created is None:
            continue
        tx_id = created.body["transaction"]["id"]
        t_wait = time.monotonic()
        with lock:  # one PROCESSING transaction per beneficiary: finish ours before a peer starts
            waits.append(time.monotonic() - t_wait)
            paid = call("payer", kit.set_payer, tx_id, beneficiary)
            status = call("status", kit.get_transaction, tx_id) if paid is not None else None
            cancelled = call("cancel", kit.cancel, tx_id, "OTHER")
        whole = paid is not None and status is not None and cancelled is not None
        out.append(("lifecycle", started, time.monotonic(), "ok" if whole else "failed"))


def worker_main(conn: Any, spec: dict[str, Any], locks: list[Any]) -> None:
    """One load-generator process: a thread per client; reports what completed in the window."""
    _die_with_parent()
    try:
        conn.send(("ready", os.getpid()))
        message = conn.recv()
        if message[0] != "go":
            return
        go = message[1]
        results: list[list[Any]] = []
        waits: list[list[float]] = []
        threads = []
        target: Any
        args: tuple[Any, ...]
        for client in spec["clients"]:
            out: list[Any] = []
            results.append(out)
            if spec["phase"] == "trivial":
                target, args = _health_loop, (spec, client, go, out)
            else:
                wait_list: list[float] = []
                waits.append(wait_list)
                target, args = _kit_loop, (spec, client, go, out, locks[client["lock"]], wait_list)
            threads.append(threading.Thread(target=_guarded, args=(target, args, out), daemon=True))
        while time.monotonic() < go["start"]:
            time.sleep(min(0.01, max(0.0, go["start"] - time.monotonic())))
        for t in threads:
            t.start()
        grace = go["measureEnd"] - time.monotonic() + 4 * spec["timeout"] + 5
        for t in threads:
            t.join(timeout=max(0.1, grace))
        conn.send(("done", _summarise(spec, go, results, waits, stuck=sum(t.is_alive() for t in threads))))
    except Exception as exc:  # the parent reports it
        try:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        except Exception:
            pass


def _guarded(target: Any, args: tuple[Any, ...], out: list[Any]) -> None:
    try:
        target(*args)
    except Exception as exc:
        out.append(("crash", time.monotonic(), time.monotonic(), f"{type(exc).__name__}: {exc}"))


def _summarise(spec: dict[str, Any], go: dict[str, float], results: list[list[Any]], waits: list[list[float]],
               stuck: int) -> dict[str, Any]:
    lo, hi = go["measureStart"], go["measureEnd"]
    latencies: dict[str, list[float]] = {}
    errors: Counter[str] = Counter()
    lifecycles = failed_lifecycles = 0
    for out in results:
        for op, t0, t1, status in out:
            if op == "crash":
                errors[f"crash {status}"] += 1
                continue
            if not lo <= t1 <= hi:
                continue
            if op == "lifecycle":
                if status == "ok":
                    lifecycles += 1
                else:
                    failed_lifecycles += 1
            elif status == EXPECTED_STATUS[op]:
                latencies.setdefault(op, []).append((t1 - t0) * 1000.0)
            else:
                errors[f"{op} {status}"] += 1
    all_waits = [w for ws in waits for w in ws]
    return {"latenciesMs": latencies, "errors": dict(errors), "lifecycles": lifecycles,
            "failedLifecycles": failed_lifecycles, "lockWaitS": sum(all_waits), "stuckThreads": stuck}


# --- phases (main process) ----------------------------------------------------------------------

def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _stats(values: list[float], seconds: float) -> dict[str, Any]:
    values = sorted(values)
    return {"requests": len(values), "rps": len(values) / seconds,
            "p50Ms": percentile(values, 50), "p99Ms": percentile(values, 99),
            "meanMs": (sum(values) / len(values)) if values else None}


def run_phase(phase: str, server: Server, clients: list[dict[str, Any]], args: argparse.Namespace, run_id: str,
              lock_count: int, profile_dir: Path | None) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    locks = [ctx.Lock() for _ in range(max(1, lock_count))]
    procs = max(1, min(args.procs, len(clients)))
    groups = [clients[i::procs] for i in range(procs)]
    workers: list[tuple[Any, Any]] = []
    profiler: subprocess.Popen[bytes] | None = None
    try:
        for group in groups:
            parent_end, child_end = ctx.Pipe()
            spec = {"phase": phase, "baseUrl": server.base_url, "timeout": args.timeout,
                    "connection": args.connection, "runId": run_id, "clients": group}
            process = ctx.Process(target=worker_main, args=(child_end, spec, locks), daemon=True,
                                  name=f"bench-{phase}")
            process.start()
            child_end.close()
            workers.append((process, parent_end))
        for process, conn in workers:
            if not conn.poll(60) or conn.recv()[0] != "ready":
                raise BenchError(f"load-generator process {process.pid} did not start")
        start = time.monotonic() + 0.2
        go = {"start": start, "measureStart": start + args.warmup, "measureEnd": start + args.warmup + args.seconds}
        for _, conn in workers:
            conn.send(("go", go))
        _sleep_until(go["measureStart"])
        if profile_dir is not None:
            profiler = _start_profiler(server.pid, phase, args.seconds, profile_dir)
        cpu0 = {"server": cpu_seconds(server.pid), "loadgen": [cpu_seconds(p.pid) for p, _ in workers]}
        _sleep_until(go["measureEnd"])
        cpu1 = {"server": cpu_seconds(server.pid), "loadgen": [cpu_seconds(p.pid) for p, _ in workers]}
        summaries = []
        for process, conn in workers:
            if not conn.poll(4 * args.timeout + 30):
                raise BenchError(f"load-generator process {process.pid} did not report")
            kind, payload = conn.recv()
            if kind != "done":
                raise BenchError(f"load-generator process {process.pid} failed: {payload}")
            summaries.append(payload)
        for process, _ in workers:
            process.join(timeout=5)
    finally:
        for process, conn in workers:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
            conn.close()
        if profiler is not None:
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                profiler.kill()
                profiler.wait()
    return _phase_result(phase, summaries, args, cpu0, cpu1, procs)


def _sleep_until(moment: float) -> None:
    while (left := moment - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))


def _start_profiler(pid: int | None, phase: str, seconds: float, directory: Path) -> subprocess.Popen[bytes] | None:
    py_spy = Path(sys.executable).with_name("py-spy")
    if pid is None or not py_spy.exists():
        print("bench: --profile needs py-spy in the venv (pip install py-spy)", file=sys.stderr)
        return None
    directory.mkdir(parents=True, exist_ok=True)
    command = [str(py_spy), "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "200",
               "--format", "raw", "--output", str(directory / f"{phase}.txt"), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _cpu_share(before: float | None, after: float | None, seconds: float) -> float | None:
    if before is None or after is None:
        return None
    return 100.0 * (after - before) / seconds


def _phase_result(phase: str, summaries: list[dict[str, Any]], args: argparse.Namespace, cpu0: dict[str, Any],
                  cpu1: dict[str, Any], procs: int) -> dict[str, Any]:
    seconds = args.seconds
    by_op: dict[str, list[float]] = {}
    errors: Counter[str] = Counter()
    for s in summaries:
        for op, values in s["latenciesMs"].items():
            by_op.setdefault(op, []).extend(values)
        errors.update(s["errors"])
    every = [v for values in by_op.values() for v in values]
    result: dict[str, Any] = {"phase": phase, **_stats(every, seconds), "errors": sum(errors.values()),
                              "errorKinds": dict(errors), "stuckThreads": sum(s["stuckThreads"] for s in summaries)}
    loadgen = [_cpu_share(a, b, seconds) for a, b in zip(cpu0["loadgen"], cpu1["loadgen"], strict=True)]
    result["serverCpuPct"] = _cpu_share(cpu0["server"], cpu1["server"], seconds)
    # Server CPU time per counted request: what a request costs the server, whoever limits the rate.
    result["serverCpuMsPerRequest"] = (10.0 * result["serverCpuPct"] / result["rps"]
                                       if result["serverCpuPct"] is not None and result["rps"] else None)
    result["loadgenCpuPct"] = sum(x for x in loadgen if x is not None) if any(x is not None for x in loadgen) else None
    result["loadgenProcesses"] = procs
    if phase == "kit":
        result["operations"] = {op: _stats(by_op.get(op, []), seconds) for op in KIT_OPS}
        lifecycles = sum(s["lifecycles"] for s in summaries)
        result["lifecycles"] = lifecycles
        result["lifecyclesPerS"] = lifecycles / seconds
        result["failedLifecycles"] = sum(s["failedLifecycles"] for s in summaries)
        result["lockWaitPct"] = 100.0 * sum(s["lockWaitS"] for s in summaries) / (seconds * args.clients)
    return result


# --- set-up, facts and report ------------------------------------------------------------------------

def prepare_world(base_url: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Shops to sell from and beneficiaries to ask, all switched to the "manual" behaviour."""
    from sandbox.client import ControlClient, HttpTransport

    control = ControlClient(HttpTransport(base_url, timeout=30))
    world = control.fixtures()
    shops = [p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"]]
    beneficiaries = [b for b in world["beneficiaries"] if b["behaviour"] != "no_device"]
    for b in beneficiaries:
        if b["behaviour"] != "manual":
            control.set_behaviour(b["beneficiaryId"], "manual")
    if not shops or not beneficiaries:
        raise BenchError("the fixtures have no active shop or no beneficiary with a device")
    return shops, [b["beneficiaryId"] for b in beneficiaries]


def busy_cpu_pct(seconds: float = 1.0) -> float | None:
    """How busy the machine's CPUs are (all of them, 0-100%) over `seconds`, from /proc/stat."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values[:8]), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 100.0 * (1 - (idle1 - idle0) / (total1 - total0)) if total1 > total0 else None


def machine_facts() -> dict[str, Any]:
    from importlib import metadata

    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in ("gevent", "flask", "werkzeug", "flask-socketio", "sqlalchemy", "requests"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"nproc": os.cpu_count(), "usableCpus": len(os.sched_getaffinity(0)), "cpuModel": model,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "implementation": platform.python_implementation(), "sqlite": sqlite3.sqlite_version,
            "packages": versions, "sandboxRevision": _revision()}


def _revision() -> str | None:
    """The commit the server code comes from, with "+dirty" when sandbox/ has uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "sandbox"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


STACKS = {
    "gevent": "gevent.pywsgi WSGIServer via Flask-SocketIO (async_mode gevent, monkey-patched), 1 process, "
              "HTTP/1.1 keep-alive, TCP_NODELAY",
    "threading": "Werkzeug development server via Flask-SocketIO (async_mode threading), thread per "
                 "connection, 1 process; it answers Connection: close",
}


def _set_rules(base_url: str, changes: dict[str, Any]) -> None:
    from sandbox.client import ControlClient, HttpTransport

    ControlClient(HttpTransport(base_url, timeout=30)).settings(**changes)


JOURNAL_COST_TARGET_PCT = 5.0


def _journal_cost(kit: dict[str, Any], unjournaled: dict[str, Any]) -> dict[str, Any]:
    """What the request journal takes from the kit mix: throughput lost, server CPU per request added."""
    rps_cost = 100.0 * (1 - kit["rps"] / unjournaled["rps"]) if unjournaled["rps"] else None
    with_cpu, without_cpu = kit["serverCpuMsPerRequest"], unjournaled["serverCpuMsPerRequest"]
    cpu_cost = 100.0 * (with_cpu / without_cpu - 1) if with_cpu and without_cpu else None
    return {"throughputCostPct": rps_cost, "serverCpuCostPct": cpu_cost, "targetPct": JOURNAL_COST_TARGET_PCT,
            "meetsTarget": rps_cost is not None and rps_cost < JOURNAL_COST_TARGET_PCT}


def _ms(value: float | None) -> str:
    return f"{value:8.2f}" if value is not None else "       -"


def _pct(value: float | None) -> str:
    return f"{value:5.0f}%" if value is not None else "     -"


def render(report: dict[str, Any]) -> str:
    m, c = report["machine"], report["config"]
    trivial, kit = report["phases"]["trivial"], report["phases"]["kit"]
    lines = [
        f"ancv-sandbox API benchmark, {report['date']}",
        f"machine  {m['nproc']} CPUs ({m['usableCpus']} usable) {m['cpuModel']}, {m['os']}, "
        f"{m['implementation']} {m['python']}, SQLite {m['sqlite']}; sandbox at {m['sandboxRevision']}; "
        f"CPUs busy before the run: {_pct(m.get('busyCpuPctBefore')).strip()}",
        f"server   ancv-sandbox serve --server {c['server']} --db {c['db']} --clock wall",
        f"         {STACKS[c['server']]}",
        f"load     {c['clients']} clients (threads, one requests.Session each, {c['connection']}) in "
        f"{c['procs']} load-generator process(es); {c['seconds']:g} s per phase after {c['warmup']:g} s warm-up",
        "",
        f"{'phase':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'server CPU':>12}{'loadgen CPU':>13}"
        f"{'srv CPU ms/req':>16}",
    ]

    def row(label: str, r: dict[str, Any], errors: int | None = None, cpu: bool = True) -> str:
        err = f"{errors if errors is not None else '':>8}"
        per = r.get("serverCpuMsPerRequest")
        tail = (f"{_pct(r.get('serverCpuPct')):>12}{_pct(r.get('loadgenCpuPct')):>13}"
                f"{(f'{per:.2f}' if per is not None else '-'):>16}") if cpu else ""
        return f"{label:<34}{r['rps']:9.1f}{_ms(r['p50Ms']):>9}{_ms(r['p99Ms']):>9}{err}{tail}".rstrip()

    lines.append(row("trivial  GET /_sandbox/health", trivial, trivial["errors"]))
    lines.append(row("kit mix  sealed calls (all four)", kit, kit["errors"]))
    for op, label in (("create", "POST /payment-transactions"), ("payer", "POST …/payer"),
                      ("status", "GET …/{id}"), ("cancel", "POST …/cancellation")):
        lines.append(row(f"  {op:<7}{label}", kit["operations"][op], cpu=False))
    lines += [
        "",
        f"payment lifecycles/s (create+payer+status+cancel)  {kit['lifecyclesPerS']:.1f}"
        f"   (failed: {kit['failedLifecycles']}; clients waited for a shared beneficiary "
        f"{kit['lockWaitPct']:.0f}% of the time)",
        f"ratio kit-mix calls/s / trivial req/s               {report['ratio']:.2f}   "
        f"(target >= {TARGET_RATIO}: {'MET' if report['meetsTarget'] else 'NOT MET'})",
        "same ratio from server CPU ms per request (trivial / kit)  "
        + (f"{report['cpuRatio']:.2f}" if report["cpuRatio"] is not None else "-")
        + "   (what the ratio would be if the server's CPU limited both phases)",
    ]
    unjournaled, cost = report["phases"].get("kitWithoutJournal"), report.get("journalCost")
    if unjournaled and cost:
        lines += [
            row("kit mix  without the request journal", unjournaled, unjournaled["errors"]),
            "request journal's cost on the kit mix: throughput "
            + (f"{cost['throughputCostPct']:+.1f}%" if cost["throughputCostPct"] is not None else "-")
            + ", server CPU ms/request "
            + (f"{cost['serverCpuCostPct']:+.1f}%" if cost["serverCpuCostPct"] is not None else "-")
            + f"   (target < {cost['targetPct']:g}%: {'MET' if cost['meetsTarget'] else 'NOT MET'}; one run, noisy)",
        ]
    for label, r in (("trivial", trivial), ("kit mix", kit)):
        if r.get("serverCpuPct") is not None and r["serverCpuPct"] < SERVER_BOUND_PCT:
            lines.append(f"NOTE     the {label} phase kept the server's CPU only {r['serverCpuPct']:.0f}% busy: its rate was "
                         "limited elsewhere (latency, or the load generator's CPU), not by the server's work")
    busy = m.get("busyCpuPctBefore")
    if busy is not None and busy > BUSY_MACHINE_PCT:
        lines.append(f"WARNING  the CPUs were already {busy:.0f}% busy before the run: other work competes, "
                     "the figures are low")
    problems = report["server"]["logProblems"]
    stop = report["server"].get("stopped", {})
    lines.append(f"server   log during the run: {problems['tracebacks']} traceback(s), {problems['errorLines']} ERROR "
                 f"line(s); on SIGTERM it exited with {stop.get('exitCode')} in {stop.get('seconds')} s"
                 f"{' (SIGKILL needed)' if stop.get('killed') else ''}, {stop.get('tracebacks')} traceback(s)")
    if trivial["errors"] or kit["errors"] or (unjournaled and unjournaled["errors"]):
        kinds = {**trivial["errorKinds"], **kit["errorKinds"], **(unjournaled["errorKinds"] if unjournaled else {})}
        lines.append(f"ERRORS   {json.dumps(kinds)}: the figures above count successful requests only")
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase (default: %(default)s)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each phase "
                                                                  "(default: %(default)s)")
    parser.add_argument("--server", choices=SERVERS, default="gevent",
                        help="server stack of `ancv-sandbox serve` (default: %(default)s)")
    parser.add_argument("--db", choices=("file", "memory"), default="file",
                        help="temporary SQLite file (the default store) or :memory: (default: %(default)s)")
    parser.add_argument("--procs", type=int, default=8,
                        help="load-generator processes the clients are spread over (default: %(default)s)")
    parser.add_argument("--connection", choices=("keep-alive", "close"), default="keep-alive",
                        help="reuse connections (like HttpTransport) or ask for Connection: close")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record the server with py-spy during each measured phase (DIR/trivial.txt, "
                             "DIR/kit.txt, collapsed stacks); it costs the server CPU, so figures drop")
    parser.add_argument("--no-journal", action="store_true",
                        help="also run the kit mix with the request journal off, and print the journal's cost")
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0 or args.procs < 1 or args.timeout <= 0:
        parser.error("--clients and --procs must be >= 1, --seconds and --timeout > 0, --warmup >= 0")
    return args


def _on_alarm(_signum: int, _frame: Any) -> None:
    raise Watchdog()


def _on_term(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # run the `finally` that stops the server


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    budget = 90 + (3 if args.no_journal else 2) * (args.warmup + args.seconds + 4 * args.timeout + 40)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(int(budget))
    run_id = uuid.uuid4().hex[:8]
    started = datetime.now(UTC)
    background = busy_cpu_pct()  # before anything of ours runs: is someone else using the CPUs?
    workdir = Path(tempfile.mkdtemp(prefix="ancv-bench-"))
    server = Server(args.server, args.db, workdir)
    try:
        log = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else (lambda text: None)
        log(f"bench: starting {' '.join(server.command)}")
        server.start()
        shops, beneficiaries = prepare_world(server.base_url)
        clients = [{"index": i, "shop": shops[i % len(shops)], "beneficiaryId": beneficiaries[i % len(beneficiaries)],
                    "lock": i % len(beneficiaries)} for i in range(args.clients)]
        log(f"bench: trivial phase, {args.clients} clients, {args.seconds:g} s")
        trivial = run_phase("trivial", server, clients, args, run_id, len(beneficiaries), args.profile)
        log(f"bench: kit phase, {args.clients} clients, {args.seconds:g} s")
        kit = run_phase("kit", server, clients, args, run_id, len(beneficiaries), args.profile)
        unjournaled = None
        if args.no_journal:
            _set_rules(server.base_url, {"requestJournal": False})
            log(f"bench: kit phase without the request journal, {args.clients} clients, {args.seconds:g} s")
            unjournaled = run_phase("kit", server, clients, args, run_id + "-nj", len(beneficiaries), None)
        problems = server.log_problems()
    except Watchdog:
        print(f"bench: gave up after {budget:.0f} s (watchdog)", file=sys.stderr)
        return 2
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
        server.stop()
        at_stop = server.log_problems()
        try:
            server.log_path.unlink(missing_ok=True)
            for leftover in sorted(workdir.iterdir(), reverse=True):
                leftover.unlink()
            workdir.rmdir()
        except OSError:
            pass
    ratio = kit["rps"] / trivial["rps"] if trivial["rps"] else 0.0
    cpu_t, cpu_k = trivial["serverCpuMsPerRequest"], kit["serverCpuMsPerRequest"]
    cpu_ratio = cpu_t / cpu_k if cpu_t and cpu_k else None
    report = {
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {**machine_facts(), "busyCpuPctBefore": background},
        "config": {"clients": args.clients, "seconds": args.seconds, "warmup": args.warmup, "server": args.server,
                   "db": args.db, "procs": max(1, min(args.procs, args.clients)), "connection": args.connection,
                   "timeout": args.timeout, "profiled": args.profile is not None},
        "server": {"stack": STACKS[args.server], "command": server.command, "logProblems": problems,
                   "stopped": {**server.stopped, "tracebacks": at_stop["tracebacks"] - problems["tracebacks"]}},
        "phases": {"trivial": trivial, "kit": kit, **({"kitWithoutJournal": unjournaled} if unjournaled else {})},
        **({"journalCost": _journal_cost(kit, unjournaled)} if unjournaled else {}),
        "ratio": ratio,
        "target": TARGET_RATIO,
        "meetsTarget": ratio >= TARGET_RATIO,
        # The same ratio from server CPU per request: what it would be if the server, not the
        # load generator or a network stall, limited both phases.
        "cpuRatio": cpu_ratio,
    }
    print(json.dumps(report, indent=2) if args.json else render(report), flush=True)
    failed = any(p["errors"] or p["stuckThreads"] for p in (trivial, kit, unjournaled) if p)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
