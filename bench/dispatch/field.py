"""Field-service scenarios: our optimizer vs the greedy baseline on generated city days.

    python -m bench.dispatch.field --out bench/dispatch/results/field.jsonl   # 20x150, 100x1000, 300x3000
    python -m bench.dispatch.field --sizes 20x150 --seconds 10
    python -m bench.dispatch.field --report bench/dispatch/results/field.jsonl
    python -m bench.dispatch.field --smoke                      # CI: 20x150 at 3 s, < 30 s

Each scenario runs in its own process so that its peak memory (max RSS) is its own. Reported:
time to the first feasible plan, the objective over time, travel km, SLA breaches (late starts
plus unassigned jobs that had a deadline), unassigned jobs, and whether the plan passed the
independent validator.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dispatch.optimizer import (
    Break,
    Engineer,
    HaversineTravel,
    Job,
    Location,
    Plan,
    Progress,
    SolveOptions,
    TimeWindow,
    greedy_plan,
    solve,
    validate_plan,
)

# ---------------------------------------------------------------- the generator
# A working day in a clustered city (Shanghai): engineers live and work around districts, jobs
# cluster around the same districts. Skills have levels, shifts a flexible lunch break, jobs
# priorities, SLA deadlines by priority, some appointment windows and some parts. The load is
# about 85 % of the engineers' time, so a good plan serves nearly everything and a poor one
# drops work or breaks SLAs. Seeded: the same size and seed give the same day.
SHANGHAI = Location(31.2304, 121.4737)
CST = timezone(timedelta(hours=8))
SKILLS = ("hvac", "electrical", "plumbing", "elevator", "fire_safety")
SKUS = tuple(f"SKU-{k:03d}" for k in range(12))


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    engineers: tuple[Engineer, ...]
    jobs: tuple[Job, ...]
    day: datetime


def _near(rng: random.Random, centre: Location, sigma_km: float) -> Location:
    dlat = rng.gauss(0, sigma_km) / 111.0
    dlon = rng.gauss(0, sigma_km) / (111.0 * math.cos(math.radians(centre.lat)))
    return Location(round(centre.lat + dlat, 6), round(centre.lon + dlon, 6))


def generate(engineers: int, jobs: int, seed: int = 1, centre: Location = SHANGHAI) -> Scenario:
    rng = random.Random(seed)
    day = datetime(2026, 11, 24, tzinfo=CST)

    def at(h: int, m: int = 0) -> datetime:
        return day + timedelta(hours=h, minutes=m)

    districts = [_near(rng, centre, 9.0) for _ in range(max(3, engineers // 8))]

    engs: list[Engineer] = []
    for i in range(engineers):
        home = _near(rng, rng.choice(districts), 3.0)
        skills = {
            s: rng.choices([1, 2, 3, 4, 5], [1, 3, 4, 3, 1])[0]
            for s in rng.sample(SKILLS, rng.choice([2, 3]))
        }
        start_h = rng.choices([8, 9, 10], [6, 3, 1])[0]
        stock = {sku: rng.randint(1, 3) for sku in rng.sample(SKUS, 4)}
        engs.append(
            Engineer(
                id=f"E{i:03d}",
                skills=skills,
                shift=TimeWindow(at(start_h), at(start_h + 9)),
                start=home,
                end=home,
                breaks=(Break(at(11, 30), at(14), timedelta(minutes=45)),),
                max_work=timedelta(hours=8) if rng.random() < 0.2 else None,
                van_parts=stock,
            )
        )

    out: list[Job] = []
    for k in range(jobs):
        site = _near(rng, rng.choice(districts), 2.5)
        priority = rng.choices([1, 2, 3, 4], [5, 15, 40, 40])[0]
        n_skills = 1 if rng.random() < 0.85 else 2
        required = {s: rng.choices([1, 2, 3, 4], [4, 4, 2, 1])[0] for s in rng.sample(SKILLS, n_skills)}
        respond_by = {
            1: at(8) + timedelta(minutes=rng.randint(120, 300)),
            2: at(8) + timedelta(minutes=rng.randint(240, 480)),
            3: at(18) if rng.random() < 0.5 else None,
            4: None,
        }[priority]
        windows: tuple[TimeWindow, ...] = ()
        r = rng.random()
        if r < 0.15:
            windows = (TimeWindow(at(9), at(12)),)
        elif r < 0.30:
            windows = (TimeWindow(at(13), at(17)),)
        elif r < 0.40:
            s = rng.choice([9, 10, 11, 13, 14, 15])
            windows = (TimeWindow(at(s), at(s + 2)),)
        elif r < 0.43:
            windows = (TimeWindow(at(9), at(10)), TimeWindow(at(15), at(16)))
        parts = {rng.choice(SKUS): 1} if rng.random() < 0.15 else {}
        out.append(
            Job(
                id=f"J{k:04d}",
                location=site,
                duration=timedelta(minutes=rng.choices([20, 30, 40, 60], [3, 3.5, 2, 1.5])[0]),
                required_skills=required,
                windows=windows,
                priority=priority,
                respond_by=respond_by,
                required_parts=parts,
            )
        )
    return Scenario(f"{engineers}x{jobs}-s{seed}", tuple(engs), tuple(out), day)


# ---------------------------------------------------------------- the benchmark

DEFAULT_SECONDS = {"20x150": 10.0, "100x1000": 30.0, "300x3000": 60.0}


def _metrics(plan: Plan, jobs: dict[str, Any]) -> dict[str, Any]:
    late = sum(1 for r in plan.routes for s in r.stops if s.lateness > timedelta(0))
    missed = sum(1 for u in plan.unassigned if jobs[u.job_id].respond_by is not None)
    return {
        "travel_km": round(sum(r.travel_km for r in plan.routes), 1),
        "sla_breaches": late + missed,
        "late_stops": late,
        "unassigned": len(plan.unassigned),
        "objective": round(plan.objective, 1),
    }


def run_one(size: str, seconds: float, seed: int) -> dict[str, Any]:
    engineers, jobs = (int(v) for v in size.split("x"))
    load_before = os.getloadavg()[0]  # 1-minute load: the machine is shared, say how busy it was
    sc = generate(engineers, jobs, seed=seed)
    travel = HaversineTravel()
    by_id = {j.id: j for j in sc.jobs}
    t0 = time.perf_counter()
    g = greedy_plan(sc.engineers, sc.jobs, travel, SolveOptions(explain=False))
    greedy_s = time.perf_counter() - t0
    progress = Progress()
    options = SolveOptions(time_limit=timedelta(seconds=seconds), explain=False)
    plan = solve(sc.engineers, sc.jobs, travel, options, progress=progress)
    errors = validate_plan(plan, sc.engineers, sc.jobs, travel, options)
    return {
        "scenario": sc.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "seconds_limit": seconds,
        "greedy": {**_metrics(g, by_id), "seconds": round(greedy_s, 2)},
        "ours": {
            **_metrics(plan, by_id),
            "seconds": round(plan.solve_seconds, 2),
            "first_feasible_s": round(plan.first_solution_seconds or 0.0, 2),
            "status": plan.status,
            "valid": not errors,
            "errors": errors[:5],
            "objective_over_time": [(round(t, 1), round(v, 1)) for t, v in _thin(progress.points)],
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _thin(points: list[tuple[float, float]], keep: int = 8) -> list[tuple[float, float]]:
    if len(points) <= keep:
        return points
    step = (len(points) - 1) / (keep - 1)
    return [points[round(k * step)] for k in range(keep)]


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'scenario':<16}{'limit s':>8}{'1st feas s':>11}{'travel km g→o':>18}{'Δ travel':>10}"
        f"{'SLA breaches g→o':>18}{'unassigned g→o':>16}{'objective g→o':>22}{'valid':>7}{'peak MB':>9}"
        f"{'load':>6}  date"
    )
    lines = [head]
    for r in rows:
        g, o = r["greedy"], r["ours"]
        delta = 100 * (o["travel_km"] / g["travel_km"] - 1) if g["travel_km"] else 0.0
        travel = f"{g['travel_km']:.0f} → {o['travel_km']:.0f}"
        breaches = f"{g['sla_breaches']} → {o['sla_breaches']}"
        unassigned = f"{g['unassigned']} → {o['unassigned']}"
        objective = f"{g['objective']:.0f} → {o['objective']:.0f}"
        lines.append(
            f"{r['scenario']:<16}{r['seconds_limit']:>8g}{o['first_feasible_s']:>11.2f}{travel:>18}{delta:>9.1f}%"
            f"{breaches:>18}{unassigned:>16}{objective:>22}{'yes' if o['valid'] else 'NO':>7}"
            f"{r['peak_rss_mb']:>9.0f}{r.get('load_before', float('nan')):>6.1f}  {r.get('date', '?')}"
        )
    lines.append("")
    for r in rows:
        curve = ", ".join(f"{t:g}s:{v:.0f}" for t, v in r["ours"]["objective_over_time"])
        lines.append(f"{r['scenario']} objective over time: {curve}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="*", default=list(DEFAULT_SECONDS))
    ap.add_argument("--seconds", type=float, help="time limit for every size (default: 10/30/60 s by size)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="20x150 at 3 s (CI)")
    ap.add_argument("--out", type=Path, help="append each scenario's result here (JSON lines)")
    ap.add_argument("--report", type=Path, help="only print the table of a results file")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one size in this process, print JSON
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.seconds, args.seed)))
        return 0
    if args.report:
        print(table([json.loads(ln) for ln in args.report.read_text().splitlines() if ln.strip()]))
        return 0
    sizes = ["20x150"] if args.smoke else args.sizes
    rows = []
    for size in sizes:
        seconds = 3.0 if args.smoke else (args.seconds or DEFAULT_SECONDS.get(size, 30.0))
        print(f"running {size} for {seconds:g} s …", file=sys.stderr, flush=True)
        cmd = [sys.executable, "-m", "bench.dispatch.field", "--one", size, "--seconds", str(seconds)]
        out = subprocess.run([*cmd, "--seed", str(args.seed)], check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout))
        print(table(rows[-1:]).splitlines()[1], file=sys.stderr, flush=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("a") as fh:
                fh.write(out.stdout.strip() + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
