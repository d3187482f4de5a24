"""`simulate` in memory loads only what a simulation uses.

SQLAlchemy, asyncssh, requests, cryptography and qrcode took 1.4 s of processor to import on a
2-core machine: a third of a busy day's run. A simulation in the memory store never talks SQL,
SFTP, HTTP or TLS and draws no code, so it must not load them; the server, `--db`, `--live`
and TLS load each when they are first used (their own tests play those paths)."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_ONLY = ("sqlalchemy", "asyncssh", "requests", "cryptography", "qrcode", "PIL", "flask")

_PLAY = f"""
import json, sys
from sandbox.cli import main
code = main(["simulate", "gite-qr", "--json"])
print(json.dumps({{"code": code, "loaded": [m for m in {SERVER_ONLY!r} if m in sys.modules]}}), file=sys.stderr)
"""


def test_a_simulation_in_memory_loads_no_server_library() -> None:
    done = subprocess.run([sys.executable, "-c", _PLAY], capture_output=True, text=True, timeout=300, check=False)
    last = done.stderr.strip().splitlines()[-1]
    outcome = json.loads(last)
    assert outcome["code"] == 0, done.stderr
    assert json.loads(done.stdout)["payments"] > 0
    assert outcome["loaded"] == []


def test_the_sql_store_is_still_there_when_asked_for() -> None:
    from sandbox.adapters.memory_store import MemoryStore, make_store
    from sandbox.adapters.sql_store import SqlStore

    assert isinstance(make_store("memory"), MemoryStore)
    store = make_store("sqlite://")
    try:
        assert isinstance(store, SqlStore)
    finally:
        store.close()
