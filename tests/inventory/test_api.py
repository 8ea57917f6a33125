"""The inventory API through the real ASGI app: roles, problem details, the catalogue, stock and transfers."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.inventory.helpers import BELT, COMPRESSOR, FILTER, Stock
from tests.world import World, login

Client = TestClient
H = dict[str, str]


@pytest.fixture
def h(client: Client, stock: Stock) -> H:
    return login(client, "dispatcher")


def receive(
    client: Client, h: H, location_id: int, sku: str, quantity: int, serials: list[str] | None = None
) -> None:
    r = client.post(
        "/stock/receipts",
        json={
            "location_id": location_id,
            "lines": [{"sku": sku, "quantity": quantity, "serials": serials or []}],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text


OFFICE_ONLY = [
    ("GET", "/stock"),
    ("GET", "/stock/movements"),
    ("GET", "/parts"),
    ("POST", "/parts"),
    ("POST", "/stock/receipts"),
    ("POST", "/stock/adjustments"),
    ("POST", "/stock/consumptions"),
    ("POST", "/stock/transfers"),
    ("POST", "/stock/replenishment"),
    ("POST", "/stock/counts/import"),
    ("GET", "/stock/vans"),
    ("PUT", "/stock/rules"),
]


def test_engineers_and_customers_get_403_on_the_office_endpoints(client: Client, stock: Stock) -> None:
    for user in ("engineer", "customer"):
        headers = login(client, user)
        for method, url in OFFICE_ONLY:
            r = client.request(method, url, json={}, headers=headers)
            assert r.status_code == 403, (user, method, url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_part_crud_with_etags_and_money_as_strings(client: Client, stock: Stock, h: H) -> None:
    body = {"sku": "VLV-2", "name": "Valve", "unit_cost": "3.10", "unit_price": 7.5, "unit_of_measure": "ea"}
    created = client.post("/parts", json=body, headers=h)
    assert created.status_code == 201, created.text
    part = created.json()
    assert (part["unit_cost"], part["unit_price"], part["version"]) == ("3.10", "7.50", 1)
    assert created.headers["etag"] == '"1"'
    stale = client.patch(f"/parts/{part['id']}", json={"name": "x"}, headers={**h, "If-Match": '"7"'})
    assert stale.status_code == 412
    changed = client.patch(
        f"/parts/{part['id']}", json={"unit_price": "8.00"}, headers={**h, "If-Match": '"1"'}
    )
    assert (
        changed.status_code == 200
        and changed.json()["unit_price"] == "8.00"
        and changed.json()["version"] == 2
    )
    assert client.post("/parts", json=body, headers=h).status_code == 409
    listed = client.get("/parts", params={"q": "VLV"}, headers=h).json()
    assert [p["sku"] for p in listed["items"]] == ["VLV-2"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"unit_cost": "-1"}, 422, "unit_cost"),
        ({"unit_price": "1.005"}, 422, "unit_price"),
        ({"unit_price": "NaN"}, 422, "unit_price"),
        ({"sku": " padded"}, 400, "sku"),
        ({"sku": "x" * 65}, 400, "sku"),
        ({"colour": "red"}, 400, "colour"),
        ({"compatible_asset_model_ids": [999]}, 422, "compatible_asset_model_ids[0]"),
    ],
)
def test_bad_part_input_names_the_field(
    client: Client, stock: Stock, h: H, body: dict, status: int, field: str
) -> None:
    base = {"sku": "NEW-1", "name": "n", "unit_cost": "1.00", "unit_price": "2.00"}
    r = client.post("/parts", json={**base, **body}, headers=h)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


def test_locations_warehouse_needs_a_place_and_a_van_an_engineer(
    client: Client, stock: Stock, h: H, world: World
) -> None:
    r = client.post(
        "/stock-locations", json={"code": "WH-X", "name": "x", "kind": "warehouse", "lat": 31.0}, headers=h
    )
    assert r.status_code == 422 and r.json()["field"] == "lon"
    r = client.post("/stock-locations", json={"code": "VAN-X", "name": "x", "kind": "van"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "engineer_id"
    r = client.post(
        "/stock-locations",
        json={"code": "VAN-X", "name": "x", "kind": "van", "engineer_id": world.ids["engineer"]},
        headers=h,
    )
    assert r.status_code == 422 and "already has a van" in r.json()["detail"]
    vans = client.get("/stock-locations", params={"kind": "van"}, headers=h).json()["items"]
    assert {v["engineer_id"] for v in vans} == {world.ids["engineer"], world.ids["engineer_b"]}


def test_stock_levels_and_the_ledger_with_filters_and_pages(client: Client, stock: Stock, h: H) -> None:
    for sku in (FILTER, BELT):
        receive(client, h, stock.ids["near"], sku, 4)
        receive(client, h, stock.ids["far"], sku, 1)
    levels = client.get("/stock", params={"location_id": stock.ids["near"]}, headers=h).json()["items"]
    assert [(x["sku"], x["on_hand"], x["available"]) for x in levels] == [(FILTER, 4, 4), (BELT, 4, 4)]
    by_part = client.get("/stock", params={"sku": BELT}, headers=h).json()["items"]
    assert [x["location_code"] for x in by_part] == ["WH-PD", "WH-SJ"]
    first = client.get("/stock/movements", params={"limit": 3}, headers=h)
    page = first.json()
    assert len(page["items"]) == 3 and page["next_cursor"] and 'rel="next"' in first.headers["link"]
    rest = client.get(
        "/stock/movements", params={"limit": 3, "cursor": page["next_cursor"]}, headers=h
    ).json()
    ids = [m["id"] for m in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 4
    only = client.get(
        "/stock/movements",
        params={"kind": "receive", "sku": FILTER, "location_id": stock.ids["far"]},
        headers=h,
    ).json()["items"]
    assert [(m["quantity"], m["reason"], m["actor"]) for m in only] == [(1, None, "dispatcher")]
    bad = client.get("/stock/movements", params={"since": "2026-11-23T00:00:00"}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "since"


def test_consuming_the_last_unit_twice_is_a_clear_409(
    client: Client, stock: Stock, h: H, world: World
) -> None:
    receive(client, h, stock.ids["van"], FILTER, 1)
    wo = client.post("/work-orders", json={"title": "t", "site_id": world.ids["site"]}, headers=h).json()
    client.post(f"/work-orders/{wo['id']}/visits", json={"engineer_id": world.ids["engineer"]}, headers=h)
    body = {"work_order_id": wo["id"], "lines": [{"sku": FILTER}]}
    assert client.post("/stock/consumptions", json=body, headers=h).status_code == 201
    again = client.post("/stock/consumptions", json=body, headers=h)
    assert again.status_code == 409
    assert (
        again.json()["detail"] == "not enough FLT-01 at VAN-1: 0 available (0 on hand, 0 reserved), 1 needed"
    )
    unknown = client.post("/stock/consumptions", json={**body, "lines": [{"sku": "NOPE"}]}, headers=h)
    assert unknown.status_code == 422 and unknown.json()["field"] == "lines[0].sku"


def test_a_transfer_is_on_the_road_then_received_exactly_once(client: Client, stock: Stock, h: H) -> None:
    receive(client, h, stock.ids["near"], FILTER, 5)
    receive(client, h, stock.ids["near"], COMPRESSOR, 2, ["C-1", "C-2"])
    shipped = client.post(
        "/stock/transfers",
        json={
            "from_location_id": stock.ids["near"],
            "to_location_id": stock.ids["van"],
            "lines": [{"sku": FILTER, "quantity": 3}, {"sku": COMPRESSOR, "quantity": 1, "serials": ["C-2"]}],
            "reason": "top up",
        },
        headers=h,
    )
    assert shipped.status_code == 201, shipped.text
    t = shipped.json()
    assert t["status"] == "in_transit"
    van = {
        x["sku"]: x
        for x in client.get("/stock", params={"location_id": stock.ids["van"]}, headers=h).json()["items"]
    }
    assert (van[FILTER]["on_hand"], van[FILTER]["inbound"]) == (0, 3)
    serial = client.get("/stock/serials", params={"serial": "C-2"}, headers=h).json()
    assert serial[0]["status"] == "in_transit" and serial[0]["transfer_id"] == t["id"]
    done = client.post(f"/stock/transfers/{t['id']}/receive", headers=h)
    assert done.status_code == 200 and done.json()["status"] == "received"
    twice = client.post(f"/stock/transfers/{t['id']}/receive", headers=h)
    assert twice.status_code == 409 and "already received" in twice.json()["detail"]
    van = {
        x["sku"]: x
        for x in client.get("/stock", params={"location_id": stock.ids["van"]}, headers=h).json()["items"]
    }
    assert (van[FILTER]["on_hand"], van[FILTER]["inbound"], van[COMPRESSOR]["on_hand"]) == (3, 0, 1)
    legs = client.get("/stock/movements", params={"transfer_id": t["id"]}, headers=h).json()["items"]
    assert sorted((m["kind"], m["location_code"], m["on_hand_delta"]) for m in legs) == [
        ("transfer_in", "VAN-1", 1),
        ("transfer_in", "VAN-1", 3),
        ("transfer_out", "WH-PD", -3),
        ("transfer_out", "WH-PD", -1),
    ]


def test_a_cancelled_transfer_goes_back_to_its_source(client: Client, stock: Stock, h: H) -> None:
    receive(client, h, stock.ids["near"], FILTER, 5)
    t = client.post(
        "/stock/transfers",
        json={
            "from_location_id": stock.ids["near"],
            "to_location_id": stock.ids["van"],
            "lines": [{"sku": FILTER, "quantity": 5}],
        },
        headers=h,
    ).json()
    assert client.post(f"/stock/transfers/{t['id']}/cancel", json={}, headers=h).json()["field"] == "note"
    r = client.post(f"/stock/transfers/{t['id']}/cancel", json={"note": "van broke down"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    near = client.get("/stock", params={"location_id": stock.ids["near"]}, headers=h).json()["items"]
    assert near[0]["on_hand"] == 5
    assert client.post(f"/stock/transfers/{t['id']}/receive", headers=h).status_code == 409
    too_much = client.post(
        "/stock/transfers",
        json={
            "from_location_id": stock.ids["near"],
            "to_location_id": stock.ids["van"],
            "lines": [{"sku": FILTER, "quantity": 6}],
        },
        headers=h,
    )
    assert too_much.status_code == 409 and "5 available" in too_much.json()["detail"]
    assert client.get("/stock/transfers", params={"status": "in_transit"}, headers=h).json()["items"] == []


def test_van_stock_read_model(client: Client, stock: Stock, h: H, world: World) -> None:
    receive(client, h, stock.ids["van"], FILTER, 2)
    vans = client.get("/stock/vans", headers=h).json()
    assert vans == {str(world.ids["engineer"]): {FILTER: 2}, str(world.ids["engineer_b"]): {}}


def test_the_openapi_schema_still_builds(client: Client, stock: Stock) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/stock/transfers/{transfer_id}/receive" in r.json()["paths"]


def test_the_fault_to_parts_map_of_an_asset_model(client: Client, stock: Stock, h: H, world: World) -> None:
    model = world.ids["model"]
    r = client.put(
        f"/fault-parts/{model}/fault:E42",
        json={"parts": [{"sku": FILTER, "quantity": 2}, {"sku": BELT}]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/fault-parts/{model}", headers=h).json() == {
        "fault:E42": [{"sku": BELT, "quantity": 1}, {"sku": FILTER, "quantity": 2}]
    }
    bad = client.put(f"/fault-parts/{model}/fault:E42", json={"parts": [{"sku": "NOPE"}]}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "parts[0].sku"
    assert client.put(f"/fault-parts/{model}/fault:E42", json={"parts": []}, headers=h).status_code == 200
    assert client.get(f"/fault-parts/{model}", headers=h).json() == {}
    assert client.get("/fault-parts/999", headers=h).status_code == 404


def test_a_part_with_history_cannot_be_deleted_but_a_new_one_can(client: Client, stock: Stock, h: H) -> None:
    receive(client, h, stock.ids["near"], FILTER, 1)
    r = client.delete(f"/parts/{stock.ids[FILTER]}", headers=h)
    assert r.status_code == 409
    assert client.get(f"/parts/{stock.ids[FILTER]}", headers=h).json()["compatible_asset_model_ids"] != []
    fresh = client.post(
        "/parts", json={"sku": "TMP", "name": "t", "unit_cost": 1, "unit_price": 1}, headers=h
    ).json()
    assert client.delete(f"/parts/{fresh['id']}", headers=h).status_code == 204
    assert client.get(f"/parts/{fresh['id']}", headers=h).status_code == 404


def test_reservations_and_pickups_through_the_api(client: Client, stock: Stock, h: H, world: World) -> None:
    receive(client, h, stock.ids["near"], FILTER, 4)
    wo = client.post(
        "/work-orders",
        json={"title": "t", "site_id": world.ids["site"], "required_parts": [{"sku": FILTER, "quantity": 2}]},
        headers=h,
    ).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits", json={"engineer_id": world.ids["engineer"]}, headers=h
    )
    # Reserved on assignment already: asking again changes nothing and says what is held.
    again = client.post("/stock/reservations", json={"visit_id": visit.json()["id"]}, headers=h)
    assert again.status_code == 200, again.text
    held = again.json()["reservations"]
    assert [(r["location_code"], r["open_quantity"], r["pickup_needed"]) for r in held] == [
        ("WH-PD", 2, True)
    ]
    missing = client.post("/stock/reservations", json={"visit_id": 999}, headers=h)
    assert missing.status_code == 422 and missing.json()["field"] == "visit_id"
    picked = client.post("/stock/pickups", json={"work_order_id": wo["id"]}, headers=h)
    assert picked.status_code == 200
    assert {(x["location_code"], x["on_hand"], x["reserved"]) for x in picked.json()} == {
        ("WH-PD", 2, 0),
        ("VAN-1", 2, 2),
    }
    listed = client.get("/stock/reservations", params={"work_order_id": wo["id"]}, headers=h).json()
    assert [(r["location_code"], r["status"]) for r in listed] == [("WH-PD", "released"), ("VAN-1", "active")]
    released = client.post(
        "/stock/reservations/release", json={"work_order_id": wo["id"], "reason": "x"}, headers=h
    )
    assert released.json() == {"released": 1}
