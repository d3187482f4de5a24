"""What a read code sets off, for each role.

- A beneficiary reading a merchant's payment QR code pays it the way the App' Chèque-Vacances does:
  scan, lower the amount if asked (001 payments only), type the personal code (control plane `act`).
- A merchant reading a beneficiary's `CVCoId` asks for a payment the way a till does: Kit API
  `POST /payment-transactions` then `/payer`, and waits for the beneficiary's answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.client import ControlClient, ControlError, KitClient
from sandbox.domain.french import plain_euros

from .codes import IdentifierCode, PaymentCode

POLL_S = 1.0
WAITING_STATES = ("INITIALIZED", "PROCESSING")  # the beneficiary has not answered yet


@dataclass(frozen=True)
class Outcome:
    """How the payment a read started ended, as far as this side can tell."""

    ok: bool
    state: str  # the transaction's state (or an error code when it could not start)
    message: str
    transaction_id: str | None = None
    pre_transaction_id: str | None = None
    amount: int | None = None  # cents: paid when it was, else asked

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "state": self.state, "message": self.message, "transactionId": self.transaction_id,
                "preTransactionId": self.pre_transaction_id, "amount": self.amount}


def _paid(tx: dict[str, Any]) -> int | None:
    authorizations = [a for payer in tx.get("payers", []) for a in payer.get("authorizations", [])]
    if authorizations:
        return sum(int(a["amount"]["total"]) for a in authorizations)
    return int(tx["order"]["amount"]["total"]) if "order" in tx else None


def _ended(tx: dict[str, Any], pre_id: str | None = None) -> Outcome:
    state = tx["state"]
    amount = _paid(tx)
    detail = f"{state}/{tx['subState']}" if tx.get("subState") else state
    ok = state in ("AUTHORIZED", "VALIDATED")
    message = (f"paid {plain_euros(amount)} €" if ok and amount is not None else f"payment {detail}")
    return Outcome(ok, state, message, tx["id"], pre_id, amount)


class PayAsBeneficiary:
    """The App' Chèque-Vacances of one beneficiary, driven through the control plane."""

    def __init__(self, control: ControlClient, beneficiary_id: str, pin: str, amount: int | None = None) -> None:
        self.control, self.beneficiary_id, self.pin, self.amount = control, beneficiary_id, pin, amount

    def __call__(self, code: PaymentCode | IdentifierCode) -> Outcome:
        assert isinstance(code, PaymentCode)
        pre_id = code.pre_transaction_id
        try:
            tx = self.control.act(self.beneficiary_id, "scan", url=code.url)["transaction"]
            if self.amount is not None and tx.get("subState") == "IN_ADJUSTMENT":
                tx = self.control.act(self.beneficiary_id, "adjust", amount=self.amount)["transaction"]
            tx = self.control.act(self.beneficiary_id, "authorize", pin=self.pin)["transaction"]
        except ControlError as error:
            return Outcome(False, error.code, error.message or str(error), pre_transaction_id=pre_id)
        return _ended(tx, pre_id)


class ChargeAsMerchant:
    """A till with the shop's Kit key: one payment of `amount` per beneficiary code read."""

    def __init__(self, kit: KitClient, amount: int, *, wait_s: float = 330.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 order_ids: Callable[[], str] | None = None) -> None:
        self.kit, self.amount, self.wait_s = kit, amount, wait_s
        self._clock, self._sleep = clock, sleep
        self._order_ids = order_ids or (lambda: f"SCAN-{time.strftime('%Y%m%d-%H%M%S')}")

    def __call__(self, code: PaymentCode | IdentifierCode) -> Outcome:
        assert isinstance(code, IdentifierCode)
        order_id = self._order_ids()
        created = self.kit.create_transaction(order_id, "1", self.amount)
        if not created.ok:
            return _refused(created)
        tx_id = created["transaction"]["id"]
        payer = self.kit.set_payer(tx_id, code.beneficiary_id)
        if not payer.ok:
            return _refused(payer, tx_id)
        deadline = self._clock() + self.wait_s
        tx = payer["transaction"]
        while tx["state"] in WAITING_STATES and self._clock() < deadline:
            self._sleep(POLL_S)
            reply = self.kit.get_transaction(tx_id)
            if not reply.ok:
                return _refused(reply, tx_id)
            tx = reply["transaction"]
        if tx["state"] in WAITING_STATES:
            return Outcome(False, tx["state"], f"no answer from the beneficiary within {self.wait_s:g} s",
                           tx_id, amount=self.amount)
        return _ended(tx)


def _refused(reply: Any, tx_id: str | None = None) -> Outcome:
    body = reply.body if isinstance(reply.body, dict) else {}
    code = str(body.get("errorCode", reply.status))
    return Outcome(False, code, str(body.get("errorMessage", "")) or f"HTTP {reply.status}", tx_id)
