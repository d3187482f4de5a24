"""The SQL store's session: reads and writes inside one database transaction, run on the driver's cursor.

The statements are built once (`STATEMENTS`) and compiled once per dialect
(`CompiledStatements`); `SqlSession` stores and finds rows, and inherits the rules every
session follows from `SessionRules`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, update

from ..domain.accounts import MerchantAccount
from ..domain.back_office import Transfer
from ..domain.beneficiaries import Beneficiary
from ..domain.events import Event
from ..domain.merchants import PointOfSale, ServiceProvider
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import Transaction
from .session_rules import OrderParts, SessionRules, order_key
from .sql_schema import (
    MAX_SEQ,
    accounts,
    beneficiaries,
    emails,
    events,
    journals,
    meta,
    metadata,
    points_of_sale,
    pre_transactions,
    service_providers,
    timers,
    transactions,
    transfers,
    webhooks,
)
from .store_codec import dumps, from_us, loads, to_us


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
        self.transactions_in_state_created_before = (select(transactions.c.data)
                                                     .where(*_keyed(transactions, "state"),
                                                            transactions.c.created_us < bindparam("before")))
        self.count_transactions = select(transactions.c.state, func.count()).group_by(transactions.c.state)
        self.pre_transactions_in_state = (select(pre_transactions.c.data).where(*_keyed(pre_transactions, "state"))
                                          .order_by(pre_transactions.c.created_us))
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



class SqlSession(SessionRules):
    """Reads and writes inside one database transaction."""

    def __init__(self, raw: Any, compiled: CompiledStatements) -> None:
        super().__init__()
        self._raw = raw  # the driver's connection, inside an open transaction
        self._compiled = compiled

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
    def _put_point_of_sale(self, pos: PointOfSale) -> None:
        self._upsert(points_of_sale, {"shop_id": pos.shop_id}, {
            "convention_id": pos.convention_id, "login": pos.login,
            "key_version": pos.key_version, "data": dumps(pos.to_dict())})

    def _stored_point_of_sale(self, shop_id: int) -> PointOfSale | None:
        data = self._data(points_of_sale, shop_id=shop_id)
        return PointOfSale.from_dict(data) if data else None

    def points_of_sale(self) -> list[PointOfSale]:
        return [PointOfSale.from_dict(d) for d in self._column(STATEMENTS.all_data["points_of_sale"])]

    def points_of_sale_with_key_version(self, key_version: str) -> list[PointOfSale]:
        return [PointOfSale.from_dict(d) for d in self._all(points_of_sale, key_version=key_version)]

    def _put_service_provider(self, sp: ServiceProvider) -> None:
        self._upsert(service_providers, {"service_provider_id": sp.service_provider_id},
                     {"key_version": sp.key_version, "data": dumps(sp.to_dict())})

    def _stored_service_provider(self, service_provider_id: int) -> ServiceProvider | None:
        data = self._data(service_providers, service_provider_id=service_provider_id)
        return ServiceProvider.from_dict(data) if data else None

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

    # --- beneficiaries -------------------------------------------------------------------
    def _put_beneficiary(self, beneficiary: Beneficiary, email_key: str) -> None:
        self._upsert(beneficiaries, {"beneficiary_id": beneficiary.beneficiary_id},
                     {"email": email_key, "data": dumps(beneficiary.to_dict())})

    def beneficiary(self, beneficiary_id: str) -> Beneficiary | None:
        data = self._data(beneficiaries, beneficiary_id=beneficiary_id)
        return Beneficiary.from_dict(data) if data else None

    def _beneficiary_with_email(self, email_key: str) -> Beneficiary | None:
        data = self._data(beneficiaries, email=email_key)
        return Beneficiary.from_dict(data) if data else None

    def beneficiaries(self) -> list[Beneficiary]:
        return [Beneficiary.from_dict(d) for d in self._column(STATEMENTS.all_data["beneficiaries"])]

    # --- transactions ----------------------------------------------------------------------
    def _put_transaction(self, tx: Transaction, order: OrderParts | None) -> None:
        self._upsert(transactions, {"transaction_id": tx.transaction_id}, {
            "shop_id": tx.shop_id, "beneficiary_id": tx.beneficiary_id, "state": tx.state,
            "order_key": order_key(*order) if order else None,
            "created_us": to_us(tx.creation_date), "data": dumps(tx.to_dict())})

    def transaction(self, transaction_id: str) -> Transaction | None:
        data = self._data(transactions, transaction_id=transaction_id)
        return Transaction.from_dict(data) if data else None

    def _transaction_with_order_key(self, key: str) -> Transaction | None:
        data = self._data(transactions, order_key=key)
        return Transaction.from_dict(data) if data else None

    def _transaction_of_in_state(self, beneficiary_id: str, state: str) -> Transaction | None:
        data = self._data(transactions, beneficiary_id=beneficiary_id, state=state)
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

    def _transactions_in_state(self, state: str, created_before: datetime | None) -> list[Transaction]:
        if created_before is None:
            return [Transaction.from_dict(d) for d in self._all(transactions, state=state)]
        rows = self._column(STATEMENTS.transactions_in_state_created_before,
                            {"k_state": state, "before": to_us(created_before)})
        return [Transaction.from_dict(d) for d in rows]

    # --- pre-transactions ----------------------------------------------------------------------
    def _put_pre_transaction(self, pre: PreTransaction, order: OrderParts) -> None:
        self._upsert(pre_transactions, {"pre_transaction_id": pre.pre_transaction_id}, {
            "shop_id": pre.shop_id, "state": pre.state, "order_key": order_key(*order),
            "created_us": to_us(pre.creation_date), "data": dumps(pre.to_dict())})

    def pre_transaction(self, pre_transaction_id: str) -> PreTransaction | None:
        data = self._data(pre_transactions, pre_transaction_id=pre_transaction_id)
        return PreTransaction.from_dict(data) if data else None

    def _pre_transaction_with_order_key(self, key: str) -> PreTransaction | None:
        data = self._data(pre_transactions, order_key=key)
        return PreTransaction.from_dict(data) if data else None

    def pre_transactions(self, shop_ids: list[int] | None = None) -> list[PreTransaction]:
        query = select(pre_transactions.c.data).order_by(pre_transactions.c.created_us)
        if shop_ids is not None:
            query = query.where(pre_transactions.c.shop_id.in_(shop_ids))
        return [PreTransaction.from_dict(d) for d in self._column(query, cache=False)]

    def _pre_transactions_contacting(self, beneficiary_id: str, state: str) -> list[PreTransaction]:
        # the contact is no column: few requests wait at once, so they are read and picked here
        rows = self._column(STATEMENTS.pre_transactions_in_state, {"k_state": state})
        waiting = [PreTransaction.from_dict(d) for d in rows]
        return [pre for pre in waiting if pre.contact_beneficiary_id == beneficiary_id]

    # --- timers ----------------------------------------------------------------------------------
    def _put_timer(self, kind: str, ref: str, due: datetime) -> None:
        self._upsert(timers, {"kind": kind, "ref": ref}, {"due_us": to_us(due)})

    def _delete_timer(self, kind: str, ref: str) -> None:
        self._run(STATEMENTS.delete_timer, {"k_kind": kind, "k_ref": ref})

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
