"""A Term tree → display rows, with the one summarising policy every output uses.

Rich tables, Markdown and `explain` all lay a tree out through here, so a model whose
layers differ (OpenELM) is summarised the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import prod

from llmcalc.records import record
from llmcalc.terms import Term, component_totals, group
from llmcalc.text import exact, times

# A stack with more distinct layer groups than this (per-layer sizes, e.g. OpenELM) is
# shown as one row per component summed over its layers, not one block per group.
MAX_LAYER_GROUPS_SHOWN = 4


@record(eq=False)
class Row:
    """One line of a table: a leaf (per layer × repeats), a layer-group heading, or a sum."""

    name: str
    value: int  # over every instance
    formula: str = ""
    per_unit: str = ""  # `16,777,216 × 32`, `× 32` on a heading, `varies` on a sum
    heading: bool = False  # a layer group's subtotal, with its leaves below it
    note: str = ""
    reason: str = ""  # why a component holds nothing (tied, none, non-parametric)


# A list of rows with None between sections.
Rows = list[Row | None]


def layer_groups(part: Term) -> list[Term]:
    return [child for child in part.children if child.key.startswith("layers.")]


def summarised(part: Term) -> bool:
    """Whether a stack has too many distinct layer groups to show one by one."""
    return len(layer_groups(part)) > MAX_LAYER_GROUPS_SHOWN


def _chain(term: Term) -> tuple[int, ...]:
    return (term.repeat,) if term.repeat > 1 else ()


def _leaves(term: Term, prefix: str, chain: tuple[int, ...]) -> Iterator[tuple[str, Term, tuple[int, ...]]]:
    """Leaves under `term` with the chain of repeats above them (layers, experts)."""
    for child in term.children:
        path = f"{prefix}.{child.key}" if prefix else child.key
        child_chain = chain + _chain(child)
        if child.children:
            yield from _leaves(child, path, child_chain)
        else:
            yield path, child, child_chain


def _leaf_row(name: str, term: Term, chain: tuple[int, ...]) -> Row:
    if term.reason:
        return Row(f"{name} ({term.reason})", 0, note=term.note, reason=term.reason)
    per_unit = f"{exact(term.value)} {times(chain)}".strip()
    return Row(name, term.value * prod(chain), term.formula, per_unit)


def summed_components(part: Term) -> list[tuple[str, int, int]]:
    """(component, value summed over every layer, layers that have it) of a summarised stack:
    in a hybrid (Jamba) the Mamba parts are in some layers, attention in others."""
    groups = layer_groups(part)
    totals = component_totals(group(part.key, part.label, groups))
    layers: dict[str, int] = {}
    for layer_group in groups:
        for name in {path.removeprefix(f"{layer_group.key}.") for path, _, _ in layer_group.leaves()}:
            layers[name] = layers.get(name, 0) + layer_group.repeat
    return [(f"{part.key}.{name}", value, layers[name]) for name, value in totals.items() if isinstance(value, int)]


def term_rows(root: Term) -> Rows:
    """One row per leaf (per layer × repeats), a heading per layer group, a section per part."""
    rows: Rows = []
    for part in root.children:
        if not part.children:
            rows += [_leaf_row(part.key, part, ()), None]
            continue
        groups = layer_groups(part)
        if summarised(part):
            rows += [Row(name, value, f"Σ over {layers} layers", "varies")
                     for name, value, layers in summed_components(part)]
        for child in part.children:
            if child in groups:
                if summarised(part):
                    continue
                rows.append(Row(f"{part.key} {child.label}", child.total, per_unit=times(_chain(child)),
                                heading=True))
                rows += [_leaf_row(f"  {path}", term, chain) for path, term, chain in _leaves(child, "", _chain(child))]
            elif child.children:
                rows += [_leaf_row(path, term, chain)
                         for path, term, chain in _leaves(child, f"{part.key}.{child.key}", _chain(child))]
            else:
                rows.append(_leaf_row(f"{part.key}.{child.key}", child, ()))
        rows.append(None)
    return rows
