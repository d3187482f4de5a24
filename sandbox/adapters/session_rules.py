"""The rules every store session follows, written once over the primitives each store provides.

The SQL session and the MemorySession both inherit `SessionRules`: it decides what makes
two orders the same (the Kit's duplicate rule), that saving a transaction or a payment
request sets its deadline timer, which deadline a session tells the scheduler about, that
emails compare without case, which transaction is "in progress" and which requests wait
in an app, and that a merchant is read once per session. Each store then only stores and
finds rows (the abstract `_` methods).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from ..domain import deadlines
from ..domain.accounts import MerchantAccount
from ..domain.beneficiaries import Beneficiary
from ..domain.dates import paris_day
from ..domain.merchants import PointOfSale, ServiceProvider
from ..domain.pre_transactions import PROCESSING as PRE_PROCESSING
from ..domain.pre_transactions import PreTransaction
from ..domain.transactions import PROCESSING, Transaction

OrderParts = tuple[int, int | None, datetime, str, str]  # shop, key holder, creation, order id, payment id


def order_parts(shop_id: int, service_provider_id: int | None, when: datetime, order_id: str,
                payment_id: str) -> tuple[int, int | None, str, str, str]:
    """Same shop, same (French) day, same order and payment ids: the Kit's duplicate rule.

    The key holder is part of it, so a duplicate never hands one holder another's object."""
    return shop_id, service_provider_id, paris_day(when).isoformat(), order_id, payment_id


def order_key(shop_id: int, service_provider_id: int | None, when: datetime, order_id: str, payment_id: str) -> str:
    """`order_parts` as the text of a column: JSON keeps the parts apart whatever characters the ids
    hold, and its digest keeps the key within its column (escaped, 64 + 40 characters of ids can
    take 600: PostgreSQL refuses them)."""
    parts = json.dumps(list(order_parts(shop_id, service_provider_id, when, order_id, payment_id)))
    return hashlib.sha256(parts.encode()).hexdigest()


