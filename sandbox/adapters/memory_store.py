"""Persistence in Python data structures: the SQL store's interface and semantics, without SQL.

For simulations that drive the services in process at high speed: `Sandbox(settings,
store=MemoryStore())`, or `db="memory"` (`--db memory`) through `make_store`. Nothing
outlives the process.

It keeps what the SQL store would read back. An entity is kept as a snapshot of its fields:
the domain makes its nested values frozen records with UTC datetimes, and its lists and
dicts hold only immutable values (domain/records.py), so the snapshot copies those lists and
dicts, puts its own datetimes in UTC, and shares the rest; each read copies the snapshot
the same way, so mutating an object without saving it changes nothing. The free JSON data a
caller gave (`FREE_DATA`), and the rest of what the store keeps (events, webhooks, journals,
meta), is kept as `loads(dumps(...))` would shape it (datetimes in UTC, lists for tuples,
JSON's keys). Rows keep their insertion number, which stands in for SQLite's rowid where the
SQL store's answer depends on it (first of several matches, ties in `created_us`).

A session holds the store's lock from start to end, like SQLite's BEGIN IMMEDIATE: one
transaction at a time. It writes in place and logs what each write replaced; if the block
raises, the log is replayed backwards, so nothing of a failed session is kept, and ids
handed out inside it are handed out again (as AUTOINCREMENT does after a ROLLBACK).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import is_dataclass
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from types import UnionType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, Union, get_args, get_origin, get_type_hints

from ..domain.accounts import MerchantAccount
from ..domain.back_office import Transfer
from ..domain.beneficiaries import Allocation, Beneficiary, Device
from ..domain.events import Event
from ..domain.merchants import PointOfSale, ServiceProvider
from ..domain.pre_transactions import Abort, PreTransaction
from ..domain.records import FREE_DATA, field_names
from ..domain.transactions import Authorization, Cancellation, Payer, Refund, Transaction
from .session_rules import OrderParts, SessionRules, order_parts
from .store_codec import dumps, from_us, loads, to_us

if TYPE_CHECKING:
    from ..services import ports

MEMORY = "memory"  # the `db` setting that selects this store
_E = TypeVar("_E")
_AS_IS = frozenset({str, int, float, bool, type(None), date})  # values the SQL store reads back unchanged
_SHARED = frozenset({str, int, float, bool, type(None)})  # declared field types whose values a snapshot shares
_CONTAINERS = frozenset({dict, tuple})  # how stored data holds JSON's objects and arrays
_STR = frozenset({str})  # the keys JSON keeps as they are
# the domain's frozen records, shared by snapshots (another frozen dataclass is recognised, only more slowly)
_FROZEN = frozenset({Payer, Authorization, Cancellation, Refund, Abort, Allocation, Device})


def make_store(db: str | None) -> ports.Store:
    """The store a `db` setting names: "memory" for this one, anything else as `database_url` reads it.

    SQLAlchemy is imported only for an SQL store: it is most of what a simulation in memory would
    otherwise spend starting up (about 1 s of processor)."""
    if db == MEMORY:
        return MemoryStore()
    from .sql_store import SqlStore

    return SqlStore(db)


# --- plain data, as the SQL store's JSON gives it back ----------------------------------------

def _plain(value: Any) -> Any:
    """`value` as `loads(dumps(value))` would return it, but with tuples for lists: what the store keeps.

    Tuples of immutable values, and dicts of those, drop out of the garbage collector's sight,
    which matters once the store holds many objects; `_copy` gives the lists back."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        if _STR.issuperset(map(type, value)) and _AS_IS.issuperset(map(type, value.values())):
            return value.copy()  # str keys and immutable leaves (most data): nothing to convert
        return {key if type(key) is str else _json_key(key): item if type(item) in _AS_IS else _plain(item)
                for key, item in value.items()}
    if kind is datetime:
        return value if value.tzinfo is UTC and not value.fold else _utc(value)
    if kind is list or kind is tuple:
        return tuple([item if type(item) in _AS_IS else _plain(item) for item in value])
    return loads(dumps(value))  # the rest (enums, subclasses, what JSON refuses) exactly as the SQL store does


