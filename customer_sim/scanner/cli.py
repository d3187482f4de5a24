"""`ancv-sandbox scan`: point a camera (or a recording) at codes and act on what it reads.

    --as beneficiary --beneficiary ID [--pin CODE] [--amount EUR]   pays merchants' payment QR codes
    --as merchant --shop SHOP_ID --amount EUR                       charges beneficiaries' CVCoId codes

Exit status: 0 when every accepted read ended in a payment, 1 when one did not or nothing was
read, 2 when the command, the source or the server cannot be used (the message says why),
130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from sandbox.client import ControlClient, ControlError, HttpTransport, shop_client
from sandbox.domain.french import parse_euros

from . import codes, decoders, sources
from .actions import ChargeAsMerchant, Outcome, PayAsBeneficiary
from .codes import IdentifierCode, PaymentCode, Refused
from .scanner import Reading, Scanner


class UsageError(Exception):
    """The command cannot run as asked; the message says why."""


def main(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        act, wanted = _role(args)
        source = sources.open_source(args.source)
        accept = codes.Acceptor(codes.kit_bases(args.server, args.public_url), wanted)
        if args.realtime and not source.live:
            source = sources.Paced(source)
        decoder = _decoder(args.decoder, accept, live=source.live)
    except (UsageError, sources.SourceError) as error:
        print(f"ancv-sandbox scan: {error}", file=err)
        return 2
    preview = None
    if args.preview:
        from .preview import open_preview

        preview = open_preview()
        print(f"preview: {preview.description}", file=err)
    scanner = Scanner(decoder, accept, on_frame=_shown_on(preview) if preview else None)
    print(f"scanning {source.description} as {args.role}…", file=err)
    outcomes: list[Outcome] = []
    status = 0
    try:
        with sources.Capture(source) as capture:
            for item in scanner.scan(capture.frames()):
                if isinstance(item, Refused):
                    print(f"ignored {item.text!r}: {item.reason}", file=err)
                    continue
                outcome = act(item.code)
                outcomes.append(outcome)
                _report(item, outcome, args.json, out)
                if args.once:
                    break
            skipped = capture.skipped
    except sources.SourceError as error:
        print(f"ancv-sandbox scan: {error}", file=err)
        return 2
    except KeyboardInterrupt:
        status, skipped = 130, 0
    finally:
        if preview is not None:
            preview.close()
    _summary(scanner, skipped, args.json, out, err)
    if status:
        return status
    return 0 if outcomes and all(o.ok for o in outcomes) else 1


def _shown_on(preview: Any) -> Callable[[sources.Frame, list[decoders.Symbol]], None]:
    return lambda frame, symbols: preview.show(frame.image, symbols)


def _role(args: argparse.Namespace) -> tuple[Callable[[PaymentCode | IdentifierCode], Outcome], type[Any]]:
    """What to do with a read, after checking the server and the account."""
    transport = HttpTransport(args.server, timeout=30.0)
    control = ControlClient(transport, args.admin_token)
    try:
        control.health()
        fixtures = control.fixtures()
    except ControlError as error:
        hint = " (give its --admin-token)" if error.status == 401 else ""
        raise UsageError(f"the sandbox at {args.server} refused the control plane: {error.message}{hint}") from error
    except OSError as error:
        raise UsageError(f"cannot reach the sandbox at {args.server} ({error.__class__.__name__}); "
                         "is `ancv-sandbox serve` running?") from error
    amount = _cents(args.amount) if args.amount is not None else None
    if args.role == "beneficiary":
        if not args.beneficiary:
            raise UsageError("--as beneficiary needs --beneficiary ID")
        pin = args.pin or next((b["pin"] for b in fixtures["beneficiaries"]
                                if b["beneficiaryId"] == args.beneficiary), None)
        if pin is None:
            raise UsageError(f"beneficiary {args.beneficiary} is not among the sandbox's accounts; give its --pin")
        return PayAsBeneficiary(control, args.beneficiary, pin, amount), PaymentCode
    if not args.shop or amount is None:
        raise UsageError("--as merchant needs --shop SHOP_ID and --amount EUR")
    point_of_sale = next((p for p in fixtures["pointsOfSale"] if str(p["shopId"]) == args.shop), None)
    if point_of_sale is None:
        known = ", ".join(str(p["shopId"]) for p in fixtures["pointsOfSale"][:5])
        raise UsageError(f"no point of sale {args.shop} in this sandbox (some that exist: {known})")
    return ChargeAsMerchant(shop_client(transport, point_of_sale), amount, wait_s=args.wait), IdentifierCode


def _cents(text: str) -> int:
    try:
        cents = parse_euros(text)
    except ValueError:
        raise UsageError(f"--amount {text!r}: an amount in euros, like 40 or 12,50") from None
    if cents <= 0:
        raise UsageError("--amount must be more than 0")
    return cents


def _decoder(name: str, accept: codes.Acceptor, *, live: bool) -> decoders.Decoder:
    """The decoder named; the combination judges reads as `accept` does, and spreads its retries when live."""
    try:
        if name == "combination":
            chain = decoders.scanner_decoder(valid=lambda text: not isinstance(accept.classify(text), Refused))
            return decoders.Spread(chain) if live else chain
        return decoders.DECODERS[name]()
    except ImportError as error:  # pyzbar without Debian's libzbar0, most likely
        raise UsageError(f"the {name} decoder cannot load here ({error}); "
                         "on Debian: apt-get install libzbar0") from error


def _report(reading: Reading, outcome: Outcome, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps({**reading.to_json(), "outcome": outcome.to_json()}, ensure_ascii=False), file=out, flush=True)
        return
    code = reading.code
    what = (f"payment request {code.pre_transaction_id}" if isinstance(code, PaymentCode)
            else f"beneficiary {code.beneficiary_id}")
    mark = "✓" if outcome.ok else "✗"
    transaction = f", transaction {outcome.transaction_id}" if outcome.transaction_id else ""
    print(f"{mark} read {what} ({reading.symbol.decoder}, {reading.decode_ms:.0f} ms) → {outcome.message} "
          f"[{outcome.state}{transaction}]", file=out, flush=True)


def _summary(scanner: Scanner, skipped: int, as_json: bool, out: TextIO, err: TextIO) -> None:
    tally = scanner.tally
    times = sorted(tally.decode_ms)
    median = times[len(times) // 2] if times else None
    print(f"{tally.frames_decoded} frames decoded, {skipped} skipped, {tally.frames_read} read, "
          f"{tally.accepted} codes accepted, {len(tally.refused)} refused"
          + (f", median {median:.1f} ms per frame" if median is not None else ""), file=err)
    if as_json:  # the last line: what the loop did, after the reads
        summary = {"framesDecoded": tally.frames_decoded, "framesSkipped": skipped, "framesRead": tally.frames_read,
                   "accepted": tally.accepted, "refused": len(tally.refused),
                   "medianMs": round(median, 1) if median is not None else None}
        print(json.dumps({"summary": summary}), file=out, flush=True)

