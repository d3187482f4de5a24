"""Entities as plain data for storage: dicts and lists, nothing copied that need not be.

An entity's nested values (a payer, an authorization, an allocation...) are frozen records whose
datetimes are in UTC, and its lists and dicts hold only immutable values (except the free JSON data
a caller gave, named in FREE_DATA): so a copy of its fields with its lists and dicts copied is a
private copy, which is what the memory store keeps and hands out."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from .dates import utc

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_R = TypeVar("_R")
_LEAVES = frozenset({str, int, float, bool, type(None), datetime, date})  # most values: returned at once
FREE_DATA = frozenset({"application_context"})  # fields holding data of any JSON shape, as the caller gave it


@cache
def field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, in order."""
    return tuple(f.name for f in fields(cls))


def utc_fields(record: Any, *names: str) -> None:
    """In a frozen record's `__post_init__`: its datetimes put in UTC (what a store reads back)."""
    for name in names:
        moment = getattr(record, name)
        if moment is not None and utc(moment) is not moment:
            object.__setattr__(record, name, utc(moment))


def with_values(record: _R, **changes: Any) -> _R:
    """A frozen record with some fields changed, none a datetime: what `dataclasses.replace` makes, for a
    quarter of its cost, its `__post_init__` (which puts datetimes in UTC) having nothing to do again."""
    assert record.__dict__.keys() >= changes.keys() and datetime not in map(type, changes.values())
    changed = object.__new__(type(record))
    changed.__dict__.update(record.__dict__, **changes)
    return changed


def plain_fields(record: DataclassInstance) -> dict[str, Any]:
    """A dataclass entity's fields as a dict (its `to_dict`), each value made plain by `to_plain`."""
    return {name: to_plain(getattr(record, name)) for name in field_names(type(record))}


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts, recursively; unlike `dataclasses.asdict`, immutable values are not deep-copied."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return plain_fields(value)
    return value
