"""The project's recipes as nox sessions: lint, type-check, tests, and the long runs `./dev` names.

`./dev` prepares the machine and `.venv`, then hands over to these (`./dev test ARGS` is
`nox -s lint typecheck tests -- ARGS`). Every session runs on the interpreter nox runs on, that of
`.venv`: nox builds no environment and installs nothing (`venv_backend="none"`), so it never
reaches the network. Plain `nox` runs lint, typecheck and tests, stopping at the first failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.stop_on_first_error = True

PYTHON = sys.executable  # .venv's interpreter when nox runs from .venv, as `./dev` runs it
TYPED = ["sandbox", "scenarios", "merchant_sim", "customer_sim"]
READY_TIMEOUT_S = 60
# On Ctrl-C, the time a run gets to stop what it started (the servers of pytest's fixtures) before nox
# terminates it; nox's default, 0.3 s, would leave those servers running.
TEARDOWN_TIMEOUT_S = 60
# At most four: each worker starts its own servers and browser, and a run cannot end before its longest
# tests (the scanner bench's smoke run, videos read from the command line: 30-60 s each) however many run.
MAX_TEST_WORKERS = 4


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check ."""
    session.run(PYTHON, "-m", "ruff", "check", ".")


@nox.session(venv_backend="none")
def typecheck(session: nox.Session) -> None:
    """mypy on the packages (strict on sandbox/domain: pyproject.toml)."""
    session.run(PYTHON, "-m", "mypy", *TYPED)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """pytest on every core, arguments after `--` passed on (`-n 0`: in one process); collecting no test
    fails (pytest's exit code 5)."""
    _pytest(session, *_workers(os.environ.get("ANCV_SANDBOX_TEST_DB")), *session.posargs)


def _workers(test_db: str | None) -> list[str]:
    """pytest-xdist's options: one worker per core, at most MAX_TEST_WORKERS; none when the suite runs on
    an SQL database named by ANCV_SANDBOX_TEST_DB, which every test empties (workers would empty each
    other's)."""
    if test_db and test_db != "memory":
        return []
    return ["--numprocesses", "auto", "--maxprocesses", str(MAX_TEST_WORKERS)]


@nox.session(venv_backend="none")
def clients(session: nox.Session) -> None:
    """The clients in other languages against a live sandbox (needs node, npm and java: `./dev test-clients`)."""
    _pytest(session, "-rs", "-m", "slow", "tests/integration/test_other_languages.py", *session.posargs)


@nox.session(venv_backend="none")
def pictures(session: nox.Session) -> None:
    """The README's pictures taken anew, into docs/screenshots or the folder given after `--`."""
    session.run(PYTHON, "docs/pictures.py", *session.posargs, interrupt_timeout=TEARDOWN_TIMEOUT_S)


@nox.session(venv_backend="none")
def scaleout(session: nox.Session) -> None:
    """Two servers on one PostgreSQL database and one Redis (tests/scaleout), then the suite on PostgreSQL.

    Both on a throwaway cluster; arguments after `--` go to the suite's run. The suite runs even
    when the two-server test fails, so one run reports both.
    """
    if find_spec("psycopg") is None or find_spec("redis") is None:
        session.error("the scaleout extra is missing (psycopg, redis): `./dev test-scaleout` installs it")
    failed: list[str] = []
    with throwaway_cluster(session) as cluster:
        runs = [
            ("two servers (tests/scaleout)", ["-rsP", "tests/scaleout"],
             {"ANCV_SANDBOX_SCALEOUT_DB": cluster.database("ancv_scaleout"),
              "ANCV_SANDBOX_SCALEOUT_REDIS": cluster.redis_url}),
            ("the suite on PostgreSQL", session.posargs,
             {"ANCV_SANDBOX_TEST_DB": cluster.database("ancv_suite")}),
        ]
        for what, args, env in runs:
            session.log(f"scale-out: {what}")
            started = time.monotonic()
            try:
                _pytest(session, *args, env=env)
            except nox.command.CommandFailed:
                failed.append(what)
            session.log(f"scale-out: {what} took {time.monotonic() - started:.0f} s")
    if failed:
        session.error(f"failed: {', '.join(failed)}")


