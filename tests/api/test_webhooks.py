"""Webhooks (Kit §5.1): which URL for which change, the body, the retry policy, the record."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def urls(receiver):
    return {"returnUrl": receiver.url("/ok"), "cancelUrl": receiver.url("/ko")}


def delivered(world, receiver, count=1, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(receiver.requests) < count:
        time.sleep(0.01)
    assert world.sandbox.sender.wait_idle(timeout)
    return receiver.requests


def test_authorization_calls_return_url_with_the_transaction(world, receiver):
    """Kit §5.1.2.2 AUTHORIZED → returnUrl; §5.1.3 body {transaction, applicationContext, responseDate}."""
    tx = world.paid_transaction(redirect_urls=urls(receiver), application_context={"customerId": "c1"})
    [call] = delivered(world, receiver)
    assert call["path"] == "/ok"
    assert set(call["body"]) == {"transaction", "applicationContext", "responseDate"}
    assert call["body"]["transaction"]["id"] == tx["id"] and call["body"]["applicationContext"] == {"customerId": "c1"}


def test_rejection_and_abandon_call_cancel_url(world, receiver):
    """Kit §5.1.2.2: REJECTED and ABORTED → cancelUrl."""
    kit = world.kit()
    for behaviour in ("wrong_pin", "abandon"):
        tx = kit.create_transaction(behaviour, "1", 4000, redirect_urls=urls(receiver))["transaction"]
        kit.set_payer(tx["id"], world.beneficiary(behaviour)["beneficiaryId"])
    world.advance(3)
    calls = delivered(world, receiver, 2)
    assert [c["path"] for c in calls] == ["/ko", "/ko"]
    assert sorted(c["body"]["transaction"]["state"] for c in calls) == ["ABORTED", "REJECTED"]


def test_nothing_is_sent_on_cancellation_expiry_or_deferred_validation(world, receiver):
    """Kit §5.1.2.2: no call on CANCELLED, VALIDATED (execute), or an expired INITIALIZED transaction."""
    kit = world.kit()
    tx = world.paid_transaction(kit, capture_mode="DEFERRED", capture_date=world.later(days=1),
                                redirect_urls=urls(receiver))
    delivered(world, receiver)
    kit.execute(tx["id"], 100)
    kit.cancel(tx["id"])
    kit.create_transaction("expiring", "1", 100, redirect_urls=urls(receiver))
    world.advance(301)
    assert world.sandbox.sender.wait_idle(5)
    assert [c["path"] for c in receiver.requests] == ["/ok"]


def test_request_expiry_and_beneficiary_refusal_call_cancel_url_with_the_pre_transaction(world, receiver):
    """Kit §5.1.3: preTransaction body on expiry or beneficiary abandon."""
    kit, ben = world.kit(), world.beneficiary()
    expiring = kit.create_pre_transaction("a", 100, world.later(seconds=30), redirect_urls=urls(receiver))
    refused = kit.create_pre_transaction("b", 100, world.later(hours=1), redirect_urls=urls(receiver))
    url = kit.qr_code(refused["preTransaction"]["id"]).headers["pre-transaction-url"]
    world.control.act(ben["beneficiaryId"], "refuse", url=url)
    world.advance(30)
    calls = delivered(world, receiver, 2)
    bodies = {c["body"]["preTransaction"]["id"]: c["body"]["preTransaction"]["state"] for c in calls}
    assert bodies == {expiring["preTransaction"]["id"]: "EXPIRED", refused["preTransaction"]["id"]: "ABORTED"}
    assert {c["path"] for c in calls} == {"/ko"}


def test_failures_are_retried_after_100_150_225_337_ms_and_recorded(world, receiver):
    """Kit §5.1.2.1: up to 4 retries; each attempt visible at /_sandbox/webhooks."""
    receiver.statuses = [500, 404, 503]
    world.paid_transaction(redirect_urls=urls(receiver))
    stamps = [call["t"] for call in delivered(world, receiver, 4)]
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert len(stamps) == 4
    for gap, expected in zip(gaps, (0.100, 0.150, 0.225), strict=True):
        assert gap >= expected * 0.95
    [record] = world.control.webhooks()
    assert record["state"] == "delivered" and [a["status"] for a in record["attempts"]] == [500, 404, 503, 200]


def test_a_dead_endpoint_gets_five_attempts_then_fails(world):
    dead = "http://127.0.0.1:9/never"  # discard port: connection refused
    world.paid_transaction(redirect_urls={"returnUrl": dead})
    assert world.sandbox.sender.wait_idle(10)
    [record] = world.control.webhooks()
    assert record["state"] == "failed" and len(record["attempts"]) == 5
    assert all(a["status"] is None and a["error"] for a in record["attempts"])


def test_strict_mode_does_not_call_plain_http(world, receiver):
    """SR: plain http:// allowed unless strict mode (Kit §5.1.4 wants HTTPS)."""
    world.control.settings(strictWebhooks=True)
    world.paid_transaction(redirect_urls=urls(receiver))
    assert world.sandbox.sender.wait_idle(5)
    assert receiver.requests == [] and world.control.webhooks()[0]["state"] == "failed"


