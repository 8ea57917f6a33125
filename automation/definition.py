"""A rule's definition as data: what can trigger it, what it may test, what it may do — and its validation.

Plain Python (no I/O): the API validates with it on save, the worker and the dry run evaluate with it.
Every error names the field at fault as a JSON path (`conditions.all[1].value`), so the API's
problem+json points at it.

Trigger (exactly one of):
- `{"event": "survey.answered"}` — a domain event (glob allowed: `work_order.*`);
- `{"time": {"in_state": "new", "for": {"business_hours": 2}}}` — still in a state N after entering it;
- `{"time": {"after": "completed" | "created", "for": {"days": 7}}}` — N after a moment;
- `{"time": {"sla": "at_risk" | "breached", "for": {"hours": 0}}}` — an SLA clock at risk / breached.
Durations: exactly one of `minutes`, `hours`, `days` (wall clock) or `business_hours` (the territory's
calendar: working hours, weekends, holidays).

Conditions: `{"all": [...]}` or `{"any": [...]}`; an item is `{"field", "op", "value"}` or a nested group.

Actions: a list of `{"type": ..., ...}` (see ACTION_SPECS).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.domain.calendar import BusinessCalendar
from core.domain.errors import Invalid
from core.domain.lifecycle import WorkOrderStatus
from core.domain.workorders import Kind, Priority, Source

# ---------------------------------------------------------------- vocabulary

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "work_order.created",
        "work_order.updated",
        "work_order.transitioned",
        "work_order.rated",
        "work_order.merged",
        "survey.answered",
        "alarm.raised",
        "alarm.acknowledged",
        "alarm.cleared",
        "stock.consumed",
        "settlement.computed",
        "visit.assigned",
        "visit.accepted",
        "visit.declined",
        "visit.en_route",
        "visit.on_site",
        "visit.work_done",
        "visit.signed_off",
        "visit.cancelled",
    }
)

STATUSES = [s.value for s in WorkOrderStatus]
PRIORITIES = [p.value for p in Priority]


@dataclass(frozen=True, slots=True)
class FieldType:
    kind: str  # "int" | "number" | "str" | "bool" | "enum" | "priority" | "tags"
    values: tuple[str, ...] = ()


INT, NUM, STR, BOOL, TAGS = (
    FieldType("int"),
    FieldType("number"),
    FieldType("str"),
    FieldType("bool"),
    FieldType("tags"),
)
PRIORITY = FieldType("priority", tuple(PRIORITIES))


def _enum(values: list[str]) -> FieldType:
    return FieldType("enum", tuple(values))


FIELDS: dict[str, FieldType] = {
    "work_order.id": INT,
    "work_order.reference": STR,
    "work_order.title": STR,
    "work_order.priority": PRIORITY,
    "work_order.status": _enum(STATUSES),
    "work_order.kind": _enum([k.value for k in Kind]),
    "work_order.source": _enum([s.value for s in Source]),
    "work_order.territory_id": INT,
    "work_order.site_id": INT,
    "work_order.asset_id": INT,
    "work_order.sla_state": _enum(["ok", "at_risk", "breached"]),
    "work_order.tags": TAGS,
    "work_order.has_engineer": BOOL,
    "customer.id": INT,
    "customer.code": STR,
    "customer.name": STR,
    "customer.tags": TAGS,
    "contract.tier": STR,
    "contract.number": STR,
    "asset.serial": STR,
    "asset.model": STR,
    "asset.under_warranty": BOOL,
    "event.type": STR,
    "event.rating": INT,
    "event.score": INT,
    "event.kind": STR,
    "event.source": STR,
    "event.comment": STR,
    "event.from": _enum(STATUSES),
    "event.to": _enum(STATUSES),
    "event.severity": STR,
    "event.alarm_type": STR,
}

OPS_BY_KIND: dict[str, frozenset[str]] = {
    "int": frozenset({"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists"}),
    "number": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "exists"}),
    "str": frozenset({"eq", "ne", "in", "not_in", "contains", "exists"}),
    "bool": frozenset({"eq", "ne", "exists"}),
    "enum": frozenset({"eq", "ne", "in", "not_in", "exists"}),
    # P1 is the most urgent: "lte P2" means P1 or P2.
    "priority": frozenset({"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists"}),
    "tags": frozenset({"contains", "not_contains"}),
}

RECIPIENT = re.compile(
    r"^(role:(supervisor|service_manager|account_owner|engineer)|user:[A-Za-z0-9_.@\-]{1,64})$"
)
TAG = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_.:\-\u4e00-\u9fff]{0,63}$")
TEMPLATE_FIELD = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")

# type → {key: (required, kind)}; kinds: str, text, priority, status, tag, on, recipient, duration, channel
ACTION_SPECS: dict[str, dict[str, tuple[bool, str]]] = {
    "set_priority": {"priority": (True, "priority")},
    "set_status": {"status": (True, "status"), "reason": (False, "text")},
    "add_tag": {"tag": (True, "tag"), "on": (False, "on")},
    "remove_tag": {"tag": (True, "tag"), "on": (False, "on")},
    "assign_queue": {"queue": (True, "tag")},
    "add_comment": {"text": (True, "text")},
    "create_task": {
        "title": (True, "text"),
        "kind": (False, "tag"),
        "owner": (True, "recipient"),
        "due_in": (False, "duration"),
        "notes": (False, "text"),
    },
    "notify": {"to": (True, "recipient"), "message": (True, "text"), "channel": (False, "channel")},
    "escalate": {"reason": (False, "text")},
    "send_survey": {"kind": (False, "survey_kind")},
}
CHANNELS = ("in_app", "email", "im", "webhook")

MAX_DURATION = timedelta(days=366)


# ---------------------------------------------------------------- parsed forms


@dataclass(frozen=True, slots=True)
class Duration:
    minutes: float
    business: bool

    @classmethod
    def parse(cls, raw: object, where: str) -> Duration:
        if not isinstance(raw, dict) or not raw:
            raise Invalid(
                "a duration is an object with one of minutes, hours, days, business_hours", field=where
            )
        units = {"minutes": 1, "hours": 60, "days": 1440, "business_hours": 60}
        for key in raw:
            if key not in units:
                raise Invalid(f"unknown duration unit {key!r}", field=f"{where}.{key}")
        if len(raw) != 1:
            raise Invalid("give exactly one of minutes, hours, days, business_hours", field=where)
        ((unit, value),) = raw.items()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid("a duration is a number", field=f"{where}.{unit}")
        minutes = float(value) * units[unit]
        if minutes < 0:
            raise Invalid(
                "a duration cannot be negative: that time has already passed", field=f"{where}.{unit}"
            )
        if timedelta(minutes=minutes) > MAX_DURATION:
            raise Invalid("a duration is at most a year", field=f"{where}.{unit}")
        return cls(minutes, unit == "business_hours")

    def to_dict(self) -> dict[str, float]:
        if self.business:
            return {"business_hours": self.minutes / 60}
        return {"minutes": self.minutes}

    def due(self, start: Any, calendar: BusinessCalendar | None) -> Any:
        """The instant this long after `start` (business time needs the calendar)."""
        if self.business:
            if calendar is None:
                raise ValueError("business time needs a calendar")
            if self.minutes == 0:
                return start
            return calendar.add_business_minutes(start, self.minutes)
        return start + timedelta(minutes=self.minutes)

    def wall_lower_bound(self) -> timedelta:
        """The least wall-clock time this can take (business hours are never faster than the wall)."""
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class Trigger:
    event: str | None = None
    in_state: str | None = None
    after: str | None = None
    sla: str | None = None
    delay: Duration | None = None

    @property
    def kind(self) -> str:
        return "event" if self.event is not None else "time"

    def matches_event(self, event_type: str) -> bool:
        return self.event is not None and fnmatch.fnmatchcase(event_type, self.event)


@dataclass(frozen=True, slots=True)
class RuleDef:
    trigger: Trigger
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]


# ---------------------------------------------------------------- validation


def parse(trigger: object, conditions: object, actions: object) -> RuleDef:
    """Validate a rule; Invalid names the field (`trigger.time.for.business_hours`, `actions[1].to`, …)."""
    return RuleDef(_trigger(trigger), _conditions(conditions, "conditions"), _actions(actions))


def _trigger(raw: object) -> Trigger:  # noqa: PLR0912 (one branch per case)
    if not isinstance(raw, dict):
        raise Invalid("the trigger is an object: {event: …} or {time: …}", field="trigger")
    keys = set(raw)
    if keys - {"event", "time"}:
        bad = sorted(keys - {"event", "time"})[0]
        raise Invalid(f"unknown trigger field {bad!r}", field=f"trigger.{bad}")
    if len(keys) != 1:
        raise Invalid("give exactly one of event, time", field="trigger")
    if "event" in raw:
        event = raw["event"]
        if not isinstance(event, str) or not any(fnmatch.fnmatchcase(t, event) for t in EVENT_TYPES):
            raise Invalid(
                f"unknown event {event!r}; known: {', '.join(sorted(EVENT_TYPES))}", field="trigger.event"
            )
        return Trigger(event=event)
    time = raw["time"]
    where = "trigger.time"
    if not isinstance(time, dict):
        raise Invalid("a time trigger is an object", field=where)
    allowed = {"in_state", "after", "sla", "for"}
    for key in time:
        if key not in allowed:
            raise Invalid(f"unknown time-trigger field {key!r}", field=f"{where}.{key}")
    anchors = [k for k in ("in_state", "after", "sla") if k in time]
    if len(anchors) != 1:
        raise Invalid("give exactly one of in_state, after, sla", field=where)
    anchor = anchors[0]
    value = time[anchor]
    choices = {"in_state": STATUSES, "after": ["created", "completed"], "sla": ["at_risk", "breached"]}[
        anchor
    ]
    if value not in choices:
        raise Invalid(f"{anchor} is one of {', '.join(choices)}", field=f"{where}.{anchor}")
    if "for" not in time and anchor != "sla":
        raise Invalid('how long? e.g. {"business_hours": 2}', field=f"{where}.for")
    delay = Duration.parse(time["for"], f"{where}.for") if "for" in time else None
    if anchor == "in_state" and delay is not None and delay.minutes == 0:
        raise Invalid(
            "in a state for no time at all is every state change: use an event trigger", field=f"{where}.for"
        )
    if anchor == "in_state" and value in ("closed", "cancelled"):
        raise Invalid(
            f"a work order stays {value} for ever: this would fire for every one", field=f"{where}.in_state"
        )
    return Trigger(
        in_state=value if anchor == "in_state" else None,
        after=value if anchor == "after" else None,
        sla=value if anchor == "sla" else None,
        delay=delay,
    )


def _conditions(raw: object, where: str, depth: int = 0) -> dict[str, Any]:
    if raw is None:
        return {"all": []}
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("all", "any"):
        raise Invalid('conditions are {"all": [...]} or {"any": [...]}', field=where)
    if depth > 3:
        raise Invalid("conditions nest at most 3 deep", field=where)
    ((mode, items),) = raw.items()
    if not isinstance(items, list) or len(items) > 50:
        raise Invalid("a list of at most 50 conditions", field=f"{where}.{mode}")
    out = []
    for i, item in enumerate(items):
        path = f"{where}.{mode}[{i}]"
        if isinstance(item, dict) and set(item) <= {"all", "any"} and item:
            out.append(_conditions(item, path, depth + 1))
        else:
            out.append(_condition(item, path))
    return {mode: out}


def _condition(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid("a condition is {field, op, value}", field=where)
    for key in raw:
        if key not in ("field", "op", "value"):
            raise Invalid(f"unknown condition key {key!r}", field=f"{where}.{key}")
    name = raw.get("field")
    if name not in FIELDS:
        raise Invalid(f"unknown field {name!r}; known: {', '.join(sorted(FIELDS))}", field=f"{where}.field")
    ftype = FIELDS[str(name)]
    op = raw.get("op")
    if op not in OPS_BY_KIND[ftype.kind]:
        raise Invalid(
            f"{name} ({ftype.kind}) takes {', '.join(sorted(OPS_BY_KIND[ftype.kind]))}", field=f"{where}.op"
        )
    if op == "exists":
        value = raw.get("value", True)
        if not isinstance(value, bool):
            raise Invalid("exists takes true or false", field=f"{where}.value")
        return {"field": name, "op": op, "value": value}
    if "value" not in raw:
        raise Invalid("a value to compare with", field=f"{where}.value")
    value = raw["value"]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > 100:
            raise Invalid(f"{op} takes a list of 1–100 values", field=f"{where}.value")
        for j, v in enumerate(value):
            _check_value(ftype, v, f"{where}.value[{j}]", str(name))
    else:
        _check_value(ftype if ftype.kind != "tags" else STR, value, f"{where}.value", str(name))
    return {"field": name, "op": op, "value": value}


def _check_value(ftype: FieldType, value: object, where: str, name: str) -> None:
    ok: bool
    if ftype.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif ftype.kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif ftype.kind == "bool":
        ok = isinstance(value, bool)
    elif ftype.kind in ("enum", "priority"):
        ok = value in ftype.values
    else:
        ok = isinstance(value, str) and len(value) <= 500
    if not ok:
        expected = f"one of {', '.join(ftype.values)}" if ftype.values else f"a {ftype.kind}"
        raise Invalid(f"{name} is compared with {expected}, not {value!r}", field=where)


def _actions(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("a rule does something: give at least one action", field="actions")
    if len(raw) > 20:
        raise Invalid("at most 20 actions", field="actions")
    return [_action(item, f"actions[{i}]") for i, item in enumerate(raw)]


def _action(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or "type" not in raw:
        raise Invalid("an action is {type, …}", field=f"{where}.type")
    kind = raw["type"]
    spec = ACTION_SPECS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise Invalid(
            f"unknown action {kind!r}; known: {', '.join(sorted(ACTION_SPECS))}", field=f"{where}.type"
        )
    out: dict[str, Any] = {"type": kind}
    for key in raw:
        if key != "type" and key not in spec:
            raise Invalid(f"{kind} has no {key!r}", field=f"{where}.{key}")
    for key, (required, value_kind) in spec.items():
        if key not in raw:
            if required:
                raise Invalid(f"{kind} needs {key}", field=f"{where}.{key}")
            continue
        out[key] = _action_value(value_kind, raw[key], f"{where}.{key}")
    return out


def _action_value(kind: str, value: object, where: str) -> Any:
    if kind == "duration":
        return _keep(value, where)
    if kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > 2000:
            raise Invalid("1–2000 characters of text", field=where)
        for name in TEMPLATE_FIELD.findall(value):
            if name not in FIELDS:
                raise Invalid(f"unknown field {{{name}}} in the text", field=where)
        return value
    choices: dict[str, list[str]] = {
        "priority": PRIORITIES,
        "status": STATUSES,
        "on": ["work_order", "customer"],
        "channel": list(CHANNELS),
        "survey_kind": ["csat", "nps", "ces"],
    }
    if kind in choices:
        if value not in choices[kind]:
            raise Invalid(f"one of {', '.join(choices[kind])}", field=where)
        return value
    if kind == "tag":
        if not isinstance(value, str) or not TAG.match(value):
            raise Invalid("a tag: letters, digits, _ . : - (at most 64)", field=where)
        return value
    if kind == "recipient":
        if not isinstance(value, str) or not RECIPIENT.match(value):
            raise Invalid(
                "role:supervisor | role:service_manager | role:account_owner | role:engineer | user:<name>",
                field=where,
            )
        return value
    raise AssertionError(kind)


def _keep(value: object, where: str) -> dict[str, float]:
    Duration.parse(value, where)
    assert isinstance(value, dict)
    return dict(value)


# ---------------------------------------------------------------- evaluation


def matches(conditions: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Whether `facts` (flat: {"work_order.priority": "P1", …}) satisfy the conditions."""
    ((mode, items),) = conditions.items()
    results = (matches(item, facts) if "field" not in item else _holds(item, facts) for item in items)
    return all(results) if mode == "all" else any(results)


