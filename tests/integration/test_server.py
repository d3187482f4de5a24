"""The real server: `ancv-sandbox serve` on a free loopback port, gevent stack, Socket.IO."""

import signal
import socket
import time

import requests
import socketio

from sandbox.client import ControlClient, HttpTransport, shop_client
from tests.conftest import serving


def test_serve_becomes_ready_and_answers_sealed_calls(ancv_sandbox):
    """Through the pytest plugin's fixture (issue 15, item 4), so every run exercises it."""
    kit = ancv_sandbox.kit()  # how fast serve starts: bench/startup.py
    reply = kit.create_transaction("curl-1", "1", 4000)
    assert reply.status == 201 and reply["transaction"]["state"] == "INITIALIZED"
    assert kit.get_transaction(reply["transaction"]["id"]).status == 200


def test_serve_pushes_events_over_socketio(ancv_sandbox):
    shop = ancv_sandbox.shop()
    received = []
    client = socketio.Client()
    client.on("event", lambda data: received.append(data))
    client.connect(ancv_sandbox.url, wait_timeout=5)
    time.sleep(0.3)
    assert client.transport() == "websocket"  # gevent stack upgrades Socket.IO to WebSocket
    client.emit("join", {"shopId": shop["shopId"]})
    time.sleep(0.3)
    ancv_sandbox.kit(shop).create_transaction("live-1", "1", 4000)
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


def _raw_request(base: str, head: str) -> bytes:
    """What the server answers to a request written by hand (headers no HTTP client would send)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head.encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_more_than_100_headers_get_a_clean_431_and_no_traceback_in_the_log(live_server):
    """Issue 14, item 11: http.client refuses a 101st header line; gevent printed that as a traceback."""
    base, control, _, process = live_server
    headers = "".join(f"X-Junk-{i}: {i}\r\n" for i in range(150))
    answer = _raw_request(base, f"GET /_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert control.health() == {"status": "ok"}  # and the server goes on
    process.log.seek(0)
    assert "Traceback" not in process.log.read()


def test_a_real_server_answers_only_its_own_names_and_json_writes(tmp_path):
    """Issue 14, item 9 on `serve`: DNS rebinding (a foreign Host), a text/plain form, a foreign Origin;
    `--allowed-host` adds a name."""
    with serving(tmp_path, "--clock", "virtual", "--allowed-host", "sandbox.test", db=":memory:") as (base, control,
                                                                                                    _, _):
        port = base.rsplit(":", 1)[1]
        events = len(control.events())
        rebound = requests.post(f"{base}/_sandbox/reset", json={}, headers={"Host": f"evil.example:{port}"}, timeout=5)
        assert rebound.status_code == 400 and rebound.json()["errorCode"] == "HOST_NOT_ALLOWED"
        page = requests.get(f"{base}/", headers={"Host": f"evil.example:{port}"}, timeout=5)
        assert page.status_code == 400 and "ne répond pas sous ce nom" in page.text
        form = requests.post(f"{base}/_sandbox/reset", data='{"seed": 7}', headers={"Content-Type": "text/plain"},
                             timeout=5)
        assert form.status_code == 415 and form.json()["errorCode"] == "UNSUPPORTED_MEDIA_TYPE"
        foreign = requests.post(f"{base}/_sandbox/clock/advance", json={"seconds": 60},
                                headers={"Origin": "http://evil.example"}, timeout=5)
        assert foreign.status_code == 403 and foreign.json()["errorCode"] == "ORIGIN_NOT_ALLOWED"
        assert len(control.events()) == events  # nothing reset, the clock did not move
        named = requests.get(f"{base}/_sandbox/health", headers={"Host": f"sandbox.test:{port}"}, timeout=5)
        assert named.status_code == 200
        assert "frame-ancestors 'none'" in requests.get(f"{base}/", timeout=5).headers["Content-Security-Policy"]
