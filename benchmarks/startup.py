"""Start-up benchmark: how long llmcalc takes to answer, against Python's own floor.

Each command runs N times, interleaved (one run of each in turn, so machine noise hits
them alike); the median wall time of each is reported, with ratios to

  * `python -c pass`                      - the interpreter alone;
  * `python -c "import typer, rich, yaml"` - the price of the three dependencies.

Targets from the foundation issue: `params mistral-7b` at most 1.15x the import
baseline, `--json` at most 0.85x of it (so --json must not import rich).

    python benchmarks/startup.py [--runs 21]

Run it in the environment where llmcalc is installed (it uses that python and its
`llmcalc` console script). No timed test does this: timings belong in a benchmark.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def commands() -> dict[str, list[str]]:
    python = sys.executable
    script = shutil.which("llmcalc") or str(__import__("pathlib").Path(python).with_name("llmcalc"))
    return {
        "python -c pass": [python, "-c", "pass"],
        "import typer, rich, yaml": [python, "-c", "import typer, rich, yaml"],
        "llmcalc --version": [script, "--version"],
        "llmcalc params mistral-7b --json": [script, "params", "mistral-7b", "--json"],
        "llmcalc params mistral-7b": [script, "params", "mistral-7b"],
        "llmcalc params llama2-7B (alias lookup) --json": [script, "params", "Llama-2-7b", "--json"],
    }


def measure(runs: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {name: [] for name in commands()}
    env = {"COLUMNS": "120", "NO_COLOR": "1", "PATH": ""}
    for _ in range(runs):
        for name, argv in commands().items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description="llmcalc start-up benchmark")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    medians = measure(args.runs)
    floor = medians["python -c pass"]
    imports = medians["import typer, rich, yaml"]
    print(f"median of {args.runs} interleaved runs")
    print(f"{'command':48} {'ms':>8} {'× python':>9} {'× imports':>10}")
    for name, seconds in medians.items():
        print(f"{name:48} {seconds * 1000:8.1f} {seconds / floor:9.2f} {seconds / imports:10.2f}")
    table = medians["llmcalc params mistral-7b"] / imports
    json_ratio = medians["llmcalc params mistral-7b --json"] / imports
    print(f"\ntable: {table:.2f}× imports (target ≤ 1.15); --json: {json_ratio:.2f}× imports (target ≤ 0.85)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
