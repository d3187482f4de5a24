"""Simulated merchants: a point d'accueil cashing from the Espace dédié (parcours A–D) or the App'
Chèque-Vacances Pro, and integrators (a booking engine, a payment service provider) calling the
Kit API with their seal, hearing back by webhook or by polling once a second.

Each merchant receives visits (a Poisson process, a fixed period or a script), takes an idle
customer of its group, starts a payment the way its channel does, follows it to its end, then
does what merchants do: validate or cancel a pre-booking, cancel a booking later (within the
Kit's 4 hours, or too late), withdraw a request nobody paid, take the rest of a partial payment
by another means.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import simpy

from customer_sim.customers import Customer
from sandbox.domain import events
from sandbox.domain.dates import format_date
from sandbox.domain.french import plain_euros
from scenarios import spec
from scenarios.context import Context
from scenarios.platform import PlatformError, error_of

# Where a payment stands once nobody waits for the client any more
TX_DONE = {"AUTHORIZED", "VALIDATED", "REJECTED", "ABORTED", "CANCELLED", "EXPIRED"}
TX_PAID = {"AUTHORIZED", "VALIDATED"}
PRE_DONE = {"USED", "ABORTED", "EXPIRED"}
POLL_FAST_S, POLL_SLOW_S, POLL_FAST_FOR_S = 1.0, 60.0, 600.0  # the Kit advises once a second; slower after 10 min
QR_MINUTES = 10  # how long a QR code shown at a till stays payable
IDLE_DRAWS = 8


class Merchant:
    """One point d'accueil and the visits it receives."""

    def __init__(self, ctx: Context, group: spec.Merchants, shop: dict[str, Any], index: int,
                 customers: list[Customer], duration: float) -> None:
        self.ctx, self.group, self.shop, self.index = ctx, group, shop, index
        self.customers, self.duration = customers, duration
        self.rng = ctx.rng("merchant", group.name, index)
        self.visits = 0
        ctx.env.process(self._arrivals())

    # --- visits -------------------------------------------------------------------------------------------
    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env, arrivals = self.ctx.env, self.group.arrivals
        opens, closes = self.group.open or (0.0, self.duration)
        closes = min(closes, self.duration)
        if arrivals.kind == "at":
            for moment in arrivals.times:
                if moment >= closes:
                    return
                if moment >= opens:
                    yield env.timeout(moment - env.now)
                    self._visit()
            return
        yield env.timeout(opens)
        while True:
            gap = self.rng.expovariate(arrivals.rate_per_s) if arrivals.kind == "poisson" else 1 / arrivals.rate_per_s
            if env.now + gap >= closes:
                return
            yield env.timeout(gap)
            self._visit()

    def _visit(self) -> None:
        self.ctx.tally["visits"] += 1
        customer = self._idle_customer()
        if customer is None:
            self.ctx.tally["visits_without_idle_customer"] += 1
            return
        self.visits += 1
        self.ctx.env.process(self._serve(customer))

    def _idle_customer(self) -> Customer | None:
        """Someone of the group not at another merchant's (a few draws first: big groups are mostly idle)."""
        for _ in range(IDLE_DRAWS):
            customer = self.rng.choice(self.customers)
            if not customer.busy:
                return customer
        idle = [c for c in self.customers if not c.busy]
        return self.rng.choice(idle) if idle else None

    def _serve(self, customer: Customer) -> Generator[simpy.Event, Any, None]:
        customer.busy = True
        try:
            yield from self.serve(customer, self._amount(), f"{self.shop['shopId']}-{self.visits}")
        finally:
            customer.busy = False

    def _amount(self) -> int:
        cents = round(self.group.amount.sample(self.rng) * 100)
        self.ctx.tally["amount_requested_cents"] += max(1, cents)
        return max(1, cents)

    def serve(self, customer: Customer, amount: int, order_id: str) -> Generator[simpy.Event, Any, None]:
        raise NotImplementedError

    # --- following a payment through what the sandbox says (the live pages' pushes) ----------------------------
    def _follow(self, ref: str, done: set[str], patience: float) -> Generator[simpy.Event, Any, dict[str, Any]]:
        """Wait for `ref` to reach one of `done` (or for a paid request's payment to fail); the last event's data."""
        ctx, deadline = self.ctx, self.ctx.env.now + patience
        last: dict[str, Any] = {}
        while ctx.env.now < deadline:
            message = yield from ctx.wait(ref, deadline - ctx.env.now)
            if message is None:
                break
            if message.kind != "event" or "state" not in message.data:
                continue
            last = message.data
            if last["state"] in done or (message.type == events.PRE_TRANSACTION_PROCESSING and last.get("via") is None):
                break  # a final state, or the request is usable again because its payment failed
        return last

    def _authorized_amount(self, last: dict[str, Any], requested: int) -> int:
        """What the client paid, from the last event followed (TransactionAuthorized or PreTransactionUsed)."""
        return int(last.get("amount") or requested)

    def _partial(self, requested: int, authorized: int) -> None:
        """The client paid part in Chèques-Vacances Connect: the rest is paid by another means (card, cash)."""
        if 0 < authorized < requested:
            self.ctx.tally["partial_payments"] += 1
            self.ctx.tally["remainder_other_means_cents"] += requested - authorized

    def _decide(self, decision: spec.Decision, window_s: float) -> tuple[str, float]:
        """What happens to a payment that may still be confirmed or cancelled, and after how long."""
        draw = self.rng.random()
        what = "cancel" if draw < decision.cancel else "forget" if draw < decision.cancel + decision.forget else \
            "lower" if self.rng.random() < decision.lower else "validate"
        return what, min(decision.after.sample(self.rng), window_s * 2)


