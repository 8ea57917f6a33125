"""Business-hours calendar: worked examples, DST, validation, dict round-trip and properties."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.domain.calendar import WEEKDAYS, BusinessCalendar, DayHours, WorkingHours

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
US = timedelta(microseconds=1)

OFFICE_DAY = (WorkingHours(time(9), time(12)), WorkingHours(time(13), time(18)))
NATIONAL_DAY = frozenset(date(2026, 10, d) for d in range(1, 8))


def office(
    holidays: frozenset[date] = frozenset(), extra_workdays: Mapping[date, DayHours] | None = None
) -> BusinessCalendar:
    """Asia/Shanghai, Mon–Fri 09:00–12:00 + 13:00–18:00 (lunch break)."""
    week = (OFFICE_DAY,) * 5 + ((),) * 2
    return BusinessCalendar("Asia/Shanghai", week, holidays, extra_workdays or {})


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


# ---- worked examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        pytest.param(sh(2026, 3, 6, 17), 240, sh(2026, 3, 9, 12), id="friday-17h-4h-1h-fri-3h-mon"),
        pytest.param(sh(2026, 3, 10, 22), 30, sh(2026, 3, 11, 9, 30), id="created-at-night"),
        pytest.param(sh(2026, 3, 11, 3), 0, sh(2026, 3, 11, 9), id="zero-at-night-is-next-opening"),
        pytest.param(sh(2026, 3, 11, 12, 30), 60, sh(2026, 3, 11, 14), id="created-during-lunch"),
        pytest.param(sh(2026, 3, 11, 11, 30), 60, sh(2026, 3, 11, 13, 30), id="spans-lunch"),
        pytest.param(sh(2026, 3, 11, 10), 120, sh(2026, 3, 11, 12), id="ends-on-interval-end"),
        pytest.param(sh(2026, 3, 11, 10), 0, sh(2026, 3, 11, 10), id="zero-while-open-is-start"),
        pytest.param(sh(2026, 3, 7, 10), 60, sh(2026, 3, 9, 10), id="created-saturday"),
        pytest.param(sh(2026, 3, 6, 17), 0.5, sh(2026, 3, 6, 17, 0, 30), id="fractional-minutes"),
    ],
)
def test_office_hours_examples(start: datetime, minutes: float, due: datetime) -> None:
    result = office().add_business_minutes(start, minutes)
    assert result == due
    assert result.tzinfo is UTC


def test_holiday_week_is_skipped() -> None:
    calendar = office(holidays=NATIONAL_DAY)
    # Wed 30 Sep 17:00, 8 h: 1 h that day, National Day 1–7 Oct closed, then 7 h on Thu 8 Oct.
    assert calendar.add_business_minutes(sh(2026, 9, 30, 17), 480) == sh(2026, 10, 8, 17)
    # Without the holidays the same order would be due a week earlier.
    assert office().add_business_minutes(sh(2026, 9, 30, 17), 480) == sh(2026, 10, 1, 17)


def test_extra_workdays_are_worked() -> None:
    calendar = office(
        holidays=NATIONAL_DAY,
        extra_workdays={date(2026, 9, 27): OFFICE_DAY, date(2026, 10, 10): OFFICE_DAY},
    )
    # Created Saturday 26 Sep: the make-up Sunday 27 Sep opens at 09:00.
    assert calendar.add_business_minutes(sh(2026, 9, 26, 10), 120) == sh(2026, 9, 27, 11)
    # Fri 9 Oct 17:30 + 1 h: 30 min on Friday, 30 min on the make-up Saturday 10 Oct.
    assert calendar.add_business_minutes(sh(2026, 10, 9, 17, 30), 60) == sh(2026, 10, 10, 9, 30)
    assert calendar.is_open(sh(2026, 9, 27, 10))
    assert not calendar.is_open(sh(2026, 10, 11, 10))  # an ordinary Sunday


def test_extra_workday_beats_holiday() -> None:
    calendar = office(
        holidays=frozenset({date(2026, 10, 8)}),
        extra_workdays={date(2026, 10, 8): (WorkingHours(time(14), time(16)),)},
    )
    assert calendar.hours_on(date(2026, 10, 8)) == (WorkingHours(time(14), time(16)),)
    assert calendar.add_business_minutes(sh(2026, 10, 8, 9), 30) == sh(2026, 10, 8, 14, 30)


def test_is_open_and_next_opening() -> None:
    calendar = office()
    assert calendar.is_open(sh(2026, 3, 9, 9))  # interval start is inside
    assert not calendar.is_open(sh(2026, 3, 9, 12))  # interval end is outside
    assert not calendar.is_open(sh(2026, 3, 8, 10))  # Sunday
    assert calendar.next_opening(sh(2026, 3, 9, 12)) == sh(2026, 3, 9, 13)
    assert calendar.next_opening(sh(2026, 3, 6, 18)) == sh(2026, 3, 9, 9)
    assert calendar.next_opening(sh(2026, 3, 9, 10, 5)) == sh(2026, 3, 9, 10, 5)


def test_fractional_minutes_round_to_the_nearest_microsecond() -> None:
    # 4.35 * 60e6 is 260999999.99999997 in floating point: truncating would lose a microsecond.
    start = datetime(2026, 3, 9, tzinfo=UTC)
    expected = start + timedelta(minutes=4, seconds=21)
    assert BusinessCalendar.around_the_clock().add_business_minutes(start, 4.35) == expected


def test_exhausting_an_interval_returns_its_end_not_the_next_opening() -> None:
    calendar = office()
    assert calendar.add_business_minutes(sh(2026, 3, 6, 17), 60) == sh(2026, 3, 6, 18)
    # ...while 0 minutes from that closed instant is the next opening, by definition.
    assert calendar.add_business_minutes(sh(2026, 3, 6, 18), 0) == sh(2026, 3, 9, 9)


def test_business_minutes_between_examples() -> None:
    calendar = office(holidays=NATIONAL_DAY)
    assert calendar.business_minutes_between(sh(2026, 3, 6, 17), sh(2026, 3, 9, 12)) == 240
    assert calendar.business_minutes_between(sh(2026, 3, 9, 0), sh(2026, 3, 16, 0)) == 5 * 8 * 60
    assert calendar.business_minutes_between(sh(2026, 9, 30, 0), sh(2026, 10, 8, 0)) == 8 * 60
    assert calendar.business_minutes_between(sh(2026, 3, 9, 12), sh(2026, 3, 9, 12, 59)) == 0
    assert calendar.business_minutes_between(sh(2026, 3, 9, 12), sh(2026, 3, 9, 10)) == 0


def test_around_the_clock_adds_real_minutes() -> None:
    calendar = BusinessCalendar.around_the_clock()
    start = datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
    assert calendar.add_business_minutes(start, 1441) == start + timedelta(minutes=1441)
    assert calendar.is_open(start)
    assert calendar.business_minutes_between(start, start + timedelta(days=3)) == 3 * 1440


def test_arguments_in_any_zone_results_in_utc() -> None:
    start_utc = datetime(2026, 3, 6, 9, tzinfo=UTC)  # 17:00 in Shanghai
    assert office().add_business_minutes(start_utc, 240) == datetime(2026, 3, 9, 4, tzinfo=UTC)


# ---- DST ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 7, 1), 24)],
)
def test_around_the_clock_in_berlin_counts_real_minutes_across_dst(day: date, hours: int) -> None:
    calendar = BusinessCalendar.around_the_clock("Europe/Berlin")
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert calendar.business_minutes_between(midnight, next_midnight) == hours * 60
    assert calendar.add_business_minutes(midnight, hours * 60) == next_midnight
    # 3 real hours after local midnight: 04:00 CEST in spring (02:00–03:00 does not exist), 02:00 CET
    # (second occurrence) in autumn.
    assert calendar.add_business_minutes(midnight, 180) == midnight.astimezone(UTC) + timedelta(hours=3)


def test_interval_starting_in_spring_gap_rounds_forward() -> None:
    sunday = (WorkingHours(time(2, 30), time(10)),)
    calendar = BusinessCalendar(timezone="Europe/Berlin", week=((),) * 6 + (sunday,))
    # 02:30 does not exist on 29 Mar 2026: the day opens at 03:00 CEST, 7 real hours until 10:00.
    assert calendar.next_opening(berlin(2026, 3, 29, 0)) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert calendar.business_minutes_between(berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)) == 7 * 60


def test_interval_inside_spring_gap_is_empty() -> None:
    sunday = (WorkingHours(time(2, 15), time(2, 45)), WorkingHours(time(11), time(12)))
    calendar = BusinessCalendar(timezone="Europe/Berlin", week=((),) * 6 + (sunday,))
    assert calendar.next_opening(berlin(2026, 3, 29, 0)) == berlin(2026, 3, 29, 11)
    assert calendar.next_opening(berlin(2026, 3, 22, 0)) == berlin(2026, 3, 22, 2, 15)


def test_ambiguous_bounds_take_first_occurrence() -> None:
    sunday = (WorkingHours(time(2, 30), time(4)),)
    calendar = BusinessCalendar(timezone="Europe/Berlin", week=((),) * 6 + (sunday,))
    # 02:30 CEST (00:30 UTC) .. 04:00 CET (03:00 UTC): 150 real minutes on the fall-back day.
    assert calendar.next_opening(berlin(2026, 10, 25, 0)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert calendar.business_minutes_between(berlin(2026, 10, 25, 0), berlin(2026, 10, 26, 0)) == 150


def test_midnight_end_falling_into_a_gap() -> None:
    # America/Santiago springs forward at 24:00 on Sat 5 Sep 2026: Saturday's 24:00 and Sunday's 00:00 are
    # the same instant (01:00 local on Sunday), so a 24×7 calendar stays contiguous.
    calendar = BusinessCalendar.around_the_clock("America/Santiago")
    start = datetime(2026, 9, 5, 12, tzinfo=UTC)
    assert calendar.add_business_minutes(start, 3000) == start + timedelta(minutes=3000)
    assert calendar.business_minutes_between(start, start + timedelta(days=2)) == 2 * 1440


# ---- validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"timezone": "localtime"}, "unknown timezone"),
        ({"week": ((),) * 6}, "expected 7 days"),
        ({"week": (OFFICE_DAY[::-1],) + ((),) * 6}, r"week\.mon\[1\]: starts 09:00 before"),
        (
            {"week": ((WorkingHours(time(9), time(12)), WorkingHours(time(11), time(14))),) + ((),) * 6},
            r"week\.mon\[1\]: starts 11:00 before the previous interval ends at 12:00",
        ),
        (
            {"week": ((WorkingHours(time(9), time(0)), WorkingHours(time(22), time(23))),) + ((),) * 6},
            r"week\.mon\[1\]: previous interval already runs until 24:00",
        ),
        ({"extra_workdays": {date(2026, 9, 27): ()}}, r"extra_workdays\.2026-09-27: no working hours"),
    ],
)
def test_invalid_calendars(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"timezone": "UTC", "week": ((),) * 7, **kwargs}
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "end"), [(time(9), time(9)), (time(9), time(8))])
def test_working_hours_must_not_be_empty(start: time, end: time) -> None:
    with pytest.raises(ValueError, match="is not after start 09:00"):
        WorkingHours(start, end)


def test_midnight_end_means_24h() -> None:
    assert WorkingHours(time(0), time(0)).ends_at_midnight
    assert WorkingHours(time(22), time(0)).ends_at_midnight


def test_naive_datetimes_are_rejected() -> None:
    calendar = office()
    naive = datetime(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_business_minutes(naive, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.business_minutes_between(naive, sh(2026, 3, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.is_open(naive)


@pytest.mark.parametrize("minutes", [-1, float("nan"), float("inf")])
def test_bad_minutes_are_rejected(minutes: float) -> None:
    with pytest.raises(ValueError, match="minutes must be"):
        office().add_business_minutes(sh(2026, 3, 9, 10), minutes)


def test_calendar_without_working_hours_fails_instead_of_looping() -> None:
    closed = BusinessCalendar(timezone="UTC", week=((),) * 7)
    with pytest.raises(ValueError, match="calendar has no working hours"):
        closed.add_business_minutes(datetime(2026, 1, 1, tzinfo=UTC), 1)
    assert (
        closed.business_minutes_between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
        == 0
    )
    # Only a make-up day: usable up to that day, then the calendar runs dry.
    lonely = BusinessCalendar(timezone="UTC", week=((),) * 7, extra_workdays={date(2026, 5, 1): OFFICE_DAY})
    assert lonely.add_business_minutes(datetime(2026, 1, 1, tzinfo=UTC), 60) == datetime(
        2026, 5, 1, 10, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="calendar has no working hours"):
        lonely.add_business_minutes(datetime(2026, 1, 1, tzinfo=UTC), 8 * 60 + 1)


# ---- dicts --------------------------------------------------------------------------------------------

SHANGHAI_DICT: dict[str, object] = {
    "timezone": "Asia/Shanghai",
    "week": {name: [["09:00", "12:00"], ["13:00", "18:00"]] for name in WEEKDAYS[:5]},
    "holidays": ["2026-10-01", "2026-10-02"],
    "extra_workdays": {"2026-09-27": [["09:00", "18:00"]]},
}


def test_from_dict_example() -> None:
    calendar = BusinessCalendar.from_dict(SHANGHAI_DICT)
    assert calendar == office(
        holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
        extra_workdays={date(2026, 9, 27): (WorkingHours(time(9), time(18)),)},
    )
    assert calendar.week[5] == calendar.week[6] == ()  # missing weekdays are closed
    assert calendar.to_dict()["week"]["sat"] == []


def test_24_00_is_end_of_day_in_dicts() -> None:
    data = {"timezone": "UTC", "week": {"mon": [["00:00", "24:00"]], "tue": [["22:00", "24:00"]]}}
    calendar = BusinessCalendar.from_dict(data)
    assert calendar.week[0] == (WorkingHours(time(0), time(0)),)
    assert calendar.to_dict()["week"]["tue"] == [["22:00", "24:00"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"week": {"mon": [["09:00", "08:00"]]}}, r"^week\.mon\[0\]: end 08:00 is not after start 09:00$"),
        ({"week": {"mon": [["09:00", "00:00"]]}}, r"^week\.mon\[0\]: end 00:00 .* write 24:00"),
        ({"week": {"mon": [["24:00", "24:00"]]}}, r"^week\.mon\[0\]: 24:00 is only allowed as an end"),
        ({"week": {"tue": [["9:00", "18:00"]]}}, r"^week\.tue\[0\]: expected a time like"),
        ({"week": {"tue": [["09:00", "25:00"]]}}, r"^week\.tue\[0\]: invalid time '25:00'"),
        ({"week": {"wed": [["09:00"]]}}, r"^week\.wed\[0\]: expected \[start, end\]"),
        ({"week": {"wed": "09:00-18:00"}}, r"^week\.wed: expected a list"),
        ({"week": {"monday": []}}, r"^week\.monday: unknown weekday"),
        (
            {"week": {"fri": [["13:00", "18:00"], ["09:00", "12:00"]]}},
            r"^week\.fri\[1\]: starts 09:00 before",
        ),
        ({"week": []}, r"^week: expected an object"),
        ({"timezone": "Asia/Beijing"}, r"^timezone: unknown timezone 'Asia/Beijing'$"),
        ({"timezone": 8}, r"^timezone: expected a string"),
        ({"holidays": ["2026-10-01", "2026-13-01"]}, r"^holidays\[1\]: invalid date '2026-13-01'"),
        ({"holidays": ["20261001"]}, r"^holidays\[0\]: expected a date like"),
        ({"holidays": "2026-10-01"}, r"^holidays: expected a list"),
        ({"extra_workdays": {"2026-09-27": []}}, r"^extra_workdays\.2026-09-27: no working hours"),
        ({"extra_workdays": {"27/09": []}}, r"^extra_workdays\.27/09: expected a date like"),
        (
            {"extra_workdays": {"2026-09-27": [["10:00", "09:00"]]}},
            r"^extra_workdays\.2026-09-27\[0\]: end 09:00 is not after start 10:00",
        ),
        ({"holiday": []}, r"^holiday: unknown key"),
    ],
)
def test_from_dict_errors_name_the_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_dict({**SHANGHAI_DICT, **change})


@pytest.mark.parametrize("missing", ["timezone", "week"])
def test_from_dict_required_keys(missing: str) -> None:
    data = {key: value for key, value in SHANGHAI_DICT.items() if key != missing}
    with pytest.raises(ValueError, match=f"^{missing}: required"):
        BusinessCalendar.from_dict(data)


# ---- strategies ---------------------------------------------------------------------------------------

# Zones with DST (incl. a 30-minute shift and a transition at midnight), odd offsets and none at all.
ZONES = [
    "UTC",
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
]


def quarter(index: int) -> time:
    """Quarter-hour ``index`` of the day (0..96); 96 is 24:00, spelled time(0, 0)."""
    return time(0) if index == 96 else time(index // 4, index % 4 * 15)


@st.composite
def day_hours(draw: st.DrawFn, min_size: int = 0) -> tuple[WorkingHours, ...]:
    """Sorted, non-overlapping quarter-hour intervals; bounds may be 24:00 or land in DST gaps."""
    points = sorted(draw(st.lists(st.integers(0, 96), unique=True, min_size=2 * min_size, max_size=6)))
    return tuple(
        WorkingHours(quarter(a), quarter(b)) for a, b in zip(points[::2], points[1::2], strict=False)
    )


some_dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=draw(st.sampled_from(ZONES)),
        week=tuple(draw(day_hours()) for _ in range(7)),
        holidays=draw(st.frozensets(some_dates, max_size=20)),
        extra_workdays=draw(st.dictionaries(some_dates, day_hours(min_size=1), max_size=5)),
    )


@st.composite
def working_calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Calendars whose weekly pattern has working time, so adding always terminates with a result."""
    calendar = draw(calendars())
    assume(any(calendar.week))
    return calendar


