"""Shards: a scenario split into independent worlds, each a sandbox of its own, and their results as one run.

A scenario that declares `shards: N` (or is run with `simulate --shards N`) becomes N worlds. Each group of
merchants and each group of customers is split evenly, the remainder going to the first shards: 10 merchants
in 4 shards are 3, 3, 2 and 2. A merchant's visitors come from its own world, and the rules and faults apply
in every world. Nothing crosses from one world to another, so they can run in separate processes.

Seeds: with one shard the world is the scenario itself, with the run's seed. With N > 1, shard k (from 0)
runs with `shard_seed(seed, k)`: the first 62 bits of SHA-256 of the text `"{seed}/shard/{k}"`. That value
depends on nothing else (not on N, the worker count or the machine), so the same seed and the same shard
count give the same worlds, hence the same merged summary.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from . import metrics, spec


def shard_seed(seed: int, shard: int) -> int:
    """The seed of shard `shard` (from 0) of a run seeded `seed` split into several shards."""
    digest = hashlib.sha256(f"{seed}/shard/{shard}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def seeds(seed: int, shards: int) -> list[int]:
    """Each world's seed: the run's own for a single world, else one derived per shard."""
    return [seed] if shards == 1 else [shard_seed(seed, k) for k in range(shards)]


def part(count: int, shards: int, shard: int) -> int:
    """Shard `shard`'s share of `count`: an even split, the remainder to the first shards."""
    return count // shards + (1 if shard < count % shards else 0)


def world(scenario: spec.Scenario, shard: int) -> spec.Scenario:
    """Shard `shard` of `scenario`: its share of each group (groups left empty dropped), no expectations (those
    are checked on the merged summary), one shard."""
    n = scenario.shards
    if n == 1:
        return replace(scenario, expect=())
    customers = tuple(replace(g, count=part(g.count, n, shard)) for g in scenario.customers)
    merchants = tuple(replace(g, count=c) for g in scenario.merchants if (c := part(g.count, n, shard)))
    return replace(scenario, customers=customers, merchants=merchants, expect=(), shards=1)


def merge(scenario: spec.Scenario, seed: int, summaries: Sequence[dict[str, Any]],
          wall_seconds: float) -> dict[str, Any]:
    """One summary for the worlds' summaries (in shard order): figures summed, expectations checked on the sums."""
    first = summaries[0]
    summary: dict[str, Any] = {"scenario": scenario.name, "title": scenario.title,
                               "description": scenario.description, "seed": seed}
    if len(summaries) > 1:
        summary.update(shards=len(summaries), shard_seeds=[s["seed"] for s in summaries])
    summary |= {"transport": first["transport"], "start": first["start"],
                "simulated_seconds": max(s["simulated_seconds"] for s in summaries),
                "wall_seconds": round(wall_seconds, 3), **metrics.merge(summaries)}
    summary["expectations"] = metrics.check(summary, scenario.expect)
    return summary


def merge_events(timelines: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The worlds' timelines as one, in time order (ties in shard order); each ref is prefixed with its shard
    (`2:…`), since two sandboxes may draw the same id."""
    if len(timelines) == 1:
        return timelines[0]
    from .report import moment

    marked = [[{**e, "ref": f"{k}:{e['ref']}"} for e in events] for k, events in enumerate(timelines)]
    return list(heapq.merge(*marked, key=lambda e: moment(e["at"])))
