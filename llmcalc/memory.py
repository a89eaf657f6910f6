"""Memory that a number of parameters takes at a given precision. Pure."""

from __future__ import annotations

from typing import NamedTuple

# Bits per weight. int4 packs two weights per byte, so an odd count needs one more byte.
WEIGHT_DTYPES: dict[str, int] = {"fp32": 32, "bf16/fp16": 16, "int8": 8, "int4": 4}

GB = 10**9
GIB = 2**30


class WeightMemory(NamedTuple):
    dtype: str
    bits: int
    bytes: int


def weight_memory(params: int) -> list[WeightMemory]:
    return [WeightMemory(dtype, bits, -(-params * bits // 8)) for dtype, bits in WEIGHT_DTYPES.items()]


def human_count(value: int) -> str:
    """A parameter count with a decimal prefix: 7.24 B, 124.44 M."""
    for factor, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {suffix}"
    return str(value)


def human_bytes(value: int) -> tuple[str, str]:
    """(decimal GB, binary GiB), both labelled."""
    return f"{value / GB:,.2f} GB", f"{value / GIB:,.2f} GiB"
