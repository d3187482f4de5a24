"""The live platform: the same agents against a running sandbox (`ancv-sandbox serve --clock wall`).

Agents call the Kit API, the control plane and the merchants' pages over HTTP, in real time:
SimPy's `RealtimeEnvironment` runs one simulated second per sandbox second (`factor = 1 / speed`).
What the sandbox says comes from two threads, the Socket.IO client (the timeline's events) and a
small HTTP server on loopback (the simulated integrators' webhook endpoints); both only put
`Message`s in a queue, and a SimPy process, the pump, hands them to the hub every few
milliseconds: the hub and SimPy are not thread-safe, so nothing else touches them.
"""

from __future__ import annotations

import html
import json
import math
import queue
import random
import re
import threading
import time
from collections.abc import Generator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import simpy
import simpy.rt
import socketio

from sandbox.client import KIT_PATH, HttpTransport, KitClient, Reply
from sandbox.domain.cashing import FormErrors
from sandbox.domain.dates import parse_date

from .in_process import form_error
from .platform import Hub, Message, Observations, PlatformError, error_of, kit_client
from .spec import ScenarioError

TIMEOUT_S = 10.0  # any one HTTP call or Socket.IO handshake (real seconds)
PUMP_EVERY_S = 0.02  # real seconds between two hand-overs of what was heard to the hub
SETTLE_S = 3.0  # real seconds to let webhook deliveries still being retried end before reading the log
SERVE_HINT = "ancv-sandbox serve --clock wall --speed N"


