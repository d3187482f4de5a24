"""A server killed with SIGKILL in the middle of a load run, then started again on the same database file.

Scenario: `ancv-sandbox serve` runs on a SQLite file with a wall clock sped up SPEED times, so its
background worker fires deadlines by itself. A few merchant actors (threads, one HTTP session each)
create payments and payment requests whose webhooks go to a receiver on loopback, ask their
beneficiaries to pay, answer for the app through the control plane (adjust, authorize, abandon),
cancel, validate pre-bookings, send requests by email and scan them, or leave them waiting. At a
random moment the server gets SIGKILL, without warning. The file is read as the crash left it
(deadlines and deliveries still pending), then `serve` starts again on it and nobody touches
anything until every deadline has fired.

Covers: ARCHITECTURE "Concurrency and durability" (issue 7, item 3): every answered creation is
there with the amount the client saw; no state a client saw answered is rolled back, and the
deadlines pending at the kill fire after the restart with nobody asking; balances = allocations −
held − spent; every webhook recorded is delivered at least once (those pending at the kill after
the restart), none is recorded twice, none is missing or invented; the outbox holds each email
once; no 5xx; the sandbox's time never goes back (a sped-up wall clock carries on after a restart).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.adapters.sql_store import SqlStore
from sandbox.client import KIT_PATH, ControlClient, HttpTransport, KitClient, Reply, shop_client
from sandbox.domain import pre_transactions as request_states
from sandbox.domain import transactions as states
from sandbox.domain.dates import format_date, parse_date
from sandbox.services import fixtures
from sandbox.services.sandbox import Sandbox
from tests.conftest import Receiver, make_settings, serving

SPEED = 50  # sandbox seconds per real second: a payment's 300 s expiry is 6 s
OPTIONS = ("--clock", "wall", "--speed", str(SPEED), "--think-time", "3", "--no-sftp")
MERCHANTS = 4  # threads
MANUAL_PER_MERCHANT = 8  # beneficiaries a merchant answers for (a payment left waiting keeps one busy)
BALANCE_CENTS = 100_000
WARM_UP_ANSWERS = 40  # answers the merchants get before the crash may come
KILL_AFTER_S = (0.0, 1.5)  # real seconds of load after that before SIGKILL, drawn at random
WARM_UP_TIMEOUT_S = 60
CAPTURE_AFTER_S = 150  # sandbox seconds from now to a pre-booking's capture date
REQUEST_EXPIRES_AFTER_S = 120  # sandbox seconds from now to a payment request's expiry
REQUEST_TIMEOUT_S = 10
SETTLE_TIMEOUT_S = 60  # real seconds for every deadline to fire after the restart (expected: a few)
DELIVERY_TIMEOUT_S = 30  # real seconds for every webhook to be delivered after that
RECEIVER_DELAY_S = 0.02  # a slow receiver: deliveries are in flight when the server dies
FAIL_FIRST_OF_EVERY = 3  # the first POST of every third delivery gets a 503, so retries are pending

# States a payment or a request no longer leaves by itself in the time this test runs
TX_AT_REST = {states.VALIDATED, states.CANCELLED, states.REJECTED, states.ABORTED, states.EXPIRED}
REQUEST_AT_REST = {request_states.USED, request_states.ABORTED, request_states.EXPIRED}
# States where the beneficiary's money is held (deferred, authorized) or spent
MONEY_TAKEN = {states.AUTHORIZED, states.VALIDATED, states.CONSIGNED, states.DELAYED, states.NO_SLIP_FOUND,
               states.CONFLICTED, states.PAID}
ORDER_ID = re.compile(r"crash-\d+-\d+")


def reachable(moves: dict[str, frozenset[str]], start: str) -> set[str]:
    """`start` and every state the domain's moves lead to from it."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in moves.get(todo.pop(), frozenset()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


# --- the webhook receiver -------------------------------------------------------------------------

