"""Who may do what on the finishing steps, and the worst inputs: each refused cleanly, nothing half stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from mobile_contract import wire
from mobile_contract.client import MobileApiError, MobileClient
from tests.world import PASSWORD, login


def test_a_dispatcher_token_cannot_work_a_visit_from_the_app(
    on_site: dict,
    client: TestClient,
    clock: FixedClock,
) -> None:
    vid = on_site["visit"]["id"]
    dispatcher = login(client, "dispatcher")
    for path, body in (
        (f"/mobile/v1/visits/{vid}/sign-off", {"occurred_at": clock.now().isoformat(), "signer_name": "x"}),
        (
            f"/mobile/v1/visits/{vid}/work-done",
            {"occurred_at": clock.now().isoformat(), "resolution_code": "fixed"},
        ),
        (f"/mobile/v1/visits/{vid}/parts/consume", {"occurred_at": clock.now().isoformat(), "lines": []}),
    ):
        response = client.post(path, headers=dispatcher, json=body)
        assert response.status_code == 403, (path, response.text)


def test_another_engineer_sees_nothing_of_my_visit(
    on_site: dict, client: TestClient, clock: FixedClock
) -> None:
    vid = on_site["visit"]["id"]
    other = MobileClient(client)
    other.sign_in("engineer_b", PASSWORD)
    for call in (
        lambda: other.checklist(vid),
        lambda: other.time_entries(vid),
        lambda: other.add_note(vid, wire.NewNote(occurred_at=clock.now(), text="hi")),
        lambda: other.work_done(vid, wire.WorkDone(occurred_at=clock.now(), resolution_code="fixed")),
        lambda: other.edit_time_entry(
            vid,
            "travel",
            wire.TimeEntryEdit(started_at=clock.now() - timedelta(hours=1), ended_at=clock.now(), reason="x"),
        ),
    ):
        with pytest.raises(MobileApiError) as err:
            call()
        assert err.value.status == 404
        # The answer names no customer, site or job of someone else.
        assert "冷水机组" not in str(err.value.problem)


def test_a_200_mb_upload_is_refused_without_being_read_whole(on_site: dict, client: TestClient) -> None:
    app: MobileClient = on_site["app"]
    assert app.session is not None
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        chunk = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024 - 3)
        for _ in range(200):
            sent += len(chunk)
            yield chunk

    response = client.post(
        f"/mobile/v1/visits/{on_site['visit']['id']}/photos",
        headers={
            "Authorization": f"Bearer {app.session.access_token}",
            "Content-Type": "multipart/form-data; boundary=xyz",
            "Content-Length": str(200 * 1024 * 1024),
        },
        content=body(),
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    record = client.get(
        f"/work-orders/{on_site['wo']['id']}/record", headers=login(client, "dispatcher")
    ).json()
    assert record["photos"] == []
