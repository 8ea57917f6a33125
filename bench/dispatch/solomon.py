"""Solomon VRPTW: our OR-Tools model (pure VRPTW mode) vs PyVRP vs our greedy, same time limit.

    nice python -m bench.dispatch.solomon --seconds 10 --out bench/dispatch/results/solomon-10s.jsonl
    python -m bench.dispatch.solomon --report bench/dispatch/results/solomon-10s.jsonl
    python -m bench.dispatch.solomon --smoke          # CI: 2 instances, 2 s each, < 30 s
    python -m bench.dispatch.solomon --seconds 10 --compare ils='{"iterated_local_search": true}' gls='{}'

`--compare` tunes: it runs our solver with each named search profile (a JSON object of
`SearchProfile` fields) on the hard instances (or `--instances`), interleaved — each instance runs
every profile in turn, so a burst of load on the shared machine falls on all of them — and prints
one line per instance and the mean and worst gap per profile. Nothing is written.

Results are appended one JSON line per (instance, solver), so an interrupted run resumes where
it stopped. Distances are DIMACS (truncated to one decimal), the convention of the BKS table.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from statistics import mean

from dispatch.optimizer.search import SearchProfile
from dispatch.optimizer.vrptw import (
    SCALE,
    VrptwInstance,
    VrptwSolution,
    check_vrptw,
    dimacs_matrix,
    greedy_vrptw,
    solve_vrptw,
)

# ---------------------------------------------------------------- instances and BKS
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "shared" / "bench" / "solomon"


def read_instance(path: Path) -> VrptwInstance:
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    name = lines[0]
    head = lines.index("VEHICLE")
    vehicles, capacity = (int(v) for v in lines[head + 2].split())
    rows: list[list[int]] = []
    start = lines.index("CUSTOMER") + 2
    for ln in lines[start:]:
        if ln:
            rows.append([int(float(v)) for v in ln.split()])
    rows.sort(key=lambda r: r[0])
    if [r[0] for r in rows] != list(range(len(rows))):
        raise ValueError(f"{path}: customer numbers are not 0..n-1")
    return VrptwInstance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        x=tuple(float(r[1]) for r in rows),
        y=tuple(float(r[2]) for r in rows),
        demand=tuple(r[3] for r in rows),
        ready=tuple(r[4] for r in rows),
        due=tuple(r[5] for r in rows),
        service=tuple(r[6] for r in rows),
    )


def read_bks(directory: Path) -> dict[str, tuple[int, float]]:
    with (directory / "bks.csv").open(newline="") as fh:
        return {row["instance"]: (int(row["vehicles"]), float(row["distance"])) for row in csv.DictReader(fh)}


def instance_class(name: str) -> str:
    """C101 -> C1, RC205 -> RC2."""
    letters = name.rstrip("0123456789")
    return letters + name[len(letters)]


# ---------------------------------------------------------------- PyVRP (a `bench` extra)
def solve_pyvrp(inst: VrptwInstance, time_limit: float, seed: int = 1) -> VrptwSolution:
    # Imported here so the rest of the benchmark runs without the extra installed.
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    m = dimacs_matrix(inst)
    model = Model()
    locs = [model.add_location(x, y) for x, y in zip(inst.x, inst.y, strict=True)]
    depot = model.add_depot(locs[0], tw_early=inst.ready[0] * SCALE, tw_late=inst.due[0] * SCALE)
    model.add_vehicle_type(
        num_available=inst.vehicles,
        capacity=inst.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=inst.ready[0] * SCALE,
        tw_late=inst.due[0] * SCALE,
    )
    for c in range(1, len(inst.x)):
        model.add_client(
            locs[c],
            delivery=inst.demand[c],
            service_duration=inst.service[c] * SCALE,
            tw_early=inst.ready[c] * SCALE,
            tw_late=inst.due[c] * SCALE,
        )
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            model.add_edge(a, b, distance=int(m[i, j]), duration=int(m[i, j]))
    result = model.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    elapsed = time.perf_counter() - t0
    # Client activities carry the 0-based client index; Solomon numbers customers from 1.
    routes = tuple(tuple(a.idx + 1 for a in r if a.is_client()) for r in result.best.routes())
    feasible = result.is_feasible() and not check_vrptw(inst, routes)
    return VrptwSolution(
        routes=routes,
        distance=result.best.distance() / SCALE,
        solver="pyvrp",
        status="feasible" if feasible else "infeasible",
        seconds=elapsed,
        first_solution_seconds=None,
    )


# ---------------------------------------------------------------- the benchmark
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
SOLVERS = ("ours", "pyvrp", "greedy")
SMOKE = ("C101", "R201")


def run_one(name: str, solver: str, seconds: float, directory: Path) -> dict[str, object]:
    inst = read_instance(directory / f"{name}.txt")
    sol: VrptwSolution
    if solver == "ours":
        sol = solve_vrptw(inst, seconds)
    elif solver == "greedy":
        sol = greedy_vrptw(inst)
    else:
        sol = solve_pyvrp(inst, seconds)
    problems = check_vrptw(inst, sol.routes) if sol.routes else ["no solution"]
    return {
        "instance": name,
        "solver": solver,
        "seconds_limit": seconds,
        "distance": sol.distance,
        "vehicles": len(sol.routes),
        "feasible": not problems,
        "status": sol.status,
        "elapsed": round(sol.seconds, 2),
    }


def report(rows: Iterable[dict[str, object]], bks: dict[str, tuple[int, float]]) -> str:
    by: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    solvers: list[str] = []
    for r in rows:
        solver = str(r["solver"])
        if solver not in solvers:
            solvers.append(solver)
        name = str(r["instance"])
        by[(instance_class(name), solver)].append(r)
        by[("all", solver)].append(r)
    lines = [
        f"{'class':<6}{'solver':<8}{'n':>4}{'feasible':>10}{'mean gap %':>12}{'max gap %':>11}"
        f"{'vehicles':>10}{'BKS veh':>9}"
    ]
    for cls in (*CLASSES, "all"):
        for solver in solvers:
            rs = by.get((cls, solver), [])
            if not rs:
                continue
            ok = [r for r in rs if r["feasible"]]
            gaps = [100 * (float(str(r["distance"])) / bks[str(r["instance"])][1] - 1) for r in ok]
            nan = float("nan")
            veh = mean(float(str(r["vehicles"])) for r in ok) if ok else float("nan")
            bveh = mean(bks[str(r["instance"])][0] for r in rs)
            lines.append(
                f"{cls:<6}{solver:<8}{len(rs):>4}{f'{len(ok)}/{len(rs)}':>10}"
                f"{(mean(gaps) if gaps else nan):>12.2f}{(max(gaps) if gaps else nan):>11.2f}"
                f"{veh:>10.2f}{bveh:>9.2f}"
            )
    return "\n".join(lines)


def _gap(r: dict[str, object], bks: dict[str, tuple[int, float]]) -> float:
    return 100 * (float(str(r["distance"])) / bks[str(r["instance"])][1] - 1)


def markdown(runs: dict[str, list[dict[str, object]]], bks: dict[str, tuple[int, float]]) -> str:
    """One Markdown table over several runs (label -> rows): mean gap, vehicles and feasibility per class."""
    cols = [
        (label, solver)
        for label, rows in runs.items()
        for solver in SOLVERS
        if any(r["solver"] == solver for r in rows)
    ]
    head = (
        "| class | n | "
        + " | ".join(f"{solver} {label}: gap % / veh" for label, solver in cols)
        + " | BKS veh |"
    )
    lines = [head, "|---|---:|" + "---:|" * len(cols) + "---:|"]
    for cls in (*CLASSES, "all"):
        cells, n, bveh = [], 0, float("nan")
        for label, solver in cols:
            rs = [
                r
                for r in runs[label]
                if r["solver"] == solver and cls in ("all", instance_class(str(r["instance"])))
            ]
            ok = [r for r in rs if r["feasible"]]
            n = max(n, len(rs))
            bveh = mean(bks[str(r["instance"])][0] for r in rs) if rs else bveh
            if not ok:
                cells.append("–")
                continue
            bad = "" if len(ok) == len(rs) else f" ({len(rs) - len(ok)} infeasible)"
            veh = mean(float(str(r["vehicles"])) for r in ok)
            cells.append(f"{mean(_gap(r, bks) for r in ok):.2f} / {veh:.2f}{bad}")
        lines.append(f"| {cls} | {n} | " + " | ".join(cells) + f" | {bveh:.2f} |")
    return "\n".join(lines)


# Where guided local search left the largest gaps: R and RC, both horizons.
HARD = "R103 R105 R107 R109 R110 R202 R204 R207 R211 RC102 RC104 RC107 RC203 RC204 RC208".split()  # noqa: SIM905


def compare(profiles: list[str], names: list[str], seconds: float, directory: Path) -> str:
    """Our solver under each `name=JSON` search profile, instance by instance; the summary lines."""
    bks = read_bks(directory)
    parsed = [
        (name, SearchProfile(**json.loads(body or "{}")))
        for name, _, body in (p.partition("=") for p in profiles)
    ]
    gaps: dict[str, list[float]] = {name: [] for name, _ in parsed}
    for inst_name in names:
        inst = read_instance(directory / f"{inst_name}.txt")
        line = [inst_name]
        for name, profile in parsed:
            sol = solve_vrptw(inst, seconds, profile)
            ok = bool(sol.routes) and not check_vrptw(inst, sol.routes)
            gap = 100 * (sol.distance / bks[inst_name][1] - 1) if ok else float("inf")
            gaps[name].append(gap)
            line.append(f"{name}={gap:.2f}%/{len(sol.routes)}v")
        print(" ".join(line), file=sys.stderr, flush=True)
    return "\n".join(f"{name}: mean gap {mean(gs):.3f} %, worst {max(gs):.2f} %" for name, gs in gaps.items())


def _load(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="time limit per instance and solver")
    ap.add_argument("--instances", nargs="*", help="names (default: every instance in bks.csv)")
    ap.add_argument("--solvers", nargs="*", default=list(SOLVERS), choices=SOLVERS)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--out", type=Path, help="append results here (JSON lines); resumes")
    ap.add_argument("--report", type=Path, help="only print the table of a results file")
    ap.add_argument(
        "--markdown", nargs="+", metavar="LABEL=FILE", help="only print one Markdown table of results files"
    )
    ap.add_argument("--smoke", action="store_true", help=f"{', '.join(SMOKE)} at 2 s (CI)")
    ap.add_argument("--compare", nargs="+", metavar="NAME=JSON", help="tune: compare search profiles (ours)")
    args = ap.parse_args(argv)
    bks = read_bks(args.dir)
    if args.report:
        print(report(_load(args.report), bks))
        return 0
    if args.compare:
        print(compare(args.compare, args.instances or HARD, args.seconds, args.dir))
        return 0
    if args.markdown:
        runs = {label: _load(Path(path)) for label, _, path in (m.partition("=") for m in args.markdown)}
        print(markdown(runs, bks))
        return 0
    names = list(SMOKE) if args.smoke else (args.instances or sorted(bks))
    seconds = 2.0 if args.smoke else args.seconds
    done = {(str(r["instance"]), str(r["solver"])) for r in _load(args.out)} if args.out else set()
    rows = [r for r in _load(args.out) if r["seconds_limit"] == seconds] if args.out else []
    todo = [(n, s) for n in names for s in args.solvers if (n, s) not in done]
    for k, (name, solver) in enumerate(todo, 1):
        row = run_one(name, solver, seconds, args.dir)
        gap = 100 * (float(str(row["distance"])) / bks[name][1] - 1)
        print(
            f"[{k}/{len(todo)}] {name} {solver}: {row['distance']} ({gap:+.2f} %), "
            f"{row['vehicles']} vehicles, feasible={row['feasible']}",
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
    print(report([r for r in rows if r["instance"] in names], bks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
