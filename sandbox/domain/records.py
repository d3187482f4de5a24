"""Entities as plain data for storage: dicts and lists, nothing copied that need not be."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_LEAVES = frozenset({str, int, float, bool, type(None), datetime, date})  # most values: returned at once


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def plain_fields(record: DataclassInstance) -> dict[str, Any]:
    """A dataclass entity's fields as a dict (its `to_dict`), each value made plain by `to_plain`."""
    return {name: to_plain(getattr(record, name)) for name in _field_names(type(record))}


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts, recursively; unlike `dataclasses.asdict`, immutable values are not deep-copied."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return plain_fields(value)
    return value
