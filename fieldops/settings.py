"""One settings object, read from FIELDOPS_* environment variables, with the embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # Where the embedded default keeps its SQLite file, secret key and uploads.
    data_dir: str = ".fieldops"
    # Empty: a SQLite file in data_dir. Production: postgresql+psycopg://user:pass@host/db
    database_url: str = ""
    # Empty: start the in-process MQTT broker (amqtt). Production: mqtt://user:pass@host:1883
    mqtt_url: str = ""
    embedded_mqtt_port: int = 1884
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    # Signs tokens. Empty: generated once and kept in data_dir (fine for one machine, not for a cluster).
    secret_key: str = ""
    access_token_minutes: Annotated[int, Meta(ge=1)] = 30
    refresh_token_days: Annotated[int, Meta(ge=1)] = 30
    log_format: Annotated[str, Meta(pattern="^(console|json)$")] = "console"
    log_level: str = "info"
    # A check-in outside the site's geofence is recorded and flagged; set this to refuse it instead.
    reject_off_site_check_ins: bool = False
    # Whether `serve` applies migrations itself (always on for SQLite; opt in for PostgreSQL).
    auto_migrate: bool = False
    # IoT: telemetry older than this is dropped by `fieldops iot maintain` (whole partitions on PostgreSQL).
    telemetry_retention_days: Annotated[int, Meta(ge=1)] = 400
    # `fieldops serve` also simulates this many demo devices over MQTT (0: none).
    demo_devices: Annotated[int, Meta(ge=0)] = 0
    # Dispatch: travel times from an OSRM-compatible /table service when set, else straight line × circuity.
    osrm_url: str = ""
    travel_speed_kmh: Annotated[float, Meta(gt=0)] = 30.0
    travel_circuity: Annotated[float, Meta(ge=1)] = 1.35
    optimizer_seconds: Annotated[float, Meta(gt=0, le=600)] = 10.0
    # Outgoing e-mail (acknowledgements, notifications): smtp://user:pass@host:port; empty: not sent, logged.
    smtp_url: str = ""
    mail_from: str = "fieldops@localhost"
    # Blob storage for photos and attachments: empty = data_dir/blobs; s3://bucket/prefix for S3-compatible.
    blob_url: str = ""
    # Service desk: where `fieldops intake smtp` listens (and whether `serve` runs it too); the public base
    # address put into links sent to customers (surveys, portal).
    intake_smtp_host: str = "127.0.0.1"
    intake_smtp_port: Annotated[int, Meta(ge=1, le=65535)] = 2525
    intake_smtp_in_serve: bool = False
    public_url: str = ""
    # Automation: `serve` runs one rules/escalation/webhook worker beside the API unless told not to (as
    # when `fieldops worker` runs as its own service).
    automation_in_serve: bool = True
    # The console's live feed ends after this long; the page reconnects from its cursor, so nothing is missed
    # and no connection (or database poll) outlives a closed laptop for long.
    live_stream_seconds: Annotated[float, Meta(gt=0, le=3600)] = 300.0

    @property
    def is_embedded_db(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir).resolve() / 'fieldops.db'}"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        key_file = Path(self.data_dir) / "secret.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from FIELDOPS_<FIELD> variables; a bad value fails at start-up naming the variable."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for name in Settings.__struct_fields__:
        value = env.get(f"FIELDOPS_{name.upper()}")
        if value is not None:
            raw[name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("$.", 1)[-1].rstrip("`")
        raise SystemExit(f"configuration error in FIELDOPS_{field.upper()}: {exc}") from exc
    if settings.secret_key and len(settings.secret_key) < 32:
        # A short HMAC key can be brute-forced offline from any token it signed.
        raise SystemExit("configuration error in FIELDOPS_SECRET_KEY: use at least 32 characters")
    return settings
