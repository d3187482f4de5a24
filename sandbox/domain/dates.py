"""Dates on the wire: ISO 8601 UTC `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` out, any ISO 8601 offset in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
FORMATTED_DATES_KEPT = 1 << 12  # an answer shows the same few instants again and again (now, creation, expiry)


def format_date(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return _formatted(moment)


@lru_cache(maxsize=FORMATTED_DATES_KEPT)
def _formatted(moment: datetime) -> str:
    """The wire's text of an instant (equal instants, in whatever zone, are one key: the same text)."""
    in_utc = moment.astimezone(UTC)
    if in_utc.year < 1000:  # isoformat pads the year to 4 digits; strftime, as the wire always did, does not
        return in_utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{in_utc.microsecond // 1000:03d}Z"
    return in_utc.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" off


def utc(moment: datetime) -> datetime:
    """The same instant in UTC: what a store reads back, so values kept as they are need no conversion."""
    if moment.tzinfo is UTC and not moment.fold:
        return moment
    return moment.astimezone(UTC).replace(fold=0)


def parse_date(text: str) -> datetime:
    """An ISO 8601 date-time with a zone (`Z` or an offset); ValueError otherwise."""
    if not isinstance(text, str) or "T" not in text:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"date-time without a time zone: {text!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"date-time out of range: {text!r}") from None


def paris_day(moment: datetime) -> date:
    """The calendar day in France, which is what "the same day" means for ANCV."""
    return moment.astimezone(PARIS).date()


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
