"""`params --hidden-size 2048,4096 --layers 16,32`: size flags with comma lists → one model per
combination. Apart from `scenario` (whose defaults are for caches, GPUs and training, not model
sizes), so that counting parameters imports none of it."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product
from math import prod

from llmcalc.errors import UsageError

# A grid of models larger than this is more likely a typo than a question (each costs ~0.1 ms).
MAX_GRID = 10_000


def parse_counts(option: str, text: str) -> tuple[int, ...]:
    """A model dimension, `4096`, or a comma list of them for a grid. Digits only: a vocabulary of
    `32k` could mean 32,000 or 32,768, and a model's sizes are exact."""
    values = []
    for item in text.split(","):
        word = item.strip()
        if not (word.isascii() and word.isdigit()) or len(word) > 15 or int(word) <= 0:
            raise UsageError(f"{option} {word!r}: expected a positive whole number, or a comma list of them")
        values.append(int(word))
    return tuple(values)


def combinations(axes: Mapping[str, tuple[int, ...]]) -> list[dict[str, int]]:
    """Every combination of the values, the first axis varying slowest (as nested loops read)."""
    total = prod(len(values) for values in axes.values())
    if total > MAX_GRID:
        raise UsageError(f"{total:,} combinations; a grid takes at most {MAX_GRID:,}")
    return [dict(zip(axes, chosen)) for chosen in product(*axes.values())]
