"""ANCV's nights: acquisition runs, reimbursements, the daily journals, their purge.

Two deadlines stand for the back office, each at a set hour (Paris time) of every working day,
once a day:

- the **acquisition run** (`acquisitionHour`, default 4 h): validated transactions past their
  4-hour cancellation window, and those a fault held back last time, are consigned on a slip
  (bordereau, 8 digits, one per point d'accueil and run) — or, while `acquisitionFault` is set,
  held back as DELAYED / NO_SLIP_FOUND (tried again next run) or CONFLICTED (left for ANCV);
  then every point d'accueil's transfers whose date has come are paid (`PAID`, with `refunds`);
- the **journal run** (`journalHour`, default 6 h): for every service provider and every point
  d'accueil connected directly, a DLO journal of the transactions that changed since the last
  run and a BRJ journal of those reimbursed since, each only when not empty; journals (and
  their files) older than six months are purged.

On other days nothing runs; the deadlines move to the next working day. Journals are kept in
the store (`/_sandbox/journals`) and, when the sandbox has a journal folder, written as files
into each account's SFTP space (`{folder}/{account}/upload/operations_journal/…`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta

from ..domain import events, journals, wire
from ..domain.back_office import due_transfers, latest_due_day
from ..domain.calendar import WorkingDays
from ..domain.dates import PARIS, format_date, paris_day
from ..domain.deadlines import ACQUISITION_RUN, JOURNAL_RUN, NIGHTLY
from ..domain.ids import digits
from ..domain.merchants import DEFAULT_COMMISSION_BASIS_POINTS
from ..domain.transactions import CONSIGNED, DELAYED, NO_SLIP_FOUND, VALIDATED, Transaction

if TYPE_CHECKING:
    from .sandbox import Sandbox
    from .unit_of_work import UnitOfWork

TIMER_KINDS = (ACQUISITION_RUN, JOURNAL_RUN)
RETENTION = relativedelta(months=6)  # Kit §5.2.4.1: files are kept 6 months
SLIP_DIGITS = 8  # Kit §6.6
JOURNAL_FOLDERS = {journals.DLO: "operations_journal", journals.BRJ: "refunds_journal"}
LAST_JOURNAL = "last_journal_run"  # meta: {"seq": last event seq covered, "at": when}


def working_days(sandbox: Sandbox) -> WorkingDays:
    return WorkingDays.of(sandbox.rules.closedDays, sandbox.rules.openDays)


def _hour(sandbox: Sandbox, kind: str) -> int:
    return sandbox.rules.acquisitionHour if kind == ACQUISITION_RUN else sandbox.rules.journalHour


def next_run(after: datetime, hour: int, days: WorkingDays) -> datetime:
    """The first working day's `hour` o'clock (Paris) strictly after `after`."""
    day = paris_day(after)
    while True:
        moment = datetime.combine(day, time(hour), PARIS).astimezone(UTC)
        if moment > after and days.is_working_day(day):
            return moment
        day = days.next_working_day(day)


def schedule(sandbox: Sandbox) -> None:
    """Set both nightly deadlines from now (at start-up, after a reset or a change of rules)."""
    with sandbox.uow() as uow:  # the rules as saved: read them inside
        days = working_days(sandbox)
        for kind in TIMER_KINDS:
            uow.session.set_timer(kind, NIGHTLY, next_run(uow.now, _hour(sandbox, kind), days))


def acquisition_run(uow: UnitOfWork, _ref: str) -> None:
    """ACQUISITION_RUN fell due: consign what is ready, pay the transfers whose day has come."""
    _nightly(uow, ACQUISITION_RUN)


def journal_run(uow: UnitOfWork, _ref: str) -> None:
    """JOURNAL_RUN fell due: write the day's journals, purge those older than six months."""
    _nightly(uow, JOURNAL_RUN)


def _nightly(uow: UnitOfWork, kind: str) -> None:
    """A nightly deadline came: run if today is a working day not run yet, then set the next one.

    Once a day: when the hour is moved later after today's run, the deadline comes again today and
    is skipped; a second run would pay a day's late payments in a transfer of the same number as
    the morning's (`VIR-{shopId}-{day}-{today}`), which would replace it.
    """
    sandbox, days = uow.sandbox, working_days(uow.sandbox)
    today = paris_day(uow.now).isoformat()
    ran_on = f"{kind}_day"  # meta: the Paris day this run last ran
    if days.is_working_day(paris_day(uow.now)) and uow.session.get_meta(ran_on) != today:
        if kind == ACQUISITION_RUN:
            acquire(uow)
            reimburse(uow, days)
        else:
            write_journals(uow)
            purge(uow)
        uow.session.set_meta(ran_on, today)
    uow.session.set_timer(kind, NIGHTLY, next_run(uow.now, _hour(sandbox, kind), days))


# --- the acquisition run ------------------------------------------------------------------------

