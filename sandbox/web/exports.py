"""The portal's "Exporter": a table as a real Excel file (.xlsx) or CSV (French Excel style).

Two tables: the operations of the Espace d'encaissement, and the reimbursed transactions of Mes
remboursements. What an accountant needs from them: amounts come in as cents (`Cents`) and leave
as euros (exact decimals with a euro format in Excel, "42,00" in the CSV); dates are real dates in
Paris time (date cells in Excel, "02/06/2026 10:00" in the CSV), so a column sorts and filters;
the header row stays frozen with an auto-filter on it.

Text the merchant or an integrator typed (an order id, a libellé) is untrusted: a value starting
with "=", "+", "-", "@", TAB or CR would run as a formula in a spreadsheet (OWASP "CSV injection"),
so it is written as text in Excel and prefixed with a single quote in the CSV; control characters,
which Excel files cannot hold, are replaced.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NewType

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..domain.dates import PARIS
from ..domain.french import calendar_day, plain_euros, spreadsheet_moment
from ..domain.operations import Operation
from ..services.reimbursements import Reimbursement

Cents = NewType("Cents", int)  # an amount column of a row
Cell = str | Cents | datetime | date | None
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EURO_FORMAT = '#,##0.00 "€"'
DATETIME_FORMAT, DATE_FORMAT = "dd/mm/yyyy hh:mm", "dd/mm/yyyy"  # Excel's codes
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0 controls but TAB, LF and CR: XML 1.0 (hence .xlsx) cannot hold them, so openpyxl refuses the file
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"  # shows the merchant where a character was dropped

HEADERS = ["Date de création", "Dernière action", "N° de panier", "N° de transaction", "Type de paiement",
           "Statut", "Libellé", "Référence client", "Montant demandé", "Montant reçu", "Reste dû"]
WIDTHS = (17, 17, 22, 16, 24, 28, 30, 18, 16, 14, 12)
REFUND_HEADERS = ["Date de virement", "Journée des transactions", "Point d'accueil", "N° de virement",
                  "N° de panier", "N° de transaction", "Libellé", "Référence client", "Date du paiement",
                  "N° de bordereau", "Montant", "Commission", "Net"]
REFUND_WIDTHS = (16, 22, 36, 30, 22, 16, 30, 18, 17, 16, 12, 12, 12)


def _local(moment: datetime) -> datetime:
    """Paris wall time without a zone: spreadsheets have no time zones."""
    return moment.astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)


def _cents(amount: int | None) -> Cents | None:
    return None if amount is None else Cents(amount)


def _operation_rows(found: list[Operation]) -> list[list[Cell]]:
    return [[_local(o.created), _local(o.updated), o.order_id, o.transaction_id, o.kind, o.status, o.label,
             o.customer_ref, Cents(o.requested), _cents(o.received), _cents(o.left_to_pay)] for o in found]


def _refund_rows(found: list[Reimbursement]) -> list[list[Cell]]:
    return [[r.payment_date, r.transaction_day, r.point, r.transfer_id, line.order_id, line.transaction_id,
             line.label, line.customer_ref, _local(line.validated), line.slip_number, Cents(line.total),
             Cents(line.fee), Cents(line.net)]
            for r in found for line in r.transactions]


def as_csv(found: list[Operation]) -> bytes:
    """The operations table."""
    return table_csv(HEADERS, _operation_rows(found))


def as_xlsx(found: list[Operation]) -> bytes:
    """The operations table."""
    return table_xlsx("Opérations", HEADERS, WIDTHS, _operation_rows(found))


def refunds_csv(found: list[Reimbursement]) -> bytes:
    """One line per reimbursed transaction, with its transfer."""
    return table_csv(REFUND_HEADERS, _refund_rows(found))


def refunds_xlsx(found: list[Reimbursement]) -> bytes:
    """One line per reimbursed transaction, with its transfer."""
    return table_xlsx("Remboursements", REFUND_HEADERS, REFUND_WIDTHS, _refund_rows(found))


def printable(text: str) -> str:
    """Text without the control characters an Excel file cannot hold."""
    return CONTROL.sub(REPLACEMENT, text)


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula (or the start of one)?"""
    return text.startswith(FORMULA_STARTS)


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return spreadsheet_moment(cell)
    if isinstance(cell, date):
        return calendar_day(cell)
    if isinstance(cell, int):
        return plain_euros(cell)
    text = printable(cell)
    return "'" + text if is_formula_like(text) else text  # OWASP: a leading quote makes it text


def table_csv(headers: list[str], rows: list[list[Cell]]) -> bytes:
    """`;`-separated with a BOM, amounts as "42,00", dates as "02/06/2026 10:00": what French Excel opens as is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(title: str, headers: list[str], widths: Sequence[int], rows: list[list[Cell]]) -> bytes:
    """Amounts as numbers in euros (exact decimals from cents), dates as dates, text always as text."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="003F7D")
    for index, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(index, column)
            if isinstance(value, datetime):
                cell.value, cell.number_format = value, DATETIME_FORMAT
            elif isinstance(value, date):
                cell.value, cell.number_format = value, DATE_FORMAT
            elif isinstance(value, int):
                cell.value, cell.number_format = Decimal(value) / 100, EURO_FORMAT
            else:
                # openpyxl makes a formula of any string starting with "=": force a text cell, and
                # quotePrefix keeps it text when someone edits it in Excel
                cell.value = printable(value)
                cell.data_type = "s"
                if is_formula_like(cell.value):
                    cell.quotePrefix = True
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(rows) + 1)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
