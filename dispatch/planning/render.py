"""Plans and diffs as plain JSON (stored on the proposal, returned by the API): ids are the database's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dispatch.optimizer import Plan, Route
from dispatch.planning.day import DayInput


def _minutes(d: timedelta) -> float:
    return round(d.total_seconds() / 60, 1)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def route_json(day: DayInput, r: Route) -> dict[str, Any]:
    return {
        "engineer_id": int(r.engineer_id),
        "engineer": day.names.get(r.engineer_id, r.engineer_id),
        "depart": _iso(r.depart),
        "return_at": _iso(r.return_at),
        "travel_km": round(r.travel_km, 2),
        "travel_minutes": _minutes(r.travel_time),
        "work_minutes": _minutes(r.work_time),
        "idle_minutes": _minutes(r.idle_time),
        "breaks": [{"start": _iso(b.start), "end": _iso(b.end)} for b in r.breaks],
        "stops": [
            {
                "work_order_id": int(s.job_id),
                "reference": day.references.get(s.job_id, s.job_id),
                "eta": _iso(s.arrival),
                "start": _iso(s.start),
                "end": _iso(s.end),
                "travel_minutes": _minutes(s.travel_from_previous),
                "distance_km": round(s.distance_from_previous_m / 1000, 2),
                "lateness_minutes": _minutes(s.lateness),
                "locked": s.locked,
            }
            for s in r.stops
        ],
    }


def plan_json(day: DayInput, plan: Plan) -> dict[str, Any]:
    return {
        "routes": [route_json(day, r) for r in plan.routes],
        "unassigned": [
            {
                "work_order_id": int(u.job_id),
                "reference": day.references.get(u.job_id, u.job_id),
                "reason": u.reason.value,
                "detail": u.detail,
            }
            for u in plan.unassigned
        ],
        "explanations": {
            jid: {
                "engineer_id": int(x.engineer_id),
                "skills_matched": {s: {"required": a, "has": b} for s, (a, b) in x.skills_matched.items()},
                "travel_minutes": _minutes(x.travel_time),
                "lateness_minutes": _minutes(x.lateness),
                "next_best_engineer_id": None if x.next_best_engineer is None else int(x.next_best_engineer),
                "next_best_extra_cost": x.next_best_extra_cost,
                "note": x.note,
            }
            for jid, x in plan.explanations.items()
        },
        "objective": round(plan.objective, 2),
        "status": plan.status,
        "used_fallback": plan.used_fallback,
        "solve_seconds": round(plan.solve_seconds, 3),
        "travel_km": round(sum(r.travel_km for r in plan.routes), 2),
        "lateness_minutes": _minutes(sum((s.lateness for r in plan.routes for s in r.stops), timedelta(0))),
    }


def _placement(plan_doc: Mapping[str, Any]) -> dict[int, tuple[int, str | None]]:
    return {
        s["work_order_id"]: (r["engineer_id"], s["start"])
        for r in plan_doc["routes"]
        for s in r["stops"]
        if not s["locked"]
    }


def diff_json(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Who gains and loses what, what moves or is retimed, and the day's totals before and after."""
    old, new = _placement(before), _placement(after)
    gains: dict[str, list[int]] = {}
    loses: dict[str, list[int]] = {}
    moved, retimed, added, withdrawn = [], [], [], []
    for wo, (eng, start) in sorted(new.items()):
        was = old.get(wo)
        if was is None:
            added.append(wo)
            gains.setdefault(str(eng), []).append(wo)
        elif was[0] != eng:
            moved.append({"work_order_id": wo, "from_engineer_id": was[0], "to_engineer_id": eng,
                          "from_start": was[1], "to_start": start})  # fmt: skip
            gains.setdefault(str(eng), []).append(wo)
            loses.setdefault(str(was[0]), []).append(wo)
        elif was[1] != start:
            retimed.append({"work_order_id": wo, "engineer_id": eng, "from_start": was[1], "to_start": start})
    for wo, (eng, _) in sorted(old.items()):
        if wo not in new:
            withdrawn.append(wo)
            loses.setdefault(str(eng), []).append(wo)
    return {
        "gains": gains,
        "loses": loses,
        "added": added,
        "moved": moved,
        "retimed": retimed,
        "withdrawn": withdrawn,
        "travel_km": {"before": before["travel_km"], "after": after["travel_km"]},
        "lateness_minutes": {"before": before["lateness_minutes"], "after": after["lateness_minutes"]},
        "unassigned": after["unassigned"],
    }


def affected_engineers(diff: Mapping[str, Any]) -> list[int]:
    ids = {int(e) for e in diff["gains"]} | {int(e) for e in diff["loses"]}
    ids |= {int(r["engineer_id"]) for r in diff["retimed"]}
    return sorted(ids)