def acquire(uow: UnitOfWork) -> None:
    fault = uow.sandbox.rules.acquisitionFault
    slips: dict[int, str] = {}
    ready = [tx for state in (VALIDATED, DELAYED, NO_SLIP_FOUND)
             for tx in uow.session.transactions_in_state(state) if tx.acquirable(uow.now)]
    for tx in sorted(ready, key=lambda t: t.transaction_id):
        if fault:
            tx.hold_back(fault, uow.now)
        else:
            if tx.shop_id not in slips:
                slips[tx.shop_id] = digits(uow.sandbox.rng, SLIP_DIGITS)
            tx.consign(slips[tx.shop_id], uow.now)
        uow.save(tx)


def reimburse(uow: UnitOfWork, days: WorkingDays) -> None:
    s = uow.session

    def rate_of(shop_id: int) -> int:
        pos = s.point_of_sale(shop_id)
        return pos.commission_basis_points if pos else DEFAULT_COMMISSION_BASIS_POINTS

    today = paris_day(uow.now)
    # a transaction validated by the latest due day was created by its end: the others need not be read
    after_due_days = datetime.combine(latest_due_day(today, days) + timedelta(days=1), time(), PARIS)
    for transfer, lines in due_transfers(s.transactions_in_state(CONSIGNED, created_before=after_due_days), today,
                                         uow.now, days, rate_of):
        for tx, refund in lines:
            tx.pay(refund, uow.now)
            uow.save(tx)
        s.save_transfer(transfer)
        uow.record(events.TRANSFER_PAID, transfer.transfer_id, shopId=transfer.shop_id,
                   transactionDay=transfer.transaction_day.isoformat(), transactions=len(lines),
                   total=transfer.total, fee=transfer.fee, net=transfer.net)


# --- the journal run ------------------------------------------------------------------------------

def recipient_of(tx: Transaction) -> str:
    """Who gets a transaction's journal lines: its service provider, or the point d'accueil itself."""
    return str(tx.service_provider_id if tx.service_provider_id is not None else tx.shop_id)


def write_journals(uow: UnitOfWork) -> None:
    s, now = uow.session, uow.now
    last = s.get_meta(LAST_JOURNAL) or {}
    happened = s.events(after=last.get("seq", 0))
    if happened:
        changed = {e["ref"] for e in happened if e["type"].startswith(events.TRANSACTION_PREFIX)}
        paid = {e["ref"] for e in happened if e["type"] == events.TRANSACTION_PAID}
        start = paris_day(last["at"]) if "at" in last else paris_day(happened[0]["at"])
        by_kind: dict[str, dict[str, list[Transaction]]] = {journals.DLO: defaultdict(list),
                                                             journals.BRJ: defaultdict(list)}
        for transaction_id in sorted(changed):
            tx = s.transaction(transaction_id)
            if tx is None:
                continue
            by_kind[journals.DLO][recipient_of(tx)].append(tx)
            if transaction_id in paid and tx.refunds:
                by_kind[journals.BRJ][recipient_of(tx)].append(tx)
        made: dict[str, dict[str, Any]] = {}  # transaction id -> its JSON: a paid one is in both journals

        def as_json(tx: Transaction) -> dict[str, Any]:
            if tx.transaction_id not in made:
                made[tx.transaction_id] = wire.transaction_json(tx)
            return made[tx.transaction_id]

        for kind, groups in by_kind.items():
            for recipient, txs in sorted(groups.items()):
                _keep(uow, kind, recipient, start, txs, as_json)
        s.set_meta(LAST_JOURNAL, {"seq": happened[-1]["seq"], "at": now})
    else:
        s.set_meta(LAST_JOURNAL, {**last, "at": now})


def _keep(uow: UnitOfWork, kind: str, recipient: str, start: date, txs: list[Transaction],
          as_json: Callable[[Transaction], dict[str, Any]]) -> None:
    now = uow.now
    name = journals.file_name(kind, recipient, start, paris_day(now))
    content = journals.render(kind, recipient, now, txs, as_json)
    count = len(journals.latest_states(txs))
    uow.session.save_journal(name, recipient, now, {
        "name": name, "kind": kind, "recipient": recipient, "created": format_date(now),
        "from": start.isoformat(), "to": paris_day(now).isoformat(), "count": count, "content": content})
    folder = uow.sandbox.settings.journal_dir
    if folder:
        path = Path(folder) / recipient / "upload" / JOURNAL_FOLDERS[kind] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        stamp = now.timestamp()  # sandbox time, so that the purge of a virtual clock's months works
        os.utime(path, (stamp, stamp))
    uow.record(events.JOURNAL_WRITTEN, name, kind=kind, recipient=recipient, count=count)


def purge(uow: UnitOfWork) -> None:
    """Journals older than six months go, from the store and from every SFTP space."""
    limit = uow.now - RETENTION
    removed = uow.session.delete_journals_before(limit)
    folder = uow.sandbox.settings.journal_dir
    files: list[Any] = []
    if folder and Path(folder).is_dir():
        from ..adapters.sftp import purge as purge_files

        files = purge_files(Path(folder), limit)
    if removed or files:
        uow.record(events.JOURNALS_PURGED, "journals", before=format_date(limit), journals=removed, files=len(files))
