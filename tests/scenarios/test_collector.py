"""A run switches the cyclic garbage collector off while it plays, and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from scenarios import metrics, spec
from tests.scenarios.test_library import run_in_process


@pytest.fixture
def collector() -> Iterator[None]:
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


def _play() -> None:
    assert run_in_process(spec.load(spec.find("gite-qr"))).summary["payments"] > 0


def test_the_collector_is_off_during_a_run_and_on_again_after(collector: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    gc.set_threshold(700, 10, 10)
    seen, summarize = [], metrics.summarize

    def spying(*args: Any) -> dict[str, Any]:  # the run's read-back of what happened: still in the run
        seen.append(gc.isenabled())
        return summarize(*args)

    monkeypatch.setattr(metrics, "summarize", spying)
    _play()
    assert seen == [False]
    assert gc.isenabled() and gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0  # nothing of the run left frozen
    # what the run made is in the oldest generation: the young collections that follow do not walk it
    assert len(gc.get_objects(generation=0)) < 1000 < len(gc.get_objects(generation=2))


def test_a_collector_switched_off_by_the_caller_stays_off(collector: None) -> None:
    gc.disable()
    _play()
    assert not gc.isenabled()


def test_objects_the_caller_froze_stay_frozen(collector: None) -> None:
    kept = [object()]  # a container: tracked by the collector
    gc.freeze()
    _play()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # still in the permanent generation, not thawed
