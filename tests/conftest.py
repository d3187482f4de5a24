"""Shared fixtures: a sandbox on a virtual clock, clients for it, a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sandbox.adapters.memory_store import MEMORY
from sandbox.client import (
    ControlClient,
    FlaskTransport,
    HttpTransport,
    KitClient,
    provider_client,
    shop_client,
)
from sandbox.domain.dates import format_date, parse_date
from sandbox.pytest_plugin import free_port, stop_server
from sandbox.services.sandbox import Rules, Sandbox, Settings
from sandbox.web import create_app

START = datetime.fromisoformat("2026-06-02T08:00:00+00:00")  # a Tuesday
READY_TIMEOUT_S = 15
# Run the suite on another database: ANCV_SANDBOX_TEST_DB=postgresql+psycopg://user@host:port/db,
# or on the Python store of simulations: ANCV_SANDBOX_TEST_DB=memory
TEST_DB = os.environ.get("ANCV_SANDBOX_TEST_DB")


class World:
    """A running sandbox (in memory, virtual clock) with the clients a test needs."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.sandbox: Sandbox = self.app.extensions["ancv_sandbox"]
        self.transport = FlaskTransport(self.app)
        self.control = ControlClient(self.transport)
        self.fixtures = self.control.fixtures()

    def shop(self, index: int = 0) -> dict[str, Any]:
        """The index-th active point of sale cashing directly (no service provider)."""
        shops = [p for p in self.fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"]]
        return shops[index]

    def provided_shop(self, index: int = 0) -> dict[str, Any]:
        shops = [p for p in self.fixtures["pointsOfSale"] if p["serviceProviderIds"]]
        return shops[index]

    def inactive_shop(self) -> dict[str, Any]:
        return next(p for p in self.fixtures["pointsOfSale"] if p["status"] != "ACTIVE")

    @property
    def provider(self) -> dict[str, Any]:
        return self.fixtures["serviceProviders"][0]

    def kit(self, index: int = 0) -> KitClient:
        return shop_client(self.transport, self.shop(index))

    def provider_kit(self, index: int = 0) -> KitClient:
        return provider_client(self.transport, self.provider, self.provided_shop(index)["shopId"])

    def beneficiary(self, behaviour: str = "manual", index: int = 0) -> dict[str, Any]:
        return [b for b in self.fixtures["beneficiaries"] if b["behaviour"] == behaviour][index]

    def balance(self, beneficiary_id: str) -> int:
        return next(b["balance"] for b in self.control.fixtures()["beneficiaries"]
                    if b["beneficiaryId"] == beneficiary_id)

    def now(self) -> datetime:
        return parse_date(self.control.clock()["now"])

    def later(self, **delta: float) -> str:
        return format_date(self.now() + timedelta(**delta)) or ""

    def advance(self, seconds: float) -> None:
        self.control.advance(seconds)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.control.events() if name is None or e["type"] == name]

    def paid_transaction(self, kit: KitClient | None = None, amount: int = 4000, **create: Any) -> dict[str, Any]:
        """A transaction authorized by the manual beneficiary through /payer and `act`."""
        kit = kit or self.kit()
        tx = kit.create_transaction(f"order-{len(self.events())}", "1", amount, **create)["transaction"]
        ben = self.beneficiary("manual")
        assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
        return self.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]


def fresh_test_database() -> str | None:
    """None (SQLite in memory), "memory" (a new MemoryStore per sandbox), or the emptied ANCV_SANDBOX_TEST_DB."""
    if TEST_DB and TEST_DB != MEMORY:
        from sandbox.adapters.sql_schema import metadata
        from sandbox.adapters.sql_store import SqlStore

        store = SqlStore(TEST_DB)
        metadata.drop_all(store.engine)
        store.close()
    return TEST_DB


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"clock": "virtual", "start": START, "seed": 42, "webhook_timeout_s": 2.0,
                              "rules": Rules(thinkTimeSeconds=3.0)}
    if "db" not in overrides:
        values["db"] = fresh_test_database()
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def world() -> Any:
    w = World(make_settings())
    yield w
    w.sandbox.stop()


class Receiver:
    """An HTTP server on loopback that records webhooks (path, body, when they arrived); `statuses`
    scripts its answers, or `answer(path, body)` chooses each one (called outside the lock: it may wait)."""

    def __init__(self, answer: Callable[[str, Any], int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request (a killed server): nothing was delivered
                    return
                body = json.loads(raw or b"null")
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "body": body, "t": time.monotonic()})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if answer is not None:
                    status = answer(self.path, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def run_async(coroutine: Any) -> Any:
    """`asyncio.run` on a thread of its own: Playwright's sync API keeps a loop running in the
    main thread for the whole session once a browser test ran, and asyncio.run refuses to nest."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@contextmanager
def serving(folder: Path, *options: str, db: str | None = None) -> Iterator[tuple[str, ControlClient, float, Any]]:
    """Run `ancv-sandbox serve` on a free loopback port until the block ends (SIGTERM, then kill).

    Yields (base URL, control client, seconds until ready, process); the output goes to
    `folder/serve.log` (a file, not a pipe nobody reads: a chatty server never blocks) and the
    process's `log` attribute is that open file."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(port), "--sftp-port", "0",
               "--db", db or str(folder / "serve.sqlite3"), *options]
    started = time.monotonic()
    log = open(folder / "serve.log", "w+")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log = log  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    verify: bool | str = True
    if "--tls" in options:  # HTTPS, checked against the CA the server makes beside its database (issue 15, item 1)
        base = base.replace("http:", "https:", 1)
        verify = str(Path(options[options.index("--tls-dir") + 1]) if "--tls-dir" in options
                     else Path(command[command.index("--db") + 1] + ".tls")) + "/ca.pem"
    control = ControlClient(HttpTransport(base, timeout=2, verify=verify))
    try:
        while True:
            try:
                if control.health() == {"status": "ok"}:
                    break
            except Exception:
                pass
            assert process.poll() is None, (folder / "serve.log").read_text()
            assert time.monotonic() - started < READY_TIMEOUT_S, "server did not become ready"
            time.sleep(0.05)
        yield base, control, time.monotonic() - started, process
    finally:
        stop_server(process)
        log.close()


@pytest.fixture
def live_server(tmp_path):
    """A real server (virtual clock, 1 s think time): (base URL, control, ready s, process)."""
    with serving(tmp_path, "--clock", "virtual", "--think-time", "1") as served:
        yield served