def _pytest(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    session.run(PYTHON, "-m", "pytest", *args, env=env, interrupt_timeout=TEARDOWN_TIMEOUT_S)


# ------------------------------------------------------------------ the scale-out cluster ----

@dataclass(frozen=True)
class Cluster:
    postgres_url: str  # the server, no database: postgresql+psycopg://postgres@127.0.0.1:PORT
    redis_url: str

    def database(self, name: str) -> str:
        return f"{self.postgres_url}/{name}"


@contextmanager
def throwaway_cluster(session: nox.Session) -> Iterator[Cluster]:
    """A PostgreSQL cluster (databases ancv_suite and ancv_scaleout) and a Redis server in a temporary
    folder, on free loopback ports; whatever happens (failure, Ctrl-C, SIGTERM), both are stopped and
    the folder removed."""
    pg_bin = _postgres_bin(session)
    if shutil.which("redis-server") is None:
        session.error("redis-server not found: `./dev test-scaleout` installs it")
    folder = Path(tempfile.mkdtemp(prefix="ancv-scaleout."))
    folder.chmod(0o711)
    data = folder / "pg" / "data"
    (folder / "pg").mkdir()
    (folder / "redis").mkdir()
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
        shutil.chown(folder / "pg", "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    redis: subprocess.Popen[bytes] | None = None
    previous_term = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up as Ctrl-C
    try:
        pg_port, redis_port = _free_port(), _free_port()
        session.log(f"scale-out: PostgreSQL {_version(pg_bin / 'postgres')} on 127.0.0.1:{pg_port}, in {folder}")
        session.run(*as_owner, str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--no-sync", silent=True)
        # A throwaway cluster: durability off, room for every test's connections.
        options = (f"-p {pg_port} -k {folder / 'pg'} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        try:
            session.run(*as_owner, str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(folder / "pg" / "server.log"),
                        "-w", "-t", str(READY_TIMEOUT_S), "-o", options, "start", silent=True)
        except nox.command.CommandFailed:
            session.error(f"PostgreSQL did not start:\n{(folder / 'pg' / 'server.log').read_text()}")
        for name in ("ancv_suite", "ancv_scaleout"):
            session.run(*as_owner, str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(pg_port),
                        "-U", "postgres", name, silent=True)
        session.log(f"scale-out: Redis {_version('redis-server')} on 127.0.0.1:{redis_port}")
        redis_log = folder / "redis" / "server.log"
        redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                                  "--appendonly", "no", "--dir", str(folder / "redis"), "--logfile", str(redis_log)])
        _wait_for_redis(session, redis, redis_port, redis_log)
        yield Cluster(f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}", f"redis://127.0.0.1:{redis_port}/0")
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
        if (data / "postmaster.pid").exists():
            stop = [*as_owner, str(pg_bin / "pg_ctl"), "-D", str(data), "-w", "stop"]
            if subprocess.run([*stop, "-m", "fast"], capture_output=True).returncode != 0:
                subprocess.run([*stop, "-m", "immediate"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous_term)
        session.log("scale-out: PostgreSQL and Redis stopped, temporary folder removed")


def _postgres_bin(session: nox.Session) -> Path:
    """Debian's newest PostgreSQL programs (/usr/lib/postgresql/VERSION/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        session.error("PostgreSQL's initdb not found under /usr/lib/postgresql: `./dev test-scaleout` installs it")
    return found[-1].parent


def _version(program: str | Path) -> str:
    """'15.18' from `postgres -V`, '7.0.15' from `redis-server --version`."""
    words = subprocess.run([str(program), "--version"], capture_output=True, text=True, check=True).stdout.split()
    return words[2].removeprefix("v=")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_redis(session: nox.Session, redis: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if redis.poll() is not None or time.monotonic() > deadline:
            session.error(f"Redis did not start:\n{log.read_text() if log.exists() else ''}")
        time.sleep(0.1)
