"""The embedded MQTT broker (amqtt, MQTT 3.1.1) of the single-machine default, with the registry's rules.

The same rule as Mosquitto's generated ACL: a device signs in with its id and secret (argon2, checked
against the registry), may publish only its own telemetry, events and status — its Last Will included —
and may subscribe to nothing. fieldops' own accounts (the ingest worker) read every device topic;
an engineer's app (`engineer-<id>`, password from `iot.registry.engineer_password`) reads only its own
assignments topic. Nobody
is anonymous: amqtt only queues QoS 1 messages for authenticated persistent sessions, which is what keeps
telemetry for an ingest worker that is restarting.

amqtt keeps its sessions in memory: a restart of the embedded broker (that is, of `fieldops serve`) loses
what was queued. The no-loss-across-broker-restarts promise is Mosquitto's, with persistence on.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import structlog
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session as MqttSession
from sqlalchemy.orm import Session, sessionmaker

from iot import contract
from iot.registry import engineer_of, verify_device, verify_engineer

log = structlog.get_logger(__name__)

_DEVICE_PUBLISH = frozenset(contract.Kind)


@dataclass
class Authority:
    """Who may connect, and as what. `service_accounts` maps fieldops' own usernames to passwords."""

    sessions: sessionmaker[Session]
    service_accounts: dict[str, str]
    # The server's secret key: engineers' app accounts (`engineer-<id>`) derive their passwords from it.
    engineer_secret: str | None = None
    # client id → ("device" | "service" | "engineer", username), filled at CONNECT.
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)

    def check_service(self, username: str, password: str) -> bool:
        expected = self.service_accounts.get(username)
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def check_engineer(self, username: str, password: str) -> bool:
        if not self.engineer_secret:
            return False
        with self.sessions() as session:
            return verify_engineer(session, self.engineer_secret, username, password) is not None

    def check_device(self, username: str, password: str) -> bool:
        with self.sessions() as session:
            return verify_device(session, username, password)


class RegistryAuth(BaseAuthPlugin):  # type: ignore[misc]
    """CONNECT: service accounts by shared secret, devices by the registry; a Will only on their own topic."""

    @dataclass
    class Config:
        authority: Any = None

    async def authenticate(self, *, session: MqttSession) -> bool | None:
        authority: Authority = self.config.authority
        username, password = session.username or "", session.password or ""
        client_id = session.client_id or ""
        if not username:
            log.info("broker_refused", client_id=client_id, reason="anonymous")
            return False
        if authority.check_service(username, password):
            authority.clients[client_id] = ("service", username)
            return True
        if engineer_of(username) is not None:
            if await asyncio.to_thread(authority.check_engineer, username, password):
                authority.clients[client_id] = ("engineer", username)
                return True
            log.info("broker_refused", client_id=client_id, username=username, reason="bad credentials")
            return False
        ok = await asyncio.to_thread(authority.check_device, username, password)
        if not ok:
            log.info("broker_refused", client_id=client_id, username=username, reason="bad credentials")
            return False
        if client_id != username:
            log.info(
                "broker_refused",
                client_id=client_id,
                username=username,
                reason="client id is not the device id",
            )
            return False
        if session.will_flag and session.will_topic != contract.status_topic(username):
            log.info("broker_refused", client_id=client_id, reason=f"will topic {session.will_topic!r}")
            return False
        authority.clients[client_id] = ("device", username)
        return True


class RegistryTopics(BaseTopicPlugin):  # type: ignore[misc]
    """PUBLISH / SUBSCRIBE / RECEIVE: devices only publish under their own id; services read device topics."""

    @dataclass
    class Config:
        authority: Any = None

    async def topic_filtering(
        self, *, session: MqttSession | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        authority: Authority = self.config.authority
        if session is None or topic is None:
            return False
        role, username = authority.clients.get(session.client_id or "", ("", ""))
        if role == "service" and session.username == username:
            if action is Action.PUBLISH:
                return topic.startswith(f"{contract.PREFIX}/engineers/")
            return topic.startswith(f"{contract.DEVICE_TOPICS}/")
        if role == "engineer" and session.username == username:
            # The app reads its own nudges and nothing else.
            engineer_id = engineer_of(username)
            return (
                action is not Action.PUBLISH
                and engineer_id is not None
                and topic == contract.assignments_topic(engineer_id)
            )
        if role == "device" and session.username == username:
            if action is not Action.PUBLISH:
                return False
            parsed = contract.parse_topic(topic)
            allowed = parsed is not None and parsed.device_id == username and parsed.kind in _DEVICE_PUBLISH
            if not allowed:
                log.info("broker_denied_publish", device=username, topic=topic[:200])
            return allowed
        return False


class EmbeddedBroker:
    """amqtt running on its own event loop in a background thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        host: str = "127.0.0.1",
        port: int = 1884,
        service_accounts: dict[str, str],
        engineer_secret: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.authority = Authority(sessions, dict(service_accounts), engineer_secret)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def config(self) -> dict[str, Any]:
        plugin_cfg = {"authority": self.authority}
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                f"{__name__}.RegistryAuth": plugin_cfg,
                f"{__name__}.RegistryTopics": plugin_cfg,
            },
        }

    def start(self, timeout: float = 10.0) -> None:
        # amqtt logs every connection at INFO through the stdlib; keep it to warnings.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        self._thread = threading.Thread(target=self._run, name="mqtt-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the embedded MQTT broker did not start on {self.host}:{self.port}")
        if self._error is not None:
            raise RuntimeError(f"the embedded MQTT broker failed: {self._error}") from self._error
        log.info("embedded_broker_started", host=self.host, port=self.port)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _start(self) -> None:
        self._broker = Broker(self.config())
        await self._broker.start()

    def stop(self, timeout: float = 10.0) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            future.result(timeout)
        except Exception:
            log.exception("embedded_broker_stop_failed")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
