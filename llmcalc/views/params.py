"""`llmcalc params` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from rich import box
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.memory import weight_memory
from llmcalc.params import ESTIMATE_FORMULA
from llmcalc.render import Cells, make_console, say, show, table_cells, term_table
from llmcalc.rows import term_rows
from llmcalc.table import Table
from llmcalc.text import both_units, exact, gibibytes, gigabytes, human_count, relative, share

if TYPE_CHECKING:
    from llmcalc.params import ParamCount
    from llmcalc.quant import NotApplicable, QuantSize
    from llmcalc.spec import ModelSpec
    from llmcalc.terms import Term


def _param_rows(count: ParamCount, estimate: Term | None) -> list[Optional[Cells]]:
    total = count.total
    lines = table_cells(term_rows(count.root), human_count, total)
    if count.active != total:
        lines.append((Text(tr("active per token"), style="bold"), tr("top-k experts only"), "",
                      exact(count.active), human_count(count.active), share(count.active, total)))
    if estimate is not None:
        lines.append((Text(tr("textbook estimate"), style="bold"), ESTIMATE_FORMULA, "",
                      exact(estimate.total), human_count(estimate.total), relative(estimate.total, total)))
    return lines


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
        say(console, "LM head is tied to the token embedding: counted once.")
    for line in spec.not_counted:
        say(console, f"not counted: {line}")
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
