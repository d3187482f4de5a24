"""Beneficiaries: their allocations of Chèques-Vacances Connect, devices, personal code and app login.

Available balance = allocations still valid − what they already paid − holds of payments
awaiting validation (deferred capture). Every money move is keyed by the transaction it
belongs to, so a cancellation re-credits exactly what was taken.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import errors, events
from .events import RecordsEvents
from .records import plain_fields, utc_fields, with_values
from .sessions import close_session, is_open, open_session

BEHAVIOURS = ("manual", "pay_full", "pay_partial", "wrong_pin", "no_answer", "abandon", "no_device", "low_balance")
DEVICE_ACTIVE = "ACTIVE"
DEVICE_BLOCKED = "BLOCKED"
WRONG_PINS_BEFORE_BLOCK = 3  # SR: three wrong codes in a row block the device
# The app's login: the 3rd wrong password in a row locks it for a while (as the Espace dédié's 3rd locks
# the merchant's account; the app has no "Mot de passe oublié", so the lock lifts by itself)
WRONG_PASSWORDS_BEFORE_LOCK = 3
LOGIN_LOCK = timedelta(minutes=15)
LOGGED_IN, WRONG_PASSWORD, LOGIN_LOCKED = "logged in", "wrong password", "locked"


@dataclass(frozen=True)
class Allocation:
    allocation_id: str
    amount: int  # cents credited
    valid_from: datetime
    valid_until: datetime
    used: int = 0  # cents spent from it

    def __post_init__(self) -> None:
        utc_fields(self, "valid_from", "valid_until")

    def is_valid(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until

    def has_ended(self, now: datetime) -> bool:
        """Its validity is over ("Expiré le …"): what is left of it can no longer be spent."""
        return self.valid_until <= now

    def is_upcoming(self, now: datetime) -> bool:
        """Credited for a validity that has not started yet ("À partir du …")."""
        return now < self.valid_from

    @property
    def remaining(self) -> int:
        return self.amount - self.used


@dataclass(frozen=True)
class Device:
    device_id: str
    status: str = DEVICE_ACTIVE


@dataclass
class Beneficiary(RecordsEvents):
    beneficiary_id: str  # 11 digits, Luhn
    email: str
    password: str
    pin: str  # 6 digits
    first_name: str = ""
    last_name: str = ""
    behaviour: str = "manual"
    devices: list[Device] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    holds: dict[str, int] = field(default_factory=dict)  # transaction id -> cents held
    debits: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # tx id -> ((allocation id, cents),)
    wrong_pin_streak: int = 0
    wrong_passwords: int = 0  # in a row, at the app's login
    login_locked_until: datetime | None = None
    sessions: list[str] = field(default_factory=list)  # grants of the app's sessions logged in (domain/sessions)

    # --- reading -------------------------------------------------------------------
    def has_active_device(self) -> bool:
        return any(device.status == DEVICE_ACTIVE for device in self.devices)

    def available(self, now: datetime) -> int:
        """Cents the beneficiary can spend now (never below zero)."""
        valid = 0
        for allocation in self.allocations:  # (a loop, not sum() of a generator: every payment asks, often twice)
            if allocation.is_valid(now):
                valid += allocation.remaining
        return max(0, valid - sum(self.holds.values()))

    def held(self) -> int:
        return sum(self.holds.values())

    def spent(self) -> int:
        return sum(cents for parts in self.debits.values() for _, cents in parts)

    # --- personal code ---------------------------------------------------------------
    def check_pin(self, pin: str, now: datetime, block_after: int = WRONG_PINS_BEFORE_BLOCK) -> bool:
        """True when right; `block_after` wrong ones in a row block the device."""
        if pin == self.pin:
            self.wrong_pin_streak = 0
            return True
        self.wrong_pin_streak += 1
        if self.wrong_pin_streak >= block_after:
            self.devices = [with_values(device, status=DEVICE_BLOCKED) for device in self.devices]
            self._record(events.BENEFICIARY_DEVICE_BLOCKED, self.beneficiary_id, now)
        return False

    def unblock_devices(self, now: datetime) -> None:
        """Devices active again, and the app's login unlocked (the control plane's `unblock`)."""
        self.wrong_pin_streak = 0
        self.devices = [with_values(device, status=DEVICE_ACTIVE) for device in self.devices]
        self.wrong_passwords, self.login_locked_until = 0, None
        self._record(events.BENEFICIARY_DEVICE_UNBLOCKED, self.beneficiary_id, now)

    # --- the app's login ---------------------------------------------------------------
    def login_locked(self, now: datetime) -> bool:
        return self.login_locked_until is not None and now < self.login_locked_until

    def log_in(self, password: str, now: datetime, grant: str) -> str:
        """LOGGED_IN (a session opened under `grant`), WRONG_PASSWORD, or LOGIN_LOCKED: while locked even
        the right password is refused, and the WRONG_PASSWORDS_BEFORE_LOCK-th wrong one in a row locks
        the login for LOGIN_LOCK."""
        if self.login_locked(now):
            return LOGIN_LOCKED
        if hmac.compare_digest(password.encode(), self.password.encode()):
            self.wrong_passwords, self.login_locked_until = 0, None
            open_session(self.sessions, grant)
            return LOGGED_IN
        self.wrong_passwords += 1
        if self.wrong_passwords >= WRONG_PASSWORDS_BEFORE_LOCK:
            self.wrong_passwords, self.login_locked_until = 0, now + LOGIN_LOCK
            self._record(events.BENEFICIARY_LOGIN_LOCKED, self.beneficiary_id, now, until=self.login_locked_until)
            return LOGIN_LOCKED
        self._record(events.BENEFICIARY_LOGIN_REFUSED, self.beneficiary_id, now, wrongPasswords=self.wrong_passwords)
        return WRONG_PASSWORD

    def log_out(self, grant: str) -> None:
        close_session(self.sessions, grant)

    def logged_in(self, grant: Any) -> bool:
        return is_open(self.sessions, grant)

    def set_behaviour(self, behaviour: str, now: datetime) -> None:
        if behaviour not in BEHAVIOURS:
            raise errors.BadRequest(f"behaviour must be one of {', '.join(BEHAVIOURS)}")
        self.behaviour = behaviour
        self._record(events.BENEFICIARY_BEHAVIOUR_SET, self.beneficiary_id, now, behaviour=behaviour)

    # --- money -----------------------------------------------------------------------
    def hold(self, transaction_id: str, amount: int, now: datetime) -> None:
        """Reserve an authorized deferred payment until it is executed or cancelled."""
        if amount > self.available(now):
            raise errors.InsufficientBalance(f"{amount} cents asked, {self.available(now)} available")
        self.holds[transaction_id] = amount

    def release(self, transaction_id: str) -> int:
        return self.holds.pop(transaction_id, 0)

    def debit(self, transaction_id: str, amount: int, now: datetime) -> None:
        """Spend from the allocations that expire first."""
        self.release(transaction_id)
        if amount > self.available(now):
            raise errors.InsufficientBalance(f"{amount} cents asked, {self.available(now)} available")
        parts: list[tuple[str, int]] = []
        taken: dict[int, int] = {}  # position in `allocations` -> cents taken from it
        left = amount
        for position, allocation in sorted(enumerate(self.allocations), key=lambda pair: pair[1].valid_until):
            if left == 0:
                break
            if not allocation.is_valid(now) or allocation.remaining == 0:
                continue
            take = min(left, allocation.remaining)
            taken[position] = take
            parts.append((allocation.allocation_id, take))
            left -= take
        self.allocations = [with_values(a, used=a.used + taken[i]) if i in taken else a
                            for i, a in enumerate(self.allocations)]
        self.debits[transaction_id] = tuple(parts)

    def refund(self, transaction_id: str) -> int:
        """Give back what a cancelled payment took (its hold or its debit)."""
        returned = self.release(transaction_id)
        given: dict[str, int] = {}  # allocation id -> cents given back to it
        for allocation_id, cents in self.debits.pop(transaction_id, ()):
            given[allocation_id] = given.get(allocation_id, 0) + cents
            returned += cents
        self.allocations = [with_values(a, used=a.used - given.pop(a.allocation_id)) if a.allocation_id in given else a
                            for a in self.allocations]
        return returned

    # --- storage ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Beneficiary:
        data = dict(data)
        data["devices"] = [Device(**d) for d in data.get("devices", [])]
        data["allocations"] = [Allocation(**a) for a in data.get("allocations", [])]
        data["debits"] = {tx_id: tuple((allocation_id, cents) for allocation_id, cents in parts)
                          for tx_id, parts in data.get("debits", {}).items()}
        return cls(**data)
