"""`fieldops iot …`, `fieldops ingest`, `fieldops simulate`, and what `fieldops serve` starts embedded."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from fieldops.commands.iot import COMMANDS, iot, start_embedded_iot
from fieldops.settings import Settings
from fieldops.wiring import System
from iot.models import Device, TelemetryRow
from iot.registry import check_mosquitto_hash, engineer_password
from tests.iot.helpers import count, free_port, wait_until
from tests.world import World


def _settings(system: System) -> Settings:
    return msgspec.structs.replace(
        system.settings, database_url=system.engine.url.render_as_string(hide_password=False)
    )


@pytest.mark.parametrize(
    "args", [["iot"], ["iot", "acl"], ["iot", "register"], ["iot", "provision"], ["iot", "maintain"]]
)
def test_iot_commands_have_help(args: list[str]) -> None:
    result = CliRunner().invoke(iot, [*args[1:], "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name or "")
def test_top_level_commands_have_help(command: object) -> None:
    result = CliRunner().invoke(command, ["--help"])  # type: ignore[arg-type]
    assert result.exit_code == 0 and "Usage:" in result.output


def test_register_then_acl_files(system: System, world: World, tmp_path: Path) -> None:
    settings = _settings(system)
    runner = CliRunner()
    done = runner.invoke(iot, ["register", "pump-7", "--asset-id", str(world.ids["asset"])], obj=settings)
    assert done.exit_code == 0, done.output
    password = done.output.strip().splitlines()[-1]
    bad = runner.invoke(iot, ["register", "a/b", "--asset-id", "1"], obj=settings)
    assert bad.exit_code != 0
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    args = ["acl", "--passwd", str(passwd), "--acl", str(acl), "--ingest-password", "s3cret"]
    written = runner.invoke(iot, args, obj=settings)
    assert written.exit_code == 0, written.output
    lines = dict(line.split(":", 1) for line in passwd.read_text().splitlines())
    assert check_mosquitto_hash(password, lines["pump-7"]) and check_mosquitto_hash(
        "s3cret", lines["fieldops-ingest"]
    )
    assert passwd.stat().st_mode & 0o777 == 0o600
    assert "pattern write fieldops/v1/devices/%u/telemetry" in acl.read_text()
    # Each engineer's app account reads its own assignments topic and nothing else.
    engineer = world.ids["engineer"]
    secret = system.settings.resolved_secret_key()
    assert check_mosquitto_hash(engineer_password(secret, engineer), lines[f"engineer-{engineer}"])
    assert (
        f"user engineer-{engineer}\ntopic read fieldops/v1/engineers/{engineer}/assignments\n"
        in acl.read_text()
    )
    refused = runner.invoke(iot, ["register", f"engineer-{engineer}", "--asset-id", "1"], obj=settings)
    assert refused.exit_code != 0 and "reserved" in refused.output
    assert runner.invoke(iot, ["maintain", "--retention-days", "365"], obj=settings).exit_code == 0


def test_serve_starts_the_embedded_broker_ingest_and_detection(
    system: System, world: World, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(
        _settings(system), embedded_mqtt_port=free_port(), data_dir=str(tmp_path / "data")
    )
    embedded_system = System(settings, system.engine, system.runtime)
    runner = CliRunner()
    creds = tmp_path / "creds.json"
    provisioned = runner.invoke(
        iot, ["provision", "--count", "3", "--prefix", "demo-", "--credentials-out", str(creds)], obj=settings
    )
    assert provisioned.exit_code == 0, provisioned.output
    assert sorted(json.loads(creds.read_text())) == ["demo-0001", "demo-0002", "demo-0003"]
    running = start_embedded_iot(embedded_system)
    try:
        assert running.worker.wait_connected(10)
        simulate = next(c for c in COMMANDS if c.name == "simulate")
        result = runner.invoke(
            simulate,
            [
                "--devices",
                "3",
                "--rate",
                "10",
                "--duration",
                "2",
                "--credentials",
                str(creds),
                "--malformed",
                "0.1",
            ],
            obj=settings,
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        good = summary["sent"] - summary["malformed"] - 3  # minus the three `online` statuses
        wait_until(lambda: count(system, TelemetryRow) == good, timeout=20)
        with system.runtime.sessions() as s:
            assert {d.status for d in s.query(Device)} == {"online"}
    finally:
        running.stop()
