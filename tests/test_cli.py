"""The `fieldops` command as a newcomer uses it: help everywhere, and `serve --demo` answering real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fieldops.cli import cli

COMMANDS = [[], ["serve"], ["migrate"], ["demo"], ["user"], ["user", "add"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "fieldops")
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "FIELDOPS_DATA_DIR": str(tmp_path / "data"),
        "FIELDOPS_PORT": str(port),
        # The embedded broker too gets a free port, so a served demo never collides with another.
        "FIELDOPS_EMBEDDED_MQTT_PORT": str(free_port()),
    }
    env.pop("FIELDOPS_DATABASE_URL", None)
    env.pop("FIELDOPS_MQTT_URL", None)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fieldops.cli", "serve", "--demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"serve exited: {(tmp_path / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail(f"serve never became ready: {(tmp_path / 'serve.log').read_text()}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_serve_demo_end_to_end(served: str) -> None:
    """The README's promise: run, open the docs, sign in as the demo dispatcher, list and move work."""
    assert httpx.get(f"{served}/schema/openapi.json").json()["info"]["title"] == "fieldops"
    token = httpx.post(f"{served}/auth/token", json={"username": "dispatcher", "password": "dispatcher-demo"})
    assert token.status_code == 200, token.text
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    page = httpx.get(f"{served}/work-orders?limit=100", headers=h).json()
    statuses = {w["status"] for w in page["items"]}
    # The 40 live demo jobs, newest first; behind them the closed history the care features learn from.
    assert len([w for w in page["items"] if w["status"] != "closed"]) == 40
    assert {"new", "scheduled", "dispatched", "in_progress"} <= statuses
    new = next(w for w in page["items"] if w["status"] == "new")
    moved = httpx.post(
        f"{served}/work-orders/{new['id']}/transitions",
        json={"to": "cancelled", "reason": "demo"},
        headers={**h, "If-Match": f'"{new["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "cancelled"
