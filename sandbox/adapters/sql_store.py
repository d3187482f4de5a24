"""The SQL store (SQLAlchemy 2): SQLite file by default, any SQLAlchemy URL, or memory.

It owns the engine and the locks: each session is one database transaction, and on SQLite
a writer takes the lock at BEGIN (IMMEDIATE), so two requests never overspend; on
PostgreSQL advisory locks serialise writers and let server processes start one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, delete, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from .sql_schema import metadata
from .sql_session import CompiledStatements, SqlSession

if TYPE_CHECKING:
    from ..services import ports

WRITER_LOCK_KEY = 8421  # PostgreSQL advisory lock that serialises the sandbox's transactions
STARTING_LOCK_KEY = 8423  # held while a server process creates the tables or starts (one at a time)
RUNNING_LOCK_KEY = 8424  # held, shared, by every server process running on the database


def database_url(db: str | None) -> str:
    """`--db` accepts a path (SQLite file), `:memory:` or any SQLAlchemy URL."""
    if not db or db == ":memory:":
        return "sqlite://"
    return db if "://" in db else f"sqlite:///{db}"


class SqlStore:
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
    def session(self) -> Iterator[SqlSession]:
        if self.lock is None:  # a server database: pooled connections, one per session
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    # Like SQLite's BEGIN IMMEDIATE: one writer at a time across every server process,
                    # so balances and "one payment in progress" cannot race (finer locks can come later).
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")
                yield SqlSession(conn.connection.driver_connection, self.compiled)
            return
        with self.lock:  # SQLite: one connection, one transaction at a time in this process
            raw = self._sqlite_connection()
            raw.execute("BEGIN IMMEDIATE")  # take the write lock now, not at the first write
            try:
                yield SqlSession(raw, self.compiled)
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


if TYPE_CHECKING:  # mypy checks here that both classes are what the services take
    def _is_a_store(store: SqlStore) -> ports.Store:
        return store

    def _is_a_session(session: SqlSession) -> ports.StoreSession:
        return session
