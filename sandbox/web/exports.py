"""The portal's "Exporter": the operations table as a real Excel file (.xlsx) or CSV (French Excel style)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..domain.operations import Operation
from ..services.emails import euros, french_date

HEADERS = ["Dernière action", "N° de panier", "Type de paiement", "Statut", "Montant demandé", "Montant reçu"]


def as_csv(found: list[Operation]) -> bytes:
    """`;`-separated with a BOM, amounts as "42,00": what French Excel opens as is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for o in found:
        writer.writerow([french_date(o.updated), o.order_id, o.kind, o.status, _plain(o.requested),
                         "" if o.received is None else _plain(o.received)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(found: list[Operation]) -> bytes:
    """Amounts as numbers in euros (exact decimals from cents) with a euro format."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Opérations"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="003F7D")
    for o in found:
        sheet.append([french_date(o.updated), o.order_id, o.kind, o.status, Decimal(o.requested) / 100,
                      None if o.received is None else Decimal(o.received) / 100])
    for row in sheet.iter_rows(min_row=2, min_col=5, max_col=6):
        for cell in row:
            cell.number_format = '#,##0.00 "€"'
    for column, width in zip("ABCDEF", (18, 22, 24, 28, 16, 14), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _plain(cents: int) -> str:
    return euros(cents).replace("\u00a0€", "").replace("\u202f", "")
