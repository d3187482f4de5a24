#!/usr/bin/env python3
"""What the store costs a payment lifecycle in process: SQLite in memory against the MemoryStore.

    .venv/bin/python bench/store_cost.py [--lifecycles 2000] [--rounds 3] [--profile memory|sqlite] [--top 30]

A lifecycle is what a simulation does for one payment, calling the services directly (no
Flask, no HTTP): `kit.create_transaction` with a sealed header, `kit.set_payer`, the
beneficiary's `authorize` in the app (`paying.act`), then `scheduler.advance` by
one second. Each lifecycle has a fresh beneficiary, from a population added beforehand, so
no beneficiary's history grows. Both stores run the same lifecycles on a virtual clock in
the same process, alternating, `--rounds` times; the figure is lifecycles per CPU second of
this process (less disturbed by the rest of the machine than wall time), best round of each. `--profile` then runs cProfile over one more
round on that store and prints the `--top` functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.adapters.memory_store import MEMORY  # noqa: E402
from sandbox.domain import seal  # noqa: E402
from sandbox.domain.requests import Act  # noqa: E402
from sandbox.services import fixtures, kit, paying, scheduler  # noqa: E402
from sandbox.services.sandbox import Sandbox, Settings  # noqa: E402

START = datetime(2026, 6, 1, 8, tzinfo=UTC)
STORES = {"sqlite": None, "memory": MEMORY}  # label -> Settings.db


class Bench:
    """A sandbox on one store with `count` beneficiaries waiting for their first payment."""

    def __init__(self, db: str | None, count: int) -> None:
        self.sandbox = Sandbox(Settings(db=db, clock="virtual", start=START, run_scheduler=False))
        world = fixtures.as_json(self.sandbox)
        self.shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        added = fixtures.add_population(self.sandbox, fixtures.PopulationRequest.parse(
            {"seed": 1, "beneficiaries": [{"count": count}]}))
        self.people = [(b["beneficiaryId"], b["pin"]) for b in added["beneficiaries"]]
        self.done = 0

    def _header(self, fields: list[str]) -> str:
        return seal.security_header(self.shop["keyVersion"], self.shop["key"], fields)

    def lifecycle(self) -> None:
        beneficiary_id, pin = self.people[self.done]
        body = {"merchant": {"shopId": self.shop["shopId"]},
                "order": {"id": f"order-{self.done}", "paymentId": "1", "amount": {"total": 100, "currency": "978"}},
                "paymentMethod": {"captureMode": "NORMAL", "tspdMode": "001"}}
        tx, _, _ = kit.create_transaction(self.sandbox, body, self._header(seal.create_transaction_fields(body)))
        payer = {"payer": {"beneficiaryId": beneficiary_id}}
        kit.set_payer(self.sandbox, tx.transaction_id, payer,
                      self._header(seal.payer_fields(tx.transaction_id, payer)))
        answer = paying.act(self.sandbox, beneficiary_id, Act("authorize", pin=pin))
        assert answer.payment().state == "VALIDATED", answer  # NORMAL capture: validated at once
        scheduler.advance(self.sandbox, 1)
        self.done += 1

    def run(self, count: int) -> float:
        """Lifecycles per CPU second (this process's) over the next `count` lifecycles."""
        started = time.process_time()
        for _ in range(count):
            self.lifecycle()
        return count / (time.process_time() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lifecycles", type=int, default=2000, help="per round and store")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=tuple(STORES), help="profile one more round on this store")
    parser.add_argument("--top", type=int, default=30, help="functions the profile prints")
    args = parser.parse_args(argv)

    warm_up = min(50, args.lifecycles)
    needed = warm_up + args.lifecycles * (args.rounds + (1 if args.profile else 0))
    benches = {label: Bench(db, needed) for label, db in STORES.items()}
    for bench in benches.values():  # imports, caches, first statements
        bench.run(warm_up)
    rates: dict[str, list[float]] = {label: [] for label in STORES}
    for _ in range(args.rounds):
        for label, bench in benches.items():
            rates[label].append(bench.run(args.lifecycles))

    print(f"payment lifecycles (create, payer, authorize, advance 1 s), {args.lifecycles} per round, "
          f"best of {args.rounds}:")
    for label, found in rates.items():
        best = max(found)
        print(f"  {label:<8}{best:8.0f} lifecycles/s  {1000 / best:6.3f} ms each"
              f"   (rounds: {', '.join(f'{r:.0f}' for r in found)})")
    print(f"  memory store / SQLite in memory: {max(rates['memory']) / max(rates['sqlite']):.2f}x")

    if args.profile:
        profile = cProfile.Profile()
        bench = benches[args.profile]
        profile.runcall(bench.run, args.lifecycles)
        stats: Any = pstats.Stats(profile)
        print(f"\nprofile of {args.lifecycles} lifecycles on {args.profile}, by own time:")
        stats.sort_stats("tottime").print_stats(args.top)
    for bench in benches.values():
        bench.sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
