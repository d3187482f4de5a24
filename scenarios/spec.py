"""Scenario files for QA: who, how many, which habits, how long, and what must come out.

A scenario is YAML (or TOML) read into the dataclasses below; every mistake is reported with
its line and the path of the offending value (`essai.yaml:12: merchants[1].arrivals: …`), never
as a traceback, and all the mistakes of a file at once: a QA engineer fixes them in one go. A
figure an expectation names must exist (a misspelled state or error code would count 0 and pass);
states, sub-states and error codes are checked against the Kit's lists kept in `sandbox.domain`.
Durations are seconds or text such as `250s`, `3min`, `2h`, `6d`; amounts and balances are euros.
See scenarios/README.md for the whole format, and scenarios/library/ for examples.
"""

from __future__ import annotations

import difflib
import math
import random
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox.domain.dates import PARIS

CHANNELS = ("portal", "pro", "booking_engine", "psp")
PARCOURS = ("A_qr", "A_id", "B", "C", "D")
KIT_FLOWS = ("payer", "qr", "contact_id", "contact_email")
HABITS = ("partial", "abandon", "wrong_pin", "miss", "refuse")
UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86_400, "j": 86_400}
DEFAULT_START = "2026-07-04T09:00:00+02:00"


@dataclass(frozen=True)
class Problem:
    """One mistake: where in the file (`path`, and `line` when known) and why."""

    path: str
    message: str
    line: int | None = None

    @classmethod
    def of(cls, text: str) -> Problem:
        """From the `path: message` text every check of this module raises."""
        path, sep, message = text.partition(": ")
        return cls(path, message) if sep and " " not in path else cls("", text)

    def text(self, file: str = "") -> str:
        place = ":".join(str(part) for part in (file, self.line) if part not in ("", None))
        return ": ".join(part for part in (place, self.path, self.message) if part)


class ScenarioError(ValueError):
    """A scenario file that cannot be run, with where and why (one or several `problems`)."""

    def __init__(self, message: str = "", problems: Iterable[Problem] = ()) -> None:
        self.problems = tuple(problems) or (Problem.of(message),)
        super().__init__(message or "\n".join(p.text() for p in self.problems))


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _suggest(name: str, known: Iterable[str]) -> str:
    """"; did you mean X?" for a near miss (case-insensitive), else ""."""
    choices = {k.upper(): k for k in known}
    close = difflib.get_close_matches(name.upper(), list(choices), n=1, cutoff=0.75)
    return f"; did you mean {choices[close[0]]}?" if close else ""


# --- small values ----------------------------------------------------------------------------------

def duration(value: Any, where: str) -> float:
    """Seconds from `90`, `"250s"`, `"3min"`, `"1h30min"`, `"6d"`."""
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: a duration is a number of seconds or text like 3min, 2h, 6d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (parts := re.findall(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]+)", value.lower())) \
            and "".join(n + u for n, u in parts) == re.sub(r"\s+", "", value.lower()):
        try:
            seconds = sum(float(number) * UNITS[unit] for number, unit in parts)
        except KeyError as unknown:
            raise ScenarioError(f"{where}: unknown unit {unknown} (s, min, h, d)") from None
    else:
        raise ScenarioError(f"{where}: {value!r} is not a duration (e.g. 90, 250s, 3min, 2h, 6d)")
    if not math.isfinite(seconds) or seconds < 0:
        raise ScenarioError(f"{where}: a duration cannot be negative")
    return seconds


def share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ScenarioError(f"{where}: a share is a number from 0 to 1")
    return float(value)


