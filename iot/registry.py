"""The device registry: devices bound to assets, their credentials, and the broker's access lists.

A device's secret is generated here, shown once, and kept only as hashes: argon2 for the embedded broker
(`iot.broker`), and PBKDF2-SHA512 in Mosquitto's own `$7$` format for the password file that
`fieldops iot acl` writes. The access rule is the same on both brokers: a device publishes only under its
own id (telemetry, events, status) and subscribes to nothing; the ingest account reads all device topics
and writes only the engineers' nudges.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from msgspec import Meta
from sqlalchemy.orm import Session

from core.domain.errors import Conflict, Invalid, NotFound
from core.services.common import Id, Input, Name, get_or_404, get_ref
from core.services.context import ServiceContext
from core.services.events import audit
from core.store.models import Asset, AssetModel, Engineer
from iot import contract
from iot.models import Device, IotProfile

_hasher = PasswordHasher()
PBKDF2_ITERATIONS = 101_000
# Accounts of fieldops itself on the broker (not devices).
INGEST_USER = "fieldops-ingest"
# Engineers' apps sign in to the broker as `engineer-<id>` to receive their nudges (`iot.nudge`).
ENGINEER_PREFIX = "engineer-"


class DeviceInput(Input):
    id: contract.DeviceId
    asset_id: Id
    name: Name | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    device: Device
    # Shown once, at registration or rotation; only its hashes are stored.
    password: str


def register_device(ctx: ServiceContext, data: DeviceInput) -> Registered:
    session = ctx.session
    get_ref(session, Asset, data.asset_id, "asset_id", "asset")
    if data.id == INGEST_USER or data.id.startswith(ENGINEER_PREFIX):
        raise Invalid(f"{data.id!r} is reserved for fieldops' own broker accounts", field="id")
    if session.get(Device, data.id) is not None:
        raise Conflict(f"device {data.id!r} is already registered")
    password = new_secret()
    device = Device(
        id=data.id,
        asset_id=data.asset_id,
        name=data.name,
        password_hash=_hasher.hash(password),
        broker_hash=mosquitto_hash(password),
        active=True,
        status="unknown",
        created_at=ctx.now(),
    )
    session.add(device)
    session.flush()
    audit(ctx, "device", data.asset_id, "device_registered", data={"device_id": data.id})
    session.commit()
    return Registered(device, password)


def rotate_credentials(ctx: ServiceContext, device_id: str) -> Registered:
    device = get_device(ctx.session, device_id)
    password = new_secret()
    device.password_hash = _hasher.hash(password)
    device.broker_hash = mosquitto_hash(password)
    audit(ctx, "device", device.asset_id, "device_credentials_rotated", data={"device_id": device_id})
    ctx.session.commit()
    return Registered(device, password)


def set_active(ctx: ServiceContext, device_id: str, active: bool) -> Device:
    device = get_device(ctx.session, device_id)
    if device.active != active:
        device.active = active
        action = "device_enabled" if active else "device_disabled"
        audit(ctx, "device", device.asset_id, action, data={"device_id": device_id})
    ctx.session.commit()
    return device


def get_device(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"device {device_id!r} does not exist")
    return device


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def verify_device(session: Session, username: str, password: str) -> bool:
    """The embedded broker's check: an active device whose argon2 hash matches."""
    if not contract.is_valid_device_id(username):
        return False
    device = session.get(Device, username)
    if device is None or not device.active:
        return False
    try:
        return _hasher.verify(device.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- engineers' nudge accounts


def engineer_username(engineer_id: int) -> str:
    return f"{ENGINEER_PREFIX}{engineer_id}"


def engineer_password(secret_key: str, engineer_id: int) -> str:
    """Derived from the server's secret, so nothing is stored: the app gets it from the API when signed in.

    Rotating FIELDOPS_SECRET_KEY rotates every engineer's broker password (rewrite the ACL files then).
    """
    mac = hmac.new(secret_key.encode(), f"mqtt-engineer:{engineer_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def engineer_of(username: str) -> int | None:
    """The engineer id of a broker username `engineer-<id>`, else None."""
    if not username.startswith(ENGINEER_PREFIX):
        return None
    digits = username[len(ENGINEER_PREFIX) :]
    return int(digits) if digits.isdigit() and len(digits) < 19 else None


def verify_engineer(session: Session, secret_key: str, username: str, password: str) -> int | None:
    engineer_id = engineer_of(username)
    if engineer_id is None or not hmac.compare_digest(
        engineer_password(secret_key, engineer_id).encode(), password.encode()
    ):
        return None
    engineer = session.get(Engineer, engineer_id)
    return engineer_id if engineer is not None and engineer.active else None


# ---------------------------------------------------------------- profiles (detection as data)


class SkillNeed(msgspec.Struct, forbid_unknown_fields=True):
    skill: Annotated[str, Meta(min_length=1, max_length=64)]
    min_level: Annotated[int, Meta(ge=1, le=5)] = 1


class PartNeed(msgspec.Struct, forbid_unknown_fields=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    quantity: Annotated[int, Meta(ge=1, le=1000)] = 1


class FaultRule(msgspec.Struct, forbid_unknown_fields=True):
    """What to do about one fault (alarm type): the work order it becomes, if any."""

    title: Annotated[str, Meta(min_length=1, max_length=200)]
    work_order: bool = True
    # None: predictive for detector alarms, corrective for device fault codes.
    kind: str | None = None
    skills: Annotated[list[SkillNeed], Meta(max_length=20)] = []
    parts: Annotated[list[PartNeed], Meta(max_length=50)] = []
    minutes: Annotated[int, Meta(ge=1, le=7 * 24 * 60)] = 120


class ProfileInput(Input):
    # The detection package's profile document for this asset model (`iot.detection.decode_profile`).
    detection: dict[str, Any] = {}
    # Fault key (`fault:E42`, `trend:vibration`, `threshold:temperature`, `offline`, or `fault:*` /
    # `*` as fallbacks) → work order rule.
    faults: dict[Annotated[str, Meta(max_length=96)], FaultRule] = {}
    heartbeat_timeout_s: Annotated[int, Meta(ge=30, le=7 * 86400)] = 300


def put_profile(ctx: ServiceContext, asset_model_id: int, data: ProfileInput) -> IotProfile:
    get_or_404(ctx.session, AssetModel, asset_model_id, "asset model")
    from iot.detection_adapter import validate_config

    validate_config(data.detection)
    profile = ctx.session.get(IotProfile, asset_model_id)
    if profile is None:
        profile = IotProfile(asset_model_id=asset_model_id, updated_at=ctx.now())
        ctx.session.add(profile)
    profile.detection = data.detection
    profile.faults = msgspec.to_builtins(data.faults)
    profile.heartbeat_timeout_s = data.heartbeat_timeout_s
    profile.updated_at = ctx.now()
    audit(ctx, "asset_model", asset_model_id, "iot_profile_set")
    ctx.session.commit()
    return profile


# ---------------------------------------------------------------- Mosquitto files


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """Mosquitto 2's `$7$` password-file hash: PBKDF2-HMAC-SHA512, base64 salt and digest."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_mosquitto_hash(password: str, hashed: str) -> bool:
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected, base64.b64decode(digest))


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    passwd: str
    acl: str
    devices: int
    engineers: int = 0


def broker_files(
    session: Session, service_accounts: dict[str, str], *, engineer_secret: str | None = None
) -> BrokerFiles:
    """The password file and ACL for every active device plus fieldops' own accounts (user → password).

    With `engineer_secret` (the server's secret key), every active engineer also gets an account that may
    read their own assignments topic and nothing else.
    """
    rows = session.execute(
        sa.select(Device.id, Device.broker_hash).where(Device.active.is_(True)).order_by(Device.id)
    ).all()
    engineers: list[int] = []
    if engineer_secret:
        engineers = list(
            session.scalars(sa.select(Engineer.id).where(Engineer.active.is_(True)).order_by(Engineer.id))
        )
    passwd = [f"{user}:{mosquitto_hash(password)}" for user, password in sorted(service_accounts.items())]
    passwd += [f"{device_id}:{hashed}" for device_id, hashed in rows]
    passwd += [
        f"{engineer_username(e)}:{mosquitto_hash(engineer_password(engineer_secret or '', e))}"
        for e in engineers
    ]
    acl = acl_text(service_accounts, engineers)
    return BrokerFiles("\n".join(passwd) + "\n", acl, len(rows), len(engineers))


def acl_text(service_accounts: Iterable[str], engineers: Iterable[int] = ()) -> str:
    lines = [
        "# Generated by `fieldops iot acl` from the device registry; do not edit by hand.",
        "# Devices: publish only under their own id (%u is the MQTT username = the device id);",
        "# no read rule, so a device can subscribe to nothing and receives nothing.",
    ]
    lines += [f"pattern write {contract.DEVICE_TOPICS}/%u/{kind}" for kind in contract.Kind]
    for user in sorted(service_accounts):
        lines += [
            "",
            f"user {user}",
            f"topic read {contract.DEVICE_TOPICS}/#",
            f"topic write {contract.PREFIX}/engineers/+/assignments",
        ]
    for engineer_id in engineers:
        lines += [
            "",
            f"user {engineer_username(engineer_id)}",
            f"topic read {contract.assignments_topic(engineer_id)}",
        ]
    return "\n".join(lines) + "\n"


def write_broker_files(files: BrokerFiles, passwd_path: Path, acl_path: Path) -> None:
    """Write both files atomically (Mosquitto re-reads them on SIGHUP); the password file is 0600."""
    for path, text, mode in ((passwd_path, files.passwd, 0o600), (acl_path, files.acl, 0o644)):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        tmp.chmod(mode)
        tmp.replace(path)
