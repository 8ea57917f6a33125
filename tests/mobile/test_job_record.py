"""What the office sees of a finished job: the record, photo previews (HEIC too) and the service report."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pillow_heif
import pytest
from litestar.testing import TestClient
from PIL import Image
from pypdf import PdfReader

from core.domain.clock import FixedClock
from mobile_contract import wire
from mobile_contract.client import MobileClient
from tests.inventory.helpers import FILTER
from tests.mobile.conftest import png
from tests.world import login

pillow_heif.register_heif_opener()


def photo(kind: str, size: tuple[int, int] = (1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, kind)
    return out.getvalue()


def _upload(client: TestClient, app: MobileClient, vid: int, data: bytes, name: str, category: str) -> dict:
    assert app.session is not None
    response = client.post(
        f"/mobile/v1/visits/{vid}/photos",
        headers={"Authorization": f"Bearer {app.session.access_token}"},
        files={"file": (name, data, "application/octet-stream")},
        data={"category": category, "caption": "压缩机 before"},
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def finished(on_site: dict, client: TestClient, clock: FixedClock) -> dict:
    app: MobileClient = on_site["app"]
    vid = on_site["visit"]["id"]
    _upload(client, app, vid, photo("JPEG"), "a.jpg", "before")
    _upload(client, app, vid, photo("HEIF", (640, 480)), "b.heic", "after")
    clock.advance(timedelta(minutes=40))
    app.add_note(vid, wire.NewNote(occurred_at=clock.now(), text="客户要求下次提前电话联系"))
    app.work_done(
        vid,
        wire.WorkDone(
            occurred_at=clock.now(),
            resolution_code="part_replaced",
            resolution_notes="换滤芯",
            parts=[wire.PartLine(sku=FILTER, quantity=1)],
        ),
    )
    app.sign_off(
        vid,
        wire.SignOffBody(
            occurred_at=clock.now(),
            signer_name="王经理",
            signature_png=base64.b64encode(png(40, 20)).decode(),
            rating=5,
        ),
    )
    return on_site


def test_the_record_lists_everything_the_job_left_behind(finished: dict, client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    record = client.get(f"/work-orders/{finished['wo']['id']}/record", headers=dispatcher).json()
    assert [p["category"] for p in record["photos"]] == ["before", "after"]
    assert record["notes"][0]["text"] == "客户要求下次提前电话联系"
    assert record["parts_used"] == [{"sku": FILTER, "quantity": 1}]
    (visit,) = record["visits"]
    assert visit["resolution_code"] == "part_replaced" and visit["rating"] == 5
    assert visit["settlement"]["customer_amount"] == "25.00"
    signature = client.get(visit["signature_path"], headers=dispatcher)
    assert signature.status_code == 200 and signature.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("index", [0, 1])
def test_thumbnails_are_small_jpegs_even_for_heic(finished: dict, client: TestClient, index: int) -> None:
    dispatcher = login(client, "dispatcher")
    record = client.get(f"/work-orders/{finished['wo']['id']}/record", headers=dispatcher).json()
    first = client.get(record["photos"][index]["thumbnail_path"], headers=dispatcher)
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(first.content)) as image:
        assert image.format == "JPEG" and max(image.size) == 320
    # Made once: the second answer is the stored preview, byte for byte.
    assert client.get(record["photos"][index]["thumbnail_path"], headers=dispatcher).content == first.content


def test_the_service_report_is_a_pdf_with_the_job_parts_bill_and_signature(
    finished: dict, client: TestClient
) -> None:
    dispatcher = login(client, "dispatcher")
    response = client.get(f"/work-orders/{finished['wo']['id']}/report.pdf", headers=dispatcher)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert finished["wo"]["reference"] in text
    assert FILTER in text and "25.00" in text and "part_replaced" in text
    images = [image for page in reader.pages for image in page.images]
    # Two photo previews and the signature.
    assert len(images) == 3


def test_other_engineers_and_customers_of_other_companies_see_nothing(
    finished: dict, client: TestClient
) -> None:
    other = login(client, "engineer_b")
    for path in (
        f"/work-orders/{finished['wo']['id']}/report.pdf",
        f"/work-orders/{finished['wo']['id']}/record",
    ):
        assert client.get(path, headers=other).status_code == 404
