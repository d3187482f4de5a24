"""The sandbox object: settings, store, clock, randomness and delivery, made by one factory.

Nothing lives at module level: a test or a reset gets a whole new world.
"""

from __future__ import annotations

import logging
import math
import os
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..adapters.clock import VIRTUAL, WALL, Clock, VirtualClock, WallClock
from ..adapters.memory_store import MemoryStore, make_store
from ..adapters.smtp import SmtpRelay
from ..adapters.webhooks import WebhookSender
from ..domain import errors, events
from ..domain.dates import format_date, parse_date
from ..domain.events import Event
from ..domain.ids import new_object_id
from . import back_office, fixtures, recette, scheduler
from .faults import FaultBook
from .handlers import WIRING
from .ports import Store
from .request_journal import RequestJournal
from .sftp_log import SftpLog
from .unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from ..adapters.tls import CertificateAuthority

log = logging.getLogger(__name__)

KIT_BASE_PATH = "/acquisition/api/public/v1"
MAX_SLEEP_S = 5.0  # the wall-clock worker looks at least this often
MAX_SETTING = 1_000_000  # no rule needs more (seconds, cents or attempts)
# where a reset may put a virtual clock: the fixtures' dates (allocations valid for years) must stay representable
RESET_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


CHOICES = {"acquisitionFault": ("", "DELAYED", "NO_SLIP_FOUND", "CONFLICTED")}
HOURS = ("acquisitionHour", "journalHour")
MAX_DAYS = 1000
MAXIMA = {"requestJournalSize": 100_000}  # each entry holds bodies of up to 8 KB
FILES = ("webhookCaFile",)  # rules naming a file on the server's machine ("" for none)


def _days(name: str, value: Any) -> list[str]:
    """A list of ISO dates (`2026-05-25`), sorted, each once."""
    if not isinstance(value, list) or len(value) > MAX_DAYS or not all(isinstance(v, str) for v in value):
        raise errors.BadRequest(f"{name} must be a list of dates like 2026-05-25")
    try:
        return sorted({date.fromisoformat(v).isoformat() for v in value})
    except ValueError:
        raise errors.BadRequest(f"{name} must be a list of dates like 2026-05-25") from None


def _existing_file(name: str, value: Any) -> str:
    """A path to a file on the server's machine, or "" for none (checked when set: a file removed later
    makes deliveries fail with the reason, never the rules unreadable)."""
    if not isinstance(value, str):
        raise errors.BadRequest(f"{name} must be a file path (a string), or \"\" for none")
    if value and not os.path.isfile(value):
        raise errors.BadRequest(f"{name}: no file at {value}")
    return value