def _json_key(key: Any) -> str:
    """What JSON makes of a dict key that is not a str (1 -> "1", None -> "null"); TypeError for others."""
    return next(iter(json.loads(json.dumps({key: None}))))


def _copy(data: Any) -> Any:
    """Stored data as the SQL store reads it: new dicts and lists around the same immutable leaves."""
    if type(data) is dict:
        if _CONTAINERS.isdisjoint(map(type, data.values())):
            return data.copy()  # no nested container: one C-level copy
        return {key: _copy(item) if type(item) in _CONTAINERS else item for key, item in data.items()}
    if type(data) is tuple:
        return [_copy(item) if type(item) in _CONTAINERS else item for item in data]
    return data


# --- entities, as snapshots ----------------------------------------------------------------------------

class _Snapshot(NamedTuple):
    fields: dict[str, Any]  # field name -> value: shared when immutable, else the store's own copy
    copied: tuple[str, ...]  # the fields each reader gets a copy of (lists, dicts, free data)


def _snapshot(entity: Any) -> _Snapshot:
    """What the store keeps of an entity: its fields, lists and dicts copied, datetimes in UTC."""
    fields = entity.__dict__.copy()
    fields.pop("_events", None)  # what the entity raised and the unit of work has not collected yet
    cls: type = type(entity)
    declared, watched = _plan(cls)
    copied: list[str] = []
    # only the fields whose declared type may hold a list, a dict or a datetime, when the entity has just its
    # declared fields (as many attributes: nothing deletes one; any other count, every attribute is looked at)
    for name in watched if len(fields) == declared else list(fields):
        value = fields[name]
        kind = type(value)
        if kind is datetime:  # first: most of the fields looked at are dates
            if value.tzinfo is not UTC or value.fold:
                fields[name] = _utc(value)
            continue
        if kind in _AS_IS or kind in _FROZEN:
            continue
        if name in FREE_DATA:
            fields[name] = _plain(value)
        elif kind is list or kind is tuple:  # the SQL store reads a JSON array back as a list
            fields[name] = list(value)
        elif kind is dict:
            fields[name] = dict(value)
        elif getattr(getattr(kind, "__dataclass_params__", None), "frozen", False):
            continue  # a frozen record: shared (the domain keeps its datetimes in UTC)
        else:
            raise TypeError(f"cannot store {cls.__name__}.{name}: a {kind.__name__} is not a frozen value")
        copied.append(name)
    return _Snapshot(fields, tuple(copied))


@cache
def _plan(cls: type) -> tuple[int, tuple[str, ...]]:
    """How many fields an entity class declares, and those `_snapshot` must look at: all but the ones whose
    declared type admits only values it shares as they are (str, int, float, bool, None, frozen records)."""
    if not is_dataclass(cls):
        return -1, ()  # never the length of a __dict__: every attribute is looked at
    try:
        hints = get_type_hints(cls)
    except (NameError, TypeError):  # an annotation that does not resolve: that field is looked at
        hints = {}
    names = field_names(cls)
    return len(names), tuple(name for name in names if not _shared_as_is(hints.get(name, Any)))


