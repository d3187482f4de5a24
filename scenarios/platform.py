"""What simulated people and systems may do to the sandbox, and how they hear back.

Agents never touch the sandbox directly: they hold a `Platform`, which is either in-process
(`scenarios.in_process`: the services themselves, virtual time driven by SimPy, no sockets)
or live (`scenarios.live`: HTTP and Socket.IO against a running server). Both speak the same
language: the Kit's JSON for objects, `PlatformError` for refusals, and `Message`s delivered
through a `Hub` for what the sandbox tells the world (timeline events and webhooks).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import simpy

from sandbox.client import KitClient, Transport, provider_client, shop_client
from sandbox.domain import events


class PlatformError(Exception):
    """A refusal: the Kit's `{errorCode, errorMessage}` or a form's French messages (`code` "FORM")."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{status} {code} {message}".strip())
        self.status, self.code, self.message = status, code, message


class Message(NamedTuple):
    """Something the sandbox said: a timeline event (`kind` "event") or a webhook call (`kind` "webhook").

    (A named tuple: a busy day makes tens of thousands, and a frozen dataclass costs four times more to make.)"""

    kind: str
    type: str  # event type, or "returnUrl"/"cancelUrl" for webhooks
    ref: str  # transaction or pre-transaction id
    data: dict[str, Any]

    @classmethod
    def webhook(cls, endpoint: str, body: dict[str, Any]) -> Message:
        """A webhook call the integrator's server accepted at `endpoint` ("retour", "annulation")."""
        obj = body.get("transaction") or body.get("preTransaction") or {}
        return cls("webhook", endpoint, str(obj.get("id", "")), body)


class Portal(Protocol):
    """The Espace dédié of one point d'accueil, as a logged-in merchant uses it."""

    def cash(self, choice: dict[str, str], demand: dict[str, str]) -> dict[str, str]:
        """ENCAISSER steps 1–3; returns {"ref", "object": "transaction"|"preTransaction", "url"?}."""

    def validate(self, transaction_id: str, amount: str) -> None:
        """✓ Valider la pré-réservation (amount in euros, French format)."""

    def cancel(self, ref: str, object: str) -> None:
        """✗ Annuler l'opération."""


class Pro(Protocol):
    """The App' Chèque-Vacances Pro of one point d'accueil."""

    def request(self, amount: str, order_id: str) -> dict[str, str]:
        """"Paiement": returns {"ref", "object": "preTransaction", "url"} (what the QR code says)."""


class Platform(Protocol):
    mode: str  # "in-process" or "live"

    def connect(self, env: simpy.Environment, hub: Hub) -> None:
        """Start hearing the sandbox: every event and webhook goes to `hub` (in the simulation's time)."""

    def populate(self, request: dict[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/population`: new shops, providers and beneficiaries, with their secrets."""

    def set_rules(self, rules: dict[str, Any]) -> None: ...

    def now(self) -> datetime:
        """The sandbox's time (for the dates of Kit requests)."""

    def kit(self, key_holder: dict[str, Any], shop_id: int) -> KitClient:
        """A Kit API client sealing with a shop's or a service provider's key."""

    def webhook_url(self, name: str, failures: float, seed: str) -> str:
        """Where an integrator's server listens; it answers 500 to a `failures` share of calls."""

    def portal(self, shop: dict[str, Any]) -> Portal: ...

    def pro(self, shop: dict[str, Any]) -> Pro: ...

    def act(self, beneficiary_id: str, action: str, **fields: Any) -> dict[str, Any]:
        """The beneficiary's app (`POST /_sandbox/beneficiaries/{id}/act`); the Kit JSON of what changed."""

    def tell(self, beneficiary_id: str, action: str, **fields: Any) -> None:
        """`act`, for an agent that does not read the answer (in process, none is made)."""

    def payment_url(self, pre_transaction_id: str) -> str:
        """What a payment request's QR code and email link say."""

    def observations(self) -> Observations:
        """What happened since `connect`: the timeline, the emails and the webhook deliveries."""

    def close(self) -> None: ...


@dataclass
class Observations:
    events: list[dict[str, Any]]  # {"seq", "at", "type", "ref", "data"}, oldest first
    emails: list[dict[str, Any]]
    webhooks: list[dict[str, Any]]  # {"url", "state", "attempts", …}


def kit_client(transport: Transport, key_holder: dict[str, Any], shop_id: int) -> KitClient:
    """Sealed with a shop's own key (a `pointsOfSale` entry) or a service provider's (for one of its shops)."""
    if "shopId" in key_holder:
        return shop_client(transport, key_holder)
    return provider_client(transport, key_holder, shop_id)


def error_of(reply: Any) -> PlatformError:
    """A Kit reply that is not a success, as a PlatformError."""
    body = reply.body if isinstance(reply.body, dict) else {}
    return PlatformError(reply.status, str(body.get("errorCode", reply.status)), str(body.get("errorMessage", "")))


_RINGING = frozenset({events.TRANSACTION_PROCESSING, events.PRE_TRANSACTION_PROCESSING})  # may ring a phone


class Hub:
    """Routes what the sandbox says to the agents waiting for it.

    Agents `watch` a key (a transaction or pre-transaction id, or ("beneficiary", id) for a phone),
    then `next` returns a SimPy event that fires with the key's next message; messages for keys
    nobody watches are dropped, so a long run keeps no history here."""

    def __init__(self, env: simpy.Environment, by_email: Callable[[str], str | None]) -> None:
        self.env = env
        self._by_email = by_email
        self._queues: dict[Any, deque[Message]] = {}
        self._waiting: dict[Any, simpy.Event] = {}
        self.heard = 0

    def watch(self, key: Any) -> None:
        self._queues.setdefault(key, deque())

    def forget(self, key: Any) -> None:
        self._queues.pop(key, None)
        self._waiting.pop(key, None)

    def next(self, key: Any) -> simpy.Event:
        event = self.env.event()
        queue = self._queues.get(key)
        if queue is None:  # (not setdefault: it would make a deque at every call, and the key is mostly watched)
            queue = self._queues[key] = deque()
        if queue:
            event.succeed(queue.popleft())
        else:
            self._waiting[key] = event
        return event

    def cancel_wait(self, key: Any, event: simpy.Event) -> None:
        if self._waiting.get(key) is event:
            del self._waiting[key]

    def put(self, message: Message) -> None:
        self.heard += 1
        for key in self._keys(message):
            waiting = self._waiting.pop(key, None)
            if waiting is not None:
                waiting.succeed(message)
            elif key in self._queues:
                self._queues[key].append(message)

    def _keys(self, message: Message) -> Sequence[Any]:
        if message.kind == "event" and message.type not in _RINGING:
            return (message.ref,)  # most messages: their object's key alone
        keys: list[Any] = [message.ref]
        if message.kind == "webhook":  # integrators know their orders, not the ids the sandbox gives
            obj = message.data.get("transaction") or message.data.get("preTransaction") or {}
            keys.append(("order", (obj.get("order") or {}).get("id")))
        if message.kind == "event":  # one that may ring a phone
            data = message.data
            if data.get("beneficiaryId"):  # /payer, or a request pushed to the app: the phone rings
                keys.append(("beneficiary", data["beneficiaryId"]))
            elif data.get("contact"):  # a request emailed to the client
                beneficiary = self._by_email(str(data["contact"]).lower())
                if beneficiary:
                    keys.append(("beneficiary", beneficiary))
        return keys
