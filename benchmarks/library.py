"""Library throughput: parameter counts of random LLaMA-style configs per second (build the spec
and count it), and KV-cache sweeps of 8 sizes per second.

    python benchmarks/library.py [--seconds 3]

Each rate is the median of seven rounds.

Random but reproducible configs (seed 0): hidden 512-8192 in steps of 128 × heads, 2-96 layers,
GQA groups 1-8, gated FFN widths, vocabularies of 32k-256k. Run in the environment where
llmcalc is installed. A benchmark, not a test: its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time


def configs(count: int) -> list[dict]:
    rng = random.Random(0)
    out = []
    for _ in range(count):
        heads = rng.choice([8, 16, 32, 64])
        head_dim = rng.choice([64, 128])
        kv = heads // rng.choice([g for g in (1, 2, 4, 8) if heads % g == 0])
        hidden = heads * head_dim
        out.append({"name": "random", "vocab_size": rng.randrange(32_000, 256_000, 64), "hidden_size": hidden,
                    "num_hidden_layers": rng.randrange(2, 97), "num_attention_heads": heads,
                    "num_key_value_heads": kv, "intermediate_size": hidden * rng.choice([2, 3, 4]) // 128 * 128 + 128,
                    "norm": "rmsnorm", "gated_ffn": True, "tie_word_embeddings": rng.random() < 0.3,
                    "max_position_embeddings": 8192})
    return out


def rate(work, seconds: float, rounds: int = 7) -> float:
    """Calls per second: the median of `rounds` rounds of `seconds / rounds` each, so that a
    moment of machine noise moves one round, not the result."""
    rates = []
    done = 0
    for _ in range(rounds):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / rounds:
            work(done)
            done, calls = done + 1, calls + 1
        rates.append(calls / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    from llmcalc.kvcache import kv_cache
    from llmcalc.params import count_params
    from llmcalc.scenario import point
    from llmcalc.schema import build_spec

    fields = configs(2000)
    counts = rate(lambda i: count_params(build_spec(fields[i % len(fields)], "random")).total, seconds)
    specs = [build_spec(f, "random") for f in fields[:200]]
    sizes = (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)

    def sweep(i: int) -> None:
        spec = specs[i % len(specs)]
        for tokens in sizes:
            kv_cache(spec, point(spec, tokens)).total

    sweeps = rate(sweep, seconds)
    print(f"parameter counts (build + count) per second: {counts:,.0f}")
    print(f"KV-cache sweeps of 8 sizes per second:       {sweeps:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
