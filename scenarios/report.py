"""The HTML report of a simulation run: pictures of what happened, for a person to look at rather than read.

`write_report` is all the runner needs. Reading the timeline into numbers (`read_timeline`, `states_at`,
`starts_per_hour`, `percentile`) is kept apart from drawing (the `_*_figure` functions) so tests can check
the numbers. Everything is binned or aggregated before it is drawn: a run of 300 000 payments gives a page
of the same size as a run of 300. The page is one self-contained file: inline CSS and SVG, no script.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from sandbox.domain import events as names
from sandbox.domain import transactions
from sandbox.domain.dates import PARIS, paris_day
from sandbox.domain.french import count, decimal, duration, euros, long_date, plural
from sandbox.domain.operations import FAILURES

BINS = 200  # samples of the states-over-time curve, whatever the run's length
HISTOGRAM_BINS = 40
MAX_HOURLY_BARS = 96  # past four days, payments started are counted per day
MAX_SVG_BYTES = 400_000  # a plot heavier than this is inlined as a PNG instead
PNG_DPI = 110

INITIALIZED, PROCESSING, AUTHORIZED, VALIDATED = "INITIALIZED", "PROCESSING", "AUTHORIZED", "VALIDATED"
REJECTED, ABORTED = "REJECTED", "ABORTED"
ANSWERS = (AUTHORIZED, REJECTED, ABORTED)  # what a payer's app answers once a payment is PROCESSING
IN_FLIGHT = (INITIALIZED, PROCESSING, AUTHORIZED)  # waiting for the client or for the merchant

# event type -> the state it means when its data carries none
TRANSACTION_EVENTS = {names.TRANSACTION_INITIALIZED: INITIALIZED,
                      **{name: state for state, name in transactions.EVENT_NAMES.items()}}
PRE_TRANSACTION_CREATED, PRE_TRANSACTION_USED = names.PRE_TRANSACTION_CREATED, names.PRE_TRANSACTION_USED

# bottom to top in the stacked plots: money that arrived, then what failed, then what still waits
STATE_ORDER = ("PAID", "CONSIGNED", "CONFLICTED", "NO_SLIP_FOUND", "DELAYED", VALIDATED, AUTHORIZED,
               "CANCELLED", "EXPIRED", ABORTED, REJECTED, PROCESSING, INITIALIZED)
STATE_COLOURS = {
    "INITIALIZED": "#d5dbe0", "PROCESSING": "#9cc9f0", "AUTHORIZED": "#1f63b8", "VALIDATED": "#2e8540",
    "DELAYED": "#6fbf73", "NO_SLIP_FOUND": "#a5c85a", "CONFLICTED": "#b0a82a", "CONSIGNED": "#00897b",
    "PAID": "#1b5e20", "REJECTED": "#c62828", "ABORTED": "#ef7c00", "CANCELLED": "#8a8f94",
    "EXPIRED": "#7b4f3a",
}
LINE_COLOURS = {"INITIALIZED": "#7d8f9c", "PROCESSING": "#5aa9e6"}  # the light states, dark enough for a line
STATE_LABELS = {
    "INITIALIZED": "Initialisé", "PROCESSING": "En cours chez le client", "AUTHORIZED": "Autorisé",
    "VALIDATED": "Validé", "DELAYED": "Remise différée", "NO_SLIP_FOUND": "Sans bordereau",
    "CONFLICTED": "En litige", "CONSIGNED": "Remis en banque", "PAID": "Payé au commerçant",
    "REJECTED": "Refusé", "ABORTED": "Abandonné", "CANCELLED": "Annulé", "EXPIRED": "Expiré",
}
PRE_STATE_ORDER = ("USED", "ABORTED", "EXPIRED", "AUTHORIZING", "PROCESSING", "CREATED")
PRE_STATE_COLOURS = {
    "CREATED": "#d5dbe0", "PROCESSING": "#9cc9f0", "AUTHORIZING": "#5a9bd8", "USED": "#2e8540",
    "ABORTED": "#ef7c00", "EXPIRED": "#7b4f3a",
}
PRE_STATE_LABELS = {
    "CREATED": "Créée", "PROCESSING": "En attente du client", "AUTHORIZING": "Paiement en cours",
    "USED": "Payée", "ABORTED": "Abandonnée", "EXPIRED": "Expirée",
}
ENDING_LABELS = {  # the merchant's words where the Espace d'encaissement has them (operations.FAILURES)
    **{ending: FAILURES[ending][0] for ending in ("REJECTED_TIMEOUT", "REJECTED_SECURITY", "REJECTED_DEVICE",
                                                  "ABORTED_TSPD")},
    "REJECTED_INTERNAL": "Refusé : erreur interne",
    "REJECTED_COMPLEMENT": "Refusé : complément",
    "ABORTED_COMPLEMENT": "Abandonné : complément",
}
OTHER_COLOUR = "#b39ddb"
PRE_WAIT_COLOUR = "#2e8540"

KNOWN_KEYS = frozenset({
    "scenario", "title", "description", "seed", "transport", "start", "simulated_seconds", "wall_seconds",
    "transactions", "transaction_endings", "pre_transactions", "amount_requested_cents",
    "amount_authorized_cents", "amount_validated_cents", "emails", "webhooks", "kit_errors", "visits",
    "expectations", "shards", "shard_seeds",
})


# --- from events to numbers ------------------------------------------------------------------------------


@dataclass
class Timeline:
    """The run's payments read once from its events; times are seconds since the run's start."""

    start: datetime | None
    duration: float
    changes: list[tuple[float, str | None, str]] = field(default_factory=list)  # (t, state before, state after)
    final_states: dict[str, str] = field(default_factory=dict)  # transaction id -> its last state
    started: list[tuple[float, str]] = field(default_factory=list)  # (t, transaction id), one per payment
    waits: dict[str, list[float]] = field(default_factory=dict)  # answer -> seconds from first PROCESSING
    pre_waits: list[float] = field(default_factory=list)  # seconds from a request's creation to USED
    requested: list[int] = field(default_factory=list)  # cents, one per TransactionInitialized
    pre_requested: list[int] = field(default_factory=list)  # cents, one per PreTransactionCreated
    authorized: list[int] = field(default_factory=list)  # cents, one per TransactionAuthorized
    partial: int = 0  # payments authorized for less than was asked
    partial_unpaid: int = 0  # cents asked but not authorized by those payments

    @property
    def transactions(self) -> int:
        return len(self.final_states)


def moment(value: datetime | str) -> datetime:
    """An event's `at`, as a datetime or as the wire's ISO 8601 string, in UTC."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def read_timeline(events: Sequence[Mapping[str, Any]], start: datetime | None = None,
                  duration: float = 0.0) -> Timeline:
    """Read the payments' story from the timeline in one pass (sorted first if the events are out of order)."""
    timeline = Timeline(start, duration)
    states = timeline.final_states
    changes, started, pre_waits = timeline.changes, timeline.started, timeline.pre_waits
    requested, pre_requested = timeline.requested, timeline.pre_requested
    waits: dict[str, list[float]] = {answer: [] for answer in ANSWERS}
    processing_since: dict[str, float] = {}
    asked: dict[str, int] = {}
    authorized: dict[str, int] = {}
    pre_created: dict[str, float] = {}
    origin = start.timestamp() if start else None
    t = last = -math.inf
    last_at: datetime | str | None = None
    parse = datetime.fromisoformat
    for event in events:
        if origin is None:  # without a start, the first event starts the clock
            timeline.start = moment(event["at"])
            origin = timeline.start.timestamp()
        kind = event["type"]
        default_state = TRANSACTION_EVENTS.get(kind)
        if default_state is None and kind != PRE_TRANSACTION_CREATED and kind != PRE_TRANSACTION_USED:
            continue
        at = event["at"]
        if at != last_at:  # the hot path, a million times: events often share their instant
            when = parse(at) if at.__class__ is str else at
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            t = when.timestamp() - origin
            if t < last:
                return read_timeline(sorted(events, key=lambda e: moment(e["at"])), start, duration)
            last, last_at = t, at
        data = event.get("data") or {}
        if default_state is None:
            if kind == PRE_TRANSACTION_CREATED:
                pre_created[event["ref"]] = t
                if isinstance(data.get("amount"), int):
                    pre_requested.append(data["amount"])
            else:
                created = pre_created.pop(event["ref"], None)
                if created is not None:
                    pre_waits.append(t - created)
            continue
        ref = event["ref"]
        state = data.get("state") or default_state
        before = states.get(ref)
        if state != before:
            changes.append((t, before, state))
            states[ref] = state
        if state == INITIALIZED:
            started.append((t, ref))
            amount = data.get("amount")
            if isinstance(amount, int):
                asked[ref] = amount
                requested.append(amount)
        elif state == PROCESSING:
            if ref not in processing_since:
                processing_since[ref] = t
        elif state in waits:
            since = processing_since.pop(ref, None)  # only the first answer counts
            if since is not None:
                waits[state].append(t - since)
            amount = data.get("amount")
            if state == AUTHORIZED and isinstance(amount, int) and ref not in authorized:
                authorized[ref] = amount
    timeline.duration = max(duration, last)
    timeline.waits = waits
    timeline.authorized = list(authorized.values())
    for ref, amount in authorized.items():
        wanted = asked.get(ref)
        if wanted is not None and amount < wanted:
            timeline.partial += 1
            timeline.partial_unpaid += wanted - amount
    return timeline


