"""Runs a scenario: a population added to the sandbox, agents started, SimPy run to the horizon,
figures and expectations read back. The same for both transports; only the platform differs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import simpy

from customer_sim.customers import Customer
from merchant_sim.merchants import Integrator, Merchant, PortalMerchant, ProMerchant
from sandbox.domain.dates import format_date

from . import metrics, spec
from .context import Context
from .platform import Hub, Platform, PlatformError

Progress = Callable[[float, float, dict[str, int]], None]  # (simulated seconds, horizon, figures so far)
PROGRESS_STEPS = 200
# During a run the cyclic garbage collector is off: a run makes millions of short-lived objects, which
# reference counting frees, and keeps most of what it stores, which the collector would only walk again
# and again (a quarter of mois-region: 3.5 to 6.6 s of its 90 to 97 s of CPU in young collections, and
# not one object freed; nor on the busy day). What a run leaves in cycles is collected once it is over.
AGENTS: dict[str, type[Merchant]] = {"portal": PortalMerchant, "pro": ProMerchant}


@dataclass
class Run:
    summary: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def passed(self) -> bool:
        return all(e["passed"] for e in self.summary["expectations"])


def population_request(scenario: spec.Scenario, ctx: Context) -> dict[str, Any]:
    """What the sandbox must hold: every customer (balance drawn from the group's), every shop."""
    people = []
    for group in scenario.customers:
        rng = ctx.rng("population", group.name)
        for _ in range(group.count):
            people.append({"balance": round(group.balance.sample(rng) * 100), "device": rng.random() < group.phone})
    integrators = any(m.channel in ("booking_engine", "psp") for m in scenario.merchants)
    shops = [{"count": m.count, "category": m.category, "viaProvider": m.channel in ("booking_engine", "psp")}
             for m in scenario.merchants]
    return {"seed": ctx.seed, "serviceProviders": 1 if integrators else 0, "pointsOfSale": shops,
            "beneficiaries": people}


def run(scenario: spec.Scenario, platform: Platform, env: simpy.Environment, *, seed: int | None = None,
        progress: Progress | None = None) -> Run:
    metrics.check_names(scenario.expect)
    seed = scenario.seed if seed is None else seed
    wall_start = time.perf_counter()
    customers: dict[str, Customer] = {}
    hub = Hub(env, lambda email: customers[email].id if email in customers else None)
    platform.connect(env, hub)
    ctx = Context(env, platform, hub, seed)
    with _collector_for_a_run():
        try:
            start = platform.now()
            if scenario.rules:
                platform.set_rules(scenario.rules)
            world = platform.populate(population_request(scenario, ctx))
            people = iter(world["beneficiaries"])
            groups: dict[str, list[Customer]] = {}
            for kind in scenario.customers:
                groups[kind.name] = [Customer(ctx, kind, next(people), i) for i in range(kind.count)]
                customers.update({c.email.lower(): c for c in groups[kind.name]})
            everyone = [c for members in groups.values() for c in members]
            shops = iter(world["pointsOfSale"])
            provider = (world["serviceProviders"] or [None])[0]
            for group in scenario.merchants:
                visitors = groups[group.customers] if group.customers else everyone
                for i in range(group.count):  # each merchant lives on in the processes it starts
                    shop = next(shops)
                    common = (ctx, group, shop, i, visitors, scenario.duration)
                    if group.channel in ("booking_engine", "psp"):
                        Integrator(*common, key_holder=provider or shop)
                    else:
                        AGENTS[group.channel](*common)
            for fault in scenario.faults:
                env.process(_fault(ctx, fault))
            if progress is not None:
                env.process(_progress(env, scenario.horizon, ctx, progress))
            env.run(until=scenario.horizon)
            seen = platform.observations()
        finally:
            platform.close()
        # still without the collector: a month's timeline is millions of objects, read back and counted
        figures = metrics.summarize(seen.events, seen.emails, seen.webhooks, ctx.tally)
    summary = {"scenario": scenario.name, "title": scenario.title, "description": scenario.description,
               "seed": seed, "transport": platform.mode, "start": format_date(start),
               "simulated_seconds": float(env.now), "wall_seconds": round(time.perf_counter() - wall_start, 3),
               **figures}
    summary["expectations"] = metrics.check(summary, scenario.expect)
    return Run(summary, seen.events)


@contextmanager
def _collector_for_a_run() -> Iterator[None]:
    """The collector off for the run, and on again after it if it was on. What the run made goes straight to
    the oldest generation (frozen, then thawed), so that the young collections after the run do not walk a
    month's world; not when the caller froze objects itself: thawing those is not the run's to do."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def _fault(ctx: Context, fault: spec.Fault) -> Generator[simpy.Event, Any, None]:
    yield ctx.env.timeout(fault.at)
    try:
        ctx.platform.set_rules(fault.rules)
        ctx.tally["faults"] += 1
    except PlatformError as error:
        ctx.refused("fault_errors", error)


def _progress(env: simpy.Environment, horizon: float, ctx: Context,
              report: Progress) -> Generator[simpy.Event, Any, None]:
    step = max(horizon / PROGRESS_STEPS, 1.0)
    while True:
        report(env.now, horizon, {"visits": ctx.tally["visits"], "heard": ctx.hub.heard})
        yield env.timeout(step)
