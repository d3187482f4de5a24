"""Clocks: the only place that reads the real time.

- `WallClock`: real time, optionally sped up (`speed` sandbox seconds per real second); its
  anchor is saved, so a restart carries it on instead of starting it again from the real time.
- `VirtualClock`: time moves only when told (`advance`), so runs are deterministic; only a reset of
  the sandbox puts it back (`rewind`).
- `SimClock`: a simulation's time (scenarios drive the services in-process with SimPy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

WALL, VIRTUAL, SIM = "wall", "virtual", "sim"


class WallClock:
    mode = WALL

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_real = time.time()
        self._origin = start or datetime.now(UTC)

    @classmethod
    def resume(cls, anchor: dict[str, Any] | None, speed: float = 1.0) -> WallClock:
        """Carry on the clock an `anchor` saved, from where it is now, at `speed`.

        A sped-up clock runs ahead of the real time: started again from the real time after a
        restart, the sandbox's time would go back behind what it already recorded."""
        if not anchor:
            return cls(speed)
        clock = cls(speed)
        elapsed = (clock._origin_real - anchor["real"]) * anchor["speed"]
        clock._origin = anchor["now"] + timedelta(seconds=elapsed)
        return clock

    def anchor(self) -> dict[str, Any]:
        """What `resume` needs: one instant in real time and in sandbox time, and the speed."""
        return {"real": self._origin_real, "now": self._origin, "speed": self.speed}

    def now(self) -> datetime:
        elapsed = (time.time() - self._origin_real) * self.speed
        return self._origin + timedelta(seconds=elapsed)

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.speed)


class VirtualClock:
    mode = VIRTUAL
    speed = 1.0

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            if moment < self._now:
                raise ValueError("a virtual clock never goes back")
            self._now = moment

    def rewind(self, moment: datetime) -> None:
        """Put the clock at `moment`, even back in time: only for a reset, which re-creates the whole world."""
        with self._lock:
            self._now = moment


class SimClock:
    """A simulation's clock: `start` plus the seconds its environment has run (`env.now` for SimPy).

    It tells the time in UTC whatever zone `start` is in: the same instants, and what the stores keep
    (UTC) needs no conversion, which a simulation's many saves would otherwise pay for each time."""

    mode = SIM
    speed = 1.0

    def __init__(self, start: datetime, seconds: Callable[[], float]) -> None:
        self._start, self._seconds = start.astimezone(UTC), seconds
        self._at: float | None = None  # the seconds of the last call, and its answer:
        self._now = self._start  # many calls fall at the same simulated instant

    def now(self) -> datetime:
        seconds = self._seconds()
        if seconds != self._at:
            self._at, self._now = seconds, self._start + timedelta(seconds=seconds)
        return self._now


Clock = WallClock | VirtualClock | SimClock