def sample_instants(duration: float, bins: int = BINS) -> list[float]:
    """bins + 1 evenly spaced instants from the start to the end of the run."""
    span = duration if duration > 0 else 1.0
    return [span * k / bins for k in range(bins + 1)]


def states_at(timeline: Timeline, instants: Sequence[float]) -> dict[str, list[int]]:
    """How many transactions are in each state at each instant (ascending), in STATE_ORDER then others."""
    return _sweep(timeline, instants)[0]


def peaks_between(timeline: Timeline, instants: Sequence[float]) -> dict[str, list[int]]:
    """The most transactions each state held at once between the previous instant (excluded) and each instant.

    Unlike `states_at`, a payment that stays PROCESSING for 30 s is not missed by samples 3 minutes apart."""
    return _sweep(timeline, instants)[1]


def _sweep(timeline: Timeline, instants: Sequence[float]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    counts: dict[str, int] = {}
    highs: dict[str, int] = {}
    levels: list[dict[str, int]] = []
    peaks: list[dict[str, int]] = []
    changes, i = timeline.changes, 0
    for instant in instants:
        while i < len(changes) and changes[i][0] <= instant:
            _, before, after = changes[i]
            if before is not None:
                counts[before] -= 1
            level = counts[after] = counts.get(after, 0) + 1
            if level > highs.get(after, 0):
                highs[after] = level
            i += 1
        levels.append(dict(counts))
        peaks.append(highs)
        highs = dict(counts)  # the next interval starts from what is there now
    seen = _ordered({state for level in peaks for state, count in level.items() if count}, STATE_ORDER)
    return ({state: [level.get(state, 0) for level in levels] for state in seen},
            {state: [level.get(state, 0) for level in peaks] for state in seen})


def starts_per_hour(timeline: Timeline) -> list[Counter[str]]:
    """Payments started in each clock hour of the run (index 0: the hour the run starts in), by final state."""
    if timeline.start is None:
        return []
    offset = timeline.start.minute * 60 + timeline.start.second + timeline.start.microsecond / 1e6
    hours = [Counter[str]() for _ in range(max(1, math.ceil((timeline.duration + offset) / 3600)))]
    for t, ref in timeline.started:
        hours[min(len(hours) - 1, max(0, int((t + offset) // 3600)))][timeline.final_states[ref]] += 1
    return hours


def starts_per_day(start: datetime, hours: Sequence[Counter[str]]) -> list[tuple[date, Counter[str]]]:
    """`starts_per_hour`'s counts summed per calendar day in Paris."""
    top_of_hour = start.replace(minute=0, second=0, microsecond=0)
    days: dict[date, Counter[str]] = {}
    for i, counts in enumerate(hours):
        days.setdefault(paris_day(top_of_hour + timedelta(hours=i)), Counter()).update(counts)
    return list(days.items())


def histogram(values: Iterable[float], high: float, bins: int = HISTOGRAM_BINS) -> list[int]:
    """How many values fall in each of `bins` equal bins from 0 to `high` (the last bin holds `high`)."""
    counts = [0] * bins
    width = (high if high > 0 else 1.0) / bins
    last = bins - 1
    for value in values:
        k = int(value / width)
        counts[k if 0 <= k < last else last if k > 0 else 0] += 1
    return counts


def percentile(values: Sequence[float], fraction: float) -> float:
    """The fraction-quantile with linear interpolation between ranks (the median for 0.5); 0 when empty."""
    if not values:
        return 0.0
    ranked = sorted(values)
    position = fraction * (len(ranked) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ranked) - 1)
    return ranked[low] + (ranked[high] - ranked[low]) * (position - low)


def _ordered(states: Iterable[str], order: Sequence[str]) -> list[str]:
    present = set(states)
    return [s for s in order if s in present] + sorted(present - set(order))


def _state_label(state: str, labels: Mapping[str, str]) -> str:
    return labels.get(state, state.replace("_", " ").capitalize())


# --- drawing ---------------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.set_facecolor("white")
    return figure


def _tidy(axes: Axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
    axes.set_axisbelow(True)


def _count_axis(axes: Axes, axis: str = "y") -> None:
    target = axes.yaxis if axis == "y" else axes.xaxis
    target.set_major_locator(MaxNLocator(nbins=6, integer=True))
    target.set_major_formatter(FuncFormatter(lambda value, _: count(value)))


def _clock_axis(axes: Axes, start: datetime, hours: float) -> None:
    """x in hours since the start, labelled with the clock in Paris (and the day, past one day)."""
    steps = (1 / 12, 0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168, 336)
    step = next((s for s in steps if hours / s <= (8 if hours > 24 else 12)), steps[-1])
    axes.xaxis.set_major_locator(MultipleLocator(step))
    pattern = "%d/%m\n%Hh" if hours > 24 else "%H:%M"
    axes.xaxis.set_major_formatter(FuncFormatter(
        lambda value, _: (start + timedelta(hours=value)).astimezone(PARIS).strftime(pattern)))
    axes.set_xlim(0, hours)


def _final_states_figure(transactions: Mapping[str, int], pre_transactions: Mapping[str, int]) -> Figure:
    panels = [panel for panel in ((transactions, STATE_ORDER, STATE_COLOURS, STATE_LABELS, "Paiements"),
                                  (pre_transactions, PRE_STATE_ORDER, PRE_STATE_COLOURS, PRE_STATE_LABELS,
                                   "Demandes de paiement")) if any(panel[0].values())]
    rows = max(len([v for v in p[0].values() if v]) for p in panels)
    figure = _figure(10, 0.9 + 0.38 * max(rows, 2))
    for axes, (counts, order, colours, labels, title) in zip(figure.subplots(1, len(panels), squeeze=False)[0],
                                                            panels, strict=True):
        states = [s for s in _ordered(counts, order) if counts[s]][::-1]
        values = [counts[s] for s in states]
        bars = axes.barh([_state_label(s, labels) for s in states], values,
                         color=[colours.get(s, OTHER_COLOUR) for s in states])
        axes.bar_label(bars, labels=[count(v) for v in values], padding=3, fontsize=9)
        axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values) * 1.15)
        axes.set_ylim(len(states) - max(rows, 3) - 0.6, len(states) - 0.4)  # bars as thick in both panels, top-aligned
        _count_axis(axes, "x")
    return figure


def _states_figure(start: datetime, instants: Sequence[float], series: Mapping[str, list[int]],
                   peaks: Mapping[str, list[int]]) -> Figure:
    hours = [t / 3600 for t in instants]
    figure = _figure(10, 5.6)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    states = list(series)
    top.stackplot(hours, *[series[s] for s in states], colors=[STATE_COLOURS.get(s, OTHER_COLOUR) for s in states],
                  labels=[_state_label(s, STATE_LABELS) for s in states], linewidth=0)
    top.set_title("Toutes les transactions, par état", loc="left", fontsize=11, fontweight="bold")
    handles, labels = top.get_legend_handles_labels()
    top.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    for state in IN_FLIGHT:
        if state in peaks:
            bottom.plot(hours, peaks[state], color=LINE_COLOURS.get(state, STATE_COLOURS[state]), linewidth=1.4,
                        drawstyle="steps-pre", label=_state_label(state, STATE_LABELS))
    bottom.set_title("En attente du client ou du commerçant (au plus fort entre deux points)", loc="left",
                     fontsize=11, fontweight="bold")
    if bottom.lines:
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    bottom.set_ylim(bottom=0)
    for axes in (top, bottom):
        _tidy(axes)
        _count_axis(axes)
    _clock_axis(bottom, start, hours[-1])
    bottom.set_xlabel("Heure simulée (Paris)")
    return figure


def _stairs(axes: Axes, high: float, layers: Sequence[tuple[list[int], str, str | None]], *,
            stacked: bool = True, filled: bool = True, linestyle: str = "-") -> None:
    """Histograms already counted (see `histogram`), drawn as steps; stacked layers sit on each other."""
    edges = [high * k / HISTOGRAM_BINS for k in range(HISTOGRAM_BINS + 1)]
    base = [0] * HISTOGRAM_BINS
    for counts, colour, label in layers:
        top = [b + c for b, c in zip(base, counts, strict=True)] if stacked else counts
        axes.stairs(top, edges, baseline=base if stacked else 0, fill=filled, color=colour, label=label,
                    linewidth=0 if filled else 1.8, linestyle=linestyle)
        base = top if stacked else base
    axes.set_xlim(0, high)
    axes.set_ylim(bottom=0)


def _time_unit(longest: float) -> tuple[float, str]:
    return (3600.0, "h") if longest > 3 * 3600 else (60.0, "min") if longest > 600 else (1.0, "s")


def _waits_figure(waits: Mapping[str, list[float]], pre_waits: Sequence[float]) -> Figure:
    figure = _figure(10, 3.6)
    panels = figure.subplots(1, 2 if pre_waits else 1, squeeze=False)[0]
    outcomes = [s for s in ANSWERS if waits.get(s)]
    axes = panels[0]
    longest = max(max(waits[s]) for s in outcomes) or 1.0
    unit, name = _time_unit(longest)
    _stairs(axes, longest / unit, [(histogram(waits[s], longest), STATE_COLOURS[s], _state_label(s, STATE_LABELS))
                                   for s in outcomes])
    axes.set_title("Du premier PROCESSING à la réponse", loc="left", fontsize=11, fontweight="bold")
    axes.set_xlabel(f"Attente ({name})")
    axes.set_ylabel("Paiements")
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[::-1], labels[::-1], frameon=False, fontsize=9)
    _tidy(axes)
    _count_axis(axes)
    if pre_waits:
        axes = panels[1]
        longest = max(pre_waits) or 1.0
        unit, name = _time_unit(longest)
        _stairs(axes, longest / unit, [(histogram(pre_waits, longest), PRE_WAIT_COLOUR, None)])
        axes.set_title("D'une demande de paiement à son usage", loc="left", fontsize=11, fontweight="bold")
        axes.set_xlabel(f"Attente ({name})")
        axes.set_ylabel("Demandes")
        _tidy(axes)
        _count_axis(axes)
    return figure


def _amounts_figure(requested: Sequence[int], pre_requested: Sequence[int], authorized: Sequence[int]) -> Figure:
    figure = _figure(10, 3.6)
    axes = figure.subplots()
    highest = max(max(values) for values in (requested, pre_requested, authorized) if values) or 1
    if requested:
        _stairs(axes, highest / 100, [(histogram(requested, highest), "#cfd6dc", "Demandé (paiements)")])
    if pre_requested:
        _stairs(axes, highest / 100, [(histogram(pre_requested, highest), "#5a6b78",
                                       "Demandé (demandes de paiement)")], stacked=False, filled=False,
                linestyle="--")
    if authorized:
        _stairs(axes, highest / 100, [(histogram(authorized, highest), STATE_COLOURS[AUTHORIZED], "Autorisé")],
                stacked=False, filled=False)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{count(value)}\u00a0€"))
    axes.set_xlabel("Montant")
    axes.set_ylabel("Nombre de montants")
    axes.legend(frameon=False, fontsize=9)
    _tidy(axes)
    _count_axis(axes)
    return figure


def _activity_figure(periods: Sequence[tuple[str, Counter[str]]]) -> Figure:
    figure = _figure(10, 3.4)
    axes = figure.subplots()
    positions = list(range(len(periods)))
    base = [0] * len(periods)
    for state in _ordered({s for _, counts in periods for s in counts}, STATE_ORDER):
        values = [counts[state] for _, counts in periods]
        axes.bar(positions, values, bottom=base, width=0.85, color=STATE_COLOURS.get(state, OTHER_COLOUR),
                 label=_state_label(state, STATE_LABELS))
        base = [b + v for b, v in zip(base, values, strict=True)]
    every = max(1, math.ceil(len(periods) / 24))
    crowded = any(len(label) > 3 for label, _ in periods[::every])
    axes.set_xticks(positions[::every], [label for label, _ in periods[::every]], rotation=45 if crowded else 0,
                    fontsize=8 if crowded else 9)
    axes.set_xlim(-0.6, len(periods) - 0.4)
    axes.set_ylabel("Paiements commencés")
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9,
                title="État final", title_fontsize=9)
    _tidy(axes)
    _count_axis(axes)
    return figure


def _inline(figure: Figure, name: str, description: str) -> str:
    """The figure as inline SVG, or as an inline PNG when the SVG would weigh too much."""
    buffer = io.StringIO()
    # text stays text (small, selectable); a fixed salt per plot keeps ids unique in the page and stable
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.DOTALL)
    svg = re.sub(r'<style type="text/css">\*\{[^}]*\}</style>', "", svg, count=1)  # global in a page; see CSS
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"',
                 rf'<svg \1role="img" aria-label="{escape(description)}" class="plot"', svg, count=1)
    if len(svg.encode()) <= MAX_SVG_BYTES:
        return f'<figure id="plot-{name}">{svg}</figure>'
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
    data = base64.b64encode(png.getvalue()).decode()
    return (f'<figure id="plot-{name}"><img class="plot" alt="{escape(description)}" '
            f'src="data:image/png;base64,{data}"></figure>')


