"""Webhook deliveries per second, this checkout's deliverer against an older revision's, side by side.

    .venv/bin/python bench/automation/compare_webhooks.py --rev 7e9d3ad --deliveries 2000

Both run in the same process against the same kind of database (a fresh SQLite file each, or
FIELDOPS_BENCH_DATABASE_URL reset for each) and the same receiver (its own process), one after the other,
twice (old, new, old, new), so load on a shared machine hits both alike. The older `automation/webhooks.py`
is read from git and loaded as a separate module; it must fit today's tables.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import automation_bench as bench

from automation import webhooks


def load_old(rev: str) -> ModuleType:
    root = Path(__file__).resolve().parents[2]
    source = subprocess.run(
        ["git", "show", f"{rev}:automation/webhooks.py"], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "webhooks_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("webhooks_old", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["webhooks_old"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rev", default="7e9d3ad", help="The older revision (default: before the batching).")
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    old = load_old(args.rev)
    base = os.environ.get("FIELDOPS_BENCH_DATABASE_URL")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    for round_ in (1, 2):
        for name, module in ((args.rev, old), ("this checkout", webhooks)):
            with tempfile.TemporaryDirectory() as tmp:
                url = base or f"sqlite:///{tmp}/hooks.db"
                if base:
                    bench.reset(url)
                d = bench.bench_deliveries(url, args.deliveries, module)
                print(
                    f"round {round_}, {name}: {d['delivered']:,}/{d['events']:,} delivered "
                    f"(receiver got {d['received']:,}) in {d['seconds']:.1f}s = {d['per_s']:,.0f}/s; "
                    f"load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
