"""The composition root: settings in, a running system's parts out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from sqlalchemy.engine import Engine

from api.app import create_app
from api.auth import make_jwt_auth
from api.deps import Runtime
from core.domain.clock import Clock, SystemClock
from core.services.events import EventBus
from core.store.db import make_engine, make_sessionmaker
from fieldops.features import wire_features
from fieldops.settings import Settings
from fieldwork.storage import blob_store_for


@dataclass(frozen=True, slots=True)
class System:
    settings: Settings
    engine: Engine
    runtime: Runtime


def build_system(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> System:
    engine = engine or make_engine(settings.resolved_database_url())
    sessions = make_sessionmaker(engine)
    bus = EventBus()
    bus.attach(sessions)
    clock = clock or SystemClock()
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    runtime = Runtime(
        sessions=sessions,
        clock=clock,
        bus=bus,
        jwt_auth=make_jwt_auth(settings.resolved_secret_key(), access_ttl),
        access_ttl=access_ttl,
        refresh_ttl=timedelta(days=settings.refresh_token_days),
        blobs=blob_store_for(settings.blob_url, Path(settings.data_dir) / "blobs"),
        reject_off_site_check_ins=settings.reject_off_site_check_ins,
        live_stream_seconds=settings.live_stream_seconds,
    )
    system = System(settings, engine, runtime)
    wire_features(system)
    return system


def build_app(system: System) -> Litestar:
    return create_app(system.runtime)
