"""`fieldops serve --demo` as a user runs it: the demo's devices talk real MQTT; their telemetry is stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.iot.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    env = {
        **os.environ,
        "FIELDOPS_DATA_DIR": str(tmp_path / "data"),
        "FIELDOPS_PORT": str(port),
        "FIELDOPS_EMBEDDED_MQTT_PORT": str(free_port()),
        "FIELDOPS_DEMO_DEVICES": "6",
        "FIELDOPS_LOG_LEVEL": "warning",
    }
    for name in ("FIELDOPS_DATABASE_URL", "FIELDOPS_MQTT_URL"):
        env.pop(name, None)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fieldops.cli", "serve", "--demo"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}", proc, log_path
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"serve never became ready: {log.read_text()[-3000:]}")


def test_serve_demo_devices_publish_over_the_embedded_broker(
    served: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base, proc, log = served
    _wait_ready(base, proc, log)
    token = httpx.post(f"{base}/auth/token", json={"username": "dispatcher", "password": "dispatcher-demo"})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def stats() -> dict[str, Any]:
        r = httpx.get(f"{base}/iot/stats", headers=headers, timeout=5)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    deadline = time.monotonic() + 60
    totals: dict[str, int] = {}
    while time.monotonic() < deadline:
        totals = stats()["totals"]
        if totals.get("stored", 0) >= 30:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"no telemetry stored: {totals}\n{log.read_text()[-3000:]}")
    devices = httpx.get(f"{base}/devices?limit=50", headers=headers).json()["items"]
    assert sorted(d["id"] for d in devices) == [f"demo-{i:04d}" for i in range(1, 7)]
    assert {d["status"] for d in devices} == {"online"}
    # SIGTERM stops it promptly. (uvicorn re-raises the signal once it has shut down, so the exit status
    # is -SIGTERM unless `serve` installs a SIGTERM handler of its own.)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()
