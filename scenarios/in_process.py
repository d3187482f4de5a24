"""The in-process platform: the sandbox's own services, in SimPy's time, with no sockets.

The sandbox runs on a `SimClock` (the scenario's start plus `env.now`); a keeper process
sleeps until the store's next deadline and fires it, and is woken when a commit sets an
earlier one. Webhooks are delivered to the simulated integrators' servers in simulated
time, with the Kit's retries. Kit calls go through `KitClient` (so they are sealed like an
integrator's) and a transport that calls the Kit services instead of a server.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any

import simpy

from sandbox.adapters.clock import SimClock
from sandbox.adapters.webhooks import RETRY_DELAYS_S, is_success
from sandbox.client import KitClient, Reply
from sandbox.domain import errors, requests, wire
from sandbox.domain.cashing import IDENTIFIER, FormErrors
from sandbox.domain.dates import format_date
from sandbox.domain.events import Event
from sandbox.services import cashing_wizard, fixtures, kit, merchant_payments, paying, scheduler
from sandbox.services.sandbox import Sandbox, Settings

from .platform import Hub, Message, Observations, PlatformError, kit_client

SIM_PUBLIC_URL = "http://127.0.0.1:8421"
WEBHOOK_HOST = "integrateur.test"  # reserved name: nothing is ever sent there


class InProcessPlatform:
    mode = "in-process"

    def __init__(self, start: datetime, seed: int, db: str | None = None) -> None:
        """`db`: where the sandbox keeps its data (default: the memory store, the fastest; or a SQLite file)."""
        self.start, self.seed, self.db = start, seed, db
        self.env: simpy.Environment | None = None
        self.sandbox: Sandbox | None = None

    # --- set-up -------------------------------------------------------------------------------
    def connect(self, env: simpy.Environment, hub: Hub) -> None:
        self.env, self.hub = env, hub
        settings = Settings(db=self.db or "memory", clock="sim", seed=self.seed, public_url=SIM_PUBLIC_URL, load_fixtures=False,
                            run_scheduler=False, draw_codes=False)
        self.sandbox = Sandbox(settings, clock=SimClock(self.start, lambda: env.now))
        self.sandbox.sender.close()
        self.sandbox.sender = _SimWebhooks(env, self.sandbox, hub)  # type: ignore[assignment]
        self.sandbox.listeners.append(self._heard)
        self.sandbox.timer_listeners.append(self._deadline_set)
        self._wake: simpy.Event | None = None
        self._planned: datetime | None = None
        env.process(self._keep_deadlines())

    def _heard(self, events: list[Event], _saved: list[Any]) -> None:
        for event in events:
            self.hub.put(Message("event", event.name, event.ref, event.data))

    def _deadline_set(self, due: datetime) -> None:
        if self._wake is not None and not self._wake.triggered and (self._planned is None or due < self._planned):
            self._wake.succeed()

    def _keep_deadlines(self) -> Generator[simpy.Event, Any, None]:
        assert self.env is not None and self.sandbox is not None
        env, sandbox = self.env, self.sandbox
        while True:
            with sandbox.store.session() as s:
                timer = s.next_timer()
            self._planned = timer[0] if timer else None
            self._wake = env.event()
            if timer is None:
                yield self._wake
            else:
                wait = (timer[0] - sandbox.clock.now()).total_seconds()
                if wait > 0:
                    yield env.timeout(wait) | self._wake
            self._wake = None
            scheduler.fire_due(sandbox)

    @property
    def _sandbox(self) -> Sandbox:
        assert self.sandbox is not None, "connect() first"
        return self.sandbox

    # --- what agents do -------------------------------------------------------------------------------
    def populate(self, request: dict[str, Any]) -> dict[str, Any]:
        return fixtures.add_population(self._sandbox, fixtures.PopulationRequest.parse(request))

    def set_rules(self, rules: dict[str, Any]) -> None:
        try:
            self._sandbox.save_rules(rules)
        except errors.KitError as error:
            raise refusal(error) from None

    def now(self) -> datetime:
        return self._sandbox.clock.now()

    def kit(self, key_holder: dict[str, Any], shop_id: int) -> KitClient:
        return kit_client(_KitTransport(self._sandbox), key_holder, shop_id)

    def webhook_url(self, name: str, failures: float, seed: str) -> str:
        url = f"http://{re.sub(r'[^a-z0-9-]', '-', name.lower())}.{WEBHOOK_HOST}/ancv"
        assert isinstance(self._sandbox.sender, _SimWebhooks)
        self._sandbox.sender.servers[url] = (failures, random.Random(seed))
        return url

    def portal(self, shop: dict[str, Any]) -> _Portal:
        return _Portal(self._sandbox, shop["shopId"])

    def pro(self, shop: dict[str, Any]) -> _Pro:
        return _Pro(self._sandbox, shop["shopId"])

    def act(self, beneficiary_id: str, action: str, **fields: Any) -> dict[str, Any]:
        result = self._act(beneficiary_id, action, fields)
        return wire.act_json(result.transaction, result.pre_transaction, self._sandbox.clock.now())

    def tell(self, beneficiary_id: str, action: str, **fields: Any) -> None:
        self._act(beneficiary_id, action, fields)  # no answer to build: nobody reads it

    def _act(self, beneficiary_id: str, action: str, fields: dict[str, Any]) -> paying.Acted:
        try:
            return paying.act(self._sandbox, beneficiary_id, requests.parse_act({"action": action, **fields}))
        except errors.KitError as error:
            raise refusal(error) from None

    def payment_url(self, pre_transaction_id: str) -> str:
        return self._sandbox.payment_url(pre_transaction_id)

    def observations(self) -> Observations:
        with self._sandbox.store.session() as s:
            return Observations(s.events(), s.emails(), s.webhooks())

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()


class _SimWebhooks:
    """Delivers webhooks to the simulated integrators' servers in simulated time (Kit §5.1 retries)."""

    def __init__(self, env: simpy.Environment, sandbox: Sandbox, hub: Hub) -> None:
        self.env, self.sandbox, self.hub = env, sandbox, hub
        self.servers: dict[str, tuple[float, random.Random]] = {}  # base URL → (failure share, its randomness)

    def submit(self, delivery: dict[str, Any]) -> None:
        self.env.process(self._deliver(delivery))

    def _deliver(self, delivery: dict[str, Any]) -> Generator[simpy.Event, Any, None]:
        url, body = delivery["url"], delivery["body"]
        # an integrator's URLs are its base plus one segment ("/retour"): found at once, else by prefix
        server = self.servers.get(url.rsplit("/", 1)[0]) or next(
            (s for base, s in self.servers.items() if url.startswith(base)), None)
        attempts: list[dict[str, Any]] = []
        for delay in (0.0, *RETRY_DELAYS_S):
            if delay:
                yield self.env.timeout(delay)
            status = None if server is None else (500 if server[1].random() < server[0] else 200)
            attempts.append({"at": self.sandbox.clock.now(), "status": status} if status else
                            {"at": self.sandbox.clock.now(), "status": None, "error": "no server at this URL"})
            if is_success(status):
                self.sandbox.record_webhook(delivery["id"], "delivered", attempts)
                self.hub.put(Message.webhook(url.rsplit("/", 1)[-1], body))
                return
        self.sandbox.record_webhook(delivery["id"], "failed", attempts)

    def wait_idle(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        pass


# --- the Kit API without a server ---------------------------------------------------------------------

Handler = Callable[[Sandbox, Any, str | None, dict[str, Any], tuple[str, ...]], tuple[int, dict[str, Any]]]


def _digits(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise errors.BadRequest(f"{name} must be digits")
    return int(text)


def _point_of_sale(sb: Sandbox, _body: Any, seal: str | None, params: dict[str, Any],
                   ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    provider = params.get("serviceProviderId")
    pos, now = kit.get_point_of_sale(sb, _digits(ids[0], "shopId"),
                                     _digits(str(provider), "serviceProviderId") if provider else None, seal)
    return 200, {"pointOfSale": wire.point_of_sale_json(pos), "responseDate": format_date(now)}


def _create(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], _ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    tx, created, now = kit.create_transaction(sb, body, seal)
    return (201 if created else 200), wire.transaction_envelope(tx, now)


def _payer(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    tx, now = kit.set_payer(sb, ids[0], body, seal)
    return 202, wire.transaction_envelope(tx, now)


def _status(sb: Sandbox, _body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    tx, now = kit.get_transaction(sb, ids[0], seal)
    return 200, wire.transaction_envelope(tx, now)


def _execute(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    tx, now = kit.execute(sb, ids[0], body, seal)
    return 200, wire.transaction_envelope(tx, now)


def _cancel(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    tx, changed, now = kit.cancel(sb, ids[0], body, seal)
    return (201 if changed else 200), wire.transaction_envelope(tx, now)


def _create_pre(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], _ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    pre, created, now = kit.create_pre_transaction(sb, body, seal)
    return (201 if created else 200), wire.pre_transaction_envelope(pre, now)


def _pre_status(sb: Sandbox, _body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    pre, now = kit.get_pre_transaction(sb, ids[0], seal)
    return 200, wire.pre_transaction_envelope(pre, now)


def _contact(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    pre, now = kit.contact(sb, ids[0], body, seal)
    return 200, wire.pre_transaction_envelope(pre, now)


def _abort(sb: Sandbox, body: Any, seal: str | None, _p: dict[str, Any], ids: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    pre, now = kit.abort(sb, ids[0], body, seal)
    return 200, wire.pre_transaction_envelope(pre, now)


# (method, collection, operation after the id or None) -> handler; "" as the id marks a path with none
ROUTES: dict[tuple[str, str, str | None], Handler] = {
    ("GET", "point-of-sales", ""): _point_of_sale,
    ("POST", "payment-transactions", None): _create,
    ("POST", "payment-transactions", "payer"): _payer,
    ("GET", "payment-transactions", ""): _status,
    ("POST", "payment-transactions", "execute"): _execute,
    ("POST", "payment-transactions", "cancellation"): _cancel,
    ("POST", "pre-transactions", None): _create_pre,
    ("GET", "pre-transactions", ""): _pre_status,
    ("POST", "pre-transactions", "contact"): _contact,
    ("POST", "pre-transactions", "abort"): _abort,
}
KIT_PREFIX = "/acquisition/api/public/v1"


def route(method: str, path: str) -> tuple[str, str, str | None, tuple[str, ...]] | None:
    """The operation a Kit path names, by its segments: `/collection`, `/collection/{id}` or
    `/collection/{id}/operation` (an id: one segment, not empty); None for any other shape."""
    parts = path.split("/")
    if parts[0] or not 2 <= len(parts) <= 4 or "" in parts[1:]:
        return None
    if len(parts) == 2:
        return method, parts[1], None, ()
    return method, parts[1], parts[3] if len(parts) == 4 else "", (parts[2],)


class _KitTransport:
    """`KitClient`'s transport onto the Kit services: same seals, same answers, no HTTP (and no JSON:
    the body is the client's own dict, routed by the path's segments, not matched against patterns)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, method: str, path: str, headers: dict[str, str], body: Any = None,
                 params: dict[str, Any] | None = None) -> Reply:
        path = path.removeprefix(KIT_PREFIX)
        seal = headers.get("ANCV-Security")
        json_type = {"Content-Type": "application/json"}
        found = route(method, path)
        try:
            if found is not None and found[:3] == ("GET", "pre-transactions", "qr-code"):
                png, url = kit.qr_code(self.sandbox, found[3][0], seal)
                return Reply(200, {"Content-Type": "image/png", "pre-transaction-url": url}, png)
            handler = ROUTES.get(found[:3]) if found is not None else None
            if handler is not None:
                assert found is not None
                status, reply = handler(self.sandbox, body, seal, params or {}, found[3])
                return Reply(status, json_type, b"", reply)
        except errors.KitError as error:
            return Reply(error.status, json_type, b"", error.body())
        return Reply(404, json_type, b"", {"errorCode": "NOT_FOUND", "errorMessage": f"no route {method} {path}"})


# --- the merchants' screens, through the services their pages call ------------------------------------------

def refusal(error: errors.KitError, status: int | None = None, code: str | None = None) -> PlatformError:
    """A Kit error as the platform reports it (with the sandbox's detail when it has one)."""
    return PlatformError(status or error.status, code or error.code, error.detail or error.message)


def form_error(problems: FormErrors) -> PlatformError:
    """A form refused: the Kit refusal behind a client field when there is one, else "FORM"."""
    codes = {message: kind.code for kind, message in cashing_wizard.CLIENT_REFUSALS.items()}
    client = problems.fields.get("client", "")
    return PlatformError(400, codes.get(client, "FORM"), " ".join(f"{k}: {v}" for k, v in problems.fields.items()))


class _Portal:
    def __init__(self, sandbox: Sandbox, shop_id: int) -> None:
        self.sandbox, self.shop_id = sandbox, shop_id

    def cash(self, choice: dict[str, str], demand: dict[str, str]) -> dict[str, str]:
        """ENCAISSER through the wizard's steps, as the portal's pages take them; the draft's id is drawn
        only when there is a request to send (a QR code needs none)."""
        sandbox = self.sandbox
        try:
            chosen = cashing_wizard.choose(sandbox, choice)
            asked, shown = cashing_wizard.ask(sandbox, self.shop_id, chosen, demand)
            if shown is not None:
                return {"ref": shown.pre_transaction_id, "object": "preTransaction",
                        "url": sandbox.payment_url(shown.pre_transaction_id)}
            ref = cashing_wizard.send_request(sandbox, self.shop_id, chosen, asked, cashing_wizard.new_draft_id(sandbox))
        except FormErrors as problems:
            raise form_error(problems) from None
        return {"ref": ref, "object": "transaction" if asked.mode == IDENTIFIER else "preTransaction"}

    def validate(self, transaction_id: str, amount: str) -> None:
        try:
            merchant_payments.validate_pre_booking(self.sandbox, [self.shop_id], transaction_id, amount)
        except FormErrors as problems:
            raise form_error(problems) from None
        except errors.KitError as error:  # not one of this point's operations: the page says "introuvable"
            raise refusal(error, status=404, code="NOT_FOUND") from None

    def cancel(self, ref: str, object: str) -> None:
        try:
            merchant_payments.cancel_operation(self.sandbox, [self.shop_id], ref if object == "transaction" else None,
                                               ref if object != "transaction" else None)
        except FormErrors as problems:
            raise form_error(problems) from None
        except errors.KitError as error:
            raise refusal(error, status=404, code="NOT_FOUND") from None


class _Pro:
    def __init__(self, sandbox: Sandbox, shop_id: int) -> None:
        self.sandbox, self.shop_id = sandbox, shop_id

    def request(self, amount: str, order_id: str) -> dict[str, str]:
        try:
            pre = merchant_payments.request_immediate_payment(self.sandbox, self.shop_id,
                                                              {"amount": amount, "order_id": order_id})
        except FormErrors as problems:
            raise form_error(problems) from None
        return {"ref": pre.pre_transaction_id, "object": "preTransaction",
                "url": self.sandbox.payment_url(pre.pre_transaction_id)}
