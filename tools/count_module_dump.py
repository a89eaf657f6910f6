"""Dev-time cross-check: sum the parameters declared by a PyTorch `print(model)` dump.

For models whose reference code is remote (trust_remote_code) and not in
`transformers`, a module dump printed from the real model is an independent record of
every tensor shape. This tool reads one and adds up what each module holds:

    Linear(in_features=a, out_features=b, bias=True)   a·b (+ b)
    Embedding(n, d)                                    n·d
    LayerNorm((d,), ..., elementwise_affine=True)      2·d (d without affine bias)
    XxxRMSNorm(num_features=d, ...)                    d
    XxxRMSNorm()                                       --norm-width (the dump omits it)
    Conv2d(i, o, kernel_size=(a, b), ...)              i·o·a·b (+ o unless bias=False)

`(0-23): 24 x Block(` multiplies the block. A module named by --skip (e.g. a tied
lm_head, which shares the embedding's tensor) is not counted.

    python tools/count_module_dump.py DUMP_FILE --start "OpenELMForCausalLM(" [--norm-width 2048] [--skip lm_head]

Standard library only. Not used by llmcalc or its tests.
"""

from __future__ import annotations

import argparse
import re
import sys

NAME = re.compile(r"^\s*\((?P<name>[^)]*)\)\s*:\s*(?:(?P<times>\d+) x )?(?P<rest>.*)$")
LINEAR = re.compile(r"Linear\(in_features=(\d+), out_features=(\d+), bias=(True|False)\)")
EMBEDDING = re.compile(r"Embedding\((\d+), (\d+)")
LAYERNORM = re.compile(r"LayerNorm\(\((\d+),\)(.*)\)")
RMSNORM_SIZED = re.compile(r"RMSNorm\(num_features=(\d+)")
RMSNORM_BARE = re.compile(r"RMSNorm\(\)")
CONV2D = re.compile(r"Conv2d\((\d+), (\d+), kernel_size=\((\d+), (\d+)\)(.*)\)")


def module_params(text: str, norm_width: int | None) -> int:
    if match := LINEAR.search(text):
        fan_in, fan_out, bias = int(match[1]), int(match[2]), match[3] == "True"
        return fan_in * fan_out + (fan_out if bias else 0)
    if match := EMBEDDING.search(text):
        return int(match[1]) * int(match[2])
    if match := LAYERNORM.search(text):
        width, rest = int(match[1]), match[2]
        if "elementwise_affine=False" in rest:
            return 0
        return width if "bias=False" in rest else 2 * width
    if match := RMSNORM_SIZED.search(text):
        return int(match[1])
    if RMSNORM_BARE.search(text):
        if norm_width is None:
            raise SystemExit(f"a norm without a printed size needs --norm-width: {text.strip()}")
        return norm_width
    if match := CONV2D.search(text):
        c_in, c_out, k_h, k_w, rest = int(match[1]), int(match[2]), int(match[3]), int(match[4]), match[5]
        return c_in * c_out * k_h * k_w + (0 if "bias=False" in rest else c_out)
    return 0


def count(lines: list[str], norm_width: int | None, skip: set[str]) -> int:
    total = 0
    multipliers = [1]
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == ")":
            multipliers.pop()
            if not multipliers:
                break
            continue
        match = NAME.match(line)
        rest = (match["rest"] if match else stripped).rstrip()
        times = int(match["times"]) if match and match["times"] else 1
        skipped = bool(match) and match["name"] in skip
        if rest.endswith("("):
            multipliers.append(0 if skipped else multipliers[-1] * times)
        elif not skipped:
            total += module_params(rest, norm_width) * multipliers[-1] * times
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump")
    parser.add_argument("--start", required=True, help="text of the line that opens the model")
    parser.add_argument("--norm-width", type=int)
    parser.add_argument("--skip", action="append", default=[], help="module name not to count")
    args = parser.parse_args()
    lines = open(args.dump, encoding="utf-8").read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(args.start))
    print(count(lines[start + 1:], args.norm_width, set(args.skip)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
