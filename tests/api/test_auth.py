"""Sign-in, tokens, and the role matrix: every role against every endpoint group."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jwt
from litestar.testing import TestClient

from api.access import PERMISSIONS
from core.services.context import Role
from tests.world import PASSWORD, World, login

Client = TestClient

ACCOUNTS = {
    Role.ADMIN: "admin",
    Role.DISPATCHER: "dispatcher",
    Role.ENGINEER: "engineer",
    Role.CUSTOMER: "customer",
}
PUBLIC_PREFIXES = ("/schema", "/health", "/ready")


def protected_endpoints(client: Client) -> list[tuple[str, str, str]]:
    """(method, concrete path, permission) for every route of the running app."""
    found: list[tuple[str, str, str]] = []
    for route in client.app.routes:
        if route.path.startswith(PUBLIC_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.http_methods == {"OPTIONS"} or handler.opt.get("exclude_from_auth"):
                continue
            path = re.sub(r"\{[^}]+\}", "999999", route.path)
            found.extend(
                (method, path, handler.opt.get("permission")) for method in sorted(handler.http_methods)
            )
    return found


def test_every_route_is_protected_or_explicitly_public(client: Client) -> None:
    for method, path, permission in protected_endpoints(client):
        assert permission in PERMISSIONS, (method, path)


def test_role_matrix_over_every_endpoint(client: Client, world: World) -> None:
    """Each role against each endpoint: allowed → never 401/403; not allowed → 403 with problem+json."""
    endpoints = protected_endpoints(client)
    assert len(endpoints) > 40
    for role, username in ACCOUNTS.items():
        headers = login(client, username)
        for method, path, permission in endpoints:
            response = client.request(method, path, headers=headers, json={} if method != "GET" else None)
            if role in PERMISSIONS[permission]:
                assert response.status_code not in (401, 403), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")


def test_no_token_is_401_except_health_and_docs(client: Client, world: World) -> None:
    for path in ("/work-orders", "/customers", "/auth/me", "/users"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"
    for path in ("/health", "/ready", "/schema/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_wrong_password_and_unknown_user_look_the_same(client: Client, world: World) -> None:
    wrong = client.post("/auth/token", json={"username": "dispatcher", "password": "nope-nope"})
    unknown = client.post("/auth/token", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_refresh_gives_a_new_pair_and_is_not_an_access_token(client: Client, world: World) -> None:
    tokens = client.post("/auth/token", json={"username": "dispatcher", "password": PASSWORD}).json()
    as_refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert client.get("/work-orders", headers=as_refresh).status_code == 401
    renewed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    assert (
        client.get(
            "/work-orders", headers={"Authorization": f"Bearer {renewed.json()['access_token']}"}
        ).status_code
        == 200
    )
    assert client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]}).status_code == 401


def test_password_change_revokes_refresh_tokens(client: Client, world: World) -> None:
    from core.services.users import set_password
    from core.store.models import User

    tokens = client.post("/auth/token", json={"username": "engineer", "password": PASSWORD}).json()
    ctx = world.ctx()
    with ctx.session:
        user = ctx.session.query(User).filter_by(username="engineer").one()
        set_password(ctx, user, "a-brand-new-password")
    assert client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_expired_access_token_is_401(client: Client, world: World) -> None:
    rt = world.system.runtime
    past = datetime.now(UTC) - timedelta(minutes=5)
    claims = {
        "sub": "1",
        "iat": past - timedelta(minutes=30),
        "exp": past,
        "typ": "access",
        "role": "dispatcher",
        "name": "dispatcher",
    }
    token = jwt.encode(claims, rt.jwt_auth.token_secret, algorithm="HS256")
    r = client.get("/work-orders", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    forged = jwt.encode(
        {**claims, "exp": past + timedelta(hours=1), "role": "admin"},
        "not-our-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    assert client.get("/users", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_engineer_sees_only_their_own_work(
    client: Client, world: World, as_dispatcher: dict[str, str]
) -> None:
    mine = client.post(
        "/work-orders", json={"title": "mine", "site_id": world.ids["site"]}, headers=as_dispatcher
    )
    theirs = client.post(
        "/work-orders", json={"title": "theirs", "site_id": world.ids["site"]}, headers=as_dispatcher
    )
    client.post(
        f"/work-orders/{mine.json()['id']}/visits",
        json={"engineer_id": world.ids["engineer"]},
        headers=as_dispatcher,
    )
    client.post(
        f"/work-orders/{theirs.json()['id']}/visits",
        json={"engineer_id": world.ids["engineer_b"]},
        headers=as_dispatcher,
    )
    engineer = login(client, "engineer")
    listed = client.get("/work-orders", headers=engineer).json()["items"]
    assert [w["title"] for w in listed] == ["mine"]
    hidden = client.get(f"/work-orders/{theirs.json()['id']}", headers=engineer)
    assert hidden.status_code == 404
    assert "theirs" not in hidden.text
    assert client.get(f"/work-orders/{theirs.json()['id']}/audit", headers=engineer).status_code == 404
