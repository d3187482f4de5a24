"""A sandbox stopped or killed, then started again on the same database file: its time never goes back.

Covers: ARCHITECTURE "Concurrency and durability" (issue 7, item 3), the clock's part.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sandbox.services import fixtures
from sandbox.services.sandbox import Sandbox
from tests.conftest import make_settings

SPEED = 50  # sandbox seconds per real second
AHEAD_S = 0.3  # real seconds a sped-up sandbox runs before it stops: SPEED × this ahead of the real time


def test_a_sped_up_wall_clock_carries_on_after_a_restart_instead_of_going_back(tmp_path: Path) -> None:
    """Regression: a wall clock at --speed N started again from the real time at each boot, so after
    a crash the sandbox's time went back (deadlines overdue at the kill fired dated before events
    already recorded; new objects were dated before older ones)."""
    db = str(tmp_path / "wall.sqlite3")
    first = Sandbox(make_settings(db=db, clock="wall", speed=SPEED))
    time.sleep(AHEAD_S)  # the lead to keep: nothing to poll for
    fixtures.reset(first, None)  # a reset keeps the clock too
    seen = first.clock.now()
    first.stop()

    restarted = Sandbox(make_settings(db=db, clock="wall", speed=SPEED))
    assert restarted.clock.now() >= seen
    assert restarted.clock.now() - seen < timedelta(seconds=SPEED * 60)  # carried on, not jumped
    seen = restarted.clock.now()
    restarted.stop()

    slower = Sandbox(make_settings(db=db, clock="wall", speed=1.0))  # another speed: from where it is
    assert slower.clock.now() >= seen and slower.clock.speed == 1.0
    slower.stop()
