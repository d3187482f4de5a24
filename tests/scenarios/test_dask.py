"""`simulate --dask tcp://HOST:PORT`: the same jobs on an existing Dask cluster, here a LocalCluster of two workers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import dask
import pytest
from distributed import LocalCluster

from scenarios import jobs
from tests.scenarios.test_shards import simulate, tiny
from tests.scenarios.test_sweep import ONE_WORLD, without_wall_time


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes; a job whose worker dies is not tried again (by default Dask tries three times)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


def test_a_sweep_on_dask_gives_what_local_processes_give(cluster: LocalCluster, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tiny(tmp_path, ONE_WORLD))
    status, out, err = simulate(capsys, path, "--replications", "2", "--dask", cluster.scheduler_address, "--json")
    on_dask = json.loads(out)
    _, here, _ = simulate(capsys, path, "--replications", "2", "--json")
    assert status == 0 and "[2/2] replication " in err and "replication 1 (seed 6): fini" in err
    assert without_wall_time(on_dask) == without_wall_time(json.loads(here))


def _die(job: jobs.Job) -> jobs.Outcome:
    """A job whose worker process dies on the spot."""
    os._exit(3)


def test_a_dask_worker_that_dies_fails_the_run(cluster: LocalCluster, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    monkeypatch.setattr(jobs, "play", _die)
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--dask", cluster.scheduler_address)
    assert status == 2 and out == ""
    assert err.startswith("ancv-sandbox simulate: a Dask worker died running shard ")
    assert err.endswith("no summary, since part of the run is missing\n")


@pytest.mark.parametrize("address", ["nowhere", "http://127.0.0.1:8786", "tcp://127.0.0.1"])
def test_a_malformed_address_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    address: str) -> None:
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--dask", address)
    assert (status, out) == (2, "")
    assert err == (f"ancv-sandbox simulate: --dask {address!r}: a Dask scheduler's address is expected, "
                   "e.g. tcp://10.0.0.5:8786\n")


def test_an_address_where_no_scheduler_answers_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "DASK_CONNECT_TIMEOUT_S", 1)
    status, out, err = simulate(capsys, str(tiny(tmp_path)), "--dask", "tcp://127.0.0.1:1")
    assert (status, out) == (2, "")
    assert err.startswith("ancv-sandbox simulate: --dask tcp://127.0.0.1:1: no Dask scheduler answered within 1 s")
    assert err.count("\n") == 1