def _shared_as_is(hint: Any) -> bool:
    """Whether every value of the type `hint` is immutable and kept as it is (no datetime: it may need UTC)."""
    members = get_args(hint) if isinstance(hint, UnionType) or get_origin(hint) is Union else (hint,)
    return all(member in _SHARED or (is_dataclass(member) and isinstance(member, type)
                                     and member.__dataclass_params__.frozen)  # type: ignore[attr-defined]
               for member in members)


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC, fold 0: what the SQL store reads back (TypeError for a naive datetime)."""
    zone = moment.tzinfo
    if zone is not None and zone is not UTC and zone.utcoffset(moment) is not None:
        return moment.astimezone(UTC)
    return from_us(to_us(moment))


def _entity(cls: type[_E], snapshot: _Snapshot) -> _E:
    """A private copy of a stored entity."""
    values = snapshot.fields.copy()
    for name in snapshot.copied:
        value = values[name]
        values[name] = _copy(value) if name in FREE_DATA else list(value) if type(value) is list else dict(value)
    entity = cls.__new__(cls)
    entity.__dict__ = values
    return entity


# --- tables ------------------------------------------------------------------------------------

class _Row(NamedTuple):
    rowid: int  # insertion number: the order SQLite's indexes give equal keys
    data: Any  # plain data
    columns: dict[str, Any]  # what the SQL table has as columns besides the data (for indexes and listings)
    entries: tuple[Any, ...]  # its key in each of the table's indexes (None: absent from that index)


class _Table:
    """Rows by primary key, with an index per tuple of columns the store looks rows up by."""

    def __init__(self, *indexes: tuple[str, ...]) -> None:
        self.rows: dict[Any, _Row] = {}
        self._positions = {columns: position for position, columns in enumerate(indexes)}
        self._getters = [(itemgetter(*columns), len(columns) > 1) for columns in indexes]
        # index entry -> primary keys, as dict keys: a set would be one more object for the garbage collector
        self._indexes: list[dict[Any, dict[Any, None]]] = [{} for _ in indexes]
        self._rowids = itertools.count(1)

    def put(self, key: Any, data: Any, columns: dict[str, Any] | None = None) -> _Row | None:
        """Insert or replace; returns the row it replaced."""
        columns = columns or {}
        old = self.rows.get(key)
        entries = self._entries(columns) if self._getters else ()
        if old is None:
            row = _Row(next(self._rowids), data, columns, entries)
            self.rows[key] = row
            self._reindex(key, None, row)
        else:
            self.rows[key] = _Row(old.rowid, data, columns, entries)
            if entries != old.entries:  # most saves move no index entry (one comparison instead of one per index)
                self._reindex(key, old, self.rows[key])
        return old

    def restore(self, key: Any, row: _Row | None) -> None:
        """Put back what `put` replaced (None: the key was absent)."""
        current = self.rows.get(key)
        if row is None:
            self.rows.pop(key, None)
        else:
            self.rows[key] = row
        self._reindex(key, current, row)

    def _entries(self, columns: dict[str, Any]) -> tuple[Any, ...]:
        """The row's key in each index; None when a column is NULL (`= ?` never matches NULL)."""
        return tuple([None if (None in entry if several else entry is None) else entry
                      for getter, several in self._getters for entry in (getter(columns),)])

    def _reindex(self, key: Any, old: _Row | None, new: _Row | None) -> None:
        for position, index in enumerate(self._indexes):
            before = old.entries[position] if old else None
            after = new.entries[position] if new else None
            if before == after:
                continue
            if before is not None:
                keys = index[before]
                del keys[key]
                if not keys:
                    del index[before]
            if after is not None:
                index.setdefault(after, {})[key] = None

    def _keys(self, columns: tuple[str, ...], values: tuple[Any, ...]) -> dict[Any, None]:
        return self._indexes[self._positions[columns]].get(values if len(values) > 1 else values[0], {})

    def first(self, columns: tuple[str, ...], *values: Any) -> _Row | None:
        """The earliest inserted row whose `columns` equal `values`, as SQLite's index would give it."""
        keys = self._keys(columns, values)
        if len(keys) == 1:
            return self.rows[next(iter(keys))]
        return min((self.rows[key] for key in keys), key=lambda row: row.rowid, default=None)

    def where(self, columns: tuple[str, ...], *values: Any) -> list[_Row]:
        """Every row whose `columns` equal `values`, in insertion order."""
        return sorted((self.rows[key] for key in self._keys(columns, values)), key=lambda row: row.rowid)

    def by_key(self) -> list[_Row]:
        """Every row in primary key order."""
        return [row for _, row in sorted(self.rows.items(), key=lambda item: item[0])]


def _order_key(table: _Table, key: str, order: OrderParts | None) -> tuple[Any, ...] | None:
    """`order_parts(*order)`, or the row's own when its order did not change (it never does once created).

    The parts themselves, not the SQL column's digest of them: equal exactly when the digests are
    (ints, None and strs, as JSON would tell them apart), and no JSON text or SHA-256 to make."""
    row = table.rows.get(key)
    if row is not None and row.columns["order"] == order:
        return row.columns["order_key"]
    return order_parts(*order) if order is not None else None


def _by_creation(rows: list[_Row]) -> list[_Row]:
    """ORDER BY created_us, rowid breaking ties."""
    return sorted(rows, key=lambda row: (row.columns["created_us"], row.rowid))


