"""Two sandboxes on one database stand for two server processes behind a load balancer.

Covers: ARCHITECTURE "Scale beyond one machine" — each process runs its own scheduler, so a
deadline one process read may be fired by the other before it acts (it must not fire again);
rules changed or reset through one are in force in the other; processes starting at once on an empty database load the fixtures once; a process starting
beside a running one leaves that one's pending webhook deliveries alone (they are in its queue),
while a process starting alone sends them (nobody else will). The last two need PostgreSQL
(ANCV_SANDBOX_TEST_DB): SQLite serves one server process per file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from sandbox.services import scheduler
from sandbox.services.sandbox import Sandbox
from tests.conftest import TEST_DB, World, fresh_test_database, make_settings

MERCHANT = "caisse@camping-des-pins.example"
DAY_S = 86_400
ON_POSTGRESQL = bool(TEST_DB and TEST_DB.startswith("postgresql"))
needs_postgresql = pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL only (ANCV_SANDBOX_TEST_DB): "
                                                                "SQLite serves one server process per file")


@pytest.fixture
def shared_db(tmp_path: Path) -> str:
    """The test database when it is PostgreSQL (emptied), else a SQLite file both sandboxes open."""
    if ON_POSTGRESQL:
        db = fresh_test_database()
        assert db
        return db
    return str(tmp_path / "shared.sqlite3")


@pytest.fixture
def first(shared_db: str) -> Iterator[World]:
    world = World(make_settings(db=shared_db))
    yield world
    world.sandbox.stop()


def test_a_deadline_the_other_process_fired_meanwhile_is_not_fired_again(first, shared_db, monkeypatch):
    kit, ben = first.kit(), first.beneficiary("manual")
    tx = kit.create_transaction("REMIND-1", "1", 4000, capture_mode="DEFERRED",
                                capture_date=first.later(days=3))["transaction"]
    with first.sandbox.uow() as uow:  # what the portal's wizard does with its "E-mail" field
        stored = uow.session.transaction(tx["id"])
        stored.merchant_email = MERCHANT
        uow.save(stored)
    assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
    first.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    first.advance(2 * DAY_S - 1)  # the reminder is due in a second (24 h before the capture date)
    second = Sandbox(make_settings(db=shared_db))
    try:
        second.clock.set(first.sandbox.clock.now())
        real_uow = second.uow

        def uow_after_the_first_process_fired(now=None):
            monkeypatch.setattr(second, "uow", real_uow)
            first.advance(1)  # between the second's reading the timer and its unit of work
            return real_uow(now)

        monkeypatch.setattr(second, "uow", uow_after_the_first_process_fired)
        scheduler.fire_due(second, until=second.clock.now() + timedelta(seconds=1))
    finally:
        second.stop()
    assert len(first.events("ValidationReminderDue")) == 1
    reminders = [m for m in first.control.emails() if m["to"] == MERCHANT and m["subject"].startswith("Rappel")]
    assert len(reminders) == 1


@needs_postgresql
def test_two_processes_starting_at_once_on_an_empty_database_load_the_fixtures_once():
    db = fresh_test_database()
    barrier = threading.Barrier(2)

    def start(_: int) -> Sandbox:
        barrier.wait(timeout=10)
        return Sandbox(make_settings(db=db))

    with ThreadPoolExecutor(max_workers=2) as pool:
        one, other = pool.map(start, range(2))
    try:
        with one.store.session() as s:
            loaded = [e for e in s.events() if e["type"] == "FixturesLoaded"]
        assert len(loaded) == 1
        assert one.secret_key == other.secret_key  # a person's session is good on either
    finally:
        one.stop()
        other.stop()


def test_rules_changed_or_reset_through_one_process_are_in_force_in_the_other(first, shared_db):
    second = World(make_settings(db=shared_db))
    try:
        assert second.kit().create_transaction("BEFORE", "1", 1500).status == 201
        first.control.settings(minimumAmountCents=2000, thinkTimeSeconds=7)

        assert second.control.settings()["minimumAmountCents"] == 2000
        refused = second.kit().create_transaction("SMALL", "1", 1500)
        assert (refused.status, refused.body["errorCode"]) == (412, "INVALID_TRANSACTION_AMOUNT")
        second.control.settings(thinkTimeSeconds=9)  # a change through the other keeps the first one's
        assert first.control.settings()["minimumAmountCents"] == 2000
        assert first.control.settings()["thinkTimeSeconds"] == 9

        first.control.reset()
        assert second.control.settings() == first.control.settings()
        assert second.control.settings()["minimumAmountCents"] == 1
        assert second.kit().create_transaction("AFTER", "1", 1500).status == 201
    finally:
        second.sandbox.stop()


@needs_postgresql
def test_processes_started_together_on_a_sped_up_wall_clock_share_one_time():
    """Launched while another process starts, each waits, then carries on the clock the first one saved."""
    from sandbox.adapters.sql_store import SqlStore

    db = fresh_test_database()
    settings = {"db": db, "clock": "wall", "speed": 100.0, "run_scheduler": False}
    holder = SqlStore(db)
    with ThreadPoolExecutor(max_workers=2) as pool:
        with holder.starting():  # another process is starting: both launches wait
            first = pool.submit(Sandbox, make_settings(**settings))
            time.sleep(0.5)  # 50 s of sandbox time
            second = pool.submit(Sandbox, make_settings(**settings))
            time.sleep(0.2)
        one, other = first.result(timeout=30), second.result(timeout=30)
    holder.close()
    try:
        assert abs((one.clock.now() - other.clock.now()).total_seconds()) < 5
    finally:
        one.stop()
        other.stop()


@needs_postgresql
def test_pending_deliveries_are_left_to_the_running_process_and_sent_by_one_starting_alone(first, shared_db,
                                                                                          receiver):
    with first.sandbox.uow() as uow:  # recorded, never handed to a sender: as if its process were busy with it
        delivery_id = uow.session.add_webhook(receiver.url("/ok"), {"transaction": {"id": "pending-1"}}, uow.now)
    second = Sandbox(make_settings(db=shared_db))
    assert second.sender.wait_idle(5)
    second.stop()
    assert receiver.requests == []  # first runs: the delivery is its to make
    first.sandbox.stop()
    alone = Sandbox(make_settings(db=shared_db))
    try:
        assert alone.sender.wait_idle(5)
        assert [r["body"] for r in receiver.requests] == [{"transaction": {"id": "pending-1"}}]
        with alone.store.session() as s:
            assert [w["state"] for w in s.webhooks() if w["id"] == delivery_id] == ["delivered"]
    finally:
        alone.stop()

