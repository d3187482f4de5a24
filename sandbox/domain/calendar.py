"""ANCV's working days: no weekends, France's public holidays, ANCV's own closed days.

Public holidays come from the maintained `holidays` library (metropolitan France); ANCV adds
Whit Monday (Kit §5.2, "Jours ANCV"), which it closes whether or not the law makes it a holiday.
A sandbox can close more days or open some (`closedDays`, `openDays` in its rules), to test a
strike day or a calendar ANCV changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
from dateutil.easter import easter

WHIT_MONDAY_AFTER_EASTER = timedelta(days=50)


@lru_cache(maxsize=64)
def ancv_days(year: int) -> frozenset[date]:
    """Days ANCV closes besides public holidays (Kit §5.2: Whit Monday; a fact of the year, so cached)."""
    return frozenset({easter(year) + WHIT_MONDAY_AFTER_EASTER})


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    """France's public holidays of `year` (an immutable fact, so cached)."""
    return frozenset(holidays.country_holidays("FR", years=year))


@dataclass(frozen=True)
class WorkingDays:
    closed: frozenset[date] = field(default_factory=frozenset)  # closed on top of the rule
    opened: frozenset[date] = field(default_factory=frozenset)  # open despite the rule

    @classmethod
    def of(cls, closed: Iterable[str] = (), opened: Iterable[str] = ()) -> WorkingDays:
        """From ISO dates (`2026-05-25`), as the sandbox's rules hold them."""
        return cls(frozenset(map(date.fromisoformat, closed)), frozenset(map(date.fromisoformat, opened)))

    def is_working_day(self, day: date) -> bool:
        if day in self.opened:
            return True
        if day in self.closed or day.weekday() >= 5:
            return False
        return day not in public_holidays(day.year) and day not in ancv_days(day.year)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add(self, day: date, count: int) -> date:
        """`count` working days after `day` (`day` itself need not be one)."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day
