"""A rule's conditions as SQL over `work_orders`: time rules ask the database only for orders that can match.

The worker's time pass used to fetch every order whose time had come and judge each in Python, so orders
whose conditions fail were re-fetched and re-judged on every pass. `narrowing(conditions)` translates what
SQL can say *exactly as* `definition.matches` says it over the facts `facts.facts_for_many` builds, and
leaves out what it cannot (clock-dependent facts such as `sla_state`, case-insensitive text that SQL would
fold differently from Python's `casefold`). The result is a necessary condition:

- an `all` group keeps the children it can translate (dropping one only widens the set);
- an `any` group with a child it cannot translate is dropped as a whole (it could be true for anyone);
- `exact` says nothing was dropped: then SQL selects exactly the orders the Python judge accepts.

The Python judge still decides every candidate, so a translation gap costs time, never correctness.
NULL never leaks out of a leaf (every leaf is TRUE or FALSE), so `and_`/`or_` keep two-valued logic.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from automation.definition import FIELDS
from automation.models import Tag
from core.domain.lifecycle import ACTIVE_VISIT_STATUSES
from core.domain.workorders import Priority
from core.store.models import Asset, AssetModel, Contract, Customer, Visit, WorkOrder

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


@dataclass(frozen=True, slots=True)
class Narrowing:
    where: ColumnElement[bool] | None  # None: SQL cannot narrow these conditions at all
    exact: bool


@dataclass(frozen=True, slots=True)
class _Fact:
    """Where one fact lives: `value` is the column a predicate tests; `holds(pred)` is "the fact exists and
    satisfies pred"; `present` is "the fact exists" (the facts dict has the key, with a non-None value)."""

    value: Any
    holds: Callable[[ColumnElement[bool]], ColumnElement[bool]]
    present: ColumnElement[bool]


def _own(column: Any, nullable: bool = False) -> _Fact:
    if not nullable:
        return _Fact(column, lambda pred: pred, sa.true())
    return _Fact(column, lambda pred: sa.and_(column.is_not(None), pred), column.is_not(None))


def _via(key: Any, target_id: Any, value: Any, nullable: bool, join: Any = None) -> _Fact:
    """A fact of a row the work order points at (its customer, contract, asset): a semi-join on the key."""

    def holds(pred: ColumnElement[bool]) -> ColumnElement[bool]:
        inner = sa.select(target_id)
        if join is not None:
            inner = inner.join(*join)
        result: ColumnElement[bool] = key.in_(inner.where(pred))
        return result

    return _Fact(value, holds, key.is_not(None) if nullable else sa.true())


def _facts() -> dict[str, _Fact]:
    asset_model = _via(
        WorkOrder.asset_id,
        Asset.id,
        AssetModel.code,
        True,
        (AssetModel, AssetModel.id == Asset.asset_model_id),
    )
    return {
        "work_order.id": _own(WorkOrder.id),
        "work_order.title": _own(WorkOrder.title),
        "work_order.priority": _own(WorkOrder.priority),
        "work_order.status": _own(WorkOrder.status),
        "work_order.kind": _own(WorkOrder.kind),
        "work_order.source": _own(WorkOrder.source),
        "work_order.territory_id": _own(WorkOrder.territory_id),
        "work_order.site_id": _own(WorkOrder.site_id),
        "work_order.asset_id": _own(WorkOrder.asset_id, nullable=True),
        "customer.id": _own(WorkOrder.customer_id),
        "customer.code": _via(WorkOrder.customer_id, Customer.id, Customer.code, False),
        "customer.name": _via(WorkOrder.customer_id, Customer.id, Customer.name, False),
        "contract.tier": _via(WorkOrder.contract_id, Contract.id, Contract.tier, True),
        "contract.number": _via(WorkOrder.contract_id, Contract.id, Contract.number, True),
        "asset.serial": _via(WorkOrder.asset_id, Asset.id, Asset.serial, True),
        "asset.model": asset_model,
    }


_FACTS = _facts()

# Facts a time rule never has: the event's own fields (time rules judge the work order alone).
_ABSENT = frozenset(name for name in FIELDS if name.startswith("event."))

