"""Network faults on demand (`/_sandbox/faults`): what the next matching Kit calls suffer.

A fault names a Kit operation (or `*`) and a kind: `delay` answers late, `error` answers an
HTTP error without running the operation, `drop_response` runs it and hangs up without an
answer, `reset` hangs up before anything is applied. They live in memory on the sandbox (a
reset clears them); the web layer decides which operation a request is and carries faults out.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from typing import Any

from ..domain import errors

OPERATIONS = ("createTransaction", "payer", "getTransaction", "execute", "cancel", "createPreTransaction",
              "qrCode", "getPreTransaction", "contact", "abort", "pointOfSale")
ANY_OPERATION = "*"
KINDS = ("delay", "error", "drop_response", "reset")
MAX_DELAY_MS = 120_000  # longer than any client's time-out worth testing
MAX_TIMES = 1_000_000
ERROR_STATUSES = range(400, 600)
DEFAULT_ERROR_STATUS = 503
DEFAULT_DELAY_MS = 1000
FIELDS = ("operation", "fault", "delayMs", "status", "times", "probability", "shopId")


@dataclass
class Fault:
    """One fault and how many more times it fires (`times` None: until deleted)."""

    fault_id: int
    operation: str
    kind: str
    delay_ms: int
    status: int
    times: int | None
    probability: float
    shop_id: int | None = None  # only calls about this point of sale (its creations, transactions and requests)
    fired: int = 0

    def as_json(self) -> dict[str, Any]:
        """As the control plane shows it."""
        return {"id": self.fault_id, "operation": self.operation, "fault": self.kind, "delayMs": self.delay_ms,
                "status": self.status, "times": self.times, "probability": self.probability, "shopId": self.shop_id,
                "fired": self.fired}


def _integer(body: dict[str, Any], name: str, default: int | None, allowed: range) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise errors.BadRequest(f"{name} must be an integer from {allowed.start} to {allowed.stop - 1}")
    return value


def parse_fault(fault_id: int, body: dict[str, Any]) -> Fault:
    """A fault from its JSON (`POST /_sandbox/faults`), or a 400 naming what is wrong."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise errors.BadRequest(f"unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}")
    operation = body.get("operation")
    if operation not in (*OPERATIONS, ANY_OPERATION):
        raise errors.BadRequest(f"operation must be one of {', '.join((*OPERATIONS, ANY_OPERATION))}")
    kind = body.get("fault")
    if kind not in KINDS:
        raise errors.BadRequest(f"fault must be one of {', '.join(KINDS)}")
    delay_ms = _integer(body, "delayMs", DEFAULT_DELAY_MS, range(MAX_DELAY_MS + 1))
    status = _integer(body, "status", DEFAULT_ERROR_STATUS, ERROR_STATUSES)
    times = _integer(body, "times", None, range(1, MAX_TIMES + 1))  # absent or null: until deleted
    probability = body.get("probability", 1)
    if (isinstance(probability, bool) or not isinstance(probability, int | float) or not math.isfinite(probability)
            or not 0 <= probability <= 1):
        raise errors.BadRequest("probability must be a number from 0 to 1")
    shop_id = _integer(body, "shopId", None, range(1, 10**12))
    assert delay_ms is not None and status is not None  # they have defaults
    return Fault(fault_id, operation, kind, delay_ms, status, times, float(probability), shop_id)


class UnknownFault(errors.KitError):
    status, code, message = 404, "UNKNOWN_FAULT", "No such fault"


class FaultBook:
    """The faults in force, in the order they were added; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, body: dict[str, Any]) -> Fault:
        """Add the fault `body` describes (see `parse_fault`)."""
        with self._lock:
            fault = parse_fault(self._next_id, body)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def all(self) -> list[Fault]:
        """The faults still in force."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Remove every fault (a reset does too)."""
        with self._lock:
            self._faults.clear()

    def remove(self, fault_id: int) -> None:
        """Remove one fault, or a 404."""
        with self._lock:
            kept = [f for f in self._faults if f.fault_id != fault_id]
            if len(kept) == len(self._faults):
                raise UnknownFault(f"no fault {fault_id}")
            self._faults = kept

    def scoped(self) -> bool:
        """Does a fault in force name a point of sale (so a call's point of sale must be looked up)?"""
        with self._lock:
            return any(fault.shop_id is not None for fault in self._faults)

    def draw(self, operation: str, rng: random.Random, shop_id: int | None = None) -> Fault | None:
        """The fault this call of `operation` (about `shop_id`) suffers, if any: the first matching one that
        fires (its `probability` drawn from the sandbox's seeded `rng`), counted down and dropped once spent."""
        with self._lock:
            for fault in self._faults:
                if fault.operation not in (operation, ANY_OPERATION):
                    continue
                if fault.shop_id is not None and fault.shop_id != shop_id:
                    continue
                # draw only for a real chance, so a sure fault leaves the random stream (ids) untouched
                if fault.probability < 1 and not rng.random() < fault.probability:
                    continue
                fault.fired += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return fault
        return None