# --- issue 14, item 12: no redirect followed, no link-local address ------------------------------------------

class RedirectingEndpoint:
    """An integrator's endpoint that answers every POST with a redirect (to a path of its own, which
    records any request that reaches it)."""

    def __init__(self, status: int, location: str = "/landing") -> None:
        self.paths: list[tuple[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                endpoint.paths.append((self.command, self.path))
                self.send_response(200 if self.path == "/landing" else status)
                if self.path != "/landing":
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _answer  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_is_not_followed_and_is_recorded_as_a_failed_attempt(world):
    """A webhook sender that follows redirects can be sent anywhere (a metadata address included): the
    3xx is recorded as such on each attempt, and counts as a failure (retried, then `failed`)."""
    for status in (307, 302):
        endpoint = RedirectingEndpoint(status, "http://169.254.169.254/latest/meta-data/")
        try:
            world.paid_transaction(redirect_urls={"returnUrl": endpoint.url("/ok")})
            assert world.sandbox.sender.wait_idle(10)
            record = world.control.webhooks()[-1]
            assert record["state"] == "failed" and [a["status"] for a in record["attempts"]] == [status] * 5
            assert all("redirect not followed" in a["error"] and "169.254.169.254" in a["error"]
                       for a in record["attempts"])
            assert endpoint.paths == [("POST", "/ok")] * 5  # never anywhere else
        finally:
            endpoint.close()
    local = RedirectingEndpoint(307)
    try:
        world.paid_transaction(redirect_urls={"returnUrl": local.url("/ok")})
        assert world.sandbox.sender.wait_idle(10)
        assert ("POST", "/landing") not in local.paths and world.control.webhooks()[-1]["state"] == "failed"
    finally:
        local.close()


METADATA_URLS = ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/", "http://[fe80::1]/x",
                 "http://169.254.0.1:8080/hook", "http://2852039166/", "http://0xa9fea9fe/",
                 "http://[::ffff:169.254.169.254]/"]


def test_link_local_and_metadata_addresses_are_refused_at_creation(world):
    """Like any invalid URL: 400 BAD_REQUEST, the field named in the detail; for transactions and requests."""
    kit = world.kit()
    for index, url in enumerate(METADATA_URLS):
        for field in ("returnUrl", "cancelUrl"):
            other = "cancelUrl" if field == "returnUrl" else "returnUrl"
            urls_ = {field: url, other: "http://127.0.0.1:9/fine"}
            created = kit.create_transaction(f"meta-{index}-{field}", "1", 4000, redirect_urls=urls_)
            assert created.status == 400 and created.body["errorCode"] == "BAD_REQUEST", (url, field)
            assert f"redirectUrls.{field}" in created.headers["X-Sandbox-Detail"]
            requested = kit.create_pre_transaction(f"meta-{index}-{field}", 4000, world.later(hours=1),
                                                   redirect_urls=urls_)
            assert requested.status == 400 and f"redirectUrls.{field}" in requested.headers["X-Sandbox-Detail"]
    assert kit.create_transaction("fine", "1", 4000,
                                  redirect_urls={"returnUrl": "http://169.255.0.1/ok"}).status == 201
