"""Property: no sequence of API calls drives a work order or visit into a state the lifecycle forbids."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from core.domain.lifecycle import VISIT_TRANSITIONS, WORK_ORDER_TRANSITIONS, VisitStatus, WorkOrderStatus
from tests.world import World

Client = TestClient

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.sampled_from(list(WorkOrderStatus))),
        st.tuples(st.just("visit"), st.sampled_from(list(VisitStatus))),
        st.tuples(st.just("assign"), st.booleans()),
        st.tuples(st.just("dispatch"), st.none()),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS, seed=st.integers(0, 2**16))
def test_random_calls_never_reach_an_illegal_state(
    client: Client, world: World, as_dispatcher: dict[str, str], actions: list, seed: int
) -> None:
    h = as_dispatcher
    rng = random.Random(seed)
    wo = client.post("/work-orders", json={"title": "p", "site_id": world.ids["site_b"]}, headers=h).json()
    url = f"/work-orders/{wo['id']}"
    history = [wo["status"]]
    for kind, arg in actions:
        before = client.get(url, headers=h).json()
        visit = before["current_visit"]
        if kind == "order":
            r = client.post(
                f"{url}/transitions", json={"to": arg, "reason": rng.choice([None, "why"])}, headers=h
            )
        elif kind == "visit" and visit:
            r = client.post(f"/visits/{visit['id']}/transitions", json={"to": arg, "reason": "r"}, headers=h)
        elif kind == "assign":
            r = client.post(
                f"{url}/visits", json={"engineer_id": world.ids["engineer"], "dispatch": arg}, headers=h
            )
        elif kind == "dispatch":
            r = client.post(f"{url}/dispatch", headers=h)
        else:
            continue
        assert r.status_code < 500, r.text
        after = client.get(url, headers=h).json()
        if r.status_code >= 400:
            assert r.status_code in (409, 422), r.text
            assert after["status"] == before["status"] and after["version"] == before["version"]
            continue
        if after["status"] != before["status"]:
            # Every observed move is a chain of legal single steps (assign+dispatch takes two).
            assert _legal_path(before["status"], after["status"]), (
                before["status"],
                after["status"],
                kind,
                arg,
            )
            history.append(after["status"])
        if visit and kind == "visit" and r.status_code < 400:
            assert VisitStatus(arg) in VISIT_TRANSITIONS[VisitStatus(visit["status"])]
        active = [
            v
            for v in client.get(f"{url}/visits", headers=h).json()
            if v["status"] not in ("signed_off", "declined", "cancelled")
        ]
        assert len(active) <= 1
        if after["status"] in ("new", "needs_revisit", "cancelled", "completed", "closed"):
            assert not active, after
        if after["status"] in ("scheduled", "dispatched", "in_progress"):
            assert active, after


def _legal_path(start: str, end: str) -> bool:
    frontier = {WorkOrderStatus(start)}
    for _ in range(2):
        frontier = {n for s in frontier for n in WORK_ORDER_TRANSITIONS[s]} | frontier
        if WorkOrderStatus(end) in frontier:
            return True
    return False