# --- the page --------------------------------------------------------------------------------------------


def write_report(directory: Path, summary: dict[str, Any], events: list[dict[str, Any]]) -> Path:
    """Write DIRECTORY/index.html, the run's report as one self-contained page, and return its path."""
    start = moment(summary["start"]) if summary.get("start") else None
    timeline = read_timeline(events, start, float(summary.get("simulated_seconds") or 0))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "index.html"
    path.write_text(render(summary, timeline), encoding="utf-8")
    return path


def write_sweep_report(directory: Path, sweep: Mapping[str, Any]) -> Path:
    """Write DIRECTORY/index.html, a seed sweep's report (`simulate --replications N`), and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "index.html"
    path.write_text(render_sweep(sweep), encoding="utf-8")
    return path


def render_sweep(sweep: Mapping[str, Any]) -> str:
    """A sweep's HTML: each expectation's pass rate, the spread of the final states, every figure's spread."""
    title = str(sweep.get("title") or sweep.get("scenario") or "Simulation")
    body = "".join([_sweep_header(sweep, title), _pass_rates(sweep["expectations"]),
                    _states_spread(sweep), _figures_spread(sweep["figures"])])
    return (f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} — rapport de réplications</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _sweep_header(sweep: Mapping[str, Any], title: str) -> str:
    seeds = sweep["seeds"]
    facts = [("Scénario", f"<code>{escape(str(sweep['scenario']))}</code>"),
             ("Réplications", count(sweep["replications"])),
             ("Graines", escape(f"{seeds[0]} à {seeds[-1]}" if len(seeds) > 1 else str(seeds[0])))]
    if sweep.get("shards", 1) > 1:
        facts.append(("Mondes par réplication", count(sweep["shards"])))
    facts += [("Transport", escape(str(sweep["transport"]))), ("Début", escape(long_date(moment(sweep["start"])))),
              ("Durée simulée", duration(float(sweep["simulated_seconds"]))),
              ("Durée réelle", duration(float(sweep["wall_seconds"])))]
    items = "".join(f"<div><dt>{name}</dt><dd>{value}</dd></div>" for name, value in facts)
    description = f'<p class="lead">{escape(str(sweep["description"]))}</p>' if sweep.get("description") else ""
    expectations = sweep["expectations"]
    failing = sum(1 for e in expectations if e["passed"] < e["replications"])
    banner = ""
    if expectations:
        banner = (f'<div class="banner failed">✗ {failing} attente{"s" if failing > 1 else ""} non tenue'
                  f'{"s" if failing > 1 else ""} dans toutes les réplications, sur {len(expectations)}</div>'
                  if failing else
                  f'<div class="banner passed">✓ Attentes tenues dans les {count(sweep["replications"])} '
                  f"réplications</div>")
    return (f'<header><p class="kicker">Rapport de réplications</p><h1>{escape(title)}</h1>{description}'
            f'<dl class="facts">{items}</dl>{banner}</header>')


