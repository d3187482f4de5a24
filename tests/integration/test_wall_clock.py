"""The wall clock, sped up: the background worker fires deadlines without anyone asking."""

import time

from sandbox.client import ControlClient, FlaskTransport, shop_client
from sandbox.web import create_app
from tests.conftest import make_settings


def test_a_sped_up_wall_clock_expires_and_answers_on_its_own():
    app = create_app(make_settings(clock="wall", speed=1000.0))
    sandbox = app.extensions["ancv_sandbox"]
    sandbox.start()
    try:
        transport = FlaskTransport(app)
        fixtures = ControlClient(transport).fixtures()
        shop = next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        payer = next(b for b in fixtures["beneficiaries"] if b["behaviour"] == "pay_full")
        kit = shop_client(transport, shop)
        expiring = kit.create_transaction("a", "1", 100)["transaction"]
        paid = kit.create_transaction("b", "1", 100)["transaction"]
        kit.set_payer(paid["id"], payer["beneficiaryId"])
        deadline = time.monotonic() + 5  # 300 s and 3 s of sandbox time are 0.3 s and 3 ms here
        states = {}
        while time.monotonic() < deadline:
            states = {tx: kit.get_transaction(tx)["transaction"]["state"] for tx in (expiring["id"], paid["id"])}
            if states == {expiring["id"]: "EXPIRED", paid["id"]: "VALIDATED"}:
                break
            time.sleep(0.05)
        assert states == {expiring["id"]: "EXPIRED", paid["id"]: "VALIDATED"}
        with sandbox.store.session() as s:
            expired = [e for e in s.events() if e["type"] == "TransactionExpired"]
        assert expired and expired[0]["at"] >= sandbox.clock.now().__class__.fromisoformat(
            expiring["expirationDate"].replace("Z", "+00:00"))
    finally:
        sandbox.stop()
