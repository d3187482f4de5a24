"""Espace dédié, Mes remboursements (SPEC §7–8, seeds 001, 003): a point d'accueil's bank transfers, each day's
validated payments paid in one transfer 5 working days later, with the transactions each transfer pays."""

import html
import io
import re

import pytest
from openpyxl import load_workbook

from tests.people import Merchant

DAY_S = 86_400
NBSP = "\u00a0"
# The world starts on Tuesday 02/06/2026 at 10h00 (Paris). Payments of that day are consigned at the 04h00 run
# of Wednesday 03/06 and paid at the run of the 5th working day after, Tuesday 09/06.
PAID_BY_S = 7 * DAY_S + 6 * 3600  # to Tuesday 09/06, 16h00


def text(reply):
    return html.unescape(reply.get_data(as_text=True))


def transfer_rows(page):
    """The transfers table as the merchant reads it: one list of cell texts per row."""
    body = page.split('<table id="transfers">', 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr id=\"transfer-[^\"]+\">(.*?)</tr>", body, re.S)]


def transfer_ids(page):
    return re.findall(r'<tr id="transfer-([^"]+)">', page)


@pytest.fixture
def merchant(world):
    return Merchant(world, world.shop())


def test_each_day_s_payments_are_one_transfer_listed_latest_first_with_its_figures(world, merchant):
    world.paid_transaction(amount=4000)
    world.paid_transaction(amount=1234)
    world.advance(DAY_S)  # Wednesday 03/06
    world.paid_transaction(amount=2000)
    world.advance(PAID_BY_S)  # Wednesday 10/06, 16h00: both days are paid
    rows = transfer_rows(text(merchant.get("/remboursements")))
    name = world.shop()["name"]
    assert rows == [
        ["10/06/2026", "03/06/2026", name, "1", f"20,00{NBSP}€", f"-0,50{NBSP}€", f"19,50{NBSP}€", ""],
        ["09/06/2026", "02/06/2026", name, "2", f"52,34{NBSP}€", f"-1,31{NBSP}€", f"51,03{NBSP}€", ""],
    ]  # 2.5 % of each payment, to the cent: 1,00 € + 0,31 € (30,85 cents rounded half up)


def test_the_detail_shows_each_transaction_with_its_slip(world, merchant):
    first = world.paid_transaction(amount=4000)
    second = world.paid_transaction(amount=1234)
    world.advance(PAID_BY_S)
    [transfer_id] = transfer_ids(merchant.get("/remboursements").get_data(as_text=True))
    page = text(merchant.get(f"/remboursements/{transfer_id}"))
    slip = None
    for tx, amount, fee, net in ((first, "40,00", "1,00", "39,00"), (second, "12,34", "0,31", "12,03")):
        line = re.search(rf"<tr><td>{re.escape(tx['order']['id'])}</td>(.*?)</tr>", page, re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", line, re.S)]
        assert cells[0].startswith("02/06/2026 ") and cells[1:4] == [f"{amount}{NBSP}€", f"-{fee}{NBSP}€",
                                                                     f"{net}{NBSP}€"]
        assert re.fullmatch(r"\d{8}", cells[4]) and cells[5] == tx["id"]
        slip = slip or cells[4]
        assert cells[4] == slip  # one slip per point d'accueil and acquisition run
    assert "Virement du 09/06/2026" in page and "Journée des transactions" in page and f"51,03{NBSP}€" in page


def test_a_payment_not_yet_reimbursed_leaves_the_page_empty_and_says_when(world, merchant):
    world.paid_transaction(amount=4000)
    world.advance(DAY_S)  # consigned, not paid yet
    page = text(merchant.get("/remboursements"))
    assert "Aucun remboursement pour le moment." in page and "5 jours ouvrés après" in page
    assert 'id="transfers"' not in page


def test_only_the_logged_in_point_d_accueil_s_transfers_are_shown(world, merchant):
    world.paid_transaction(amount=4000)
    world.paid_transaction(world.kit(1), amount=3000)  # another merchant's payment
    world.advance(PAID_BY_S)
    page = merchant.get("/remboursements").get_data(as_text=True)
    assert len(transfer_ids(page)) == 1 and world.shop(1)["name"] not in html.unescape(page)
    theirs = transfer_ids(Merchant(world, world.shop(1)).get("/remboursements").get_data(as_text=True))
    assert len(theirs) == 1
    reply = merchant.get(f"/remboursements/{theirs[0]}")
    assert reply.status_code == 404 and "Remboursement introuvable" in text(reply)


@pytest.mark.parametrize("transfer_id", ["VIR-1-20260602-20260609", "inconnu", "%3Cscript%3E"])
def test_an_unknown_transfer_is_the_portal_s_french_404(world, merchant, transfer_id):
    reply = merchant.get(f"/remboursements/{transfer_id}")
    assert reply.status_code == 404 and "Ce remboursement n'existe pas pour ce point d'accueil." in text(reply)


def test_a_signatory_sees_the_transfers_of_the_point_d_accueil_it_chose(world):
    convention = next(c for c in world.fixtures["conventions"]
                      if {world.shop(1)["shopId"], world.shop(2)["shopId"]} <= set(c["shopIds"]))
    world.paid_transaction(world.kit(1), amount=3000)
    world.paid_transaction(world.kit(2), amount=5000)
    world.advance(PAID_BY_S)
    signatory = Merchant(world, {"login": convention["conventionId"], "password": convention["password"]})
    assert signatory.get("/remboursements").headers["Location"].endswith("/espace-ptl/point-d-accueil")
    signatory.post("/point-d-accueil", shop_id=str(world.shop(2)["shopId"]))
    rows = transfer_rows(text(signatory.get("/remboursements")))
    assert [(row[2], row[4]) for row in rows] == [(world.shop(2)["name"], f"50,00{NBSP}€")]


def test_the_export_has_one_line_per_reimbursed_transaction(world, merchant):
    world.paid_transaction(amount=4000)
    world.paid_transaction(amount=1234)
    world.advance(PAID_BY_S)
    xlsx = merchant.get("/remboursements/export.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Date de virement", "Journée des transactions", "Point d'accueil")
    assert sorted(row[10:] for row in rows[1:]) == [(12.34, 0.31, 12.03), (40, 1, 39)]
    csv = merchant.get("/remboursements/export.csv").data.decode("utf-8")
    assert csv.startswith("\ufeffDate de virement;") and ";40,00;1,00;39,00\r\n" in csv
    assert merchant.get("/remboursements/export.pdf").status_code == 302


def test_the_pages_need_a_login(world):
    visitor = world.app.test_client()
    for path in ("/remboursements", "/remboursements/VIR-1", "/remboursements/export.xlsx"):
        reply = visitor.get("/espace-ptl" + path)
        assert reply.status_code == 302 and reply.headers["Location"].endswith("/espace-ptl/connexion"), path