def _pass_rates(expectations: Sequence[Mapping[str, Any]]) -> str:
    if not expectations:
        return ""
    rows = "".join(
        f'<tr class="{"ok" if e["passed"] == e["replications"] else "ko"}"><td class="mark">'
        f'{"✓" if e["passed"] == e["replications"] else "✗"}</td><td><code>{escape(str(e["name"]))}</code></td>'
        f'<td><code>{escape(str(e["condition"]))}</code></td><td class="num">{count(e["passed"])} sur '
        f'{count(e["replications"])}</td><td class="num">{_plain(round(100 * e["pass_rate"], 1))}\u00a0%</td></tr>'
        for e in expectations)
    return ('<section id="attentes"><h2>Attentes</h2><table><thead><tr><th></th><th>Mesure</th><th>Condition</th>'
            '<th class="num">Tenue</th><th class="num">Taux</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></section>")


def _states_spread(sweep: Mapping[str, Any]) -> str:
    states = {name.partition(".")[2]: spread for name, spread in sweep["figures"].items()
              if name.startswith("transactions.") and spread["max"] > 0}
    if not states:
        return ""
    values = {state: [run.get("transactions", {}).get(state, 0) for run in sweep["runs"]] for state in states}
    chart = _inline(_states_spread_figure(states, values), "etats-finaux-dispersion",
                    "Paiements par état final : moyenne des réplications, intervalle de confiance à 95 % et "
                    "chaque réplication")
    return (f'<section id="etats"><h2>États finaux d\'une réplication à l\'autre</h2>{chart}<p class="note">'
            "Barre : la moyenne ; trait : l'intervalle de confiance à 95 % ; points : chaque réplication."
            "</p></section>")


def _states_spread_figure(states: Mapping[str, Mapping[str, Any]], values: Mapping[str, list[int]]) -> Figure:
    order = _ordered(states, STATE_ORDER)[::-1]
    figure = _figure(10, 0.9 + 0.42 * max(len(order), 2))
    axes = figure.subplots()
    labels = [_state_label(s, STATE_LABELS) for s in order]
    means = [states[s]["mean"] for s in order]
    errors = [[states[s]["mean"] - (states[s]["ci95"] or [states[s]["mean"]] * 2)[0] for s in order],
              [(states[s]["ci95"] or [0, states[s]["mean"]])[1] - states[s]["mean"] for s in order]]
    axes.barh(labels, means, color=[STATE_COLOURS.get(s, OTHER_COLOUR) for s in order], alpha=0.75,
              xerr=errors, error_kw={"ecolor": "#1f2933", "capsize": 4, "linewidth": 1.2})
    for y, state in enumerate(order):
        axes.scatter(values[state], [y] * len(values[state]), s=12, color="#1f2933", zorder=3, linewidths=0)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlim(0, max(max(v) for v in values.values()) * 1.1 or 1)
    _count_axis(axes, "x")
    return figure


def _figures_spread(figures: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for name, f in figures.items():
        if f["min"] == 0 and f["max"] == 0:
            continue
        money = name.endswith("_cents")
        show = (lambda v: euros(round(v))) if money else (lambda v: _plain(float(v)))
        interval = "—" if f["ci95"] is None else f"{show(f['ci95'][0])} à {show(f['ci95'][1])}"
        rows.append(f'<tr><td><code>{escape(name)}</code></td><td class="num">{show(f["mean"])}</td>'
                    f'<td class="num">{interval}</td><td class="num">{show(f["min"])}</td>'
                    f'<td class="num">{show(f["max"])}</td></tr>')
    return ('<section id="chiffres"><h2>Chiffres d\'une réplication à l\'autre</h2><table><thead><tr><th>Mesure</th>'
            '<th class="num">Moyenne</th><th class="num">Intervalle de confiance à 95\u00a0%</th>'
            '<th class="num">Minimum</th><th class="num">Maximum</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table><p class="note">Intervalle : moyenne ± t(0,975 ; N − 1) · s / √N '
            "(t de Student, s l'écart type des réplications). Les mesures restées à 0 ne sont pas montrées.</p>"
            "</section>")


def render(summary: Mapping[str, Any], timeline: Timeline) -> str:
    """The report's HTML."""
    title = str(summary.get("title") or summary.get("scenario") or "Simulation")
    body = "".join([
        _header(summary, title),
        _expectations(summary.get("expectations") or []),
        _key_figures(summary, timeline),
        _final_states(summary),
        *((_over_time(timeline), _waits(timeline), _amounts(timeline), _activity(timeline))
          if timeline.changes or timeline.pre_requested else
          ('<section id="graphiques"><h2>Graphiques</h2><p class="empty">Aucune transaction dans la chronologie : '
           "rien à tracer.</p></section>",)),
        _others(summary),
    ])
    return (f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} — rapport de simulation</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _header(summary: Mapping[str, Any], title: str) -> str:
    facts = []
    if summary.get("scenario"):
        facts.append(("Scénario", f"<code>{escape(str(summary['scenario']))}</code>"))
    facts.append(("Graine", escape(str(summary.get("seed")))))
    if summary.get("shards"):  # several worlds merged (scenarios/shards.py)
        facts.append(("Mondes", f"{count(summary['shards'])} (graines "
                                f"{escape(', '.join(map(str, summary.get('shard_seeds') or [])))})"))
    if summary.get("transport"):
        facts.append(("Transport", escape(str(summary["transport"]))))
    if summary.get("start"):
        facts.append(("Début", escape(long_date(moment(summary["start"])))))
    facts.append(("Durée simulée", duration(float(summary.get("simulated_seconds") or 0))))
    wall = float(summary.get("wall_seconds") or 0)
    facts.append(("Durée réelle", f"{decimal(wall, 2)}\u00a0s" if wall < 60 else duration(wall)))
    items = "".join(f"<div><dt>{name}</dt><dd>{value}</dd></div>" for name, value in facts)
    description = f'<p class="lead">{escape(str(summary["description"]))}</p>' if summary.get("description") else ""
    expectations = summary.get("expectations") or []
    banner = ""
    if expectations:
        failed = sum(1 for e in expectations if not e.get("passed"))
        if failed:
            banner = (f'<div class="banner failed">✗ {failed} attente{"s" if failed > 1 else ""} non '
                      f'satisfaite{"s" if failed > 1 else ""} sur {len(expectations)}</div>')
        else:
            banner = (f'<div class="banner passed">✓ Attentes satisfaites ({len(expectations)} sur '
                      f"{len(expectations)})</div>")
    return (f'<header><p class="kicker">Rapport de simulation</p><h1>{escape(title)}</h1>{description}'
            f"<dl class=\"facts\">{items}</dl>{banner}</header>")


def _expectations(expectations: Sequence[Mapping[str, Any]]) -> str:
    if not expectations:
        return ""
    rows = "".join(
        f'<tr class="{"ok" if e.get("passed") else "ko"}"><td class="mark">{"✓" if e.get("passed") else "✗"}</td>'
        f"<td><code>{escape(str(e.get('name', '')))}</code></td><td><code>{escape(str(e.get('condition', '')))}</code>"
        f'</td><td class="num">{_plain(e.get("actual"))}</td></tr>' for e in expectations)
    return (f'<section id="attentes"><h2>Attentes</h2><table><thead><tr><th></th><th>Mesure</th><th>Condition</th>'
            f'<th class="num">Obtenu</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _key_figures(summary: Mapping[str, Any], timeline: Timeline) -> str:
    transactions = summary.get("transactions") or {}
    pre_transactions = summary.get("pre_transactions") or {}
    cards = [("Paiements", count(sum(transactions.values())),
              f"dont {plural(transactions.get(VALIDATED, 0), 'validé')}")]
    if pre_transactions:
        cards.append(("Demandes de paiement", count(sum(pre_transactions.values())),
                      f"dont {plural(pre_transactions.get('USED', 0), 'payée')}"))
    for key, name in (("amount_requested_cents", "Montant demandé"), ("amount_authorized_cents", "Montant autorisé"),
                      ("amount_validated_cents", "Montant validé")):
        if isinstance(summary.get(key), int):
            cards.append((name, euros(summary[key]), ""))
    if timeline.authorized:
        cards.append(("Paiements partiels", count(timeline.partial),
                      f"{euros(timeline.partial_unpaid)} non autorisés" if timeline.partial
                      else "autorisé = demandé"))
    if summary.get("visits") is not None:
        cards.append(("Visites", _plain(summary["visits"]), ""))
    if summary.get("emails") is not None:
        cards.append(("E-mails", _plain(summary["emails"]), ""))
    webhooks = summary.get("webhooks")
    if isinstance(webhooks, Mapping):
        failed = webhooks.get("failed", 0)
        cards.append(("Webhooks livrés", _plain(webhooks.get("delivered", 0)),
                      f"{_plain(failed)} en échec" if failed else "aucun échec"))
    elif webhooks is not None:
        cards.append(("Webhooks", _plain(webhooks), ""))
    kit_errors = summary.get("kit_errors")
    if isinstance(kit_errors, Mapping):
        cards.append(("Erreurs Kit", count(sum(v for v in kit_errors.values() if isinstance(v, int | float))),
                      plural(len(kit_errors), "code") if kit_errors else ""))
    html = "".join(f'<div class="card"><div class="name">{name}</div><div class="value">{value}</div>'
                   f'<div class="note">{escape(note)}</div></div>' for name, value, note in cards)
    return f'<section id="chiffres"><h2>Chiffres clés</h2><div class="cards">{html}</div></section>'


def _final_states(summary: Mapping[str, Any]) -> str:
    transactions = {k: v for k, v in (summary.get("transactions") or {}).items() if v}
    pre_transactions = {k: v for k, v in (summary.get("pre_transactions") or {}).items() if v}
    if not transactions and not pre_transactions:
        return ('<section id="etats"><h2>États finaux</h2><p class="empty">Aucune transaction dans cette '
                "exécution.</p></section>")
    chart = _inline(_final_states_figure(transactions, pre_transactions), "etats-finaux",
                    "Paiements et demandes de paiement par état final")
    tables = []
    if transactions:
        tables.append(_count_table("Paiements", transactions, STATE_ORDER, STATE_COLOURS, STATE_LABELS))
    endings = summary.get("transaction_endings") or {}
    if endings:
        tables.append(_count_table("Fins en détail", endings, tuple(ENDING_LABELS), {}, ENDING_LABELS))
    if pre_transactions:
        tables.append(_count_table("Demandes de paiement", pre_transactions, PRE_STATE_ORDER, PRE_STATE_COLOURS,
                                   PRE_STATE_LABELS))
    kit_errors = summary.get("kit_errors") or {}
    if kit_errors:
        tables.append(_count_table("Erreurs Kit", kit_errors, (), {}, {}, by_count=True))
    return (f'<section id="etats"><h2>États finaux</h2>{chart}<div class="tables">{"".join(tables)}</div>'
            f"</section>")


def _count_table(title: str, counts: Mapping[str, int], order: Sequence[str], colours: Mapping[str, str],
                 labels: Mapping[str, str], by_count: bool = False) -> str:
    keys = sorted(counts, key=lambda k: (-counts[k], k)) if by_count else _ordered(counts, order)
    total = sum(v for v in counts.values() if isinstance(v, int | float)) or 1
    rows = []
    for key in keys:
        swatch = f'<span class="swatch" style="background:{colours[key]}"></span>' if key in colours else ""
        label = f"{escape(labels[key])} <code>{escape(key)}</code>" if key in labels else f"<code>{escape(key)}</code>"
        value = counts[key]
        share = f"{decimal(100 * value / total)}\u00a0%" if isinstance(value, int | float) else ""
        rows.append(f'<tr><td>{swatch}{label}</td><td class="num">{_plain(value)}</td>'
                    f'<td class="num share">{share}</td></tr>')
    return f'<table class="counts"><caption>{escape(title)}</caption><tbody>{"".join(rows)}</tbody></table>'


def _over_time(timeline: Timeline) -> str:
    head = '<section id="au-fil-du-temps"><h2>Les transactions au fil du temps</h2>'
    if not timeline.changes or timeline.start is None:
        return f'{head}<p class="empty">Aucune transaction dans la chronologie.</p></section>'
    instants = sample_instants(timeline.duration)
    levels, peaks = _sweep(timeline, instants)
    notes = []
    for state in IN_FLIGHT:
        if any(peaks.get(state, ())):
            k = max(range(len(instants)), key=peaks[state].__getitem__)
            when = (timeline.start + timedelta(seconds=instants[k])).astimezone(PARIS)
            day = f"le {when:%d/%m} " if timeline.duration > 86400 else ""
            notes.append(f"{_state_label(state, STATE_LABELS)} : au plus {count(peaks[state][k])} à la fois, "
                         f"{day}vers {when:%H:%M}")
    note = ". ".join([*notes, f"Un point toutes les {duration(timeline.duration / BINS)}"]) + "."
    chart = _inline(_states_figure(timeline.start, instants, levels, peaks), "etats-dans-le-temps",
                    "Nombre de transactions dans chaque état au fil du temps simulé")
    return f'{head}{chart}<p class="note">{escape(note)}</p></section>'


def _waits(timeline: Timeline) -> str:
    head = '<section id="attentes-client"><h2>Temps de réponse</h2>'
    if not any(timeline.waits.values()) and not timeline.pre_waits:
        return f'{head}<p class="empty">Aucune transaction n\'a reçu de réponse.</p></section>'
    rows = []
    for state in ANSWERS:
        values = timeline.waits.get(state) or []
        if values:
            rows.append(_wait_row(f'<span class="swatch" style="background:{STATE_COLOURS[state]}"></span>'
                                  f"{_state_label(state, STATE_LABELS)} <code>{state}</code>", values))
    if timeline.pre_waits:
        rows.append(_wait_row(f'<span class="swatch" style="background:{PRE_WAIT_COLOUR}"></span>'
                              "Demande de paiement → payée <code>USED</code>", timeline.pre_waits))
    chart = ""
    if any(timeline.waits.values()):
        chart = _inline(_waits_figure(timeline.waits, timeline.pre_waits), "temps-de-reponse",
                        "Histogrammes des temps de réponse par issue")
    return (f"{head}{chart}<table><thead><tr><th>Issue</th><th class=\"num\">Nombre</th><th class=\"num\">Médiane"
            f'</th><th class="num">95<sup>e</sup> centile</th><th class="num">Maximum</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></section>")


def _wait_row(label: str, values: Sequence[float]) -> str:
    return (f'<tr><td>{label}</td><td class="num">{count(len(values))}</td>'
            f'<td class="num">{duration(percentile(values, 0.5))}</td>'
            f'<td class="num">{duration(percentile(values, 0.95))}</td>'
            f'<td class="num">{duration(max(values))}</td></tr>')


def _amounts(timeline: Timeline) -> str:
    head = '<section id="montants"><h2>Montants</h2>'
    if not (timeline.requested or timeline.pre_requested or timeline.authorized):
        return f'{head}<p class="empty">Aucun montant dans la chronologie.</p></section>'
    chart = _inline(_amounts_figure(timeline.requested, timeline.pre_requested, timeline.authorized), "montants",
                    "Histogramme des montants demandés et autorisés, en euros")
    rows = "".join(
        f'<tr><td>{what}</td><td class="num">{count(len(values))}</td>'
        f'<td class="num">{euros(sorted(values)[(len(values) - 1) // 2])}</td>'
        f'<td class="num">{euros(min(values))}</td><td class="num">{euros(max(values))}</td>'
        f'<td class="num">{euros(sum(values))}</td></tr>'
        for values, what in ((timeline.requested, "Demandés par les paiements <code>TransactionInitialized</code>"),
                             (timeline.pre_requested,
                              "Demandés par les demandes de paiement <code>PreTransactionCreated</code>"),
                             (timeline.authorized, "Autorisés <code>TransactionAuthorized</code>"))
        if values)
    partial = (f"{plural(timeline.partial, 'paiement', 'partiel')} (autorisé pour moins que demandé), "
               f"{euros(timeline.partial_unpaid)} restant à payer autrement"
               if timeline.partial else "Aucun paiement partiel")
    return (f'{head}{chart}<p class="note">{escape(partial)}.</p><table><thead><tr><th>Montants</th>'
            f'<th class="num">Nombre</th><th class="num">Médiane</th><th class="num">Minimum</th>'
            f'<th class="num">Maximum</th><th class="num">Total</th></tr></thead><tbody>{rows}</tbody></table>'
            f"</section>")


def _activity(timeline: Timeline) -> str:
    if not timeline.started or timeline.start is None:
        return ('<section id="activite"><h2>Activité heure par heure</h2><p class="empty">Aucune transaction '
                "commencée.</p></section>")
    hours = starts_per_hour(timeline)
    top_of_hour = timeline.start.replace(minute=0, second=0, microsecond=0)
    if len(hours) > MAX_HOURLY_BARS:
        title, unit = "Activité jour par jour", "Jour le plus chargé"  # Paris calendar days
        periods = [(f"{day:%d/%m}", counts) for day, counts in starts_per_day(timeline.start, hours)]
    else:
        title, unit = "Activité heure par heure", "Heure la plus chargée (heure de Paris)"
        pattern = "%d/%m %Hh" if len(hours) > 24 else "%Hh"
        periods = [((top_of_hour + timedelta(hours=i)).astimezone(PARIS).strftime(pattern), counts)
                   for i, counts in enumerate(hours)]
    busiest = max(periods, key=lambda period: sum(period[1].values()))
    note = f"{unit} : {busiest[0]}, {plural(sum(busiest[1].values()), 'paiement', 'commencé')}."
    chart = _inline(_activity_figure(periods), "activite",
                    "Paiements commencés par période, colorés par état final")
    return f'<section id="activite"><h2>{title}</h2>{chart}<p class="note">{escape(note)}</p></section>'


def _others(summary: Mapping[str, Any]) -> str:
    rows = [(name, value) for key in summary if key not in KNOWN_KEYS for name, value in _flatten(key, summary[key])]
    if not rows:
        return ""
    html = "".join(f'<div><code>{escape(name)}</code><span class="num">'
                   f'{euros(value) if name.endswith("_cents") and isinstance(value, int) else _plain(value)}</span></div>'
                   for name, value in rows)
    return f'<section id="autres"><h2>Autres chiffres</h2><div class="others">{html}</div></section>'


def _flatten(name: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        return [row for key, inner in value.items() for row in _flatten(f"{name}.{key}", inner)]
    return [(name, value)]


def _plain(value: Any) -> str:
    """A summary value as text: numbers the French way, anything else as it is (escaped)."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        return decimal(value, 2) if value != int(value) else count(value)
    if isinstance(value, str):
        return escape(value)
    if value is None or value == {} or value == []:
        return "—"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return escape(text if len(text) <= 200 else text[:199] + "…")


CSS = """
:root{--ink:#1f2933;--muted:#5f6b76;--line:#e3e7eb;--ok:#2e8540;--ko:#c62828}
*{box-sizing:border-box}
body{margin:0;background:#f3f5f7;color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
header{margin-bottom:8px}
.kicker{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.08em;font-size:12px;font-weight:600}
h1{margin:2px 0 6px;font-size:28px;line-height:1.2}
.lead{margin:0 0 12px;color:var(--muted);max-width:80ch}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:12px 0 16px}
.facts div{display:flex;flex-direction:column}
.facts dt{font-size:12px;color:var(--muted)}
.facts dd{margin:0;font-weight:600}
.banner{padding:14px 20px;border-radius:10px;color:#fff;font-size:20px;font-weight:700}
.banner.passed{background:var(--ok)}
.banner.failed{background:var(--ko)}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:18px 0}
h2{margin:0 0 12px;font-size:19px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fafbfc}
.card .name{font-size:13px;color:var(--muted)}
.card .value{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}
.card .note{font-size:12px;color:var(--muted);min-height:1em}
table{border-collapse:collapse;margin:6px 0}
th,td{padding:4px 12px 4px 0;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-size:13px;color:var(--muted);font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.share{color:var(--muted)}
caption{text-align:left;font-weight:700;padding-bottom:4px}
.tables{display:flex;flex-wrap:wrap;gap:8px 40px;align-items:flex-start}
tr.ok .mark{color:var(--ok);font-weight:700;font-size:18px}
tr.ko .mark{color:var(--ko);font-weight:700;font-size:18px}
tr.ko td{background:#fdecea}
code{font:13px ui-monospace,"DejaVu Sans Mono",monospace;color:#3b4752}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.45em;vertical-align:-.05em}
figure{margin:0 0 8px}
.plot{display:block;width:100%;height:auto}
.plot *{stroke-linejoin:round;stroke-linecap:butt}
.note{color:var(--muted);margin:6px 0 0}
.empty{color:var(--muted);font-style:italic}
.others{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:0 40px}
.others div{display:flex;justify-content:space-between;align-items:baseline;gap:16px;padding:4px 0;border-bottom:1px solid var(--line)}
"""
