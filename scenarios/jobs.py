"""A run's jobs (its shards, its replications) played in other processes: the standard library's process pool on
this machine (`--workers K`), or an existing Dask cluster (`--dask tcp://HOST:PORT`).

A job is one world with one seed, played in-process on the memory store; what comes back is plain data. The
results are returned in the jobs' order whatever order they finish in, so the worker count changes nothing.
A job that fails or a worker process that dies fails the whole run (`JobsError`): a summary missing a world
or a replication would look complete and be wrong.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from . import spec

DASK_ADDRESS = re.compile(r"tcp://[A-Za-z0-9._\-\[\]:]+:[0-9]{1,5}")
DASK_CONNECT_TIMEOUT_S = 10


class JobsError(Exception):
    """The jobs could not all be played; the message says which and why, in one line."""


@dataclass(frozen=True)
class Job:
    """One world (a shard's scenario, or the whole scenario) played with one seed."""

    world: spec.Scenario
    seed: int
    label: str = "the run"  # which part of the run, for messages: "shard 2", "replication 3"
    events: bool = False  # send the timeline back (for the HTML report)

    @property
    def name(self) -> str:
        return f"{self.label} (seed {self.seed})"


@dataclass(frozen=True)
class Outcome:
    """What a job sends back: its world's summary, and its timeline when asked for."""

    summary: dict[str, Any]
    events: list[dict[str, Any]] | None
    cpu_seconds: float = 0.0  # the job's own processor time (its wall time depends on what else runs)


def play(job: Job) -> Outcome:
    """Play one job in this process: its world in-process, on the memory store."""
    import simpy

    from .in_process import InProcessPlatform
    from .runner import run

    started = time.process_time()
    result = run(job.world, InProcessPlatform(job.world.start, job.seed), simpy.Environment(), seed=job.seed)
    return Outcome(result.summary, result.events if job.events else None, time.process_time() - started)


Done = Callable[[Job, Outcome, int, int], None]  # (the job just finished, its outcome, how many are, of how many)


def default_workers() -> int:
    """As many workers as this process may use cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def execute(jobs: Sequence[Job], *, workers: int | None = None, dask: str | None = None,
            player: Callable[[Job], Outcome] | None = None, done: Done | None = None) -> list[Outcome]:
    """Every job's outcome, in the jobs' order; a JobsError if one failed or its worker died."""
    player = player or play
    done = done or (lambda job, outcome, finished, total: None)
    if dask is not None:
        return _on_dask(dask, jobs, player, done)
    return _on_processes(jobs, workers or default_workers(), player, done)


def _on_processes(jobs: Sequence[Job], workers: int, player: Callable[[Job], Outcome],
                  done: Done) -> list[Outcome]:
    from . import in_process  # noqa: F401  (imported before the pool forks: workers start with it loaded)

    outcomes: list[Outcome | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures: dict[Future[Outcome], int] = {pool.submit(player, job): i for i, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):
                i = futures[future]
                outcomes[i] = outcome = _outcome(future, jobs[i], jobs, outcomes)
                done(jobs[i], outcome, sum(o is not None for o in outcomes), len(jobs))
        except BaseException:  # the jobs not started yet are dropped; those running finish first
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [o for o in outcomes if o is not None]


def _outcome(future: Future[Outcome], job: Job, jobs: Sequence[Job], outcomes: list[Outcome | None]) -> Outcome:
    try:
        return future.result()
    except BrokenProcessPool:
        unfinished = [j.name for j, o in zip(jobs, outcomes, strict=True) if o is None]
        raise JobsError(f"a worker process died (killed, out of memory, or exited) with {len(unfinished)} of "
                        f"{len(jobs)} jobs unfinished ({', '.join(unfinished[:3])}"
                        f"{', …' if len(unfinished) > 3 else ''}); no summary, since part of the run is missing"
                        ) from None
    except Exception as error:
        raise JobsError(f"{job.name} failed: {type(error).__name__}: {error}") from error


def _on_dask(address: str, jobs: Sequence[Job], player: Callable[[Job], Outcome], done: Done) -> list[Outcome]:
    if not DASK_ADDRESS.fullmatch(address):
        raise JobsError(f"--dask {address!r}: a Dask scheduler's address is expected, e.g. tcp://10.0.0.5:8786")
    from distributed import Client, as_completed
    from distributed.scheduler import KilledWorker

    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
    except Exception as error:  # refused, timed out, or not a Dask scheduler: one line, whatever Dask raised
        raise JobsError(f"--dask {address}: no Dask scheduler answered within {DASK_CONNECT_TIMEOUT_S} s "
                        f"({type(error).__name__})") from None
    with client:
        futures = client.map(player, jobs, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        outcomes: list[Outcome | None] = [None] * len(jobs)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                try:
                    outcomes[i] = outcome = future.result()
                except KilledWorker:
                    raise JobsError(f"a Dask worker died running {jobs[i].name} (the cluster gave up on it after "
                                    "its retries); no summary, since part of the run is missing") from None
                except Exception as error:
                    raise JobsError(f"{jobs[i].name} failed on the Dask cluster: {type(error).__name__}: "
                                    f"{error}") from error
                done(jobs[i], outcome, sum(o is not None for o in outcomes), len(jobs))
        finally:
            client.cancel(futures)
    return [o for o in outcomes if o is not None]
