"""The back office over a real calendar: a fortnight of May 2026 with its bank holidays, on a virtual clock.

May 2026: Friday 8 (Victoire 1945), Thursday 14 (Ascension) and Monday 25 (Pentecôte, an ANCV
day) are closed. Payments of Tuesday 5 are consigned on Wednesday 6 and paid five working days
later, Wednesday 13; a payment of Friday 8 (a holiday) is consigned Monday 11 and paid Monday 18.
Every journal is parsed back and reconciled with the Kit API's view of each transaction, to the cent;
a stock SFTP client (asyncssh) downloads them from the SFTP space.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from sandbox.domain import journals
from sandbox.domain.back_office import fee, latest_due_day
from sandbox.domain.calendar import WorkingDays
from sandbox.domain.dates import PARIS, paris_day
from sandbox.services import sftp_space
from tests.conftest import World, make_settings, run_async

TUESDAY_5 = datetime(2026, 5, 5, 10, 0, tzinfo=PARIS)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def office(tmp_path: Path) -> Any:
    w = World(make_settings(start=TUESDAY_5.astimezone(UTC), journal_dir=str(tmp_path / "sftp")))
    yield w
    if w.sandbox.sftp is not None:
        w.sandbox.sftp.stop()
    w.sandbox.stop()


def advance_to(world: World, moment: datetime) -> None:
    world.advance((moment - world.now()).total_seconds())


def api_view(world: World, tx_id: str, provider: bool = False) -> dict[str, Any]:
    kit = world.provider_kit() if provider else world.kit()
    reply = kit.get_transaction(tx_id)
    assert reply.ok, reply.body
    return reply["transaction"]


def journals_of(world: World) -> dict[str, str]:
    return {j["name"]: world.transport("GET", f"/_sandbox/journals/{j['name']}", {}).content.decode()
            for j in world.control._call("GET", "/journals")}


def reconcile(world: World, text: str, only: set[str] | None = None) -> journals.Journal:
    """Every line of a journal (or those of `only` transactions) says what the Kit API says of its
    transaction, to the cent."""
    journal = journals.parse(text)
    provider = journal.recipient == str(world.provider["serviceProviderId"])
    for row in journal.rows:
        if only is not None and row["transactionId"] not in only:
            continue
        tx = api_view(world, row["transactionId"], provider)
        assert row["updateDate"] == tx["updateDate"]
        if journal.kind == journals.DLO:
            assert (row["state"], row["subState"]) == (tx["state"], tx.get("subState", ""))
            assert (row["shopId"], row["orderId"], row["paymentId"]) == (
                str(tx["merchant"]["shopId"]), tx["order"]["id"], tx["order"]["paymentId"])
            assert int(row["amountTotal"]) == tx["order"]["amount"]["total"]
            authorization = tx["payers"][0]["authorizations"][0] if tx.get("payers") else None
            if authorization:
                assert int(row["authorizationAmount"]) == authorization["amount"]["total"]
                assert row["authorizationNumber"] == authorization["number"]
                assert row["authorizationHolder"] == authorization["holder"]
            if "cancellation" in tx:
                assert row["cancellationReason"] == tx["cancellation"]["reason"]
        else:
            [refund] = tx["refunds"]
            assert tx["state"] == "PAID"
            assert (int(row["amountTotal"]), int(row["amountRefund"]), int(row["amountFee"])) == (
                refund["amount"]["total"], refund["amount"]["net"], refund["amount"]["fee"])
            assert int(row["amountRefund"]) + int(row["amountFee"]) == int(row["amountTotal"])
            assert row["refundDate"] == refund["effectiveDate"] and row["refundType"] == refund["type"] == "CVCo"
            assert len(row["slipId"]) == 8 and row["slipId"].isdigit()
    return journal


def journal_days(world: World) -> set[date]:
    return {date.fromisoformat(j["to"]) for j in world.control._call("GET", "/journals")}


def test_working_days_follow_france_and_ancv() -> None:
    days = WorkingDays()
    closed = [date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 14),
              date(2026, 5, 25), date(2026, 7, 14), date(2026, 11, 11), date(2026, 12, 25)]  # Kit §5.2's 2026 list
    assert not any(days.is_working_day(d) for d in closed)
    assert days.is_working_day(date(2026, 5, 5)) and not days.is_working_day(date(2026, 5, 9))  # a Saturday
    assert days.add(date(2026, 5, 5), 5) == date(2026, 5, 13)
    assert days.add(date(2026, 5, 8), 5) == date(2026, 5, 18)
    assert days.add(date(2027, 5, 14), 1) == date(2027, 5, 18)  # Whit Monday 2027 is the 17th
    strike = WorkingDays.of(closed=["2026-05-06"], opened=["2026-05-25"])
    assert not strike.is_working_day(date(2026, 5, 6)) and strike.is_working_day(date(2026, 5, 25))


@pytest.mark.parametrize("days", [WorkingDays(), WorkingDays.of(closed=["2026-05-12"], opened=["2026-05-25"])])
def test_the_latest_due_day_is_the_last_whose_transfers_are_due(days: WorkingDays) -> None:
    for today in (date(2026, 5, 1) + timedelta(days=n) for n in range(45)):
        due = [d for d in (today - timedelta(days=n) for n in range(30)) if days.add(d, 5) <= today]
        assert latest_due_day(today, days) == max(due)
        assert days.add(latest_due_day(today, days) + timedelta(days=1), 5) > today
    # Monday 18 pays Friday 8 (a holiday) and the weekend after it: their first working day was Monday 11
    assert latest_due_day(date(2026, 5, 18), WorkingDays()) == date(2026, 5, 10)


def test_fees_are_rounded_per_transaction_and_add_up_to_the_transfer() -> None:
    assert fee(4000, 250) == 100 and fee(2550, 250) == 64 and fee(2540, 250) == 64 and fee(2539, 250) == 63
    amounts = [1, 19, 20, 2550, 9999, 12345, 50000]
    total_fee = sum(fee(a, 250) for a in amounts)
    assert abs(total_fee - sum(amounts) * 250 / 10_000) <= len(amounts) * 0.5


def test_a_fortnight_over_bank_holidays_gives_the_right_journals_payments_and_amounts(office: World) -> None:
    world = office
    direct = world.paid_transaction(amount=4000)  # Tuesday 5, 10:00, validated at once (NORMAL)
    provided = world.paid_transaction(world.provider_kit(), amount=2550)
    cancelled = world.paid_transaction(amount=1500)
    assert world.kit().cancel(cancelled["id"], "CUSTOMER_ABORT").ok  # within the 4 hours: never consigned
    deferred = world.paid_transaction(amount=3000, capture_mode="DEFERRED",
                                      capture_date=world.later(days=5))  # authorized, not validated
    late = world.paid_transaction(amount=1000)
    advance_to(world, paris(5, 15))  # a validated payment can be cancelled until 14:00; this one is after
    assert not world.kit().cancel(late["id"], "OTHER").ok

    advance_to(world, paris(6, 3, 59))
    assert api_view(world, direct["id"])["state"] == "VALIDATED"
    advance_to(world, paris(6, 4, 1))  # Wednesday's acquisition run
    consigned = api_view(world, direct["id"])
    assert consigned["state"] == "CONSIGNED" and api_view(world, provided["id"], provider=True)["state"] == "CONSIGNED"
    assert api_view(world, deferred["id"])["state"] == "AUTHORIZED"
    assert api_view(world, cancelled["id"])["state"] == "CANCELLED"
    assert not journal_days(world)  # journals come at 6:00
    advance_to(world, paris(6, 7))
    wednesday = journals_of(world)
    shop, provider = str(world.shop()["shopId"]), str(world.provider["serviceProviderId"])
    assert set(wednesday) == {f"DLO_{provider}_20260505_20260506.csv", f"DLO_{shop}_20260505_20260506.csv"}
    dlo = reconcile(world, wednesday[f"DLO_{shop}_20260505_20260506.csv"])
    assert {r["transactionId"]: r["state"] for r in dlo.rows} == {
        direct["id"]: "CONSIGNED", cancelled["id"]: "CANCELLED", deferred["id"]: "AUTHORIZED", late["id"]: "CONSIGNED"}
    assert reconcile(world, wednesday[f"DLO_{provider}_20260505_20260506.csv"]).count == 1

    world.paid_transaction(amount=2000)  # Wednesday 7:00: consigned by Thursday's run
    advance_to(world, paris(8, 10))  # Friday 8 May, a holiday
    holiday = world.paid_transaction(amount=1234)
    advance_to(world, paris(11, 7))  # Monday 11: the holiday's payment is consigned
    assert api_view(world, holiday["id"])["state"] == "CONSIGNED"
    assert not journal_days(world) & {date(2026, 5, 8), date(2026, 5, 9), date(2026, 5, 10)}

    advance_to(world, paris(13, 3))
    assert api_view(world, direct["id"])["state"] == "CONSIGNED"  # paid at 4:00, five working days on
    advance_to(world, paris(13, 7))
    paid = api_view(world, direct["id"])
    assert paid["state"] == "PAID"
    assert paid["refunds"] == [{"amount": {"total": 4000, "net": 3900, "fee": 100, "currency": "978"},
                                "effectiveDate": "2026-05-13T02:00:00.000Z", "type": "CVCo"}]
    assert api_view(world, provided["id"], provider=True)["refunds"][0]["amount"] == {
        "total": 2550, "net": 2486, "fee": 64, "currency": "978"}
    brj_name = f"BRJ_{shop}_20260512_20260513.csv"  # since Tuesday's journal run
    brj = reconcile(world, journals_of(world)[brj_name])
    assert {r["transactionId"] for r in brj.rows} == {direct["id"], late["id"]}
    assert api_view(world, holiday["id"])["state"] == "CONSIGNED"  # its day is Friday 8: paid Monday 18

    advance_to(world, paris(18, 7))
    assert paris_day(datetime.fromisoformat(api_view(world, holiday["id"])["refunds"][0]["effectiveDate"]
                                            .replace("Z", "+00:00"))) == date(2026, 5, 18)
    # Each transaction's latest DLO line says what the API says now; every BRJ line holds for good (PAID is final).
    latest: dict[str, str] = {}
    for journal in world.control._call("GET", "/journals"):  # oldest first
        for row in journals.parse(journals_of(world)[journal["name"]]).rows:
            latest[row["transactionId"]] = journal["name"]
    for name, text in journals_of(world).items():
        reconcile(world, text, only={tx_id for tx_id, where in latest.items() if where == name})
    assert len(latest) == 7  # every transaction of the fortnight is in a journal
    days = journal_days(world)
    assert days and all(WorkingDays().is_working_day(d) for d in days)
    assert date(2026, 5, 14) not in days  # Ascension

    transfers = [e for e in world.events("TransferPaid")]
    by_day = {(e["data"]["shopId"], e["data"]["transactionDay"]): e["data"] for e in transfers}
    tuesday = by_day[(int(shop), "2026-05-05")]
    assert (tuesday["transactions"], tuesday["total"], tuesday["fee"], tuesday["net"]) == (2, 5000, 125, 4875)


def test_acquisition_faults_hold_payments_back_until_the_fault_is_gone(office: World) -> None:
    world = office
    tx = world.paid_transaction(amount=4000)
    world.control.settings(acquisitionFault="DELAYED")
    advance_to(world, paris(6, 5))
    assert api_view(world, tx["id"])["state"] == "DELAYED"
    world.control.settings(acquisitionFault="NO_SLIP_FOUND")
    advance_to(world, paris(7, 5))
    assert api_view(world, tx["id"])["state"] == "NO_SLIP_FOUND"
    world.control.settings(acquisitionFault="")
    advance_to(world, paris(11, 5))  # Friday 8 is closed: next run Monday
    assert api_view(world, tx["id"])["state"] == "CONSIGNED"
    other = world.paid_transaction(amount=1000)
    world.control.settings(acquisitionFault="CONFLICTED")
    advance_to(world, paris(12, 5))
    world.control.settings(acquisitionFault="")
    advance_to(world, paris(13, 5))
    assert api_view(world, other["id"])["state"] == "CONFLICTED"  # left for ANCV, not retried
    states = [e["data"]["state"] for e in world.events() if e["ref"] == tx["id"] and "state" in e["data"]]
    # consigned late, still paid on its day's date (Tuesday 5 + 5 working days = Wednesday 13)
    assert states[-4:] == ["DELAYED", "NO_SLIP_FOUND", "CONSIGNED", "PAID"]


def test_closed_and_open_days_move_the_runs(office: World) -> None:
    world = office
    tx = world.paid_transaction(amount=4000)
    world.control.settings(closedDays=["2026-05-06", "2026-05-07"], acquisitionHour=9)
    advance_to(world, paris(7, 23))
    assert api_view(world, tx["id"])["state"] == "VALIDATED"
    world.control.settings(openDays=["2026-05-08"])
    advance_to(world, paris(8, 8, 59))
    assert api_view(world, tx["id"])["state"] == "VALIDATED"
    advance_to(world, paris(8, 9, 1))
    assert api_view(world, tx["id"])["state"] == "CONSIGNED"
    for bad in ({"closedDays": ["tomorrow"]}, {"acquisitionHour": 24}, {"acquisitionFault": "BROKEN"},
                {"openDays": "2026-05-08"}):
        reply = world.transport("PATCH", "/_sandbox/settings", {"Content-Type": "application/json"}, bad)
        assert reply.status == 400 and reply.body["errorCode"] == "BAD_REQUEST"


def test_moving_the_acquisition_hour_after_the_day_s_run_does_not_run_it_twice(office: World) -> None:
    """A second run the same day paid Tuesday's late payment in a transfer with the same number as
    the morning's, which replaced it in Mes remboursements (tests/stateful: every PAID transaction
    is in exactly one transfer)."""
    world = office
    world.control.settings(acquisitionHour=2)
    early = world.paid_transaction(amount=1000)  # Tuesday 5, 10:00
    advance_to(world, paris(5, 23))
    late = world.paid_transaction(amount=2000)  # its cancellation window ends after Wednesday's 2:00 run
    advance_to(world, paris(6, 2, 30))
    assert (api_view(world, early["id"])["state"], api_view(world, late["id"])["state"]) == ("CONSIGNED", "VALIDATED")
    world.control.settings(acquisitionFault="DELAYED")
    advance_to(world, paris(13, 3))  # Wednesday 13, Tuesday's payment day: the early one is paid, the late held
    assert (api_view(world, early["id"])["state"], api_view(world, late["id"])["state"]) == ("PAID", "DELAYED")
    world.control.settings(acquisitionFault="", acquisitionHour=4)
    advance_to(world, paris(13, 5))
    assert api_view(world, late["id"])["state"] == "DELAYED"  # today's run is done: next one Friday 15 (14 closed)
    advance_to(world, paris(15, 5))
    assert api_view(world, late["id"])["state"] == "PAID"
    with world.sandbox.store.session() as s:
        transfers = {t.transfer_id: (t.transaction_ids, t.total) for t in s.transfers()}
    shop = world.shop()["shopId"]
    assert transfers == {f"VIR-{shop}-20260505-20260513": ([early["id"]], 1000),
                         f"VIR-{shop}-20260505-20260515": ([late["id"]], 2000)}
    assert [e["ref"] for e in world.events("TransferPaid")] == list(reversed(transfers))


def test_a_stock_sftp_client_downloads_the_journals(office: World, tmp_path: Path) -> None:
    world = office
    world.paid_transaction(amount=4000)
    world.paid_transaction(world.provider_kit(), amount=2550)
    advance_to(world, paris(6, 7))
    server = sftp_space.start_server(world.sandbox, Path(world.sandbox.settings.journal_dir or ""))
    space = world.control._call("GET", "/sftp")
    assert space["port"] == server.port and space["hostKeyFingerprint"].startswith("SHA256:")
    shop = str(world.shop()["shopId"])
    account = next(a for a in space["accounts"] if a["username"] == shop)
    name = f"DLO_{shop}_20260505_20260506.csv"

    async def download() -> tuple[list[str], bytes]:
        async with asyncssh.connect("127.0.0.1", port=server.port, username=shop, password=account["password"],
                                    known_hosts=None) as connection, connection.start_sftp_client() as sftp:
            folders = sorted(await sftp.listdir("/upload"))
            await sftp.get(f"/upload/operations_journal/{name}", str(tmp_path / name))
            return folders, (tmp_path / name).read_bytes()

    folders, content = run_async(download())
    assert [f for f in folders if not f.startswith(".")] == [
        "operations_journal", "refunds_journal", "specific_operations_journal", "specific_refunds_journal"]
    assert content.decode() == journals_of(world)[name]
    reconcile(world, content.decode())

    async def wrong_password() -> None:
        async with asyncssh.connect("127.0.0.1", port=server.port, username=shop, password="nope", known_hosts=None):
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        run_async(wrong_password())


def test_journals_older_than_six_months_are_purged(office: World) -> None:
    world = office
    world.paid_transaction(amount=4000)
    advance_to(world, paris(6, 7))
    folder = Path(world.sandbox.settings.journal_dir or "")
    files = list(folder.glob("*/upload/operations_journal/*.csv"))
    assert files and journal_days(world) == {date(2026, 5, 6)}
    world.paid_transaction(amount=1000)
    world.advance(timedelta(days=190).total_seconds())
    assert date(2026, 5, 6) not in journal_days(world)
    assert not any(f.exists() for f in files)
    assert world.events("JournalsPurged")
    reply = world.transport("GET", "/_sandbox/journals/..%2F..%2Fetc%2Fpasswd", {})
    assert reply.status == 404 and reply.body["errorCode"] in ("NOT_FOUND", "JOURNAL_NOT_FOUND")
    for name in ("DLO_1_20260101_20260102.csv", "..", "x" * 300):
        reply = world.transport("GET", f"/_sandbox/journals/{name}", {})
        assert reply.status == 404 and reply.body["errorCode"] == "JOURNAL_NOT_FOUND"
