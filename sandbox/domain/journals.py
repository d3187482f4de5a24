"""The daily journals (Kit §5.2): DLO (operations, §5.2.1) and BRJ (reimbursements, §5.2.2), as text.

Pure functions, no I/O: which transactions go in a journal, when it is made and where it is
stored belong to the acquisition runs; this module only writes the format and reads it back.

Each field is the Kit's path into the transaction JSON ("transaction → payer → authorization →
holder"), read from `wire.transaction_json`: "the encoding of the fields is the one of the
WebService/JSON exchanges", so dates, amounts (cents), currency, the payer's reference and the
masked holder come from the one place that writes them.

Decisions the Kit leaves open:
- file names carry their dates as compact `yyyyMMdd` (`DLO_28615806_20260601_20260602.csv`);
- lines end with "\\n" (the Kit's examples are plain lines); `parse` also accepts "\\r\\n";
- ';' separates fields; an absent value is an empty field (two separators in a row); a field
  holding ';', '"', CR or LF is put in double quotes with its quotes doubled, as RFC 4180 does,
  so `csv.reader(..., delimiter=";")` reads every line back;
- the file ends with the line "EOF" followed by a line ending.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .dates import format_date, parse_date
from .transactions import Transaction
from .wire import transaction_json

DLO, BRJ = "DLO", "BRJ"
KINDS = (DLO, BRJ)
END = "EOF"
NEWLINE = "\n"
SEPARATOR = ";"
HEADER_FIELDS = ("type", "recipient", "creationDate", "transactionNumber")
CVCO_REFUND = "CVCo"

# Kit §5.2.1: code -> path in the transaction JSON. authorizationType is what wire.py writes ("CVCo",
# Kit §6.2.2.19), not the "CVD"/"CV_CONNECT" of the Kit's journal examples: one encoding, the JSON's.
DLO_PATHS: dict[str, tuple[str | int, ...]] = {
    "transactionId": ("id",),
    "updateDate": ("updateDate",),
    "state": ("state",),
    "subState": ("subState",),
    "shopId": ("merchant", "shopId"),
    "shopAssistantId": ("merchant", "shopAssistantId"),
    "terminalId": ("merchant", "terminalId"),
    "orderId": ("order", "id"),
    "paymentId": ("order", "paymentId"),
    "orderLabel": ("order", "label"),
    "amountTotal": ("order", "amount", "total"),
    "amountCurrency": ("order", "amount", "currency"),
    "tspdMode": ("paymentMethod", "tspdMode"),
    "cancellationDate": ("cancellation", "effectiveDate"),
    "cancellationReason": ("cancellation", "reason"),
    "cancellationLabel": ("cancellation", "label"),
    "beneficiaryId": ("payers", 0, "beneficiaryId"),
    "authorizationType": ("payers", 0, "authorizations", 0, "type"),
    "authorizationAmount": ("payers", 0, "authorizations", 0, "amount", "total"),
    "authorizationNumber": ("payers", 0, "authorizations", 0, "number"),
    "authorizationDate": ("payers", 0, "authorizations", 0, "validationDate"),
    "authorizationHolder": ("payers", 0, "authorizations", 0, "holder"),
}

# Kit §5.2.2: the refund's fields are relative to the one refund the line reports ("refund" below);
# slipId is not in the JSON: it is the slip the transaction was handed to ANCV with.
BRJ_PATHS: dict[str, tuple[str | int, ...]] = {
    "transactionId": ("id",),
    "updateDate": ("updateDate",),
    "shopId": ("merchant", "shopId"),
    "orderId": ("order", "id"),
    "orderLabel": ("order", "label"),
    "paymentId": ("order", "paymentId"),
    "amountTotal": ("refund", "amount", "total"),
    "amountRefund": ("refund", "amount", "net"),
    "amountFee": ("refund", "amount", "fee"),
    "amountCurrency": ("refund", "amount", "currency"),
    "refundDate": ("refund", "effectiveDate"),
    "refundType": ("refund", "type"),
}

DLO_FIELDS: tuple[str, ...] = tuple(DLO_PATHS)
BRJ_FIELDS: tuple[str, ...] = (*BRJ_PATHS, "slipId")
FIELDS: dict[str, tuple[str, ...]] = {DLO: DLO_FIELDS, BRJ: BRJ_FIELDS}

_FILE_NAME = re.compile(r"^(?P<kind>[A-Z]{3})_(?P<recipient>.+)_(?P<start>[0-9]{8})_(?P<end>[0-9]{8})\.csv$")
_NEEDS_QUOTES = frozenset(';"\r\n')


# --- file names ------------------------------------------------------------------------
def file_name(kind: str, recipient: str, start: date, end: date) -> str:
    """`{KIND}_{recipient}_{yyyyMMdd}_{yyyyMMdd}.csv`, e.g. `DLO_28615806_20260601_20260602.csv`."""
    _check_kind(kind)
    if not recipient or any(char in recipient for char in "/\\\r\n"):
        raise ValueError(f"recipient {recipient!r} cannot be part of a file name")
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    return f"{kind}_{recipient}_{start:%Y%m%d}_{end:%Y%m%d}.csv"


def parse_file_name(name: str) -> tuple[str, str, date, date]:
    """(kind, recipient, start, end) of a journal's file name; ValueError if it is not one."""
    match = _FILE_NAME.match(name)
    if match is None or match["kind"] not in KINDS:
        raise ValueError(f"{name!r} is not a journal file name (DLO|BRJ_recipient_yyyyMMdd_yyyyMMdd.csv)")
    try:
        start, end = (datetime.strptime(match[key], "%Y%m%d").date() for key in ("start", "end"))
    except ValueError:
        raise ValueError(f"{name!r} carries an impossible date") from None
    return match["kind"], match["recipient"], start, end


