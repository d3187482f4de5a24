"""French formatting, the one module pages, emails, exports and the report write with (issue 16)."""

from datetime import UTC, date, datetime

import pytest

from sandbox.domain import french

NBSP, NNBSP = "\u00a0", "\u202f"
SUMMER = datetime(2020, 6, 24, 9, 59, 35, tzinfo=UTC)  # 11:59:35 in Paris
WINTER = datetime(2020, 12, 24, 9, 59, tzinfo=UTC)  # 10:59 in Paris


def test_amounts_are_written_the_french_way():
    assert french.euros(5000) == f"50,00{NBSP}€"
    assert french.euros(123456) == f"1{NNBSP}234,56{NBSP}€"
    assert french.euros(1) == f"0,01{NBSP}€"
    assert french.euros(-123456789) == f"-1{NNBSP}234{NNBSP}567,89{NBSP}€"


@pytest.mark.parametrize("cents, plain", [(4000, "40,00"), (5, "0,05"), (123456, "1234,56"), (-150, "-1,50")])
def test_a_form_field_and_a_csv_cell_show_plain_euros(cents, plain):
    assert french.plain_euros(cents) == plain


@pytest.mark.parametrize("cents", [1, 99, 100, 2050, 999_999_999])
def test_plain_euros_read_back_give_the_same_cents(cents):
    assert french.parse_euros(french.plain_euros(cents)) == cents


@pytest.mark.parametrize("text, cents", [("20", 2000), ("20,5", 2050), ("20.05", 2005), (" 0,01 € ", 1)])
def test_euros_typed_by_people_become_cents(text, cents):
    assert french.parse_euros(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "-5", "1,234", "1e3", "12345678", "١٢"])
def test_anything_else_is_not_an_amount(text):
    with pytest.raises(ValueError):
        french.parse_euros(text)


def test_moments_are_paris_time_in_summer_and_in_winter():
    assert french.french_date(SUMMER) == "24/06/2020 11h59"
    assert french.french_date(WINTER) == "24/12/2020 10h59"
    assert french.french_moment(SUMMER, seconds=True) == "24/06/2020 à 11:59:35"
    assert french.french_moment(WINTER) == "24/12/2020 à 10h59"
    assert french.long_date(SUMMER) == "mercredi 24 juin 2020 à 11:59 (heure de Paris)"


def test_the_day_of_a_moment_is_the_day_in_paris():
    assert french.french_day(datetime(2020, 6, 24, 22, 30, tzinfo=UTC)) == "25/06/2020"
    assert french.calendar_day(date(2020, 6, 24)) == "24/06/2020"


def test_spreadsheets_get_a_wall_time_french_excel_reads_as_a_date():
    assert french.spreadsheet_moment(datetime(2026, 6, 2, 10, 0)) == "02/06/2026 10:00"


def test_figures_of_the_report():
    assert french.count(1234) == f"1{NNBSP}234"
    assert french.decimal(1234.5) == f"1{NNBSP}234,5"
    assert french.plural(1, "paiement", "validé") == "1 paiement validé"
    assert french.plural(2, "paiement", "validé") == "2 paiements validés"
    assert french.duration(12.34) == f"12{NBSP}s"
    assert french.duration(305) == f"5{NBSP}min 05{NBSP}s"
    assert french.duration(43200) == f"12{NBSP}h 00{NBSP}min"
    assert french.duration(90000) == f"1{NBSP}j 01{NBSP}h 00{NBSP}min"
