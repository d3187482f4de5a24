"""French formatting, at the edge only: "40,00 €", "24/06/2020 11h33", typed amounts read back into cents.

Pages (the templates' globals), emails, the exports and the simulation report all format here, so a
figure reads the same wherever a person meets it. Money arrives and leaves as integer cents: no float
ever touches an amount. Times are shown in Paris time, whatever zone they come in.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .dates import PARIS

NBSP = "\u00a0"  # before "€" and the units: the amount and its unit never part
THIN = "\u202f"  # the thousands separator (a narrow no-break space): "1 234,56 €"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")

# --- amounts (integer cents) -----------------------------------------------------------------------------


def _sign_and_parts(cents: int) -> tuple[str, int, int]:
    whole, rest = divmod(abs(cents), 100)
    return "-" if cents < 0 else "", whole, rest


def euros(cents: int) -> str:
    """123456 → "1 234,56 €", as pages, emails and reports show an amount."""
    sign, whole, rest = _sign_and_parts(cents)
    grouped = f"{whole:,}".replace(",", THIN)
    return f"{sign}{grouped},{rest:02d}{NBSP}€"


def plain_euros(cents: int) -> str:
    """123456 → "1234,56": what a form field shows and `parse_euros` reads back, and a CSV cell."""
    sign, whole, rest = _sign_and_parts(cents)
    return f"{sign}{whole},{rest:02d}"


EUROS = re.compile(r"^\s*([0-9]{1,7})(?:[.,]([0-9]{1,2}))?\s*(?:€)?\s*$")  # [0-9]: \d takes "١٢" for 12


def parse_euros(text: str) -> int:
    """"20", "20,5", "20.50 €" → cents; ValueError otherwise (never a float)."""
    match = EUROS.match(text or "")
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


# --- dates and times ---------------------------------------------------------------------------------------


def french_date(moment: datetime) -> str:
    """24/06/2020 11h33, Paris time."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %Hh%M")


def french_day(moment: datetime) -> str:
    """24/06/2020: the day of a moment in Paris."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y")


def calendar_day(day: date) -> str:
    """24/06/2020: a calendar day (a transfer's, a journal's), which has no time zone."""
    return f"{day:%d/%m/%Y}"


def french_moment(moment: datetime, *, seconds: bool = False) -> str:
    """24/06/2020 à 11:59:35 (with seconds) or 24/06/2020 à 11h59, Paris time."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M:%S" if seconds else "%d/%m/%Y à %Hh%M")


def spreadsheet_moment(wall_time: datetime) -> str:
    """24/06/2020 11:33: a wall time (already in Paris, without a zone) as French Excel reads a date back."""
    return f"{wall_time:%d/%m/%Y %H:%M}"


def long_date(when: datetime) -> str:
    """samedi 4 juillet 2026 à 08:00 (heure de Paris)."""
    local = when.astimezone(PARIS)
    return (f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year} à "
            f"{local:%H:%M} (heure de Paris)")


# --- figures (counts, shares, durations) --------------------------------------------------------------------


def count(value: float) -> str:
    """1234 → "1 234"."""
    return f"{value:,.0f}".replace(",", THIN)


def plural(number: int, *words: str) -> str:
    """plural(2, "paiement", "validé") → "2 paiements validés"; 0 and 1 take the singular, as in French."""
    ending = "s" if number > 1 else ""
    return " ".join([count(number), *(word + ending for word in words)])


def decimal(value: float, places: int = 1) -> str:
    """1234.5 → "1 234,5"."""
    return f"{value:,.{places}f}".replace(",", THIN).replace(".", ",")


def duration(seconds: float) -> str:
    """43200 → "12 h 00 min"; 305 → "5 min 05 s"; 12.34 → "12 s"; 4.56 → "4,6 s"."""
    if seconds < 60:
        return f"{decimal(seconds, 1 if seconds < 10 else 0)}{NBSP}s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}{NBSP}j {hours:02d}{NBSP}h {minutes:02d}{NBSP}min"
    if hours:
        return f"{hours}{NBSP}h {minutes:02d}{NBSP}min"
    return f"{minutes}{NBSP}min {secs:02d}{NBSP}s"
