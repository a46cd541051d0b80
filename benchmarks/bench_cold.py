"""A cold ``care15.analyze`` of the 250k grid, in a fresh process each time, with its peak memory.

Run by hand (not part of the test suite):

    python benchmarks/bench_cold.py                                  # this checkout, 3 rounds
    python benchmarks/bench_cold.py --python /old/.venv/bin/python --python .venv/bin/python

Each round runs, for every interpreter given (e.g. a checkout before and after a change, each
with care15 installed), one fresh process that builds bench_what_if.py's generated region
(``grid_network(500)``, 2,000 facilities, 100,000 cells of 100 m) and times
``care15.analyze`` on it, nothing cached; the interpreters alternate within a round. Printed:
the median analysis seconds and the median peak memory (``ru_maxrss`` after the analysis)
per interpreter, and how many rounds they are.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = f"""
import json, resource, sys, time
sys.path.insert(0, {str(HERE)!r})
from bench_what_if import grid_region
from care15.analysis import analyze
from care15.scenario import Scenario
region = grid_region(NODES)
t = time.perf_counter()
analyze(region, Scenario())
print(json.dumps({{"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    """Run the rounds and print the medians."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", action="append", help="interpreter with care15 installed "
                    "(repeat to compare); default this one")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=250_000)
    a = ap.parse_args()
    pythons = a.python or [sys.executable]
    got: dict[str, list[dict]] = {p: [] for p in pythons}
    code = CHILD.replace("NODES", str(a.nodes))
    for r in range(a.rounds):
        for p in pythons:
            out = subprocess.run([p, "-c", code], capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{p}: failed\n{out.stderr[-2000:]}")
                continue
            res = json.loads(out.stdout.strip().splitlines()[-1])
            got[p].append(res)
            print(f"round {r + 1} {p}: analyze {res['seconds']:.2f} s, "
                  f"peak {res['peak_mb']:,.0f} MB", flush=True)
    print(f"\nmedians of {a.rounds} interleaved rounds, {a.nodes:,}-node grid")
    for p, rs in got.items():
        if rs:
            print(f"{p}: analyze {statistics.median(x['seconds'] for x in rs):.2f} s, "
                  f"peak {statistics.median(x['peak_mb'] for x in rs):,.0f} MB ({len(rs)} runs)")


if __name__ == "__main__":
    main()
