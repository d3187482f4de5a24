"""`ancv-sandbox recette start|status|report`: the cahier de recette (issue 17) from a CI job, against a
running server over HTTP (`sandbox.client.ControlClient`).

Exit codes, for CI: `status` and `report` give 0 only when every case of the campaign passed, 1 when one
failed, was not played or is still running; every command gives 2 on a usage or connection error, in one
line on stderr. The options are declared without importing the HTTP client: `ancv-sandbox` builds its
whole command line before `serve` patches the standard library for gevent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HOLDER_KINDS = ("shop", "provider")
FORMATS = {"html": "", "xml": ".xml", "json": ".json"}
PASSED = "passed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `recette` command's subcommands and options."""
    commands = parser.add_subparsers(dest="recette_command", required=True)
    start = commands.add_parser("start", help="start a campaign and print its JSON (each case's identifiers)")
    status = commands.add_parser("status", help="one line per case: status, id, title, first reason")
    report = commands.add_parser("report", help="write the campaign's report (HTML, JUnit XML or JSON)")
    for command in (start, status, report):
        command.add_argument("--url", required=True, help="the running sandbox, e.g. http://127.0.0.1:8421")
        command.add_argument("--admin-token", help="the server's admin token, if it has one")
    start.add_argument("--holder", type=_holder, metavar="shop:ID|provider:ID",
                       help="whose key the integration seals with (default: the first point of sale of the fixtures)")
    start.add_argument("--cases", type=_cases, metavar="ID,ID", help="only these cases (default: the whole catalogue)")
    for command in (status, report):
        command.add_argument("campaign", metavar="ID", help="the campaign's id (rc-1…)")
    report.add_argument("--end", action="store_true", help="end the campaign first (cases not played are reported so)")
    report.add_argument("--format", choices=tuple(FORMATS), default="html", help="default: %(default)s")
    report.add_argument("--output", metavar="FILE", help="write the report into FILE (default: stdout)")


def _holder(text: str) -> tuple[str, int]:
    kind, _, number = text.partition(":")
    if kind not in HOLDER_KINDS or not number.isascii() or not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected shop:ID or provider:ID, e.g. shop:10000065")
    return kind, int(number)


def _cases(text: str) -> list[str]:
    cases = [name.strip() for name in text.split(",") if name.strip()]
    if not cases:
        raise argparse.ArgumentTypeError("expected case ids separated by commas, e.g. immediate-payment,https")
    return cases


def main(args: argparse.Namespace) -> int:
    """Run one `recette` subcommand; its exit code."""
    import requests

    from .client import ControlClient, ControlError, HttpTransport

    control = ControlClient(HttpTransport(args.url, timeout=30), args.admin_token)
    try:
        if args.recette_command == "start":
            return _start(control, args)
        if args.recette_command == "status":
            return _status(control.recette(args.campaign))
        return _report(control, args)
    except ControlError as exc:
        said = exc.message if isinstance(exc.body, dict) else "not an answer of the sandbox's control plane"
        return _fail(f"{exc.status} {exc.code}: {said}" + (f" ({exc.detail})" if exc.detail else ""))
    except requests.RequestException as exc:
        return _fail(f"cannot reach {args.url} ({type(exc).__name__})")
    except OSError as exc:  # --output cannot be written
        return _fail(str(exc))


def _fail(message: str) -> int:
    print(f"ancv-sandbox recette: {message}", file=sys.stderr)
    return 2


def _start(control: Any, args: argparse.Namespace) -> int:
    if args.holder:
        kind, holder_id = args.holder
    else:
        # campaigns add a point of sale per case to the fixtures: the default is the first one they did not make
        made = {case["identifiers"].get("shopId") for line in control.recettes()
                for case in control.recette(line["id"])["cases"]}
        points = [p for p in control.fixtures()["pointsOfSale"] if p["shopId"] not in made]
        if not points:
            return _fail("the sandbox has no point of sale: give --holder")
        kind, holder_id = "shop", points[0]["shopId"]
    campaign = control.start_recette(kind, holder_id, args.cases)
    print(json.dumps(campaign, ensure_ascii=False, indent=2))
    return 0


def _verdict(campaign: dict[str, Any]) -> int:
    """0 when every case passed, else 1."""
    cases = campaign.get("cases", [])
    return 0 if cases and all(case["status"] == PASSED for case in cases) else 1


def _status(campaign: dict[str, Any]) -> int:
    width = max((len(case["id"]) for case in campaign["cases"]), default=0)
    for case in campaign["cases"]:
        reasons = case.get("reasons") or []
        why = f"  ({reasons[0]['en']})" if reasons else ""
        print(f"{case['status']:<10}  {case['id']:<{width}}  {case['title']['en']}{why}")
    summary = campaign.get("summary", {})
    print(f"{campaign['id']}: {campaign['status']} ({summary.get('passed', 0)}/{summary.get('total', 0)} passed)")
    return _verdict(campaign)


def _report(control: Any, args: argparse.Namespace) -> int:
    campaign = control.end_recette(args.campaign) if args.end else control.recette(args.campaign)
    text = (json.dumps(campaign, ensure_ascii=False, indent=2) + "\n" if args.format == "json"
            else control.recette_report(args.campaign, FORMATS[args.format]))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return _verdict(campaign)
