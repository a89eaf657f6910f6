"""Start-up benchmark: how long llmcalc takes to answer, against its dependencies' floor.

Each command runs N times, interleaved (one run of each in turn, so machine noise hits them
alike); the median wall time of each is reported, with ratios to

  * `python -c pass` - the interpreter alone;
  * the floor, `python -c "import typer, rich.console, rich.table, yaml"` - what the table path
    cannot avoid importing. (Until issue 15 the floor imported plain `rich`, a smaller import
    than the table path's, which made every ratio look worse than it was.)

The `paired` column is the median, over the rounds, of each round's own ratio to the floor run
in that round: a machine that slows down for a few rounds slows both sides of those ratios, so
it moves much less between runs than the ratio of the two medians beside it (on the shared
development machine: 0.01-0.08 against up to 0.2).

    python benchmarks/startup.py [--runs 21]

Run it in the environment where llmcalc is installed (it uses that python and its `llmcalc`
console script). No timed test does this: timings belong in a benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


FLOOR = "import typer, rich.console, rich.table, yaml"
# Every command in its table form (and params --json), at what a user would type; `import` and
# `verify`, which read a user's files, are added by `every_command`.
COMMANDS = {
    "params mistral-7b": ["params", "mistral-7b"],
    "params mistral-7b --json": ["params", "mistral-7b", "--json"],
    "kvcache mistral-7b --seq 4k": ["kvcache", "mistral-7b", "--seq", "4k"],
    "compare llama2-7b llama2-70b": ["compare", "llama2-7b", "llama2-70b"],
    "explain mistral-7b": ["explain", "mistral-7b"],
    "presets": ["presets"],
    "quant llama3.1-8b": ["quant", "llama3.1-8b"],
    "fit llama3.1-70b --gpu h100 --gpus 4": ["fit", "llama3.1-70b", "--gpu", "h100", "--gpus", "4", "--seq", "8k"],
    "train llama3.1-8b --gpus 8 --zero 3": ["train", "llama3.1-8b", "--gpus", "8", "--zero", "3"],
    "gpus": ["gpus"],
    "--version": ["--version"],
}
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
# The commands that read a user's files, given real ones: a config.json from the Hub (Mistral-7B
# v0.3's) and a model folder that transformers' save_pretrained wrote (a tiny Granite, the
# tests' fixture: verify reads only the headers, so a small folder costs what a large one does
# but the parsing of a longer header).
IMPORT_CONFIG = FIXTURES / "configs" / "mistral_7b_v03.json"
CHECKPOINT_TYPE = "granite"


def write_checkpoint(folder: Path) -> Path:
    """The fixture's model folder: its config.json and a safetensors file with its tensors'
    headers (zeroed data), written by the tests' own writer."""
    sys.path.insert(0, str(FIXTURES.parent))
    from safetensors_files import write_safetensors  # type: ignore[import-not-found]  # in tests/, on the path now

    recorded = json.loads((FIXTURES / "checkpoints" / "tiny_2024_2026.json").read_text())[CHECKPOINT_TYPE]
    model = folder / f"tiny-{CHECKPOINT_TYPE}"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(recorded["config"]))
    write_safetensors(model / "model.safetensors", {name: (dtype, shape) for name, dtype, shape in recorded["tensors"]})
    return model


def every_command(folder: Path) -> dict[str, list[str]]:
    """COMMANDS and the two that read files, theirs written in `folder`."""
    return {**COMMANDS, "import mistral_7b_v03.json": ["import", str(IMPORT_CONFIG)],
            f"verify tiny-{CHECKPOINT_TYPE}": ["verify", str(write_checkpoint(folder))]}


def commands(folder: Path) -> dict[str, list[str]]:
    python = sys.executable
    script = shutil.which("llmcalc") or str(Path(python).with_name("llmcalc"))
    return {"python -c pass": [python, "-c", "pass"], FLOOR: [python, "-c", FLOOR],
            **{f"llmcalc {name}": [script, *argv] for name, argv in every_command(folder).items()}}


def measure(runs: int) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, list[int]]]:
    """Medians of wall time, of the paired ratio to the floor (see above) and of CPU time (user +
    system of the child), and each command's peak memory in each run (the largest resident set, in
    KiB), after one run of each that is not measured (as after an install, every module is then
    in the bytecode cache: compiling one raised its run's peak by up to 1 MiB)."""
    with tempfile.TemporaryDirectory() as folder:
        return _measure(commands(Path(folder)), runs)


def _measure(argvs: dict[str, list[str]], runs: int) -> tuple[dict[str, float], dict[str, float],
                                                            dict[str, float], dict[str, list[int]]]:
    wall: dict[str, list[float]] = {name: [] for name in argvs}
    cpu: dict[str, list[float]] = {name: [] for name in argvs}
    peak: dict[str, list[int]] = {name: [] for name in argvs}
    env = {"COLUMNS": "120", "NO_COLOR": "1", "PATH": ""}
    for argv in argvs.values():  # unmeasured: a module changed since its last run is compiled here
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    for _ in range(runs):
        for name, argv in argvs.items():
            start = time.perf_counter()
            child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            _, status, usage = os.wait4(child.pid, 0)
            wall[name].append(time.perf_counter() - start)
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode:
                raise SystemExit(f"{name} exited with {child.returncode}")
            cpu[name].append(usage.ru_utime + usage.ru_stime)
            peak[name].append(usage.ru_maxrss)
    paired = {name: statistics.median(own / floor for own, floor in zip(values, wall[FLOOR]))
              for name, values in wall.items()}
    return ({name: statistics.median(values) for name, values in wall.items()}, paired,
            {name: statistics.median(values) for name, values in cpu.items()}, peak)


def main() -> int:
    parser = argparse.ArgumentParser(description="llmcalc start-up benchmark")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    wall, paired, cpu, peak = measure(args.runs)
    print(f"median of {args.runs} interleaved runs; ratios to the floor in wall time (of the medians, and "
          "paired round by round), CPU time and peak memory (the largest of the runs', and their median)")
    print(f"{'command':48} {'ms':>7} {'× python':>9} {'× floor':>8} {'paired':>7} {'CPU ms':>7} {'× floor':>8}"
          f" {'peak MiB':>9} {'× floor':>8} {'median':>7}")
    largest = {name: max(values) for name, values in peak.items()}
    typical = {name: statistics.median(values) for name, values in peak.items()}
    for name, seconds in wall.items():
        # Memory ratios to three places: the goal is "not above the floor's", and 0.5 % is 100 KiB.
        print(f"{name:48} {seconds * 1000:7.1f} {seconds / wall['python -c pass']:9.2f} {seconds / wall[FLOOR]:8.2f}"
              f" {paired[name]:7.2f} {cpu[name] * 1000:7.1f} {cpu[name] / cpu[FLOOR]:8.2f} {largest[name] / 1024:9.1f}"
              f" {largest[name] / largest[FLOOR]:8.3f} {typical[name] / typical[FLOOR]:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
