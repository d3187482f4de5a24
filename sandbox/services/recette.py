"""Acceptance campaigns (`/_sandbox/recette`): the cahier de recette played against one key holder.

A campaign arranges each case of the catalogue (domain/recette.py): a point of sale of its own,
sealed with the holder's key, a beneficiary with the behaviour the case needs, and what else it
needs (a lost answer, a lost webhook answer, a payment pending elsewhere, a beneficiary who scans
or refuses). The integrator plays the cases with the identifiers handed out, in any order and in
parallel; every Kit call, webhook attempt and SFTP transfer on the campaign's shops is kept here
(the request journal is bounded and may be off), and each case is judged afresh when asked.
Campaigns live in memory on the Sandbox object, like the request journal: one server process
keeps its own, a reset drops them.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ..adapters.clock import VIRTUAL, WallClock
from ..domain import errors, events
from ..domain import recette as rules
from ..domain.accounts import POINT, MerchantAccount
from ..domain.beneficiaries import Allocation, Beneficiary, Device
from ..domain.dates import format_date
from ..domain.merchants import PointOfSale
from ..domain.recette import Call, Case, Declaration, Delivery, Evidence, SftpEntry
from ..domain.transactions import Transaction
from . import fixtures, paying, sftp_space
from .kit import ask_payer

if TYPE_CHECKING:
    from .sandbox import Sandbox

MAX_CAMPAIGNS = 100  # kept in memory; the oldest goes first
MAX_TIME_SCALE = 3600
BLOCKER_ORDER = "recette-paiement-en-cours"


class CampaignNotFound(errors.KitError):
    status, code, message = 404, "CAMPAIGN_NOT_FOUND", "No acceptance campaign has this id"


class CaseNotInCampaign(errors.KitError):
    status, code, message = 404, "CASE_NOT_FOUND", "The campaign has no such case"


class HolderNotFound(errors.KitError):
    status, code, message = 404, "HOLDER_NOT_FOUND", "No point of sale or service provider has this id"


class NeedsWallClock(errors.KitError):
    status, code, message = 409, "WALL_CLOCK_REQUIRED", "timeScale needs a wall clock"


@dataclass
class Slot:
    """What a case was given."""

    case: Case
    shop_id: int | None = None
    beneficiary_id: str | None = None
    beneficiary_email: str | None = None
    sftp_username: str | None = None


@dataclass
class Campaign:
    campaign_id: str
    holder: tuple[str, int]
    holder_name: str
    key_version: str
    slots: dict[str, Slot]
    created_at: datetime
    seed: int
    time_scale: float | None
    started: float  # time.monotonic() at the start, for polling rates
    ended_at: datetime | None = None
    calls: list[Call] = field(default_factory=list)
    attempts: dict[int, list[int]] = field(default_factory=dict)  # delivery id -> the tick of each attempt sent
    sftp: list[SftpEntry] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)

    def slot_of_shop(self, shop_id: int | None) -> Slot | None:
        return next((s for s in self.slots.values() if s.shop_id is not None and s.shop_id == shop_id), None)

    @property
    def shops(self) -> list[int]:
        return [s.shop_id for s in self.slots.values() if s.shop_id is not None]


class Campaigns:
    """Every campaign of this server process; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._campaigns: dict[str, Campaign] = {}
        self._next = 1
        self._tick = 0

    def clear(self) -> None:
        with self._lock:
            self._campaigns.clear()

    def all(self) -> list[Campaign]:
        with self._lock:
            return list(reversed(self._campaigns.values()))

    def get(self, campaign_id: str) -> Campaign:
        with self._lock:
            campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id!r}")
        return campaign

    def add(self, make: Any) -> Campaign:
        with self._lock:
            campaign: Campaign = make(f"rc-{self._next}")
            self._next += 1
            self._campaigns[campaign.campaign_id] = campaign
            while len(self._campaigns) > MAX_CAMPAIGNS:
                self._campaigns.pop(next(iter(self._campaigns)))
            return campaign

    def tick(self) -> int:
        with self._lock:
            self._tick += 1
            return self._tick

    def open_campaigns(self) -> list[Campaign]:
        with self._lock:
            return [c for c in self._campaigns.values() if c.ended_at is None]

    def find_shop(self, shop_id: int | None) -> tuple[Campaign, Slot] | None:
        """The open campaign and case a point of sale was made for."""
        if shop_id is None:
            return None
        for campaign in self.open_campaigns():
            slot = campaign.slot_of_shop(shop_id)
            if slot is not None:
                return campaign, slot
        return None

    def attempt(self, campaign: Campaign, delivery_id: int) -> int:
        """Note a webhook attempt sent now; returns which attempt of its delivery it is (1 for the first)."""
        with self._lock:
            self._tick += 1
            ticks = campaign.attempts.setdefault(delivery_id, [])
            ticks.append(self._tick)
            return len(ticks)

    def record(self, campaign: Campaign, what: str, item: Any) -> None:
        with self._lock:
            getattr(campaign, what).append(item)


