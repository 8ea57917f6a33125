"""Every service-desk endpoint against every role: allowed → never 401/403, others → 403 problem+json."""

from __future__ import annotations

from litestar.testing import TestClient

from api.access import PERMISSIONS
from tests.api.test_auth import ACCOUNTS, protected_endpoints
from tests.world import World, login

PREFIXES = ("/intake", "/desk", "/portal", "/knowledge", "/surveys")


def test_role_matrix_over_the_service_desk(client: TestClient, world: World) -> None:
    endpoints = [e for e in protected_endpoints(client) if e[1].startswith(PREFIXES)]
    assert len(endpoints) > 25
    for role, username in ACCOUNTS.items():
        headers = login(client, username)
        for method, path, permission in endpoints:
            response = client.request(method, path, headers=headers, json={} if method != "GET" else None)
            if role in PERMISSIONS[permission]:
                assert response.status_code not in (401, 403, 500), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")


def test_public_service_desk_routes_check_their_own_credentials(client: TestClient, world: World) -> None:
    assert client.post("/intake/chat/anything", content=b"{}").status_code == 401
    assert client.get("/surveys/1.x.y").status_code == 404
    assert client.post("/surveys/1.x.y", json={"score": 5}).status_code == 404
