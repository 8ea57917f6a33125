"""Business-hours calendar of one territory: when the SLA clocks run.

A calendar is a weekly pattern of local working hours, plus holidays (closed even on a weekday) and extra
workdays (make-up days, 调休, that are worked even on a weekend or holiday, with their own hours).

Conventions, chosen once here so every caller agrees:

- Working intervals are half-open, ``[start, end)``: a calendar open 09:00–18:00 is open at 09:00 and
  closed at 18:00.
- ``WorkingHours.end == time(0, 0)`` means 24:00, the midnight that ends the day (``"24:00"`` in dicts).
- Interval bounds are local wall-clock times, converted to UTC one by one with ``zoneinfo``. A local time
  that does not exist (skipped by a DST jump) rounds forward to the first instant after the jump; an
  ambiguous one (repeated when clocks go back) means its first occurrence. So an interval 01:00–04:00 on a
  fall-back day is four real hours long, and one wholly inside a spring-forward gap is empty.
- Results are aware datetimes in UTC; arguments may be in any zone but must be aware.
- Durations are counted in whole microseconds (the resolution of ``datetime``), so adding is exact and
  additive; minutes arrive as floats and are rounded to the nearest microsecond once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)
_ONE_US = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
# How far to look for the next working minute before deciding the calendar has none: long enough for any
# sane holiday season, short enough that a misconfigured calendar fails fast (~1,100 days of scanning).
_SEARCH_DAYS = 3 * 366
_TIME_RE = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """One local working interval ``[start, end)`` within a day; ``end == time(0, 0)`` means 24:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local wall-clock times; drop the tzinfo")
        if not self.ends_at_midnight and self.end <= self.start:
            raise ValueError(f"end {_format_time(self.end)} is not after start {_format_time(self.start)}")

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == _MIDNIGHT