# --- starting a campaign ------------------------------------------------------------------------------------

def _holder(body: Any) -> tuple[str, int]:
    holder = body.get("holder") if isinstance(body, dict) else None
    if (not isinstance(holder, dict) or holder.get("kind") not in (rules.SHOP, rules.PROVIDER)
            or set(holder) - {"kind", "id"}):
        raise errors.BadRequest('holder must be {"kind": "shop" or "provider", "id": …}')
    ident = holder.get("id")
    if isinstance(ident, str) and ident.isascii() and ident.isdigit() and len(ident) <= 12:
        ident = int(ident)
    if isinstance(ident, bool) or not isinstance(ident, int) or not 0 < ident < 10**12:
        raise errors.BadRequest("holder.id must be a point of sale's shopId or a service provider's id (digits)")
    return holder["kind"], ident


def _time_scale(sandbox: Sandbox, body: dict[str, Any]) -> float | None:
    scale = body.get("timeScale")
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= MAX_TIME_SCALE:
        raise errors.BadRequest(f"timeScale must be a number above 0 and at most {MAX_TIME_SCALE}")
    if sandbox.clock.mode == VIRTUAL:
        raise NeedsWallClock("the clock is virtual: move it with POST /_sandbox/clock/advance instead of timeScale")
    return float(scale)


def start(sandbox: Sandbox, body: Any) -> Campaign:
    """`POST /_sandbox/recette`: arrange every case for the holder; returns the campaign."""
    if not isinstance(body, dict):
        raise errors.BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - {"holder", "cases", "timeScale"})
    if unknown:
        raise errors.BadRequest(f"unknown field {unknown[0]!r}; known: holder, cases, timeScale")
    kind, holder_id = _holder(body)
    wanted = body.get("cases")
    if wanted is not None and (not isinstance(wanted, list) or not all(isinstance(c, str) for c in wanted)):
        raise errors.BadRequest("cases must be a list of case ids, or null for every case")
    try:
        cases = rules.cases_for(kind, wanted)
    except ValueError as error:
        raise errors.BadRequest(str(error)) from None
    scale = _time_scale(sandbox, body)
    with sandbox.uow() as uow:
        session = uow.session
        seed = session.get_meta("seed", sandbox.settings.seed)
        if kind == rules.SHOP:
            pos = session.point_of_sale(holder_id)
            if pos is None:
                raise HolderNotFound(f"no point of sale {holder_id}")
            name, key_version, key, convention = pos.name, pos.key_version, pos.key, pos.convention_id
        else:
            sp = session.service_provider(holder_id)
            if sp is None:
                raise HolderNotFound(f"no service provider {holder_id}")
            name, key_version, key, convention = sp.name, sp.key_version, sp.key, None
        campaigns = sandbox.recette
        number = len(campaigns.all()) + 1
        rng = random.Random(f"recette:{seed}:{holder_id}:{number}")

        def make(campaign_id: str) -> Campaign:
            slots = {case.case_id: _arrange(uow, rng, case, campaign_id, kind, holder_id, name, key_version, key,
                                            convention, seed) for case in cases}
            return Campaign(campaign_id, (kind, holder_id), name, key_version, slots, uow.now, seed, scale,
                            time.monotonic())

        campaign = campaigns.add(make)
        # the population event: the SFTP space learns of the new points of sale's accounts
        uow.record(events.POPULATION_ADDED, "recette", seed=seed, serviceProviders=0,
                   pointsOfSale=sum(1 for s in campaign.slots.values() if s.shop_id is not None),
                   beneficiaries=sum(1 for s in campaign.slots.values() if s.beneficiary_id is not None),
                   campaign=campaign.campaign_id)
    for slot in campaign.slots.values():
        if slot.case.arrangement.drop_first_creation and slot.shop_id is not None:
            sandbox.faults.add({"operation": "createTransaction", "fault": "drop_response", "times": 1,
                                "shopId": slot.shop_id})
    if scale is not None:
        sandbox.clock = WallClock(scale, start=sandbox.clock.now())
        with sandbox.store.session() as s:
            sandbox.save_clock(s)
    return campaign


