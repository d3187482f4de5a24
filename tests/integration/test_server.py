"""The real server: `ancv-sandbox serve` on a free loopback port, gevent stack, Socket.IO."""

import signal
import time

import socketio

from sandbox.client import ControlClient, HttpTransport, shop_client
from tests.conftest import serving


def test_serve_becomes_ready_prints_urls_and_credentials_and_answers_sealed_calls(live_server):
    base, control, _, process = live_server  # how fast: bench/startup.py
    fixtures = control.fixtures()
    shop = next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
    kit = shop_client(HttpTransport(base), shop)
    reply = kit.create_transaction("curl-1", "1", 4000)
    assert reply.status == 201 and reply["transaction"]["state"] == "INITIALIZED"
    assert kit.get_transaction(reply["transaction"]["id"]).status == 200


def test_serve_pushes_events_over_socketio(live_server):
    base, control, _, _ = live_server
    fixtures = control.fixtures()
    shop = next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
    received = []
    client = socketio.Client()
    client.on("event", lambda data: received.append(data))
    client.connect(base, wait_timeout=5)
    time.sleep(0.3)
    assert client.transport() == "websocket"  # gevent stack upgrades Socket.IO to WebSocket
    client.emit("join", {"shopId": shop["shopId"]})
    time.sleep(0.3)
    shop_client(HttpTransport(base), shop).create_transaction("live-1", "1", 4000)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not received:
        time.sleep(0.05)
    client.disconnect()
    assert received and received[0]["type"] == "TransactionInitialized"


def test_serve_stops_cleanly_on_sigterm(live_server):
    _, _, _, process = live_server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    process.log.seek(0)
    output = process.log.read()
    assert "Kit API" in output and "Beneficiaries" in output


def test_with_an_admin_token_the_timeline_and_rooms_by_id_need_it_too(tmp_path):
    with serving(tmp_path, "--admin-token", "s3cret", db=":memory:") as (base, *_):
        shop = next(p for p in ControlClient(HttpTransport(base), "s3cret").fixtures()["pointsOfSale"] if p["status"] == "ACTIVE"
                    and not p["serviceProviderIds"])
        stranger, admin = socketio.Client(), socketio.Client()
        heard: dict[str, list] = {"stranger": [], "admin": []}
        stranger.on("event", lambda data: heard["stranger"].append(data))
        admin.on("event", lambda data: heard["admin"].append(data))
        stranger.connect(base, wait_timeout=5)
        admin.connect(base, auth={"token": "s3cret"}, wait_timeout=5)
        asked = {"timeline": True, "shopId": shop["shopId"], "rooms": ["shop", "beneficiary"]}
        assert stranger.call("join", asked, timeout=5) == {"joined": []}
        assert sorted(admin.call("join", asked, timeout=5)["joined"]) == [f"shop:{shop['shopId']}", "timeline"]
        shop_client(HttpTransport(base), shop).create_transaction("live-2", "1", 4000)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not heard["admin"]:
            time.sleep(0.05)
        time.sleep(0.2)
        stranger.disconnect()
        admin.disconnect()
        assert [e["type"] for e in heard["admin"]] == ["TransactionInitialized"]  # once, though in two rooms
        assert heard["stranger"] == []
