"""Scale-out: two `ancv-sandbox serve` processes on one PostgreSQL database, Socket.IO shared through Redis.

Covers: ARCHITECTURE "Scale beyond one machine" — the same code behind a load balancer. Whichever
process takes a request, every page hears it (`serve --message-queue`); the "one payment in
progress" rule holds across processes (the store's advisory lock); each deadline fires once
though both processes run a scheduler; each webhook is posted once, also when a third process
starts while a delivery is in flight; two processes starting at once on an empty database load
the fixtures once.

Runs when ANCV_SANDBOX_SCALEOUT_DB (a PostgreSQL URL) and ANCV_SANDBOX_SCALEOUT_REDIS (a Redis
URL) are set: `./dev test-scaleout` starts a throwaway PostgreSQL and Redis and sets them. The
servers run on the wall clock at real speed, so the last test waits for the transactions' own
250 s and 300 s deadlines (the other tests run meanwhile): about five minutes in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import socketio

from sandbox.client import ControlClient, HttpTransport, KitClient, Reply, shop_client
from sandbox.domain.dates import format_date, parse_date
from sandbox.pytest_plugin import stop_server
from tests.conftest import READY_TIMEOUT_S, free_port

SCALEOUT_DB = os.environ.get("ANCV_SANDBOX_SCALEOUT_DB")
SCALEOUT_REDIS = os.environ.get("ANCV_SANDBOX_SCALEOUT_REDIS")
pytestmark = pytest.mark.skipif(not (SCALEOUT_DB and SCALEOUT_REDIS),
                                reason="needs ANCV_SANDBOX_SCALEOUT_DB and ANCV_SANDBOX_SCALEOUT_REDIS "
                                       "(./dev test-scaleout sets them)")

THINK_TIME_S = 1  # automatic beneficiaries answer after this
LIVE_BOUND_S = 2.0  # an authorization reaches a page on the other server within this
REQUEST_TIMEOUT_S = 10
RACERS = 8  # transactions racing for one beneficiary, half through each server
ROUNDS = 5
APP_REQUESTS = 10  # payment requests pushed to automatic beneficiaries' apps
IN_FLIGHT_HOLD_S = 4.0  # the slow receiver holds a delivery this long (under serve's 5 s timeout)
EXPIRY_S = 300  # an INITIALIZED transaction expires (Kit §6.2.2.7)
DEADLINE_MARGIN_S = 30  # after its deadline, a transaction is final within this
AMOUNT_CENTS = 2500
POPULATION = ROUNDS + APP_REQUESTS


class Server:
    """One `ancv-sandbox serve` process on the shared database and queue; output in NAME.log."""

    def __init__(self, folder: Path, name: str) -> None:
        assert SCALEOUT_DB and SCALEOUT_REDIS
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(self.port), "--no-sftp",
             "--db", SCALEOUT_DB, "--message-queue", SCALEOUT_REDIS, "--think-time", str(THINK_TIME_S)],
            stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.started = time.monotonic()
        self.control = ControlClient(HttpTransport(self.base, timeout=REQUEST_TIMEOUT_S))

    def wait_ready(self) -> float:
        while True:
            try:
                if self.control.health() == {"status": "ok"}:
                    return time.monotonic() - self.started
            except Exception:
                pass
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log_path.read_text()}"
            assert time.monotonic() - self.started < READY_TIMEOUT_S, f"{self.name} did not become ready"
            time.sleep(0.05)

    def kit(self, shop: dict[str, Any]) -> KitClient:
        """A Kit client with its own HTTP session (a requests.Session is not shared between threads)."""
        return shop_client(HttpTransport(self.base, timeout=REQUEST_TIMEOUT_S), shop)

    def stop(self) -> None:
        stop_server(self.process)
        self.log.close()


class Receiver:
    """Records webhooks; a path under /slow is answered only after IN_FLIGHT_HOLD_S."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "body": body})
                if self.path.startswith("/slow"):
                    time.sleep(IN_FLIGHT_HOLD_S)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def urls(self, prefix: str = "") -> dict[str, str]:
        base = f"http://127.0.0.1:{self.server.server_address[1]}{prefix}"
        return {"returnUrl": f"{base}/ok", "cancelUrl": f"{base}/ko"}

    def posts_about(self, transaction_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["body"]["transaction"]["id"] == transaction_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def empty_database(url: str) -> None:
    from sandbox.adapters.sql_schema import metadata
    from sandbox.adapters.sql_store import SqlStore

    store = SqlStore(url)
    metadata.drop_all(store.engine)
    store.close()


class Pair:
    """Servers A and B, what they share, and what the tests leave behind for the last one."""

    def __init__(self, a: Server, b: Server, receiver: Receiver, folder: Path) -> None:
        self.a, self.b, self.receiver, self.folder = a, b, receiver, folder
        self.fixtures = a.control.fixtures()
        self.shop = next(p for p in self.fixtures["pointsOfSale"]
                         if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        added = HttpTransport(a.base)("POST", "/_sandbox/population", {"Content-Type": "application/json"},
                                      {"seed": 7, "beneficiaries": [{"count": POPULATION}]})
        assert added.status == 201, added.body
        self.spare = list(added["beneficiaries"])  # beneficiaries no test has used yet
        self.left_to_deadlines: dict[str, float] = {}  # transaction id -> when its deadline was set
        self.timed_out: set[str] = set()  # those expected to end REJECTED_TIMEOUT (the others EXPIRED)

    def fresh_beneficiary(self) -> dict[str, Any]:
        return self.spare.pop()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.a.control.events() if name is None or e["type"] == name]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """A and B started at the same moment on an emptied database."""
    assert SCALEOUT_DB
    folder = tmp_path_factory.mktemp("scaleout")
    empty_database(SCALEOUT_DB)
    receiver = Receiver()
    servers = [Server(folder, "a"), Server(folder, "b")]
    try:
        for server in servers:
            print(f"server {server.name} ready in {server.wait_ready():.2f} s")
        yield Pair(*servers, receiver, folder)
    finally:
        for server in servers:
            server.stop()
        receiver.close()


def _wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _all_at_once(calls: list[Callable[[], Reply]]) -> list[Reply]:
    """Every call in a thread of its own, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Reply]) -> Reply:
        barrier.wait(timeout=REQUEST_TIMEOUT_S)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=3 * REQUEST_TIMEOUT_S))


def _code(reply: Reply) -> str | None:
    return reply.body.get("errorCode") if isinstance(reply.body, dict) else None


def test_two_servers_starting_at_once_on_an_empty_database_load_the_fixtures_once(pair: Pair) -> None:
    assert len(pair.events("FixturesLoaded")) == 1
    assert pair.a.control.fixtures() == pair.b.control.fixtures()
    a_now, b_now = (parse_date(s.control.clock()["now"]) for s in (pair.a, pair.b))
    assert abs((a_now - b_now).total_seconds()) < 1.0


@pytest.mark.parametrize("page, payment", [("a", "b"), ("b", "a")])
def test_a_page_on_one_server_hears_a_payment_authorized_through_the_other(pair: Pair, page: str,
                                                                            payment: str) -> None:
    listening, paying = getattr(pair, page), getattr(pair, payment)
    ben = [b for b in pair.fixtures["beneficiaries"] if b["behaviour"] == "manual"][0 if page == "a" else 1]
    heard: list[tuple[float, dict[str, Any]]] = []
    client = socketio.Client(reconnection=False)
    client.on("event", lambda data: heard.append((time.monotonic(), data)))
    client.connect(listening.base, wait_timeout=5)
    try:
        assert client.call("join", {"shopId": pair.shop["shopId"]}, timeout=5) == {
            "joined": [f"shop:{pair.shop['shopId']}"]}
        kit = paying.kit(pair.shop)
        tx = kit.create_transaction(f"live-{page}{payment}", "1", AMOUNT_CENTS,
                                    redirect_urls=pair.receiver.urls())["transaction"]
        assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
        asked = time.monotonic()
        paid = paying.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]
        assert paid["state"] == "VALIDATED"

        def authorized() -> float | None:
            return next((at for at, e in list(heard) if e["type"] == "TransactionAuthorized" and e["ref"] == tx["id"]),
                        None)

        latency = _wait_for(authorized, LIVE_BOUND_S, f"TransactionAuthorized on server {page}") - asked
        print(f"page on {page}, payment through {payment}: authorization heard after {latency * 1000:.0f} ms")
        time.sleep(0.3)  # anything sent twice would be here by now
        mine = [e["type"] for _, e in heard if e["ref"] == tx["id"]]
        assert Counter(mine)["TransactionAuthorized"] == 1
        assert mine[0] == "TransactionInitialized" and "TransactionProcessing" in mine
    finally:
        client.disconnect()
    _wait_for(lambda: pair.receiver.posts_about(tx["id"]), 5, "the webhook")
    time.sleep(0.5)
    [post] = pair.receiver.posts_about(tx["id"])
    assert post["path"] == "/ok" and post["body"]["transaction"]["state"] in ("AUTHORIZED", "VALIDATED")


def test_one_beneficiary_asked_to_pay_through_both_servers_at_once_gets_exactly_one(pair: Pair) -> None:
    servers = [pair.a, pair.b] * (RACERS // 2)
    for round_ in range(ROUNDS):
        ben = pair.fresh_beneficiary()
        kits = [server.kit(pair.shop) for server in servers]
        ids = [kit.create_transaction(f"race-{round_}-{i}", "1", AMOUNT_CENTS,
                                      redirect_urls=pair.receiver.urls())["transaction"]["id"]
               for i, kit in enumerate(kits)]
        payer = ben["beneficiaryId"]
        replies = _all_at_once([partial(kit.set_payer, tx_id, payer) for kit, tx_id in zip(kits, ids, strict=True)])
        created = time.monotonic()

        assert sorted(r.status for r in replies) == [202] + [409] * (RACERS - 1), [r.body for r in replies]
        assert {_code(r) for r in replies if r.status == 409} == {"OTHER_TRANSACTION_PENDING"}
        [winner] = [tx_id for tx_id, r in zip(ids, replies, strict=True) if r.status == 202]
        states = Counter(pair.b.kit(pair.shop).get_transaction(tx_id)["transaction"]["state"] for tx_id in ids)
        assert states == {"PROCESSING": 1, "INITIALIZED": RACERS - 1}
        # Left as they are: the winner waits for a personal code that never comes (250 s, REJECTED_TIMEOUT),
        # the others for a payer (300 s, EXPIRED); the last test checks each deadline fired once.
        pair.left_to_deadlines.update(dict.fromkeys(ids, created))
        pair.timed_out.add(winner)


def test_payment_requests_pushed_to_apps_are_opened_once_with_both_schedulers_running(pair: Pair) -> None:
    """The app's opening of a request is a deadline (think time) both schedulers see due at once;
    opened twice, the second scan would give up (BeneficiaryAppGaveUp) or start a second payment."""
    expires = format_date(parse_date(pair.a.control.clock()["now"]) + timedelta(hours=1))
    pushed: set[str] = set()  # the requests' ids
    for index in range(APP_REQUESTS):
        server = (pair.a, pair.b)[index % 2]
        ben = pair.fresh_beneficiary()
        server.control.set_behaviour(ben["beneficiaryId"], "pay_full")
        kit = server.kit(pair.shop)
        pre = kit.create_pre_transaction(f"app-{index}", AMOUNT_CENTS, expires)["preTransaction"]
        assert kit.contact(pre["id"], beneficiary_id=ben["beneficiaryId"]).status == 200
        pushed.add(pre["id"])

    def transactions_of_requests() -> dict[str, set[str]]:
        """Request id -> the transactions the apps started on it (its events name them)."""
        started: dict[str, set[str]] = {pre_id: set() for pre_id in pushed}
        for event in pair.events():
            if event["ref"] in pushed and event["data"].get("transactionId"):
                started[event["ref"]].add(event["data"]["transactionId"])
        return started

    def all_paid() -> bool:
        authorized = {e["ref"] for e in pair.events("TransactionAuthorized")}
        started = transactions_of_requests()
        return all(started.values()) and set().union(*started.values()) <= authorized

    _wait_for(all_paid, 10 * THINK_TIME_S + 10, "every app to pay its request")
    time.sleep(2 * THINK_TIME_S)  # a second opening would have come by now
    started = transactions_of_requests()
    assert sorted(len(ids) for ids in started.values()) == [1] * APP_REQUESTS  # one payment per request
    transactions = set().union(*started.values())
    assert pair.events("BeneficiaryAppGaveUp") == []
    authorized = Counter(e["ref"] for e in pair.events("TransactionAuthorized") if e["ref"] in transactions)
    assert sorted(authorized.values()) == [1] * APP_REQUESTS
    assert pair.events("DeadlineFailed") == []


def test_a_server_starting_while_a_delivery_is_in_flight_does_not_post_it_again(pair: Pair) -> None:
    """A third process joins (scaling up) while A still waits for a slow webhook receiver: the
    delivery is pending in the database, but it is A's to finish, not C's to send again."""
    ben = [b for b in pair.fixtures["beneficiaries"] if b["behaviour"] == "manual"][0]
    kit = pair.a.kit(pair.shop)
    tx = kit.create_transaction("slow-webhook", "1", AMOUNT_CENTS, redirect_urls=pair.receiver.urls("/slow"))
    tx_id = tx["transaction"]["id"]
    assert kit.set_payer(tx_id, ben["beneficiaryId"]).status == 202
    pair.a.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    _wait_for(lambda: pair.receiver.posts_about(tx_id), 5, "the slow webhook's first post")
    [delivery] = [w for w in pair.a.control.webhooks() if w["body"]["transaction"]["id"] == tx_id]
    assert delivery["state"] == "pending"  # A is still waiting for the receiver's answer
    c = Server(pair.folder, "c")
    try:
        print(f"server c ready in {c.wait_ready():.2f} s")
        _wait_for(lambda: [w for w in c.control.webhooks() if w["id"] == delivery["id"]
                           and w["state"] == "delivered"], IN_FLIGHT_HOLD_S + 5, "A to finish the delivery")
        time.sleep(1.0)
        assert len(pair.receiver.posts_about(tx_id)) == 1
    finally:
        c.stop()


def test_each_deadline_fires_once_with_both_schedulers_running(pair: Pair) -> None:
    """The transactions the race left behind reach their deadlines while A and B both run a scheduler."""
    assert pair.left_to_deadlines, "run with the race test"
    last = max(pair.left_to_deadlines.values())
    print(f"waiting {max(0.0, last + EXPIRY_S - time.monotonic()):.0f} s for the transactions' deadlines")
    ids = set(pair.left_to_deadlines)

    def all_final() -> list[dict[str, Any]] | None:
        final = [e for e in pair.events() if e["ref"] in ids and e["type"] in ("TransactionExpired",
                                                                                "TransactionRejected")]
        return final if {e["ref"] for e in final} == ids else None

    _wait_for(all_final, max(0.0, last + EXPIRY_S - time.monotonic()) + DEADLINE_MARGIN_S,
              "every transaction to reach its deadline")
    time.sleep(2.0)  # both schedulers have looked again since
    final = [e for e in pair.events() if e["ref"] in ids and e["type"] in ("TransactionExpired", "TransactionRejected")]
    assert sorted(Counter(e["ref"] for e in final).values()) == [1] * len(ids)  # one end each, not two
    rejected = {e["ref"]: e["data"].get("subState") for e in final if e["type"] == "TransactionRejected"}
    assert rejected == dict.fromkeys(pair.timed_out, "REJECTED_TIMEOUT")
    assert pair.events("DeadlineFailed") == []
    for tx_id in pair.timed_out:  # REJECTED calls the cancel URL (Kit §5.1.2.2), once
        posts = _wait_for(lambda tx_id=tx_id: pair.receiver.posts_about(tx_id), 5, "the cancel webhook")
        assert [p["path"] for p in posts] == ["/ko"]