def _arrange(uow: Any, rng: random.Random, case: Case, campaign_id: str, kind: str, holder_id: int, name: str,
             key_version: str, key: str, convention: str | None, seed: int) -> Slot:
    """The point of sale and the beneficiary a case plays with."""
    session, now = uow.session, uow.now
    arrangement = case.arrangement
    slot = Slot(case)
    if arrangement.own_shop:
        shop_id = fixtures.fresh(lambda: int(fixtures.digits(rng, 8, "1")), lambda c: session.point_of_sale(c) is not None)
        conv = convention or fixtures.fresh(lambda: fixtures.digits(rng, 6, "1"), lambda c: session.account(c) is not None)
        login = fixtures.fresh(lambda: f"{conv}9{fixtures.digits(rng, 5)}", lambda c: session.account(c) is not None)
        pos = PointOfSale(shop_id=shop_id, name=f"{name} – recette {campaign_id} {case.case_id}", convention_id=conv,
                          login=login,
                          # a shop holder's cases are sealed with its own key; a provider seals for its shops
                          key_version=key_version if kind == rules.SHOP else f"version-{fixtures.digits(rng, 4)}",
                          key=key if kind == rules.SHOP else fixtures.new_key(rng),
                          service_provider_ids=[holder_id] if kind == rules.PROVIDER else [],
                          email=f"recette-{shop_id}@example.fr", city="Paris", category="Hôtel")
        session.add_point_of_sale(pos)
        session.save_account(MerchantAccount(login=login, kind=POINT, password=f"Ptl-{fixtures.digits(rng, 6)}",
                                             shop_ids=[shop_id], email=pos.email, holder_name=name))
        slot.shop_id = shop_id
        slot.sftp_username = str(holder_id if kind == rules.PROVIDER else shop_id) if arrangement.sftp else None
    if arrangement.behaviour is not None:
        number = fixtures.fresh(lambda: fixtures.luhn_number(rng), lambda c: session.beneficiary(c) is not None)
        beneficiary = Beneficiary(
            beneficiary_id=number, email=f"recette.{case.case_id}.{number[-6:]}@example.fr",
            password=f"Cv-{fixtures.digits(rng, 6)}", pin=fixtures.digits(rng, 6), first_name="Camille",
            last_name="Recette", behaviour=arrangement.behaviour,
            devices=[Device(device_id=f"phone-{number[-4:]}")] if arrangement.device else [],
            allocations=[Allocation(f"{number}-1", arrangement.balance, now, fixtures.end_of_year(now.year + 1))])
        uow.save(beneficiary)
        slot.beneficiary_id, slot.beneficiary_email = number, beneficiary.email
    return slot


# --- what the web layer tells a campaign --------------------------------------------------------------------

def observed(sandbox: Sandbox) -> bool:
    """Is any campaign open (nothing to do for a call otherwise)?"""
    return bool(sandbox.recette.open_campaigns())


def observe_call(sandbox: Sandbox, call: dict[str, Any]) -> None:
    """A Kit call was answered: keep it in the campaign whose shop (or holder) it concerns."""
    campaigns = sandbox.recette
    found = campaigns.find_shop(call["shop_id"])
    campaign = found[0] if found else next((c for c in campaigns.open_campaigns() if c.holder == call["sealed_for"]),
                                           None)
    if campaign is None:
        return
    now = sandbox.clock.now()
    seconds = time.monotonic() - campaign.started
    if sandbox.clock.mode == VIRTUAL:  # an integrator on a virtual clock waits by moving it
        seconds += (now - campaign.created_at).total_seconds()
    campaigns.record(campaign, "calls", Call(tick=campaigns.tick(), seconds=seconds, at=now, **call))


