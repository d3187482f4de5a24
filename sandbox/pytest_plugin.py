"""A pytest plugin for integrators: the `ancv_sandbox` fixture, a sandbox ready in every test.

Installed with the package (entry point `pytest11`), so `pip install ancv-sandbox` is enough:
a test that names `ancv_sandbox` gets a server started once for the session (`ancv-sandbox serve`
on a free loopback port, virtual clock, a database in a temporary folder, stopped when the session
ends), put back to its seeded state before each test unless the test is marked
`@pytest.mark.ancv_sandbox_keep`. `--ancv-sandbox-url URL` uses a running server instead (reset
still applies; an `https://` server is verified against the system's roots or `REQUESTS_CA_BUNDLE`).
`--ancv-sandbox-tls` starts it with `serve --tls`, like ANCV's HTTPS-only platform, and `.ca_file` is
the certificate authority to trust. Nothing starts unless a test asks for the fixture, so the plugin
stays out of the way of suites that do not use it.

The helpers read like the Kit and the control plane (SPEC §9) and go through `sandbox.client`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .client import KIT_PATH, ControlClient, HttpTransport, KitClient, provider_client, shop_client

KEEP_MARKER = "ancv_sandbox_keep"
READY_TIMEOUT_S = 60.0  # a cold start on a slow CI machine imports Flask, gevent, SQLAlchemy…
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05


class AncvSandbox:
    """A sandbox server as a test sees it: its URLs, its fixtures and its controls."""

    def __init__(self, url: str, ca_file: Path | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.kit_url = self.url + KIT_PATH
        self.ca_file = ca_file  # the sandbox's CA (PEM) when it serves HTTPS; None over plain HTTP
        self.transport = HttpTransport(self.url, timeout=timeout, verify=str(ca_file) if ca_file else True)
        self.control = ControlClient(self.transport)

    def fixtures(self) -> dict[str, Any]:
        """The shops, service providers and beneficiaries as they are now (`GET /_sandbox/fixtures`)."""
        # read afresh each time: balances move, and a reset with another seed changes keys
        fixtures: dict[str, Any] = self.control.fixtures()
        return fixtures

    def reset(self, seed: int | None = None) -> Any:
        """Drop all state and re-create the seeded fixtures (`POST /_sandbox/reset`)."""
        return self.control.reset(seed)

    def shop(self, index: int = 0, *, provider: dict[str, Any] | None = None) -> dict[str, Any]:
        """The index-th active point of sale cashing with its own key, or served by `provider`."""
        shops = [p for p in self.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE"
                 and (provider["serviceProviderId"] in p["serviceProviderIds"] if provider else
                      not p["serviceProviderIds"])]
        return shops[index]

    def provider(self, index: int = 0) -> dict[str, Any]:
        """The index-th service provider (`serviceProviderId`, `keyVersion`, `key`)."""
        providers: list[dict[str, Any]] = self.fixtures()["serviceProviders"]
        return providers[index]

    def kit(self, shop: dict[str, Any] | None = None, *, provider: dict[str, Any] | None = None) -> KitClient:
        """A Kit client for `shop` (default: the first), sealed with its key or with `provider`'s."""
        if provider is not None:
            return provider_client(self.transport, provider, (shop or self.shop(provider=provider))["shopId"])
        return shop_client(self.transport, shop or self.shop())

    def beneficiary(self, behaviour: str = "manual", index: int = 0) -> dict[str, Any]:
        """The index-th beneficiary whose app answers with `behaviour` (`pay_full`, `wrong_pin`, …)."""
        found = [b for b in self.fixtures()["beneficiaries"] if b["behaviour"] == behaviour]
        if not found:
            known = sorted({b["behaviour"] for b in self.fixtures()["beneficiaries"]})
            raise LookupError(f"no beneficiary behaves {behaviour!r}; the fixtures hold {', '.join(known)}")
        return found[index]

    def advance(self, seconds: float) -> Any:
        """Move the virtual clock, firing every deadline (and automatic answer) that falls due."""
        return self.control.advance(seconds)

    def act(self, beneficiary_id: str, action: str, **fields: Any) -> Any:
        """Act as a beneficiary's app: `scan` (url), `adjust` (amount), `authorize` (pin), `abandon`, `refuse`."""
        return self.control.act(beneficiary_id, action, **fields)

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook delivery, with its attempts."""
        deliveries: list[dict[str, Any]] = self.control.webhooks()
        return deliveries

    def emails(self) -> list[dict[str, Any]]:
        """The outbox: every email the sandbox sent."""
        emails: list[dict[str, Any]] = self.control.emails()
        return emails

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The timeline, oldest first; only the events called `name` (e.g. `TransactionAuthorized`) if given."""
        events: list[dict[str, Any]] = self.control.events()
        return [e for e in events if name is None or e["type"] == name]

    def requests(self, limit: int | None = None, path: str | None = None, status: int | None = None,
                 error_code: str | None = None) -> list[dict[str, Any]]:
        """The request journal, newest first: each call with its headers, body, answer and seal verdict."""
        return self.control.request_journal(limit=limit, path=path, status=status, error_code=error_code)

    def clear_requests(self) -> None:
        """Empty the request journal."""
        self.control.clear_request_journal()

    def fault(self, operation: str, fault: str, **options: Any) -> dict[str, Any]:
        """A network fault on the next matching Kit calls: `delay` (delayMs), `error` (status), `drop_response`,
        `reset`; `times` and `probability` as options. A reset between tests removes it."""
        added: dict[str, Any] = self.control.add_fault(operation, fault, **options)
        return added

    def faults(self) -> list[dict[str, Any]]:
        """The faults in force."""
        faults: list[dict[str, Any]] = self.control.faults()
        return faults

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.control.clear_faults()


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_server(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM (a clean shutdown), then kill if it has not exited in `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(folder: Path, tls: bool = False) -> Iterator[AncvSandbox]:
    """Run `ancv-sandbox serve` on loopback (virtual clock, database in `folder`, HTTPS if `tls`) until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--clock", "virtual", "--db", str(folder / "sandbox.sqlite3"), "--sftp-port", "0"]
    ca_file = None
    if tls:
        command += ["--tls", "--tls-dir", str(folder / "tls")]
        ca_file = folder / "tls" / "ca.pem"  # written by serve before it listens
    log_path = folder / "serve.log"
    # a file, not a pipe nobody reads: a chatty server must never block on its output
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        sandbox = AncvSandbox(f"{'https' if tls else 'http'}://127.0.0.1:{port}", ca_file)
        try:
            _wait_until_ready(AncvSandbox(sandbox.url, ca_file, timeout=2).control, process, log_path)
            yield sandbox
        finally:
            stop_server(process)


def _wait_until_ready(control: ControlClient, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            if control.health() == {"status": "ok"}:
                return
        except Exception:  # not listening yet
            pass
        if process.poll() is not None:
            raise RuntimeError(f"ancv-sandbox serve stopped before it was ready:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"ancv-sandbox serve was not ready after {READY_TIMEOUT_S:.0f} s:\n"
                               f"{log_path.read_text()}")
        time.sleep(POLL_INTERVAL_S)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options."""
    group = parser.getgroup("ancv-sandbox", "ANCV Chèque-Vacances Connect sandbox")
    group.addoption("--ancv-sandbox-url", metavar="URL", default=None,
                    help="use the sandbox running at URL for the ancv_sandbox fixture instead of starting one")
    group.addoption("--ancv-sandbox-tls", action="store_true", default=False,
                    help="start the ancv_sandbox server with HTTPS (serve --tls); its CA is ancv_sandbox.ca_file")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that keeps the state of the previous test."""
    config.addinivalue_line("markers", f"{KEEP_MARKER}: do not reset the ancv_sandbox before this test")


@pytest.fixture(scope="session")
def ancv_sandbox_server(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[AncvSandbox]:
    """The session's sandbox, started on first use (or the one at --ancv-sandbox-url), without resets."""
    url = request.config.getoption("--ancv-sandbox-url")
    if url:
        yield AncvSandbox(url)
        return
    with serve(tmp_path_factory.mktemp("ancv_sandbox"), tls=request.config.getoption("--ancv-sandbox-tls")) as served:
        yield served


@pytest.fixture
def ancv_sandbox(ancv_sandbox_server: AncvSandbox, request: pytest.FixtureRequest) -> AncvSandbox:
    """The sandbox, back to its seeded state unless the test is marked `ancv_sandbox_keep`."""
    if request.node.get_closest_marker(KEEP_MARKER) is None:
        ancv_sandbox_server.reset()
    return ancv_sandbox_server
