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
# During a run: a young-generation collection every 262,144 new objects instead of 700. A run makes
# millions of short-lived objects and keeps most of what it stores; the default thresholds had the
# collector re-scan that growing store over and over (a sixth of a busy day's time), and fewer, larger
# young collections find more of the short-lived ones already gone (a 10-day world: 1.8 -> 0.9 s).
RUN_GC_THRESHOLDS = (1 << 18, 20, 100)
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
            gc.freeze()  # the population and the agents live as long as the run: out of the collector's sight
            env.run(until=scenario.horizon)
            gc.freeze()  # the world as it ends is only read from now on: the read-back's collections skip it
            seen = platform.observations()
        finally:
            platform.close()
        # still with the run's collector: a month's timeline is millions of objects, which the default
        # thresholds would have the collector walk again and again while they are read and counted
        figures = metrics.summarize(seen.events, seen.emails, seen.webhooks, ctx.tally)
    summary = {"scenario": scenario.name, "title": scenario.title, "description": scenario.description,
               "seed": seed, "transport": platform.mode, "start": format_date(start),
               "simulated_seconds": float(env.now), "wall_seconds": round(time.perf_counter() - wall_start, 3),
               **figures}
    summary["expectations"] = metrics.check(summary, scenario.expect)
    return Run(summary, seen.events)


@contextmanager
def _collector_for_a_run() -> Iterator[None]:
    """Larger collector thresholds for the run; on leaving, the previous ones, and what the run froze thawed
    (unless the caller had frozen objects itself: thawing those is not the run's to do)."""
    thresholds, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not frozen_before:
            gc.unfreeze()


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
