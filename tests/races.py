"""Requests released together from separate OS processes: races the server cannot tell from real clients.

Threads of one test process share its interpreter and lock; processes do not. Each step runs in a
process of its own (`spawn`, so nothing of the test process is inherited), builds its own HTTP
session, waits at a barrier with the others, then sends one request to the server at `base`.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Any

from sandbox.client import HttpTransport, Reply, shop_client

REQUEST_TIMEOUT_S = 10
START_TIMEOUT_S = 120  # spawning a Python process and importing the client takes a while on a busy machine

_barrier: Any = None


@dataclass(frozen=True)
class Step:
    """One request: a Kit call sealed with `shop`'s key (`payer`, `execute`, `cancel`), or an app's `act`."""

    operation: str
    args: tuple[Any, ...]
    shop: dict[str, Any] | None = None


def in_processes(base: str, steps: list[Step]) -> list[Reply]:
    """Every step in its own process, all sent at once; the replies in the steps' order."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(steps))
    with context.Pool(len(steps), initializer=_start, initargs=(barrier,)) as pool:
        # chunksize 1 and a barrier per step: each process takes exactly one step
        return pool.map(_send, [(base, step) for step in steps], chunksize=1)


def _start(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _send(job: tuple[str, Step]) -> Reply:
    base, step = job
    transport = HttpTransport(base, timeout=REQUEST_TIMEOUT_S)
    if step.operation == "act":
        beneficiary_id, body = step.args
        call = lambda: transport("POST", f"/_sandbox/beneficiaries/{beneficiary_id}/act",  # noqa: E731
                                 {"Content-Type": "application/json"}, body)
    else:
        assert step.shop is not None, f"{step.operation} is sealed with a shop's key"
        kit = shop_client(transport, step.shop)
        operations = {"payer": kit.set_payer, "execute": kit.execute, "cancel": kit.cancel}
        call = lambda: operations[step.operation](*step.args)  # noqa: E731
    transport("GET", "/_sandbox/health", {})  # the connection is open before the race starts
    _barrier.wait(timeout=START_TIMEOUT_S)
    return call()
