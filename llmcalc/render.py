"""Rich output for people. Imported only by commands that draw tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Optional, Union

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llmcalc.i18n import tr, tr_formula
from llmcalc.memory import weight_memory
from llmcalc.params import ESTIMATE_FORMULA, ParamCount
from llmcalc.rows import Row, Rows, term_rows
from llmcalc.spec import ModelSpec
from llmcalc.terms import Term
from llmcalc.text import (
    MISSING,
    binary_bytes,
    both_units,
    cell,
    exact,
    gibibytes,
    gigabytes,
    human_count,
    layer_span,
    plural,
    ratio,
    relative,
    share,
    signed,
)

if TYPE_CHECKING:  # each command's results: imported by that command, not by every render
    from llmcalc.checkpoint import Verification
    from llmcalc.compare import Comparison
    from llmcalc.explain import Explanation
    from llmcalc.preset_rows import PresetRow
    from llmcalc.fit import Fit, Remedies, Stage
    from llmcalc.kvcache import CacheSize, Footprint
    from llmcalc.gpus import GPU
    from llmcalc.quant import FolderCheck, GgufCheck, NotApplicable, QuantSize
    from llmcalc.train import TrainResult

# Characters of the longest bar in a sweep.
BAR_WIDTH = 24
# Wide enough for any table of ours, to measure how wide it must be.
UNLIMITED_WIDTH = 10_000
# Below this terminal width the formula column is left out so that every number fits.
FORMULA_MIN_WIDTH = 100


def _say(console: Console, text: str, highlight: bool = False) -> None:
    """One line of prose, in the reader's language."""
    console.print(tr(text), highlight=highlight)


def make_console() -> Console:
    """A console for our own output: no markup, emoji or repr highlighting to interpret
    (styled cells are Text objects), which also spares compiling the highlighter."""
    return Console(highlight=False, markup=False, emoji=False)


def show(console: Console, table: Table) -> None:
    """Print a table no narrower than it needs: on a terminal too narrow for its numbers the
    lines run long and the terminal wraps them, but Rich never cuts a number to `…`."""
    from rich.cells import cell_len

    # Rich measures a no-wrap cell by its longest word, then cuts it to that width: make
    # each such column as wide as its widest cell ("13.05 GiB") so the measure is true.
    # The table's width with nothing wrapped: its cells, their padding (none outside the first and
    # last column without pad_edge), the box's edges and the dividers between columns.
    columns = table.columns
    _, right, _, left = table.padding
    natural = ((2 if table.box and table.show_edge else 0) + (len(columns) - 1 if table.box else 0)
               + len(columns) * (left + right) - (0 if table.pad_edge else left + right))
    widths = []
    for column in columns:
        widest = max(cell_len(text) for text in (str(column.header), *(str(cell) for cell in column.cells)))
        natural += widest
        if column.no_wrap:
            column.min_width = max(column.min_width or 0, widest)
        widths.append(widest)
    terminal = console.width
    if natural <= terminal:
        # It fits: a no-wrap column is as wide as its widest cell, which Rich would find by
        # measuring every cell again (most of the time a long table takes to print).
        for column, widest in zip(columns, widths):
            if column.no_wrap and column.width is None and column.max_width is None:
                column.width = max(column.min_width or 0, widest)
    else:  # only then is the table's true minimum worth a measuring pass
        from rich.measure import Measurement

        # Measured against a wide page: Rich clamps a measurement to the width it is offered.
        needed = Measurement.get(console, console.options.update(width=UNLIMITED_WIDTH), table).minimum
        console.width = max(terminal, needed)  # print(width=...) would be clamped to the terminal
    from llmcalc.fitted import fitted

    # A table whose every cell fits on one line is drawn in one pass (Rich's segments, without
    # laying out each cell); any other, Rich lays out.
    fast = fitted(console, table)
    console.print(table if fast is None else fast)
    console.width = terminal


def print_presets(rows: list[PresetRow]) -> None:
    show(make_console(), presets_table(rows))


# One table line: component, formula, per unit × n, value, human, share.
Cells = tuple[Union[str, Text], Union[str, Text], str, str, str, str]