@dataclass
class Rules:
    """The sandbox rules a running sandbox lets you change (`/_sandbox/settings`)."""

    thinkTimeSeconds: float = 3.0  # delay before an automatic beneficiary answers
    minimumAmountCents: int = 1  # SR: Kit v1.06 minimum; older guides show 2000
    strictWebhooks: bool = False  # SR: when true, only https:// webhook URLs are called
    stallAcquisition: bool = False  # fault: /payer never starts acquisition -> REJECTED_INTERNAL
    qrCodeActivatesRequest: bool = True  # SR: the first QR request moves CREATED -> PROCESSING
    proposeBalanceWhenShort: bool = True  # SR: tspd 001 with a short balance, the app proposes the balance
    wrongPinsBeforeBlock: int = 3  # SR: wrong personal codes in a row that block the device
    proRequestMinutes: int = 10  # SR: how long an App Pro QR code stays payable
    acquisitionHour: int = 4  # SR: the nightly acquisition run and reimbursements, Paris time
    journalHour: int = 6  # SR: the nightly journals (Kit §5.2), Paris time
    acquisitionFault: str = ""  # fault: "DELAYED", "NO_SLIP_FOUND" or "CONFLICTED" instead of CONSIGNED
    closedDays: list[str] = field(default_factory=list)  # ISO dates closed besides holidays and weekends
    openDays: list[str] = field(default_factory=list)  # ISO dates open despite the calendar
    requestJournal: bool = True  # the request journal (/_sandbox/requests) records calls
    requestJournalSize: int = 1000  # entries the request journal keeps, newest first (at most 100000)
    webhookCaFile: str = ""  # a PEM file of more CAs webhook deliveries trust (besides the system's and --tls's)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply every change, or none when one of them is wrong."""
        known = {f.name for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise errors.BadRequest(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
            current = getattr(self, name)
            if name in CHOICES:
                if value not in CHOICES[name]:
                    raise errors.BadRequest(f"{name} must be one of {', '.join(map(repr, CHOICES[name]))}")
                checked[name] = value
                continue
            if isinstance(current, list):
                checked[name] = _days(name, value)
                continue
            if name in FILES:
                checked[name] = value if value == current else _existing_file(name, value)
                continue
            if name in HOURS:
                if isinstance(value, bool) or not isinstance(value, int) or value not in range(24):
                    raise errors.BadRequest(f"{name} is an hour, 0 to 23")
                checked[name] = value
                continue
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise errors.BadRequest(f"{name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise errors.BadRequest(f"{name} must be a number")
            elif not 0 <= value <= MAX_SETTING or (isinstance(current, int) and (value < 1 or value != int(value))):
                raise errors.BadRequest(f"{name} is out of range")
            elif value > MAXIMA.get(name, MAX_SETTING):
                raise errors.BadRequest(f"{name} is at most {MAXIMA[name]}")
            checked[name] = type(current)(value)
        for name, value in checked.items():
            setattr(self, name, value)


@dataclass
class Settings:
    db: str | None = None  # None: SQLite in memory; "memory": the memory store; else a file or URL
    clock: str = WALL
    speed: float = 1.0
    start: datetime | None = None  # virtual clock's first instant (default: now)
    seed: int = 42
    public_url: str = "http://127.0.0.1:8421"
    admin_token: str | None = None
    load_fixtures: bool = True
    rules: Rules = field(default_factory=Rules)
    webhook_timeout_s: float = 5.0
    run_scheduler: bool = True  # background worker firing deadlines in wall mode
    smtp_relay: str | None = None  # HOST:PORT: every email of the outbox is also sent there
    smtp_timeout_s: float = 5.0
    draw_codes: bool = True  # in-process simulations skip drawing QR codes (tens of ms each; agents use the URL)
    journal_dir: str | None = None  # the SFTP spaces' folder: journals are also written there as files
    bind_host: str | None = None  # the address `serve` listens on: its name is answered (0.0.0.0: the machine's)
    allowed_hosts: list[str] = field(default_factory=list)  # more Host names to answer (`--allowed-host`)
    tls_dir: str | None = None  # `serve --tls`: the folder of the sandbox's CA (None: no CA, plain HTTP)


class Sandbox:
    """Everything one running sandbox owns."""

    def __init__(self, settings: Settings, *, store: Store | MemoryStore | None = None,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self.wiring = WIRING  # what follows each event and each deadline (handlers.py)
        self.store = store or make_store(settings.db)
        self.rules = settings.rules
        # told of each commit that caused events: (its events, what it saved)
        self.listeners: list[Callable[[list[Event], list[Any]], None]] = []
        self.clock: Clock  # made by _boot, once no other server process is starting on the database
        self.clock_start: datetime | None = None  # a virtual clock's first instant (set by _boot)
        self.timer_listeners: list[Callable[[datetime], None]] = []  # told of each commit's earliest new deadline
        self.rng = random.Random()
        self.faults = FaultBook()  # network faults on demand (in memory: per server process; a reset clears them)
        # TLS (issue 15, item 1): the CA `serve --tls` signs with; webhook deliveries trust it too
        self.tls = _authority(Path(settings.tls_dir)) if settings.tls_dir else None
        self._trust_dir: Path | None = None  # where a trust bundle goes without a CA folder (made when needed)
        self.sender = WebhookSender(self.record_webhook, lambda: self.clock.now(),
                                    strict=lambda: self.rules.strictWebhooks, timeout_s=settings.webhook_timeout_s,
                                    trust=self.webhook_trust,
                                    sending=lambda delivery: recette.webhook_attempt(self, delivery))
        self.relay = (SmtpRelay(settings.smtp_relay, self._record_relay_failure, timeout_s=settings.smtp_timeout_s)
                      if settings.smtp_relay else None)
        self.advancing = threading.Lock()  # virtual clock: one advance at a time
        self.initial_rules = Rules(**asdict(self.rules))  # what a reset goes back to
        self._rules_loaded: Any = None  # the saved rules `self.rules` holds (None: none saved)
        self._wake = threading.Condition()
        self._next_wake = datetime.max.replace(tzinfo=UTC)  # when the worker will look again (sandbox time)
        self._stopping = False
        self._worker: threading.Thread | None = None
        self.sftp: Any = None  # the SFTP space's server, when `serve` runs one
        self.request_journal = RequestJournal()  # this process's latest calls (/_sandbox/requests)
        self.recette = recette.Campaigns()  # acceptance campaigns (/_sandbox/recette), in memory like the journal
        # the SFTP space's log (/_sandbox/sftp/log) and who is told of each entry, on the SFTP server's thread
        self.sftp_log = SftpLog()
        self.sftp_listeners: list[Callable[[dict[str, Any]], None]] = [lambda entry: recette.observe_sftp(self, entry)]
        self._boot(clock)

    # --- set-up -------------------------------------------------------------------------
    def _make_clock(self) -> Clock:
        if self.settings.clock == VIRTUAL:
            with self.store.session() as s:
                saved = s.get_meta("clock_now")
            start = saved or self.settings.start or datetime.now(UTC).replace(microsecond=0)
            return VirtualClock(start)
        if self.settings.clock != WALL:
            raise ValueError(f"unknown clock {self.settings.clock!r}")
        with self.store.session() as s:
            return WallClock.resume(s.get_meta("wall_clock"), self.settings.speed)

    def save_clock(self, session: Any) -> None:
        """Keep the clock in the store, so a restart resumes it where it is (never behind)."""
        if isinstance(self.clock, VirtualClock):
            session.set_meta("clock_now", self.clock.now())
            session.set_meta("clock_start", self.clock_start)
        elif isinstance(self.clock, WallClock):
            session.set_meta("wall_clock", self.clock.anchor())

    def _boot(self, clock: Clock | None) -> None:
        # Server processes sharing a database start one at a time: the first one loads the fixtures,
        # the others carry on its clock.
        with self.store.starting() as alone:
            self.clock = clock or self._make_clock()
            self._start_up(resend_pending=alone)

    def _start_up(self, resend_pending: bool) -> None:
        with self.store.session() as s:
            seed = s.get_meta("seed")
            generation = s.get_meta("generation", -1) + 1
            s.set_meta("generation", generation)
            self.load_rules(s)
            pending = s.webhooks(state="pending")
            self.secret_key = s.get_meta("secret_key") or secrets.token_hex(32)  # signs people's sessions
            s.set_meta("secret_key", self.secret_key)
            # the instant a reset puts a virtual clock back to: the one the world started with, kept across restarts
            self.clock_start = s.get_meta("clock_start") or self.clock.now()
            self.save_clock(s)
        if seed is None:
            self.rng.seed(f"{self.settings.seed}:0")
            if self.settings.load_fixtures:
                fixtures.load(self, self.settings.seed)
            else:
                with self.store.session() as s:
                    s.set_meta("seed", self.settings.seed)
        else:  # a restart: same world, fresh but reproducible random stream
            self.rng.seed(f"{seed}:{generation}")
        if resend_pending:  # delivered at least once, even across a crash
            for delivery in pending:
                self.sender.submit(delivery)
        # else another server process runs on this database: the pending deliveries are in its queue.
        back_office.schedule(self)

    def start(self) -> None:
        """Start the deadline worker (wall clock only; a virtual clock moves by `advance`)."""
        if self.clock.mode == WALL and self.settings.run_scheduler and self._worker is None:
            self.timer_listeners.append(self._deadline_set)
            self._worker = threading.Thread(target=self._run_scheduler, name="scheduler", daemon=True)
            self._worker.start()

    def webhook_trust(self) -> str | bool:
        """What webhook deliveries check certificates against: the system's roots (certifi), the sandbox's CA
        with --tls, and the `webhookCaFile` rule; True is requests' default (certifi alone)."""
        extra = [Path(self.rules.webhookCaFile)] if self.rules.webhookCaFile else []
        if self.tls is not None:
            return self.tls.trust_bundle(extra)
        if not extra:
            return True
        from ..adapters.tls import trust_bundle

        if self._trust_dir is None:
            import tempfile

            self._trust_dir = Path(tempfile.mkdtemp(prefix="ancv-sandbox-trust-"))
        return trust_bundle(self._trust_dir, [p.read_text() for p in extra])

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5)
        self.sender.wait_idle(timeout=2)
        self.sender.close()
        if self.relay is not None:
            self.relay.wait_idle(timeout=2)
            self.relay.close()
        self.store.close()

    def _run_scheduler(self) -> None:
        while not self._stopping:
            try:
                scheduler.fire_due(self)
            except Exception:
                log.exception("scheduler pass failed")
            # Deciding how long to sleep and sleeping happen under the lock commits notify
            # through, so a deadline committed meanwhile is never missed.
            with self._wake:
                if self._stopping:
                    break
                try:
                    wait = min(scheduler.seconds_to_next(self), MAX_SLEEP_S)
                except Exception:
                    log.exception("scheduler look-ahead failed")
                    wait = 1.0
                self._next_wake = self.clock.now() + timedelta(seconds=wait * self.clock.speed)
                self._wake.wait(timeout=wait)
                self._next_wake = datetime.min.replace(tzinfo=UTC)  # awake: every commit may matter

    # --- units of work and what follows them -------------------------------------------------
    def uow(self, now: datetime | None = None) -> UnitOfWork:
        return UnitOfWork(self, self.wiring, now)

    def after_commit(self, events: list[Event], deliveries: list[dict[str, Any]], saved: list[Any],
                     earliest_timer: datetime | None = None, emails: list[dict[str, Any]] | None = None) -> None:
        for delivery in deliveries:
            self.sender.submit(delivery)
        if self.relay is not None:
            for email in emails or ():
                self.relay.submit(email)
        for listener in self.listeners:
            try:
                listener(events, saved)
            except Exception:
                log.exception("listener failed")
        if earliest_timer is not None:
            for timer_listener in self.timer_listeners:
                timer_listener(earliest_timer)

    def _deadline_set(self, due: datetime) -> None:
        """The wall-clock worker's timer listener: wake it for a deadline sooner than it planned to look."""
        with self._wake:
            if due < self._next_wake:
                self._wake.notify_all()

    def record_webhook(self, delivery_id: int, state: str, attempts: list[dict[str, Any]]) -> None:
        with self.store.session() as s:
            s.record_webhook_attempts(delivery_id, state, attempts)

    def _record_relay_failure(self, email: dict[str, Any], error: str) -> None:
        """On the timeline: the relay could not take this email (it stays in the outbox)."""
        assert self.relay is not None
        with self.uow() as uow:
            uow.record(events.EMAIL_RELAY_FAILED, "smtp", to=email["to"], subject=email["subject"],
                       writtenAt=format_date(email["at"]), relay=self.relay.address, error=error)

    def load_rules(self, session: Any) -> None:
        """The rules as saved (each unit of work starts with them): another server process on this
        database may have changed them, or a reset put them back to this process's initial ones."""
        saved = session.get_meta("rules")
        if saved != self._rules_loaded:
            self.rules.update(saved or asdict(self.initial_rules))
            self._rules_loaded = saved

    def save_rules(self, changes: dict[str, Any]) -> Rules:
        """Save the rules with `changes` (all valid, or none saved); every unit of work from then on,
        in this process or another, starts with them."""
        with self.uow() as uow:
            rules = replace(self.rules)
            rules.update(changes)
            uow.session.set_meta("rules", asdict(rules))
            uow.record(events.SETTINGS_CHANGED, "settings", **changes)
        back_office.schedule(self)  # the hours or the calendar may have changed
        return self.current_rules()

    def current_rules(self) -> Rules:
        with self.store.session() as s:
            self.load_rules(s)
        return self.rules

    # --- randomness --------------------------------------------------------------------------
    def new_id(self, exists: Callable[[str], bool]) -> str:
        while True:
            candidate = new_object_id(self.rng)
            if not exists(candidate):
                return candidate

    # --- what people and codes point at --------------------------------------------------------
    @property
    def kit_base_url(self) -> str:
        return self.settings.public_url.rstrip("/") + KIT_BASE_PATH

    def payment_url(self, pre_transaction_id: str) -> str:
        """What a payment QR code encodes (Kit §4.6.2)."""
        return f"{self.kit_base_url}/pre-transactions/{pre_transaction_id}/qr-code"

    def qr_png(self, pre_transaction_id: str) -> bytes:
        if not self.settings.draw_codes:
            return UNDRAWN_CODE
        return _cached_qr(self.payment_url(pre_transaction_id))

    def reset_clock(self, to: datetime | None = None) -> None:
        """Part of a reset: a virtual clock goes back to the instant it started with, or to `to`.

        A wall clock follows the real time and is left alone (giving `to` is then a 409)."""
        if not isinstance(self.clock, VirtualClock):
            if to is not None:
                raise scheduler.NotVirtualClock("the clock is in wall mode: a reset leaves it alone, so \"now\" cannot be set")
            return
        if to is not None and not RESET_RANGE[0] <= to < RESET_RANGE[1]:
            raise errors.BadRequest(f"now must be from {RESET_RANGE[0].year} to {RESET_RANGE[1].year - 1}")
        target = to or self.clock_start
        assert target is not None  # set at boot
        with self.advancing:  # not while an advance moves it forward
            self.clock.rewind(target)

    def clock_json(self) -> dict[str, Any]:
        return {"now": format_date(self.clock.now()), "mode": self.clock.mode, "speed": self.clock.speed}


# What a QR code is when codes are not drawn: a valid 1×1 white PNG.
UNDRAWN_CODE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63f80f00010101001b8a9b9e0000000049454e44ae426082")


@lru_cache(maxsize=1024)
def _cached_qr(url: str) -> bytes:
    # qrcode and Pillow: imported by the first code drawn, not by every sandbox
    from ..adapters.qr import qr_png

    return qr_png(url)


def _authority(folder: Path) -> CertificateAuthority:
    """The CA of `serve --tls` (cryptography is imported only when TLS is on)."""
    from ..adapters.tls import CertificateAuthority

    return CertificateAuthority(folder, WallClock().now())


def parse_start(text: str | None) -> datetime | None:
    return parse_date(text) if text else None
