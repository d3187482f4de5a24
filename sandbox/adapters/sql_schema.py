"""The SQL store's tables: one row per aggregate, the columns the sandbox queries by plus the entity as JSON.

Deadlines live in `timers` (one row per object and kind, due time in microseconds), so
they survive a restart and fire in order. Instants are integer microseconds since 1970
(`store_codec.to_us`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

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

