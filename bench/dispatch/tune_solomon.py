"""Compare search profiles on a few Solomon instances, interleaved so machine load hits them alike.

    nice python -m bench.dispatch.tune_solomon --seconds 10 \\
        --profile ils='{"iterated_local_search": true, "insertion_lns": false, "heavy_operators": false}' \\
        --profile gls='{}'

Each instance runs every profile in turn (not each profile over every instance), so a burst of
load from other work on a shared machine falls on all of them. Prints one line per instance and
the mean and worst gap to the BKS per profile. A profile is a JSON object of `SearchProfile`
fields; names are free. This is how the default VRPTW profile was chosen (README.md, tuning).
"""

from __future__ import annotations

import argparse
import json
from statistics import mean

from bench.dispatch.solomon import DEFAULT_DIR, read_bks, read_instance
from dispatch.optimizer.search import SearchProfile
from dispatch.optimizer.vrptw import check_vrptw, solve_vrptw

# Hard instances (distance gaps of guided local search were largest there), both horizons.
HARD = "R103 R105 R107 R109 R110 R202 R204 R207 R211 RC102 RC104 RC107 RC203 RC204 RC208".split()  # noqa: SIM905


def _profile(text: str) -> tuple[str, SearchProfile]:
    name, _, body = text.partition("=")
    return name, SearchProfile(**json.loads(body or "{}"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", action="append", type=_profile, required=True, help="name=JSON")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--instances", nargs="*", default=HARD)
    args = ap.parse_args(argv)
    bks = read_bks(DEFAULT_DIR)
    gaps: dict[str, list[float]] = {name: [] for name, _ in args.profile}
    for inst_name in args.instances:
        inst = read_instance(DEFAULT_DIR / f"{inst_name}.txt")
        line = [inst_name]
        for name, profile in args.profile:
            sol = solve_vrptw(inst, args.seconds, profile)
            ok = bool(sol.routes) and not check_vrptw(inst, sol.routes)
            gap = 100 * (sol.distance / bks[inst_name][1] - 1) if ok else float("inf")
            gaps[name].append(gap)
            line.append(f"{name}={gap:.2f}%/{len(sol.routes)}v")
        print(" ".join(line), flush=True)
    for name, gs in gaps.items():
        print(f"{name}: mean gap {mean(gs):.3f} %, worst {max(gs):.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
