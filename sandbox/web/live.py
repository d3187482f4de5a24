"""Live pushes over Socket.IO: every event goes to the rooms of the shop and beneficiary it concerns,
and to the `timeline` room.

Who may listen to what is decided here, once:
- people's pages join with `{"rooms": ["shop"]}` or `{"rooms": ["beneficiary"]}` and get the rooms of
  whoever their browser session logged in (the Espace dédié or App Pro merchant, the App' beneficiary);
- `timeline` and rooms named by id (`{"shopId": …}`, `{"beneficiaryId": …}`) are the control plane's:
  open on loopback, behind the admin token otherwise (`auth={"token": …}` or the dashboard's session).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import request, session
from flask_socketio import SocketIO, join_room

from ..domain.events import Event
from ..services import beneficiary_app, merchant_accounts
from ..services.sandbox import Sandbox
from .context import session_holder
from .control import ADMIN_SESSION
from .jsonout import plain

MERCHANT_SESSIONS = ("portal_account", "pro_account")  # the Espace dédié's and the App Pro's session keys
BENEFICIARY_SESSION = "app_beneficiary"  # the App' Chèque-Vacances's session key


def rooms_of_session(sandbox: Sandbox) -> dict[str, list[str]]:
    """The rooms this browser session may join, by the name a page asks for."""
    shops: list[str] = []
    for key in MERCHANT_SESSIONS:
        holder = session_holder(key)
        account = merchant_accounts.logged_in_account(sandbox, *holder) if holder else None
        if account is not None:
            shops += [f"shop:{shop_id}" for shop_id in account.shop_ids]
    holder = session_holder(BENEFICIARY_SESSION)
    beneficiary = beneficiary_app.logged_in_beneficiary(sandbox, *holder) if holder else None
    return {"shop": sorted(set(shops)),
            "beneficiary": [f"beneficiary:{beneficiary.beneficiary_id}"] if beneficiary else []}


def register(socketio: SocketIO, sandbox: Sandbox, *, shared: bool = False) -> None:
    """`shared`: the pushes go through a message queue to every server process, whose pages this
    process cannot see; otherwise events nobody here listens to are not even serialised."""
    admins: set[str] = set()  # Socket.IO sids that proved the admin token at connect

    def is_admin(auth: Any) -> bool:
        token = sandbox.settings.admin_token
        if not token or session.get(ADMIN_SESSION) is True:
            return True
        presented = auth.get("token", "") if isinstance(auth, dict) else ""
        return hmac.compare_digest(str(presented).encode(), token.encode())

    @socketio.on("connect")
    def connect(auth: Any = None) -> None:
        if is_admin(auth):
            admins.add(request.sid)  # type: ignore[attr-defined]

    @socketio.on("disconnect")
    def disconnect(*_: Any) -> None:
        admins.discard(request.sid)  # type: ignore[attr-defined]

    @socketio.on("join")
    def join(data: Any) -> dict[str, Any]:
        """Returns the rooms joined, so a page knows whether it is live."""
        if not isinstance(data, dict):
            return {"joined": []}
        wanted: list[str] = []
        allowed = rooms_of_session(sandbox)
        for name in data.get("rooms") or []:
            wanted += allowed.get(name, []) if isinstance(name, str) else []
        if request.sid in admins:  # type: ignore[attr-defined]
            for key, prefix in (("shopId", "shop"), ("beneficiaryId", "beneficiary")):
                if data.get(key) is not None:
                    wanted.append(f"{prefix}:{data[key]}")
            if data.get("timeline"):
                wanted.append("timeline")
        for room in wanted:
            join_room(room)
        return {"joined": wanted}

    def push(events: list[Event], saved: list[Any]) -> None:
        rooms_of: dict[str, set[str]] = {}
        for entity in saved:
            ref = getattr(entity, "transaction_id", None) or getattr(entity, "pre_transaction_id", None)
            if ref:
                rooms = rooms_of.setdefault(ref, set())
                if getattr(entity, "shop_id", None) is not None:
                    rooms.add(f"shop:{entity.shop_id}")
                for attr in ("beneficiary_id", "contact_beneficiary_id"):
                    if getattr(entity, attr, None):
                        rooms.add(f"beneficiary:{getattr(entity, attr)}")
        occupied = socketio.server.manager.rooms.get("/", {})
        for event in events:
            targets = [room for room in ("timeline", *rooms_of.get(event.ref, ())) if shared or occupied.get(room)]
            if targets:
                payload = plain({"type": event.name, "ref": event.ref, "at": event.at, "data": event.data})
                socketio.emit("event", payload, to=targets)

    sandbox.listeners.append(push)
