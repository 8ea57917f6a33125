"""Bad input gets a clear problem+json naming the field, never a 500, and stores nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.world import World

Client = TestClient


def assert_problem(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    if field is not None:
        assert body["field"] == field, body
    return body


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"title": "x", "site_id": "seven"}, 400, "site_id"),
        ({"title": "x", "site_id": 999999}, 422, "site_id"),
        ({"title": "x" * 201, "site_id": 1}, 400, "title"),
        ({"title": "", "site_id": 1}, 400, "title"),
        ({"site_id": 1}, 400, "title"),
        ({"title": "x", "site_id": 1, "priority": "P9"}, 400, "priority"),
        ({"title": "x", "site_id": 1, "colour": "red"}, 400, "colour"),
        ({"title": "x", "site_id": 1, "estimated_minutes": -5}, 400, "estimated_minutes"),
        (
            {"title": "x", "site_id": 1, "required_skills": [{"skill": "juggling"}]},
            422,
            "required_skills[0].skill",
        ),
        (
            {
                "title": "x",
                "site_id": 1,
                "windows": [{"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"}],
            },
            422,
            "windows[0].end",
        ),
        (
            {
                "title": "x",
                "site_id": 1,
                "windows": [{"start": "2026-11-23T10:00:00", "end": "2026-11-23T11:00:00"}],
            },
            400,
            "windows[0].start",
        ),
    ],
)
def test_work_order_body_errors(
    client: Client, world: World, as_dispatcher: dict[str, str], body: dict, status: int, field: str
) -> None:
    if body.get("site_id") == 1:
        body["site_id"] = world.ids["site"]
    assert_problem(client.post("/work-orders", json=body, headers=as_dispatcher), status, field)
    assert client.get("/work-orders", headers=as_dispatcher).json()["items"] == []


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [(91, 0, "lat"), (-90.5, 0, "lat"), (0, 181, "lon"), ("NaN", 0, "lat"), (0, "Infinity", "lon")],
)
def test_invalid_coordinates(
    client: Client, world: World, as_dispatcher: dict[str, str], lat: object, lon: object, field: str
) -> None:
    body = {
        "customer_id": world.ids["customer"],
        "territory_id": world.ids["territory"],
        "name": "s",
        "address": "a",
        "lat": lat,
        "lon": lon,
    }
    assert_problem(client.post("/sites", json=body, headers=as_dispatcher), 400, field)


def test_not_json_is_400(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    r = client.post(
        "/work-orders", content=b"{not json", headers={**as_dispatcher, "Content-Type": "application/json"}
    )
    assert_problem(r, 400)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("near=95,10&within_km=3", "near"),
        ("near=31.2,121.4", "within_km"),
        ("within_km=-1&near=31,121", "within_km"),
        ("limit=0", "limit"),
        ("limit=10000", "limit"),
        ("status=open", "status"),
        ("cursor=garbage!!", "cursor"),
        ("created_from=2026-01-01T00:00:00", "created_from"),
    ],
)
def test_bad_list_queries(
    client: Client, world: World, as_dispatcher: dict[str, str], query: str, field: str
) -> None:
    r = client.get(f"/work-orders?{query}", headers=as_dispatcher)
    assert r.status_code in (400, 422), r.text
    assert r.json()["field"] == field


def test_a_missing_required_parameter_is_named(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    r = client.get("/kpis?to=2026-12-01", headers=as_dispatcher)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "from"


def test_unknown_ids_in_paths_are_404(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    for path in (
        "/work-orders/424242",
        "/customers/424242",
        "/sites/424242",
        "/engineers/424242",
        "/visits/424242",
    ):
        assert_problem(client.get(path, headers=as_dispatcher), 404)
    assert_problem(client.patch("/work-orders/424242", json={"title": "x"}, headers=as_dispatcher), 404)


def test_malformed_if_match(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    wo = client.post(
        "/work-orders", json={"title": "x", "site_id": world.ids["site"]}, headers=as_dispatcher
    ).json()
    r = client.patch(
        f"/work-orders/{wo['id']}", json={"title": "y"}, headers={**as_dispatcher, "If-Match": "v1"}
    )
    assert_problem(r, 422, "If-Match")


def test_duplicate_customer_code_is_409(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    r = client.post("/customers", json={"code": "C1", "name": "again"}, headers=as_dispatcher)
    assert_problem(r, 409)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)
work_order_fields = st.sampled_from(
    [
        "title",
        "site_id",
        "asset_id",
        "priority",
        "estimated_minutes",
        "windows",
        "required_skills",
        "source",
        "kind",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(work_order_fields, json_values, max_size=6) | json_values)
def test_no_body_makes_a_500(
    client: Client, world: World, as_dispatcher: dict[str, str], body: object
) -> None:
    r = client.post("/work-orders", json=body, headers=as_dispatcher)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
