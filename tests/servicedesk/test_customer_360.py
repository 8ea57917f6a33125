"""The 360° view answers in one request: open alarms on the customer's assets and what their jobs cost."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from litestar.testing import TestClient

from fieldops.wiring import System
from fieldwork.models import Settlement
from tests.mobile.conftest import on_site, stock
from tests.mobile.test_job_record import finished
from tests.servicedesk.conftest import raise_fault
from tests.world import World, login

__all__ = ["finished", "on_site", "stock"]


def test_alarms_and_spend_are_in_the_view(
    finished: dict, client: TestClient, world: World, system: System
) -> None:
    raise_fault(system, world.ids["asset"], "E101", "high pressure E101")
    with system.runtime.sessions() as s:
        [bill] = s.scalars(sa.select(Settlement)).all()

    view = client.get(
        f"/desk/customers/{world.ids['customer']}/overview", headers=login(client, "admin")
    ).json()

    [asset] = [a for a in view["assets"] if a["id"] == world.ids["asset"]]
    [alarm] = asset["open_alarms"]
    assert alarm["code"] == "fault:E101" and alarm["severity"] == "major"
    assert client.get(alarm["link"], headers=login(client, "dispatcher")).json()["alarm_type"] == "fault:E101"
    assert view["open_alarms"] == 1 and "open_alarms" in {f["flag"] for f in view["risk_flags"]}

    [month] = view["spend"]
    assert month["currency"] == bill.currency and month["jobs"] == 1
    assert Decimal(month["total"]) == bill.labour_amount + bill.parts_amount
    assert Decimal(month["covered"]) == bill.covered_amount
    assert Decimal(month["customer"]) == bill.customer_amount > 0
    [job] = [w for w in view["past_work_orders"] if w["charged"]]
    assert job["charged"] == {bill.currency: str(bill.customer_amount)}
