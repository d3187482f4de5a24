"""State, clock and pending deadlines survive a restart on the same database file."""

from datetime import timedelta

from sandbox.client import ControlClient, FlaskTransport, shop_client
from sandbox.domain.dates import format_date
from sandbox.services.sandbox import Sandbox
from sandbox.web import create_app
from tests.conftest import START, make_settings


def open_world(db):
    app = create_app(make_settings(db=str(db)))
    transport = FlaskTransport(app)
    control = ControlClient(transport)
    fixtures = control.fixtures()
    shop = next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
    manual = next(b for b in fixtures["beneficiaries"] if b["behaviour"] == "manual")
    return app, control, shop_client(transport, shop), manual


def test_a_restart_keeps_objects_clock_and_pending_deadlines(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    app, control, kit, ben = open_world(db)
    waiting = kit.create_transaction("a", "1", 100)["transaction"]
    deferred = kit.create_transaction("b", "1", 4000, capture_mode="DEFERRED",
                                      capture_date=format_date(START + timedelta(days=1)))["transaction"]
    kit.set_payer(deferred["id"], ben["beneficiaryId"])
    control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    control.advance(60)
    balance = next(b["balance"] for b in control.fixtures()["beneficiaries"] if b["beneficiaryId"] == ben["beneficiaryId"])
    before = control.fixtures()
    app.extensions["ancv_sandbox"].stop()

    app, control, kit, _ = open_world(db)
    assert control.clock()["now"] == format_date(START + timedelta(seconds=60))
    assert control.fixtures() == before  # same shops, keys, balances (no second set of fixtures)
    assert kit.get_transaction(waiting["id"])["transaction"]["state"] == "INITIALIZED"
    assert kit.get_transaction(deferred["id"])["transaction"]["state"] == "AUTHORIZED"
    control.advance(240)
    assert kit.get_transaction(waiting["id"])["transaction"]["state"] == "EXPIRED"
    control.advance(86400)
    assert kit.get_transaction(deferred["id"])["transaction"]["state"] == "CANCELLED"
    after = next(b["balance"] for b in control.fixtures()["beneficiaries"] if b["beneficiaryId"] == ben["beneficiaryId"])
    assert after == balance + 4000
    # new ids after a restart do not collide with old ones
    assert kit.create_transaction("c", "1", 100)["transaction"]["id"] not in (waiting["id"], deferred["id"])
    app.extensions["ancv_sandbox"].stop()


def test_a_wall_clock_sandbox_fires_overdue_deadlines_when_it_starts(tmp_path):
    db = tmp_path / "wall.sqlite3"
    sandbox = Sandbox(make_settings(db=str(db), clock="wall"))
    with sandbox.uow() as uow:
        uow.session.set_timer("transaction", "ghost", sandbox.clock.now() - timedelta(seconds=5))

    def overdue(box: Sandbox) -> list[str]:
        with box.store.session() as s:
            return [ref for due, _, ref in s.timers() if due <= box.clock.now()]

    overdue_before = overdue(sandbox)
    sandbox.stop()
    restarted = Sandbox(make_settings(db=str(db), clock="wall"))
    restarted.start()
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and overdue(restarted):
        time.sleep(0.05)
    assert overdue_before == ["ghost"] and overdue(restarted) == []
    restarted.stop()


def test_undelivered_webhooks_are_sent_after_a_restart(tmp_path, receiver):
    db = tmp_path / "hooks.sqlite3"
    sandbox = Sandbox(make_settings(db=str(db)))
    with sandbox.store.session() as s:  # as if the process died right after committing the change
        s.add_webhook(receiver.url("/ok"), {"transaction": {"id": "x"}}, START)
    sandbox.sender.close()
    sandbox.store.close()
    restarted = Sandbox(make_settings(db=str(db)))
    assert restarted.sender.wait_idle(5)
    assert [r["body"] for r in receiver.requests] == [{"transaction": {"id": "x"}}]
    with restarted.store.session() as s:
        assert s.webhooks()[0]["state"] == "delivered"
    restarted.stop()
