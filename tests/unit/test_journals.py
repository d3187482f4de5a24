"""The daily journals' formats (Kit §5.2.1 DLO, §5.2.2 BRJ): rows, rendering, reading back."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sandbox.domain import journals, payments
from sandbox.domain.beneficiaries import Allocation, Beneficiary, Device
from sandbox.domain.journals import BRJ, BRJ_FIELDS, DLO, DLO_FIELDS
from sandbox.domain.pre_transactions import PreTransaction
from sandbox.domain.transactions import Authorization, Cancellation, Payer, Refund, Transaction

T0 = datetime(2026, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)
CREATED = datetime(2026, 6, 2, 4, 52, 1, 689000, tzinfo=UTC)
RECIPIENT = "28615806"
BENEFICIARY = "10001001576"


def transaction(transaction_id: str = "f9xrrsrgco", **overrides) -> Transaction:
    fields = dict(transaction_id=transaction_id, shop_id=10000065, order_id="PANIERAAAAB", payment_id="456467",
                  amount=5500, capture_mode="NORMAL", tspd_mode="001", creation_date=T0, update_date=T0)
    fields.update(overrides)
    return Transaction(**fields)


def authorization(amount: int = 5000) -> Authorization:
    return Authorization(number="f9xrsz6a7j", amount=amount, validation_date=T0 + timedelta(seconds=30),
                         holder="10*****1576")


def consigned() -> Transaction:
    return transaction(state="CONSIGNED", update_date=T0 + timedelta(hours=20), shop_assistant_id="anne",
                       terminal_id="caisse-2", label="Séjour", payer=Payer("jeanne@example.fr", BENEFICIARY, 5000),
                       authorization=authorization(), slip_number="00012345")


def cancelled() -> Transaction:
    return transaction("canc00001", state="CANCELLED", update_date=T0 + timedelta(hours=2), tspd_mode="002",
                       payer=Payer(int(BENEFICIARY), BENEFICIARY, 5500), authorization=authorization(5500),
                       cancellation=Cancellation(T0 + timedelta(hours=2), "CUSTOMER_ABORT", "Le client a renoncé"))


def aborted() -> Transaction:
    return transaction("abrt00001", state="ABORTED", sub_state="ABORTED_TSPD", order_id="PANIERAAAAC",
                       update_date=T0 + timedelta(minutes=1))


def paid() -> Transaction:
    tx = consigned()
    tx.state, tx.update_date = "PAID", T0 + timedelta(days=3)
    tx.refunds = [Refund(5000, 4900, 100, T0 + timedelta(days=3, seconds=5), "CVCo")]
    return tx


def qr_payment() -> Transaction:
    """Parcours A by QR code: the beneficiary scans a payment request; the transaction carries its payer."""
    ben = Beneficiary(beneficiary_id=BENEFICIARY, email="a@b.fr", password="x", pin="123456", devices=[Device("phone")],
                      allocations=[Allocation("a1", 10_000, T0 - timedelta(days=1), T0 + timedelta(days=365))])
    pre = PreTransaction.create("pre0000001", T0, shop_id=10000065, order_id="qr-1", amount=3000,
                                capture_mode="NORMAL", tspd_mode="002", expiration_date=T0 + timedelta(hours=1))
    pre.show_qr_code(T0)
    tx = payments.scan(pre, ben, "qrtx00001", other_pending=False, now=T0)
    payments.authorize(tx, ben, "123456", "auth42", T0 + timedelta(seconds=10))
    return tx


def read(kind: str, transactions: list[Transaction]) -> journals.Journal:
    return journals.parse(journals.render(kind, RECIPIENT, CREATED, transactions))


# --- the fields ----------------------------------------------------------------------------
def test_the_field_codes_are_the_kits_in_order():
    assert DLO_FIELDS == (
        "transactionId", "updateDate", "state", "subState", "shopId", "shopAssistantId", "terminalId", "orderId",
        "paymentId", "orderLabel", "amountTotal", "amountCurrency", "tspdMode", "cancellationDate",
        "cancellationReason", "cancellationLabel", "beneficiaryId", "authorizationType", "authorizationAmount",
        "authorizationNumber", "authorizationDate", "authorizationHolder")
    assert BRJ_FIELDS == (
        "transactionId", "updateDate", "shopId", "orderId", "orderLabel", "paymentId", "amountTotal",
        "amountRefund", "amountFee", "amountCurrency", "refundDate", "refundType", "slipId")


EXPECTED_DLO = [
    (consigned, ["f9xrrsrgco", "2026-06-02T04:00:00.123Z", "CONSIGNED", "", "10000065", "anne", "caisse-2",
                 "PANIERAAAAB", "456467", "Séjour", "5500", "978", "001", "", "", "", "jeanne@example.fr", "CVCo",
                 "5000", "f9xrsz6a7j", "2026-06-01T08:00:30.123Z", "10*****1576"]),
    (cancelled, ["canc00001", "2026-06-01T10:00:00.123Z", "CANCELLED", "", "10000065", "", "", "PANIERAAAAB",
                 "456467", "", "5500", "978", "002", "2026-06-01T10:00:00.123Z", "CUSTOMER_ABORT",
                 "Le client a renoncé", BENEFICIARY, "CVCo", "5500", "f9xrsz6a7j", "2026-06-01T08:00:30.123Z",
                 "10*****1576"]),
    (aborted, ["abrt00001", "2026-06-01T08:01:00.123Z", "ABORTED", "ABORTED_TSPD", "10000065", "", "",
               "PANIERAAAAC", "456467", "", "5500", "978", "001", "", "", "", "", "", "", "", "", ""]),
    (qr_payment, ["qrtx00001", "2026-06-01T08:00:10.123Z", "VALIDATED", "", "10000065", "", "", "qr-1", "0", "",
                  "3000", "978", "002", "", "", "", BENEFICIARY, "CVCo", "3000", "auth42",
                  "2026-06-01T08:00:10.123Z", "10*****1576"]),
]


@pytest.mark.parametrize("make, expected", EXPECTED_DLO, ids=["consigned", "cancelled", "aborted", "qr"])
def test_a_dlo_line_carries_each_field_as_the_json_encodes_it(make, expected):
    tx = make()
    assert journals.dlo_row(tx) == expected
    assert read(DLO, [tx]).rows == [dict(zip(DLO_FIELDS, expected, strict=True))]


def test_a_brj_line_reports_the_reimbursement_and_its_slip():
    expected = ["f9xrrsrgco", "2026-06-04T08:00:00.123Z", "10000065", "PANIERAAAAB", "Séjour", "456467", "5000",
                "4900", "100", "978", "2026-06-04T08:00:05.123Z", "CVCo", "00012345"]
    assert journals.brj_row(paid()) == expected
    assert read(BRJ, [paid()]).rows == [dict(zip(BRJ_FIELDS, expected, strict=True))]


def test_brj_reports_the_cvco_refund_when_there_are_several():
    tx = paid()
    tx.refunds.insert(0, Refund(500, 490, 10, T0, "VISA"))
    assert journals.brj_row(tx)[6:12] == ["5000", "4900", "100", "978", "2026-06-04T08:00:05.123Z", "CVCo"]


def test_a_transaction_without_refund_has_no_brj_line():
    with pytest.raises(ValueError, match="no refund"):
        journals.brj_row(consigned())
    with pytest.raises(ValueError, match="no refund"):
        journals.render(BRJ, RECIPIENT, CREATED, [paid(), aborted()])


def test_dates_are_written_in_utc_whatever_the_zone_they_were_taken_in():
    paris = T0.astimezone(ZoneInfo("Europe/Paris"))
    assert journals.dlo_row(transaction(update_date=paris))[1] == "2026-06-01T08:00:00.123Z"


# --- the file --------------------------------------------------------------------------------
def test_the_journal_has_a_header_one_line_per_transaction_and_eof_last():
    text = journals.render(DLO, RECIPIENT, CREATED, [consigned(), aborted(), cancelled()])
    lines = text.split("\n")
    assert lines[0] == "DLO;28615806;2026-06-02T04:52:01.689Z;3"
    assert lines[-2:] == ["EOF", ""]  # "\n" after every line, EOF included
    assert "\r" not in text
    assert lines[1].startswith("abrt00001;") and ";ABORTED;ABORTED_TSPD;" in lines[1]
    assert lines[1].endswith(";001;;;;;;;;;")  # absent values: two separators in a row
    journal = journals.parse(text)
    assert (journal.kind, journal.recipient, journal.created, journal.count) == (
        DLO, RECIPIENT, "2026-06-02T04:52:01.689Z", 3)


def test_an_empty_journal_is_still_well_formed():
    assert journals.render(BRJ, RECIPIENT, CREATED, []) == "BRJ;28615806;2026-06-02T04:52:01.689Z;0\nEOF\n"
    assert journals.parse("BRJ;28615806;2026-06-02T04:52:01.689Z;0\nEOF\n").rows == []


def test_a_label_with_separators_quotes_and_line_breaks_round_trips():
    label = 'Gîte "Les Pins"; 2 nuits\r\nsuite'
    tx = transaction(label=label)
    text = journals.render(DLO, RECIPIENT, CREATED, [tx])
    assert '"Gîte ""Les Pins""; 2 nuits\r\nsuite"' in text
    assert journals.parse(text).rows[0]["orderLabel"] == label
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert records[1] == journals.dlo_row(tx) and records[1][9] == label
    assert records[-1] == ["EOF"] and len(records) == 3


@pytest.mark.parametrize("char", [";", '"', "\r", "\n"])
def test_a_label_with_any_one_character_that_needs_quotes_is_quoted(char):
    label = f"avant{char}après"
    text = journals.render(DLO, RECIPIENT, CREATED, [transaction(label=label)])
    assert '"avant' + char.replace('"', '""') + 'après"' in text
    assert journals.parse(text).rows[0]["orderLabel"] == label


def test_a_paid_transaction_in_both_journals_reads_the_same_with_its_json_shared():
    tx = paid()
    shared = journals.transaction_json(tx)
    both = [journals.render(kind, RECIPIENT, CREATED, [tx], lambda _tx: shared) for kind in (DLO, BRJ)]
    assert both == [journals.render(kind, RECIPIENT, CREATED, [tx]) for kind in (DLO, BRJ)]
    assert shared == journals.transaction_json(tx)  # the BRJ line did not write into the shared JSON


def test_crlf_line_endings_are_read_too():
    text = journals.render(DLO, RECIPIENT, CREATED, [consigned()]).replace("\n", "\r\n")
    assert journals.parse(text).rows[0]["transactionId"] == "f9xrrsrgco"


def test_only_the_latest_state_of_a_transaction_is_written():
    morning, evening = consigned(), consigned()
    morning.state, morning.update_date = "VALIDATED", T0
    journal = read(DLO, [evening, morning, aborted()])
    assert journal.count == 2
    assert [(row["transactionId"], row["state"]) for row in journal.rows] == [
        ("abrt00001", "ABORTED"), ("f9xrrsrgco", "CONSIGNED")]


def test_lines_are_ordered_by_update_date_then_transaction_id():
    same_time = T0 + timedelta(hours=1)
    batch = [transaction("b", update_date=same_time), transaction("c", update_date=T0),
             transaction("a", update_date=same_time)]
    ids = [row["transactionId"] for row in read(DLO, batch).rows]
    assert ids == ["c", "a", "b"]
    assert journals.render(DLO, RECIPIENT, CREATED, batch) == journals.render(DLO, RECIPIENT, CREATED, batch[::-1])


# --- reading refuses broken journals ---------------------------------------------------------
GOOD = journals.render(DLO, RECIPIENT, CREATED, [transaction("a"), transaction("b")])


@pytest.mark.parametrize("text, message", [
    ("", "empty journal"),
    ("DLO;28615806;2026-06-02T04:52:01.689Z\nEOF\n", "header has 3 fields, expected 4"),
    (GOOD.replace("DLO;", "XYZ;", 1), "unknown journal kind 'XYZ'"),
    (GOOD.replace(";2\n", ";two\n", 1), "count 'two' is not a number"),
    (GOOD.replace("2026-06-02T04:52:01.689Z", "yesterday", 1), "creationDate 'yesterday'"),
    (GOOD.replace(";2\n", ";3\n", 1), "announces 3 transactions, the journal has 2"),
    (GOOD.replace("\nEOF\n", "\n"), "missing EOF"),
    (GOOD + "a;b\n", "line 5: something follows the EOF line"),
    (GOOD + "\n", "line 5: something follows the EOF line"),
    (GOOD.replace(";001;", ";001;;", 1), "line 2: 23 fields, a DLO line has 22"),
    (GOOD.replace("\n", "\nx;y\n", 1), "line 2: 2 fields, a DLO line has 22"),
    (GOOD.replace("\nEOF", "\n\"unterminated\nEOF"), r"line \d+: unexpected end of data"),
])
def test_parse_refuses_a_broken_journal_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        journals.parse(text)


def test_a_brj_line_must_have_13_fields():
    dlo_line = GOOD.split("\n")[1]
    with pytest.raises(ValueError, match="line 2: 22 fields, a BRJ line has 13"):
        journals.parse(f"BRJ;{RECIPIENT};2026-06-02T04:52:01.689Z;1\n{dlo_line}\nEOF\n")


# --- file names -------------------------------------------------------------------------------
def test_file_names_carry_kind_recipient_and_compact_dates():
    name = journals.file_name(DLO, RECIPIENT, date(2026, 6, 1), date(2026, 6, 2))
    assert name == "DLO_28615806_20260601_20260602.csv"
    assert journals.file_name(BRJ, "AVIA_SIM", date(2026, 5, 29), date(2026, 6, 1)) == "BRJ_AVIA_SIM_20260529_20260601.csv"
    assert journals.parse_file_name("BRJ_AVIA_SIM_20260529_20260601.csv") == (
        BRJ, "AVIA_SIM", date(2026, 5, 29), date(2026, 6, 1))


@pytest.mark.parametrize("args", [
    ("XYZ", RECIPIENT, date(2026, 6, 1), date(2026, 6, 2)),
    (DLO, "", date(2026, 6, 1), date(2026, 6, 2)),
    (DLO, "../etc", date(2026, 6, 1), date(2026, 6, 2)),
    (DLO, RECIPIENT, date(2026, 6, 2), date(2026, 6, 1)),
])
def test_file_name_refuses_what_cannot_name_a_journal(args):
    with pytest.raises(ValueError):
        journals.file_name(*args)


@pytest.mark.parametrize("name", ["DLO_1_2026-06-01_2026-06-02.csv", "XYZ_1_20260601_20260602.csv",
                                  "DLO_1_20261301_20261302.csv", "DLO_20260601_20260602.csv"])
def test_parse_file_name_refuses_other_names(name):
    with pytest.raises(ValueError):
        journals.parse_file_name(name)
