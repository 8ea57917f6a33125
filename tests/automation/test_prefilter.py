"""SQL pre-filtering of time rules selects exactly what the Python judge accepts (or, when a condition cannot
be said in SQL, never less), on both databases, for random condition trees over every field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automation import definition, people
from automation.facts import facts_for_many
from automation.prefilter import CASELESS_RANGES, caseless, narrowing
from core.domain.clock import FixedClock
from core.domain.workorders import Kind, Priority, Source
from core.services import customers, setup, visits, workorders
from core.services.context import Actor, ServiceContext
from core.store.models import WorkOrder
from fieldops.wiring import System
from tests.world import World

TITLES = [
    "冷机停机 Chiller DOWN",
    "工单 1",
    "工单 10 电梯",
    "STRASSE straße",
    "İstanbul office",
    "50%_off promo",
    "水泵振动 pump",
    "Ünïcode café",
]
WORDS = [
    "工单 1",
    "工单 10",
    "冷机",
    "down",
    "DOWN",
    "ss",
    "ß",
    "%",
    "_",
    "50%_",
    " ",
    "",
    "i̇",
    "café",
    "电梯",
]
TAGS = ["vip", "escalated", "promoter"]


@pytest.fixture
def population(system: System, world: World, clock: FixedClock) -> dict[str, Any]:
    """Two dozen work orders differing in every fact a condition can test."""
    rt = system.runtime
    with rt.sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("t"))
        model_b = setup.create_asset_model(
            ctx, setup.AssetModelInput(code="LF-1000", name="Lift", category="lift")
        ).id
        bare = customers.create_asset(
            ctx, customers.AssetInput(site_id=world.ids["site_b"], asset_model_id=model_b, serial="sn-002")
        ).id
        sites = [
            (world.ids["site"], world.ids["asset"]),
            (world.ids["site_b"], bare),
            (world.ids["site_b"], None),
        ]
        ids = []
        for i in range(24):
            site, asset = sites[i % 3]
            wo = workorders.create_work_order(
                ctx,
                workorders.WorkOrderInput(
                    title=TITLES[i % len(TITLES)],
                    site_id=site,
                    asset_id=asset if i % 4 else None,
                    priority=list(Priority)[i % 4],
                    kind=list(Kind)[i % 4],
                    source=list(Source)[i % 5],
                ),
            )
            ids.append(wo.id)
            clock.advance(timedelta(minutes=3))
        for wo_id in ids[::5]:
            visits.assign(ctx, wo_id, visits.AssignInput(engineer_id=world.ids["engineer"]), None)
        for n, wo_id in enumerate(ids[::3]):
            people.add_tag(ctx, "work_order", wo_id, TAGS[n % 3])
        people.add_tag(ctx, "customer", world.ids["customer_b"], "promoter")
        s.commit()
    return {"ids": ids, "sites": sorted({w[0] for w in sites}), "assets": [world.ids["asset"], bare]}


def _values(name: str, pop: dict[str, Any], world: World) -> st.SearchStrategy[Any]:
    ftype = definition.FIELDS[name]
    ints = {
        "work_order.id": st.sampled_from([*pop["ids"], 0]),
        "work_order.territory_id": st.sampled_from([world.ids["territory"], world.ids["territory_b"]]),
        "work_order.site_id": st.sampled_from(pop["sites"]),
        "work_order.asset_id": st.sampled_from(pop["assets"]),
        "customer.id": st.sampled_from([world.ids["customer"], world.ids["customer_b"]]),
    }
    strings = {
        "customer.code": ["C1", "C2", "c1", "C"],
        "customer.name": ["上海中心大厦", "Acme Pumps", "上海", "acme"],
        "contract.tier": ["gold", "silver", "GOLD"],
        "contract.number": ["K-1", "K-2"],
        "asset.serial": ["SN-001", "sn-002", "SN"],
        "asset.model": ["CH-500", "LF-1000", "ch-500"],
        "work_order.title": TITLES + WORDS,
        "work_order.reference": ["WO-0000001", "WO"],
    }
    if ftype.kind in ("enum", "priority"):
        return st.sampled_from(ftype.values)
    if ftype.kind == "int":
        return ints.get(name, st.integers(0, 6))
    if ftype.kind == "bool":
        return st.booleans()
    if ftype.kind == "tags":
        return st.sampled_from(TAGS)
    if ftype.kind == "number":
        return st.integers(0, 6)
    return st.sampled_from(strings.get(name, WORDS))


def _conditions(pop: dict[str, Any], world: World) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def leaf(draw: st.DrawFn) -> dict[str, Any]:
        name = draw(st.sampled_from(sorted(definition.FIELDS)))
        kind = definition.FIELDS[name].kind
        op = draw(st.sampled_from(sorted(definition.OPS_BY_KIND[kind])))
        if op == "exists":
            return {"field": name, "op": op, "value": draw(st.booleans())}
        value = draw(_values(name, pop, world))
        if op in ("in", "not_in"):
            value = draw(st.lists(_values(name, pop, world), min_size=1, max_size=3))
        return {"field": name, "op": op, "value": value}

    def group(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda mode, items: {mode: items}, st.sampled_from(["all", "any"]), st.lists(children, max_size=4)
        )

    return group(st.recursive(leaf(), group, max_leaves=6))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sql_selects_exactly_what_the_judge_accepts(
    system: System, world: World, population: dict[str, Any], data: st.DataObject
) -> None:
    raw = data.draw(_conditions(population, world))
    conditions = definition.parse(
        {"event": "survey.answered"}, raw, [{"type": "add_tag", "tag": "x"}]
    ).conditions
    with system.runtime.sessions() as s:
        now = system.runtime.clock.now()
        facts = facts_for_many(s, population["ids"], now)
        judged = {wo_id for wo_id, f in facts.items() if definition.matches(conditions, f)}
        plan = narrowing(conditions)
        query = sa.select(WorkOrder.id).where(WorkOrder.id.in_(population["ids"]))
        selected = set(s.scalars(query.where(plan.where) if plan.where is not None else query))
    assert judged <= selected, conditions
    if plan.exact:
        assert selected == judged, conditions


def test_what_sql_can_say_it_says_and_what_it_cannot_it_leaves_to_python() -> None:
    def exact(conds: dict[str, Any]) -> bool:
        return narrowing(conds).exact

    pri = {"field": "work_order.priority", "op": "lte", "value": "P2"}
    sla = {"field": "work_order.sla_state", "op": "eq", "value": "at_risk"}
    assert exact({"all": [pri, {"field": "customer.code", "op": "eq", "value": "C1"}]})
    assert exact({"all": [{"field": "work_order.title", "op": "contains", "value": "工单 1"}]})
    assert not exact({"all": [{"field": "work_order.title", "op": "contains", "value": "down"}]})
    assert not exact({"all": [pri, sla]}) and narrowing({"all": [pri, sla]}).where is not None
    assert narrowing({"any": [pri, sla]}).where is None


def test_the_caseless_characters_fold_to_themselves_and_nothing_folds_into_them() -> None:
    folded_into = {ch for cp in range(0x110000) if (f := chr(cp).casefold()) != chr(cp) for ch in f}
    for lo, hi in CASELESS_RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            assert ch.casefold() == ch and ch.lower() == ch and ch.upper() == ch, hex(cp)
            assert ch not in folded_into, hex(cp)
    assert caseless("工单 10%_") and not caseless("Down") and not caseless("ß")


def _any_value(name: str) -> st.SearchStrategy[Any]:
    ftype = definition.FIELDS[name]
    if ftype.kind in ("enum", "priority"):
        return st.sampled_from(ftype.values)
    if ftype.kind in ("int", "number"):
        return st.integers(-2, 6)
    if ftype.kind == "bool":
        return st.booleans()
    return st.sampled_from([*WORDS, *TAGS])


@st.composite
def _leaf(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(definition.FIELDS)))
    op = draw(st.sampled_from(sorted(definition.OPS_BY_KIND[definition.FIELDS[name].kind])))
    if op == "exists":
        return {"field": name, "op": op, "value": draw(st.booleans())}
    one = _any_value(name) if definition.FIELDS[name].kind != "tags" else st.sampled_from(TAGS)
    value = draw(st.lists(one, min_size=1, max_size=3) if op in ("in", "not_in") else one)
    return {"field": name, "op": op, "value": value}


@st.composite
def _facts(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name, ftype in definition.FIELDS.items():
        choice = draw(st.sampled_from(["missing", "none", "value", "odd"]))
        if choice == "none":
            facts[name] = None
        elif ftype.kind == "tags" and choice != "missing":
            facts[name] = draw(st.lists(st.sampled_from(TAGS), max_size=3))
        elif choice == "value" or (choice == "odd" and ftype.kind == "priority"):
            facts[name] = draw(_any_value(name))
        elif choice == "odd":  # a fact of another type than the field's: never a crash, same answer
            facts[name] = draw(st.sampled_from(["7", 7, 2.5, True, "P1"]))
    return facts


@settings(max_examples=400, deadline=None)
@given(
    tree=st.recursive(
        _leaf(),
        lambda kids: st.builds(
            lambda mode, items: {mode: items}, st.sampled_from(["all", "any"]), st.lists(kids, max_size=4)
        ),
        max_leaves=8,
    ),
    facts=_facts(),
)
def test_the_compiled_judge_answers_as_the_reference(tree: dict[str, Any], facts: dict[str, Any]) -> None:
    from automation.judge import compile_conditions

    conditions = tree if "field" not in tree else {"all": [tree]}
    assert compile_conditions(conditions)(facts) == definition.matches(conditions, facts)


def test_an_order_that_fired_is_no_candidate_when_others_enter_the_state_later(
    system: System, world: World, clock: FixedClock
) -> None:
    """The "already fired?" check compares the firing with this order's own entry into the state (it once
    compared with the latest entry of any order, so every fired order came back as a candidate)."""
    from automation import rules
    from automation.engine import RuleEngine, time_candidates
    from core.domain.calendar import BusinessCalendar
    from core.store.models import Territory

    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("t"))
        rule = rules.create_rule(
            ctx,
            rules.RuleInput(
                name="waiting",
                trigger={"time": {"in_state": "new", "for": {"hours": 1}}},
                actions=[{"type": "add_tag", "tag": "waiting"}],
            ),
        )
        first = workorders.create_work_order(
            ctx, workorders.WorkOrderInput(title="a", site_id=world.ids["site"])
        ).id
    clock.advance(timedelta(hours=2))
    RuleEngine(system.runtime.sessions, clock, worker="w").tick()
    clock.advance(timedelta(minutes=5))
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("t"))
        workorders.create_work_order(ctx, workorders.WorkOrderInput(title="b", site_id=world.ids["site"]))
        clock.advance(timedelta(hours=2))
        page = time_candidates(
            s,
            rule.id,
            definition.trigger_of(rule.trigger),
            clock.now(),
            lambda s_, t: BusinessCalendar.from_dict(s_.get_one(Territory, t).calendar),
            100,
        )
    assert [wo_id for wo_id, _ in page.hits] == [first + 1]
