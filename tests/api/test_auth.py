"""Sign-in, tokens, and the role matrix: every role against every endpoint group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from litestar.testing import TestClient

from api.access import PERMISSIONS
from core.services.context import Role
from tests.world import PASSWORD, World, login

Client = TestClient

# One representative request per permission: (method, path template, body).
PROBES: dict[str, tuple[str, str, dict | None]] = {
    "account": ("GET", "/auth/me", None),
    "work_orders.read": ("GET", "/work-orders", None),
    "work_orders.write": ("POST", "/work-orders", {"title": "x", "site_id": "{site}"}),
    "visits.read": ("GET", "/visits/999999", None),
    "visits.write": ("POST", "/visits/999999/transitions", {"to": "accepted"}),
    "records.read": ("GET", "/customers", None),
    "records.write": ("POST", "/customers", {"code": "NEW-{role}", "name": "n"}),
    "setup.read": ("GET", "/territories", None),
    "setup.write": ("POST", "/skills", {"code": "s-{role}", "name": "n"}),
    "users.manage": ("GET", "/users", None),
}
ACCOUNTS = {
    Role.ADMIN: "admin",
    Role.DISPATCHER: "dispatcher",
    Role.ENGINEER: "engineer",
    Role.CUSTOMER: "customer",
}


def test_every_permission_has_a_probe() -> None:
    assert set(PROBES) == set(PERMISSIONS)


def test_every_route_is_protected_or_explicitly_public(client: Client) -> None:
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            opt = handler.opt
            if route.path.startswith(("/schema", "/health", "/ready")) or handler.http_methods == {"OPTIONS"}:
                continue
            assert opt.get("permission") in PERMISSIONS or opt.get("exclude_from_auth"), route.path


@pytest.mark.parametrize("role", list(ACCOUNTS))
@pytest.mark.parametrize("permission", list(PROBES))
def test_role_matrix(client: Client, world: World, role: Role, permission: str) -> None:
    headers = login(client, ACCOUNTS[role])
    method, path, body = PROBES[permission]
    if body is not None:
        body = {
            k: (
                world.ids["site"] if v == "{site}" else v.replace("{role}", role) if isinstance(v, str) else v
            )
            for k, v in body.items()
        }
    response = client.request(method, path, json=body, headers=headers)
    if role in PERMISSIONS[permission]:
        # Allowed: whatever the outcome, it is not a permission problem.
        assert response.status_code not in (401, 403), (role, permission, response.text)
    else:
        assert response.status_code == 403, (role, permission, response.text)
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
