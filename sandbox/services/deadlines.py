"""The deadlines of the Kit's own objects: a transaction's timeouts and capture date, a request's expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain import payments

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork


def transaction_due(uow: UnitOfWork, ref: str) -> None:
    """A timeout (Kit §6.2.2.7: EXPIRED, REJECTED_INTERNAL or REJECTED_TIMEOUT), or the capture date of a
    pre-booking nobody validated (CANCELLED, the beneficiary re-credited)."""
    tx = uow.session.transaction(ref)
    if tx is None:
        return
    beneficiary = uow.session.beneficiary(tx.beneficiary_id) if tx.beneficiary_id else None
    if payments.handle_deadline(tx, beneficiary, uow.now) and beneficiary is not None:
        uow.save(beneficiary)
    uow.save(tx)


def request_due(uow: UnitOfWork, ref: str) -> None:
    """A payment request's expiry (Kit §4.6.1 `expirationDate`)."""
    pre = uow.session.pre_transaction(ref)
    if pre is not None:
        pre.expire_if_due(uow.now)
        uow.save(pre)