def whole(value: Any, where: str, low: int = 0, high: int = 1_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScenarioError(f"{where}: a whole number from {low} to {high} is expected")
    return value


@dataclass(frozen=True)
class Draw:
    """A random quantity: a fixed value, uniform, exponential (mean), normal or lognormal (median, sigma)."""

    kind: str
    a: float
    b: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        if self.kind == "exponential":
            return rng.expovariate(1 / self.a) if self.a > 0 else 0.0
        if self.kind == "normal":
            return max(0.0, rng.gauss(self.a, self.b))
        return self.a * math.exp(rng.gauss(0, self.b))  # lognormal around its median

    @property
    def mean(self) -> float:
        return {"fixed": self.a, "uniform": (self.a + self.b) / 2, "exponential": self.a, "normal": self.a,
                "lognormal": self.a * math.exp(self.b ** 2 / 2)}[self.kind]

    @classmethod
    def parse(cls, value: Any, where: str, unit: Any = duration) -> Draw:
        """`20`, `"3min"`, `{uniform: [a, b]}`, `{exponential: mean}`, `{normal: [mean, sd]}`,
        `{lognormal: [median, sigma]}`; values in `unit` (durations or euros)."""
        if not isinstance(value, dict):
            return cls("fixed", unit(value, where))
        if len(value) != 1:
            raise ScenarioError(f"{where}: one of fixed, uniform, exponential, normal, lognormal")
        (kind, args), = value.items()
        here = f"{where}.{kind}"
        if kind in ("fixed", "exponential"):
            return cls(kind, unit(args, here))
        if kind not in ("uniform", "normal", "lognormal"):
            raise ScenarioError(f"{where}: unknown distribution {kind!r} (fixed, uniform, exponential, normal, "
                                "lognormal)")
        if not isinstance(args, list) or len(args) != 2:
            raise ScenarioError(f"{here}: two values are expected, e.g. [20, 80]")
        if kind == "lognormal":
            return cls(kind, unit(args[0], here), _number(args[1], here))
        low, high = unit(args[0], here), unit(args[1], here)
        if kind == "uniform" and high < low:
            raise ScenarioError(f"{here}: the first value must not be above the second")
        return cls(kind, low, high)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{where}: a positive number is expected")
    return float(value)


def euros(value: Any, where: str) -> float:
    return _number(value, where)


@dataclass(frozen=True)
class Arrivals:
    """When visits come: a Poisson process (`{poisson: 12/h}`), a fixed period (`{every: 20min}`) or a script
    (`{at: [0, 10min, 1h]}`)."""

    kind: str
    rate_per_s: float = 0.0
    times: tuple[float, ...] = ()

    @classmethod
    def parse(cls, value: Any, where: str) -> Arrivals:
        if not isinstance(value, dict) or len(value) != 1:
            raise ScenarioError(f"{where}: one of {{poisson: 12/h}}, {{every: 20min}}, {{at: [0, 10min]}}")
        (kind, args), = value.items()
        if kind == "poisson":
            match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*/\s*([a-z]+)\s*", str(args))
            if not match or match.group(2) not in UNITS:
                raise ScenarioError(f"{where}.poisson: a rate such as 12/h, 3/min or 200/d")
            return cls("poisson", float(match.group(1)) / UNITS[match.group(2)])
        if kind == "every":
            period = duration(args, f"{where}.every")
            if period <= 0:
                raise ScenarioError(f"{where}.every: the period must be positive")
            return cls("every", 1 / period)
        if kind == "at":
            if not isinstance(args, list):
                raise ScenarioError(f"{where}.at: a list of instants")
            return cls("at", times=tuple(sorted(duration(v, f"{where}.at[{i}]") for i, v in enumerate(args))))
        raise ScenarioError(f"{where}: unknown arrivals {kind!r} (poisson, every, at)")

    def expected(self, seconds: float) -> float:
        return len([t for t in self.times if t < seconds]) if self.kind == "at" else self.rate_per_s * seconds


def _weights(value: Any, where: str, names: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise ScenarioError(f"{where}: weights by name, e.g. {{{names[0]}: 3, {names[1]}: 1}}")
    weights = {}
    for name, weight in value.items():
        if name not in names:
            raise ScenarioError(f"{where}: unknown {name!r} (one of {', '.join(names)})")
        weights[name] = _number(weight, f"{where}.{name}")
    if not sum(weights.values()) > 0:
        raise ScenarioError(f"{where}: at least one weight must be positive")
    return weights


# --- the parts of a scenario ----------------------------------------------------------------------------

class _Fields:
    """Reads one mapping of the file, gathering its mistakes; unknown keys are mistakes (a typo must not be
    silently ignored). A value that cannot be read leaves its default, so the other fields are still checked;
    `done` raises them all."""

    def __init__(self, data: Any, where: str, known: tuple[str, ...]) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: a mapping is expected" if where else
                                "a scenario is a mapping of keys such as customers, merchants and expect")
        self.data, self.where = data, where
        self.problems = [Problem(_join(where, key), f"unknown key {key!r}{_suggest(str(key), known)} "
                                                    f"(known: {', '.join(known)})")
                         for key in data if str(key) not in known]

    def get(self, key: str, read: Any, default: Any = None, **more: Any) -> Any:
        if key not in self.data:
            return default
        try:
            return read(self.data[key], _join(self.where, key), **more)
        except ScenarioError as error:
            self.problems.extend(error.problems)
            return default

    def refuse(self, key: str, message: str) -> None:
        """A mistake found by a check across fields."""
        self.problems.append(Problem(_join(self.where, key), message))

    def part(self, read: Callable[..., Any], *args: Any) -> Any:
        """A part read on its own (a group, an expectation): its mistakes join these; None when it has some."""
        try:
            return read(*args)
        except ScenarioError as error:
            self.problems.extend(error.problems)
            return None

    def done(self) -> None:
        if self.problems:
            raise ScenarioError(problems=self.problems)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: text is expected")
    return value.strip()


@dataclass(frozen=True)
class Customers:
    name: str
    count: int
    balance: Draw  # euros
    phone: float  # share with the app on a phone
    think: Draw  # seconds before answering the phone
    habits: dict[str, float]  # share of payments where they do each
    partial_share: Draw  # what share of the amount they pay when paying part
    pay_later: Draw  # seconds before paying a request received by email

    @classmethod
    def parse(cls, data: Any, where: str) -> Customers:
        f = _Fields(data, where, ("name", "count", "balance", "phone", "think", "habits", "partial_share",
                                  "pay_later"))
        habits = f.get("habits", lambda v, w: v, {})
        parsed: dict[str, float] = {}
        if not isinstance(habits, dict):
            f.refuse("habits", "a mapping such as {partial: 0.1, miss: 0.05}")
            habits = {}
        for name, value in habits.items():
            if name not in HABITS:
                f.refuse("habits", f"unknown habit {name!r}{_suggest(str(name), HABITS)} (one of {', '.join(HABITS)})")
            else:
                parsed[name] = f.part(share, value, _join(where, f"habits.{name}")) or 0.0
        if sum(parsed.values()) > 1:
            f.refuse("habits", "the shares add up to more than 1")
        customers = cls(
            name=f.get("name", _text, "clients"), count=f.get("count", whole, 10, low=1),
            balance=f.get("balance", Draw.parse, Draw("fixed", 500), unit=euros),
            phone=f.get("phone", share, 1.0), think=f.get("think", Draw.parse, Draw("exponential", 20)),
            habits=parsed, partial_share=f.get("partial_share", Draw.parse, Draw("uniform", 0.3, 0.8), unit=_number),
            pay_later=f.get("pay_later", Draw.parse, Draw("exponential", 3600)))
        f.done()
        return customers


@dataclass(frozen=True)
class Decision:
    """What a merchant (or booking engine) does with a payment it may still confirm or cancel."""

    after: Draw  # seconds after the payment
    lower: float  # share of validations made for less (pre-bookings)
    cancel: float  # share cancelled instead
    forget: float  # share left to the deadline

    @classmethod
    def parse(cls, data: Any, where: str) -> Decision:
        f = _Fields(data, where, ("after", "lower", "cancel", "forget"))
        decision = cls(f.get("after", Draw.parse, Draw("uniform", 3600, 86_400)), f.get("lower", share, 0.0),
                       f.get("cancel", share, 0.0), f.get("forget", share, 0.0))
        if decision.cancel + decision.forget > 1:
            f.refuse("forget", "cancel + forget add up to more than 1")
        f.done()
        return decision


NO_DECISION = Decision(Draw("fixed", 0), 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Merchants:
    name: str
    count: int
    channel: str
    category: str
    arrivals: Arrivals
    amount: Draw  # euros
    customers: str | None  # which customer group comes (default: all)
    parcours: dict[str, float]  # portal
    flows: dict[str, float]  # booking engine / PSP: how the Kit is used
    payment_days: int
    validation_days: int
    validate: Decision  # pre-bookings (C, D, DEFERRED)
    booking_cancelled: Decision  # later cancellations of paid bookings (4 h rule)
    confirm_within: float | None  # booking engine: seconds the client has to confirm
    notify: str  # webhook | poll
    tspd: str
    capture: str
    capture_days: int
    webhook_failures: float  # share of webhook calls the integrator's server answers 500
    notify_email: bool  # portal: the merchant gives an email to be told of the client's actions
    open: tuple[float, float] | None  # visits only between these instants (e.g. an evening rush)

    @classmethod
    def parse(cls, data: Any, where: str) -> Merchants:
        f = _Fields(data, where, (
            "name", "count", "channel", "category", "arrivals", "amount", "customers", "parcours", "flows",
            "payment_days", "validation_days", "validate", "booking_cancelled", "confirm_within", "notify", "tspd",
            "capture", "capture_days", "webhook_failures", "notify_email", "open"))
        channel = f.get("channel", _text, "portal")
        if channel not in CHANNELS:
            f.refuse("channel", f"one of {', '.join(CHANNELS)}{_suggest(channel, CHANNELS)}")
        from sandbox.services.fixtures import CATEGORIES

        category = f.get("category", _text, "Gîte")
        if category not in CATEGORIES:
            f.refuse("category", f"one of {', '.join(CATEGORIES)}{_suggest(category, CATEGORIES)}")
        if "arrivals" not in data:
            f.refuse("arrivals", "required, e.g. {poisson: 12/h}")
        notify = f.get("notify", _text, "webhook")
        if notify not in ("webhook", "poll"):
            f.refuse("notify", "webhook or poll")
        tspd = str(f.get("tspd", lambda v, w: v, "001"))
        if tspd not in ("001", "002"):
            f.refuse("tspd", "\"001\" (the client may lower the amount) or \"002\"")
        capture = f.get("capture", _text, "NORMAL")
        if capture not in ("NORMAL", "DEFERRED"):
            f.refuse("capture", "NORMAL or DEFERRED")
        confirm = f.get("confirm_within", duration)
        merchants = cls(
            name=f.get("name", _text, channel), count=f.get("count", whole, 1, low=1), channel=channel,
            category=category, arrivals=f.get("arrivals", Arrivals.parse),
            amount=f.get("amount", Draw.parse, Draw("uniform", 20, 200), unit=euros),
            customers=f.get("customers", _text),
            parcours=f.get("parcours", _weights, {"A_qr": 1.0}, names=PARCOURS),
            flows=f.get("flows", _weights, {"payer": 1.0}, names=KIT_FLOWS),
            payment_days=f.get("payment_days", whole, 3, low=1, high=30),
            validation_days=f.get("validation_days", whole, 2, low=1, high=6),
            validate=f.get("validate", Decision.parse, NO_DECISION),
            booking_cancelled=f.get("booking_cancelled", Decision.parse, NO_DECISION),
            confirm_within=confirm, notify=notify, tspd=tspd, capture=capture,
            capture_days=f.get("capture_days", whole, 2, low=1, high=6),
            webhook_failures=f.get("webhook_failures", share, 0.0),
            notify_email=f.get("notify_email", lambda v, w: _flag(v, w), False), open=f.get("open", _window))
        f.done()
        return merchants


def _window(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(f"{where}: [from, to], e.g. [18h, 21h]")
    start, end = duration(value[0], where), duration(value[1], where)
    if end <= start:
        raise ScenarioError(f"{where}: the end must come after the start")
    return start, end


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: true or false")
    return value


@dataclass(frozen=True)
class Fault:
    """At `at` seconds, change sandbox rules (`/_sandbox/settings`), e.g. stall acquisition for a while."""

    at: float
    rules: dict[str, Any]

    @classmethod
    def parse(cls, data: Any, where: str) -> Fault:
        f = _Fields(data, where, ("at", "rules"))
        rules = f.get("rules", lambda v, w: v, None)
        if not isinstance(rules, dict) or not rules:
            f.refuse("rules", "the settings to change, e.g. {stallAcquisition: true}")
        fault = cls(f.get("at", duration, 0.0), rules or {})
        f.done()
        return fault


@dataclass(frozen=True)
class Expectation:
    """`metric: condition`, e.g. `transactions.VALIDATED: ">= 20"`, `kit_errors.INSUFFICIENT_BALANCE: 0`."""

    name: str
    condition: str
    operator: str
    low: float
    high: float | None = None

    @classmethod
    def parse(cls, name: str, value: Any, where: str) -> Expectation:
        """`name: condition` (the name is checked by `check_figure` when a file is read)."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return cls(name, f"== {value}", "==", float(value))
        text = str(value).strip()
        between = re.fullmatch(r"between\s+(-?[0-9.]+)\s+and\s+(-?[0-9.]+)", text)
        if between:
            return cls(name, text, "between", float(between.group(1)), float(between.group(2)))
        match = re.fullmatch(r"(==|!=|>=|<=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)", text)
        if not match:
            raise ScenarioError(f"{where}: a condition such as \">= 20\", \"== 0\", \"between 10 and 20\" or a number")
        return cls(name, text, match.group(1), float(match.group(2)))

    def holds(self, actual: float) -> bool:
        if self.operator == "between":
            assert self.high is not None
            return self.low <= actual <= self.high
        return {"==": actual == self.low, "!=": actual != self.low, ">=": actual >= self.low,
                "<=": actual <= self.low, ">": actual > self.low, "<": actual < self.low}[self.operator]


# Figures an expectation may name besides the Kit's lists. Refusals counted by `*_errors.CODE` are the Kit's
# codes, or these of the scenarios' own platform (scenarios/platform.py, in_process.py, live.py): a form's field
# error, a page not found, a login refused or a session logged out, an HTTP status without a Kit body.
PLATFORM_CODES = ("FORM", "NOT_FOUND", "LOGIN", "LOGGED_OUT", "ADMIN_TOKEN_REQUIRED", "NOT_VIRTUAL_CLOCK")
HTTP_STATUS = re.compile(r"(HTTP_)?[1-5][0-9][0-9]")
WEBHOOK_STATES = ("delivered", "failed", "pending")  # a webhook delivery's state (sandbox/adapters/webhooks.py)
DECISIONS = ("validate", "lower", "cancel", "forget")  # what merchants did with pre-bookings (`pre_bookings.…`)
ERROR_FAMILIES = ("kit_errors", "app_errors", "portal_errors", "pro_errors", "fault_errors")


def family_keys() -> dict[str, tuple[str, ...]]:
    """The keys each family of figures can hold: states, sub-states and error codes from `sandbox.domain`."""
    from sandbox.domain import errors, pre_transactions, transactions

    from .metrics import ENDINGS

    codes = tuple(kind.code for kind in errors.catalogue()) + PLATFORM_CODES
    return {
        "transactions": transactions.STATES,
        "transaction_endings": tuple(sub for state in ENDINGS for sub in transactions.SUB_STATES[state]),
        "pre_transactions": pre_transactions.STATES,
        **{family: codes for family in ERROR_FAMILIES},
        "webhooks": WEBHOOK_STATES,
        "customers": (*HABITS, "pay"),
        "parcours": PARCOURS,
        "flows": KIT_FLOWS,
        "pre_bookings": DECISIONS,
    }


KEY_KINDS = {"transactions": "transaction state", "transaction_endings": "sub-state",
             "pre_transactions": "pre-transaction state", "webhooks": "webhook state", "customers": "habit",
             "parcours": "parcours", "flows": "flow", "pre_bookings": "decision",
             **{family: "error code" for family in ERROR_FAMILIES}}


def check_figure(name: str, where: str) -> None:
    """A figure a run counts: a single figure, or `family.KEY` with a KEY of the Kit's lists (never a typo, which
    would count 0 and let `== 0` pass)."""
    from .metrics import FAMILIES, FIGURES

    family, dot, key = name.partition(".")
    if not dot:
        if name not in FIGURES:
            raise ScenarioError(f"{where}: unknown figure {name!r}{_suggest(name, FIGURES + FAMILIES)} (one of "
                                f"{', '.join(FIGURES)}, or family.KEY with a family among {', '.join(FAMILIES)})")
        return
    if family not in FAMILIES:
        raise ScenarioError(f"{where}: unknown figure family {family!r}{_suggest(family, FAMILIES)} (one of "
                            f"{', '.join(FAMILIES)})")
    known = family_keys().get(family)
    if known is None or key in known or (family in ERROR_FAMILIES and HTTP_STATUS.fullmatch(key)):
        return
    kind = KEY_KINDS.get(family, "key")
    listed = "the Kit's error codes (sandbox/domain/errors.py) or " + ", ".join(PLATFORM_CODES) + ", HTTP_nnn" \
        if family in ERROR_FAMILIES else ", ".join(known)
    raise ScenarioError(f"{where}: unknown {kind} {key!r}{_suggest(key, known)} ({family}: {listed})")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    seed: int
    start: datetime
    duration: float  # arrivals happen in [0, duration)
    drain: float  # then the run goes on this long for stories to end
    rules: dict[str, Any]
    faults: tuple[Fault, ...]
    customers: tuple[Customers, ...]
    merchants: tuple[Merchants, ...]
    expect: tuple[Expectation, ...]
    source: str = ""
    tags: tuple[str, ...] = field(default=())
    shards: int = 1  # independent worlds the merchants and customers are split into (scenarios/shards.py)

    @property
    def horizon(self) -> float:
        return self.duration + self.drain

    @classmethod
    def parse(cls, data: Any, name: str, source: str = "") -> Scenario:
        """A scenario from a file's data; every mistake found is raised at once (`ScenarioError.problems`)."""
        f = _Fields(data, "", ("name", "title", "description", "seed", "start", "duration", "drain", "rules",
                               "faults", "customers", "merchants", "expect", "tags", "shards"))
        groups_of = {key: f.get(key, _list, None) for key in ("customers", "merchants")}
        for key, listed in groups_of.items():
            if listed == [] or (listed is None and key not in data):
                f.refuse(key, "at least one group of customers and one of merchants")
        customers = tuple(c for i, x in enumerate(groups_of["customers"] or []) if (c := f.part(
            Customers.parse, x, f"customers[{i}]")) is not None)
        merchants = tuple(m for i, x in enumerate(groups_of["merchants"] or []) if (m := f.part(
            Merchants.parse, x, f"merchants[{i}]")) is not None)
        groups = {c.name for c in customers}
        if len(groups) != len(customers):
            f.refuse("customers", "two groups have the same name")
        for i, m in enumerate(merchants):
            if m.customers is not None and m.customers not in groups:
                f.refuse(f"merchants[{i}].customers",
                         f"no customer group {m.customers!r}{_suggest(m.customers, groups)}")
        expect = f.get("expect", lambda v, w: v, {})
        if not isinstance(expect, dict):
            f.refuse("expect", "a mapping of metric: condition")
            expect = {}
        for k in expect:
            f.part(check_figure, str(k), f"expect.{k}")
        expectations = tuple(e for k, v in expect.items()
                             if (e := f.part(Expectation.parse, str(k), v, f"expect.{k}")) is not None)
        rules = f.get("rules", lambda v, w: v, {})
        if not isinstance(rules, dict):
            f.refuse("rules", "a mapping of sandbox settings")
        start = f.get("start", _moment, _moment(DEFAULT_START, "start"))
        tags = f.get("tags", lambda v, w: v, [])
        shards = f.get("shards", whole, 1, low=1, high=MAX_SHARDS)
        for problem in shard_problems(customers, shards):
            f.refuse("shards", problem)
        scenario = cls(
            name=f.get("name", _text, name), title=f.get("title", _text, name),
            description=f.get("description", lambda v, w: str(v).strip(), ""),
            seed=f.get("seed", whole, 42, high=2**62), start=start,
            duration=f.get("duration", duration, 3600.0), drain=f.get("drain", duration, 3600.0), rules=rules,
            faults=tuple(x for i, d in enumerate(f.get("faults", _list, [])) if (x := f.part(
                Fault.parse, d, f"faults[{i}]")) is not None),
            customers=customers, merchants=merchants, expect=expectations,
            source=source, tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (), shards=shards)
        f.done()
        return scenario

    def with_shards(self, shards: int) -> Scenario:
        """The same scenario split into `shards` worlds (`simulate --shards N`), or a ScenarioError saying why not."""
        if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
            raise ScenarioError(f"--shards: a whole number from 1 to {MAX_SHARDS} is expected, not {shards}")
        problems = shard_problems(self.customers, shards)
        if problems:
            raise ScenarioError(f"--shards {shards}: {problems[0]}")
        return replace(self, shards=shards)


MAX_SHARDS = 1024


def shard_problems(customers: Iterable[Customers], shards: int) -> list[str]:
    """Why the customers cannot be split into `shards` worlds: each world needs someone of each group (a
    merchant's visitors come from its own world)."""
    return [f"{shards} shards, but customer group {group.name!r} has only {group.count} member"
            f"{'s' if group.count > 1 else ''}: each shard needs at least one of each group"
            for group in customers if group.count < shards]


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: a list is expected")
    return value


def _moment(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(f"{where}: an ISO 8601 date and time, e.g. {DEFAULT_START}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


# --- files and the library ---------------------------------------------------------------------------------

LIBRARY = Path(__file__).with_name("library")
SUFFIXES = (".yaml", ".yml", ".toml")


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers its line, each key's line, and the keys given twice."""

    line: int = 0
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int, int]]  # (key, line, line of its first occurrence)


class _LineLoader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping line numbers and noting duplicate keys (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Mapping]:
    mapping = _Mapping()
    mapping.line, mapping.key_lines, mapping.duplicates = node.start_mark.line + 1, {}, []
    yield mapping
    merge = "tag:yaml.org,2002:merge"
    written = [key_node for key_node, _ in node.value if key_node.tag != merge]  # merged keys may be overridden
    loader.flatten_mapping(node)
    first_lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                    "found an unhashable key", key_node.start_mark) from None
        line = key_node.start_mark.line + 1
        if any(key_node is k for k in written):
            if key in first_lines:
                mapping.duplicates.append((key, line, first_lines[key]))
            first_lines.setdefault(key, line)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = first_lines.get(key, line)  # a mistake in a key given twice: shown where first given


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _read_yaml(text: str) -> Any:
    loader = _LineLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _duplicates(data: Any, where: str = "") -> Iterator[Problem]:
    """Every key given twice in a mapping of the file, anywhere in it."""
    if isinstance(data, _Mapping):
        for key, line, first in data.duplicates:
            yield Problem(_join(where, key), f"duplicate key (first given line {first}; only one value counts)",
                          line)
        for key, value in data.items():
            yield from _duplicates(value, _join(where, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _duplicates(value, f"{where}[{i}]")


def _line_of(data: Any, path: str) -> int | None:
    """The line of the value at `path` (`merchants[1].arrivals.every`), or of the closest mapping holding it."""
    node, rest, line = data, path, getattr(data, "line", None)
    while rest:
        if rest.startswith("["):
            index = re.match(r"\[([0-9]+)\]\.?", rest)
            if index is None or not isinstance(node, list) or int(index.group(1)) >= len(node):
                break
            node, rest = node[int(index.group(1))], rest[index.end():]
            line = getattr(node, "line", line)
            continue
        if not isinstance(node, _Mapping):
            break
        # keys may hold dots themselves (`transactions.VALIDATED` under `expect`): the longest that fits
        fits = [k for k in node if rest == str(k) or rest.startswith((f"{k}.", f"{k}["))]
        if not fits:
            break
        key = max(fits, key=lambda k: len(str(k)))
        line, node, rest = node.key_lines[key], node[key], rest[len(str(key)):].removeprefix(".")
    return line


def load(path: Path) -> Scenario:
    """Read a scenario file (YAML or TOML); its mistakes are raised all at once, each as `file:line: path: why`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else _read_yaml(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    except yaml.YAMLError as error:  # on one line, where it went wrong: PyYAML's own text spans several
        mark = getattr(error, "problem_mark", None)
        why = ", ".join(filter(None, (getattr(error, "context", None), getattr(error, "problem", None))))
        raise ScenarioError(f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML: {why or error}") from None
    problems = list(_duplicates(data))
    try:
        scenario = Scenario.parse(data, path.stem, source=str(path))
    except ScenarioError as error:
        problems += [p if p.line else Problem(p.path, p.message, _line_of(data, p.path)) for p in error.problems]
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise ScenarioError("\n".join(p.text(str(path)) for p in problems), problems)
    return scenario


def library() -> list[Path]:
    return sorted(p for p in LIBRARY.iterdir() if p.suffix in SUFFIXES)


def find(name_or_path: str) -> Path:
    """A library scenario by name, or a file."""
    path = Path(name_or_path)
    if path.suffix in SUFFIXES and path.exists():
        return path
    for candidate in library():
        if candidate.stem == name_or_path:
            return candidate
    known = ", ".join(p.stem for p in library())
    raise ScenarioError(f"no scenario {name_or_path!r}: give a file or one of {known}")
