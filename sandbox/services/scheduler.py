"""Deadlines as data, fired in order: timeouts, capture dates, expiries, app answers, reminders.

Each due timer is handled in its own unit of work at the timer's own instant (virtual
clock) or now (wall clock), oldest first, ties broken by kind and id, so a run replays
exactly. `advance` is how a virtual clock moves.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..adapters.clock import VIRTUAL, VirtualClock
from ..domain import errors, events

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_FIRINGS_PER_PASS = 100_000
MAX_ADVANCE_S = 10 * 366 * 86_400  # ten years at once is plenty


class NotVirtualClock(errors.KitError):
    status, code, message = 409, "NOT_VIRTUAL_CLOCK", "The clock is not virtual"


def handle_timer(uow: UnitOfWork, kind: str, ref: str) -> None:
    """Apply the deadline `kind` of object `ref` (its handler in the wiring), whatever it has become meanwhile."""
    handler = uow.wiring.timers.get(kind)
    if handler is not None:
        handler(uow, ref)
    else:
        log.warning("no handler for deadlines of kind %r", kind)
    # Whatever happened, this instant is dealt with: never fire the same timer twice.
    due = uow.session.timer(kind, ref)
    if due is not None and due <= uow.now:
        uow.session.set_timer(kind, ref, None)


def catch_up(uow: UnitOfWork, kind: str, ref: str) -> bool:
    """Apply a deadline that has passed but not yet fired (wall clock lag), with all that follows from it,
    before the caller reads the object; True if one did."""
    due = uow.session.timer(kind, ref)
    if due is None or due > uow.now:
        return False
    handle_timer(uow, kind, ref)
    uow.react()
    return True


def fire_due(sandbox: Sandbox, until: datetime | None = None) -> int:
    """Fire every timer due at `until` (default: now); returns how many fired."""
    virtual = isinstance(sandbox.clock, VirtualClock)
    fired = 0
    while fired < MAX_FIRINGS_PER_PASS:
        limit = until or sandbox.clock.now()
        with sandbox.store.session() as s:
            timer = s.next_timer()
        if timer is None or timer[0] > limit:
            break
        due, kind, ref = timer
        if virtual:
            assert isinstance(sandbox.clock, VirtualClock)
            if due > sandbox.clock.now():
                sandbox.clock.set(due)
        try:
            with sandbox.uow() as uow:
                # Read again inside the unit of work: another server process on the same database
                # may have fired (or moved) this deadline since it was read.
                still_due = uow.session.timer(kind, ref)
                if still_due is not None and still_due <= uow.now:
                    handle_timer(uow, kind, ref)
                if virtual:
                    uow.session.set_meta("clock_now", sandbox.clock.now())
        except Exception as error:  # one broken deadline must not hold back all the others
            log.exception("deadline %s %s failed", kind, ref)
            with sandbox.uow() as uow:
                uow.session.set_timer(kind, ref, None)
                uow.record(events.DEADLINE_FAILED, ref, kind=kind, error=f"{type(error).__name__}: {error}")
        fired += 1
    return fired


def advance(sandbox: Sandbox, seconds: float) -> int:
    """Virtual clock: move time forward, firing every deadline on the way in order."""
    if sandbox.clock.mode != VIRTUAL or not isinstance(sandbox.clock, VirtualClock):
        raise NotVirtualClock("the clock is in wall mode; start the sandbox with --clock virtual")
    if (isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_ADVANCE_S):
        raise errors.BadRequest(f"seconds must be a number from 0 to {MAX_ADVANCE_S}")
    with sandbox.advancing:  # one advance at a time: time only moves forward, in order
        target = sandbox.clock.now() + timedelta(seconds=seconds)
        fired = fire_due(sandbox, until=target)
        sandbox.clock.set(target)
        with sandbox.uow() as uow:
            uow.session.set_meta("clock_now", target)
            uow.record(events.CLOCK_ADVANCED, "clock", seconds=seconds, fired=fired)
    return fired


def seconds_to_next(sandbox: Sandbox) -> float:
    """Real seconds the wall-clock worker may sleep before the next deadline."""
    with sandbox.store.session() as s:
        timer = s.next_timer()
    if timer is None:
        return 3600.0
    clock = sandbox.clock
    return clock.real_seconds_until(timer[0]) if hasattr(clock, "real_seconds_until") else 0.0
