"""The demo's devices: provisioned once, kept across restarts, re-keyed when their secret is lost."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from fieldops.wiring import System
from iot.demo import provision
from iot.models import Device, IotProfile
from iot.registry import verify_device
from tests.world import World


def test_provisioning_is_idempotent_across_restarts(system: System, world: World, tmp_path: Path) -> None:
    rt = system.runtime
    secrets = tmp_path / "demo-devices.json"
    first = provision(rt.sessions, rt.clock, 3, secrets)
    assert sorted(first) == ["demo-0001", "demo-0002", "demo-0003"]
    assert secrets.stat().st_mode & 0o777 == 0o600
    again = provision(rt.sessions, rt.clock, 3, secrets)  # a restart
    assert again == first
    with rt.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Device)) == 3
        assert all(verify_device(s, d, p) for d, p in again.items())
        # The demo assets' model got the simulator's profile (it had none).
        assert s.get(IotProfile, world.ids["model"]) is not None
    secrets.write_text(json.dumps({"demo-0001": first["demo-0001"]}))  # two secrets lost
    rekeyed = provision(rt.sessions, rt.clock, 3, secrets)
    assert rekeyed["demo-0001"] == first["demo-0001"] and rekeyed["demo-0002"] != first["demo-0002"]
    with rt.sessions() as s:
        assert all(verify_device(s, d, p) for d, p in rekeyed.items())
        assert not verify_device(s, "demo-0002", first["demo-0002"])
