#!/usr/bin/env python3
"""What one Kit call costs the sandbox itself: no sockets, no server, no load generator.

    .venv/bin/python bench/kit_cost.py [--lifecycles 1500] [--health 5000] [--db file|memory] [--statements]

Runs payment lifecycles (create, payer, status, cancellation: the mix of bench_api.py)
through the Flask app in this process (`FlaskTransport`), on a temporary SQLite file and a
wall clock, all with the one fixture beneficiary whose behaviour is "manual". Prints the
CPU milliseconds per Kit call (and per operation) and per `GET /_sandbox/health`, and the
SQL statements each operation runs, traced at the sqlite3 driver (BEGIN and COMMIT
included). Profile it with py-spy to see where the time goes:

    .venv/bin/py-spy record --rate 500 --format raw -o kit.txt -- .venv/bin/python bench/kit_cost.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lifecycles", type=int, default=1500)
    parser.add_argument("--health", type=int, default=5000, help="GET /_sandbox/health calls to time")
    parser.add_argument("--db", choices=("file", "memory"), default="file")
    parser.add_argument("--statements", action="store_true",
                        help="also time one primary-key SELECT four ways (SQLAlchemy Core built per call, "
                             "prebuilt, as the store runs it, the sqlite3 cursor) and an empty store session")
    args = parser.parse_args(argv)

    from sandbox.client import ControlClient, FlaskTransport, shop_client
    from sandbox.services.sandbox import Settings
    from sandbox.web import create_app

    with tempfile.TemporaryDirectory(prefix="ancv-kit-cost-") as tmp:
        db = str(Path(tmp) / "cost.sqlite3") if args.db == "file" else None
        app = create_app(Settings(db=db, clock="wall", run_scheduler=False))
        sandbox = app.extensions["ancv_sandbox"]
        try:
            statements: list[str] = []
            # The store runs its SQL on the sqlite3 connection itself, not through SQLAlchemy's
            # execution events, so the statements are traced at the driver (BEGIN/COMMIT included).
            driver = sandbox.store._sqlite_connection()

            transport = FlaskTransport(app)
            world = ControlClient(transport).fixtures()
            shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
            beneficiary = next(b["beneficiaryId"] for b in world["beneficiaries"] if b["behaviour"] == "manual")
            kit = shop_client(transport, shop)

            per_op: dict[str, Counter[str]] = {}
            cpu_by_op: dict[str, float] = {}

            def lifecycle(n: int, record: bool = False) -> None:
                def op(name: str, call: Any, expected: int) -> Any:
                    statements.clear()
                    if record:
                        driver.set_trace_callback(lambda sql: statements.append(_kind(sql)))
                    t0 = time.process_time()
                    try:
                        reply = call()
                    finally:
                        cpu_by_op[name] = cpu_by_op.get(name, 0.0) + time.process_time() - t0
                        driver.set_trace_callback(None)
                    if reply.status != expected:
                        raise SystemExit(f"{name}: {reply.status} {reply.body}")
                    if record:
                        per_op[name] = Counter(statements)
                    return reply

                tx = op("create", lambda: kit.create_transaction(f"cost-{n}", "1", 100), 201)["transaction"]["id"]
                op("payer", lambda: kit.set_payer(tx, beneficiary), 202)
                op("status", lambda: kit.get_transaction(tx), 200)
                op("cancel", lambda: kit.cancel(tx), 201)

            lifecycle(0, record=True)
            cpu_by_op.clear()
            t0 = time.process_time()
            for n in range(1, args.lifecycles + 1):
                lifecycle(n)
            kit_ms = (time.process_time() - t0) * 1000 / (4 * args.lifecycles)
            t0 = time.process_time()
            for _ in range(args.health):
                transport("GET", "/_sandbox/health", {})
            health_ms = (time.process_time() - t0) * 1000 / args.health
        finally:
            sandbox.stop()

    print(f"CPU per Kit call (mean of create, payer, status, cancel): {kit_ms:.3f} ms")
    print(f"CPU per GET /_sandbox/health:                            {health_ms:.3f} ms")
    print(f"ratio health / Kit call: {health_ms / kit_ms:.2f}   (in process: no HTTP server, no sockets)")
    print("CPU per operation: " + ", ".join(f"{name} {seconds * 1000 / args.lifecycles:.3f} ms"
                                            for name, seconds in cpu_by_op.items()))
    print("SQL statements per operation:")
    for name, counts in per_op.items():
        detail = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
        print(f"  {name:<7}{sum(counts.values()):3}  ({detail})")
    if args.statements:
        statement_costs()
    return 0


def statement_costs(n: int = 5000) -> None:
    """CPU of one `SELECT data FROM transactions WHERE transaction_id = ?`, run the way the store does and otherwise."""
    import sqlite3

    from sqlalchemy import bindparam, select

    from sandbox.adapters.sql_schema import transactions
    from sandbox.adapters.sql_session import STATEMENTS
    from sandbox.adapters.sql_store import SqlStore

    with tempfile.TemporaryDirectory(prefix="ancv-kit-cost-") as tmp:
        path = str(Path(tmp) / "statements.sqlite3")
        store = SqlStore(path)
        with store.session() as s:
            s._run(STATEMENTS.insert["transactions"], {"transaction_id": "abc", "shop_id": 1, "state": "INITIALIZED",
                                                       "order_key": "k", "created_us": 1, "data": "{}"})
        prebuilt = select(transactions.c.data).where(transactions.c.transaction_id == bindparam("id"))
        sql = "SELECT data FROM transactions WHERE transaction_id = ?"
        print("CPU of one primary-key SELECT:")
        core: list[tuple[str, Any]] = [
            ("SQLAlchemy select().where() built per call",
             lambda c: c.execute(select(transactions.c.data).where(transactions.c.transaction_id == "abc")).first()),
            ("SQLAlchemy prebuilt select() with bindparam", lambda c: c.execute(prebuilt, {"id": "abc"}).first()),
        ]
        with store.engine.connect() as conn:
            for label, way in core:
                t0 = time.process_time()
                for _ in range(n):
                    way(conn)
                print(f"  {label:<52}{(time.process_time() - t0) / n * 1e6:8.1f} us")
        with store.session() as s:
            t0 = time.process_time()
            for _ in range(n):
                s._rows(transactions, {"transaction_id": "abc"}).fetchone()
            print(f"  {'as the store runs it (compiled once, driver cursor)':<52}"
                  f"{(time.process_time() - t0) / n * 1e6:8.1f} us")
        raw = sqlite3.connect(path, isolation_level=None)
        t0 = time.process_time()
        for _ in range(n):
            raw.execute(sql, ("abc",)).fetchone()
        print(f"  {'sqlite3 cursor (DB-API), SQL written by hand':<52}{(time.process_time() - t0) / n * 1e6:8.1f} us")
        t0 = time.process_time()
        for _ in range(n // 5):
            with store.session():
                pass
        print(f"  {'empty SqlStore.session() (BEGIN IMMEDIATE, COMMIT)':<52}{(time.process_time() - t0) / (n // 5) * 1e6:8.1f} us")
        store.close()
        t0 = time.process_time()
        for _ in range(n // 5):
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("COMMIT")
        print(f"  {'same with the sqlite3 module':<52}{(time.process_time() - t0) / (n // 5) * 1e6:8.1f} us")
        raw.close()


def _kind(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper() if words else "?"
    if verb in ("SELECT", "DELETE") and "FROM" in (w.upper() for w in words):
        upper = [w.upper() for w in words]
        return f"{verb} {words[upper.index('FROM') + 1]}"
    if verb == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1]}"
    if verb == "INSERT" and len(words) > 2:
        return f"INSERT {words[2]}"
    return verb


if __name__ == "__main__":
    sys.exit(main())
