"""The options of `ancv-sandbox simulate`, apart from the code that runs them.

`ancv-sandbox` builds its whole command line before `serve` patches the standard library for
gevent; this module imports nothing that would load `ssl` (requests, SimPy's clients…) first.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", help="a library scenario's name or a scenario file (.yaml, .toml)")
    parser.add_argument("--list", action="store_true", help="list the library's scenarios")
    parser.add_argument("--seed", type=int, help="seed of this run (default: the scenario's)")
    parser.add_argument("--live", metavar="URL", help="play against a running sandbox (e.g. http://127.0.0.1:8421)")
    parser.add_argument("--speed", type=float, help="live: sandbox seconds per real second (default: the server's)")
    parser.add_argument("--admin-token", help="live: the server's admin token, if it has one")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--report", metavar="DIR", help="write an HTML report with plots into DIR")
    parser.add_argument("--db", help="in-process: keep the sandbox's data in this SQLite file or URL (default: the memory store)")
    parser.add_argument("--shards", type=int, metavar="N",
                        help="split merchants and customers into N independent worlds, one process each (default: the "
                             "scenario's `shards`, else 1)")
    parser.add_argument("--replications", type=int, metavar="N",
                        help="run N seeds (the seed, seed + 1, …) and print each figure's mean and 95%% confidence "
                             "interval, and each expectation's pass rate")
    parser.add_argument("--workers", type=int, metavar="K",
                        help="processes for the shards or replications (default: one per core)")
    parser.add_argument("--dask", metavar="tcp://HOST:PORT",
                        help="send the shards or replications to this Dask scheduler instead of local processes "
                             "(pip install 'ancv-sandbox[dask]'; the workers need ancv-sandbox too)")
