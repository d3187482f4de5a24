"""The recipes of noxfile.py that `./dev test` runs: the suite on every core, but never two workers on one
shared SQL database (each test empties it)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


@cache  # once: loading it registers its sessions with nox
def _noxfile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("noxfile", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_suite_runs_on_every_core_on_sqlite_in_memory_and_on_the_memory_store() -> None:
    workers = _noxfile()._workers
    for test_db in (None, "", "memory"):
        options = workers(test_db)
        assert options[:2] == ["--numprocesses", "auto"], test_db
        assert "--maxprocesses" in options


def test_the_suite_runs_in_one_process_on_a_shared_sql_database() -> None:
    workers = _noxfile()._workers
    assert workers("postgresql+psycopg://postgres@127.0.0.1:5432/ancv_suite") == []
    assert workers("sqlite:////tmp/suite.db") == []