instants = st.datetimes(
    min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC)
)
minutes = st.floats(min_value=0, max_value=50_000, allow_nan=False) | st.integers(0, 50_000)

properties = settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


# ---- properties ---------------------------------------------------------------------------------------


@properties
@given(calendar=working_calendars(), start=instants, amount=minutes)
def test_result_is_not_before_start_and_lies_in_working_time(
    calendar: BusinessCalendar, start: datetime, amount: float
) -> None:
    result = calendar.add_business_minutes(start, amount)
    assert result >= start
    assert result.tzinfo is UTC
    # Inside an interval, or exactly on its (exclusive) end.
    assert calendar.is_open(result) or calendar.is_open(result - US)


@properties
@given(calendar=working_calendars(), start=instants, a=minutes, b=minutes)
def test_monotone_in_minutes(calendar: BusinessCalendar, start: datetime, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert calendar.add_business_minutes(start, low) <= calendar.add_business_minutes(start, high)


@properties
@given(calendar=working_calendars(), start=instants, amount=minutes)
def test_between_inverts_add(calendar: BusinessCalendar, start: datetime, amount: float) -> None:
    result = calendar.add_business_minutes(start, amount)
    assert calendar.business_minutes_between(start, result) == pytest.approx(amount, abs=1e-6)
    if amount >= 1e-3:  # and not a microsecond earlier: the result is the first such instant
        assert calendar.business_minutes_between(start, result - US) < amount


@properties
@given(calendar=working_calendars(), start=instants, a=minutes, b=minutes)
def test_additive(calendar: BusinessCalendar, start: datetime, a: float, b: float) -> None:
    stepwise = calendar.add_business_minutes(calendar.add_business_minutes(start, a), b)
    at_once = calendar.add_business_minutes(start, a + b)
    # Measured in business time: with b rounding to 0 µs, ``stepwise`` may be the next opening after an
    # interval end that ``at_once`` returns; no working time lies between them.
    first, last = sorted((stepwise, at_once))
    assert calendar.business_minutes_between(first, last) <= 1e-6


@properties
@given(calendar=working_calendars(), start=instants, a=st.integers(0, 50_000), b=st.integers(1, 50_000))
def test_additive_exactly_for_whole_minutes(
    calendar: BusinessCalendar, start: datetime, a: int, b: int
) -> None:
    stepwise = calendar.add_business_minutes(calendar.add_business_minutes(start, a), b)
    assert stepwise == calendar.add_business_minutes(start, a + b)


@properties
@given(calendar=calendars(), start=instants, span=st.integers(0, 20_000), cut=st.integers(0, 20_000))
def test_between_is_additive_over_splits(
    calendar: BusinessCalendar, start: datetime, span: int, cut: int
) -> None:
    end = start + timedelta(minutes=span)
    middle = start + timedelta(minutes=min(cut, span))
    whole = calendar.business_minutes_between(start, end)
    parts = calendar.business_minutes_between(start, middle) + calendar.business_minutes_between(middle, end)
    assert whole == pytest.approx(parts, abs=1e-9)
    assert 0 <= whole <= span


@properties
@given(calendar=calendars(), at=instants)
def test_is_open_agrees_with_between(calendar: BusinessCalendar, at: datetime) -> None:
    # Quarter-hour intervals: open at ``at`` iff the next microsecond is working time.
    assert calendar.is_open(at) == (calendar.business_minutes_between(at, at + US) > 0)


@properties
@given(zone=st.sampled_from(ZONES), start=instants, amount=st.integers(0, 200_000))
def test_around_the_clock_is_real_time(zone: str, start: datetime, amount: int) -> None:
    calendar = BusinessCalendar.around_the_clock(zone)
    assert calendar.add_business_minutes(start, amount) == start + timedelta(minutes=amount)


@properties
@given(calendar=calendars())
def test_dict_round_trip(calendar: BusinessCalendar) -> None:
    data = json.loads(json.dumps(calendar.to_dict()))
    again = BusinessCalendar.from_dict(data)
    assert again == calendar
    assert hash(again) == hash(calendar)
    assert again.to_dict() == data
