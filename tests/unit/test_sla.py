"""SLA targets in business time, the ok → at_risk → breached state, and pauses while on hold."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.calendar import BusinessCalendar, WorkingHours
from core.domain.sla import SlaState, SlaTargets, compute_targets, extend_targets, sla_state

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar(
    timezone="Asia/Shanghai",
    week=((WorkingHours(time(9), time(12)), WorkingHours(time(13), time(18))),) * 5 + ((),) * 2,
)
ALWAYS = BusinessCalendar.around_the_clock()
RANK = {SlaState.OK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2}


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ---- compute_targets ----------------------------------------------------------------------------------


def test_targets_respect_business_hours() -> None:
    # Friday 17:00, 4 h response, 16 h resolution (two working days), Mon–Fri 09–12 + 13–18.
    targets = compute_targets(sh(2026, 3, 6, 17), 240, 960, OFFICE)
    assert targets == SlaTargets(
        respond_by=sh(2026, 3, 9, 12),  # 1 h Friday + 3 h Monday
        resolve_by=sh(2026, 3, 10, 17),  # 1 h Fri + 8 h Mon + 7 h Tue
        respond_risk_at=sh(2026, 3, 9, 11),  # 75 % = 3 h: 1 h Fri + 2 h Mon
        resolve_risk_at=sh(2026, 3, 10, 12),  # 12 h: ends on Tuesday's morning interval, not after lunch
    )
    assert all(instant.tzinfo is UTC for instant in (targets.respond_by, targets.resolve_risk_at))


def test_targets_on_around_the_clock_calendar() -> None:
    created = utc(2026, 3, 6, 17)
    targets = compute_targets(created, 60, 240, ALWAYS, at_risk_fraction=0.5)
    assert targets == SlaTargets(
        respond_by=created + timedelta(minutes=60),
        resolve_by=created + timedelta(minutes=240),
        respond_risk_at=created + timedelta(minutes=30),
        resolve_risk_at=created + timedelta(minutes=120),
    )


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_at_risk_fraction_must_be_strictly_between_0_and_1(fraction: float) -> None:
    with pytest.raises(ValueError, match="at_risk_fraction"):
        compute_targets(utc(2026, 3, 6), 60, 240, ALWAYS, at_risk_fraction=fraction)


# ---- sla_state ----------------------------------------------------------------------------------------

# Created 2026-03-09 08:00 UTC on a 24×7 calendar: respond within 60 min, resolve within 240 min.
CREATED = utc(2026, 3, 9, 8)
T = compute_targets(CREATED, 60, 240, ALWAYS)  # respond 09:00 (risk 08:45), resolve 12:00 (risk 11:00)


def at(hour: int, minute: int = 0) -> datetime:
    return utc(2026, 3, 9, hour, minute)


@pytest.mark.parametrize(
    ("now", "responded", "resolved", "expected"),
    [
        pytest.param(at(8, 10), None, None, SlaState.OK, id="fresh"),
        pytest.param(at(8, 45), None, None, SlaState.AT_RISK, id="response-risk-instant-is-at-risk"),
        pytest.param(at(9), None, None, SlaState.AT_RISK, id="exactly-due-is-not-yet-breached"),
        pytest.param(at(9, 1), None, None, SlaState.BREACHED, id="response-overdue"),
        pytest.param(at(9, 30), at(8, 30), None, SlaState.OK, id="responded-in-time"),
        pytest.param(at(9, 30), at(9), None, SlaState.OK, id="responded-exactly-at-due"),
        pytest.param(at(11), at(8, 30), None, SlaState.AT_RISK, id="resolution-risk"),
        pytest.param(at(12, 1), at(8, 30), None, SlaState.BREACHED, id="resolution-overdue"),
        pytest.param(at(13), at(9, 30), at(10), SlaState.BREACHED, id="responded-late-stays-breached"),
        pytest.param(at(13), at(8, 30), at(12, 30), SlaState.BREACHED, id="resolved-late"),
        pytest.param(at(20), at(8, 30), at(11, 30), SlaState.OK, id="all-met-stays-ok-forever"),
        pytest.param(at(20), None, at(8, 50), SlaState.OK, id="resolving-counts-as-responding"),
        pytest.param(at(8, 50), at(8, 40), None, SlaState.OK, id="met-response-is-not-at-risk"),
    ],
)
def test_sla_state_table(
    now: datetime, responded: datetime | None, resolved: datetime | None, expected: SlaState
) -> None:
    assert sla_state(now, T, responded, resolved) is expected


def test_state_values_are_the_stored_strings() -> None:
    assert [state.value for state in SlaState] == ["ok", "at_risk", "breached"]


times = st.datetimes(min_value=datetime(2026, 3, 1), max_value=datetime(2026, 4, 30), timezones=st.just(UTC))
optional_times = st.none() | times
budgets = st.integers(0, 5_000)
fractions = st.floats(min_value=0.01, max_value=0.99)


@settings(deadline=None)
@given(
    calendar=st.sampled_from([OFFICE, ALWAYS]),
    created=times,
    response=budgets,
    resolution=budgets,
    fraction=fractions,
    responded=optional_times,
    resolved=optional_times,
    nows=st.lists(times, min_size=2, max_size=6),
)
def test_state_never_moves_backwards(
    calendar: BusinessCalendar,
    created: datetime,
    response: int,
    resolution: int,
    fraction: float,
    responded: datetime | None,
    resolved: datetime | None,
    nows: list[datetime],
) -> None:
    targets = compute_targets(created, response, resolution, calendar, at_risk_fraction=fraction)
    ranks = [RANK[sla_state(now, targets, responded, resolved)] for now in sorted(nows)]
    assert ranks == sorted(ranks)


@settings(deadline=None)
@given(created=times, response=budgets, resolution=budgets, fraction=fractions)
def test_risk_instants_come_before_due(
    created: datetime, response: int, resolution: int, fraction: float
) -> None:
    targets = compute_targets(created, response, resolution, OFFICE, at_risk_fraction=fraction)
    assert created <= targets.respond_risk_at <= targets.respond_by
    assert created <= targets.resolve_risk_at <= targets.resolve_by
    # With both clocks open the order turns at risk exactly at the first risk instant, not a µs earlier.
    first_risk = min(targets.respond_risk_at, targets.resolve_risk_at)
    assert sla_state(first_risk - timedelta(microseconds=1), targets, None, None) is SlaState.OK
    assert sla_state(first_risk, targets, None, None) is SlaState.AT_RISK


# ---- extend_targets -----------------------------------------------------------------------------------


def test_pause_shifts_open_clocks_in_business_time() -> None:
    targets = compute_targets(sh(2026, 3, 6, 17), 240, 960, OFFICE)
    # On hold Mon 10:00 → Tue 10:00: 2 h + 5 h Monday, 1 h Tuesday = 8 business hours. Responded Mon 09:30.
    extended = extend_targets(
        targets, sh(2026, 3, 9, 10), sh(2026, 3, 10, 10), OFFICE, responded_at=sh(2026, 3, 9, 9, 30)
    )
    assert extended == SlaTargets(
        respond_by=targets.respond_by,  # met before the pause: untouched
        respond_risk_at=targets.respond_risk_at,
        resolve_by=sh(2026, 3, 11, 17),  # Tue 17:00 + 8 h: 1 h Tue + 7 h Wed
        resolve_risk_at=sh(2026, 3, 11, 12),  # Tue 12:00 + 8 h: 5 h Tue afternoon + 3 h Wed morning
    )


def test_pause_outside_business_hours_changes_nothing() -> None:
    targets = compute_targets(sh(2026, 3, 6, 17), 240, 960, OFFICE)
    assert extend_targets(targets, sh(2026, 3, 6, 18), sh(2026, 3, 9, 9), OFFICE) == targets
    assert extend_targets(targets, sh(2026, 3, 9, 10), sh(2026, 3, 9, 10), OFFICE) == targets


def test_pause_keeps_instants_already_passed() -> None:
    # 24×7: respond 09:00 (risk 08:45), resolve 12:00 (risk 11:00). Paused 10:00–11:30, not responded.
    extended = extend_targets(T, at(10), at(11, 30), ALWAYS)
    assert extended.respond_by == T.respond_by  # already breached before the pause: stays breached
    assert extended.respond_risk_at == T.respond_risk_at
    assert extended.resolve_risk_at == at(12, 30)  # lay inside the pause: moves by the whole pause
    assert extended.resolve_by == at(13, 30)


def test_response_during_pause_still_extends_response_clock() -> None:
    # The response clock was running when the pause began, so its deadline moves.
    targets = compute_targets(CREATED, 120, 240, ALWAYS)  # respond 10:00
    extended = extend_targets(targets, at(9), at(9, 30), ALWAYS, responded_at=at(9, 15))
    assert extended.respond_by == at(10, 30)


def test_resolution_before_pause_freezes_both_clocks() -> None:
    extended = extend_targets(T, at(10), at(11, 30), ALWAYS, resolved_at=at(8, 30))
    assert extended == T


def test_pause_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="paused_until"):
        extend_targets(T, at(11), at(10), ALWAYS)


@settings(deadline=None)
@given(
    created=times,
    response=budgets,
    resolution=budgets,
    pause_start=st.integers(0, 20_000),
    pause_length=st.integers(0, 20_000),
)
def test_pause_gives_back_exactly_the_paused_business_time(
    created: datetime, response: int, resolution: int, pause_start: int, pause_length: int
) -> None:
    targets = compute_targets(created, response, resolution, OFFICE)
    paused_from = created + timedelta(minutes=pause_start)
    paused_until = paused_from + timedelta(minutes=pause_length)
    paused = OFFICE.business_minutes_between(paused_from, paused_until)
    extended = extend_targets(targets, paused_from, paused_until, OFFICE)
    for old, new, budget in [
        (targets.respond_by, extended.respond_by, response),
        (targets.resolve_by, extended.resolve_by, resolution),
    ]:
        if old > paused_from:  # the clock was running when the pause began
            assert OFFICE.business_minutes_between(created, new) == pytest.approx(budget + paused)
        else:
            assert new == old
