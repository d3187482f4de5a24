"""The request journal (`/_sandbox/requests`): the latest calls a server process answered, newest first.

Kept in memory on the Sandbox object, bounded by the `requestJournalSize` rule: with several server
processes each keeps its own. Entries are plain JSON-ready dicts made by the web layer
(sandbox/web/journal.py); this store only numbers, bounds and filters them.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any


class RequestJournal:
    """A bounded, thread-safe list of request entries; ids (`r1`, `r2`, …) never repeat in a process."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._next = 1

    def new_id(self) -> str:
        """The id of the next entry (given before the entry is made, so a response can point to it)."""
        with self._lock:
            number, self._next = self._next, self._next + 1
        return f"r{number}"

    def add(self, entry: dict[str, Any], bound: int) -> None:
        """Keep `entry` (newest first), dropping the oldest beyond `bound`."""
        with self._lock:
            self._entries.appendleft(entry)
            while len(self._entries) > bound:
                self._entries.pop()

    def clear(self) -> None:
        """Forget every entry (ids go on counting)."""
        with self._lock:
            self._entries.clear()

    def get(self, entry_id: str) -> dict[str, Any] | None:
        """The entry with this id, if still kept."""
        with self._lock:
            return next((e for e in self._entries if e["id"] == entry_id), None)

    def find(self, *, limit: int | None = None, path: str | None = None, status: int | None = None,
             error_code: str | None = None) -> list[dict[str, Any]]:
        """Entries newest first; `path` is a substring of the path, `status` and `error_code` are exact."""
        with self._lock:
            entries = list(self._entries)
        found = [e for e in entries
                 if (path is None or path in e["path"]) and (status is None or e["status"] == status)
                 and (error_code is None or e.get("errorCode") == error_code)]
        return found[:limit] if limit is not None else found

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
