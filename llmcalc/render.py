"""Rich output for people. Imported only by commands that draw tables."""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llmcalc.memory import human_bytes, human_count, weight_memory
from llmcalc.params import ParamCount
from llmcalc.spec import Attention, LatentAttention, ModelSpec
from llmcalc.terms import Term

# A stack with more distinct layer groups than this (per-layer sizes, e.g. OpenELM) is
# shown as one row per component summed over its layers instead of one block per group.
MAX_LAYER_GROUPS_SHOWN = 4


def _share(value: int, total: int) -> str:
    return f"{100 * value / total:.2f} %" if total else "—"


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
    return " × ".join(f"{n:,}" for n in reversed(chain)) if chain else ""


def _product(chain: tuple[int, ...]) -> int:
    result = 1
    for n in chain:
        result *= n
    return result


def params_table(spec: ModelSpec, count: ParamCount, estimate: Term | None) -> Table:
    total = count.total
    table = Table(
        title=f"{spec.name} — parameters",
        caption=spec.hf_repo or None,
        box=box.SIMPLE_HEAD,
        show_footer=True,
    )
    table.add_column("component", footer="total")
    table.add_column("formula", style="dim")
    table.add_column("per unit", justify="right")
    table.add_column("×", justify="right")
    table.add_column("params", justify="right", footer=f"{total:,}")
    table.add_column("", justify="right", footer=human_count(total))
    table.add_column("share", justify="right", footer="100.00 %")

    def add(name: str, term: Term, chain: tuple[int, ...], formula: str | None = None) -> None:
        if term.note and term.value == 0:
            table.add_row(name, Text(term.note, style="italic"), "", "", "0", "", "")
            return
        value = term.value * _product(chain)
        table.add_row(name, term.formula if formula is None else formula, f"{term.value:,}",
                      _times(chain), f"{value:,}", human_count(value), _share(value, total))

    for part in count.root.children:
        groups = [child for child in part.children if child.key.startswith("layers.")]
        if len(groups) > MAX_LAYER_GROUPS_SHOWN:
            _add_summed_layers(table, part, groups, total)
            for child in part.children:
                if child not in groups:
                    add(f"{part.key}.{child.key}", child, ())
            continue
        if not part.children:
            add(part.key, part, ())
            continue
        for path, term, chain in _rows(part, part.key, ()):
            add(path, term, chain)
        table.add_section()

    if count.active != total:
        table.add_section()
        table.add_row(Text("active per token", style="bold"), "routed experts: top-k only", "", "",
                      f"{count.active:,}", human_count(count.active), _share(count.active, total))
    if estimate is not None:
        table.add_section()
        table.add_row(Text("textbook estimate", style="bold"), "V·H + L·4H² + L·3·H·I + V·H", "", "",
                      f"{estimate.total:,}", human_count(estimate.total),
                      f"{100 * (estimate.total - total) / total:+.2f} %")
    return table


def _add_summed_layers(table: Table, stack: Term, groups: list[Term], total: int) -> None:
    sums: dict[str, int] = {}
    for layer_group in groups:
        for path, term, chain in _rows(layer_group, "", (layer_group.repeat,)):
            sums[path] = sums.get(path, 0) + term.value * _product(chain)
    layers = sum(g.repeat for g in groups)
    for path, value in sums.items():
        table.add_row(f"{stack.key}.{path}", f"Σ over {layers} layers (sizes differ per layer)", "varies",
                      "", f"{value:,}", human_count(value), _share(value, total))


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
    console = Console()
    console.print(params_table(spec, count, estimate))
    if spec.reference is not None:
        agrees = spec.reference.params == count.total
        mark = "[green]matches[/]" if agrees else "[bold red]DIFFERS FROM[/]"
        console.print(f"{mark} reference {spec.reference.params:,} — {spec.reference.source}",
                      highlight=False)
    if spec.head.kind == "tied":
        console.print("LM head is tied to the token embedding: counted once.", highlight=False)
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
