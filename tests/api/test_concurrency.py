"""Two clients race to change the same work order with the same ETag: exactly one wins, one gets 412."""

from __future__ import annotations

import asyncio

import httpx
from litestar.testing import TestClient

from tests.world import World

Client = TestClient


def test_concurrent_stale_updates(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    app = client.app
    orders = [
        client.post(
            "/work-orders", json={"title": f"race {i}", "site_id": world.ids["site"]}, headers=as_dispatcher
        ).json()["id"]
        for i in range(8)
    ]

    async def race() -> list[tuple[int, ...]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            results = []
            for wo_id in orders:
                pair = await asyncio.gather(
                    *(
                        http.patch(
                            f"/work-orders/{wo_id}",
                            json={"title": f"writer {n}"},
                            headers={**as_dispatcher, "If-Match": '"1"'},
                        )
                        for n in range(2)
                    )
                )
                results.append(tuple(sorted(r.status_code for r in pair)))
            return results

    outcomes = asyncio.run(race())
    assert outcomes == [(200, 412)] * len(orders)
    for wo_id in orders:
        final = client.get(f"/work-orders/{wo_id}", headers=as_dispatcher).json()
        assert final["version"] == 2 and final["title"] in ("writer 0", "writer 1")