# --- writing -----------------------------------------------------------------------------
def dlo_row(tx: Transaction, data: dict[str, Any] | None = None) -> list[str]:
    """The 22 fields of Kit §5.2.1 for this transaction, in order (`data`: its `transaction_json`, when made)."""
    data = transaction_json(tx) if data is None else data
    return [_text(_follow(data, DLO_PATHS[code])) for code in DLO_FIELDS]


def brj_row(tx: Transaction, data: dict[str, Any] | None = None) -> list[str]:
    """The 13 fields of Kit §5.2.2 for this transaction's reimbursement; ValueError without one."""
    if not tx.refunds:
        raise ValueError(f"transaction {tx.transaction_id} has no refund to report in a BRJ journal")
    data = transaction_json(tx) if data is None else data
    data = {**data, "refund": data["refunds"][reported_refund(tx)]}
    return [_text(_follow(data, BRJ_PATHS[code])) for code in BRJ_PATHS] + [_text(tx.slip_number)]


def reported_refund(tx: Transaction) -> int:
    """Index of the one refund a BRJ line reports: ANCV's, in CVCo (Kit §6.2.2.12: there is always one)."""
    return next((index for index, refund in enumerate(tx.refunds) if refund.type == CVCO_REFUND), 0)


def render(kind: str, recipient: str, created: datetime, transactions: Sequence[Transaction],
           as_json: Callable[[Transaction], dict[str, Any]] = transaction_json) -> str:
    """The whole journal: header, one line per transaction (its latest state), "EOF".

    `as_json`: where each transaction's JSON comes from (a night's DLO and BRJ journals share it)."""
    _check_kind(kind)
    row = dlo_row if kind == DLO else brj_row
    latest = latest_states(transactions)
    lines = [[kind, recipient, format_date(created) or "", str(len(latest))]]
    lines += [row(tx, as_json(tx)) for tx in latest]
    lines.append([END])
    return "".join([_line(fields) for fields in lines])


def _line(fields: list[str]) -> str:
    """One line: its fields joined, each quoted when it holds a separator, a quote or a line break."""
    line = SEPARATOR.join(fields)
    if line.count(SEPARATOR) == len(fields) - 1 and '"' not in line and "\r" not in line and "\n" not in line:
        return line + NEWLINE  # most lines: no field needs quotes, three scans of the line tell
    return SEPARATOR.join([_quote(field) for field in fields]) + NEWLINE


def latest_states(transactions: Sequence[Transaction]) -> list[Transaction]:
    """One per transaction id, the latest update (on a tie, the later in the sequence), by (updateDate, id)."""
    latest: dict[str, Transaction] = {}
    for tx in transactions:
        kept = latest.get(tx.transaction_id)
        if kept is None or tx.update_date >= kept.update_date:
            latest[tx.transaction_id] = tx
    return sorted(latest.values(), key=lambda tx: (tx.update_date, tx.transaction_id))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown journal kind {kind!r}: expected DLO or BRJ")


def _follow(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            data = data[step] if isinstance(data, list) and len(data) > step else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
        if data is None:
            return None
    return data


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _quote(field: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(field):
        return field
    return '"' + field.replace('"', '""') + '"'


# --- reading -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Journal:
    kind: str
    recipient: str
    created: str  # as written: yyyy-MM-dd'T'HH:mm:ss.SSS'Z'
    count: int
    rows: list[dict[str, str]]  # keyed by the Kit's field codes


def parse(text: str) -> Journal:
    """A journal read back; ValueError saying what is wrong (header, kind, fields, count, EOF)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR, strict=True)
    lines = _numbered_lines(reader)
    if not lines:
        raise ValueError("empty journal: no header line")
    number, header = lines[0]
    if len(header) != len(HEADER_FIELDS):
        raise ValueError(f"line {number}: the header has {len(header)} fields, expected "
                         f"{len(HEADER_FIELDS)} ({SEPARATOR.join(HEADER_FIELDS)})")
    kind, recipient, created, count_text = header
    _check_kind(kind)
    if not recipient:
        raise ValueError(f"line {number}: the header has no recipient")
    try:
        parse_date(created)
    except ValueError:
        raise ValueError(f"line {number}: the header's creationDate {created!r} is not an ISO 8601 date") from None
    if not (count_text.isascii() and count_text.isdigit()):
        raise ValueError(f"line {number}: the header's transaction count {count_text!r} is not a number")
    fields = FIELDS[kind]
    rows: list[dict[str, str]] = []
    for index, (number, line) in enumerate(lines[1:], start=1):
        if line == [END]:
            if index != len(lines) - 1:
                raise ValueError(f"line {lines[index + 1][0]}: something follows the {END} line")
            break
        if len(line) != len(fields):
            raise ValueError(f"line {number}: {len(line)} fields, a {kind} line has {len(fields)}")
        rows.append(dict(zip(fields, line, strict=True)))
    else:
        raise ValueError(f"missing {END}: the journal ends at line {lines[-1][0]} without its {END} line")
    if int(count_text) != len(rows):
        raise ValueError(f"the header announces {int(count_text)} transactions, the journal has {len(rows)}")
    return Journal(kind, recipient, created, int(count_text), rows)


def _numbered_lines(reader: Any) -> list[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field may span lines)."""
    lines: list[tuple[int, list[str]]] = []
    try:
        start = 1
        for record in reader:
            lines.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        raise ValueError(f"line {reader.line_num}: {error}") from None
    return lines