def _cells(row: Row, human: Callable[[int], str], total: int) -> Cells:
    if row.reason:
        return (tr(row.name), Text(tr(row.note), style="italic"), "", "0", "", "")
    name: Union[str, Text] = Text(tr(row.name), style="bold") if row.heading else tr(row.name)
    return (name, row.formula, row.per_unit, exact(row.value), human(row.value), share(row.value, total))


def _table_cells(rows: Rows, human: Callable[[int], str], total: int) -> list[Optional[Cells]]:
    return [None if row is None else _cells(row, human, total) for row in rows]


def _param_rows(count: ParamCount, estimate: Term | None) -> list[Optional[Cells]]:
    total = count.total
    lines = _table_cells(term_rows(count.root), human_count, total)
    if count.active != total:
        lines.append((Text(tr("active per token"), style="bold"), tr("top-k experts only"), "",
                      exact(count.active), human_count(count.active), share(count.active, total)))
    if estimate is not None:
        lines.append((Text(tr("textbook estimate"), style="bold"), ESTIMATE_FORMULA, "",
                      exact(estimate.total), human_count(estimate.total), relative(estimate.total, total)))
    return lines


def term_table(title: str, caption: str | None, rows: list[Optional[Cells]], footer: tuple[str, ...],
               width: int, unit_header: str = "per unit × n", value_header: str = "params") -> Table:
    with_formula = width >= FORMULA_MIN_WIDTH
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)

    def widest(index: int) -> int:
        cells = [str(r[index]) for r in rows if r is not None] + [footer[index]]
        return max(len(cell) for cell in cells)

    # Numbers are never cut or wrapped: their columns are as wide as their widest value.
    # On a narrow terminal component names wrap, and the formula column is left out.
    table.add_column(tr("component"), footer=tr(footer[0]), overflow="fold")
    if with_formula:
        table.add_column(tr("formula"), style="dim", ratio=1, min_width=9)
    for index, header in ((2, unit_header), (3, value_header), (4, ""), (5, "share")):
        table.add_column(tr(header), justify="right", footer=footer[index], no_wrap=True,
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
    title = tr(f"{spec.name} ({changed}) — parameters" if changed else f"{spec.name} — parameters")
    footer = ("total", "", "", exact(total), human_count(total), share(total, total))
    return term_table(title, spec.hf_repo or None, _param_rows(count, estimate), footer, width)


def memory_table(params: int) -> Table:
    table = Table(title=tr("weight memory"), box=box.SIMPLE_HEAD)
    table.add_column(tr("dtype"), no_wrap=True)
    for header in ("bytes", "GB (10⁹)", "GiB (2³⁰)"):
        table.add_column(tr(header), justify="right", no_wrap=True)
    for memory in weight_memory(params):
        table.add_row(memory.dtype, exact(memory.bytes), gigabytes(memory.bytes), gibibytes(memory.bytes))
    return table


def print_params(spec: ModelSpec, count: ParamCount, estimate: Term | None,
                 checkpoint: QuantSize | NotApplicable | None = None) -> None:
    console = make_console()
    show(console, params_table(spec, count, estimate, console.width))
    if spec.reference is not None:
        agrees = spec.reference.params == count.total
        mark = Text(tr("matches"), style="green") if agrees else Text(tr("DIFFERS FROM"), style="bold red")
        console.print(Text.assemble(mark, tr(f" reference {spec.reference.params:,} — {spec.reference.source}")))
    if spec.embeddings.head == "tied":
        console.print(tr("LM head is tied to the token embedding: counted once."))
    for line in spec.not_counted:
        console.print(tr(f"not counted: {line}"), highlight=False)
    show(console, memory_table(count.total))
    if checkpoint is not None and hasattr(checkpoint, "bytes"):  # a QuantSize (NotApplicable has a reason)
        console.print(f"the checkpoint as published ({checkpoint.format.name}: {checkpoint.format.label}): "
                      f"{both_units(checkpoint.bytes)} — see `llmcalc quant {spec.name} --format "
                      f"{checkpoint.format.name}`", highlight=False)
    elif checkpoint is not None:
        console.print(f"the checkpoint as published ({checkpoint.format.name}): not available — {checkpoint.reason}",
                      highlight=False)


def print_params_grid(varied: list[str], specs: list[ModelSpec], counts: list[ParamCount],
                      estimates: list[Term | None]) -> None:
    """One line per combination of the size flags: the varied fields, then the count."""
    table = Table(title=f"{specs[0].name} — {tr('params')}", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in varied:
        table.add_column(name, justify="right", no_wrap=True)
    columns = [tr("total parameters"), ""]
    moe = any(count.active != count.total for count in counts)
    if moe:
        columns += [tr("active per token"), ""]
    if any(estimate is not None for estimate in estimates):
        columns += [tr("textbook estimate"), ""]
    for header in columns:
        table.add_column(header, justify="right", no_wrap=True)
    for spec, count, estimate in zip(specs, counts, estimates):
        fields = spec.fields or {}
        cells = [exact(fields[name]) for name in varied] + [exact(count.total), human_count(count.total)]
        if moe:
            cells += [exact(count.active), human_count(count.active)]
        if estimate is not None:
            cells += [exact(estimate.total), relative(estimate.total, count.total)]
        table.add_row(*cells)
    show(make_console(), table)


def presets_table(rows: list[PresetRow]) -> Table:
    users = sum(1 for row in rows if row.source != "bundled")
    table = Table(title="presets" + (f" ({users} from user preset folders)" if users else ""),
                  box=box.SIMPLE_HEAD)
    for name, justify in (("name", "left"), ("family", "left"), ("params", "right"), ("", "right"),
                          ("layers", "right"), ("hidden", "right"), ("heads/KV", "right"),
                          ("context", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    if users:
        table.add_column("source", overflow="fold")
    for row in rows:
        context = exact(row.context_length) if row.context_length else MISSING
        table.add_row(row.name, row.family, exact(row.total_params), human_count(row.total_params),
                      str(row.layers), exact(row.hidden_size), row.heads, context,
                      *((row.source,) if users else ()))
    return table


def print_kvcache(spec: ModelSpec, cache: CacheSize, needs: Footprint) -> None:
    from llmcalc.kvcache import KIND_NOTES, LAYOUT_NOTES

    console = make_console()
    if cache.kind == "none":
        console.print(tr(f"{spec.name}: {KIND_NOTES['none']} (it reads its whole input at once); KV cache: 0 bytes."))
        return
    title = (f"{spec.name} — KV cache, {exact(cache.tokens)} tokens × {plural(cache.batch, 'sequence')}, "
             f"{cache.point.cache_dtype}")
    if cache.encoder_tokens:
        title += f", {exact(cache.encoder_tokens)} encoder tokens"
    title = tr(title)
    footer = ("total", "", "", exact(cache.total), binary_bytes(cache.total), share(cache.total, cache.total))
    show(console, term_table(title, tr(KIND_NOTES[cache.kind]), _table_cells(term_rows(cache.root), binary_bytes,
                                                                          cache.total),
                             footer, console.width, unit_header="per layer × n", value_header="bytes"))
    lines = []
    if cache.kind != "state":
        lines.append(f"per token (all layers, one sequence): {exact(cache.bytes_per_token)} B "
                     f"= {binary_bytes(cache.bytes_per_token)}")
    lines.append(f"total: {both_units(cache.total)}")
    if cache.windowed_layers:
        sizes = " or ".join(exact(window) for window in cache.windows)
        lines.append(
            f"sliding window: {cache.windowed_layers} of {spec.num_layers} layers keep only the last {sizes} "
            f"tokens; without windows (--no-window): {both_units(cache.uncapped.total)}. "
            "(transformers keeps one token fewer between steps; the window here includes the new token.)")
    layout = spec.attention_layout
    if layout in ("GQA", "MQA", "MLA"):
        equivalent = "one KV head per query head" if layout != "MLA" else "K and V per head, uncompressed"
        lines.append(f"{LAYOUT_NOTES[layout]}: the multi-head equivalent ({equivalent}) would hold "
                     f"{both_units(cache.mha_equivalent.total)}, ×{cache.saving_factor:.2f} this cache.")
    elif layout == "MHA":
        lines.append(LAYOUT_NOTES[layout] + ".")
    if cache.kind != "state":
        lines.append(
            f"with the cache: {exact(cache.total)} B held (every layer, every token), and each new token costs "
            f"{exact(needs.flops_with_cache)} weight FLOPs (2 × active layer params). Without it: "
            f"{exact(cache.recompute_peak)} B (one layer's K and V at a time), but each new token reruns all "
            f"{exact(cache.tokens)} tokens: {exact(needs.flops_without_cache)} FLOPs.")
    lines.append(f"weights at {cache.point.weight_dtype}: {exact(needs.weights)} B + KV cache {exact(needs.cache)} B "
                 f"= {both_units(needs.total)}")
    for line in lines:
        console.print(tr(line))


def print_kvcache_sweep(spec: ModelSpec, caches: list[CacheSize], needs: list[Footprint]) -> None:
    from llmcalc.kvcache import KIND_NOTES

    console = make_console()
    first = caches[0]
    table = Table(title=tr(f"{spec.name} — KV cache, {first.point.cache_dtype}"), caption=tr(KIND_NOTES[first.kind]),
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("tokens", "batch", "per token", "cache bytes", "GB", "GiB"):
        table.add_column(tr(header), justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, min_width=BAR_WIDTH)
    table.add_column(tr("+ weights"), justify="right", no_wrap=True)
    largest = max(cache.total for cache in caches) or 1
    for cache, need in zip(caches, needs):
        bar = "█" * max(1 if cache.total else 0, round(BAR_WIDTH * cache.total / largest))
        table.add_row(exact(cache.tokens), exact(cache.batch), exact(cache.bytes_per_token), exact(cache.total),
                      gigabytes(cache.total), gibibytes(cache.total), Text(bar, style="cyan"),
                      f"{gibibytes(need.total)} GiB")
    show(console, table)
    _say(console, f"weights at {first.point.weight_dtype}: {both_units(needs[0].weights)}; "
                  "'+ weights' is weights and cache together.")


def print_quant(spec: ModelSpec, sizes: list[QuantSize | NotApplicable]) -> None:
    """Every format in one table, or one format tensor by tensor."""
    from llmcalc.quant import NotApplicable, QuantSize

    console = make_console()
    if len(sizes) == 1 and isinstance(sizes[0], QuantSize):
        _print_quant_tensors(console, spec, sizes[0])
        return
    from llmcalc.ggml import REVISION

    # GGUF mixes, then safetensors formats, each from the smallest file up.
    counted = sorted((size for size in sizes if isinstance(size, QuantSize)),
                     key=lambda size: (size.format.kind != "gguf", size.bytes))
    reference = next((size.bytes for size in counted if size.format.name == "bf16"), None)
    table = Table(title=tr(f"{spec.name} — weights in each quantized format"), box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=tr(f"GGUF: tensor data as llama-quantize writes it, by the rules of {REVISION}; safetensors: "
                             "every tensor the format stores. * made with an importance matrix; ~ within a few bytes "
                             "per tensor"))
    for header, justify in (("format", "left"), ("file", "left"), ("bytes", "right"), ("GB", "right"),
                            ("GiB", "right"), ("bits/weight", "right"), ("× bf16", "right")):
        table.add_column(tr(header), justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for size in counted:
        mark = "*" if size.imatrix else "~" if not size.format.exact else ""
        table.add_row(size.format.name + mark, "GGUF" if size.format.kind == "gguf" else "safetensors",
                      exact(size.bytes), gigabytes(size.bytes), gibibytes(size.bytes), f"{size.bits_per_weight:.4f}",
                      f"{size.bytes / reference:.3f}" if reference else MISSING)
    show(console, table)
    for missing in (size for size in sizes if isinstance(size, NotApplicable)):
        _say(console, f"{missing.format.name}: not available — {missing.reason}", highlight=False)


def _print_quant_tensors(console: Console, spec: ModelSpec, size: QuantSize) -> None:
    fmt = size.format
    table = Table(title=tr(f"{spec.name} — {fmt.name}: {fmt.label}"), box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=tr(f"layout of {fmt.source}"))
    for header, justify in (("tensor", "left"), ("shape", "left"), ("type", "left"), ("bytes", "right"),
                            ("why", "left")):
        table.add_column(tr(header), justify=justify, no_wrap=header != "why")  # type: ignore[arg-type]
    for tensor in size.tensors:
        shape = " × ".join(f"{n:,}" for n in tensor.shape)
        count = f"{tensor.count:,} × " if tensor.count > 1 else ""
        table.add_row(tensor.name, count + shape, tensor.type, exact(tensor.bytes), tr(tensor.reason))
    show(console, table)
    _say(console, f"total: {both_units(size.bytes)}; {size.bits_per_weight:.4f} bits per weight over "
                  f"{exact(size.elements)} weights" + (", made with an importance matrix" if size.imatrix else ""),
                  highlight=False)
    if fmt.kind == "gguf":
        _say(console, f"as written, each tensor padded to 32 bytes: {exact(size.padded_bytes)} B of tensor data "
                      "(the file adds its header and metadata)", highlight=False)


def _print_quantized_check(console: Console, spec: ModelSpec, check: FolderCheck, tensors: int) -> None:
    fmt = check.format
    console.print(f"{spec.name}: a {fmt.name} checkpoint ({fmt.label}); {exact(tensors)} tensors, headers read, "
                  f"no tensor data", highlight=False)
    console.print(f"{exact(check.format_tensors)} tensors are the format's packed weights, scales and zero points "
                  f"({fmt.source})", highlight=False)
    for why, count in check.set_aside.items():
        console.print(f"set aside: {why}: {count} tensor(s)", highlight=False)
    console.print(f"stored: {both_units(check.stored_bytes)}; the format's layout: {both_units(check.expected_bytes)}; "
                  f"difference {signed(check.stored_bytes - check.expected_bytes)} B", highlight=False)
    verdict = Text("agree", style="bold green") if check.agrees else Text("DISAGREE", style="bold red")
    console.print(Text.assemble("checkpoint and format ", verdict))


def print_gguf_check(path: str, result: GgufCheck) -> None:
    from llmcalc.ggml import REVISION

    console = make_console()
    imatrix = ", with an importance matrix" if result.imatrix else ""
    console.print(f"{path}: {result.architecture}, {result.mix}{imatrix}; {exact(result.tensors)} tensors, "
                  f"{both_units(result.stored_bytes)} of tensor data", highlight=False)
    if result.differences:
        table = Table(title=f"tensors whose type differs from llama.cpp's rules ({REVISION})", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        for header in ("tensor", "shape", "in the file", "the rules", "why"):
            table.add_column(header, no_wrap=header != "why")
        for diff in result.differences:
            table.add_row(diff.name, " × ".join(f"{n:,}" for n in diff.shape), diff.stored, diff.expected, diff.reason)
        show(console, table)
    verdict = Text("agrees", style="green") if result.agrees else Text("DIFFERS", style="bold red")
    console.print(Text.assemble(verdict, f": every tensor's type and the {exact(result.expected_bytes)} B the rules "
                                         f"give, against the file's {exact(result.stored_bytes)} B ({REVISION})"))


def print_compare(comparison: Comparison) -> None:
    console = make_console()
    names = [spec.name for spec in comparison.specs]
    table = Table(title=tr("compare: " + " vs ".join(names)), box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=tr(f"KV cache for one sequence; ratios (×): each model against {names[0]}; "
                             f"{MISSING} = the model has no such component"))
    table.add_column("", overflow="fold")
    for name in names:
        table.add_column(name, justify="right", overflow="fold")
    for name in names[1:]:
        table.add_column(f"{name} ×" if len(names) > 2 else tr("ratio"), justify="right", no_wrap=True)
    section = comparison.rows[0].section
    for row in comparison.rows:
        if row.section != section:
            table.add_section()
            section = row.section
        first = row.cells[0]
        # A value that differs from the first model's stands out.
        cells = [Text(tr(cell(value)) if isinstance(value, str) else cell(value),
                      style="" if index == 0 or value == first else "bold")
                 for index, value in enumerate(row.cells)]
        table.add_row(tr(row.name), *cells, *(ratio(value, first) for value in row.cells[1:]))
    show(console, table)


def print_explanation(explanation: Explanation) -> None:
    from rich.rule import Rule

    console = make_console()
    human = human_count if explanation.unit == "params" else binary_bytes
    for number, step in enumerate(explanation.steps, 1):
        heading = Text(f"{number}. {tr(step.title)}", style="bold")
        # A rule cuts a title that does not fit; on a narrow terminal the title stands alone.
        console.print(Rule(heading, align="left") if heading.cell_len + 4 < console.width else heading)
        console.print(tr(step.text))
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
                    detail.append(("  " if entry.substituted else "") + tr(entry.note), style="italic")
                value = entry.value_text
                table.add_row(tr(entry.title), tr_formula(entry.formula), detail, value,
                              human(entry.value) if value and entry.value else "")
            show(console, table)
        if step.result is not None:
            console.print(Text(f"= {exact(step.result)}  ({human(step.result)})", style="bold"), justify="right")
        console.print()


def print_verification(spec: ModelSpec, result: Verification, quantized: FolderCheck | None = None) -> None:
    console = make_console()
    if quantized is not None:
        _print_quantized_check(console, spec, quantized, len(result.tensors))
        return
    table = Table(title=f"{spec.name} — checkpoint against formula", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", overflow="fold")
    table.add_column("elements", justify="right", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    for dtype, elements in sorted(result.per_dtype.items()):
        table.add_row(f"parameters stored as {dtype}", exact(elements), human_count(elements))
    table.add_section()
    table.add_row("parameters stored", exact(result.stored), human_count(result.stored))
    table.add_row("formula (from config.json)", exact(result.formula), human_count(result.formula))
    table.add_row("difference", signed(result.stored - result.formula), "")
    show(console, table)
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


def print_fit(result: Fit, changes: Remedies | None) -> None:
    """The most loaded GPU's budget, the verdict and what would change it, the limits, the speed."""
    console = make_console()
    d, point, gpu = result.deployment, result.point, result.deployment.gpu
    weights = result.weight_format or point.weight_dtype.dtype.name
    parallel = f"{d.gpus} × {gpu.name}" + (f" (tp {d.tp}, pp {d.pp})" if d.gpus > 1 else "")
    _say(console, f"{result.spec.name} on {parallel} — {RUNTIME_NAMES[d.runtime]}, weights {weights} "
                  f"({result.weight_format_source}), KV cache {point.cache_dtype}, {exact(point.tokens)} tokens × "
                  f"{plural(point.batch, 'sequence')}")
    memory = f"GPU memory: {both_units(gpu.memory_bytes)} ({gpu.memory_note})"
    _say(console, memory)
    budget = result.most_loaded
    where = _stage_text(result, budget.stage)
    table = Table(title=tr(f"the most loaded GPU: {where}" if len(result.budgets) > 1 else "per GPU"),
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header, justify in (("part", "left"), ("bytes", "right"), ("GB", "right"), ("GiB", "right"),
                            ("", "left")):
        table.add_column(tr(header), justify=justify, no_wrap=header != "")  # type: ignore[arg-type]
    for term in (budget.weights, budget.kv_cache, budget.activation, budget.overhead):
        kind = "estimate" if term.estimate else "exact"
        table.add_row(tr(term.key.replace("_", " ")), exact(term.total), gigabytes(term.total), gibibytes(term.total),
                      tr(f"{kind}: {term.label}"))
    table.add_section()
    table.add_row(tr("total"), exact(budget.total), gigabytes(budget.total), gibibytes(budget.total), "")
    table.add_row(tr("capacity"), exact(result.capacity_bytes), gigabytes(result.capacity_bytes),
                  gibibytes(result.capacity_bytes), tr(_capacity_note(result)))
    table.add_row(tr("headroom"), signed(result.headroom), gigabytes(result.headroom), gibibytes(result.headroom), "")
    show(console, table)
    if result.host_bytes:
        _say(console, f"on the host: {both_units(result.host_bytes)} (llama.cpp keeps the token embedding in "
                      "host memory)")
    if result.fits:
        console.print(Text(tr("FITS"), style="bold green"))
    else:
        console.print(Text(tr(f"DOES NOT FIT: {gigabytes(-result.headroom)} GB ({gibibytes(-result.headroom)} GiB) "
                           "over on the most loaded GPU"), style="bold red"))
        for line in _remedy_lines(result, changes):
            _say(console, "  " + line)
    _say(console, f"largest context at {plural(point.batch, 'sequence')}: {exact(result.max_seq)} tokens"
                  + (" (the model's whole context)" if result.max_seq_is_context else "")
                  + f"; largest batch at {exact(point.tokens)} tokens: {plural(result.max_batch, 'sequence')}")
    if result.kv_capacity_tokens is not None:
        _say(console, f"vLLM would report: GPU KV cache size: {exact(result.kv_capacity_tokens)} tokens; maximum "
                      f"concurrency for {exact(point.tokens)} tokens per request: {result.max_concurrency:.2f}x")
    _say(console, "(both searched exactly over the same budget, the estimates included)")
    _print_speed(console, result)
    for term in (budget.activation, budget.overhead):
        _say(console, f"{term.key}: {term.formula} = {term.substituted} — {term.estimate}")


def _stage_text(result: Fit, stage: Stage) -> str:
    d = result.deployment
    layers = stage.layers
    held = f"layers {layer_span(layers.start, layers.stop - 1)}" if len(layers) else "no layers"
    extras = [name for name, present in (("the token embedding", stage.embedding), ("the head", stage.head))
              if present]
    where = f"stage {stage.index + 1} of {d.pp}" if d.runtime == "vllm" else f"GPU {stage.index + 1} of {d.gpus}"
    return f"{where}: {held}" + (f" and {' and '.join(extras)}" if extras else "")


RUNTIME_NAMES = {"vllm": "vLLM", "llamacpp": "llama.cpp", "transformers": "transformers (eager)"}


def _capacity_note(result: Fit) -> str:
    d = result.deployment
    if d.runtime == "vllm":
        return f"{d.gpu_utilization} of the GPU (vLLM's --gpu-memory-utilization)"
    if d.gpu.usable_share is not None:
        return f"the share of unified memory the GPU may use ({d.gpu.usable_share})"
    return "all of the GPU's memory"


def _remedy_lines(result: Fit, changes: Remedies | None) -> list[str]:
    point = result.point
    lines = []
    if result.max_seq:
        lines.append(f"fewer tokens: --seq {result.max_seq} fits at {plural(point.batch, 'sequence')}")
    if point.batch > 1 and result.max_batch:
        lines.append(f"fewer sequences: --batch {result.max_batch} fits at {exact(point.tokens)} tokens")
    if not result.max_seq:
        lines.append("fewer tokens: not even one token fits — the weights, activation and overhead alone are too "
                     "large")
    if changes is not None:
        lines.append(f"more GPUs: --gpus {changes.gpus} fits" if changes.gpus else
                     "more GPUs: none up to 64 fits on their own")
        lines.append(f"a smaller format: --format {changes.format} fits" if changes.format else
                     "a smaller format: none of this runtime's fits on its own")
    return lines


def _print_speed(console: Console, result: Fit) -> None:
    speed, d, point = result.speed, result.deployment, result.point
    per_sequence = 1 / speed.decode_step_s if speed.decode_step_s else 0.0
    gpu = d.gpu
    _say(console, f"speed (roofline at {d.efficiency:g} × peak: an upper bound; --efficiency to change): "
                  f"{gpu.bandwidth_bytes_per_s / 1e12:,.3g} TB/s, "
                  + (f"{speed.peak_flops / 1e12:,.1f} TFLOPS dense {speed.peak_kind}" if speed.peak_flops
                     else "compute peak unknown (--flops)"))
    experts = (f"; {speed.experts_read:.1%} of each layer's experts read per step" if speed.experts_read is not None
               else "")
    _say(console, f"  decode: {per_sequence:,.1f} tokens/s per sequence, {per_sequence * point.batch:,.1f} in total "
                  f"({speed.decode_bound}-bound: {both_units(speed.decode_bytes)} read per step{experts})")
    if speed.prefill_s is not None:
        _say(console, f"  prefill of {exact(point.tokens)} tokens × {plural(point.batch, 'sequence')}: "
                      f"{speed.prefill_s:,.3g} s ({speed.prefill_bound}-bound: {speed.prefill_flops:,} FLOPs)")


def print_gpus(catalogue: tuple[GPU, ...]) -> None:
    console = make_console()
    table = Table(title=tr("GPU catalogue (dense throughput; memory as the driver reports it)"), box=box.SIMPLE_HEAD,
                  pad_edge=False, caption=tr("sources: `llmcalc gpus --json`"))
    for header, justify in (("gpu", "left"), ("name", "left"), ("memory B", "right"), ("GB", "right"),
                            ("GiB", "right"), ("TB/s", "right"), ("bf16 TFLOPS", "right"), ("fp8 TFLOPS", "right"),
                            ("also", "left")):
        table.add_column(tr(header), justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for gpu in catalogue:
        table.add_row(gpu.id, gpu.name, exact(gpu.memory_bytes), gigabytes(gpu.memory_bytes),
                      gibibytes(gpu.memory_bytes), f"{gpu.bandwidth_bytes_per_s / 1e12:g}",
                      f"{gpu.bf16_flops / 1e12:g}" if gpu.bf16_flops else MISSING,
                      f"{gpu.fp8_flops / 1e12:g}" if gpu.fp8_flops else MISSING,
                      ", ".join(gpu.aliases) + (f" (GPU may use {gpu.usable_share:.0%})" if gpu.usable_share else ""))
    show(console, table)


def print_train(result: TrainResult) -> None:
    t, budget, console = result.training, result.most_loaded, make_console()
    setup = f"{t.gpus} GPU(s): dp {t.dp} × tp {t.tp} × pp {t.pp}, ZeRO {t.zero}" + \
        (", sequence parallel" if t.sequence_parallel else "")
    what = (f"LoRA rank {t.lora_rank} on {','.join(t.lora_modules)}" + (" over an NF4 base (QLoRA)" if t.qlora else "")
            if t.lora_rank else "full training")
    _say(console, f"{result.spec.name} — {what}; {setup}; {t.precision} {'' if t.precision == 'fp32' else 'mixed '}"
                  f"precision, {t.optimizer}, {t.convention} convention; {exact(t.tokens)} tokens × micro-batch "
                  f"{t.micro_batch}, recompute {t.recompute}, {t.attention} attention"
                  + (", dropout" if t.dropout else ""))
    _say(console, f"parameters: {exact(result.total_params)} ({human_count(result.total_params)}); trainable: "
                  f"{exact(result.trainable_params)} ({share(result.trainable_params, result.total_params)})")
    where = f"stage {budget.stage.index + 1} of {t.pp}" if t.pp > 1 else "per GPU"
    table = Table(title=tr(f"the most loaded GPU ({where}): {exact(budget.params)} parameters before ZeRO"),
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header, justify in (("part", "left"), ("bytes", "right"), ("GB", "right"), ("GiB", "right"), ("", "left")):
        table.add_column(tr(header), justify=justify, no_wrap=header != "")  # type: ignore[arg-type]
    for term in (budget.weights, budget.gradients, budget.optimizer, budget.activations):
        kind = "estimate" if term.estimate else "exact"
        table.add_row(tr(term.key), exact(term.total), gigabytes(term.total), gibibytes(term.total),
                      tr(f"{kind}: {term.label}"))
    table.add_section()
    table.add_row(tr("total"), exact(budget.total), gigabytes(budget.total), gibibytes(budget.total), "")
    if t.gpu is not None:
        capacity = t.gpu.capacity_bytes
        table.add_row(tr("capacity"), exact(capacity), gigabytes(capacity), gibibytes(capacity), t.gpu.name)
    show(console, table)
    if budget.host_bytes:
        _say(console, f"on the host (offload): {both_units(budget.host_bytes)}")
    if t.gpu is not None:
        fits = budget.total <= t.gpu.capacity_bytes
        console.print(Text(tr("FITS" if fits else "DOES NOT FIT"), style="bold green" if fits else "bold red"))
    _say(console, f"activations of one layer, one micro-batch: {both_units(result.per_layer.total)}; "
                  f"{budget.activations.estimate}")
    _say(console, f"FLOPs per token: {exact(result.flops_per_token)} = 6 × the weights that multiply a token "
                  f"({exact(result.dense_flops_per_token)}) + attention 12·L·s·d_attn "
                  f"({exact(result.attention_flops_per_token)}), PaLM's convention"
                  + (f"; with {t.recompute} recomputation the GPUs do {exact(result.hardware_flops_per_token)}"
                     if t.recompute != "none" else ""))
    _say(console, f"compute-optimal (Chinchilla, 20 tokens per parameter): {exact(result.chinchilla_tokens)} tokens")
    if result.training_flops is not None:
        _say(console, f"the run: {exact(t.run_tokens or 0)} tokens × {exact(result.flops_per_token)} = "
                      f"{result.training_flops:.3e} FLOPs")
        if result.seconds is not None and result.gpu_hours is not None and result.peak_flops:
            _say(console, f"on {t.gpus} × {t.gpu.name if t.gpu else ''} at MFU {t.mfu:g} of "
                          f"{result.peak_flops / 1e12:,.1f} TFLOPS: {result.seconds / 86400:,.1f} days, "
                          f"{result.gpu_hours:,.0f} GPU-hours")
        elif t.gpu is None:
            _say(console, "time: give --gpu (and --mfu) to turn FLOPs into days")