def _holds(cond: dict[str, Any], facts: dict[str, Any]) -> bool:  # noqa: PLR0912 (one branch per case)
    name, op, expected = cond["field"], cond["op"], cond["value"]
    actual = facts.get(name)
    if op == "exists":
        return bool((actual is not None) == expected)
    ftype = FIELDS[name]
    if ftype.kind == "tags":
        tags = actual or []
        return bool((expected in tags) == (op == "contains"))
    if actual is None:
        # A missing fact satisfies only "not equal" / "not in".
        return op in ("ne", "not_in")
    if ftype.kind == "priority":
        actual = Priority(actual).rank
        expected = (
            [Priority(v).rank for v in expected] if isinstance(expected, list) else Priority(expected).rank
        )
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains":
        return str(expected).casefold() in str(actual).casefold()
    try:
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        if op == "lt":
            return bool(actual < expected)
        if op == "lte":
            return bool(actual <= expected)
    except TypeError:
        return False
    raise AssertionError(op)


def render(text: str, facts: dict[str, Any]) -> str:
    """Fill `{work_order.reference}`-style placeholders from the facts."""

    def one(m: re.Match[str]) -> str:
        value = facts.get(m.group(1))
        return "" if value is None else str(value)

    return TEMPLATE_FIELD.sub(one, text)


def trigger_of(raw: dict[str, Any]) -> Trigger:
    return _trigger(raw)
