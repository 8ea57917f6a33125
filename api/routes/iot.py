"""/devices, /alarms, /iot/stats, /iot/dead-letters and /iot/profiles: the IoT side of the API."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.exceptions import ServiceUnavailableException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from api.access import needs
from api.deps import Ctx, expected_version, paged, runtime, tagged
from api.routes.work_orders import IfMatch
from core.domain.errors import Forbidden
from core.services.common import Input, get_or_404
from core.services.context import Actor
from core.services.paging import Page
from iot import alarms, contract, registry, stats
from iot.models import Alarm, DeadLetter, Device, IotProfile
from iot.nudge import IotFeature


class DeviceOut(msgspec.Struct, kw_only=True):
    id: str
    asset_id: int
    name: str | None
    active: bool
    status: str
    status_at: datetime | None
    last_seen_at: datetime | None
    created_at: datetime


class MqttAccess(msgspec.Struct, kw_only=True):
    username: str
    client_id: str
    password: str
    telemetry_topic: str
    events_topic: str
    status_topic: str


class RegisteredOut(msgspec.Struct, kw_only=True):
    device: DeviceOut
    # Shown once: only hashes of the password are kept.
    mqtt: MqttAccess


class DevicePatch(Input):
    active: bool


class AlarmOut(msgspec.Struct, kw_only=True):
    id: int
    asset_id: int
    device_id: str | None
    alarm_type: str
    source: str
    severity: str
    state: str
    message: str
    first_seen_at: datetime
    last_seen_at: datetime
    count: int
    evidence: dict[str, Any]
    work_order_id: int | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    clear_reason: str | None
    version: int


class ClearInput(Input):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class DeadLetterOut(msgspec.Struct, kw_only=True):
    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    detail: str
    size: int
    worker: str
    payload_base64: str
    # The body as text when it is UTF-8, for reading at a glance.
    payload_text: str | None


class ProfileOut(msgspec.Struct, kw_only=True):
    asset_model_id: int
    detection: dict[str, Any]
    faults: dict[str, Any]
    heartbeat_timeout_s: int
    updated_at: datetime


def _device(d: Device) -> DeviceOut:
    return msgspec.convert(d, DeviceOut, from_attributes=True)


def _alarm(a: Alarm) -> AlarmOut:
    return msgspec.convert(a, AlarmOut, from_attributes=True)


def _registered(done: registry.Registered) -> RegisteredOut:
    d = done.device
    return RegisteredOut(
        device=_device(d),
        mqtt=MqttAccess(
            username=d.id,
            client_id=d.id,
            password=done.password,
            telemetry_topic=contract.telemetry_topic(d.id),
            events_topic=contract.events_topic(d.id),
            status_topic=contract.status_topic(d.id),
        ),
    )


class DeviceController(Controller):
    path = "/devices"
    tags = ["devices"]

    @post(opt=needs("devices.manage"), sync_to_thread=True)
    def register_device(self, ctx: Ctx, data: JSONBody[registry.DeviceInput]) -> Response[RegisteredOut]:
        """Register a device for an asset. The response holds its MQTT password, shown this once."""
        return Response(_registered(registry.register_device(ctx, data)), status_code=201)

    @get(opt=needs("devices.read"), sync_to_thread=True)
    def list_devices(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        asset_id: FromQuery[int | None] = None,
        status: FromQuery[list[str] | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Response[dict[str, Any]]:
        """Devices by id; `status` is online, offline or unknown (repeat to OR)."""
        query = sa.select(Device)
        if asset_id is not None:
            query = query.where(Device.asset_id == asset_id)
        if status:
            query = query.where(Device.status.in_(status))
        if cursor:
            query = query.where(Device.id > cursor)
        rows = list(ctx.session.scalars(query.order_by(Device.id).limit(limit + 1)))
        page = Page(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)
        return paged(request, page, _device)

    @get("/{device_id:str}", opt=needs("devices.read"), sync_to_thread=True)
    def get_device(self, ctx: Ctx, device_id: FromPath[str]) -> DeviceOut:
        return _device(registry.get_device(ctx.session, device_id))

    @patch("/{device_id:str}", opt=needs("devices.manage"), sync_to_thread=True)
    def update_device(self, ctx: Ctx, device_id: FromPath[str], data: JSONBody[DevicePatch]) -> DeviceOut:
        """Disable (or re-enable) a device: the embedded broker refuses it at once; rerun `iot acl`."""
        return _device(registry.set_active(ctx, device_id, data.active))

    @post("/{device_id:str}/credentials", opt=needs("devices.manage"), sync_to_thread=True, status_code=201)
    def rotate_credentials(self, ctx: Ctx, device_id: FromPath[str]) -> RegisteredOut:
        """A new MQTT password for the device (shown once); the old one stops working."""
        return _registered(registry.rotate_credentials(ctx, device_id))


class AlarmController(Controller):
    path = "/alarms"
    tags = ["alarms"]

    @get(opt=needs("alarms.read"), sync_to_thread=True)
    def list_alarms(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        states: Annotated[list[str] | None, QueryParameter(name="state")] = None,
        asset_id: FromQuery[int | None] = None,
        alarm_type: Annotated[str | None, QueryParameter(max_length=96)] = None,
        work_order_id: FromQuery[int | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=20, pattern=r"^\d+$")] = None,
    ) -> Response[dict[str, Any]]:
        """Alarms, newest first; `state` is active, acknowledged or cleared (repeat to OR)."""
        flt = alarms.AlarmFilter(
            states=frozenset(states or ()),
            asset_id=asset_id,
            alarm_type=alarm_type,
            work_order_id=work_order_id,
        )
        page = alarms.list_alarms(ctx, flt, limit=limit, before=int(cursor) if cursor else None)
        return paged(request, page, _alarm)

    @get("/{alarm_id:int}", opt=needs("alarms.read"), sync_to_thread=True)
    def get_alarm(self, ctx: Ctx, alarm_id: FromPath[int]) -> Response[AlarmOut]:
        alarm = get_or_404(ctx.session, Alarm, alarm_id, "alarm")
        return tagged(_alarm(alarm), alarm.version)

    @post("/{alarm_id:int}/acknowledge", opt=needs("alarms.write"), sync_to_thread=True, status_code=200)
    def acknowledge(self, ctx: Ctx, alarm_id: FromPath[int], if_match: IfMatch = None) -> Response[AlarmOut]:
        alarm = alarms.acknowledge(ctx, alarm_id, expected_version(if_match))
        return tagged(_alarm(alarm), alarm.version)

    @post("/{alarm_id:int}/clear", opt=needs("alarms.write"), sync_to_thread=True, status_code=200)
    def clear(
        self, ctx: Ctx, alarm_id: FromPath[int], data: JSONBody[ClearInput], if_match: IfMatch = None
    ) -> Response[AlarmOut]:
        alarm = alarms.clear(ctx, alarm_id, data.reason, expected_version(if_match))
        return tagged(_alarm(alarm), alarm.version)


class NudgeAccess(msgspec.Struct, kw_only=True):
    """How the signed-in engineer's app listens for "your plan changed, sync" (MQTT, QoS 1, retained)."""

    username: str
    password: str
    topic: str
    qos: int = 1