def before_payer(sandbox: Sandbox, shop_id: int | None, beneficiary_ref: Any) -> None:
    """`other_payment_pending`: the case's beneficiary is made to be paying elsewhere when its /payer comes."""
    found = sandbox.recette.find_shop(shop_id)
    if found is None or not found[1].case.arrangement.other_payment_pending:
        return
    slot = found[1]
    if slot.beneficiary_id is None or str(beneficiary_ref) not in (slot.beneficiary_id, slot.beneficiary_email):
        return
    with sandbox.uow() as uow:
        if uow.session.pending_transaction_of(slot.beneficiary_id) is not None:
            return
        tx_id = sandbox.new_id(lambda c: uow.session.transaction(c) is not None)
        tx = Transaction.create(tx_id, uow.now, shop_id=slot.shop_id, order_id=BLOCKER_ORDER, payment_id=tx_id,
                                amount=1000, capture_mode="NORMAL", tspd_mode="001")
        uow.save(tx)
        ask_payer(uow, tx, slot.beneficiary_id)


def after_request_call(sandbox: Sandbox, operation: str, shop_id: int | None, pre_transaction_id: str | None,
                       body: dict[str, Any]) -> None:
    """`scan_requests`: the case's beneficiary scans a QR code fetched, or opens a request sent to them (or
    refuses it, with `refuse_requests`), as a person with the app would the moment they get it."""
    found = sandbox.recette.find_shop(shop_id)
    if found is None or pre_transaction_id is None:
        return
    slot = found[1]
    arrangement = slot.case.arrangement
    if not arrangement.scan_requests or slot.beneficiary_id is None:
        return
    if operation == "contact":
        sent_to = body.get("contact") or body.get("beneficiaryId")
        if str(sent_to).lower() not in (slot.beneficiary_id, (slot.beneficiary_email or "").lower()):
            return
    elif operation != "qrCode" or arrangement.refuse_requests:
        return
    with sandbox.uow() as uow:
        beneficiary = uow.session.beneficiary(slot.beneficiary_id)
        pre = uow.session.pre_transaction(pre_transaction_id)
        if beneficiary is None or pre is None:
            return
        try:
            if arrangement.refuse_requests:
                paying.refuse(uow, beneficiary, pre)
            else:
                paying.scan(uow, beneficiary, pre_transaction_id)
        except errors.KitError as error:  # scanned already, expired, aborted…
            uow.record(events.BENEFICIARY_APP_GAVE_UP, beneficiary.beneficiary_id, reason=error.code)


def _delivery_object(delivery: dict[str, Any]) -> tuple[int | None, str | None, str]:
    """(shop, transaction or request id, "returnUrl" or "cancelUrl") of a webhook delivery."""
    body = delivery.get("body") or {}
    obj = body.get("transaction") or body.get("preTransaction") or {}
    shop = (obj.get("merchant") or {}).get("shopId")
    urls = obj.get("redirectUrls") or {}
    kind = "returnUrl" if urls.get("returnUrl") == delivery.get("url") else "cancelUrl"
    return (int(shop) if isinstance(shop, int | str) and str(shop).isdigit() else None), obj.get("id"), kind


def webhook_attempt(sandbox: Sandbox, delivery: dict[str, Any]) -> str | None:
    """A webhook attempt is about to be sent: note when; returns a reason to take its answer for lost
    (`lose_first_webhook_answer`, on a delivery's first attempt), else None."""
    shop, _, _ = _delivery_object(delivery)
    found = sandbox.recette.find_shop(shop)
    if found is None:
        return None
    campaign, slot = found
    first = sandbox.recette.attempt(campaign, delivery["id"]) == 1
    if first and slot.case.arrangement.lose_first_webhook_answer:
        return f"answer lost on the way back (acceptance campaign {campaign.campaign_id}, case {slot.case.case_id})"
    return None


def observe_sftp(sandbox: Sandbox, entry: dict[str, Any]) -> None:
    """An SFTP session did something: kept by every open campaign that handed out that account."""
    for campaign in sandbox.recette.open_campaigns():
        if any(s.sftp_username == entry.get("username") for s in campaign.slots.values()):
            sandbox.recette.record(campaign, "sftp", SftpEntry(
                sandbox.recette.tick(), sandbox.clock.now(), str(entry.get("username")), str(entry.get("action")),
                str(entry.get("path") or "")))


