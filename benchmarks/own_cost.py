"""llmcalc's own cost per command: the milliseconds a run spends after its dependencies are
imported — llmcalc's imports and the command itself — measured inside each process, so that the
interpreter's start-up and the floor's imports (most of a run, and most of its noise on a shared
machine) are left out.

    python benchmarks/own_cost.py [--runs 9] [--against PATH]

Each run is a fresh process that imports `typer, rich.console, rich.table` (the table path's
floor), then times `llmcalc.launch.main()` up to its atexit handlers, with its output sent to a
buffer (COLUMNS=120). The least and the median of the runs are printed. `--against PATH` runs
another checkout of llmcalc (its top folder) interleaved with this one, run for run, so both see
the same machine: how a change moved each command. Run it where llmcalc is installed. A
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from startup import every_command  # the same commands as the start-up benchmark

CHILD = """
import atexit, io, sys, time
import typer, rich.console, rich.table
sys.argv = ["llmcalc", *sys.argv[1:]]
start = time.perf_counter()
# Read at exit, however the launcher ends the process (it may skip the interpreter's teardown).
atexit.register(lambda: sys.__stderr__.write(f"{(time.perf_counter() - start) * 1000}\\n"))
sys.stdout = io.StringIO()
from llmcalc.launch import main
main()
"""


def run(root: Path | None, argv: list[str], folder: str) -> float:
    """One process's own cost in ms; `root`: another checkout to import llmcalc from."""
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a module recompiled at every run would be measured too
    if root is not None:
        env["PYTHONPATH"] = str(root)
    result = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=env,
                            cwd=folder, check=True)
    return float(result.stderr.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description="llmcalc's own cost per command")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--against", type=Path, help="another checkout's top folder, run interleaved")
    args = parser.parse_args()
    roots: list[Path | None] = [None] if args.against is None else [args.against.resolve(), None]
    with tempfile.TemporaryDirectory() as folder:  # not a checkout: `llmcalc` is the installed one
        header = "  ".join(f"{'least':>7} {'median':>7}" for _ in roots)
        print(f"own cost in ms over {args.runs} runs" + (f"; left: {args.against}, right: this one"
                                                         if args.against else ""))
        print(f"{'command':40} {header}" + (f" {'right/left':>10}" if args.against else ""))
        for name, argv in every_command(Path(folder)).items():
            times: list[list[float]] = [[] for _ in roots]
            for _ in range(args.runs):
                for index, root in enumerate(roots):
                    times[index].append(run(root, argv, folder))
            cells = "  ".join(f"{min(t):7.1f} {statistics.median(t):7.1f}" for t in times)
            ratio = f" {min(times[-1]) / min(times[0]):10.2f}" if args.against else ""
            print(f"{name:40} {cells}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
