"""Is a new OpenAPI document of /mobile/v1 backward compatible with the old one? A small, strict checker.

Breaking for old apps: a removed operation; a removed or retyped response field; a request field or
parameter that accepts less than before; a new required request field or parameter.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


class Doc:
    def __init__(self, spec: Schema) -> None:
        self.spec = spec

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.spec["components"]["schemas"][name]
        return schema

    def types(self, schema: Schema) -> set[str]:
        schema = self.resolve(schema)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return set().union(*(self.types(s) for s in schema[key]))
        kind = schema.get("type", "any")
        found = set(kind) if isinstance(kind, list) else {kind}
        if "number" in found:
            found.add("integer")  # a number field accepts integers: number → integer is a narrowing
        return found

    def props(self, schema: Schema) -> tuple[dict[str, Schema], set[str]]:
        schema = self.resolve(schema)
        for key in ("oneOf", "anyOf"):
            for option in schema.get(key, []):
                if self.resolve(option).get("type") == "object":
                    return self.props(option)
        return schema.get("properties", {}), set(schema.get("required", []))


def operations(spec: Schema) -> dict[tuple[str, str], Schema]:
    return {
        (method.upper(), path): op
        for path, item in spec.get("paths", {}).items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def _body(op: Schema) -> Schema | None:
    content: dict[str, Schema] = op.get("requestBody", {}).get("content", {})
    return next(iter(content.values())).get("schema") if content else None


def _response(op: Schema) -> Schema | None:
    for status in ("200", "201"):
        content = op.get("responses", {}).get(status, {}).get("content", {})
        if content:
            return next(iter(content.values())).get("schema")
    return None


_LIMITS_LOWER = ("maxLength", "maximum", "maxItems")  # smaller is narrower
_LIMITS_HIGHER = ("minLength", "minimum", "minItems")  # larger is narrower


def breaking_changes(old_spec: Schema, new_spec: Schema) -> list[str]:
    old, new = Doc(old_spec), Doc(new_spec)
    problems: list[str] = []
    new_ops = operations(new_spec)
    for key, old_op in operations(old_spec).items():
        where = f"{key[0]} {key[1]}"
        new_op = new_ops.get(key)
        if new_op is None:
            problems.append(f"{where}: operation removed")
            continue
        old_params = {(p["in"], p["name"]): p for p in old_op.get("parameters", [])}
        for p in new_op.get("parameters", []):
            before = old_params.get((p["in"], p["name"]))
            if p.get("required") and (before is None or not before.get("required")):
                problems.append(f"{where}: parameter {p['name']} is now required")
            if before is not None:
                _input(
                    old,
                    new,
                    before.get("schema", {}),
                    p.get("schema", {}),
                    f"{where} parameter {p['name']}",
                    problems,
                )
        old_body, new_body = _body(old_op), _body(new_op)
        if old_body is not None and new_body is not None:
            _input(old, new, old_body, new_body, f"{where} body", problems)
        elif new_body is not None and new_op.get("requestBody", {}).get("required"):
            problems.append(f"{where}: a request body is now required")
        old_resp, new_resp = _response(old_op), _response(new_op)
        if old_resp is not None:
            if new_resp is None:
                problems.append(f"{where}: response body removed")
            else:
                _output(old, new, old_resp, new_resp, f"{where} response", problems)
    return problems


def _input(old: Doc, new: Doc, a: Schema, b: Schema, where: str, problems: list[str], depth: int = 0) -> None:
    """A request part must accept everything it accepted before."""
    if depth > 20:
        return
    lost = old.types(a) - new.types(b)
    if lost and "any" not in new.types(b):
        problems.append(f"{where}: no longer accepts {sorted(lost)}")
    ra, rb = old.resolve(a), new.resolve(b)
    for limit in _LIMITS_LOWER:
        if limit in rb and (limit not in ra or rb[limit] < ra[limit]):
            problems.append(f"{where}: {limit} narrowed to {rb[limit]}")
    for limit in _LIMITS_HIGHER:
        if limit in rb and (limit not in ra or rb[limit] > ra[limit]):
            problems.append(f"{where}: {limit} raised to {rb[limit]}")
    if "enum" in rb and not set(ra.get("enum") or rb["enum"]) <= set(rb["enum"]):
        problems.append(f"{where}: enum values removed")
    old_props, _ = old.props(a)
    new_props, new_required = new.props(b)
    _, old_required = old.props(a)
    for name in sorted(new_required - old_required):
        problems.append(f"{where}: new required field {name}")
    for name, schema in old_props.items():
        if name in new_props:
            _input(old, new, schema, new_props[name], f"{where}.{name}", problems, depth + 1)


def _output(
    old: Doc, new: Doc, a: Schema, b: Schema, where: str, problems: list[str], depth: int = 0
) -> None:
    """A response part must still carry every field, with no new kinds of value an old app can't read."""
    if depth > 20:
        return
    extra = new.types(b) - old.types(a)
    if extra and "any" not in old.types(a):
        problems.append(f"{where}: may now be {sorted(extra)}")
    old_props, old_required = old.props(a)
    new_props, new_required = new.props(b)
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"{where}: field {name} removed")
            continue
        if name in old_required and name not in new_required:
            problems.append(f"{where}: field {name} may now be missing")
        _output(old, new, schema, new_props[name], f"{where}.{name}", problems, depth + 1)
    old_items, new_items = old.resolve(a).get("items"), new.resolve(b).get("items")
    if old_items and new_items:
        _output(old, new, old_items, new_items, f"{where}[]", problems, depth + 1)
