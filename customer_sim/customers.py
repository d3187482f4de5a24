"""Simulated beneficiaries: a balance, a phone (or none), a personal code they sometimes mistype,
a think time before answering, and habits (paying only part, abandoning, missing the
confirmation window, refusing a request). They act only through the beneficiary's app
(`Platform.act`), and hear of payments the way the app does: the phone rings when a
merchant asks them (/payer, a pushed request) or an email with a payment link arrives."""

from __future__ import annotations

import random
from collections.abc import Generator
from functools import cached_property
from typing import Any

import simpy

from sandbox.domain import events
from sandbox.services.behaviours import wrong_pin
from scenarios import spec
from scenarios.context import Context
from scenarios.platform import Message, PlatformError

IN_ADJUSTMENT = "IN_ADJUSTMENT"


class Customer:
    def __init__(self, ctx: Context, group: spec.Customers, person: dict[str, Any], index: int) -> None:
        self.ctx, self.group, self.index = ctx, group, index
        self.id, self.email, self.pin = person["beneficiaryId"], person["email"], person["pin"]
        self.busy = False  # at a merchant's right now
        self._answered: set[str] = set()  # payments already being answered (the phone may ring twice for one)
        ctx.hub.watch(("beneficiary", self.id))
        ctx.env.process(self._phone())

    @cached_property
    def rng(self) -> random.Random:
        """Their own stream, made on their first draw: a busy day's customers are many, and some never come."""
        return self.ctx.rng("customer", self.group.name, self.index)

    # --- habits -----------------------------------------------------------------------------------------
    def _fate(self) -> str:
        """What they will do with this payment: one habit, or "pay"."""
        draw, habits = self.rng.random(), self.group.habits
        for habit in spec.HABITS:
            draw -= habits.get(habit, 0.0)
            if draw < 0:
                return habit
        return "pay"

    # --- what reaches them ------------------------------------------------------------------------------
    def _phone(self) -> Generator[simpy.Event, Any, None]:
        while True:
            message: Message = yield self.ctx.hub.next(("beneficiary", self.id))
            if message.type == events.TRANSACTION_PROCESSING:
                if message.ref not in self._answered:
                    self._answered.add(message.ref)
                    data = message.data
                    self.ctx.env.process(self.answer(message.ref, data.get("subState"), data.get("amount") or 0))
            else:  # a payment request pushed to the app, or emailed
                pushed = bool(message.data.get("beneficiaryId"))
                self.ctx.env.process(self._open_request(message.ref, pushed))

    def answer(self, transaction_id: str, sub_state: str | None, amount: int,
               fate: str | None = None) -> Generator[simpy.Event, Any, None]:
        """The app shows the payment: think, then pay (all or part), abandon, mistype, or let the time run out."""
        ctx = self.ctx
        fate = fate or self._fate()
        yield ctx.env.timeout(self.group.think.sample(self.rng))
        ctx.tally[f"customers.{fate}"] += 1
        if fate == "miss":
            return
        try:
            if fate in ("abandon", "refuse"):
                ctx.platform.tell(self.id, "abandon", transactionId=transaction_id)
                return
            if fate == "partial" and sub_state == IN_ADJUSTMENT and amount > 1:
                part = max(1, min(amount - 1, round(amount * self.group.partial_share.sample(self.rng))))
                ctx.platform.tell(self.id, "adjust", amount=part, transactionId=transaction_id)
            pin = wrong_pin(self.pin) if fate == "wrong_pin" else self.pin
            ctx.platform.tell(self.id, "authorize", pin=pin, transactionId=transaction_id)
        except PlatformError as error:  # too late, or the merchant cancelled meanwhile
            ctx.refused("app_errors", error)

    def scan(self, url: str) -> Generator[simpy.Event, Any, None]:
        """At the merchant's: the phone's camera reads the payment QR code, the app opens the payment."""
        ctx = self.ctx
        yield ctx.env.timeout(self.group.think.sample(self.rng) / 2)  # taking the phone out
        yield from self._pay_request(url, self._fate())

    def _open_request(self, pre_transaction_id: str, pushed: bool) -> Generator[simpy.Event, Any, None]:
        delay = self.group.think if pushed else self.group.pay_later
        yield self.ctx.env.timeout(delay.sample(self.rng))
        fate = self._fate()
        url = self.ctx.platform.payment_url(pre_transaction_id)
        if fate == "refuse":
            self.ctx.tally["customers.refuse"] += 1
            try:
                self.ctx.platform.tell(self.id, "refuse", url=url)
            except PlatformError as error:
                self.ctx.refused("app_errors", error)
            return
        if fate == "miss" and not pushed:  # the email stays unread; the request will expire
            self.ctx.tally["customers.miss"] += 1
            return
        yield from self._pay_request(url, fate)

    def _pay_request(self, url: str, fate: str) -> Generator[simpy.Event, Any, None]:
        try:
            reply = self.ctx.platform.act(self.id, "scan", url=url)
        except PlatformError as error:
            self.ctx.refused("app_errors", error)
            return
        tx = reply["transaction"]
        self._answered.add(tx["id"])
        payer = (tx.get("payers") or [{}])[0]
        yield from self.answer(tx["id"], tx.get("subState"), payer.get("amount", {}).get("total", 0), fate)