# --- the store ------------------------------------------------------------------------------------

class MemoryStore:
    """Every table as Python data; hands out sessions, one transaction each, one at a time."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # webhook and SMTP threads record their attempts through sessions
        self._in_session = False
        self._clear()
        self.next_seq = 1  # events and webhooks: numbers are never reused, not even after drop_all
        self.next_delivery_id = 1

    def _clear(self) -> None:
        self.points_of_sale = _Table(("key_version",))
        self.service_providers = _Table(("key_version",))
        self.accounts = _Table()
        self.beneficiaries = _Table(("email",))
        self.transactions = _Table(("order_key",), ("beneficiary_id", "state"), ("beneficiary_id",), ("shop_id",),
                                   ("state",))
        self.pre_transactions = _Table(("order_key",), ("shop_id",), ("contact_beneficiary_id", "state"))
        self.webhooks = _Table()
        self.transfers = _Table(("shop_id",))
        self.journals = _Table()
        self.meta = _Table()
        self.timers: dict[tuple[str, str], int] = {}  # (kind, ref) -> due in microseconds
        self.timer_heap: list[tuple[int, str, str]] = []  # (due, kind, ref); stale entries are skipped
        self.events: list[tuple[int, datetime, str, str, Any]] = []  # (seq, at, name, ref, data)
        self.emails: list[tuple[datetime, str, str, str, str]] = []  # (at, recipient, subject, text, html)

    def session(self) -> MemorySession:
        """`with store.session() as s:` one transaction, the lock held, rolled back if the block raises."""
        return MemorySession(self)

    # The session's undo log calls these: methods of the store, not of the session, so that a session
    # is no reference cycle (one through its own log) and is freed as soon as it ends, without the collector.
    def restore_timer(self, key: tuple[str, str], due_us: int | None) -> None:
        """Put back a timer as it was (None: absent)."""
        if due_us is None:
            self.timers.pop(key, None)
        else:
            self.timers[key] = due_us
            self.push_timer(due_us, *key)

    def push_timer(self, due_us: int, kind: str, ref: str) -> None:
        """Add to the heap; rebuild it when stale entries outnumber the live ones."""
        heapq.heappush(self.timer_heap, (due_us, kind, ref))
        if len(self.timer_heap) > 2 * len(self.timers) + 64:
            self.timer_heap = [(due, kind, ref) for (kind, ref), due in self.timers.items()]
            heapq.heapify(self.timer_heap)

    @contextmanager
    def starting(self) -> Iterator[bool]:
        """One process owns the data: always alone."""
        yield True

    def drop_all(self) -> None:
        """Empty every table; event and webhook numbers go on from where they were."""
        with self.session():
            self._clear()

    def close(self) -> None:
        """Nothing to release: the data lives as long as this object."""


class MemorySession(SessionRules):
    """Reads and writes inside one transaction of a MemoryStore; `MemoryStore.session()` returns it unopened.

    It is its own context manager, a plain one (a generator-based one costs more, and a
    simulation opens tens of thousands of sessions): entering takes the store's lock."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self._store = store
        self._undo: list[tuple[Callable[[Any, Any], None], Any, Any]] = []  # (restore, key, what was there)

    def __enter__(self) -> MemorySession:
        store = self._store
        store.lock.acquire()
        if store._in_session:  # as SQLite refuses a BEGIN inside a transaction
            store.lock.release()
            raise RuntimeError("a store session is already open in this thread")
        store._in_session = True
        self._marks = (len(store.events), len(store.emails), store.next_seq, store.next_delivery_id)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        store = self._store
        try:
            if exc_type is not None:
                self._roll_back()
        finally:
            store._in_session = False
            store.lock.release()

    def _order_index(self, shop_id: int, service_provider_id: int | None, when: datetime, order_id: str,
                     payment_id: str) -> tuple[Any, ...]:
        """The parts themselves, as `_order_key` keeps them."""
        return order_parts(shop_id, service_provider_id, when, order_id, payment_id)

    def _put(self, table: _Table, key: Any, data: Any, columns: dict[str, Any] | None = None) -> None:
        self._undo.append((table.restore, key, table.put(key, data, columns)))

    def _roll_back(self) -> None:
        store = self._store
        for restore, key, before in reversed(self._undo):
            restore(key, before)
        events, emails, store.next_seq, store.next_delivery_id = self._marks
        del store.events[events:]
        del store.emails[emails:]

    # --- merchants ---------------------------------------------------------------------
    def _put_point_of_sale(self, pos: PointOfSale) -> None:
        self._put(self._store.points_of_sale, pos.shop_id, _snapshot(pos), {"key_version": pos.key_version})

    def _stored_point_of_sale(self, shop_id: int) -> PointOfSale | None:
        row = self._store.points_of_sale.rows.get(shop_id)
        return _entity(PointOfSale, row.data) if row else None

    def points_of_sale(self) -> list[PointOfSale]:
        return [_entity(PointOfSale, row.data) for row in self._store.points_of_sale.by_key()]

    def points_of_sale_with_key_version(self, key_version: str) -> list[PointOfSale]:
        rows = self._store.points_of_sale.where(("key_version",), key_version)
        return [_entity(PointOfSale, row.data) for row in rows]

    def _put_service_provider(self, sp: ServiceProvider) -> None:
        self._put(self._store.service_providers, sp.service_provider_id, _snapshot(sp),
                  {"key_version": sp.key_version})

    def _stored_service_provider(self, service_provider_id: int) -> ServiceProvider | None:
        row = self._store.service_providers.rows.get(service_provider_id)
        return _entity(ServiceProvider, row.data) if row else None

    def service_providers(self) -> list[ServiceProvider]:
        return [_entity(ServiceProvider, row.data) for row in self._store.service_providers.by_key()]

    def service_providers_with_key_version(self, key_version: str) -> list[ServiceProvider]:
        rows = self._store.service_providers.where(("key_version",), key_version)
        return [_entity(ServiceProvider, row.data) for row in rows]

    # --- merchant accounts -----------------------------------------------------------------
    def save_account(self, account: MerchantAccount) -> None:
        self._put(self._store.accounts, account.login, _snapshot(account))

    def account(self, login: str) -> MerchantAccount | None:
        row = self._store.accounts.rows.get(login)
        return _entity(MerchantAccount, row.data) if row else None

    def accounts(self) -> list[MerchantAccount]:
        return [_entity(MerchantAccount, row.data) for row in self._store.accounts.by_key()]

    # --- beneficiaries -------------------------------------------------------------------
    def _put_beneficiary(self, beneficiary: Beneficiary, email_key: str) -> None:
        self._put(self._store.beneficiaries, beneficiary.beneficiary_id, _snapshot(beneficiary),
                  {"email": email_key})

    def beneficiary(self, beneficiary_id: str) -> Beneficiary | None:
        row = self._store.beneficiaries.rows.get(beneficiary_id)
        return _entity(Beneficiary, row.data) if row else None

    def _beneficiary_with_email(self, email_key: str) -> Beneficiary | None:
        row = self._store.beneficiaries.first(("email",), email_key)
        return _entity(Beneficiary, row.data) if row else None

    def beneficiaries(self) -> list[Beneficiary]:
        return [_entity(Beneficiary, row.data) for row in self._store.beneficiaries.by_key()]

    # --- transactions ----------------------------------------------------------------------
    def _put_transaction(self, tx: Transaction, order: OrderParts | None) -> None:
        table = self._store.transactions
        self._put(table, tx.transaction_id, _snapshot(tx), {
            "shop_id": tx.shop_id, "beneficiary_id": tx.beneficiary_id, "state": tx.state,
            "order": order, "order_key": _order_key(table, tx.transaction_id, order),
            "created_us": to_us(tx.creation_date)})

    def transaction(self, transaction_id: str) -> Transaction | None:
        row = self._store.transactions.rows.get(transaction_id)
        return _entity(Transaction, row.data) if row else None

    def _transaction_with_order_key(self, key: Any) -> Transaction | None:
        row = self._store.transactions.first(("order_key",), key)
        return _entity(Transaction, row.data) if row else None

    def _transaction_of_in_state(self, beneficiary_id: str, state: str) -> Transaction | None:
        row = self._store.transactions.first(("beneficiary_id", "state"), beneficiary_id, state)
        return _entity(Transaction, row.data) if row else None

    def transactions(self, shop_ids: list[int] | None = None) -> list[Transaction]:
        table = self._store.transactions
        if shop_ids is None:
            rows = list(table.rows.values())
        else:
            rows = [row for shop_id in set(shop_ids) for row in table.where(("shop_id",), shop_id)]
        rows.sort(key=lambda row: (row.columns["created_us"], row.data.fields["transaction_id"]))
        return [_entity(Transaction, row.data) for row in rows]

    def transactions_of_beneficiary(self, beneficiary_id: str) -> list[Transaction]:
        rows = self._store.transactions.where(("beneficiary_id",), beneficiary_id)
        rows.sort(key=lambda row: (row.columns["created_us"], row.data.fields["transaction_id"]))
        return [_entity(Transaction, row.data) for row in rows]

    def count_transactions(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._store.transactions.rows.values():
            counts[row.columns["state"]] = counts.get(row.columns["state"], 0) + 1
        return dict(sorted(counts.items()))

    def _transactions_in_state(self, state: str, created_before: datetime | None) -> list[Transaction]:
        rows = self._store.transactions.where(("state",), state)
        if created_before is not None:  # before any copy: most of the rows may be left out
            limit = to_us(created_before)
            rows = [row for row in rows if row.columns["created_us"] < limit]
        return [_entity(Transaction, row.data) for row in rows]

    # --- pre-transactions ----------------------------------------------------------------------
    def _put_pre_transaction(self, pre: PreTransaction, order: OrderParts) -> None:
        table = self._store.pre_transactions
        self._put(table, pre.pre_transaction_id, _snapshot(pre), {
            "shop_id": pre.shop_id, "state": pre.state, "contact_beneficiary_id": pre.contact_beneficiary_id,
            "order": order, "order_key": _order_key(table, pre.pre_transaction_id, order),
            "created_us": to_us(pre.creation_date)})

    def pre_transaction(self, pre_transaction_id: str) -> PreTransaction | None:
        row = self._store.pre_transactions.rows.get(pre_transaction_id)
        return _entity(PreTransaction, row.data) if row else None

    def _pre_transaction_with_order_key(self, key: Any) -> PreTransaction | None:
        row = self._store.pre_transactions.first(("order_key",), key)
        return _entity(PreTransaction, row.data) if row else None

    def pre_transactions(self, shop_ids: list[int] | None = None) -> list[PreTransaction]:
        table = self._store.pre_transactions
        if shop_ids is None:
            rows = list(table.rows.values())
        else:
            rows = [row for shop_id in set(shop_ids) for row in table.where(("shop_id",), shop_id)]
        return [_entity(PreTransaction, row.data) for row in _by_creation(rows)]

    def _pre_transactions_contacting(self, beneficiary_id: str, state: str) -> list[PreTransaction]:
        rows = self._store.pre_transactions.where(("contact_beneficiary_id", "state"), beneficiary_id, state)
        return [_entity(PreTransaction, row.data) for row in _by_creation(rows)]

    # --- timers ----------------------------------------------------------------------------------
    def _put_timer(self, kind: str, ref: str, due: datetime) -> None:
        store = self._store
        key = (kind, ref)
        before = store.timers.get(key)
        due_us = to_us(due)
        if due_us != before:
            store.timers[key] = due_us
            store.push_timer(due_us, kind, ref)
            self._undo.append((store.restore_timer, key, before))

    def _delete_timer(self, kind: str, ref: str) -> None:
        key = (kind, ref)
        before = self._store.timers.pop(key, None)
        if before is not None:
            self._undo.append((self._store.restore_timer, key, before))

    def next_timer(self) -> tuple[datetime, str, str] | None:
        store = self._store
        heap = store.timer_heap
        while heap:
            due_us, kind, ref = heap[0]
            if store.timers.get((kind, ref)) == due_us:
                return from_us(due_us), kind, ref
            heapq.heappop(heap)  # moved or deleted since it was pushed
        return None

    def timer(self, kind: str, ref: str) -> datetime | None:
        due_us = self._store.timers.get((kind, ref))
        return from_us(due_us) if due_us is not None else None

    def timers(self) -> list[tuple[datetime, str, str]]:
        ordered = sorted((due_us, kind, ref) for (kind, ref), due_us in self._store.timers.items())
        return [(from_us(due_us), kind, ref) for due_us, kind, ref in ordered]

    # --- events, webhooks, emails ------------------------------------------------------------------
    def add_events(self, new_events: list[Event]) -> None:
        store = self._store
        events, seq = store.events, store.next_seq
        for e in new_events:
            events.append((seq, _plain(e.at), e.name, e.ref, _plain(e.data)))
            seq += 1
        store.next_seq = seq

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        events = self._store.events
        start = bisect.bisect_right(events, after, key=lambda e: e[0])
        return [{"seq": seq, "at": at, "type": name, "ref": ref, "data": _copy(data)}
                for seq, at, name, ref, data in events[start:]]

    def add_webhook(self, url: str, body: dict[str, Any], now: datetime) -> int:
        store = self._store
        delivery_id = store.next_delivery_id
        self._put(store.webhooks, delivery_id, (url, "pending", _plain(now), _plain(body), ()))
        store.next_delivery_id += 1
        return delivery_id

    def record_webhook_attempts(self, delivery_id: int, state: str, attempts: list[dict[str, Any]]) -> None:
        row = self._store.webhooks.rows.get(delivery_id)
        if row is not None:
            url, _, created_at, body, _ = row.data
            self._put(self._store.webhooks, delivery_id, (url, state, created_at, body, _plain(attempts)))

    def webhooks(self, state: str | None = None) -> list[dict[str, Any]]:
        found = []
        for delivery_id, row in sorted(self._store.webhooks.rows.items()):
            url, row_state, created_at, body, attempts = row.data
            if not state or row_state == state:
                found.append({"id": delivery_id, "url": url, "state": row_state, "createdAt": created_at,
                              "body": _copy(body), "attempts": _copy(attempts)})
        return found

    def add_email(self, recipient: str, subject: str, text: str, html: str, now: datetime) -> None:
        self._store.emails.append((_plain(now), recipient, subject, text, html))

    def emails(self) -> list[dict[str, Any]]:
        return [{"to": to, "subject": subject, "text": text, "html": html, "at": at}
                for at, to, subject, text, html in self._store.emails]

    # --- the back office: transfers and journals ------------------------------------------------------
    def save_transfer(self, transfer: Transfer) -> None:
        self._put(self._store.transfers, transfer.transfer_id, _snapshot(transfer),
                  {"shop_id": transfer.shop_id, "paid_us": to_us(transfer.paid_at)})

    def transfers(self, shop_ids: list[int] | None = None) -> list[Transfer]:
        """Transfers, latest first."""
        table = self._store.transfers
        if shop_ids is None:
            rows = list(table.rows.values())
        else:
            rows = [row for shop_id in set(shop_ids) for row in table.where(("shop_id",), shop_id)]
        rows.sort(key=lambda row: (-row.columns["paid_us"], row.data.fields["transfer_id"]))
        return [_entity(Transfer, row.data) for row in rows]

    def save_journal(self, name: str, recipient: str, created: datetime, data: dict[str, Any]) -> None:
        self._put(self._store.journals, name, _plain(data), {"recipient": recipient, "created_us": to_us(created)})

    def journal(self, name: str) -> dict[str, Any] | None:
        row = self._store.journals.rows.get(name)
        return _copy(row.data) if row else None

    def journals(self) -> list[dict[str, Any]]:
        """Every journal kept, oldest first."""
        rows = sorted(self._store.journals.rows.items(), key=lambda item: (item[1].columns["created_us"], item[0]))
        return [_copy(row.data) for _, row in rows]

    def delete_journals_before(self, moment: datetime) -> int:
        table, limit = self._store.journals, to_us(moment)
        old = [name for name, row in table.rows.items() if row.columns["created_us"] < limit]
        for name in old:
            self._undo.append((table.restore, name, table.rows[name]))
            table.restore(name, None)
        return len(old)

    # --- meta -----------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._store.meta.rows.get(key)
        return _copy(row.data) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self._put(self._store.meta, key, _plain(value))


if TYPE_CHECKING:  # mypy checks here that both classes are what the services take
    def _is_a_store(store: MemoryStore) -> ports.Store:
        return store

    def _is_a_session(session: MemorySession) -> ports.StoreSession:
        return session
