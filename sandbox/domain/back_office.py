"""ANCV's back office in rules: the commission, and each point d'accueil's bank transfers.

A transaction's *day* is the French calendar day it was validated. Each point d'accueil's
consigned transactions of one day are summed into one bank transfer, paid `delay` working days
later (seeds: five), or at the first run after that when a fault held them back.

Rounding: each transaction's fee is its amount × the convention's rate, rounded to the nearest
cent (halves up); a transfer's fee is the sum of its transactions' fees, so every line of the
refunds journal adds up to its transfer exactly, and a transfer's fee differs from the rate
applied to its total by at most half a cent per transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .calendar import WorkingDays
from .dates import paris_day
from .records import plain_fields
from .transactions import Refund, Transaction

BASIS_POINTS_PER_UNIT = 10_000
REIMBURSEMENT_DELAY_WORKING_DAYS = 5  # seeds 001 and 003: "5 jours ouvrés après"


def fee(total: int, basis_points: int) -> int:
    """ANCV's commission on `total` cents at `basis_points` (250 = 2.5 %), to the nearest cent, halves up."""
    return (total * basis_points + BASIS_POINTS_PER_UNIT // 2) // BASIS_POINTS_PER_UNIT


def transaction_day(tx: Transaction) -> date:
    assert tx.validation_date is not None, "only a validated transaction has a day"
    return paris_day(tx.validation_date)


@dataclass
class Transfer:
    """One bank transfer from ANCV to a point d'accueil (Mes remboursements)."""

    transfer_id: str
    shop_id: int
    transaction_day: date
    payment_date: date
    transaction_ids: list[str]
    total: int
    fee: int
    net: int
    paid_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transfer:
        return cls(**{**data, "transaction_ids": list(data["transaction_ids"])})


def latest_due_day(today: date, working_days: WorkingDays, delay: int = REIMBURSEMENT_DELAY_WORKING_DAYS) -> date:
    """The latest transaction day whose transfers are due by `today`: those of every later day are not (a
    payment date never comes before that of an earlier day), so a run need not look at their transactions."""
    day = today
    while working_days.add(day, delay) > today:
        day -= timedelta(days=1)
    return day


def due_transfers(consigned: Iterable[Transaction], today: date, now: datetime, working_days: WorkingDays,
                  rate_of: Callable[[int], int], delay: int = REIMBURSEMENT_DELAY_WORKING_DAYS,
                  ) -> list[tuple[Transfer, list[tuple[Transaction, Refund]]]]:
    """The transfers to pay at `now` (a run on `today`): one per point d'accueil and transaction day
    whose payment date has come, with each transaction's refund. `rate_of(shop_id)` is its commission."""
    groups: dict[tuple[int, date], list[Transaction]] = defaultdict(list)
    payment_dates: dict[date, date] = {}  # transaction day -> its payment date: a few days, many transactions
    for tx in consigned:
        day = transaction_day(tx)
        if day not in payment_dates:
            payment_dates[day] = working_days.add(day, delay)
        if payment_dates[day] <= today:
            groups[(tx.shop_id, day)].append(tx)
    transfers = []
    for (shop_id, day), txs in sorted(groups.items()):
        txs.sort(key=lambda t: t.transaction_id)
        lines = []
        for tx in txs:
            total = tx.authorized_amount
            cut = fee(total, rate_of(shop_id))
            lines.append((tx, Refund(total=total, net=total - cut, fee=cut, effective_date=now)))
        total = sum(refund.total for _, refund in lines)
        cut = sum(refund.fee for _, refund in lines)
        transfers.append((Transfer(f"VIR-{shop_id}-{day:%Y%m%d}-{today:%Y%m%d}", shop_id, day, today,
                                   [tx.transaction_id for tx in txs], total, cut, total - cut, now), lines))
    return transfers
