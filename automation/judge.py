"""Conditions compiled once into a closure: the same answers as `definition.matches`, without re-reading the
condition dicts for every (rule, work order) pair.

`definition.matches` stays the readable reference; a property test holds the two to the same answer for
random condition trees and facts (present, missing, of the wrong type). The worker and the dry run both
judge with the compiled form, so what a dry run predicts is what the live run does.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from automation.definition import FIELDS
from core.domain.workorders import Priority

Facts = Mapping[str, Any]
Judge = Callable[[Facts], bool]

_RANK = {p.value: p.rank for p in Priority}
_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _same(value: Any) -> Any:
    return value


def compile_conditions(conditions: dict[str, Any]) -> Judge:
    ((mode, items),) = conditions.items()
    parts = [compile_conditions(item) if "field" not in item else _leaf(item) for item in items]
    if mode == "all":
        return lambda facts: all(part(facts) for part in parts)
    return lambda facts: any(part(facts) for part in parts)


def _leaf(cond: dict[str, Any]) -> Judge:
    name, op, expected = cond["field"], cond["op"], cond["value"]
    kind = FIELDS[name].kind
    if op == "exists":
        return lambda facts: (facts.get(name) is not None) == expected
    if kind == "tags":
        wanted = op == "contains"
        return lambda facts: (expected in (facts.get(name) or [])) == wanted
    convert: Callable[[Any], Any] = _same
    if kind == "priority":
        convert = _RANK.__getitem__
        expected = [_RANK[v] for v in expected] if isinstance(expected, list) else _RANK[expected]
    absent = op in ("ne", "not_in")  # a missing fact satisfies only "not equal" / "not in"

    def test(check: Callable[[Any], bool]) -> Judge:
        def judge(facts: Facts) -> bool:
            actual = facts.get(name)
            if actual is None:
                return absent
            return check(convert(actual))

        return judge

    if op == "eq":
        return test(lambda a: bool(a == expected))
    if op == "ne":
        return test(lambda a: bool(a != expected))
    if op == "in":
        return test(lambda a: a in expected)
    if op == "not_in":
        return test(lambda a: a not in expected)
    if op == "contains":
        needle = str(expected).casefold()
        return test(lambda a: needle in str(a).casefold())
    compare = _ORDER[op]

    def ordered(a: Any) -> bool:
        try:
            return bool(compare(a, expected))
        except TypeError:
            return False

    return test(ordered)
