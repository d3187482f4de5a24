"""Beneficiaries: their allocations of Chèques-Vacances Connect, devices and personal code.

Available balance = allocations still valid − what they already paid − holds of payments
awaiting validation (deferred capture). Every money move is keyed by the transaction it
belongs to, so a cancellation re-credits exactly what was taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import errors
from .events import RecordsEvents
from .records import to_plain

BEHAVIOURS = ("manual", "pay_full", "pay_partial", "wrong_pin", "no_answer", "abandon", "no_device", "low_balance")
DEVICE_ACTIVE = "ACTIVE"
DEVICE_BLOCKED = "BLOCKED"
WRONG_PINS_BEFORE_BLOCK = 3  # SR: three wrong codes in a row block the device


@dataclass
class Allocation:
    allocation_id: str
    amount: int  # cents credited
    valid_from: datetime
    valid_until: datetime
    used: int = 0  # cents spent from it

    def is_valid(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until

    @property
    def remaining(self) -> int:
        return self.amount - self.used


@dataclass
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
    debits: dict[str, list[list[Any]]] = field(default_factory=dict)  # transaction id -> [[allocation id, cents]]
    wrong_pin_streak: int = 0

    # --- reading -------------------------------------------------------------------
    def has_active_device(self) -> bool:
        return any(device.status == DEVICE_ACTIVE for device in self.devices)

    def available(self, now: datetime) -> int:
        """Cents the beneficiary can spend now (never below zero)."""
        valid = sum(a.remaining for a in self.allocations if a.is_valid(now))
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
            for device in self.devices:
                device.status = DEVICE_BLOCKED
            self._record("BeneficiaryDeviceBlocked", self.beneficiary_id, now)
        return False

    def unblock_devices(self, now: datetime) -> None:
        self.wrong_pin_streak = 0
        for device in self.devices:
            device.status = DEVICE_ACTIVE
        self._record("BeneficiaryDeviceUnblocked", self.beneficiary_id, now)

    def set_behaviour(self, behaviour: str, now: datetime) -> None:
        if behaviour not in BEHAVIOURS:
            raise errors.BadRequest(f"behaviour must be one of {', '.join(BEHAVIOURS)}")
        self.behaviour = behaviour
        self._record("BeneficiaryBehaviourSet", self.beneficiary_id, now, behaviour=behaviour)

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
        parts: list[list[Any]] = []
        left = amount
        for allocation in sorted(self.allocations, key=lambda a: a.valid_until):
            if left == 0:
                break
            if not allocation.is_valid(now) or allocation.remaining == 0:
                continue
            take = min(left, allocation.remaining)
            allocation.used += take
            parts.append([allocation.allocation_id, take])
            left -= take
        self.debits[transaction_id] = parts

    def refund(self, transaction_id: str) -> int:
        """Give back what a cancelled payment took (its hold or its debit)."""
        returned = self.release(transaction_id)
        by_id = {a.allocation_id: a for a in self.allocations}
        for allocation_id, cents in self.debits.pop(transaction_id, []):
            by_id[allocation_id].used -= cents
            returned += cents
        return returned

    # --- storage ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Beneficiary:
        data = dict(data)
        data["devices"] = [Device(**d) for d in data.get("devices", [])]
        data["allocations"] = [Allocation(**a) for a in data.get("allocations", [])]
        return cls(**data)