def slow_and_failing_first(path: str, body: Any, seen: set[str], lock: threading.Lock) -> int:
    """A slow receiver whose first POST of every FAIL_FIRST_OF_EVERY-th delivery gets a 503."""
    time.sleep(RECEIVER_DELAY_S)
    with lock:
        key = path + canonical(body)
        first = key not in seen
        seen.add(key)
        return 503 if first and len(seen) % FAIL_FIRST_OF_EVERY == 0 else 200


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    receiver = Receiver(partial(slow_and_failing_first, seen=set(), lock=threading.Lock()))
    yield receiver
    receiver.close()


# --- what the clients were told ---------------------------------------------------------------------

class ServerGone(Exception):
    """A request got no answer: the server was killed."""


@dataclass
class Answers:
    """Every answer the merchants received, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # "tx:ID" -> (state, sub-state)
    amounts: dict[str, int] = field(default_factory=dict)  # "tx:ID" -> amount sent and answered at creation
    in_flight: set[str] = field(default_factory=set)  # keys of requests sent and never answered
    automatic: set[str] = field(default_factory=set)  # payments an automatic beneficiary answers
    count: int = 0
    server_errors: list[tuple[int, Any]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # an answer that contradicts the request

    def saw(self, key: str, state: str, sub_state: str | None = None) -> None:
        self.seen.setdefault(key, []).append((state, sub_state))


class Merchant(threading.Thread):
    """A merchant site and the people paying it: runs scenarios until the server disappears."""

    SCENARIOS = {  # name: weight
        "untouched": 2, "cancelled_at_once": 2, "left_waiting": 1, "paid": 3, "paid_then_cancelled": 2,
        "abandoned": 2, "deferred_validated": 2, "deferred_left": 2, "automatic": 2,
        "request_expiring": 2, "request_aborted": 1, "request_paid": 2,
    }

    def __init__(self, index: int, base: str, shop: dict[str, Any], manual: list[dict[str, Any]],
                 automatic: dict[str, Any], hooks: Receiver, answers: Answers, seed: int,
                 stop: threading.Event) -> None:
        super().__init__(name=f"merchant-{index}", daemon=True)
        self.index, self.base, self.answers, self.stop = index, base, answers, stop
        self.transport = HttpTransport(base, timeout=REQUEST_TIMEOUT_S)
        self.kit: KitClient = shop_client(self.transport, shop)
        self.free = list(manual)  # beneficiaries with no payment waiting for them
        self.auto = automatic
        self.rng = random.Random(f"{seed}:{index}")
        self.urls = {"returnUrl": hooks.url("/return"), "cancelUrl": hooks.url("/cancel")}
        self.request_urls = {"returnUrl": hooks.url("/request/return"), "cancelUrl": hooks.url("/request/cancel")}
        self.orders = 0
        self.now: datetime | None = None  # sandbox time of the last answer
        self.error: str | None = None  # anything but the server's disappearance stopped it

    def run(self) -> None:
        names, weights = zip(*self.SCENARIOS.items(), strict=True)
        try:
            while not self.stop.is_set():
                getattr(self, self.rng.choices(names, weights)[0])()
        except ServerGone:
            pass
        except Exception:
            self.error = traceback.format_exc()

    # --- calls ----------------------------------------------------------------------------------
    def call(self, keys: tuple[str, ...], send: Callable[[], Reply]) -> Reply:
        """Send; what the answer shows is recorded, and without an answer `keys` stay in flight."""
        with self.answers.lock:
            self.answers.in_flight.update(keys)
        try:
            reply = send()
        except requests.RequestException as exc:
            raise ServerGone from exc
        with self.answers.lock:
            self.answers.in_flight.difference_update(keys)
            self.answers.count += 1
            if reply.status >= 500:
                self.answers.server_errors.append((reply.status, reply.body))
            body = reply.body if isinstance(reply.body, dict) else {}
            if "responseDate" in body:
                self.now = parse_date(body["responseDate"])
            if reply.ok and "transaction" in body:
                tx = body["transaction"]
                self.answers.saw(f"tx:{tx['id']}", tx["state"], tx.get("subState"))
            if reply.ok and "preTransaction" in body:
                pre = body["preTransaction"]
                self.answers.saw(f"pre:{pre['id']}", pre["state"])
        return reply

    def act(self, keys: tuple[str, ...], beneficiary: dict[str, Any], body: dict[str, Any]) -> Reply:
        path = f"/_sandbox/beneficiaries/{beneficiary['beneficiaryId']}/act"
        return self.call(keys, lambda: self.transport("POST", path, {"Content-Type": "application/json"}, body))

    def later(self, seconds: float) -> str:
        assert self.now is not None
        return format_date(self.now + timedelta(seconds=seconds)) or ""

    def next_order(self) -> str:
        self.orders += 1
        return f"crash-{self.index}-{self.orders}"

    def borrow(self) -> dict[str, Any] | None:
        return self.rng.choice(self.free) if self.free else None

    # --- steps ----------------------------------------------------------------------------------
    def create(self, capture: str = states.NORMAL, tspd: str | None = None) -> dict[str, Any] | None:
        order, amount = self.next_order(), self.rng.randrange(100, 3000)
        tspd = tspd or self.rng.choice(states.TSPD_MODES)
        capture_date = self.later(CAPTURE_AFTER_S) if capture == states.DEFERRED else None
        reply = self.call((f"new:{order}",), lambda: self.kit.create_transaction(
            order, "1", amount, capture_mode=capture, tspd_mode=tspd, capture_date=capture_date,
            redirect_urls=self.urls))
        if reply.status != 201:
            return None
        tx = reply["transaction"]
        with self.answers.lock:
            self.answers.amounts[f"tx:{tx['id']}"] = amount
            if tx["order"]["amount"]["total"] != amount:
                self.answers.wrong.append(f"{tx['id']} created for {amount}, answered {tx['order']}")
        return tx

    def pay(self, tx: dict[str, Any], beneficiary: dict[str, Any], *, answer: bool = True) -> dict[str, Any] | None:
        """/payer, then (when `answer`) the app adjusts the amount (tspd 001) and authorizes."""
        key = (f"tx:{tx['id']}",)
        if self.call(key, lambda: self.kit.set_payer(tx["id"], beneficiary["beneficiaryId"])).status != 202:
            return None
        return self.authorize(key, tx, beneficiary) if answer else tx

    def authorize(self, keys: tuple[str, ...], tx: dict[str, Any], beneficiary: dict[str, Any]) -> dict[str, Any] | None:
        if tx["paymentMethod"]["tspdMode"] == states.TSPD_ADJUSTABLE:
            amount = tx["order"]["amount"]["total"]
            adjust = {"action": "adjust", "transactionId": tx["id"], "amount": amount - self.rng.randrange(amount // 3)}
            if not self.act(keys, beneficiary, adjust).ok:
                return None
        reply = self.act(keys, beneficiary, {"action": "authorize", "pin": beneficiary["pin"], "transactionId": tx["id"]})
        return reply["transaction"] if reply.ok else None

    def cancel(self, tx: dict[str, Any]) -> None:
        self.call((f"tx:{tx['id']}",), lambda: self.kit.cancel(tx["id"], "CUSTOMER_ABORT"))

    def create_request(self) -> dict[str, Any] | None:
        order, amount = self.next_order(), self.rng.randrange(100, 3000)
        reply = self.call((f"new:{order}",), lambda: self.kit.create_pre_transaction(
            order, amount, self.later(REQUEST_EXPIRES_AFTER_S), tspd_mode=self.rng.choice(states.TSPD_MODES),
            redirect_urls=self.request_urls))
        if reply.status != 201:
            return None
        pre = reply["preTransaction"]
        with self.answers.lock:
            self.answers.amounts[f"pre:{pre['id']}"] = amount
            if pre["order"]["amount"]["total"] != amount:
                self.answers.wrong.append(f"{pre['id']} created for {amount}, answered {pre['order']}")
        return pre

    def send_request(self, pre: dict[str, Any]) -> bool:
        email = f"client-{pre['order']['id']}@example.fr"
        return self.call((f"pre:{pre['id']}",), lambda: self.kit.contact(pre["id"], email=email)).ok

    # --- scenarios --------------------------------------------------------------------------------
    def untouched(self) -> None:
        self.create()  # expires 300 s later

    def cancelled_at_once(self) -> None:
        if tx := self.create():
            self.cancel(tx)

    def left_waiting(self) -> None:
        """The beneficiary never answers: REJECTED_TIMEOUT 250 s later (they stay busy until then)."""
        beneficiary = self.borrow()
        if beneficiary and (tx := self.create()):
            self.free.remove(beneficiary)
            self.pay(tx, beneficiary, answer=False)

    def paid(self) -> dict[str, Any] | None:
        beneficiary = self.borrow()
        if beneficiary and (tx := self.create()):
            return self.pay(tx, beneficiary)
        return None

    def paid_then_cancelled(self) -> None:
        if tx := self.paid():
            self.cancel(tx)

    def abandoned(self) -> None:
        beneficiary = self.borrow()
        if beneficiary and (tx := self.create()) and self.pay(tx, beneficiary, answer=False):
            self.act((f"tx:{tx['id']}",), beneficiary, {"action": "abandon", "transactionId": tx["id"]})

    def deferred_validated(self) -> None:
        beneficiary = self.borrow()
        tx = self.create(states.DEFERRED) if beneficiary else None
        paid = self.pay(tx, beneficiary) if tx and beneficiary else None
        if paid and paid["state"] == states.AUTHORIZED:
            amount = paid["payers"][0]["authorizations"][0]["amount"]["total"]
            amount -= self.rng.randrange(amount // 4 + 1)  # validated for at most what was authorized
            self.call((f"tx:{paid['id']}",), lambda: self.kit.execute(paid["id"], amount))

    def deferred_left(self) -> None:
        """Never validated: cancelled when the capture date passes (money back, an email)."""
        beneficiary = self.borrow()
        if beneficiary and (tx := self.create(states.DEFERRED)):
            self.pay(tx, beneficiary)

    def automatic(self) -> None:
        """A pay_full beneficiary: the app authorizes by itself after the think time (a timer)."""
        if tx := self.create():
            with self.answers.lock:
                self.answers.automatic.add(f"tx:{tx['id']}")
            self.pay(tx, self.auto, answer=False)

    def request_expiring(self) -> None:
        if pre := self.create_request():
            self.send_request(pre)

    def request_aborted(self) -> None:
        if pre := self.create_request():
            self.call((f"pre:{pre['id']}",), lambda: self.kit.abort(pre["id"], reason="ABORTED_MERCHANT"))

    def request_paid(self) -> None:
        """Sent by email, scanned by a beneficiary, authorized: the request is USED."""
        beneficiary = self.borrow()
        if not (beneficiary and (pre := self.create_request()) and self.send_request(pre)):
            return
        pre_key = f"pre:{pre['id']}"
        url = f"{self.base}{KIT_PATH}/pre-transactions/{pre['id']}/qr-code"
        scanned = self.act((pre_key, f"new:scan-{pre['id']}"), beneficiary, {"action": "scan", "url": url})
        if not scanned.ok:
            return
        tx = scanned["transaction"]
        with self.answers.lock:
            self.answers.saw(pre_key, request_states.AUTHORIZING)
        paid = self.authorize((pre_key, f"tx:{tx['id']}"), tx, beneficiary)
        if paid and paid["state"] in (states.AUTHORIZED, states.VALIDATED):
            with self.answers.lock:  # the answer shows the payment authorized: the request is paid
                self.answers.saw(pre_key, request_states.USED)


# --- what the database file held after the kill ------------------------------------------------------

@dataclass
class Crash:
    last_seq: int
    last_event_at: str
    timers: list[tuple[datetime, str, str]]  # (due, kind, ref)
    pending_webhooks: list[dict[str, Any]]

    @classmethod
    def read(cls, db: Path) -> Crash:
        store = SqlStore(str(db))
        try:
            with store.session() as s:
                timeline = s.events()
                return cls(timeline[-1]["seq"], format_date(timeline[-1]["at"]) or "", s.timers(),
                           s.webhooks(state="pending"))
        finally:
            store.close()

    def deadlines(self) -> dict[str, str]:
        """Objects with a deadline pending (a payment's or request's, or the app's answer): ref -> kind."""
        return {ref: kind for _, kind, ref in self.timers if kind in ("transaction", "pre_transaction", "app")}


# --- after the restart ------------------------------------------------------------------------------

class Timeline:
    """The server's events, read incrementally; each object's latest state, as the events say it."""

    def __init__(self, control: ControlClient) -> None:
        self.control = control
        self.events: list[dict[str, Any]] = []
        self.state: dict[str, tuple[str, str | None]] = {}  # "tx:ID" / "pre:ID" -> (state, sub-state)

    def read(self) -> None:
        after = self.events[-1]["seq"] if self.events else 0
        for event in self.control.events(after=after):
            self.events.append(event)
            name, ref, data = event["type"], event["ref"], event["data"]
            if name == "TransactionInitialized":
                self.state[f"tx:{ref}"] = (states.INITIALIZED, None)
            elif name in states.EVENT_NAMES.values():
                self.state[f"tx:{ref}"] = (data["state"], data.get("subState"))
            elif name == "PreTransactionCreated":
                self.state[f"pre:{ref}"] = (request_states.CREATED, None)
            elif name in request_states.EVENT_NAMES.values():
                self.state[f"pre:{ref}"] = (data["state"], None)

    def unsettled(self) -> list[str]:
        return sorted(key for key, (state, _) in self.state.items()
                      if state not in (TX_AT_REST if key.startswith("tx:") else REQUEST_AT_REST))

    def after(self, seq: int) -> list[dict[str, Any]]:
        return [e for e in self.events if e["seq"] > seq]


def poll(condition: Callable[[], bool], timeout_s: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what()
        time.sleep(0.1)


def expected_end(key: str, last: tuple[str, str | None], automatic: bool) -> set[tuple[str, str | None]]:
    """Where an object nobody touches any more ends, from the last state an answer showed."""
    state, _ = last
    if key.startswith("pre:"):
        return {(request_states.EXPIRED, None)} if state not in REQUEST_AT_REST else {last}
    if state == states.INITIALIZED:
        return {(states.EXPIRED, None)}
    if state == states.PROCESSING and automatic:  # the app pays by itself
        return {(states.VALIDATED, None)}
    if state == states.PROCESSING:
        return {(states.REJECTED, states.REJECTED_TIMEOUT)}
    if state == states.AUTHORIZED:  # a pre-booking never validated: cancelled at its capture date
        return {(states.CANCELLED, None)}
    return {last}


def money_taken(tx: dict[str, Any]) -> int:
    if tx["state"] not in MONEY_TAKEN:
        return 0
    return sum(a["amount"]["total"] for p in tx.get("payers", []) for a in p.get("authorizations", []))


def email_kind(email: dict[str, Any]) -> str:
    if email["text"].startswith("VOTRE PAIEMENT A ÉTÉ ANNULÉ"):
        return "cancelled"
    if email["text"].startswith("VOTRE PAIEMENT A ÉTÉ CONFIRMÉ"):
        return "confirmed"
    if email["subject"].startswith("Demande de paiement"):
        return "request"
    return email["subject"]


# --- the checks --------------------------------------------------------------------------------------

def check_answers_kept(answers: Answers, final: dict[str, dict[str, Any]]) -> None:
    """Every creation answered is there with its amount; no state answered is rolled back; objects left
    alone end as their deadlines say; objects nobody was told about come from requests the kill cut."""
    for key, amount in answers.amounts.items():
        assert key in final, f"{key} was created (answered) but is gone after the restart"
        assert final[key]["order"]["amount"]["total"] == amount, key
    unanswered = [key for key in final if key not in answers.seen]
    cut = [key for key in answers.in_flight if key.startswith("new:")]
    assert len(unanswered) <= len(cut), (unanswered, cut)
    assert all(money_taken(final[key]) == 0 for key in unanswered if key.startswith("tx:"))
    for key, seen in answers.seen.items():
        moves = states.MOVES if key.startswith("tx:") else request_states.MOVES
        end = (final[key]["state"], final[key].get("subState"))
        for state, _ in seen:
            assert end[0] in reachable(moves, state), f"{key} was answered {state}, is now {end[0]}"
        if key not in answers.in_flight:
            assert end in expected_end(key, seen[-1], key in answers.automatic), (key, seen, end)


def check_money(before: list[dict[str, Any]], after: list[dict[str, Any]], final: dict[str, dict[str, Any]]) -> None:
    """Balance = allocations − held − spent, from what the payments show."""
    taken: Counter[str] = Counter()
    for tx in final.values():
        if tx.get("payers"):
            taken[str(tx["payers"][0]["beneficiaryId"])] += money_taken(tx)
    initial = {b["beneficiaryId"]: b["balance"] for b in before}
    for beneficiary in after:
        assert beneficiary["balance"] == initial[beneficiary["beneficiaryId"]] - taken[beneficiary["beneficiaryId"]]
        assert beneficiary["balance"] >= 0


def check_webhooks(timeline: Timeline, final: dict[str, dict[str, Any]], deliveries: list[dict[str, Any]],
                   hooks: Receiver, crash: Crash, restarted: float) -> None:
    """One row per event that calls for a webhook, none twice; each posted, those pending at the kill
    by the restarted server; nothing posted that no row records."""
    expected: Counter[tuple[str, str]] = Counter()
    for event in timeline.events:
        urls = (final.get(f"tx:{event['ref']}") or final.get(f"pre:{event['ref']}") or {}).get("redirectUrls", {})
        name, refused = event["type"], event["data"].get("reason") == "ABORTED_BENEFICIARY"
        if name == "TransactionAuthorized" and "returnUrl" in urls:
            expected[(urls["returnUrl"], event["ref"])] += 1
        elif name in ("TransactionRejected", "TransactionAborted") and "cancelUrl" in urls:
            expected[(urls["cancelUrl"], event["ref"])] += 1
        elif (name == "PreTransactionExpired" or name == "PreTransactionAborted" and refused) and "cancelUrl" in urls:
            expected[(urls["cancelUrl"], event["ref"])] += 1
    rows = Counter((w["url"], (w["body"].get("transaction") or w["body"]["preTransaction"])["id"]) for w in deliveries)
    assert rows == expected, (rows - expected, expected - rows)
    posted: dict[str, list[float]] = {}
    for post in hooks.received():
        posted.setdefault(hooks.url(post["path"]) + canonical(post["body"]), []).append(post["t"])
    recorded = {w["url"] + canonical(w["body"]) for w in deliveries}
    assert set(posted) == recorded, (set(posted) - recorded, recorded - set(posted))
    for pending in crash.pending_webhooks:
        assert max(posted[pending["url"] + canonical(pending["body"])]) > restarted, pending


def check_emails(timeline: Timeline, final: dict[str, dict[str, Any]], emails: list[dict[str, Any]],
                 beneficiaries: list[dict[str, Any]]) -> None:
    """The outbox holds every email the events call for, each once."""
    written: Counter[tuple[str, str, str]] = Counter()
    for email in emails:
        order_ids = set(ORDER_ID.findall(email["text"]))
        assert len(order_ids) == 1, email["text"]
        written[(email_kind(email), email["to"], order_ids.pop())] += 1
    email_of = {b["beneficiaryId"]: b["email"] for b in beneficiaries}
    expected: Counter[tuple[str, str, str]] = Counter()
    for event in timeline.events:
        tx, pre = final.get(f"tx:{event['ref']}"), final.get(f"pre:{event['ref']}")
        payer = email_of.get(str(tx["payers"][0]["beneficiaryId"]), "") if tx and tx.get("payers") else ""
        if tx and event["type"] == "TransactionCancelled" and money_was_taken(tx):
            expected[("cancelled", payer, tx["order"]["id"])] += 1
        elif tx and event["type"] == "TransactionValidated" and tx["paymentMethod"]["captureMode"] == states.DEFERRED:
            expected[("confirmed", payer, tx["order"]["id"])] += 1
        elif pre and event["type"] == "PreTransactionProcessing" and event["data"].get("contact"):
            expected[("request", event["data"]["contact"], pre["order"]["id"])] += 1
    assert written == expected, (written - expected, expected - written)
    assert max(written.values(), default=1) == 1


def money_was_taken(tx: dict[str, Any]) -> bool:
    """A payment the client had authorized (a cancellation gives their money back)."""
    return any(p.get("authorizations") for p in tx.get("payers", []))


def read_all(kit: dict[int, KitClient], timeline: Timeline) -> dict[str, dict[str, Any]]:
    """Every object the timeline knows (answered or not), as GET shows it; never a 5xx."""
    shop_of = {e["ref"]: e["data"]["shopId"] for e in timeline.events
               if e["type"] in ("TransactionInitialized", "PreTransactionCreated")}
    final = {}
    for key in timeline.state:
        kind, object_id = key.split(":")
        client = kit[shop_of[object_id]]
        reply = client.get_transaction(object_id) if kind == "tx" else client.get_pre_transaction(object_id)
        assert reply.status == 200, (key, reply.status, reply.body)
        final[key] = reply["transaction" if kind == "tx" else "preTransaction"]
    return final


# --- the test --------------------------------------------------------------------------------------

def load_until_killed(base: str, control: ControlClient, server: Any, hooks: Receiver, answers: Answers,
                      seed: int) -> tuple[dict[str, Any], float]:
    """Population, merchants started, SIGKILL after a random while: (fixtures before the load, load s)."""
    people = control.transport("POST", "/_sandbox/population", {"Content-Type": "application/json"}, {
        "seed": seed, "beneficiaries": [{"count": MERCHANTS * (MANUAL_PER_MERCHANT + 1), "balance": BALANCE_CENTS}]})
    assert people.status == 201, people.body
    population = people["beneficiaries"]
    for automatic in population[:MERCHANTS]:
        control.set_behaviour(automatic["beneficiaryId"], "pay_full")
    world = control.fixtures()
    shops = [p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"]]
    stop = threading.Event()
    manual = population[MERCHANTS:]
    merchants = [Merchant(i, base, shops[i % len(shops)], manual[i::MERCHANTS], population[i], hooks, answers,
                          seed, stop) for i in range(MERCHANTS)]
    now = parse_date(control.clock()["now"])
    for merchant in merchants:
        merchant.now = now
        merchant.start()
    started = time.monotonic()
    poll(lambda: answers.count >= WARM_UP_ANSWERS, WARM_UP_TIMEOUT_S, lambda: f"only {answers.count} answers")
    time.sleep(random.Random(seed).uniform(*KILL_AFTER_S))  # the crash moment itself: nothing to wait for
    server.kill()
    server.wait()
    stop.set()
    for merchant in merchants:
        merchant.join(timeout=2 * REQUEST_TIMEOUT_S)
        assert not merchant.is_alive() and merchant.error is None, merchant.error
    return world, time.monotonic() - started


def test_a_server_killed_mid_load_restarts_with_every_answer_deadline_webhook_and_email_kept(
        tmp_path: Path, hooks: Receiver) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.SystemRandom().randrange(1 << 30)))
    print(f"CRASH_SEED={seed}")  # the same operations and kill moment (not the same timing) again
    db = str(tmp_path / "crash.sqlite3")
    answers = Answers()
    for folder in ("before", "after"):
        (tmp_path / folder).mkdir()

    with serving(tmp_path / "before", *OPTIONS, db=db) as (base, _, _, server):
        control = ControlClient(HttpTransport(base, timeout=REQUEST_TIMEOUT_S))
        world, load_s = load_until_killed(base, control, server, hooks, answers, seed)
    assert answers.server_errors == [] and answers.wrong == [], (answers.server_errors, answers.wrong)
    crash = Crash.read(Path(db))  # what the file holds, as the kill left it
    assert crash.deadlines(), "nothing was waiting for a deadline when the server died"

    restarted = time.monotonic()
    with serving(tmp_path / "after", *OPTIONS, db=db) as (base, _, _, _):
        control = ControlClient(HttpTransport(base, timeout=REQUEST_TIMEOUT_S))
        assert control.clock()["now"] >= crash.last_event_at, "the sandbox's time went back at the restart"
        timeline = Timeline(control)

        def settled() -> bool:  # read from the timeline only: a Kit GET would apply a due deadline itself
            timeline.read()
            return not timeline.unsettled()

        poll(settled, SETTLE_TIMEOUT_S, lambda: f"still waiting after the restart: {timeline.unsettled()[:10]}")
        fired = {e["ref"] for e in timeline.after(crash.last_seq)}
        assert set(crash.deadlines()) <= fired, {r: k for r, k in crash.deadlines().items() if r not in fired}
        poll(lambda: all(w["state"] == "delivered" for w in control.webhooks()), DELIVERY_TIMEOUT_S,
             lambda: f"undelivered: {[w for w in control.webhooks() if w['state'] != 'delivered'][:3]}")
        deliveries, emails, clock_now = control.webhooks(), control.emails(), control.clock()["now"]
        transport = HttpTransport(base, timeout=REQUEST_TIMEOUT_S)
        kit = {p["shopId"]: shop_client(transport, p) for p in world["pointsOfSale"]}
        final = read_all(kit, timeline)
        beneficiaries = control.fixtures()["beneficiaries"]

    check_answers_kept(answers, final)
    check_money(world["beneficiaries"], beneficiaries, final)
    moments = [e["at"] for e in timeline.events]
    assert moments == sorted(moments), "an event is dated before one recorded ahead of it"
    assert all(obj["updateDate"] <= clock_now for obj in final.values())
    check_webhooks(timeline, final, deliveries, hooks, crash, restarted)
    check_emails(timeline, final, emails, beneficiaries)
    print(f"{answers.count} answers in {load_s:.2f} s, then SIGKILL with {len(answers.in_flight)} requests in flight, "
          f"{len(crash.deadlines())} deadlines and {len(crash.pending_webhooks)} webhooks pending; after the "
          f"restart {len(final)} objects, {len(deliveries)} webhooks ({len(hooks.received())} POSTs), "
          f"{len(emails)} emails")


AHEAD_S = 0.3  # real seconds a sped-up sandbox runs before it stops: SPEED × this ahead of the real time


def test_a_sped_up_wall_clock_carries_on_after_a_restart_instead_of_going_back(tmp_path: Path) -> None:
    """Regression: a wall clock at --speed N started again from the real time at each boot, so after
    a crash the sandbox's time went back (deadlines overdue at the kill fired dated before events
    already recorded; new objects were dated before older ones)."""
    db = str(tmp_path / "wall.sqlite3")
    first = Sandbox(make_settings(db=db, clock="wall", speed=SPEED))
    time.sleep(AHEAD_S)  # the lead to keep: nothing to poll for
    fixtures.reset(first, None)  # a reset keeps the clock too
    seen = first.clock.now()
    first.stop()

    restarted = Sandbox(make_settings(db=db, clock="wall", speed=SPEED))
    assert restarted.clock.now() >= seen
    assert restarted.clock.now() - seen < timedelta(seconds=SPEED * 60)  # carried on, not jumped
    seen = restarted.clock.now()
    restarted.stop()

    slower = Sandbox(make_settings(db=db, clock="wall", speed=1.0))  # another speed: from where it is
    assert slower.clock.now() >= seen and slower.clock.speed == 1.0
    slower.stop()
