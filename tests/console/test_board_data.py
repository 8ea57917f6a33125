"""The board's read model and the page's settings, through the API: shifts and breaks per engineer, the
planned-SLA-miss mark, the queue by urgency, and the optional tile layer in the page's security policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import T0
from tests.world import World


def _work_order(client: TestClient, headers: dict[str, str], world: World, **body: Any) -> dict[str, Any]:
    r = client.post("/work-orders", headers=headers, json={"site_id": world.ids["site"], **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_rows_blocks_and_queue(client: TestClient, world: World, as_dispatcher: dict[str, str]) -> None:
    urgent = _work_order(
        client, as_dispatcher, world, title="冷机停机", priority="P1", asset_id=world.ids["asset"]
    )
    routine = _work_order(client, as_dispatcher, world, title="季度保养", priority="P4")
    planned = _work_order(
        client, as_dispatcher, world, title="压缩机异响", priority="P1", asset_id=world.ids["asset"]
    )
    # 11:00–12:00 in Shanghai, after the P1's response is due (gold: 60 business minutes from 09:30).
    start = T0 + timedelta(hours=1, minutes=30)
    r = client.post(
        f"/work-orders/{planned['id']}/visits",
        headers=as_dispatcher,
        json={
            "engineer_id": world.ids["engineer"],
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text

    board = client.get("/board", params={"day": "2026-11-23"}, headers=as_dispatcher).json()
    assert board["territory_id"] == world.ids["territory"] and board["timezone"] == "Asia/Shanghai"
    assert [name for _, name in board["territories"]] == ["上海", "Beijing"]
    rows = {e["name"]: e for e in board["engineers"]}
    wang = rows["王工"]
    at = datetime.fromisoformat
    # 08:30–17:30 local; the hour's break goes in the first gap from 11:30 on: after the 11:00–12:00 visit.
    assert at(wang["shift_start"]) == T0 - timedelta(hours=1)
    assert at(wang["shift_end"]) == T0 + timedelta(hours=8)
    assert at(wang["break_start"]) == start + timedelta(hours=1)
    assert at(wang["break_end"]) == start + timedelta(hours=2)
    assert rows["Li"]["shift_start"] is None and rows["Li"]["break_start"] is None  # no shifts: a day off

    (block,) = board["visits"]
    assert block["job"]["work_order_id"] == planned["id"]
    assert block["late"] is True  # planned to start after the response is due
    assert block["job"]["customer"] == "上海中心大厦" and block["job"]["source"] == "manual"

    # Most urgent first: the P1 due in an hour before the P4 due days later.
    assert [j["work_order_id"] for j in board["queue"]] == [urgent["id"], routine["id"]]
    assert board["queue"][0]["due"] == board["queue"][0]["respond_by"]


def test_the_page_and_its_tile_setting(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = client.get("/console")
    assert "img-src 'self' data: blob:;" in plain.headers["content-security-policy"]
    assert client.get("/console/config").json() == {"tiles": None}
    monkeypatch.setenv("FIELDOPS_CONSOLE_TILES", "https://tiles.example.com/{z}/{x}/{y}.png")
    policy = client.get("/console").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://tiles.example.com;" in policy
    assert client.get("/console/config").json() == {"tiles": "https://tiles.example.com/{z}/{x}/{y}.png"}
    # Anything but an http(s) URL is ignored rather than put into the policy.
    monkeypatch.setenv("FIELDOPS_CONSOLE_TILES", "javascript:alert(1)")
    assert client.get("/console/config").json() == {"tiles": None}
    assert client.get("/console/assets/board.js").headers["content-type"].startswith("text/javascript")
