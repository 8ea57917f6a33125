"""An engineer's working hours on one day, from the weekly shift pattern, and where the break goes.

The board draws the shift as a band and the break as a block. The break is placed the way the planner
allows it (dispatch/planning/day.py: from 3 h after the start to 2 h before the end): in the first gap
between the day's visits that is long enough, else at the earliest allowed time. It is a display of
where the break fits, not a booking: the engineer takes it when the work allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BREAK_AFTER_START = timedelta(hours=3)
BREAK_BEFORE_END = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def _clock(text: str) -> time:
    hours, minutes = text.split(":")[:2]
    return time(int(hours), int(minutes))


def shift_on(shifts: Iterable[Mapping[str, Any]], day: date, zone: ZoneInfo) -> tuple[Window, int] | None:
    """The shift window on `day` (aware datetimes) and its break minutes, or None on a day off."""
    for shift in shifts:
        if int(shift.get("weekday", -1)) != day.weekday():
            continue
        start = datetime.combine(day, _clock(str(shift["start"])), zone)
        end = datetime.combine(day, _clock(str(shift["end"])), zone)
        if end <= start:  # a night shift ends the next morning
            end += timedelta(days=1)
        return Window(start, end), int(shift.get("break_minutes", 0))
    return None


def place_break(shift: Window, minutes: int, busy: Sequence[Window]) -> Window | None:
    """The first place in the allowed window, between `busy` periods (sorted), where the break fits."""
    if minutes <= 0:
        return None
    length = timedelta(minutes=minutes)
    earliest, latest_end = shift.start + BREAK_AFTER_START, shift.end - BREAK_BEFORE_END
    if latest_end - earliest < length:
        earliest, latest_end = shift.start, shift.end
    cursor = earliest
    for period in sorted(busy, key=lambda w: w.start):
        if period.end <= cursor:
            continue
        if period.start - cursor >= length and cursor + length <= latest_end:
            return Window(cursor, cursor + length)
        cursor = max(cursor, period.end)
    if cursor + length <= latest_end:
        return Window(cursor, cursor + length)
    # The day is full: show where it should have been, so the dispatcher sees the clash.
    return Window(earliest, earliest + length)
