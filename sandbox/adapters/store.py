"""Persistence with SQLAlchemy 2 Core: SQLite file by default, any SQLAlchemy URL, or memory.

Each aggregate is one row: the columns the sandbox queries by, plus the whole entity as JSON.
Deadlines live in `timers` (one row per object and kind, due time in microseconds), so
they survive a restart and fire in order. Each unit of work is one database transaction;
on SQLite a writer takes the lock at BEGIN (IMMEDIATE), so two requests never overspend.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from ..domain.accounts import MerchantAccount
from ..domain.back_office import Transfer
from ..domain.beneficiaries import Beneficiary
from ..domain.dates import paris_day
from ..domain.events import Event
from ..domain.merchants import PointOfSale, ServiceProvider
from ..domain.pre_transactions import PROCESSING as PRE_PROCESSING
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import PROCESSING, Transaction

metadata = MetaData()
WRITER_LOCK_KEY = 8421  # PostgreSQL advisory lock that serialises the sandbox's transactions
STARTING_LOCK_KEY = 8423  # held while a server process creates the tables or starts (one at a time)
RUNNING_LOCK_KEY = 8424  # held, shared, by every server process running on the database

points_of_sale = Table(
    "points_of_sale", metadata,
    Column("shop_id", BigInteger, primary_key=True),
    Column("convention_id", String(6), index=True),
    Column("login", String(12), index=True),
    Column("key_version", String(64), index=True),
    Column("data", Text, nullable=False),
)
service_providers = Table(
    "service_providers", metadata,
    Column("service_provider_id", BigInteger, primary_key=True),
    Column("key_version", String(64), index=True),
    Column("data", Text, nullable=False),
)
beneficiaries = Table(
    "beneficiaries", metadata,
    Column("beneficiary_id", String(11), primary_key=True),
    Column("email", String(254), index=True),
    Column("data", Text, nullable=False),
)
transactions = Table(
    "transactions", metadata,
    Column("transaction_id", String(10), primary_key=True),
    Column("shop_id", BigInteger, index=True),
    Column("beneficiary_id", String(11), index=True),
    Column("state", String(16), index=True),
    Column("order_key", String(200), index=True),
    Column("created_us", BigInteger, index=True),
    Column("data", Text, nullable=False),
    # "the beneficiary's payment in progress" must not scan the beneficiary's whole history
    Index("ix_transactions_beneficiary_state", "beneficiary_id", "state"),
)
pre_transactions = Table(
    "pre_transactions", metadata,
    Column("pre_transaction_id", String(10), primary_key=True),
    Column("shop_id", BigInteger, index=True),
    Column("state", String(16), index=True),
    Column("order_key", String(200), index=True),
    Column("created_us", BigInteger, index=True),
    Column("data", Text, nullable=False),
)
timers = Table(
    "timers", metadata,
    Column("kind", String(32), primary_key=True),
    Column("ref", String(64), primary_key=True),
    Column("due_us", BigInteger, index=True, nullable=False),
)
MAX_SEQ = 2**31 - 1  # events.seq is an INTEGER: 32 bits on PostgreSQL
events = Table(
    "events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at_us", BigInteger, nullable=False),
    Column("name", String(64), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("data", Text, nullable=False),
    sqlite_autoincrement=True,  # numbers are never reused, not even after a reset
)
webhooks = Table(
    "webhooks", metadata,
    Column("delivery_id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(512), nullable=False),
    Column("state", String(16), index=True, nullable=False),  # pending, delivered, failed
    Column("created_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("attempts", Text, nullable=False),
    sqlite_autoincrement=True,  # a delivery still retrying across a reset never writes onto a new one
)
emails = Table(
    "emails", metadata,
    Column("email_id", Integer, primary_key=True, autoincrement=True),
    Column("at_us", BigInteger, nullable=False),
    Column("recipient", String(254), index=True),
    Column("subject", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    sqlite_autoincrement=True,
)
accounts = Table(
    "accounts", metadata,
    Column("login", String(12), primary_key=True),
    Column("data", Text, nullable=False),
)
transfers = Table(
    "transfers", metadata,
    Column("transfer_id", String(64), primary_key=True),
    Column("shop_id", BigInteger, index=True),
    Column("paid_us", BigInteger, index=True, nullable=False),
    Column("data", Text, nullable=False),
)
journals = Table(
    "journals", metadata,
    Column("name", String(128), primary_key=True),
    Column("recipient", String(32), index=True, nullable=False),
    Column("created_us", BigInteger, index=True, nullable=False),
    Column("data", Text, nullable=False),
)
meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


# --- JSON with datetimes ---------------------------------------------------------------

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


def to_us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def order_key(shop_id: int, service_provider_id: int | None, when: datetime, order_id: str, payment_id: str) -> str:
    """Same shop, same (French) day, same order and payment ids: the Kit's duplicate rule.

    The key holder is part of it, so a duplicate never hands one holder another's object;
    JSON keeps the parts apart whatever characters the ids hold, and its digest keeps the key
    within its column (escaped, 64 + 40 characters of ids can take 600: PostgreSQL refuses them)."""
    parts = json.dumps([shop_id, service_provider_id, paris_day(when).isoformat(), order_id, payment_id])
    return hashlib.sha256(parts.encode()).hexdigest()


# --- the store ----------------------------------------------------------------------------

def database_url(db: str | None) -> str:
    """`--db` accepts a path (SQLite file), `:memory:` or any SQLAlchemy URL."""
    if not db or db == ":memory:":
        return "sqlite://"
    return db if "://" in db else f"sqlite:///{db}"


class Store:
    """Owns the engine; hands out sessions, one database transaction each."""

    def __init__(self, db: str | None = None) -> None:
        url = database_url(db)
        self.is_sqlite = url.startswith("sqlite")
        self.in_memory = url == "sqlite://"
        if self.in_memory:
            self.engine: Engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        elif self.is_sqlite:
            # Every session ends in COMMIT or ROLLBACK, so the pool need not roll back again on return.
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                        pool_reset_on_return=None)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        if self.is_sqlite:
            self._configure_sqlite()
        # One writer at a time inside this process (SQLite has one writer anyway; the
        # in-memory database shares one connection between threads).
        self.lock = threading.RLock() if self.is_sqlite else None
        self._raw: Any = None
        self._presence: Any = None  # PostgreSQL: the connection that holds RUNNING_LOCK_KEY
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":  # two processes starting at once on an empty database
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STARTING_LOCK_KEY})")
            metadata.create_all(conn)
        self.compiled = CompiledStatements(self.engine.dialect)

    def _configure_sqlite(self) -> None:
        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if not self.in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    @contextmanager
    def session(self) -> Iterator[StoreSession]:
        if self.lock is None:  # a server database: pooled connections, one per session
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    # Like SQLite's BEGIN IMMEDIATE: one writer at a time across every server process,
                    # so balances and "one payment in progress" cannot race (finer locks can come later).
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")
                yield StoreSession(conn.connection.driver_connection, self.compiled)
            return
        with self.lock:  # SQLite: one connection, one transaction at a time in this process
            raw = self._sqlite_connection()
            raw.execute("BEGIN IMMEDIATE")  # take the write lock now, not at the first write
            try:
                yield StoreSession(raw, self.compiled)
            except BaseException:
                raw.rollback()
                raise
            raw.commit()

    @contextmanager
    def starting(self) -> Iterator[bool]:
        """Start a server process: one at a time on a PostgreSQL database; yields True when no
        other process runs on it. From then until `close` this one counts as running.

        SQLite: one server process per file, always alone."""
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        connection: Any = self.engine.raw_connection()
        driver: Any = connection.driver_connection
        connection.detach()  # out of the pool: closing it closes it for real, its locks with it
        driver.rollback()
        driver.autocommit = True  # session locks, never a transaction left open
        cursor = driver.cursor()

        def query(sql: str) -> Any:
            cursor.execute(sql)
            return cursor.fetchone()[0]

        try:
            query(f"SELECT pg_advisory_lock({STARTING_LOCK_KEY})")
            alone = bool(query(f"SELECT pg_try_advisory_lock({RUNNING_LOCK_KEY})"))
            if alone:
                query(f"SELECT pg_advisory_unlock({RUNNING_LOCK_KEY})")
            yield alone
            query(f"SELECT pg_advisory_lock_shared({RUNNING_LOCK_KEY})")
            query(f"SELECT pg_advisory_unlock({STARTING_LOCK_KEY})")
            self._presence, connection = connection, None
        finally:
            if connection is not None:
                connection.close()

    def _sqlite_connection(self) -> Any:
        if self._raw is None:
            self._raw = self.engine.raw_connection()
        return self._raw.driver_connection

    def drop_all(self) -> None:
        with self.session() as s:
            for table in reversed(metadata.sorted_tables):
                s._run(delete(table), cache=False)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._presence is not None:
            with suppress(Exception):  # said now: the server would notice the closed connection a moment later
                self._presence.cursor().execute(f"SELECT pg_advisory_unlock_shared({RUNNING_LOCK_KEY})")
            self._presence.close()
            self._presence = None
        self.engine.dispose()


def _keyed(table: Table, *names: str) -> list[Any]:
    return [table.c[name] == bindparam(f"k_{name}") for name in names]


class _Statements:
    """Every statement the store runs, built once: building one costs more than running it."""

    def __init__(self) -> None:
        self.data_by: dict[tuple[str, ...], Any] = {}
        self.update_by: dict[str, Any] = {}
        self.insert: dict[str, Any] = {table.name: table.insert() for table in metadata.sorted_tables}
        keys = {"points_of_sale": ("shop_id",), "service_providers": ("service_provider_id",),
                "beneficiaries": ("beneficiary_id",), "transactions": ("transaction_id",),
                "pre_transactions": ("pre_transaction_id",), "timers": ("kind", "ref"), "meta": ("key",),
                "accounts": ("login",), "transfers": ("transfer_id",), "journals": ("name",),
                "webhooks": ("delivery_id",)}
        self.keys = keys
        for name, columns in keys.items():
            table = metadata.tables[name]
            self.update_by[name] = update(table).where(*_keyed(table, *columns))
        for table, columns in [(points_of_sale, ("shop_id",)), (points_of_sale, ("key_version",)),
                               (service_providers, ("service_provider_id",)), (service_providers, ("key_version",)),
                               (beneficiaries, ("beneficiary_id",)), (beneficiaries, ("email",)),
                               (transactions, ("transaction_id",)), (transactions, ("order_key",)),
                               (transactions, ("beneficiary_id", "state")), (transactions, ("state",)),
                               (journals, ("name",)),
                               (pre_transactions, ("pre_transaction_id",)), (pre_transactions, ("order_key",)),
                               (accounts, ("login",))]:
            self.data_by[(table.name, *columns)] = select(table.c.data).where(*_keyed(table, *columns))
        self.timer = select(timers.c.due_us).where(*_keyed(timers, "kind", "ref"))
        self.delete_timer = delete(timers).where(*_keyed(timers, "kind", "ref"))
        self.next_timer = (select(timers.c.due_us, timers.c.kind, timers.c.ref)
                           .order_by(timers.c.due_us, timers.c.kind, timers.c.ref).limit(1))
        self.meta = select(meta.c.value).where(*_keyed(meta, "key"))
        self.all_data = {table.name: select(table.c.data).order_by(*table.primary_key.columns)
                         for table in (points_of_sale, service_providers, beneficiaries, accounts)}
        self.transactions_of_beneficiary = (select(transactions.c.data)
                                            .where(*_keyed(transactions, "beneficiary_id"))
                                            .order_by(transactions.c.created_us, transactions.c.transaction_id))
        self.count_transactions = select(transactions.c.state, func.count()).group_by(transactions.c.state)
        self.timers = select(timers.c.due_us, timers.c.kind, timers.c.ref).order_by(
            timers.c.due_us, timers.c.kind, timers.c.ref)
        self.events_after = (select(events.c.seq, events.c.at_us, events.c.name, events.c.ref, events.c.data)
                             .where(events.c.seq > bindparam("k_after")).order_by(events.c.seq))
        self.insert_webhook = webhooks.insert().returning(webhooks.c.delivery_id)
        self.webhook_columns = (webhooks.c.delivery_id, webhooks.c.url, webhooks.c.state, webhooks.c.created_us,
                                webhooks.c.body, webhooks.c.attempts)
        self.webhooks = select(*self.webhook_columns).order_by(webhooks.c.delivery_id)
        self.webhooks_in_state = self.webhooks.where(*_keyed(webhooks, "state"))
        self.emails = select(emails.c.recipient, emails.c.subject, emails.c.text, emails.c.html,
                             emails.c.at_us).order_by(emails.c.email_id)


STATEMENTS = _Statements()


class CompiledStatements:
    """The hot statements compiled once for the engine's dialect and run on the driver's cursor.

    Same SQL as SQLAlchemy would send, inside the same database transaction, without paying
    SQLAlchemy's per-execution machinery (several times the cost of the query itself here).
    """

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self._cache: dict[tuple[Any, tuple[str, ...]], tuple[str, list[str] | None, dict[str, Any]]] = {}

    def _compile(self, statement: Any, names: tuple[str, ...]) -> tuple[str, list[str] | None, dict[str, Any]]:
        compiled = statement.compile(dialect=self.dialect, column_keys=list(names),
                                     compile_kwargs={"render_postcompile": True})
        order = list(compiled.positiontup) if compiled.positiontup is not None else None
        return str(compiled), order, dict(compiled.params)  # params: values bound at build time (LIMIT, IN)

    def _args(self, statement: Any, params: dict[str, Any], cache: bool = True) -> tuple[str, Any]:
        """SQL and arguments; fixed statements (kept alive by the cache) are compiled once."""
        names = tuple(params)
        if cache:
            entry = self._cache.get((statement, names))
            if entry is None:
                entry = self._cache[(statement, names)] = self._compile(statement, names)
        else:
            entry = self._compile(statement, names)
        sql, order, defaults = entry
        values = {**defaults, **params} if defaults else params
        return sql, [values[name] for name in order] if order is not None else values

    def run(self, raw: Any, statement: Any, params: dict[str, Any], cache: bool = True) -> Any:
        cursor = raw.cursor()
        cursor.execute(*self._args(statement, params, cache))
        return cursor

    def run_many(self, raw: Any, statement: Any, rows: list[dict[str, Any]]) -> None:
        sql = self._args(statement, rows[0])[0]
        cursor = raw.cursor()
        cursor.executemany(sql, [self._args(statement, row)[1] for row in rows])


class _NoRows:
    """The result of a lookup that cannot match."""

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []


_NO_ROWS = _NoRows()


class StoreSession:
    """Reads and writes inside one database transaction."""

    def __init__(self, raw: Any, compiled: CompiledStatements) -> None:
        self._raw = raw  # the driver's connection, inside an open transaction
        self._compiled = compiled
        self.earliest_timer: datetime | None = None  # the earliest deadline this session set
        self._merchants: dict[tuple[str, int], Any] = {}  # read once per session

    def _run(self, statement: Any, params: dict[str, Any] | None = None, cache: bool = True) -> Any:
        return self._compiled.run(self._raw, statement, params or {}, cache)

    def _column(self, statement: Any, params: dict[str, Any] | None = None, cache: bool = True) -> list[Any]:
        return [loads(row[0]) for row in self._run(statement, params, cache).fetchall()]

    def _upsert(self, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        params = {f"k_{name}": value for name, value in key.items()}
        if self._run(STATEMENTS.update_by[table.name], {**values, **params}).rowcount == 0:
            self._run(STATEMENTS.insert[table.name], {**key, **values})

    def _rows(self, table: Table, key: dict[str, Any]) -> Any:
        if any(isinstance(value, str) and "\x00" in value for value in key.values()):
            return _NO_ROWS  # no key holds NUL, and PostgreSQL refuses it in text instead of finding nothing
        statement = STATEMENTS.data_by[(table.name, *key)]
        return self._run(statement, {f"k_{name}": value for name, value in key.items()})

    def _data(self, table: Table, **key: Any) -> Any:
        row = self._rows(table, key).fetchone()
        return loads(row[0]) if row else None

    def _all(self, table: Table, **key: Any) -> list[Any]:
        return [loads(r[0]) for r in self._rows(table, key).fetchall()]

    # --- merchants ---------------------------------------------------------------------
    def add_point_of_sale(self, pos: PointOfSale) -> None:
        self._upsert(points_of_sale, {"shop_id": pos.shop_id}, {
            "convention_id": pos.convention_id, "login": pos.login,
            "key_version": pos.key_version, "data": dumps(pos.to_dict())})
        self._merchants.pop(("shop", pos.shop_id), None)

    save_point_of_sale = add_point_of_sale

    def point_of_sale(self, shop_id: int) -> PointOfSale | None:
        if ("shop", shop_id) not in self._merchants:
            data = self._data(points_of_sale, shop_id=shop_id)
            self._merchants[("shop", shop_id)] = PointOfSale.from_dict(data) if data else None
        return self._merchants[("shop", shop_id)]

    def points_of_sale(self) -> list[PointOfSale]:
        return [PointOfSale.from_dict(d) for d in self._column(STATEMENTS.all_data["points_of_sale"])]

    def points_of_sale_with_key_version(self, key_version: str) -> list[PointOfSale]:
        return [PointOfSale.from_dict(d) for d in self._all(points_of_sale, key_version=key_version)]

    def add_service_provider(self, sp: ServiceProvider) -> None:
        self._upsert(service_providers, {"service_provider_id": sp.service_provider_id},
                     {"key_version": sp.key_version, "data": dumps(sp.to_dict())})
        self._merchants.pop(("provider", sp.service_provider_id), None)

    def service_provider(self, service_provider_id: int) -> ServiceProvider | None:
        if ("provider", service_provider_id) not in self._merchants:
            data = self._data(service_providers, service_provider_id=service_provider_id)
            self._merchants[("provider", service_provider_id)] = ServiceProvider.from_dict(data) if data else None
        return self._merchants[("provider", service_provider_id)]

    def service_providers(self) -> list[ServiceProvider]:
        return [ServiceProvider.from_dict(d) for d in self._column(STATEMENTS.all_data["service_providers"])]

    def service_providers_with_key_version(self, key_version: str) -> list[ServiceProvider]:
        return [ServiceProvider.from_dict(d) for d in self._all(service_providers, key_version=key_version)]

    # --- merchant accounts -----------------------------------------------------------------
    def save_account(self, account: MerchantAccount) -> None:
        self._upsert(accounts, {"login": account.login}, {"data": dumps(account.to_dict())})

    def account(self, login: str) -> MerchantAccount | None:
        data = self._data(accounts, login=login)
        return MerchantAccount.from_dict(data) if data else None

    def accounts(self) -> list[MerchantAccount]:
        return [MerchantAccount.from_dict(d) for d in self._column(STATEMENTS.all_data["accounts"])]

    def account_by_reset_token(self, token: str) -> MerchantAccount | None:
        """The account a reset link belongs to (few accounts: a scan is fine)."""
        return next((a for a in self.accounts() if a.reset_token == token), None)

    # --- beneficiaries -------------------------------------------------------------------
    def save_beneficiary(self, beneficiary: Beneficiary) -> None:
        self._upsert(beneficiaries, {"beneficiary_id": beneficiary.beneficiary_id},
                     {"email": beneficiary.email.lower(), "data": dumps(beneficiary.to_dict())})

    def beneficiary(self, beneficiary_id: str) -> Beneficiary | None:
        data = self._data(beneficiaries, beneficiary_id=beneficiary_id)
        return Beneficiary.from_dict(data) if data else None

    def beneficiary_by_email(self, email: str) -> Beneficiary | None:
        data = self._data(beneficiaries, email=email.lower())
        return Beneficiary.from_dict(data) if data else None

    def beneficiaries(self) -> list[Beneficiary]:
        return [Beneficiary.from_dict(d) for d in self._column(STATEMENTS.all_data["beneficiaries"])]

    # --- transactions ----------------------------------------------------------------------
    def save_transaction(self, tx: Transaction) -> None:
        self._upsert(transactions, {"transaction_id": tx.transaction_id}, {
            "shop_id": tx.shop_id, "beneficiary_id": tx.beneficiary_id, "state": tx.state,
            # a transaction made by scanning a payment request answers to the request's key, not its own
            "order_key": None if tx.pre_transaction_id else order_key(
                tx.shop_id, tx.service_provider_id, tx.creation_date, tx.order_id, tx.payment_id),
            "created_us": to_us(tx.creation_date), "data": dumps(tx.to_dict())})
        self.set_timer("transaction", tx.transaction_id, tx.next_deadline())

    def transaction(self, transaction_id: str) -> Transaction | None:
        data = self._data(transactions, transaction_id=transaction_id)
        return Transaction.from_dict(data) if data else None

    def transaction_by_order(self, shop_id: int, service_provider_id: int | None, now: datetime, order_id: str,
                             payment_id: str) -> Transaction | None:
        data = self._data(transactions, order_key=order_key(shop_id, service_provider_id, now, order_id, payment_id))
        return Transaction.from_dict(data) if data else None

    def pending_transaction_of(self, beneficiary_id: str) -> Transaction | None:
        """The beneficiary's transaction in PROCESSING, if any (at most one by the Kit's rule)."""
        data = self._data(transactions, beneficiary_id=beneficiary_id, state=PROCESSING)
        return Transaction.from_dict(data) if data else None

    def transactions(self, shop_ids: list[int] | None = None) -> list[Transaction]:
        query = select(transactions.c.data).order_by(transactions.c.created_us, transactions.c.transaction_id)
        if shop_ids is not None:
            query = query.where(transactions.c.shop_id.in_(shop_ids))
        return [Transaction.from_dict(d) for d in self._column(query, cache=False)]

    def transactions_of_beneficiary(self, beneficiary_id: str) -> list[Transaction]:
        rows = self._column(STATEMENTS.transactions_of_beneficiary, {"k_beneficiary_id": beneficiary_id})
        return [Transaction.from_dict(d) for d in rows]

    def count_transactions(self) -> dict[str, int]:
        return {state: count for state, count in self._run(STATEMENTS.count_transactions).fetchall()}

    def transactions_in_state(self, state: str) -> list[Transaction]:
        """Every transaction in `state`, by id."""
        found = [Transaction.from_dict(d) for d in self._all(transactions, state=state)]
        return sorted(found, key=lambda tx: tx.transaction_id)

    # --- pre-transactions ----------------------------------------------------------------------
    def save_pre_transaction(self, pre: PreTransaction) -> None:
        self._upsert(pre_transactions, {"pre_transaction_id": pre.pre_transaction_id}, {
            "shop_id": pre.shop_id, "state": pre.state,
            "order_key": order_key(pre.shop_id, pre.service_provider_id, pre.creation_date, pre.order_id,
                                   pre.pre_payment_id),
            "created_us": to_us(pre.creation_date), "data": dumps(pre.to_dict())})
        self.set_timer("pre_transaction", pre.pre_transaction_id, pre.next_deadline())

    def pre_transaction(self, pre_transaction_id: str) -> PreTransaction | None:
        data = self._data(pre_transactions, pre_transaction_id=pre_transaction_id)
        return PreTransaction.from_dict(data) if data else None

    def pre_transaction_by_order(self, shop_id: int, service_provider_id: int | None, now: datetime, order_id: str,
                                 pre_payment_id: str) -> PreTransaction | None:
        key = order_key(shop_id, service_provider_id, now, order_id, pre_payment_id)
        data = self._data(pre_transactions, order_key=key)
        return PreTransaction.from_dict(data) if data else None

    def pre_transactions(self, shop_ids: list[int] | None = None) -> list[PreTransaction]:
        query = select(pre_transactions.c.data).order_by(pre_transactions.c.created_us)
        if shop_ids is not None:
            query = query.where(pre_transactions.c.shop_id.in_(shop_ids))
        return [PreTransaction.from_dict(d) for d in self._column(query, cache=False)]

    def pre_transactions_sent_to(self, beneficiary_id: str) -> list[PreTransaction]:
        """Payment requests pushed to this beneficiary's app (`/contact` with beneficiaryId) still waiting to be paid."""
        query = (select(pre_transactions.c.data).where(pre_transactions.c.state == PRE_PROCESSING)
                 .order_by(pre_transactions.c.created_us))
        waiting = [PreTransaction.from_dict(d) for d in self._column(query, cache=False)]
        return [pre for pre in waiting if pre.contact_beneficiary_id == beneficiary_id]

    # --- timers ----------------------------------------------------------------------------------
    def set_timer(self, kind: str, ref: str, due: datetime | None) -> None:
        if due is None:
            self._run(STATEMENTS.delete_timer, {"k_kind": kind, "k_ref": ref})
            return
        self._upsert(timers, {"kind": kind, "ref": ref}, {"due_us": to_us(due)})
        if self.earliest_timer is None or due < self.earliest_timer:
            self.earliest_timer = due

    def next_timer(self) -> tuple[datetime, str, str] | None:
        row = self._run(STATEMENTS.next_timer, {}).fetchone()
        return (from_us(row[0]), row[1], row[2]) if row else None

    def timer(self, kind: str, ref: str) -> datetime | None:
        row = self._run(STATEMENTS.timer, {"k_kind": kind, "k_ref": ref}).fetchone()
        return from_us(row[0]) if row else None

    def timers(self) -> list[tuple[datetime, str, str]]:
        return [(from_us(r[0]), r[1], r[2]) for r in self._run(STATEMENTS.timers).fetchall()]

    # --- events, webhooks, emails ------------------------------------------------------------------
    def add_events(self, new_events: list[Event]) -> None:
        if new_events:
            self._compiled.run_many(self._raw, STATEMENTS.insert["events"], [
                {"at_us": to_us(e.at), "name": e.name, "ref": e.ref, "data": dumps(e.data)} for e in new_events])

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        if after > MAX_SEQ:  # after every event; PostgreSQL refuses to compare its integer column to it
            return []
        rows = self._run(STATEMENTS.events_after, {"k_after": after}).fetchall()
        return [{"seq": seq, "at": from_us(at_us), "type": name, "ref": ref, "data": loads(data)}
                for seq, at_us, name, ref, data in rows]

    def add_webhook(self, url: str, body: dict[str, Any], now: datetime) -> int:
        row = self._run(STATEMENTS.insert_webhook, {"url": url, "state": "pending", "created_us": to_us(now),
                                                     "body": dumps(body), "attempts": "[]"}).fetchone()
        return int(row[0])

    def record_webhook_attempts(self, delivery_id: int, state: str, attempts: list[dict[str, Any]]) -> None:
        self._run(STATEMENTS.update_by["webhooks"], {"state": state, "attempts": dumps(attempts),
                                                     "k_delivery_id": delivery_id})

    def webhooks(self, state: str | None = None) -> list[dict[str, Any]]:
        if state:
            rows = self._run(STATEMENTS.webhooks_in_state, {"k_state": state}).fetchall()
        else:
            rows = self._run(STATEMENTS.webhooks).fetchall()
        return [{"id": delivery_id, "url": url, "state": row_state, "createdAt": from_us(created_us),
                 "body": loads(body), "attempts": loads(attempts)}
                for delivery_id, url, row_state, created_us, body, attempts in rows]

    def add_email(self, recipient: str, subject: str, text: str, html: str, now: datetime) -> None:
        self._run(STATEMENTS.insert["emails"], {"at_us": to_us(now), "recipient": recipient, "subject": subject,
                                                "text": text, "html": html})

    def emails(self) -> list[dict[str, Any]]:
        return [{"to": to, "subject": subject, "text": text, "html": html, "at": from_us(at_us)}
                for to, subject, text, html, at_us in self._run(STATEMENTS.emails).fetchall()]

    # --- the back office: transfers and journals ------------------------------------------------------
    def save_transfer(self, transfer: Transfer) -> None:
        self._upsert(transfers, {"transfer_id": transfer.transfer_id}, {
            "shop_id": transfer.shop_id, "paid_us": to_us(transfer.paid_at), "data": dumps(transfer.to_dict())})

    def transfers(self, shop_ids: list[int] | None = None) -> list[Transfer]:
        """Transfers, latest first."""
        query = select(transfers.c.data).order_by(transfers.c.paid_us.desc(), transfers.c.transfer_id)
        if shop_ids is not None:
            query = query.where(transfers.c.shop_id.in_(shop_ids))
        return [Transfer.from_dict(d) for d in self._column(query, cache=False)]

    def save_journal(self, name: str, recipient: str, created: datetime, data: dict[str, Any]) -> None:
        self._upsert(journals, {"name": name}, {"recipient": recipient, "created_us": to_us(created),
                                                "data": dumps(data)})

    def journal(self, name: str) -> dict[str, Any] | None:
        return self._data(journals, name=name)  # type: ignore[no-any-return]

    def journals(self) -> list[dict[str, Any]]:
        """Every journal kept, oldest first."""
        query = select(journals.c.data).order_by(journals.c.created_us, journals.c.name)
        return self._column(query, cache=False)

    def delete_journals_before(self, moment: datetime) -> int:
        return int(self._run(delete(journals).where(journals.c.created_us < to_us(moment)), cache=False).rowcount)

    # --- meta -----------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._run(STATEMENTS.meta, {"k_key": key}).fetchone()
        return loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self._upsert(meta, {"key": key}, {"value": dumps(value)})
