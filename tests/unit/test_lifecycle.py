"""The state machines themselves: every state reachable, nothing illegal accepted, visits and orders agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.lifecycle import (
    VISIT_TRANSITIONS,
    WORK_ORDER_TRANSITIONS,
    IllegalTransition,
    ReasonRequired,
    VisitStatus,
    WorkOrderStatus,
    check_visit_transition,
    check_work_order_transition,
    work_order_status_for,
)

W = WorkOrderStatus
V = VisitStatus


def reachable(graph: dict, start: object) -> set:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_and_only_terminal_states_are_dead_ends() -> None:
    assert reachable(WORK_ORDER_TRANSITIONS, W.NEW) == set(W)
    assert reachable(VISIT_TRANSITIONS, V.ASSIGNED) == set(V)
    assert {s for s, nxt in WORK_ORDER_TRANSITIONS.items() if not nxt} == {W.CLOSED, W.CANCELLED}
    assert {s for s, nxt in VISIT_TRANSITIONS.items() if not nxt} == {V.SIGNED_OFF, V.DECLINED, V.CANCELLED}


@given(st.sampled_from(list(W)), st.sampled_from(list(W)), st.none() | st.text(max_size=5))
def test_check_accepts_exactly_the_table(current: W, target: W, reason: str | None) -> None:
    legal = target in WORK_ORDER_TRANSITIONS[current]
    needs_reason = target in (W.CANCELLED, W.ON_HOLD, W.NEEDS_REVISIT) and not (reason or "").strip()
    if not legal:
        with pytest.raises(IllegalTransition) as err:
            check_work_order_transition(current, target, reason)
        assert err.value.allowed == sorted(WORK_ORDER_TRANSITIONS[current])
    elif needs_reason:
        with pytest.raises(ReasonRequired):
            check_work_order_transition(current, target, reason)
    else:
        check_work_order_transition(current, target, reason)


@given(st.lists(st.sampled_from(list(V)), max_size=12))
def test_following_a_visit_never_asks_the_order_for_an_illegal_move(path: list[V]) -> None:
    """Drive a visit with random requests; whenever the visit may move, the order's implied move is legal."""
    visit, order = V.ASSIGNED, W.SCHEDULED
    for target in path:
        try:
            check_visit_transition(visit, target)
        except IllegalTransition:
            continue
        follow = work_order_status_for(target, order)
        if follow is W.IN_PROGRESS and order is W.SCHEDULED:
            order = W.DISPATCHED  # released on the way, as core.services.visits does
        if follow is W.COMPLETED and order is W.ON_HOLD:
            order = W.IN_PROGRESS  # resumed on the way
        if follow is not None:
            check_work_order_transition(order, follow, "reason")
            order = follow
        visit = target
    assert order in W