class PortalMerchant(Merchant):
    """A point d'accueil at the Espace dédié's ENCAISSER wizard (SPEC §8, parcours A–D)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.portal = self.ctx.platform.portal(self.shop)
        names = list(self.group.parcours)
        self._parcours = (names, [self.group.parcours[n] for n in names])

    def serve(self, customer: Customer, amount: int, order_id: str) -> Generator[simpy.Event, Any, None]:
        ctx, group = self.ctx, self.group
        parcours = self.rng.choices(*self._parcours)[0]
        ctx.tally[f"parcours.{parcours}"] += 1
        deferred, validation = parcours in ("B", "D"), parcours in ("C", "D")
        choice = {"timing": "differe" if deferred else "immediat", "payment_days": str(group.payment_days),
                  "validation": "oui" if validation else "non", "validation_days": str(group.validation_days),
                  "email": f"caisse.{self.shop['shopId']}@example.fr" if group.notify_email else ""}
        mode = {"A_qr": "qr", "A_id": "identifiant", "B": "email", "C": "identifiant", "D": "email"}[parcours]
        client = customer.email if mode == "email" else customer.id if mode == "identifiant" else ""
        demand = {"amount": plain_euros(amount), "order_id": order_id, "mode": mode, "client": client}
        try:
            operation = self.portal.cash(choice, demand)
        except PlatformError as error:
            ctx.refused("portal_errors", error)
            return
        ref = operation["ref"]
        ctx.hub.watch(ref)
        try:
            if mode == "qr":
                ctx.env.process(customer.scan(operation["url"]))
            tx_id: str | None = ref
            if operation["object"] == "transaction":
                last = yield from self._follow(ref, TX_DONE, 600)
            else:
                patience = QR_MINUTES * 60 if mode == "qr" else group.payment_days * 86_400
                last = yield from self._follow(ref, PRE_DONE, patience + 60)
                tx_id = last.get("transactionId") if last.get("state") == "USED" else None
                if mode == "qr" and last.get("state") not in PRE_DONE:  # the client left without paying
                    self._cancel(ref, "preTransaction")
        finally:
            ctx.hub.forget(ref)
        if tx_id is None or last.get("state") not in TX_PAID | {"USED"}:
            return
        authorized = self._authorized_amount(last, amount)
        self._partial(amount, authorized)
        if validation:
            yield from self._pre_booking(tx_id, authorized)

    def _pre_booking(self, tx_id: str, authorized: int) -> Generator[simpy.Event, Any, None]:
        """"A valider": confirm (maybe for less), cancel, or let the deadline cancel it."""
        what, after = self._decide(self.group.validate, self.group.validation_days * 86_400)
        self.ctx.tally[f"pre_bookings.{what}"] += 1
        if what == "forget":
            return
        yield self.ctx.env.timeout(after)
        if what == "cancel":
            self._cancel(tx_id, "transaction")
            return
        amount = authorized if what == "validate" else max(1, round(authorized * self.rng.uniform(0.5, 0.95)))
        try:
            self.portal.validate(tx_id, plain_euros(amount))
        except PlatformError as error:
            self.ctx.refused("portal_errors", error)

    def _cancel(self, ref: str, object: str) -> None:
        try:
            self.portal.cancel(ref, object)
        except PlatformError as error:
            self.ctx.refused("portal_errors", error)


class ProMerchant(Merchant):
    """A point d'accueil with the App' Chèque-Vacances Pro: an immediate payment by QR code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pro = self.ctx.platform.pro(self.shop)

    def serve(self, customer: Customer, amount: int, order_id: str) -> Generator[simpy.Event, Any, None]:
        ctx = self.ctx
        try:
            request = self.pro.request(plain_euros(amount), order_id)
        except PlatformError as error:
            ctx.refused("pro_errors", error)
            return
        ctx.hub.watch(request["ref"])
        try:
            ctx.env.process(customer.scan(request["url"]))
            last = yield from self._follow(request["ref"], PRE_DONE, QR_MINUTES * 60 + 60)
        finally:
            ctx.hub.forget(request["ref"])
        if last.get("state") == "USED":
            self._partial(amount, self._authorized_amount(last, amount))


