"""`timeScale`: on a wall clock, a campaign runs the sandbox's time faster, so that the cases that wait (250 s
without an answer, 4 h, a night) can be played in real time."""

from __future__ import annotations

from sandbox.domain.dates import parse_date
from tests.conftest import World, make_settings


def test_a_time_scale_speeds_up_a_wall_clock_from_now_on():
    world = World(make_settings(clock="wall", run_scheduler=False))
    try:
        before = parse_date(world.control.clock()["now"])
        campaign = world.control.start_recette("shop", world.shop()["shopId"], ["refused-no-answer"], time_scale=120)

        clock = world.control.clock()
        assert campaign["timeScale"] == 120 and clock["mode"] == "wall" and clock["speed"] == 120
        assert 0 <= (parse_date(clock["now"]) - before).total_seconds() < 120  # it went on from where it was
    finally:
        world.sandbox.stop()
