"""CSV import/export of the catalogue and of counts (all or nothing, errors by line), min/max replenishment
through the API and `fieldops inventory replenish`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy.engine import Engine

from fieldops.cli import cli
from tests.inventory.helpers import BELT, COMPRESSOR, FILTER, Stock
from tests.world import login

Client = TestClient
H = dict[str, str]
CSV = {"Content-Type": "text/csv"}


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


def test_a_catalogue_with_bad_rows_is_rejected_whole_with_line_numbers(
    client: Client, stock: Stock, h: H
) -> None:
    sheet = (
        "sku,name,unit_cost,unit_price,serial_tracked,compatible_models\n"
        "NEW-1,Gasket,1.20,2.40,no,CH-500\n"
        "NEW-2,Seal,abc,2.00,no,\n"
        '"NEW-3","Multi\nline name",1.00,2.00,maybe,\n'
        "NEW-4,Pump,1.00,2.00,yes,XX-1\n"
        "NEW-1,Again,1.00,2.00,,\n"
    )
    r = client.post("/parts/import", content=sheet.encode(), headers={**h, **CSV})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [
        (3, "unit_cost"),
        (4, "serial_tracked"),
        (6, "compatible_models"),
        (7, "sku"),
    ]
    assert problem["field"] == "unit_cost" and "line 3" in problem["detail"]
    assert client.get("/parts", params={"q": "NEW-"}, headers=h).json()["items"] == []


def test_catalogue_import_creates_updates_and_round_trips(client: Client, stock: Stock, h: H) -> None:
    exported = client.get("/parts/export", headers=h)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert (
        lines[0]
        == "sku,name,unit_of_measure,unit_cost,unit_price,serial_tracked,active,compatible_models,description"
    )
    assert lines[1] == "BLT-9,Belt,ea,12.50,25.00,false,true,CH-500,"
    # Back in unchanged: nothing changes. With a new price and a new part: one update, one creation.
    again = client.post("/parts/import", content=exported.content, headers={**h, **CSV}).json()
    assert again == {"rows": 3, "created": 0, "updated": 0, "unchanged": 3}
    edited = exported.text.replace("BLT-9,Belt,ea,12.50,25.00", "BLT-9,Belt,ea,12.50,26.00")
    edited += "\ufeffNEW-9,New part,m,0.99,1.99,false,true,,\n".replace("\ufeff", "")
    result = client.post("/parts/import", content=("\ufeff" + edited).encode(), headers={**h, **CSV}).json()
    assert result == {"rows": 4, "created": 1, "updated": 1, "unchanged": 2}
    belt = client.get("/parts", params={"q": BELT}, headers=h).json()["items"][0]
    assert (belt["unit_price"], belt["version"]) == ("26.00", 2)


def test_a_bad_header_or_encoding_is_line_1(client: Client, stock: Stock, h: H) -> None:
    r = client.post("/parts/import", content=b"sku,nmae,unit_cost,unit_price\n", headers={**h, **CSV})
    assert r.status_code == 422
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [(1, "nmae"), (1, "name")]
    r = client.post("/parts/import", content=b"sku,name\n\xff\xfe\n", headers={**h, **CSV})
    assert r.status_code == 422 and r.json()["field"] == "file"


def test_counts_become_adjustments_with_the_reason(client: Client, stock: Stock, h: H) -> None:
    receive(client, h, stock.ids["near"], FILTER, 5)
    receive(client, h, stock.ids["van"], COMPRESSOR, 2, ["C-1", "C-2"])
    sheet = client.get("/stock/counts/export", headers=h).text
    assert sheet.splitlines() == [
        "location,sku,quantity,serials,reason",
        "VAN-1,CMP-500,2,C-1;C-2,",
        "WH-PD,FLT-01,5,,",
    ]
    counted = sheet.replace("WH-PD,FLT-01,5,,", "WH-PD,FLT-01,3,,two broken").replace(
        "VAN-1,CMP-500,2,C-1;C-2,", "VAN-1,CMP-500,2,C-1;C-7,"
    )
    counted += "WH-SJ,BLT-9,4,,\n"
    r = client.post(
        "/stock/counts/import",
        params={"reason": "year-end count"},
        content=counted.encode(),
        headers={**h, **CSV},
    )
    assert r.status_code == 200, r.text
    assert r.json()["adjusted"] == 3
    adjusts = client.get("/stock/movements", params={"kind": "adjust"}, headers=h).json()["items"]
    assert sorted(
        (m["sku"], m["location_code"], m["on_hand_delta"], m["serial"], m["reason"]) for m in adjusts
    ) == [
        (BELT, "WH-SJ", 4, None, "year-end count"),
        (COMPRESSOR, "VAN-1", -1, "C-2", "year-end count"),
        (COMPRESSOR, "VAN-1", 1, "C-7", "year-end count"),
        (FILTER, "WH-PD", -2, None, "two broken"),
    ]
    serials = client.get("/stock/serials", params={"part_id": stock.ids[COMPRESSOR]}, headers=h).json()
    assert {s["serial"]: s["status"] for s in serials} == {
        "C-1": "in_stock",
        "C-2": "removed",
        "C-7": "in_stock",
    }


def test_a_bad_count_sheet_changes_nothing(client: Client, stock: Stock, h: H) -> None:
    receive(client, h, stock.ids["near"], FILTER, 5)
    sheet = (
        "location,sku,quantity,serials\n"
        "WH-PD,FLT-01,3,\n"
        "WH-XX,FLT-01,1,\n"
        "WH-PD,NOPE,1,\n"
        "VAN-1,CMP-500,2,C-1\n"
        "WH-SJ,FLT-01,-1,\n"
        "WH-PD,FLT-01,4,\n"
    )
    r = client.post(
        "/stock/counts/import", params={"reason": "count"}, content=sheet.encode(), headers={**h, **CSV}
    )
    assert r.status_code == 422
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [
        (3, "location"),
        (4, "sku"),
        (5, "serials"),
        (6, "quantity"),
        (7, "sku"),
    ]
    no_reason = client.post(
        "/stock/counts/import", content=b"location,sku,quantity\nWH-PD,FLT-01,3\n", headers={**h, **CSV}
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0] == {
        "line": 2,
        "field": "reason",
        "message": "an adjustment needs a reason: fill the column or give one for the file",
    }
    levels = client.get("/stock", params={"location_id": stock.ids["near"]}, headers=h).json()["items"]
    assert levels[0]["on_hand"] == 5


def rules(client: Client, h: H, stock: Stock) -> None:
    for where, sku, low, high in (
        ("van", FILTER, 1, 4),
        ("van_b", FILTER, 0, 2),
        ("near", FILTER, 2, 10),
        ("van", BELT, 0, 3),
    ):
        r = client.put(
            "/stock/rules",
            json={"location_id": stock.ids[where], "sku": sku, "reorder_point": low, "target": high},
            headers=h,
        )
        assert r.status_code == 200, r.text


def test_replenishment_proposes_then_accepts_transfers(client: Client, stock: Stock, h: H) -> None:
    rules(client, h, stock)
    receive(client, h, stock.ids["near"], FILTER, 3)
    receive(client, h, stock.ids["far"], FILTER, 2)
    proposal = client.get("/stock/replenishment", headers=h).json()
    moves = sorted(
        (t["from_code"], t["to_code"], line["sku"], line["quantity"])
        for t in proposal["transfers"]
        for line in t["lines"]
    )
    # VAN-1 needs 4 (3 from the nearest warehouse, 1 from the far one); VAN-2 needs 2, only 1 is left.
    assert moves == [
        ("WH-PD", "VAN-1", FILTER, 3),
        ("WH-SJ", "VAN-1", FILTER, 1),
        ("WH-SJ", "VAN-2", FILTER, 1),
    ]
    assert [(u["location_code"], u["sku"], u["quantity"]) for u in proposal["unfilled"]] == [
        ("VAN-1", BELT, 3),
        ("VAN-2", FILTER, 1),
    ]
    purchases = {(p["location_code"], p["sku"]): (p["quantity"], p["because"]) for p in proposal["purchases"]}
    assert purchases[("WH-PD", FILTER)] == (10, "min/max")
    accepted = client.post(
        "/stock/replenishment",
        json={
            "transfers": [
                {k: t[k] for k in ("from_location_id", "to_location_id", "lines")}
                for t in proposal["transfers"]
            ]
        },
        headers=h,
    )
    assert accepted.status_code == 201, accepted.text
    assert {t["status"] for t in accepted.json()} == {"in_transit"}
    # On the road counts: tonight's proposal does not ship the same again.
    again = client.get("/stock/replenishment", headers=h).json()
    assert again["transfers"] == []


def test_accepting_a_proposal_that_no_longer_fits_creates_nothing(client: Client, stock: Stock, h: H) -> None:
    rules(client, h, stock)
    receive(client, h, stock.ids["near"], FILTER, 3)
    transfers = [
        {
            "from_location_id": stock.ids["near"],
            "to_location_id": stock.ids["van"],
            "lines": [{"sku": FILTER, "quantity": 2}],
        },
        {
            "from_location_id": stock.ids["near"],
            "to_location_id": stock.ids["van_b"],
            "lines": [{"sku": FILTER, "quantity": 2}],
        },
    ]
    r = client.post("/stock/replenishment", json={"transfers": transfers}, headers=h)
    assert r.status_code == 409 and "1 available" in r.json()["detail"]
    assert client.get("/stock/transfers", headers=h).json()["items"] == []
    bad = client.post(
        "/stock/replenishment", json={"transfers": [{**transfers[0], "to_location_id": 999}]}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["field"] == "transfers[0].to_location_id"


def test_the_replenish_command_prints_a_table_and_json(
    client: Client, stock: Stock, h: H, engine: Engine
) -> None:
    rules(client, h, stock)
    receive(client, h, stock.ids["near"], FILTER, 8)
    env = {"FIELDOPS_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(cli, ["inventory", "replenish"], env=env)
    assert result.exit_code == 0, result.output
    assert "Proposed transfers (2):" in result.output
    assert "WH-PD  VAN-1  FLT-01         4" in result.output
    as_json = CliRunner().invoke(cli, ["inventory", "replenish", "--json"], env=env)
    data = json.loads(as_json.output)
    assert {t["to_code"] for t in data["transfers"]} == {"VAN-1", "VAN-2"}
    shipped = CliRunner().invoke(cli, ["inventory", "replenish", "--accept"], env=env)
    assert shipped.exit_code == 0 and "shipped 2 transfers" in shipped.output
    assert (
        len(client.get("/stock/transfers", params={"status": "in_transit"}, headers=h).json()["items"]) == 2
    )


def test_the_csv_commands(stock: Stock, engine: Engine, tmp_path: Path) -> None:
    env = {"FIELDOPS_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    runner = CliRunner()
    out = tmp_path / "parts.csv"
    assert runner.invoke(cli, ["inventory", "export-parts", str(out)], env=env).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,unit_cost,unit_price\nX,,1,1\n")
    result = runner.invoke(cli, ["inventory", "import-parts", str(bad)], env=env)
    assert (
        result.exit_code == 1 and "line 2, name" in result.output and "nothing was imported" in result.output
    )
    result = runner.invoke(cli, ["inventory", "import-parts", str(out)], env=env)
    assert result.exit_code == 0 and "3 unchanged" in result.output
    counts = tmp_path / "counts.csv"
    counts.write_text("location,sku,quantity\nWH-PD,FLT-01,7\n")
    result = runner.invoke(
        cli, ["inventory", "import-counts", str(counts), "--reason", "first count"], env=env
    )
    assert result.exit_code == 0 and "1 adjusted" in result.output, result.output
    sheet = runner.invoke(cli, ["inventory", "export-counts", "--location", "WH-PD"], env=env)
    assert sheet.output.splitlines()[1] == "WH-PD,FLT-01,7,,"
