"""The wire's dates: every instant as UTC with milliseconds and a "Z" (Kit §6.1), whatever its zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from sandbox.domain.dates import PARIS, format_date, parse_date

ZONES = st.sampled_from([UTC, PARIS, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])


@given(st.datetimes(min_value=datetime(1001, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES))
def test_an_instant_is_written_as_isoformat_would_in_utc_to_the_millisecond(moment: datetime) -> None:
    in_utc = moment.astimezone(UTC)
    expected = in_utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert format_date(moment) == expected
    assert parse_date(expected) == in_utc.replace(microsecond=in_utc.microsecond // 1000 * 1000)


def test_examples() -> None:
    assert format_date(datetime(2026, 6, 1, 10, 0, 5, 999_999, tzinfo=PARIS)) == "2026-06-01T08:00:05.999Z"
    assert format_date(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)) == "2026-10-25T01:30:00.000Z"
    assert format_date(datetime(999, 1, 2, 3, 4, 5, 6_000, tzinfo=UTC)) == "999-01-02T03:04:05.006Z"
    assert format_date(None) is None