def declare(sandbox: Sandbox, campaign_id: str, case_id: str, body: Any) -> Campaign:
    """`POST …/cases/{case}/declaration`: what the integrator's system recorded for the partial payment."""
    campaign = sandbox.recette.get(campaign_id)
    slot = campaign.slots.get(case_id)
    if slot is None:
        raise CaseNotInCampaign(f"campaign {campaign_id} has no case {case_id!r}")
    if case_id != "partial-payment":
        raise errors.BadRequest("only the partial-payment case takes a declaration")
    if not isinstance(body, dict) or set(body) - {"transactionId", "amountPaid"}:
        raise errors.BadRequest('the body must be {"transactionId": …, "amountPaid": cents}')
    tx_id, amount = body.get("transactionId"), body.get("amountPaid")
    if not isinstance(tx_id, str) or not tx_id or len(tx_id) > 64:
        raise errors.BadRequest("transactionId must be the transaction's id")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= 10**9:
        raise errors.BadRequest("amountPaid must be a whole number of cents")
    with sandbox.store.session() as s:
        tx = s.transaction(tx_id)
    if tx is None or tx.shop_id != slot.shop_id:
        raise errors.TransactionNotFound(f"no transaction {tx_id} on the case's point of sale {slot.shop_id}")
    sandbox.recette.record(campaign, "declarations",
                           Declaration(sandbox.recette.tick(), sandbox.clock.now(), tx_id, amount))
    return campaign


def end(sandbox: Sandbox, campaign_id: str) -> Campaign:
    """Close the campaign: what was not played is `not_played`, what did not finish has failed."""
    campaign = sandbox.recette.get(campaign_id)
    if campaign.ended_at is None:
        campaign.ended_at = sandbox.clock.now()
    return campaign


# --- judging and showing --------------------------------------------------------------------------------------

def _deliveries(campaign: Campaign, webhooks: list[dict[str, Any]], shops: set[int]) -> list[Delivery]:
    found = []
    for delivery in webhooks:
        shop, object_id, kind = _delivery_object(delivery)
        if shop not in shops or object_id is None:
            continue
        ticks = campaign.attempts.get(delivery["id"], [])
        attempts = tuple(rules.Attempt(ticks[i] if i < len(ticks) else 0, a.get("status"), a.get("error"),
                                       _iso(a.get("at"))) for i, a in enumerate(delivery.get("attempts") or ()))
        found.append(Delivery(delivery["id"], delivery["url"], kind, object_id, delivery.get("state", ""), attempts))
    return found


def _evidence(campaign: Campaign, slot: Slot, session: Any, webhooks: list[dict[str, Any]],
              journals: list[dict[str, Any]]) -> Evidence:
    whole = slot.case.arrangement.whole_campaign
    shops = set(campaign.shops) if whole else {slot.shop_id} if slot.shop_id is not None else set()
    calls = [c for c in list(campaign.calls) if whole or c.shop_id in shops]
    shop_list = sorted(shops)
    return Evidence(
        holder=campaign.holder, calls=calls, deliveries=_deliveries(campaign, webhooks, shops),
        transactions=session.transactions(shop_list) if shop_list else [],
        pre_transactions=session.pre_transactions(shop_list) if shop_list else [],
        sftp=list(campaign.sftp), declarations=[d for d in campaign.declarations if slot.case.case_id == "partial-payment"],
        journals=[j for j in journals if j.get("recipient") == slot.sftp_username] if slot.sftp_username else [],
        sftp_username=slot.sftp_username, beneficiary_id=slot.beneficiary_id)


