"""The care pass inside `fieldops worker`: one turn per interval across workers, a killed worker's turn taken
over when its lease runs out; and `fieldops care report` on the demo data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from automation.care import usage
from automation.care.models import CareRun, Prediction, VolumeForecast
from automation.care.runout import Reading
from automation.engine import WorkerKilled
from automation.worker import Worker
from core.domain.clock import FixedClock
from fieldops.cli import cli
from fieldops.wiring import System
from tests.automation.conftest import seed
from tests.world import World, login


def _worker(system: System) -> Worker:
    return Worker(system.runtime.sessions, system.runtime.clock)


def _define(client: TestClient, world: World) -> None:
    r = client.put(
        "/care/consumables",
        json={
            "asset_model_id": world.ids["model"],
            "code": "filter",
            "name": "滤网",
            "counter": "run_hours",
            "capacity": 500,
        },
        headers=login(client, "admin"),
    )
    assert r.status_code == 200, r.text


def test_one_worker_takes_each_turn(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    seed(system, world)
    a, b = _worker(system), _worker(system)
    assert a.tick()["care_pass"] == 1
    assert b.tick()["care_pass"] == 0 and a.tick()["care_pass"] == 0
    status = client.get("/care/status", headers=login(client, "dispatcher")).json()
    assert status["ran"] is True and status["holder"] == a.engine.worker
    assert datetime.fromisoformat(status["next_due_at"]) == clock.now() + timedelta(minutes=15)
    assert set(status["last_result"]) == {"consumables", "key_dates", "churn", "forecast"}
    clock.advance(timedelta(minutes=14))
    assert a.tick()["care_pass"] == 0 and b.tick()["care_pass"] == 0
    clock.advance(timedelta(minutes=2))
    assert b.tick()["care_pass"] == 1 and a.tick()["care_pass"] == 0
    # Each step at its own pace: consumables again, the forecast (daily) kept from the first turn.
    later = client.get("/care/status", headers=login(client, "dispatcher")).json()["last_result"]
    first = status["last_result"]
    assert later["consumables"]["at"] > first["consumables"]["at"]
    assert later["forecast"] == first["forecast"] and later["churn"] == first["churn"]


def test_a_worker_killed_mid_pass_leaves_its_turn_to_the_next_when_the_lease_runs_out(
    client: TestClient, world: World, system: System, clock: FixedClock
) -> None:
    seed(system, world)
    _define(client, world)

    def dies(session: Session, asset_id: int, counter: str, instants: Sequence[datetime]) -> list[Reading]:
        raise WorkerKilled("killed while reading the counters")

    usage.register("fault", dies)
    try:
        with pytest.raises(WorkerKilled):
            _worker(system).tick()
    finally:
        usage.unregister("fault")
    with system.runtime.sessions() as s:
        run = s.get_one(CareRun, "care")
        assert run.lease_until is not None and run.last_finished_at is None
        assert s.scalar(sa.select(sa.func.count()).select_from(VolumeForecast)) == 0
    survivor = _worker(system)
    assert survivor.tick()["care_pass"] == 0  # the dead worker's lease still holds
    clock.advance(timedelta(minutes=11))
    assert survivor.tick()["care_pass"] == 1
    with system.runtime.sessions() as s:
        assert s.get_one(CareRun, "care").holder == survivor.engine.worker
        assert s.scalar(sa.select(sa.func.count()).select_from(VolumeForecast)) == 2  # both territories
        assert s.scalar(sa.select(sa.func.count()).select_from(Prediction)) == 1


def test_care_report_on_the_demo_data(tmp_path: Path) -> None:
    env = {"FIELDOPS_DATA_DIR": str(tmp_path / "data"), "FIELDOPS_DATABASE_URL": ""}
    runner = CliRunner()
    loaded = runner.invoke(cli, ["demo"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "110 weeks of closed work orders" in loaded.output
    report = runner.invoke(cli, ["care", "report"], env=env)
    assert report.exit_code == 0, report.output
    text = report.output
    for heading in ("Consumables running out", "Key-date reminders", "Churn risk", "Service-volume forecast"):
        assert heading in text, text
    notices = text.split("Consumables running out (open notices, earliest first): ")[1].split("\n")[0]
    assert int(notices) > 0
    assert "续约提醒 / contract SA-MLP-2025" in text
    assert "JAF 静安食品厂" in text.split("Churn risk")[1].split("\n")[2]  # the riskiest, first
    assert "seasonal naive:" in text and "MASE" in text
    again = runner.invoke(cli, ["care", "report", "--no-run"], env=env)
    assert again.exit_code == 0 and again.output.split("\n", 1)[1] == text.split("\n", 1)[1]