class SessionRules(ABC):
    """The public methods that carry a rule; the storage primitives are left to each store."""

    def __init__(self) -> None:
        self.earliest_timer: datetime | None = None  # the earliest deadline this session set
        self._merchants: dict[tuple[str, int], Any] = {}  # read once per session

    # --- merchants ---------------------------------------------------------------------
    def add_point_of_sale(self, pos: PointOfSale) -> None:
        self._put_point_of_sale(pos)
        self._merchants.pop(("shop", pos.shop_id), None)

    save_point_of_sale = add_point_of_sale

    def point_of_sale(self, shop_id: int) -> PointOfSale | None:
        if ("shop", shop_id) not in self._merchants:
            self._merchants[("shop", shop_id)] = self._stored_point_of_sale(shop_id)
        return self._merchants[("shop", shop_id)]

    def add_service_provider(self, sp: ServiceProvider) -> None:
        self._put_service_provider(sp)
        self._merchants.pop(("provider", sp.service_provider_id), None)

    def service_provider(self, service_provider_id: int) -> ServiceProvider | None:
        if ("provider", service_provider_id) not in self._merchants:
            self._merchants[("provider", service_provider_id)] = self._stored_service_provider(service_provider_id)
        return self._merchants[("provider", service_provider_id)]

    # --- merchant accounts -----------------------------------------------------------------
    def account_by_reset_token(self, token: str) -> MerchantAccount | None:
        """The account a reset link belongs to (few accounts: a scan is fine)."""
        return next((a for a in self.accounts() if a.reset_token == token), None)

    # --- beneficiaries: an email address is found whatever its case --------------------------
    def save_beneficiary(self, beneficiary: Beneficiary) -> None:
        self._put_beneficiary(beneficiary, beneficiary.email.lower())

    def beneficiary_by_email(self, email: str) -> Beneficiary | None:
        return self._beneficiary_with_email(email.lower())

    # --- transactions ----------------------------------------------------------------------
    def save_transaction(self, tx: Transaction) -> None:
        # a transaction made by scanning a payment request answers to the request's key, not its own
        order = None if tx.pre_transaction_id else (
            tx.shop_id, tx.service_provider_id, tx.creation_date, tx.order_id, tx.payment_id)
        self._put_transaction(tx, order)
        self.set_timer(deadlines.TRANSACTION, tx.transaction_id, tx.next_deadline())

    def transaction_by_order(self, shop_id: int, service_provider_id: int | None, now: datetime, order_id: str,
                             payment_id: str) -> Transaction | None:
        return self._transaction_with_order_key(self._order_index(shop_id, service_provider_id, now, order_id,
                                                                  payment_id))

    def pending_transaction_of(self, beneficiary_id: str) -> Transaction | None:
        """The beneficiary's transaction in PROCESSING, if any (at most one by the Kit's rule)."""
        return self._transaction_of_in_state(beneficiary_id, PROCESSING)

    def transactions_in_state(self, state: str, created_before: datetime | None = None) -> list[Transaction]:
        """Every transaction in `state` (created before `created_before`, when given), by id."""
        return sorted(self._transactions_in_state(state, created_before), key=lambda tx: tx.transaction_id)

    # --- pre-transactions ----------------------------------------------------------------------
    def save_pre_transaction(self, pre: PreTransaction) -> None:
        self._put_pre_transaction(pre, (pre.shop_id, pre.service_provider_id, pre.creation_date, pre.order_id,
                                        pre.pre_payment_id))
        self.set_timer(deadlines.PRE_TRANSACTION, pre.pre_transaction_id, pre.next_deadline())

    def pre_transaction_by_order(self, shop_id: int, service_provider_id: int | None, now: datetime, order_id: str,
                                 pre_payment_id: str) -> PreTransaction | None:
        key = self._order_index(shop_id, service_provider_id, now, order_id, pre_payment_id)
        return self._pre_transaction_with_order_key(key)

    def pre_transactions_sent_to(self, beneficiary_id: str) -> list[PreTransaction]:
        """Payment requests pushed to this beneficiary's app (`/contact` with beneficiaryId) still waiting to be paid."""
        return self._pre_transactions_contacting(beneficiary_id, PRE_PROCESSING)

    # --- timers ----------------------------------------------------------------------------------
    def set_timer(self, kind: str, ref: str, due: datetime | None) -> None:
        """One timer per (kind, ref); None removes it. The session remembers its earliest new deadline."""
        if due is None:
            self._delete_timer(kind, ref)
            return
        self._put_timer(kind, ref, due)
        if self.earliest_timer is None or due < self.earliest_timer:
            self.earliest_timer = due

    # --- what each store provides -----------------------------------------------------------------
    def _order_index(self, shop_id: int, service_provider_id: int | None, when: datetime, order_id: str,
                     payment_id: str) -> Any:
        """What the store finds an order by: `order_key`, unless it keys orders otherwise (by `order_parts`)."""
        return order_key(shop_id, service_provider_id, when, order_id, payment_id)

    @abstractmethod
    def accounts(self) -> list[MerchantAccount]: ...

    @abstractmethod
    def _put_point_of_sale(self, pos: PointOfSale) -> None: ...

    @abstractmethod
    def _stored_point_of_sale(self, shop_id: int) -> PointOfSale | None: ...

    @abstractmethod
    def _put_service_provider(self, sp: ServiceProvider) -> None: ...

    @abstractmethod
    def _stored_service_provider(self, service_provider_id: int) -> ServiceProvider | None: ...

    @abstractmethod
    def _put_beneficiary(self, beneficiary: Beneficiary, email_key: str) -> None:
        """Store it, found again by `email_key`."""

    @abstractmethod
    def _beneficiary_with_email(self, email_key: str) -> Beneficiary | None:
        """The first one stored with that key."""

    @abstractmethod
    def _put_transaction(self, tx: Transaction, order: OrderParts | None) -> None:
        """Store it, found again by `_order_index(*order)` (never, when None)."""

    @abstractmethod
    def _transaction_with_order_key(self, key: str) -> Transaction | None: ...

    @abstractmethod
    def _transaction_of_in_state(self, beneficiary_id: str, state: str) -> Transaction | None: ...

    @abstractmethod
    def _transactions_in_state(self, state: str, created_before: datetime | None) -> list[Transaction]: ...

    @abstractmethod
    def _put_pre_transaction(self, pre: PreTransaction, order: OrderParts) -> None:
        """Store it, found again by `_order_index(*order)`."""

    @abstractmethod
    def _pre_transaction_with_order_key(self, key: str) -> PreTransaction | None: ...

    @abstractmethod
    def _pre_transactions_contacting(self, beneficiary_id: str, state: str) -> list[PreTransaction]:
        """Those in `state` whose contact is that beneficiary, by creation."""

    @abstractmethod
    def _put_timer(self, kind: str, ref: str, due: datetime) -> None: ...

    @abstractmethod
    def _delete_timer(self, kind: str, ref: str) -> None: ...
