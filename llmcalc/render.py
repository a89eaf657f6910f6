"""Rich output for people. Imported only by commands that draw tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional, Union

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llmcalc.memory import human_bytes, human_count, weight_memory
from llmcalc.params import ParamCount
from llmcalc.spec import Attention, LatentAttention, ModelSpec
from llmcalc.terms import Term

# Below this terminal width the formula column is left out so that every number fits.
FORMULA_MIN_WIDTH = 100
# A stack with more distinct layer groups than this (per-layer sizes, e.g. OpenELM) is
# shown as one row per component summed over its layers instead of one block per group.
MAX_LAYER_GROUPS_SHOWN = 4


def make_console() -> Console:
    """A console for our own output: no markup, emoji or repr highlighting to interpret
    (styled cells are Text objects), which also spares compiling the highlighter."""
    return Console(highlight=False, markup=False, emoji=False)


def _share(value: int, total: int) -> str:
    return f"{100 * value / total:.1f} %" if total else "—"


def _rows(term: Term, prefix: str, chain: tuple[int, ...]) -> Iterable[tuple[str, Term, tuple[int, ...]]]:
    """Leaves under `term` with the chain of repeats above them (layers, experts)."""
    for child in term.children:
        path = f"{prefix}.{child.key}" if prefix else child.key
        child_chain = chain + ((child.repeat,) if child.repeat > 1 else ())
        if child.children:
            yield from _rows(child, path, child_chain)
        else:
            yield path, child, child_chain


def _times(chain: tuple[int, ...]) -> str:
    """`× 32` for 32 layers; `× 32 × 8` for 8 experts in each of 32 layers."""
    return "".join(f"× {n:,} " for n in chain).strip()


def _product(chain: tuple[int, ...]) -> int:
    result = 1
    for n in chain:
        result *= n
    return result


# One table row: component, formula, per unit × n, params, human, share. None: a section break.
Row = Optional[tuple[Union[str, Text], Union[str, Text], str, str, str, str]]


def _param_rows(count: ParamCount, estimate: Term | None) -> list[Row]:
    total = count.total
    rows: list[Row] = []

    def add(name: str, term: Term, chain: tuple[int, ...]) -> None:
        if term.note and term.value == 0:
            tag = term.note.split()[0].rstrip(":")
            rows.append((f"{name} ({tag})", Text(term.note, style="italic"), "", "0", "", ""))
            return
        value = term.value * _product(chain)
        per_unit = f"{term.value:,} {_times(chain)}".strip()
        rows.append((name, term.formula, per_unit, f"{value:,}", human_count(value), _share(value, total)))

    for part in count.root.children:
        if not part.children:
            add(part.key, part, ())
            rows.append(None)
            continue
        groups = [child for child in part.children if child.key.startswith("layers.")]
        summed = len(groups) > MAX_LAYER_GROUPS_SHOWN
        if summed:
            for name, layers, value in _summed_layers(part, groups):
                rows.append((name, f"Σ over {layers} layers", "varies", f"{value:,}", human_count(value),
                             _share(value, total)))
        for child in part.children:
            if child in groups:
                if summed:
                    continue
                repeat = (child.repeat,) if child.repeat > 1 else ()
                rows.append((Text(f"{part.key} {child.label}", style="bold"), "", _times(repeat),
                             f"{child.total:,}", human_count(child.total), _share(child.total, total)))
                for path, term, chain in _rows(child, "", repeat):
                    add(f"  {path}", term, chain)
            elif child.children:
                chain = (child.repeat,) if child.repeat > 1 else ()
                for path, term, sub_chain in _rows(child, f"{part.key}.{child.key}", chain):
                    add(path, term, sub_chain)
            else:
                add(f"{part.key}.{child.key}", child, ())
        rows.append(None)

    if count.active != total:
        rows.append((Text("active per token", style="bold"), "top-k experts only", "",
                     f"{count.active:,}", human_count(count.active), _share(count.active, total)))
    if estimate is not None:
        rows.append((Text("textbook estimate", style="bold"), "V·H + L·4H² + L·3·H·I + V·H", "",
                     f"{estimate.total:,}", human_count(estimate.total),
                     f"{100 * (estimate.total - total) / total:+.1f} %"))
    return rows


def params_table(spec: ModelSpec, count: ParamCount, estimate: Term | None, width: int) -> Table:
    total = count.total
    rows = _param_rows(count, estimate)
    with_formula = width >= FORMULA_MIN_WIDTH
    footer = ("total", "", "", f"{total:,}", human_count(total), "100.0 %")
    changed = ", ".join(f"{key}={value}" for key, value in (spec.overrides or {}).items())
    title = f"{spec.name} ({changed}) — parameters" if changed else f"{spec.name} — parameters"
    table = Table(title=title, caption=spec.hf_repo or None,
                  box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)

    def widest(index: int) -> int:
        cells = [str(r[index]) for r in rows if r is not None] + [footer[index]]
        return max(len(cell) for cell in cells)

    # Numbers are never cut or wrapped: their columns are as wide as their widest value.
    # On a narrow terminal component names wrap, and the formula column is left out.
    table.add_column("component", footer="total", overflow="fold")
    if with_formula:
        table.add_column("formula", style="dim", ratio=1, min_width=9)
    for index, header in ((2, "per unit × n"), (3, "params"), (4, ""), (5, "share")):
        table.add_column(header, justify="right", footer=footer[index], no_wrap=True,
                         min_width=widest(index))
    for entry in rows:
        if entry is None:
            table.add_section()
            continue
        name, formula, *numbers = entry
        table.add_row(name, *((formula,) if with_formula else ()), *numbers)
    return table


def _summed_layers(stack: Term, groups: list[Term]) -> list[tuple[str, int, int]]:
    """(component, layers, params summed over every layer) for stacks whose layers differ."""
    sums: dict[str, int] = {}
    for layer_group in groups:
        for path, term, chain in _rows(layer_group, "", (layer_group.repeat,)):
            sums[path] = sums.get(path, 0) + term.value * _product(chain)
    layers = sum(g.repeat for g in groups)
    return [(f"{stack.key}.{path}", layers, value) for path, value in sums.items()]


def memory_table(params: int) -> Table:
    table = Table(title="weight memory", box=box.SIMPLE_HEAD)
    table.add_column("dtype")
    table.add_column("bytes", justify="right")
    table.add_column("GB (10⁹)", justify="right")
    table.add_column("GiB (2³⁰)", justify="right")
    for memory in weight_memory(params):
        gb, gib = human_bytes(memory.bytes)
        table.add_row(memory.dtype, f"{memory.bytes:,}", gb.removesuffix(" GB"), gib.removesuffix(" GiB"))
    return table


def print_params(spec: ModelSpec, count: ParamCount, estimate: Term | None) -> None:
    console = make_console()
    console.print(params_table(spec, count, estimate, console.width))
    if spec.reference is not None:
        agrees = spec.reference.params == count.total
        mark = Text("matches", style="green") if agrees else Text("DIFFERS FROM", style="bold red")
        console.print(Text.assemble(mark, f" reference {spec.reference.params:,} — {spec.reference.source}"))
    if spec.embeddings.head == "tied":
        console.print("LM head is tied to the token embedding: counted once.")
    console.print(memory_table(count.total))


def presets_table(specs: list[tuple[ModelSpec, ParamCount]]) -> Table:
    table = Table(title="bundled presets", box=box.SIMPLE_HEAD)
    for name, justify in (("name", "left"), ("family", "left"), ("params", "right"), ("", "right"),
                          ("layers", "right"), ("hidden", "right"), ("heads/KV", "right"),
                          ("context", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for spec, count in specs:
        heads = _heads_summary(spec)
        context = f"{spec.context_length:,}" if spec.context_length else "—"
        table.add_row(spec.name, spec.family, f"{count.total:,}", human_count(count.total),
                      str(spec.num_layers), f"{spec.hidden_size:,}", heads, context)
    return table


def _heads_summary(spec: ModelSpec) -> str:
    first = spec.stacks[0].layers
    kinds = {(getattr(layer.attention, "num_heads", 0), getattr(layer.attention, "num_kv_heads", 0))
             for layer in first}
    attention = first[0].attention
    if isinstance(attention, LatentAttention):
        return f"{attention.num_heads}/MLA"
    if not isinstance(attention, Attention):
        return "—"
    if len(kinds) > 1:
        return "per layer"
    return f"{attention.num_heads}/{attention.num_kv_heads}"