def campaign_json(sandbox: Sandbox, campaign: Campaign) -> dict[str, Any]:
    """The campaign as `GET /_sandbox/recette/{id}` shows it, every case judged now."""
    ended = campaign.ended_at is not None
    cases = []
    with sandbox.store.session() as s:
        webhooks = s.webhooks()
        journals = s.journals()
        for slot in campaign.slots.values():
            evidence = _evidence(campaign, slot, s, webhooks, journals)
            judged = slot.case.judged(evidence, ended)
            cases.append(_case_json(campaign, slot, evidence, judged, s))
    summary = {status: sum(1 for c in cases if c["status"] == status) for status in rules.STATUSES}
    unfinished = summary[rules.WAITING] + summary[rules.RUNNING]
    status = (rules.PASSED if summary[rules.PASSED] == len(cases)
              else rules.FAILED if ended or not unfinished else rules.RUNNING)
    return {
        "id": campaign.campaign_id,
        "holder": {"kind": campaign.holder[0], "id": campaign.holder[1], "name": campaign.holder_name},
        "status": status, "ended": ended,
        "createdAt": format_date(campaign.created_at), "endedAt": format_date(campaign.ended_at),
        "seed": campaign.seed, "sandboxVersion": _version(), "clock": {"mode": sandbox.clock.mode,
                                                                      "speed": sandbox.clock.speed},
        "timeScale": campaign.time_scale,
        "summary": {"total": len(cases), **summary},
        "cases": cases,
    }


def campaign_line(sandbox: Sandbox, campaign: Campaign) -> dict[str, Any]:
    """One campaign in `GET /_sandbox/recette`'s list."""
    full = campaign_json(sandbox, campaign)
    return {k: full[k] for k in ("id", "holder", "status", "ended", "createdAt", "summary")}


def _case_json(campaign: Campaign, slot: Slot, evidence: Evidence, judged: rules.Verdict, session: Any) -> dict[str, Any]:
    case = slot.case
    identifiers: dict[str, Any] = {}
    if slot.shop_id is not None:
        identifiers["shopId"] = slot.shop_id
        identifiers["keyVersion"] = campaign.key_version
        if campaign.holder[0] == rules.PROVIDER:
            identifiers["serviceProviderId"] = campaign.holder[1]
    if slot.beneficiary_id is not None:
        identifiers["beneficiaryId"] = slot.beneficiary_id
        identifiers["beneficiaryEmail"] = slot.beneficiary_email
    if slot.sftp_username is not None:
        identifiers["sftp"] = {"username": slot.sftp_username, "password": sftp_space.password(campaign.seed,
                                                                                                slot.sftp_username)}
    return {
        "id": case.case_id, "title": case.title.as_json(), "kitSections": list(case.sections),
        "instructions": case.instructions.as_json(), "arranged": case.arranged.as_json(),
        "status": judged.status, "reasons": [r.as_json() for r in judged.reasons],
        "checks": [{**c.label.as_json(), "ok": c.ok} for c in judged.checks],
        "identifiers": identifiers,
        "evidence": _evidence_json(evidence),
    }


def _evidence_json(ev: Evidence) -> dict[str, Any]:
    return {
        "requests": [{"id": c.journal_id, "at": format_date(c.at), "method": c.method, "path": c.path,
                      "status": c.status, "errorCode": c.error_code, "seal": c.seal, "https": c.https,
                      "operation": c.operation, **({"fault": c.fault} if c.fault else {})} for c in ev.calls],
        "webhooks": [{"id": d.delivery_id, "url": d.url, "kind": d.kind, "state": d.state,
                      "attempts": [{"at": a.at, "status": a.status, **({"error": a.error} if a.error else {})}
                                   for a in d.attempts]}
                     for d in ev.deliveries],
        "transactions": [{"id": tx.transaction_id, "state": tx.state, "subState": tx.sub_state, "amount": tx.amount,
                          "authorized": tx.authorization.amount if tx.authorization else None,
                          "orderId": tx.order_id, "paymentId": tx.payment_id} for tx in ev.transactions],
        "preTransactions": [{"id": p.pre_transaction_id, "state": p.state,
                             "validatedPaymentTransactionId": p.validated_payment_transaction_id}
                            for p in ev.pre_transactions],
        "sftp": [{"at": format_date(e.at), "username": e.username, "action": e.action, "path": e.path}
                 for e in ev.sftp if e.username == ev.sftp_username],
        "declarations": [{"at": format_date(d.at), "transactionId": d.transaction_id, "amountPaid": d.amount_paid}
                         for d in ev.declarations],
    }


def _iso(moment: Any) -> str | None:
    """A recorded instant as the control plane shows it (stores keep datetimes or ISO strings)."""
    return format_date(moment) if isinstance(moment, datetime) else moment if isinstance(moment, str) else None


def _version() -> str:
    try:
        return version("ancv-sandbox")
    except PackageNotFoundError:
        return "unknown"
