"""Exporter (Espace d'encaissement and Mes remboursements): spreadsheets an accountant can use, that no
order id or libellé can turn into a formula or into a broken file (issue 14, items 8, 10, 11, 12)."""

import csv
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.people import Merchant

DAY_S = 86_400
PAID_BY_S = 7 * DAY_S + 6 * 3600  # Tuesday 02/06 → Tuesday 09/06 16h00: the day's payments are reimbursed
HOSTILE = ["=HYPERLINK(\"http://evil.example/\",\"Cliquez\")", "+33612345678", "-2+3", "@SUM(A1:A2)",
           "\tcmd", "\rcmd"]


@pytest.fixture
def merchant(world):
    return Merchant(world, world.shop())


def paid(world, order_id, amount=4000, paid_amount=None, **create):
    """A transaction of the shop, authorized by the manual beneficiary (for `paid_amount` when given)."""
    kit = world.kit()
    tx = kit.create_transaction(order_id, "1", amount, **create)["transaction"]
    ben = world.beneficiary("manual")
    assert kit.set_payer(tx["id"], ben["beneficiaryId"], paid_amount).status == 202
    return world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]


def sheet_of(reply):
    assert reply.status_code == 200, reply.status_code
    return load_workbook(io.BytesIO(reply.data)).active


def xml_of(reply):
    """The worksheet as Excel reads it (formulas are <f> elements)."""
    return zipfile.ZipFile(io.BytesIO(reply.data)).read("xl/worksheets/sheet1.xml").decode()


def csv_rows(reply):
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(reply.data.decode("utf-8-sig")), delimiter=";"))


def test_the_operations_export_has_real_dates_and_the_columns_an_accountant_matches(world, merchant):
    tx = paid(world, "FACT-2026-001", 4000, 3000, label="Séjour juin", application_context={"customerId": "CLI42"})
    sheet = sheet_of(merchant.get("/encaissement/export.xlsx"))
    header = [c.value for c in sheet[1]]
    assert header == ["Date de création", "Dernière action", "N° de panier", "N° de transaction", "Type de paiement",
                      "Statut", "Libellé", "Référence client", "Montant demandé", "Montant reçu", "Reste dû"]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["Dernière action"].value == datetime(2026, 6, 2, 10, 0)  # 08h00 UTC is 10h00 in Paris
    assert row["Dernière action"].is_date and row["Dernière action"].number_format == "dd/mm/yyyy hh:mm"
    assert [row[name].value for name in header[2:]] == [
        "FACT-2026-001", tx["id"], "Paiement immédiat", "Validé", "Séjour juin", "CLI42", 40, 30, 10]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:K2"

    lines = csv_rows(merchant.get("/encaissement/export.csv"))
    assert lines[0] == header
    assert lines[1] == ["02/06/2026 10:00", "02/06/2026 10:00", "FACT-2026-001", tx["id"], "Paiement immédiat",
                        "Validé", "Séjour juin", "CLI42", "40,00", "30,00", "10,00"]


def test_the_reimbursements_export_has_real_dates_libelle_and_reference_client(world, merchant):
    tx = paid(world, "FACT-7", 4000, label="Nuitée", application_context={"customerId": "CLI7"})
    world.advance(PAID_BY_S)
    sheet = sheet_of(merchant.get("/remboursements/export.xlsx"))
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["Date de virement"].value == datetime(2026, 6, 9) and row["Date de virement"].is_date
    assert row["Journée des transactions"].value == datetime(2026, 6, 2)
    assert row["Date du paiement"].value == datetime(2026, 6, 2, 10, 0)
    assert (row["N° de transaction"].value, row["Libellé"].value, row["Référence client"].value) == (
        tx["id"], "Nuitée", "CLI7")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:M2"
    [_, line] = csv_rows(merchant.get("/remboursements/export.csv"))
    assert line[:2] == ["09/06/2026", "02/06/2026"] and line[-5:] == ["02/06/2026 10:00", line[-4], "40,00",
                                                                       "1,00", "39,00"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_an_order_id_or_libelle_that_looks_like_a_formula_stays_text(world, merchant, hostile):
    world.kit().create_pre_transaction(hostile, 1000, world.later(hours=2), label=hostile)
    reply = merchant.get("/encaissement/export.xlsx")
    assert "<f>" not in xml_of(reply)
    row = [c for c in sheet_of(reply)[2]]
    for cell in (row[2], row[6]):  # XML reads a CR back as LF: compare what follows
        assert cell.value.lstrip() == hostile.lstrip() and cell.data_type == "s" and cell.quotePrefix
    line = csv_rows(merchant.get("/encaissement/export.csv"))[1]
    assert line[2] == line[6] == "'" + hostile  # OWASP: a leading single quote makes it text


@pytest.mark.parametrize("hostile", ["=1+1", "-1", "@A1"])
def test_the_reimbursements_export_neutralises_formulas_too_but_not_amounts(world, merchant, hostile):
    paid(world, hostile, 4000, label=hostile)
    world.advance(PAID_BY_S)
    reply = merchant.get("/remboursements/export.xlsx")
    assert "<f>" not in xml_of(reply)
    header, *rows = sheet_of(reply).iter_rows()
    names = [c.value for c in header]
    row = {name: cell for name, cell in zip(names, rows[0], strict=True)}
    assert row["N° de panier"].value == row["Libellé"].value == hostile and row["N° de panier"].quotePrefix
    assert row["Net"].value == 39 and row["Net"].data_type == "n"
    [_, line] = csv_rows(merchant.get("/remboursements/export.csv"))
    assert line[4] == line[6] == "'" + hostile and line[-3:] == ["40,00", "1,00", "39,00"]


def test_a_negative_amount_is_a_number_not_neutralised_text(world, merchant):
    paid(world, "REF-1", 4000, 2500)
    sheet = sheet_of(merchant.get("/encaissement/export.xlsx"))
    assert [c.data_type for c in sheet[2][8:]] == ["n", "n", "n"]
    assert csv_rows(merchant.get("/encaissement/export.csv"))[1][8:] == ["40,00", "25,00", "15,00"]


def test_an_order_id_with_a_control_character_does_not_break_the_shop_s_exports(world, merchant):
    world.kit().create_pre_transaction("REF\x01\x1b[31m", 1000, world.later(hours=2), label="bip\x07")
    paid(world, "CTRL\x02", 4000)
    world.advance(PAID_BY_S)
    for path in ("/encaissement/export.xlsx", "/remboursements/export.xlsx"):
        assert sheet_of(merchant.get(path)).max_row >= 2, path
    values = [c.value for row in sheet_of(merchant.get("/encaissement/export.xlsx")).iter_rows() for c in row]
    assert "REF\ufffd\ufffd[31m" in values and "bip\ufffd" in values and "CTRL\ufffd" in values
    assert "REF\ufffd\ufffd[31m" in merchant.get("/encaissement/export.csv").data.decode()


def test_the_csv_content_type_names_its_charset_once(world, merchant):
    for path in ("/encaissement/export.csv", "/remboursements/export.csv"):
        assert merchant.get(path).headers["Content-Type"] == "text/csv; charset=utf-8", path
