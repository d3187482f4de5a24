"""What a store keeps of an entity: its `to_dict()` as JSON, datetimes as UTC microseconds.

The SQL store writes this text in each row's `data` column; the MemoryStore keeps data
shaped as `loads(dumps(...))` gives it back, so both return the same thing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": to_us(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$dt" in obj:
            return from_us(obj["$dt"])
        if "$date" in obj:
            return date.fromisoformat(obj["$date"])
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_hook)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch (exact: integer arithmetic on the timedelta)."""
    return (moment - EPOCH) // MICROSECOND


def from_us(value: int) -> datetime:
    """The UTC instant `value` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=value)
