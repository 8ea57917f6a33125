"""Automation fixtures: the world, a clock inside business hours, workers, and a real HTTP receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from automation import people, rules
from automation.engine import RuleEngine
from core.domain.workorders import Priority
from core.services import workorders
from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from tests.world import World


def ctx_of(system: System, name: str = "test") -> ServiceContext:
    rt = system.runtime
    return ServiceContext(rt.sessions(), rt.clock, Actor.system(name))


def new_work_order(
    system: System, site_id: int, priority: str = "P1", title: str = "冷机停机 chiller down"
) -> int:
    ctx = ctx_of(system)
    with ctx.session:
        wo = workorders.create_work_order(
            ctx, workorders.WorkOrderInput(title=title, site_id=site_id, priority=Priority(priority))
        )
        return wo.id


def seed(system: System, world: World) -> None:
    ctx = ctx_of(system, "setup")
    with ctx.session:
        rules.ensure_seeded(ctx)
        people.put_assignee(
            ctx,
            people.AssigneeInput(
                role="supervisor", username="dispatcher", territory_id=world.ids["territory"]
            ),
        )
        people.put_assignee(
            ctx,
            people.AssigneeInput(role="account_owner", username="admin", customer_id=world.ids["customer"]),
        )
        people.put_assignee(
            ctx,
            people.AssigneeInput(role="account_owner", username="admin", customer_id=world.ids["customer_b"]),
        )


def engine(system: System, name: str, **kw: Any) -> RuleEngine:
    return RuleEngine(system.runtime.sessions, system.runtime.clock, worker=name, **kw)


@dataclass
class Receiver:
    """A real HTTP server on localhost that records what it gets and answers with scripted codes."""

    script: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def next_code(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            code = rec.next_code()
            with rec.lock:
                rec.received.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "code": code}
                )
            payload = json.dumps({"ok": code < 300}).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