class Integrator(Merchant):
    """A booking engine or payment service provider using the Kit API for one of its shops (Kit §4.5–4.6)."""

    def __init__(self, ctx: Context, group: spec.Merchants, shop: dict[str, Any], index: int,
                 customers: list[Customer], duration: float, key_holder: dict[str, Any]) -> None:
        super().__init__(ctx, group, shop, index, customers, duration)
        self.kit = ctx.platform.kit(key_holder, shop["shopId"])
        self.webhooks = group.notify == "webhook"
        base = ctx.platform.webhook_url(f"{group.name}-{index}", group.webhook_failures,
                                        f"{ctx.seed}:webhooks:{group.name}:{index}") if self.webhooks else ""
        self.redirect_urls = {"returnUrl": f"{base}/retour", "cancelUrl": f"{base}/annulation"} if base else None
        names = list(group.flows)
        self._flows = (names, [group.flows[n] for n in names])

    def serve(self, customer: Customer, amount: int, order_id: str) -> Generator[simpy.Event, Any, None]:
        flow = self.rng.choices(*self._flows)[0]
        self.ctx.tally[f"flows.{flow}"] += 1
        self.ctx.hub.watch(("order", order_id))  # webhooks name the order; in-process they come during the calls
        try:
            if flow == "payer":
                yield from self._payer(customer, amount, order_id)
            else:
                yield from self._request(customer, amount, order_id, flow)
        finally:
            self.ctx.hub.forget(("order", order_id))

    # --- calls -----------------------------------------------------------------------------------------------
    def _call(self, reply: Any, expected: tuple[int, ...] = (200, 201, 202)) -> dict[str, Any] | None:
        if reply.status in expected:
            return reply.body  # type: ignore[no-any-return]
        self.ctx.refused("kit_errors", error_of(reply))
        return None

    def _state(self, ref: str, pre: bool) -> dict[str, Any]:
        body = self._call(self.kit.get_pre_transaction(ref) if pre else self.kit.get_transaction(ref))
        return (body or {}).get("preTransaction" if pre else "transaction") or {}

    def _outcome(self, ref: str, pre: bool, order_id: str, done: set[str],
                 patience: float) -> Generator[simpy.Event, Any, dict[str, Any]]:
        """The object once it reached `done`, or once a client's attempt failed, or when patience ran out:
        told by webhook (then read from the API, as the Kit advises), or found by polling once a second."""
        ctx, start = self.ctx, self.ctx.env.now
        deadline, seen = start + patience, set()
        while True:
            if self.webhooks:
                message = yield from ctx.wait(("order", order_id), deadline - ctx.env.now)
                if message is None:
                    return self._state(ref, pre)
                ctx.tally["webhooks_heard"] += 1
            obj = self._state(ref, pre)
            state = obj.get("state")
            seen.add(state)
            failed_attempt = pre and state == "PROCESSING" and "AUTHORIZING" in seen
            if not obj or state in done or failed_attempt or (self.webhooks and not pre) or ctx.env.now >= deadline:
                return obj
            if not self.webhooks:
                ctx.tally["polls"] += 1
                yield ctx.env.timeout(POLL_FAST_S if ctx.env.now - start < POLL_FAST_FOR_S else POLL_SLOW_S)

    # --- a transaction and /payer: the client confirms in the app (booking engines: within minutes) --------------
    def _payer(self, customer: Customer, amount: int, order_id: str) -> Generator[simpy.Event, Any, None]:
        group, env = self.group, self.ctx.env
        capture_date = None
        if group.capture == "DEFERRED":
            capture_date = format_date(self.ctx.platform.now() + timedelta(days=group.capture_days))
        created = self._call(self.kit.create_transaction(
            order_id, "1", amount, capture_mode=group.capture, tspd_mode=group.tspd, capture_date=capture_date,
            redirect_urls=self.redirect_urls))
        if created is None:
            return
        tx_id = created["transaction"]["id"]
        if self._call(self.kit.set_payer(tx_id, customer.id)) is None:
            return  # left INITIALIZED: it expires after 300 s
        tx = yield from self._outcome(tx_id, False, order_id, TX_DONE, group.confirm_within or 600.0)
        if tx.get("state") not in TX_DONE:  # the client did not confirm in time: the booking engine gives up
            self.ctx.tally["confirmations_too_late"] += 1
            self._call(self.kit.cancel(tx_id, "CUSTOMER_ABORT"))
            return
        if tx.get("state") not in TX_PAID:
            return
        authorized = self._authorized(tx)
        self._partial(amount, authorized)
        start = env.now
        if group.capture == "DEFERRED":
            what, after = self._decide(group.validate, group.capture_days * 86_400)
            self.ctx.tally[f"pre_bookings.{what}"] += 1
            if what == "forget":
                return
            yield env.timeout(after)
            if what == "cancel":
                self._call(self.kit.cancel(tx_id, "OTHER"))
                return
            amount = authorized if what == "validate" else max(1, round(authorized * self.rng.uniform(0.5, 0.95)))
            if self._call(self.kit.execute(tx_id, amount)) is None:
                return
            start = env.now
        yield from self._booking_cancelled(tx_id, start)

    def _authorized(self, tx: dict[str, Any]) -> int:
        payers = tx.get("payers") or [{}]
        authorizations = payers[0].get("authorizations") or [{}]
        return int(authorizations[0].get("amount", {}).get("total", 0))

    def _booking_cancelled(self, tx_id: str, validated_at: float) -> Generator[simpy.Event, Any, None]:
        """The client cancels the booking later: the integrator cancels the payment (Kit §4.5.5, 4 h rule)."""
        decision = self.group.booking_cancelled
        if not decision.cancel or self.rng.random() >= decision.cancel:
            return
        yield self.ctx.env.timeout(decision.after.sample(self.rng))
        late = self.ctx.env.now - validated_at > 4 * 3600
        self.ctx.tally["bookings_cancelled_late" if late else "bookings_cancelled"] += 1
        self._call(self.kit.cancel(tx_id, "OTHER", "Réservation annulée par le client"))

    # --- a payment request: a QR code at the till, or sent to the client's app or email -------------------------------
    def _request(self, customer: Customer, amount: int, order_id: str, flow: str) -> Generator[simpy.Event, Any, None]:
        group = self.group
        at_till = flow == "qr"
        lifetime = timedelta(minutes=QR_MINUTES) if at_till else timedelta(days=group.payment_days)
        created = self._call(self.kit.create_pre_transaction(
            order_id, amount, format_date(self.ctx.platform.now() + lifetime) or "", capture_mode="NORMAL",
            tspd_mode=group.tspd, redirect_urls=self.redirect_urls))
        if created is None:
            return
        pre_id = created["preTransaction"]["id"]
        if at_till:
            reply = self.kit.qr_code(pre_id)
            if reply.status != 200:
                self.ctx.refused("kit_errors", error_of(reply))
                return
            self.ctx.env.process(customer.scan(reply.headers["pre-transaction-url"]))
        else:
            target = {"beneficiary_id": customer.id} if flow == "contact_id" else {"email": customer.email}
            if self._call(self.kit.contact(pre_id, **target)) is None:
                return
        pre = yield from self._outcome(pre_id, True, order_id, PRE_DONE, lifetime.total_seconds() + 60)
        if pre.get("state") != "USED" and pre.get("state") not in PRE_DONE:
            self._call(self.kit.abort(pre_id, "Le client est parti sans payer" if at_till else "Demande retirée"))
            return
        if pre.get("state") == "USED":
            tx = self._state(pre["validatedPaymentTransactionId"], False)
            self._partial(amount, self._authorized(tx))
