"""Domain events: what happened, in the past tense, recorded by the entities that changed.

They feed the timeline (`/_sandbox/events`), webhooks, emails and pushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    name: str  # e.g. "TransactionAuthorized"
    ref: str  # id of the object it concerns
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


class RecordsEvents:
    """Mixin: an entity keeps the events it raised until the unit of work collects them."""

    def _record(self, name: str, ref: str, at: datetime, **data: Any) -> None:
        self.__dict__.setdefault("_events", []).append(Event(name, ref, at, data))

    def pull_events(self) -> list[Event]:
        events: list[Event] = self.__dict__.pop("_events", [])
        return events