class IotController(Controller):
    path = "/iot"
    tags = ["devices"]

    @get("/nudge-access", opt=needs("mobile"), sync_to_thread=False)
    def nudge_access(self, request: Request[Actor, Any, Any]) -> NudgeAccess:
        """The app's broker account: it may subscribe to its own assignments topic and nothing else."""
        feature = runtime(request.app.state).features.get("iot")
        engineer_id = request.user.engineer_id
        if not isinstance(feature, IotFeature):
            raise ServiceUnavailableException("the IoT feature is not running")
        if engineer_id is None:
            raise Forbidden("only engineers' accounts have an assignments topic")
        return NudgeAccess(
            username=registry.engineer_username(engineer_id),
            password=registry.engineer_password(feature.engineer_secret, engineer_id),
            topic=contract.assignments_topic(engineer_id),
        )

    @get("/stats", opt=needs("devices.read"), sync_to_thread=True)
    def ingest_stats(self, ctx: Ctx) -> dict[str, Any]:
        """Counters of every ingest worker (received, stored, duplicate, dead-lettered, …) and their sums."""
        return stats.ingest_stats(ctx.session, ctx.now())

    @get("/dead-letters", opt=needs("devices.read"), sync_to_thread=True)
    def dead_letters(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        reason: Annotated[str | None, QueryParameter(max_length=32)] = None,
        device_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=20, pattern=r"^\d+$")] = None,
    ) -> Response[dict[str, Any]]:
        """Refused messages, newest first, with their raw bytes (base64) and the reason."""
        query = sa.select(DeadLetter)
        if reason:
            query = query.where(DeadLetter.reason == reason)
        if device_id:
            query = query.where(DeadLetter.device_id == device_id)
        if cursor:
            query = query.where(DeadLetter.id < int(cursor))
        rows = list(ctx.session.scalars(query.order_by(DeadLetter.id.desc()).limit(limit + 1)))
        page = Page(rows[:limit], str(rows[limit - 1].id) if len(rows) > limit else None)
        return paged(request, page, _dead_letter)

    @get("/profiles/{asset_model_id:int}", opt=needs("devices.read"), sync_to_thread=True)
    def get_profile(self, ctx: Ctx, asset_model_id: FromPath[int]) -> ProfileOut:
        profile = get_or_404(ctx.session, IotProfile, asset_model_id, "IoT profile of asset model")
        return msgspec.convert(profile, ProfileOut, from_attributes=True)

    @put("/profiles/{asset_model_id:int}", opt=needs("devices.manage"), sync_to_thread=True)
    def put_profile(
        self, ctx: Ctx, asset_model_id: FromPath[int], data: JSONBody[registry.ProfileInput]
    ) -> ProfileOut:
        """How an asset model is watched: the detectors' configuration and the fault → work order map."""
        profile = registry.put_profile(ctx, asset_model_id, data)
        return msgspec.convert(profile, ProfileOut, from_attributes=True)


def _dead_letter(d: DeadLetter) -> DeadLetterOut:
    try:
        text: str | None = d.payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return DeadLetterOut(
        id=d.id,
        received_at=d.received_at,
        topic=d.topic,
        device_id=d.device_id,
        reason=d.reason,
        detail=d.detail,
        size=d.size,
        worker=d.worker,
        payload_base64=base64.b64encode(d.payload).decode(),
        payload_text=text,
    )


ROUTES: list[ControllerRouterHandler] = [DeviceController, AlarmController, IotController]
