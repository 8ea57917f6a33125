"""Where the board draws an engineer's shift and break (pure functions, no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from console.shifts import Window, place_break, shift_on

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=SH)


def test_the_shift_of_the_day_or_none() -> None:
    shifts = [{"weekday": 0, "start": "08:30", "end": "17:30", "break_minutes": 60}]
    assert shift_on(shifts, MONDAY, SH) == (Window(at(8, 30), at(17, 30)), 60)
    assert shift_on(shifts, MONDAY + timedelta(days=1), SH) is None
    night = shift_on([{"weekday": 0, "start": "22:00", "end": "06:00"}], MONDAY, SH)
    assert night == (Window(at(22), at(22) + timedelta(hours=8)), 0)


def test_the_break_goes_in_the_first_gap_that_fits() -> None:
    shift = Window(at(8), at(17))  # break allowed 11:00–15:00
    assert place_break(shift, 60, []) == Window(at(11), at(12))
    busy = [Window(at(10, 30), at(12)), Window(at(12, 30), at(14))]
    # 12:00–12:30 is too short; after 14:00 an hour still ends by 15:00.
    assert place_break(shift, 60, busy) == Window(at(14), at(15))
    assert place_break(shift, 0, busy) is None


def test_a_full_day_shows_the_break_where_it_should_have_been() -> None:
    shift = Window(at(8), at(17))
    full = [Window(at(8), at(17))]
    assert place_break(shift, 45, full) == Window(at(11), at(11, 45))
