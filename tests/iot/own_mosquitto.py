"""A Mosquitto of the test's own, on a free port, with persistence (and, if asked, passwords and an ACL)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from iot.mqtt import BrokerUrl
from tests.iot.helpers import free_port
from tests.services import tcp_reachable


class OwnMosquitto:
    def __init__(self, workdir: Path, *, passwd: Path | None = None, acl: Path | None = None) -> None:
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.workdir = workdir
        self.port = free_port()
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {workdir / 'data'}/",
            "max_queued_messages 100000",
            "max_inflight_messages 1000",
            "log_dest stderr",
            "log_type error",
        ]
        if os.geteuid() == 0:  # otherwise Mosquitto drops to its own user, who cannot write here
            lines.append("user root")
        if passwd is not None:
            lines += ["allow_anonymous false", f"password_file {passwd}"]
            if acl is not None:
                lines.append(f"acl_file {acl}")
        else:
            lines.append("allow_anonymous true")
        self.config = workdir / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl("127.0.0.1", self.port, None, None, False)

    def start(self) -> None:
        log = (self.workdir / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while tcp_reachable(f"mqtt://127.0.0.1:{self.port}") is not None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(
                    f"mosquitto did not start: {(self.workdir / 'mosquitto.log').read_text()[-2000:]}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): Mosquitto writes its persistence file on the way out."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
