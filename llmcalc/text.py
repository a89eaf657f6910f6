"""Every rule that turns a number into text, in one place. Pure; imports nothing of ours.

Parameter counts take decimal prefixes (K, M, B, T); memory is shown in GB (10⁹) and GiB
(2³⁰), always labelled; exact integers carry thousands separators.
"""

from __future__ import annotations

from typing import Union

GB = 10**9
GIB = 2**30

# A table cell: an exact number, a fact in words, or None where a model has no such thing.
Cell = Union[int, str, None]

MISSING = "—"


def exact(value: int) -> str:
    """`7,241,732,096`."""
    return f"{value:,}"


def signed(value: int) -> str:
    """`+266,240` or `−805,306,368` (a real minus sign)."""
    return f"{value:+,}".replace("-", "−")


def human_count(value: int) -> str:
    """A parameter count with a decimal prefix: 7.24 B, 124.44 M."""
    for factor, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {suffix}"
    return str(value)


def gigabytes(value: int) -> str:
    """Decimal gigabytes without the unit, for a column headed GB: `14.48`."""
    return f"{value / GB:,.2f}"


def gibibytes(value: int) -> str:
    """Binary gibibytes without the unit, for a column headed GiB: `13.49`."""
    return f"{value / GIB:,.2f}"


def binary_bytes(value: int) -> str:
    """Bytes in the largest binary unit that fits: 512.00 KiB, 2.00 GiB."""
    for factor, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value} B"


def both_units(value: int) -> str:
    """`536,870,912 B = 0.54 GB = 0.50 GiB`."""
    return f"{value:,} B = {gigabytes(value)} GB = {gibibytes(value)} GiB"


def share(value: int, total: int) -> str:
    """A part of a whole in per cent: `25.9 %`."""
    return f"{100 * value / total:.1f} %" if total else MISSING


def relative(value: int, reference: int) -> str:
    """How far a value is from a reference, in per cent: `+11.1 %`."""
    return f"{100 * (value - reference) / reference:+.1f} %"


def ratio(cell: Cell, first: Cell) -> str:
    """`×10.2` against the first model, for numbers both have; empty otherwise."""
    if not isinstance(cell, int) or not isinstance(first, int) or isinstance(cell, bool) or first == 0:
        return ""
    value = cell / first
    return f"×{value:.1f}" if value >= 10 else f"×{value:.2f}"


def cell(value: Cell) -> str:
    """Exact integers with separators; words as they are; a missing value as —."""
    if value is None:
        return MISSING
    return exact(value) if isinstance(value, int) else str(value)


def times(chain: tuple[int, ...]) -> str:
    """`× 32` for 32 layers; `× 32 × 8` for 8 experts in each of 32 layers."""
    return " ".join(f"× {n:,}" for n in chain)


def product(value: int, instances: int) -> str:
    """`16,777,216 × 32 = 536,870,912`, or the value alone for a single instance."""
    if instances > 1:
        return f"{value:,} × {instances:,} = {value * instances:,}"
    return exact(value)


def layer_span(first: int, last: int) -> str:
    """`0-31` for a run of layers, `5` for one."""
    return f"{first}-{last}" if last > first else f"{first}"


def plural(count: int, noun: str) -> str:
    """`1 sequence`, `4 sequences`."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
