"""Small helpers around paho-mqtt 2.x shared by the ingest worker, the simulator and the tests."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """`mqtt://user:pass@host:1883` or `mqtts://…` (TLS, default port 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"an MQTT URL starts with mqtt:// or mqtts://, not {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def with_credentials(self, username: str | None, password: str | None) -> BrokerUrl:
        return BrokerUrl(self.host, self.port, username, password, self.tls)

    def __str__(self) -> str:  # never print the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def make_client(
    broker: BrokerUrl,
    client_id: str,
    *,
    v5: bool,
    persistent: bool = False,
    manual_ack: bool = False,
    userdata: Any = None,
) -> mqtt.Client:
    """A paho client (callback API v2). `persistent`: keep the session (clean_session / clean_start off)."""
    if v5:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
            userdata=userdata,
        )
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=not persistent,
            manual_ack=manual_ack,
            userdata=userdata,
        )
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=15)
    return client


def connect_properties(*, session_expiry_s: int = 0, receive_maximum: int | None = None) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if session_expiry_s:
        props.SessionExpiryInterval = session_expiry_s
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    return props


def connect(
    client: mqtt.Client,
    broker: BrokerUrl,
    *,
    v5: bool,
    persistent: bool = False,
    keepalive: int = 30,
    session_expiry_s: int = 7 * 86400,
    receive_maximum: int | None = None,
) -> None:
    if v5:
        client.connect(
            broker.host,
            broker.port,
            keepalive=keepalive,
            clean_start=not persistent,
            properties=connect_properties(
                session_expiry_s=session_expiry_s if persistent else 0, receive_maximum=receive_maximum
            ),
        )
    else:
        client.connect(broker.host, broker.port, keepalive=keepalive)


def content_type(message: mqtt.MQTTMessage) -> str | None:
    props = getattr(message, "properties", None)
    value = getattr(props, "ContentType", None) if props is not None else None
    return value if isinstance(value, str) else None
