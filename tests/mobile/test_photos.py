"""Photos from site: recognised by content, bounded in size, stored once, kept on the job."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from fieldwork.media import sniff_image
from fieldwork.storage import LocalBlobStore
from mobile_contract.client import MobileClient
from tests.conftest import T0
from tests.world import PASSWORD, World

Client = TestClient


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "image/jpeg"),
        (tiny_png(), "image/png"),
        (HEIC, "image/heic"),
        (b"hello, I am text", None),
        (b"GIF89a....", None),
        (b"", None),
    ],
)
def test_sniffing(data: bytes, kind: str | None) -> None:
    assert sniff_image(data[:32]) == kind


def stored_files(world: World) -> list[Path]:
    blobs = world.system.runtime.blobs
    assert isinstance(blobs, LocalBlobStore)
    return [p for p in blobs.root.rglob("*") if p.is_file()] if blobs.root.exists() else []


@pytest.fixture
def visit_and_token(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> tuple[int, int, dict[str, str]]:
    wo = client.post(
        "/work-orders", headers=as_dispatcher, json={"title": "t", "site_id": world.ids["site"]}
    ).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=as_dispatcher,
        json={"engineer_id": world.ids["engineer"], "dispatch": True},
    ).json()
    app = MobileClient(client)
    app.sign_in("engineer", PASSWORD)
    assert app.session is not None
    return wo["id"], visit["id"], {"Authorization": f"Bearer {app.session.access_token}"}


def upload(client: Client, visit_id: int, h: dict[str, str], data: bytes, name: str = "p.jpg", **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/mobile/v1/visits/{visit_id}/photos",
        headers=h,
        files={"file": (name, data, "image/jpeg")},
        data=fields,
    )


def test_upload_then_duplicate_is_stored_once(client: Client, visit_and_token: tuple, world: World) -> None:
    _, visit_id, h = visit_and_token
    taken = (T0 - timedelta(minutes=3)).isoformat()
    first = upload(
        client,
        visit_id,
        h,
        tiny_png(),
        "photo.png",
        category="before",
        caption="配电柜",
        taken_at=taken,
        lat="31.2335",
        lon="121.5055",
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["content_type"] == "image/png" and body["category"] == "before" and body["duplicate"] is False
    again = upload(client, visit_id, h, tiny_png(), "other-name.png", category="before")
    assert again.status_code == 200
    assert again.json()["photo_id"] == body["photo_id"] and again.json()["duplicate"] is True
    assert len(stored_files(world)) == 1


@pytest.mark.parametrize(
    ("data", "fields", "status", "field"),
    [
        (b"just some text, renamed to .jpg", {}, 422, "file"),
        (b"", {}, 422, "file"),
        (JPEG, {"category": "selfie"}, 422, "category"),
        (JPEG, {"lat": "95", "lon": "10"}, 422, "lat"),
        (JPEG, {"lat": "31.2"}, 422, "lon"),
        (JPEG, {"taken_at": "2030-01-01T00:00:00Z"}, 422, "taken_at"),
    ],
)
def test_bad_uploads_store_nothing(
    client: Client, visit_and_token: tuple, world: World, data: bytes, fields: dict, status: int, field: str
) -> None:
    _, visit_id, h = visit_and_token
    r = upload(client, visit_id, h, data, **fields)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    assert stored_files(world) == []


def test_oversized_upload_is_413(client: Client, visit_and_token: tuple) -> None:
    _, visit_id, h = visit_and_token
    r = upload(client, visit_id, h, JPEG + b"\x00" * (16 * 1024 * 1024))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    keyed = upload(client, visit_id, {**h, "Idempotency-Key": "big-1"}, JPEG + b"\x00" * (21 * 1024 * 1024))
    assert keyed.status_code == 413


def test_wrong_content_type_is_a_clear_error(client: Client, visit_and_token: tuple) -> None:
    _, visit_id, h = visit_and_token
    r = client.post(
        f"/mobile/v1/visits/{visit_id}/photos",
        headers={**h, "Content-Type": "application/json"},
        content=b'{"file": "x"}',
    )
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "file" and "multipart/form-data" in r.json()["detail"]
    for content_type in ("text/plain", None):  # and no content type at all
        headers = {**h, "Content-Type": content_type} if content_type else h
        assert client.post(f"/mobile/v1/visits/{visit_id}/photos", headers=headers).status_code == 415


def test_another_engineer_cannot_add_photos(client: Client, visit_and_token: tuple) -> None:
    _, visit_id, _ = visit_and_token
    other = MobileClient(client)
    other.sign_in("engineer_b", PASSWORD)
    assert other.session is not None
    r = upload(client, visit_id, {"Authorization": f"Bearer {other.session.access_token}"}, JPEG)
    assert r.status_code == 404
