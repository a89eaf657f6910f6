"""Rich output for people. Imported only by commands that draw tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Optional, Union

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llmcalc.checkpoint import Verification
from llmcalc.compare import Comparison, ratio
from llmcalc.explain import Explanation
from llmcalc.formats import cell_text, value_text
from llmcalc.kvcache import KIND_NOTES, CacheSize, Footprint, attention_sharing, saving_factor
from llmcalc.memory import human_bytes, human_count, weight_memory
from llmcalc.params import ParamCount
from llmcalc.spec import Attention, LatentAttention, ModelSpec
from llmcalc.terms import Term, component_totals, group

# Characters of the longest bar in a sweep.
BAR_WIDTH = 24
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


def _term_rows(root: Term, human: Callable[[int], str]) -> list[Row]:
    """One row per leaf (per layer × repeats), a header row per layer group, a section per part."""
    total = root.total
    rows: list[Row] = []

    def add(name: str, term: Term, chain: tuple[int, ...]) -> None:
        if term.note and term.value == 0:
            rows.append((f"{name} ({term.tag})", Text(term.note, style="italic"), "", "0", "", ""))
            return
        value = term.value * _product(chain)
        per_unit = f"{term.value:,} {_times(chain)}".strip()
        rows.append((name, term.formula, per_unit, f"{value:,}", human(value), _share(value, total)))

    for part in root.children:
        if not part.children:
            add(part.key, part, ())
            rows.append(None)
            continue
        groups = [child for child in part.children if child.key.startswith("layers.")]
        summed = len(groups) > MAX_LAYER_GROUPS_SHOWN
        if summed:
            for name, layers, value in _summed_layers(part, groups):
                rows.append((name, f"Σ over {layers} layers", "varies", f"{value:,}", human(value),
                             _share(value, total)))
        for child in part.children:
            if child in groups:
                if summed:
                    continue
                repeat = (child.repeat,) if child.repeat > 1 else ()
                rows.append((Text(f"{part.key} {child.label}", style="bold"), "", _times(repeat),
                             f"{child.total:,}", human(child.total), _share(child.total, total)))
                for path, term, chain in _rows(child, "", repeat):
                    add(f"  {path}", term, chain)
            elif child.children:
                chain = (child.repeat,) if child.repeat > 1 else ()
                for path, term, sub_chain in _rows(child, f"{part.key}.{child.key}", chain):
                    add(path, term, sub_chain)
            else:
                add(f"{part.key}.{child.key}", child, ())
        rows.append(None)
    return rows


def _param_rows(count: ParamCount, estimate: Term | None) -> list[Row]:
    total = count.total
    rows = _term_rows(count.root, human_count)
    if count.active != total:
        rows.append((Text("active per token", style="bold"), "top-k experts only", "",
                     f"{count.active:,}", human_count(count.active), _share(count.active, total)))
    if estimate is not None:
        rows.append((Text("textbook estimate", style="bold"), "V·H + L·4H² + L·3·H·I + V·H", "",
                     f"{estimate.total:,}", human_count(estimate.total),
                     f"{100 * (estimate.total - total) / total:+.1f} %"))
    return rows


def term_table(title: str, caption: str | None, rows: list[Row], footer: tuple[str, ...],
               width: int, unit_header: str = "per unit × n", value_header: str = "params") -> Table:
    with_formula = width >= FORMULA_MIN_WIDTH
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)

    def widest(index: int) -> int:
        cells = [str(r[index]) for r in rows if r is not None] + [footer[index]]
        return max(len(cell) for cell in cells)

    # Numbers are never cut or wrapped: their columns are as wide as their widest value.
    # On a narrow terminal component names wrap, and the formula column is left out.
    table.add_column("component", footer=footer[0], overflow="fold")
    if with_formula:
        table.add_column("formula", style="dim", ratio=1, min_width=9)
    for index, header in ((2, unit_header), (3, value_header), (4, ""), (5, "share")):
        table.add_column(header, justify="right", footer=footer[index], no_wrap=True,
                         min_width=widest(index))
    for entry in rows:
        if entry is None:
            table.add_section()
            continue
        name, formula, *numbers = entry
        table.add_row(name, *((formula,) if with_formula else ()), *numbers)
    return table


def params_table(spec: ModelSpec, count: ParamCount, estimate: Term | None, width: int) -> Table:
    total = count.total
    changed = ", ".join(f"{key}={value}" for key, value in (spec.overrides or {}).items())
    title = f"{spec.name} ({changed}) — parameters" if changed else f"{spec.name} — parameters"
    footer = ("total", "", "", f"{total:,}", human_count(total), "100.0 %")
    return term_table(title, spec.hf_repo or None, _param_rows(count, estimate), footer, width)


def _summed_layers(stack: Term, groups: list[Term]) -> list[tuple[str, int, int]]:
    """(component, layers, params summed over every layer) for stacks whose layers differ."""
    layers = sum(g.repeat for g in groups)
    totals = component_totals(group(stack.key, stack.label, groups))
    return [(f"{stack.key}.{name}", layers, value) for name, value in totals.items() if isinstance(value, int)]


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


def presets_table(specs: list[tuple[ModelSpec, ParamCount, str]]) -> Table:
    users = sum(1 for _, _, source in specs if source != "bundled")
    table = Table(title="presets" + (f" ({users} from user preset folders)" if users else ""),
                  box=box.SIMPLE_HEAD)
    for name, justify in (("name", "left"), ("family", "left"), ("params", "right"), ("", "right"),
                          ("layers", "right"), ("hidden", "right"), ("heads/KV", "right"),
                          ("context", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    if users:
        table.add_column("source", overflow="fold")
    for spec, count, source in specs:
        heads = _heads_summary(spec)
        context = f"{spec.context_length:,}" if spec.context_length else "—"
        table.add_row(spec.name, spec.family, f"{count.total:,}", human_count(count.total),
                      str(spec.num_layers), f"{spec.hidden_size:,}", heads, context,
                      *((source,) if users else ()))
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


def binary_bytes(value: int) -> str:
    """Bytes in binary units: 512.00 KiB, 2.00 GiB."""
    for factor, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value} B"


def both_units(value: int) -> str:
    gb, gib = human_bytes(value)
    return f"{value:,} B = {gb} = {gib}"


def _sequences(batch: int) -> str:
    return f"{batch:,} sequence" + ("s" if batch != 1 else "")


def print_kvcache(spec: ModelSpec, cache: CacheSize, needs: Footprint) -> None:
    console = make_console()
    if cache.kind == "none":
        console.print(f"{spec.name}: {KIND_NOTES['none']} (it reads its whole input at once); "
                      "KV cache: 0 bytes.")
        return
    title = (f"{spec.name} — KV cache, {cache.tokens:,} tokens × {_sequences(cache.batch)}, "
             f"{cache.dtype.name}")
    if cache.encoder_tokens:
        title += f", {cache.encoder_tokens:,} encoder tokens"
    footer = ("total", "", "", f"{cache.total:,}", binary_bytes(cache.total), "100.0 %")
    console.print(term_table(title, KIND_NOTES[cache.kind], _term_rows(cache.root, binary_bytes), footer,
                             console.width, unit_header="per layer × n", value_header="bytes"))
    lines = [f"total: {both_units(cache.total)}"]
    if cache.kind != "state":
        lines.insert(0, f"per token (all layers, one sequence): {cache.bytes_per_token:,} B "
                        f"= {binary_bytes(cache.bytes_per_token)}")
    if cache.windowed_layers:
        windows = sorted({layer.attention.sliding_window for stack in spec.stacks for layer in stack.layers
                          if isinstance(layer.attention, Attention) and layer.attention.sliding_window})
        sizes = " or ".join(f"{window:,}" for window in windows)
        lines.append(
            f"sliding window: {cache.windowed_layers} of {spec.num_layers} layers keep only the last {sizes} "
            f"tokens; without windows (--no-window): {both_units(cache.uncapped.total)}. "
            "(transformers keeps one token fewer between steps; the window here includes the new token.)")
    sharing = attention_sharing(spec)
    factor = saving_factor(cache)
    if sharing in ("GQA", "MQA"):
        lines.append(f"{sharing}: the multi-head equivalent (one KV head per query head) would hold "
                     f"{both_units(cache.mha_equivalent.total)}; {sharing} saves ×{factor:.2f}.")
    elif sharing == "MLA":
        lines.append(f"MLA: K and V per head, uncompressed, would hold {both_units(cache.mha_equivalent.total)}; "
                     f"the latent saves ×{factor:.2f}.")
    elif sharing == "MHA":
        lines.append("MHA: every query head has its own K and V head; GQA or MQA would shrink this cache.")
    if cache.kind != "state":
        lines.append(
            f"with the cache: {cache.total:,} B held (every layer, every token), and each new token costs "
            f"{needs.flops_with_cache:,} weight FLOPs (2 × active layer params). Without it: "
            f"{cache.recompute_peak:,} B (one layer's K and V at a time), but each new token reruns all "
            f"{cache.tokens:,} tokens: {needs.flops_without_cache:,} FLOPs.")
    lines.append(f"weights ({needs.weight_dtype.name}) {needs.weights:,} B + KV cache {needs.cache:,} B "
                 f"= {both_units(needs.total)}")
    for line in lines:
        console.print(line)


def print_kvcache_sweep(spec: ModelSpec, caches: list[CacheSize], needs: list[Footprint]) -> None:
    console = make_console()
    first = caches[0]
    table = Table(title=f"{spec.name} — KV cache, {first.dtype.name}", caption=KIND_NOTES[first.kind],
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("tokens", "batch", "per token", "cache bytes", "GB", "GiB"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, min_width=BAR_WIDTH)
    table.add_column("+ weights", justify="right", no_wrap=True)
    largest = max(cache.total for cache in caches) or 1
    for cache, need in zip(caches, needs):
        gb, gib = human_bytes(cache.total)
        bar = "█" * max(1 if cache.total else 0, round(BAR_WIDTH * cache.total / largest))
        table.add_row(f"{cache.tokens:,}", f"{cache.batch:,}", f"{cache.bytes_per_token:,}", f"{cache.total:,}",
                      gb.removesuffix(" GB"), gib.removesuffix(" GiB"), Text(bar, style="cyan"),
                      human_bytes(need.total)[1])
    console.print(table)
    console.print(f"weights at {needs[0].weight_dtype.name}: {both_units(needs[0].weights)}; "
                  "'+ weights' is weights and cache together.")


def print_compare(comparison: Comparison) -> None:
    console = make_console()
    names = [spec.name for spec in comparison.specs]
    table = Table(title="compare: " + " vs ".join(names), box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=f"memory at {comparison.dtype.name}; KV cache for one sequence; "
                          f"ratios (×): each model against {names[0]}; — = the model has no such component")
    table.add_column("", overflow="fold")
    for name in names:
        table.add_column(name, justify="right", overflow="fold")
    for name in names[1:]:
        table.add_column(f"{name} ×" if len(names) > 2 else "ratio", justify="right", no_wrap=True)
    section = comparison.rows[0].section
    for row in comparison.rows:
        if row.section != section:
            table.add_section()
            section = row.section
        first = row.cells[0]
        # A value that differs from the first model's stands out.
        cells = [Text(cell_text(cell), style="" if index == 0 or cell == first else "bold")
                 for index, cell in enumerate(row.cells)]
        table.add_row(row.name, *cells, *(ratio(cell, first) for cell in row.cells[1:]))
    console.print(table)


def print_explanation(explanation: Explanation) -> None:
    from rich.rule import Rule

    console = make_console()
    human = human_count if explanation.unit == "params" else binary_bytes
    for number, step in enumerate(explanation.steps, 1):
        console.print(Rule(Text(f"{number}. {step.title}", style="bold"), align="left"))
        console.print(step.text)
        if step.entries:
            table = Table(box=None, pad_edge=False, show_header=False)
            table.add_column(overflow="fold")
            table.add_column(style="dim", overflow="fold")
            table.add_column(overflow="fold")
            table.add_column(justify="right", no_wrap=True)
            table.add_column(justify="right", no_wrap=True)
            for entry in step.entries:
                detail = Text(f"= {entry.substituted}" if entry.substituted else "")
                if entry.note:
                    detail.append(("  " if entry.substituted else "") + entry.note, style="italic")
                value = value_text(entry)
                table.add_row(entry.title, entry.formula, detail, value,
                              human(entry.value) if value and entry.value else "")
            console.print(table)
        if step.result is not None:
            console.print(Text(f"= {step.result:,}  ({human(step.result)})", style="bold"), justify="right")
        console.print()


def print_verification(spec: ModelSpec, result: Verification) -> None:
    console = make_console()
    table = Table(title=f"{spec.name} — checkpoint against formula", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("")
    table.add_column("elements", justify="right")
    table.add_column("", justify="right")
    for dtype, elements in sorted(result.per_dtype.items()):
        table.add_row(f"parameters stored as {dtype}", f"{elements:,}", human_count(elements))
    table.add_section()
    table.add_row("parameters stored", f"{result.stored:,}", human_count(result.stored))
    table.add_row("formula (from config.json)", f"{result.formula:,}", human_count(result.formula))
    table.add_row("difference", f"{result.stored - result.formula:+,}".replace("-", "−"), "")
    console.print(table)
    console.print(f"{len(result.tensors):,} tensors in {len(result.files)} file(s); headers read, no tensor data.")
    for reason, tensors in result.not_in_formula.items():
        elements = sum(t.numel for t in tensors)
        console.print(f"not counted — {reason}: {len(tensors)} tensor(s), {elements:,} elements")
        for tensor in tensors[:5]:
            console.print(f"    {tensor.name} {tensor.dtype} {list(tensor.shape)}")
        if len(tensors) > 5:
            console.print(f"    … and {len(tensors) - 5} more")
    for missing in result.missing:
        console.print(Text(f"missing: {missing}", style="bold red"))
    verdict = Text("agree", style="bold green") if result.agrees else Text("DISAGREE", style="bold red")
    console.print(Text.assemble("formula and checkpoint ", verdict))
