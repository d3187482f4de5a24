"""What every agent of a run shares: the SimPy environment, the platform, the hub, the tally and the seed."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from .platform import Hub, Message, Platform, PlatformError


@dataclass
class Context:
    env: simpy.Environment
    platform: Platform
    hub: Hub
    seed: int
    tally: Counter[str] = field(default_factory=Counter)  # what agents saw: refusals by code, visits, …

    def rng(self, *names: Any) -> random.Random:
        """Each agent draws from its own stream, so changing one part of a scenario leaves the others alone."""
        return random.Random(":".join(map(str, (self.seed, *names))))

    def wait(self, key: Any, timeout: float | None) -> Generator[simpy.Event, Any, Message | None]:
        """The next message for `key`, or None when `timeout` seconds pass first."""
        got = self.hub.next(key)
        if timeout is None:
            message = yield got
            return message  # type: ignore[no-any-return]
        yield got | self.env.timeout(max(0.0, timeout))
        if got.triggered:
            return got.value  # type: ignore[no-any-return]
        self.hub.cancel_wait(key, got)
        return None

    def refused(self, where: str, error: PlatformError) -> None:
        self.tally[f"{where}.{error.code}"] += 1
