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
    m = moment.astimezone(UTC)
    if m.year < 1000:  # a 4-digit year would be padded; strftime, as the wire always did, does not
        return m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z"
    # isoformat(timespec="milliseconds") without its "+00:00", in 60 % of its time (an f-string takes 120 %):
    # each of a night's journal lines formats dates no cache holds (creation, validation, refund, ...)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond // 1000)


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