# Characters that `str.casefold` leaves alone and that no other character folds into: a `contains` whose
# value is made only of these means the same under SQL's LIKE (case-sensitive on PostgreSQL, ASCII-only
# case folding on SQLite) as under Python's casefold. Checked over every code point by the test suite.
CASELESS_RANGES: tuple[tuple[int, int], ...] = (
    (0x20, 0x40),  # space, ASCII punctuation and digits
    (0x5B, 0x60),
    (0x7B, 0x7E),
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # kana
    (0x3400, 0x4DBF),  # CJK ideographs
    (0x4E00, 0x9FFF),
    (0xFF01, 0xFF20),  # full-width punctuation and digits
    (0xFF3B, 0xFF40),
    (0xFF5B, 0xFF65),
)


def caseless(text: str) -> bool:
    return all(any(lo <= ord(ch) <= hi for lo, hi in CASELESS_RANGES) for ch in text)


def narrowing(conditions: dict[str, Any]) -> Narrowing:
    where, exact = _group(conditions)
    return Narrowing(where, exact)


def _group(group: dict[str, Any]) -> tuple[ColumnElement[bool] | None, bool]:
    ((mode, items),) = group.items()
    parts: list[ColumnElement[bool] | None] = []
    exact = True
    for item in items:
        where, item_exact = _group(item) if "field" not in item else _leaf(item)
        parts.append(where)
        exact = exact and item_exact
    if mode == "all":
        known = [p for p in parts if p is not None]
        return (sa.and_(sa.true(), *known) if known else sa.true()), exact
    if any(p is None for p in parts):
        return None, False
    return (sa.or_(sa.false(), *[p for p in parts if p is not None])), exact


def _leaf(cond: dict[str, Any]) -> tuple[ColumnElement[bool] | None, bool]:
    name, op, expected = cond["field"], cond["op"], cond["value"]
    if name in _ABSENT:
        return (sa.true() if _absent_holds(name, op, expected) else sa.false()), True
    if name in ("work_order.tags", "customer.tags"):
        return _tags(name, op, expected), True
    if name == "work_order.has_engineer":
        return _has_engineer(op, expected), True
    fact = _FACTS.get(name)
    if fact is None:
        return None, False  # sla_state, under_warranty, reference…: Python alone
    if op == "exists":
        return (fact.present if expected else ~fact.present), True
    if FIELDS[name].kind == "priority":
        expected = (
            [Priority(v).rank for v in expected] if isinstance(expected, list) else Priority(expected).rank
        )
    pred = _compare(fact.value, op, expected)
    if pred is None:
        return None, False
    if op in ("ne", "not_in"):
        # A missing fact satisfies "not equal" / "not in" (definition._holds), so absence counts too.
        return sa.or_(~fact.present, fact.holds(pred)), True
    return fact.holds(pred), True


def _compare(column: Any, op: str, expected: Any) -> ColumnElement[bool] | None:
    if op in _OPERATORS:
        result: ColumnElement[bool] = _OPERATORS[op](column, expected)
        return result
    if op == "in":
        return column.in_(expected)  # type: ignore[no-any-return]
    if op == "not_in":
        return column.not_in(expected)  # type: ignore[no-any-return]
    if op == "contains" and isinstance(expected, str) and caseless(expected):
        return column.contains(expected, autoescape=True)  # type: ignore[no-any-return]
    return None


def _absent_holds(name: str, op: str, expected: Any) -> bool:
    """What `definition._holds` says about a fact that is not there."""
    if op == "exists":
        return expected is False
    if FIELDS[name].kind == "tags":
        return op == "not_contains"
    return op in ("ne", "not_in")


def _tags(name: str, op: str, tag: str) -> ColumnElement[bool]:
    subject_type, subject_id = (
        ("work_order", WorkOrder.id) if name == "work_order.tags" else ("customer", WorkOrder.customer_id)
    )
    tagged = sa.exists().where(Tag.subject_type == subject_type, Tag.subject_id == subject_id, Tag.tag == tag)
    return tagged if op == "contains" else ~tagged


def _has_engineer(op: str, expected: bool) -> ColumnElement[bool]:
    if op == "exists":
        return sa.true() if expected else sa.false()
    active = sorted(s.value for s in ACTIVE_VISIT_STATUSES)
    engaged = sa.exists().where(Visit.work_order_id == WorkOrder.id, Visit.status.in_(active))
    wanted = expected if op == "eq" else not expected
    return engaged if wanted else ~engaged
