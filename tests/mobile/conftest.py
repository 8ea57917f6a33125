"""Shared fixtures of the mobile tests: a stocked van and a visit checked in on site."""

from __future__ import annotations

import zlib
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from inventory import movements
from inventory.lines import PartLine
from mobile_contract import wire
from mobile_contract.client import MobileClient
from tests.conftest import T0
from tests.inventory.helpers import COMPRESSOR, FILTER, Stock, build_stock
from tests.world import PASSWORD, World

TOWER = (31.2335, 121.5055)


def png(width: int = 4, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG: enough for the content check and for a report to draw."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def stock(world: World) -> Stock:
    stock = build_stock(world)
    ctx = stock.ctx()
    with ctx.session:
        movements.receive(
            ctx,
            movements.ReceiveInput(
                location_id=stock.ids["van"],
                lines=[
                    PartLine(sku=FILTER, quantity=5),
                    PartLine(sku=COMPRESSOR, quantity=2, serials=["CMP-A1", "CMP-A2"]),
                ],
            ),
        )
    return stock


@pytest.fixture
def on_site(
    client: TestClient, world: World, as_dispatcher: dict[str, str], stock: Stock, clock: FixedClock
) -> dict:
    wo = client.post(
        "/work-orders",
        headers=as_dispatcher,
        json={"title": "冷水机组报警", "site_id": world.ids["site"], "asset_id": world.ids["asset"]},
    ).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=as_dispatcher,
        json={"engineer_id": world.ids["engineer"], "dispatch": True},
    ).json()
    app = MobileClient(client)
    app.sign_in("engineer", PASSWORD)
    app.en_route(visit["id"], wire.EnRoute(occurred_at=T0))
    clock.advance(timedelta(minutes=20))
    app.check_in(
        visit["id"], wire.CheckIn(occurred_at=clock.now(), lat=TOWER[0], lon=TOWER[1], accuracy_m=10)
    )
    return {"wo": wo, "visit": visit, "app": app}
