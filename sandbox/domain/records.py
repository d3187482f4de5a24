"""Entities as plain data for storage: dicts and lists, nothing copied that need not be."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts, recursively; unlike `dataclasses.asdict`, immutable values are not deep-copied."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    return value