DayHours = tuple[WorkingHours, ...]


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working time of one territory. Build it directly, with ``from_dict`` or ``around_the_clock``."""

    timezone: str
    week: tuple[DayHours, ...]
    holidays: frozenset[date] = frozenset()
    extra_workdays: Mapping[date, DayHours] = field(default_factory=lambda: MappingProxyType({}))
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise containers so a calendar built from lists or a dict cannot be mutated afterwards.
        object.__setattr__(self, "_zone", _load_zone(self.timezone))
        object.__setattr__(self, "week", tuple(tuple(day) for day in self.week))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        extra = {day: tuple(hours) for day, hours in self.extra_workdays.items()}
        object.__setattr__(self, "extra_workdays", MappingProxyType(extra))
        if len(self.week) != 7:
            raise ValueError(f"week: expected 7 days (Monday..Sunday), got {len(self.week)}")
        for name, hours in zip(WEEKDAYS, self.week, strict=True):
            _check_day(hours, f"week.{name}")
        for day in self.holidays:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"holidays: {day!r} is not a date")
        for day, hours in extra.items():
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"extra_workdays: {day!r} is not a date")
            _check_day(hours, f"extra_workdays.{day.isoformat()}")
            if not hours:
                # An empty make-up day would silently act as a holiday; make the intent explicit.
                raise ValueError(f"extra_workdays.{day.isoformat()}: no working hours (use holidays)")

    def __hash__(self) -> int:
        # Written by hand because the generated hash would fail on the mapping field.
        extra = frozenset(self.extra_workdays.items())
        return hash((self.timezone, self.week, self.holidays, extra))

    # ---- construction -------------------------------------------------------------------------------

    @classmethod
    def around_the_clock(cls, timezone: str = "UTC") -> BusinessCalendar:
        """24×7, no holidays: business time equals real time."""
        full_day = (WorkingHours(_MIDNIGHT, _MIDNIGHT),)
        return cls(timezone=timezone, week=(full_day,) * 7)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Parse the JSON shape written by ``to_dict``; errors name the offending key.

        ``{"timezone": "Asia/Shanghai", "week": {"mon": [["09:00", "18:00"]], ...},
        "holidays": ["2026-10-01"], "extra_workdays": {"2026-09-27": [["09:00", "18:00"]]}}``.
        ``timezone`` and ``week`` are required; a weekday missing from ``week`` is closed.
        """
        if not isinstance(data, Mapping):
            raise ValueError("calendar: expected an object")
        unknown = sorted(set(data) - {"timezone", "week", "holidays", "extra_workdays"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key")
        if "timezone" not in data:
            raise ValueError("timezone: required")
        if not isinstance(data["timezone"], str):
            raise ValueError("timezone: expected a string")
        _load_zone(data["timezone"], where="timezone")
        if "week" not in data:
            raise ValueError("week: required")
        return cls(
            timezone=data["timezone"],
            week=_parse_week(data["week"]),
            holidays=_parse_holidays(data.get("holidays", [])),
            extra_workdays=_parse_extra_workdays(data.get("extra_workdays", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        """The plain JSON-able shape ``from_dict`` reads (all seven weekdays, sorted dates)."""
        return {
            "timezone": self.timezone,
            "week": {name: _dump_day(hours) for name, hours in zip(WEEKDAYS, self.week, strict=True)},
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
            "extra_workdays": {
                day.isoformat(): _dump_day(self.extra_workdays[day]) for day in sorted(self.extra_workdays)
            },
        }

    # ---- queries ------------------------------------------------------------------------------------

    def hours_on(self, day: date) -> DayHours:
        """Local working hours of a local date: an extra workday beats a holiday beats the weekday."""
        if day in self.extra_workdays:
            return self.extra_workdays[day]
        if day in self.holidays:
            return ()
        return self.week[day.weekday()]

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` lies inside working time (interval ends are closed)."""
        at = _as_utc(at, "at")
        today = self._local_date(at)
        for day, intervals in self._days_from(at):
            if any(start <= at < end for start, end in intervals):
                return True
            if day >= today:  # later days' intervals all start after ``at``
                return False
        raise AssertionError("unreachable: the day generator is endless")  # pragma: no cover

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself (in UTC) if open, else the start of the next working interval."""
        return self.add_business_minutes(at, 0)

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The UTC instant at which ``minutes`` of working time have elapsed counting from ``start``.

        Counting begins at ``start`` if open, else at the next opening; so ``minutes == 0`` gives
        ``next_opening(start)``. A result that uses up an interval exactly is that interval's end
        (Friday 18:00, not Monday 09:00). Raises ``ValueError`` for a naive ``start``, negative or
        non-finite ``minutes``, or a calendar without working time in the next three years.
        """
        start = _as_utc(start, "start")
        remaining = _minutes_to_us(minutes)
        days_without_hours = 0
        for _day, intervals in self._days_from(start):
            days_without_hours = 0 if intervals else days_without_hours + 1
            if days_without_hours > _SEARCH_DAYS:
                raise ValueError("calendar has no working hours")
            for opens, closes in intervals:
                if closes <= start:
                    continue
                begin = max(opens, start)
                length = (closes - begin) // _ONE_US
                if remaining <= length:
                    return begin + timedelta(microseconds=remaining)
                remaining -= length
        raise AssertionError("unreachable: the day generator is endless")  # pragma: no cover

    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes in ``[start, end)``; 0 when ``end <= start``."""
        start, end = _as_utc(start, "start"), _as_utc(end, "end")
        if end <= start:
            return 0.0
        total = 0
        last_day = self._local_date(end)
        for day, intervals in self._days_from(start):
            for begin, finish in intervals:
                overlap_start, overlap_end = max(begin, start), min(finish, end)
                if overlap_end > overlap_start:
                    total += (overlap_end - overlap_start) // _ONE_US
            if day >= last_day:
                break
        return total / _US_PER_MINUTE

    # ---- internals ----------------------------------------------------------------------------------

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()

    def _days_from(self, at: datetime) -> Iterator[tuple[date, list[Interval]]]:
        """Local dates from the day before ``at`` onwards, each with its UTC intervals, in time order.

        Starting a day early costs one day of work and spares us proving that no zone's clock changes
        (some happen at midnight) can leave yesterday's interval running at ``at``.
        """
        day = self._local_date(at) - _ONE_DAY
        while True:
            yield day, self._utc_intervals(day)
            day += _ONE_DAY

    def _utc_intervals(self, day: date) -> list[Interval]:
        intervals: list[Interval] = []
        for hours in self.hours_on(day):
            begin = _wall_to_utc(datetime.combine(day, hours.start), self._zone)
            end_day = day + _ONE_DAY if hours.ends_at_midnight else day
            end = _wall_to_utc(datetime.combine(end_day, hours.end), self._zone)
            if end > begin:  # an interval inside a DST gap has no real time in it
                intervals.append((begin, end))
        return intervals


# ---- helpers ----------------------------------------------------------------------------------------


def _load_zone(name: str, where: str = "timezone") -> ZoneInfo:
    # "localtime" resolves to the host's /etc/localtime: valid for zoneinfo, meaningless for a territory.
    if name == "localtime":
        raise ValueError(f"{where}: unknown timezone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ValueError(f"{where}: unknown timezone {name!r}") from None


def _as_utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at.astimezone(UTC)


def _minutes_to_us(minutes: float) -> int:
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}")
    return round(minutes * _US_PER_MINUTE)


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive local wall time to UTC: first occurrence if ambiguous, rounded forward if skipped."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists; fold=0 is the first of two occurrences when the time is ambiguous
    # ``wall`` falls into a gap. fold=0 applied the offset from before the jump (an instant after the
    # transition), fold=1 the one from after (an instant before it): the transition lies in between.
    # zoneinfo does not expose transitions, so bisect; this path runs only on DST days.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    after_offset = high.astimezone(zone).utcoffset()
    while high - low > _ONE_US:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high


def _format_time(value: time, *, is_end: bool = False) -> str:
    if is_end and value == _MIDNIGHT:
        return "24:00"
    if value.second == 0 and value.microsecond == 0:
        return value.strftime("%H:%M")
    return value.isoformat()


def _dump_day(hours: DayHours) -> list[list[str]]:
    return [[_format_time(h.start), _format_time(h.end, is_end=True)] for h in hours]


def _check_day(hours: DayHours, where: str) -> None:
    """Intervals of one day must be WorkingHours, sorted and non-overlapping (touching is fine)."""
    previous: WorkingHours | None = None
    for index, current in enumerate(hours):
        if not isinstance(current, WorkingHours):
            raise ValueError(f"{where}[{index}]: expected WorkingHours, got {type(current).__name__}")
        if previous is not None:
            if previous.ends_at_midnight:
                raise ValueError(f"{where}[{index}]: previous interval already runs until 24:00")
            if current.start < previous.end:
                raise ValueError(
                    f"{where}[{index}]: starts {_format_time(current.start)} before the previous "
                    f"interval ends at {_format_time(previous.end)} (overlapping or unsorted)"
                )
        previous = current


def _parse_time(text: object, where: str, *, is_end: bool) -> time:
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise ValueError(f"{where}: expected a time like '09:00', got {text!r}")
    if text in ("24:00", "24:00:00"):
        if is_end:
            return _MIDNIGHT
        raise ValueError(f"{where}: 24:00 is only allowed as an end")
    try:
        value = time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: invalid time {text!r}") from None
    if is_end and value == _MIDNIGHT:
        # "00:00" as an end is almost always a typo for the opening; the unambiguous spelling is 24:00.
        raise ValueError(f"{where}: end 00:00 is not after the start; write 24:00 for midnight")
    return value


def _parse_day(raw: object, where: str) -> DayHours:
    if not isinstance(raw, list | tuple):
        raise ValueError(f"{where}: expected a list of [start, end] pairs")
    hours: list[WorkingHours] = []
    for index, pair in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"{here}: expected [start, end], got {pair!r}")
        start = _parse_time(pair[0], here, is_end=False)
        end = _parse_time(pair[1], here, is_end=True)
        try:
            hours.append(WorkingHours(start, end))
        except ValueError as error:
            raise ValueError(f"{here}: {error}") from None
    _check_day(tuple(hours), where)
    return tuple(hours)


def _parse_week(raw: object) -> tuple[DayHours, ...]:
    if not isinstance(raw, Mapping):
        raise ValueError("week: expected an object keyed by mon..sun")
    for key in raw:
        if key not in WEEKDAYS:
            raise ValueError(f"week.{key}: unknown weekday (expected one of {', '.join(WEEKDAYS)})")
    return tuple(_parse_day(raw.get(name, []), f"week.{name}") for name in WEEKDAYS)


def _parse_date(text: object, where: str) -> date:
    if not isinstance(text, str) or not _DATE_RE.fullmatch(text):
        raise ValueError(f"{where}: expected a date like '2026-10-01', got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: invalid date {text!r}") from None


def _parse_holidays(raw: object) -> frozenset[date]:
    if not isinstance(raw, list | tuple):
        raise ValueError("holidays: expected a list of dates")
    return frozenset(_parse_date(text, f"holidays[{index}]") for index, text in enumerate(raw))


def _parse_extra_workdays(raw: object) -> dict[date, DayHours]:
    if not isinstance(raw, Mapping):
        raise ValueError("extra_workdays: expected an object keyed by date")
    extra: dict[date, DayHours] = {}
    for key, hours in raw.items():
        where = f"extra_workdays.{key}"
        extra[_parse_date(key, where)] = _parse_day(hours, where)
    return extra
