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