class LivePlatform:
    mode = "live"

    def __init__(self, base_url: str, *, speed: float | None = None, admin_token: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.admin_token = admin_token
        self.http = requests.Session()
        try:
            self.speed = self._check_server(speed)
        except BaseException:
            self.http.close()
            raise
        self.env: simpy.Environment | None = None
        self.hub: Hub | None = None
        self._inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._sio: socketio.Client | None = None
        self._webhooks: _WebhookServer | None = None
        self._browsers: list[_Browser] = []
        self._start: datetime | None = None  # the sandbox's time at connect, when env.now was 0
        self._after = 0  # the timeline's last seq at connect

    def environment(self) -> simpy.rt.RealtimeEnvironment:
        """Simulated seconds are sandbox seconds: `speed` of them per real second."""
        return simpy.rt.RealtimeEnvironment(factor=1 / self.speed, strict=False)

    # --- the control plane ------------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
                 ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        try:
            return self.http.request(method, f"{self.base}/_sandbox{path}", json=body, params=params,
                                     headers=headers, timeout=TIMEOUT_S)
        except requests.RequestException as error:
            raise ScenarioError(f"lost the sandbox at {self.base} ({type(error).__name__})") from None

    def _control_json(self, method: str, path: str, body: Any = None,
                      params: dict[str, Any] | None = None) -> Any:
        reply = self._control(method, path, body, params)
        if not reply.ok:
            raise error_of(Reply(reply.status_code, {}, b"", _json(reply)))
        return reply.json()

    def _check_server(self, speed: float | None) -> float:
        """The server's speed, once it is known to be a sandbox on a wall clock this run can use."""
        try:
            health = self.http.get(f"{self.base}/_sandbox/health", timeout=TIMEOUT_S)
        except requests.RequestException as error:
            raise ScenarioError(f"cannot reach a sandbox at {self.base} ({type(error).__name__}); "
                                f"start one with `{SERVE_HINT}`") from None
        if health.status_code != 200 or _json(health) != {"status": "ok"}:
            raise ScenarioError(f"{self.base} does not answer like an ANCV sandbox "
                                f"(GET /_sandbox/health: {health.status_code})")
        reply = self._control("GET", "/clock")
        if reply.status_code == 401:
            problem = ("refused this --admin-token" if self.admin_token
                       else "has an admin token: pass it with --admin-token")
            raise ScenarioError(f"the sandbox at {self.base} {problem}")
        clock = _json(reply)
        if not reply.ok or not isinstance(clock, dict):
            raise ScenarioError(f"the sandbox at {self.base} did not tell its clock (GET /_sandbox/clock: "
                                f"{reply.status_code})")
        if clock.get("mode") != "wall":
            raise ScenarioError(f"the sandbox at {self.base} runs on a {clock.get('mode')} clock; a live run "
                                f"needs real time: `{SERVE_HINT}`")
        server_speed = float(clock["speed"])
        if speed is not None and not math.isclose(speed, server_speed):
            raise ScenarioError(f"--speed {speed:g}, but the sandbox at {self.base} runs at speed "
                                f"{server_speed:g}: drop --speed, or restart it with "
                                f"`ancv-sandbox serve --clock wall --speed {speed:g}`")
        return server_speed

    # --- set-up -------------------------------------------------------------------------------------------
    def connect(self, env: simpy.Environment, hub: Hub) -> None:
        self.env, self.hub = env, hub
        try:
            self._webhooks = _WebhookServer(self._inbox)
            self._sio = self._listen()
            # Joined first, then the seq: what happens in between is heard but not counted as this run's.
            self._after = max((e["seq"] for e in self._control_json("GET", "/events")), default=0)
            self._start = parse_date(self._control_json("GET", "/clock")["now"])
        except BaseException:
            self.close()
            raise
        if isinstance(env, simpy.rt.RealtimeEnvironment):  # env.now 0 is the sandbox's time just read
            env.env_start = env.now
            env.sync()
        env.process(self._pump(env, hub))

    def _listen(self) -> socketio.Client:
        """A Socket.IO client in the `timeline` room, putting every event in the inbox."""
        sio = socketio.Client(reconnection_delay_max=2)
        joined: list[bool] = []

        @sio.on("event")
        def heard(payload: Any) -> None:
            if isinstance(payload, dict):
                self._inbox.put(Message("event", str(payload.get("type", "")), str(payload.get("ref", "")),
                                        payload.get("data") or {}))

        @sio.on("connect")
        def connected() -> None:
            if joined:  # reconnected after a drop: join again (no waiting inside a handler)
                sio.emit("join", {"timeline": True})

        try:
            sio.connect(self.base, auth={"token": self.admin_token} if self.admin_token else None,
                        wait_timeout=TIMEOUT_S)
            answer = sio.call("join", {"timeline": True}, timeout=TIMEOUT_S)
        except (socketio.exceptions.ConnectionError, socketio.exceptions.TimeoutError) as error:
            sio.disconnect()
            raise ScenarioError(f"cannot listen to the sandbox's timeline at {self.base} (Socket.IO: "
                                f"{error or type(error).__name__})") from None
        if "timeline" not in (answer or {}).get("joined", []):
            sio.disconnect()
            raise ScenarioError(f"the sandbox at {self.base} refused its timeline to this run: "
                                "pass --admin-token")
        joined.append(True)
        return sio

    def _pump(self, env: simpy.Environment, hub: Hub) -> Generator[simpy.Event, Any, None]:
        """The only way from the listening threads to the hub and SimPy."""
        while True:
            while True:
                try:
                    message = self._inbox.get_nowait()
                except queue.Empty:
                    break
                hub.put(message)
            yield env.timeout(PUMP_EVERY_S * self.speed)

    # --- what agents do -------------------------------------------------------------------------------------
    def populate(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._control_json("POST", "/population", request)  # type: ignore[no-any-return]

    def set_rules(self, rules: dict[str, Any]) -> None:
        self._control_json("PATCH", "/settings", rules)

    def now(self) -> datetime:
        assert self.env is not None and self._start is not None, "connect() first"
        return self._start + timedelta(seconds=float(self.env.now))

    def kit(self, key_holder: dict[str, Any], shop_id: int) -> KitClient:
        return kit_client(_Transport(self.base, self.http), key_holder, shop_id)

    def webhook_url(self, name: str, failures: float, seed: str) -> str:
        assert self._webhooks is not None, "connect() first"
        return self._webhooks.add(re.sub(r"[^a-z0-9-]", "-", name.lower()), failures, random.Random(seed))

    def portal(self, shop: dict[str, Any]) -> _Portal:
        portal = _Portal(self, shop)
        self._browsers.append(portal)
        return portal

    def pro(self, shop: dict[str, Any]) -> _Pro:
        pro = _Pro(self, shop)
        self._browsers.append(pro)
        return pro

    def act(self, beneficiary_id: str, action: str, **fields: Any) -> dict[str, Any]:
        return self._control_json(  # type: ignore[no-any-return]
            "POST", f"/beneficiaries/{quote(str(beneficiary_id), safe='')}/act", {"action": action, **fields})

    def tell(self, beneficiary_id: str, action: str, **fields: Any) -> None:
        self.act(beneficiary_id, action, **fields)

    def payment_url(self, pre_transaction_id: str) -> str:
        return f"{self.base}{KIT_PATH}/pre-transactions/{pre_transaction_id}/qr-code"

    def observations(self) -> Observations:
        assert self._start is not None, "connect() first"
        since = self._start
        deadline = time.monotonic() + SETTLE_S
        while True:  # a delivery being retried when the run ends is let finish, as in-process
            webhooks = [_dated(w, "createdAt") for w in self._control_json("GET", "/webhooks")]
            webhooks = [w for w in webhooks if w["createdAt"] >= since]
            if not any(w["state"] == "pending" for w in webhooks) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for delivery in webhooks:
            delivery["attempts"] = [_dated(a, "at") for a in delivery.get("attempts") or []]
        timeline = self._control_json("GET", "/events", params={"after": self._after})
        outbox = [_dated(e, "at") for e in self._control_json("GET", "/emails")]
        emails = [e for e in outbox if e["at"] >= since]
        return Observations([_dated(e, "at") for e in timeline], emails, webhooks)

    def close(self) -> None:
        if self._sio is not None:
            self._sio.disconnect()
            self._sio = None
        if self._webhooks is not None:
            self._webhooks.close()
            self._webhooks = None
        for browser in self._browsers:
            browser.http.close()
        self._browsers = []
        self.http.close()


def _json(reply: requests.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        return None


def _dated(row: dict[str, Any], key: str) -> dict[str, Any]:
    """A row of the control plane with its date read back (as the in-process store gives it)."""
    return {**row, key: parse_date(row[key])} if isinstance(row.get(key), str) else row


class _Transport(HttpTransport):
    """The Kit API over the platform's keep-alive session; a server gone is the end of the run."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        super().__init__(base_url, timeout=TIMEOUT_S, session=session)

    def __call__(self, method: str, path: str, headers: dict[str, str], body: Any = None,
                 params: dict[str, Any] | None = None) -> Reply:
        try:
            return super().__call__(method, path, headers, body, params)
        except requests.RequestException as error:
            raise ScenarioError(f"lost the sandbox at {self.base_url} ({type(error).__name__})") from None


# --- the integrators' servers: webhooks ---------------------------------------------------------------------

class _WebhookServer:
    """One HTTP server on loopback for every simulated integrator (`/{name}/retour`, `/{name}/annulation`);
    each answers 500 to its share of calls, and only the calls it accepts are heard."""

    def __init__(self, inbox: queue.SimpleQueue[Message]) -> None:
        self.endpoints: dict[str, tuple[float, random.Random]] = {}  # name → (failure share, randomness)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: one call per connection, so none lingers
            def do_POST(self) -> None:  # noqa: N802
                name, *rest = self.path.split("?", 1)[0].strip("/").split("/")
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    endpoint = receiver.endpoints.get(name)
                    status = 404 if endpoint is None or not rest else \
                        500 if endpoint[1].random() < endpoint[0] else 200
                if status == 200:
                    try:
                        body = json.loads(raw or b"null")
                    except ValueError:
                        body = None
                    if isinstance(body, dict):
                        inbox.put(Message.webhook(rest[-1], body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False  # so that closing waits for calls being answered
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-webhooks", daemon=True)
        self.thread.start()

    def add(self, name: str, failures: float, rng: random.Random) -> str:
        with self.lock:
            self.endpoints[name] = (failures, rng)
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT_S)


# --- the merchants' screens, over HTTP ------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FIELD_ERROR = re.compile(r'<p class="field-error" id="([a-z_]+)-error"[^>]*>(.*?)</p>', re.S)
FORM_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
TITLE = re.compile(r"<h1>(.*?)</h1>", re.S)
QR_IMAGE = re.compile(r'/espace-ptl/encaisser/qr/([A-Za-z0-9]+)\.png')


class _Browser:
    """A merchant's browser on one surface of the sandbox: its own cookies, logged in, with the session's
    CSRF token for its forms. Redirects are not followed: where a form leads tells how it went."""

    def __init__(self, platform: LivePlatform, prefix: str, shop: dict[str, Any]) -> None:
        self.root = urlsplit(platform.base).path.rstrip("/") + prefix  # paths as Location headers give them
        self.base = platform.base + prefix
        self.http = requests.Session()
        self.token = ""
        self._log_in(str(shop["login"]), str(shop["password"]))

    def _log_in(self, login: str, password: str) -> None:
        self.token = self._token()
        reply = self.post("/connexion", login=login, password=password)
        if reply.status_code != 302:
            raise PlatformError(reply.status_code, "LOGIN", f"{login}: {_page_errors(reply.text)}")
        self.token = self._token()  # a login gives the session a new token

    def _token(self) -> str:
        found = CSRF.search(self.get("/connexion").text)
        if not found:
            raise PlatformError(500, "LOGIN", f"no form at {self.base}/connexion")
        return found.group(1)

    def get(self, path: str) -> requests.Response:
        return self._request("GET", path)

    def post(self, path: str, **form: str) -> requests.Response:
        return self._request("POST", path, {"csrf_token": self.token, **form})

    def _request(self, method: str, path: str, form: dict[str, str] | None = None) -> requests.Response:
        try:
            return self.http.request(method, self.base + path, data=form, allow_redirects=False,
                                     timeout=TIMEOUT_S)
        except requests.RequestException as error:
            raise ScenarioError(f"lost the sandbox at {self.base} ({type(error).__name__})") from None

    def landed(self, reply: requests.Response, where: str) -> str:
        """The path a form led to when it starts with `where`; otherwise the refusal, as a PlatformError."""
        if reply.status_code in (302, 303):
            path = urlsplit(reply.headers.get("Location", "")).path.removeprefix(self.root)
            if path.startswith(where):
                return path
            if path == "/connexion":
                raise PlatformError(401, "LOGGED_OUT", f"{self.base}: the session was logged out")
            raise PlatformError(404, "NOT_FOUND", f"{reply.request.path_url} led to {path}")
        if reply.status_code == 400:
            fields = _page_errors_by_field(reply.text)
            raise form_error(FormErrors(fields or {"form": _page_errors(reply.text)}))
        raise PlatformError(reply.status_code, f"HTTP_{reply.status_code}", _page_errors(reply.text))


def _page_errors_by_field(page: str) -> dict[str, str]:
    """The French messages a page shows next to its fields ("form" for the one above them)."""
    fields = {name: html.unescape(text).strip() for name, text in FIELD_ERROR.findall(page)}
    above = FORM_ERROR.search(page)
    if above:
        fields["form"] = html.unescape(above.group(1)).strip()
    return fields


def _page_errors(page: str) -> str:
    fields = _page_errors_by_field(page)
    if fields:
        return " ".join(f"{k}: {v}" for k, v in fields.items())
    title = TITLE.search(page)
    return html.unescape(re.sub(r"<[^>]+>", "", title.group(1))).strip() if title else ""


CHOICE_FIELDS = ("timing", "payment_days", "validation", "validation_days", "email", "remember")
DEMAND_FIELDS = ("amount", "order_id", "mode", "client", "label", "customer_ref", "assistant")


class _Portal(_Browser):
    """The Espace dédié of one point d'accueil, through its pages."""

    def __init__(self, platform: LivePlatform, shop: dict[str, Any]) -> None:
        super().__init__(platform, "/espace-ptl", shop)
        self.platform = platform

    def cash(self, choice: dict[str, str], demand: dict[str, str]) -> dict[str, str]:
        """ENCAISSER: Choix du paiement, Demande, then the QR code to show or "Envoyer"."""
        try:
            self.landed(self.post("/encaisser", **{k: choice.get(k, "") for k in CHOICE_FIELDS}),
                        "/encaisser/demande")
            self.landed(self.post("/encaisser/demande", **{k: demand.get(k, "") for k in DEMAND_FIELDS}),
                        "/encaisser/confirmation")
            if demand.get("mode") == "qr":
                page = self.get("/encaisser/confirmation")
                shown = QR_IMAGE.search(page.text)
                if page.status_code != 200 or not shown:
                    raise PlatformError(page.status_code, "FORM", "no QR code at step 3")
                # "Envoyer" leaves the wizard to follow the payment: the next payment's step 1 would
                # otherwise withdraw this QR code, as it does for one left on screen
                pre_id = shown.group(1)
                self.landed(self.post("/encaisser/confirmation"), f"/encaisser/paiement/{pre_id}")
                return {"ref": pre_id, "object": "preTransaction", "url": self.platform.payment_url(pre_id)}
            sent = self.landed(self.post("/encaisser/confirmation"), "/encaisser/paiement/")
        except PlatformError:
            self.post("/encaisser/annuler")  # "Annuler": the person starts the next payment afresh
            raise
        return {"ref": sent.rsplit("/", 1)[-1],
                "object": "transaction" if demand.get("mode") == "identifiant" else "preTransaction"}

    def validate(self, transaction_id: str, amount: str) -> None:
        operation = f"/encaissement/operations/{quote(transaction_id, safe='')}"
        self.landed(self.post(f"{operation}/valider", amount=amount), operation)

    def cancel(self, ref: str, object: str) -> None:
        """The page finds the operation by either id (and cancels its payment, when it has one)."""
        operation = f"/encaissement/operations/{quote(ref, safe='')}"
        self.landed(self.post(f"{operation}/annuler", confirm="oui"), operation)


class _Pro(_Browser):
    """The App' Chèque-Vacances Pro of one point d'accueil, through its pages."""

    def __init__(self, platform: LivePlatform, shop: dict[str, Any]) -> None:
        super().__init__(platform, "/pro", shop)
        self.platform = platform

    def request(self, amount: str, order_id: str) -> dict[str, str]:
        form = {"amount": amount, "order_id": order_id, "label": "", "customer_ref": "", "assistant": ""}
        shown = self.landed(self.post("/paiement", **form), "/paiement/")
        pre_id = shown.rsplit("/", 1)[-1]
        return {"ref": pre_id, "object": "preTransaction", "url": self.platform.payment_url(pre_id)}
