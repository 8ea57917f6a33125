"""The committed OpenAPI snapshot of /mobile/v1 guards old apps: a breaking change fails unless versioned.

After an additive change, refresh the snapshot:  FIELDOPS_UPDATE_SNAPSHOT=1 pytest tests/mobile
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from mobile_contract.wire import CONTRACT_VERSION
from tests.mobile.compat import breaking_changes

SNAPSHOT = Path(__file__).resolve().parents[2] / "mobile_contract" / "openapi-v1.json"


def mobile_spec(client: TestClient) -> dict[str, Any]:
    full = client.get("/schema/openapi.json").json()
    paths = {p: item for p, item in full["paths"].items() if p.startswith("/mobile/v1/")}
    spec = {
        "openapi": full["openapi"],
        "info": {"title": "fieldops mobile", "version": CONTRACT_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    }
    # Keep only the schemas the mobile paths reach.
    schemas, todo = full["components"]["schemas"], [json.dumps(paths)]
    while todo:
        text = todo.pop()
        for name in [n for n in schemas if f'"#/components/schemas/{n}"' in text]:
            if name not in spec["components"]["schemas"]:
                spec["components"]["schemas"][name] = schemas[name]
                todo.append(json.dumps(schemas[name]))
    return spec


def test_mobile_contract_matches_the_snapshot(client: TestClient) -> None:
    current = mobile_spec(client)
    if os.environ.get("FIELDOPS_UPDATE_SNAPSHOT") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    committed = json.loads(SNAPSHOT.read_text())
    problems = breaking_changes(committed, current)
    if committed["info"]["version"].split(".")[0] == CONTRACT_VERSION.split(".")[0]:
        assert problems == [], "breaking change to /mobile/v1 — keep it compatible or version it"
    assert current == committed, (
        "the mobile contract changed compatibly: refresh with FIELDOPS_UPDATE_SNAPSHOT=1"
    )


# ---- the checker itself: each kind of break is caught, additions are not


def _spec(request_props: dict, required: list[str], response_props: dict) -> dict:
    return {
        "paths": {
            "/mobile/v1/x": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}
                    },
                    "responses": {
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "In": {"type": "object", "properties": request_props, "required": required},
                "Out": {"type": "object", "properties": response_props, "required": list(response_props)},
            }
        },
    }


BASE = _spec(
    {"a": {"type": "string", "maxLength": 50}, "n": {"type": "number"}},
    ["a"],
    {"id": {"type": "integer"}, "name": {"type": "string"}},
)


def _changed(fn: Any) -> dict:
    spec = copy.deepcopy(BASE)
    fn(spec["components"]["schemas"])
    return spec


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["Out"]["properties"].pop("name"), "field name removed"),
        (lambda s: s["Out"]["properties"].update(id={"type": "string"}), "may now be"),
        (lambda s: s["In"]["properties"].update(n={"type": "integer"}), "no longer accepts"),
        (lambda s: s["In"]["properties"]["a"].update(maxLength=10), "maxLength narrowed"),
        (
            lambda s: (s["In"]["properties"].update(b={"type": "string"}), s["In"]["required"].append("b")),
            "new required field b",
        ),
    ],
)
def test_checker_catches_breaks(change: Any, expected: str) -> None:
    problems = breaking_changes(BASE, _changed(change))
    assert any(expected in p for p in problems), problems


def test_checker_allows_additions() -> None:
    def add(s: dict) -> None:
        s["In"]["properties"]["optional"] = {"type": "string"}
        s["Out"]["properties"]["extra"] = {"type": "string"}
        s["In"]["properties"]["a"]["maxLength"] = 100

    assert breaking_changes(BASE, _changed(add)) == []
    removed = copy.deepcopy(BASE)
    removed["paths"].clear()
    assert breaking_changes(BASE, removed) == ["POST /mobile/v1/x: operation removed"]
