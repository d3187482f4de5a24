"""The portal's "Exporter": a table as a real Excel file (.xlsx) or CSV (French Excel style).

Two tables: the operations of the Espace d'encaissement, and the reimbursed transactions of Mes
remboursements. Amounts come in as cents (`Cents`) and leave as euros: exact decimals with a euro
format in Excel, "42,00" in the CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import NewType

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..domain.operations import Operation
from ..services.emails import euros, french_date
from ..services.reimbursements import Reimbursement

Cents = NewType("Cents", int)  # an amount column of a row
Cell = str | Cents | None
EURO_FORMAT = '#,##0.00 "€"'

HEADERS = ["Dernière action", "N° de panier", "Type de paiement", "Statut", "Montant demandé", "Montant reçu"]
WIDTHS = (18, 22, 24, 28, 16, 14)
REFUND_HEADERS = ["Date de virement", "Journée des transactions", "Point d'accueil", "N° de virement",
                  "N° de panier", "N° de transaction", "Date du paiement", "N° de bordereau", "Montant",
                  "Commission", "Net"]
REFUND_WIDTHS = (16, 22, 36, 30, 22, 16, 18, 16, 12, 12, 12)


def _operation_rows(found: list[Operation]) -> list[list[Cell]]:
    return [[french_date(o.updated), o.order_id, o.kind, o.status, Cents(o.requested),
             None if o.received is None else Cents(o.received)] for o in found]


def _refund_rows(found: list[Reimbursement]) -> list[list[Cell]]:
    return [[f"{r.payment_date:%d/%m/%Y}", f"{r.transaction_day:%d/%m/%Y}", r.point, r.transfer_id, line.order_id,
             line.transaction_id, french_date(line.validated), line.slip_number, Cents(line.total), Cents(line.fee),
             Cents(line.net)]
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


def table_csv(headers: list[str], rows: list[list[Cell]]) -> bytes:
    """`;`-separated with a BOM, amounts as "42,00": what French Excel opens as is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else _plain(cell) if isinstance(cell, int) else cell for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(title: str, headers: list[str], widths: Sequence[int], rows: list[list[Cell]]) -> bytes:
    """Amounts as numbers in euros (exact decimals from cents) with a euro format."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="003F7D")
    for row in rows:
        sheet.append([Decimal(cell) / 100 if isinstance(cell, int) else cell for cell in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=True):
            if isinstance(value, int):
                cell.number_format = EURO_FORMAT
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _plain(cents: int) -> str:
    return euros(cents).replace("\u00a0€", "").replace("\u202f", "")
