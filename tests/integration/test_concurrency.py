"""Parallel clients against the real server: the money and "one payment at a time" rules hold.

Covers: SPEC §4 (OTHER_TRANSACTION_PENDING, cancellation repeated → 200, re-credit, /execute once)
and §5 (one payment at a time on a pre-transaction), and ARCHITECTURE "Concurrency and
durability" (parallel requests cannot overspend), over HTTP against `ancv-sandbox serve` (gevent
stack, SQLite file, virtual clock), from threads that each own their HTTP session, or from
separate OS processes (tests/races.py), started together at a barrier. With
ANCV_SANDBOX_TEST_DB set, the server runs on that database instead of a SQLite file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from sandbox.client import ControlClient, HttpTransport, KitClient, Reply, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.conftest import fresh_test_database, serving
from tests.races import Step, in_processes

THREADS = 16
PROCESSES = 8
REQUEST_TIMEOUT_S = 10
AMOUNT_CENTS = 4000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `ancv-sandbox serve` for the module; output goes to a file so a full pipe never blocks it."""
    folder = tmp_path_factory.mktemp("concurrency")
    with serving(folder, "--clock", "virtual", "--think-time", "1", db=fresh_test_database()) as (base, *_):
        yield base

class Live:
    """The server after a reset: fixtures, a control client and a shop's Kit client."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.control = ControlClient(HttpTransport(base, timeout=REQUEST_TIMEOUT_S))
        self.control.reset(seed=42)
        self.fixtures = self.control.fixtures()
        self.shop = next(p for p in self.fixtures["pointsOfSale"]
                         if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        self.kit = self.kit_client()

    def kit_client(self) -> KitClient:
        """A Kit client with its own HTTP session (a requests.Session is not shared between threads)."""
        return shop_client(HttpTransport(self.base, timeout=REQUEST_TIMEOUT_S), self.shop)

    def beneficiary(self, behaviour: str) -> dict[str, Any]:
        return next(b for b in self.fixtures["beneficiaries"] if b["behaviour"] == behaviour)

    def balance(self, beneficiary_id: str) -> int:
        return next(b["balance"] for b in self.control.fixtures()["beneficiaries"]
                    if b["beneficiaryId"] == beneficiary_id)

    def act(self, beneficiary_id: str, body: dict[str, Any]) -> Reply:
        """`act` without raising: the raw reply, so losers of a race can be counted."""
        transport = HttpTransport(self.base, timeout=REQUEST_TIMEOUT_S)
        return transport("POST", f"/_sandbox/beneficiaries/{beneficiary_id}/act",
                         {"Content-Type": "application/json"}, body)

    def all_at_once(self, call: Callable[[KitClient, Any], Reply], items: list[Any]) -> list[Reply]:
        """`call(own client, item)` for every item, in parallel threads released together."""
        clients = [self.kit_client() for _ in items]
        barrier = threading.Barrier(len(items))

        def run(index: int) -> Reply:
            barrier.wait(timeout=REQUEST_TIMEOUT_S)
            return call(clients[index], items[index])

        with ThreadPoolExecutor(max_workers=len(items)) as pool:
            return list(pool.map(run, range(len(items)), timeout=3 * REQUEST_TIMEOUT_S))


@pytest.fixture
def live(server: str) -> Live:
    return Live(server)


def _code(reply: Reply) -> str | None:
    return reply.body.get("errorCode") if isinstance(reply.body, dict) else None


def _authorized_amount(tx: dict[str, Any]) -> int:
    if tx["state"] not in ("AUTHORIZED", "VALIDATED"):
        return 0
    return sum(a["amount"]["total"] for p in tx.get("payers", []) for a in p.get("authorizations", []))


@pytest.mark.parametrize("racers", ["threads", "processes"])
def test_one_beneficiary_asked_to_pay_many_transactions_at_once_gets_exactly_one(live: Live, racers: str) -> None:
    ben = live.beneficiary("manual")
    count = THREADS if racers == "threads" else PROCESSES
    ids = [live.kit.create_transaction(f"race-{i}", "1", AMOUNT_CENTS)["transaction"]["id"] for i in range(count)]

    if racers == "threads":
        replies = live.all_at_once(lambda kit, tx_id: kit.set_payer(tx_id, ben["beneficiaryId"]), ids)
    else:
        replies = in_processes(live.base, [Step("payer", (tx_id, ben["beneficiaryId"]), live.shop) for tx_id in ids])

    assert sorted(r.status for r in replies) == [202] + [409] * (count - 1)
    assert {_code(r) for r in replies if r.status == 409} == {"OTHER_TRANSACTION_PENDING"}
    [winner] = [tx_id for tx_id, r in zip(ids, replies, strict=True) if r.status == 202]
    states = {tx_id: live.kit.get_transaction(tx_id)["transaction"]["state"] for tx_id in ids}
    assert states[winner] == "PROCESSING"
    assert [s for tx_id, s in states.items() if tx_id != winner] == ["INITIALIZED"] * (count - 1)


def test_sixteen_identical_cancellations_change_once_and_re_credit_once(live: Live) -> None:
    ben = live.beneficiary("manual")
    before = live.balance(ben["beneficiaryId"])
    tx_id = live.kit.create_transaction("cancel-race", "1", AMOUNT_CENTS)["transaction"]["id"]
    assert live.kit.set_payer(tx_id, ben["beneficiaryId"]).status == 202
    paid = live.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]
    assert paid["state"] == "VALIDATED"
    assert live.balance(ben["beneficiaryId"]) == before - AMOUNT_CENTS

    replies = live.all_at_once(lambda kit, _: kit.cancel(tx_id, "CUSTOMER_ABORT"), [None] * THREADS)

    assert sorted(r.status for r in replies) == [200] * (THREADS - 1) + [201]
    assert {r["transaction"]["state"] for r in replies} == {"CANCELLED"}
    assert live.balance(ben["beneficiaryId"]) == before
    cancelled = [e for e in live.control.events() if e["type"] == "TransactionCancelled" and e["ref"] == tx_id]
    assert len(cancelled) == 1


def _authorized_deferred_payment(live: Live, ben: dict[str, Any]) -> str:
    """A DEFERRED payment of AMOUNT_CENTS that `ben` authorized: held, awaiting /execute."""
    capture_date = format_date(parse_date(live.control.clock()["now"]) + timedelta(days=2))
    tx_id = live.kit.create_transaction(f"deferred-{capture_date}", "1", AMOUNT_CENTS, capture_mode="DEFERRED",
                                        tspd_mode="002", capture_date=capture_date)["transaction"]["id"]
    assert live.kit.set_payer(tx_id, ben["beneficiaryId"]).status == 202
    assert live.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]["state"] == "AUTHORIZED"
    return tx_id


def test_processes_executing_one_deferred_payment_at_once_validate_it_once(live: Live) -> None:
    ben = live.beneficiary("manual")
    before = live.balance(ben["beneficiaryId"])
    tx_id = _authorized_deferred_payment(live, ben)
    assert live.balance(ben["beneficiaryId"]) == before - AMOUNT_CENTS  # held
    amounts = [AMOUNT_CENTS - 100 * i for i in range(PROCESSES)]  # each racer captures its own amount

    replies = in_processes(live.base, [Step("execute", (tx_id, amount), live.shop) for amount in amounts])

    assert sorted(r.status for r in replies) == [200] + [403] * (PROCESSES - 1), [r.body for r in replies]
    assert {_code(r) for r in replies if r.status == 403} == {"OPERATION_TRANSACTION_NOT_ALLOWED"}
    [captured] = [amount for amount, r in zip(amounts, replies, strict=True) if r.status == 200]
    tx = live.kit.get_transaction(tx_id)["transaction"]
    assert tx["state"] == "VALIDATED" and _authorized_amount(tx) == captured
    assert live.balance(ben["beneficiaryId"]) == before - captured  # the winner's amount, the rest of the hold freed
    validated = [e for e in live.control.events() if e["type"] == "TransactionValidated" and e["ref"] == tx_id]
    assert len(validated) == 1


def test_processes_executing_and_cancelling_one_deferred_payment_always_end_cancelled(live: Live) -> None:
    """A cancellation is allowed before /execute and for 4 hours after it: whoever wins each race, it ends
    CANCELLED with the beneficiary re-credited, cancelled once, executed at most once."""
    ben = live.beneficiary("manual")
    before = live.balance(ben["beneficiaryId"])
    tx_id = _authorized_deferred_payment(live, ben)
    half = PROCESSES // 2
    steps = ([Step("execute", (tx_id, AMOUNT_CENTS), live.shop)] * half
             + [Step("cancel", (tx_id, "CUSTOMER_ABORT"), live.shop)] * half)

    replies = in_processes(live.base, steps)

    executes, cancels = replies[:half], replies[half:]
    assert all(r.status < 500 for r in replies), [(r.status, r.body) for r in replies]
    assert sum(r.status == 200 for r in executes) <= 1
    assert {_code(r) for r in executes if r.status != 200} <= {"OPERATION_TRANSACTION_NOT_ALLOWED"}
    assert sorted(r.status for r in cancels) == [200] * (half - 1) + [201]
    assert live.kit.get_transaction(tx_id)["transaction"]["state"] == "CANCELLED"
    assert live.balance(ben["beneficiaryId"]) == before
    events = [e["type"] for e in live.control.events() if e["ref"] == tx_id]
    assert events.count("TransactionCancelled") == 1
    assert events.count("TransactionValidated") == sum(r.status == 200 for r in executes)


def test_processes_scanning_one_payment_request_at_once_start_exactly_one_payment(live: Live) -> None:
    people = live.control._call("POST", "/population", {
        "seed": 11, "pointsOfSale": [], "beneficiaries": [{"count": PROCESSES, "balance": 100_000}]})["beneficiaries"]
    expires = format_date(parse_date(live.control.clock()["now"]) + timedelta(days=1))
    pre = live.kit.create_pre_transaction("scan-race", AMOUNT_CENTS, expires, tspd_mode="002")["preTransaction"]
    url = live.kit.qr_code(pre["id"]).headers["pre-transaction-url"]

    replies = in_processes(live.base, [Step("act", (p["beneficiaryId"], {"action": "scan", "url": url}))
                                       for p in people])

    assert sorted(r.status for r in replies) == [200] + [403] * (PROCESSES - 1), [r.body for r in replies]
    assert {_code(r) for r in replies if r.status == 403} == {"OPERATION_PRE_TRANSACTION_NOT_ALLOWED"}
    [(payer, scanned)] = [(p, r) for p, r in zip(people, replies, strict=True) if r.status == 200]
    tx_id = scanned["transaction"]["id"]
    assert live.kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "AUTHORIZING"
    assert live.control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])["transaction"]["state"] == "VALIDATED"
    done = live.kit.get_pre_transaction(pre["id"])["preTransaction"]
    assert done["state"] == "USED" and done["validatedPaymentTransactionId"] == tx_id
    assert [live.balance(p["beneficiaryId"]) for p in people if p is not payer] == [100_000] * (PROCESSES - 1)
    assert live.balance(payer["beneficiaryId"]) == 100_000 - AMOUNT_CENTS


# (capture mode, tspd mode, amount): fixed and adjustable amounts, debits and holds
PAYMENTS = [("NORMAL", "002", 150), ("DEFERRED", "002", 120), ("NORMAL", "001", 200), ("DEFERRED", "001", 90)]
RACERS = 4  # transactions racing for the beneficiary in each round
ROUNDS = 12
CANCEL_EVERY = 3  # every third round a cancellation races the authorizations


def test_a_small_balance_paid_from_many_racing_transactions_is_never_overspent(live: Live) -> None:
    ben = live.beneficiary("low_balance")
    live.control.set_behaviour(ben["beneficiaryId"], "manual")  # the test answers for the app
    initial = live.balance(ben["beneficiaryId"])
    capture_date = format_date(parse_date(live.control.clock()["now"]) + timedelta(days=2))
    created: list[str] = []
    for round_ in range(ROUNDS):
        ids = []
        for racer in range(RACERS):
            capture, tspd, amount = PAYMENTS[(round_ + racer) % len(PAYMENTS)]
            reply = live.kit.create_transaction(f"small-{round_}-{racer}", "1", amount, capture_mode=capture,
                                                tspd_mode=tspd,
                                                capture_date=capture_date if capture == "DEFERRED" else None)
            ids.append(reply["transaction"]["id"])
        created += ids

        payers = live.all_at_once(lambda kit, tx_id: kit.set_payer(tx_id, ben["beneficiaryId"]), ids)
        assert {r.status for r in payers} <= {202, 403, 409}
        assert sum(r.status == 202 for r in payers) <= 1
        assert {_code(r) for r in payers if r.status == 403} <= {"INSUFFICIENT_BALANCE"}
        started = [tx_id for tx_id, r in zip(ids, payers, strict=True) if r.status == 202]
        if not started:  # nothing left to spend: every request is refused for the balance
            assert {_code(r) for r in payers} == {"INSUFFICIENT_BALANCE"}
            assert live.balance(ben["beneficiaryId"]) == 0
            break
        [tx_id] = started

        authorize = {"action": "authorize", "pin": ben["pin"], "transactionId": tx_id}
        racers = ["authorize"] * RACERS
        if round_ % CANCEL_EVERY == CANCEL_EVERY - 1:
            racers[-1] = "cancel"

        def answer(kit: KitClient, racer: str, tx_id: str = tx_id, body: dict[str, Any] = authorize) -> Reply:
            if racer == "cancel":
                return kit.cancel(tx_id, "CUSTOMER_ABORT")
            return live.act(ben["beneficiaryId"], body)

        answers = live.all_at_once(answer, racers)
        assert all(r.status < 500 for r in answers), [(r.status, r.body) for r in answers]
        authorized = [r for r in answers[:RACERS - 1] if r.status == 200]
        assert len(authorized) <= 1  # one personal code per payment

        balance = live.balance(ben["beneficiaryId"])
        assert balance >= 0
        spent = sum(_authorized_amount(live.kit.get_transaction(t)["transaction"]) for t in created)
        assert spent <= initial
        assert balance == initial - spent  # debits and holds are exactly what was authorized
    else:
        pytest.fail(f"the balance was not used up in {ROUNDS} rounds")

    final = [live.kit.get_transaction(t)["transaction"] for t in created]
    assert sum(tx["state"] == "PROCESSING" for tx in final) == 0
    assert sum(_authorized_amount(tx) for tx in final) == initial - live.balance(ben["beneficiaryId"])
