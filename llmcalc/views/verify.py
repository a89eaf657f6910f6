"""`llmcalc verify` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.text import Text

from llmcalc.render import make_console, show
from llmcalc.table import Table
from llmcalc.text import both_units, exact, human_count, signed

if TYPE_CHECKING:
    from llmcalc.checkpoint import Verification
    from llmcalc.quant_check import FolderCheck
    from llmcalc.spec import ModelSpec


def _print_quantized_check(console: Console, spec: ModelSpec, check: FolderCheck, tensors: int) -> None:
    fmt = check.format
    console.print(f"{spec.name}: a {fmt.name} checkpoint ({fmt.label}); {exact(tensors)} tensors, headers read, "
                  f"no tensor data", highlight=False)
    console.print(f"{exact(check.format_tensors)} tensors are the format's packed weights, scales and zero points "
                  f"({fmt.source})", highlight=False)
    for why, count in check.set_aside.items():
        console.print(f"set aside: {why}: {count} tensor(s)", highlight=False)
    console.print(f"stored: {both_units(check.stored_bytes)}; the format's layout: {both_units(check.expected_bytes)}; "
                  f"difference {signed(check.difference)} B", highlight=False)
    verdict = Text("agree", style="bold green") if check.agrees else Text("DISAGREE", style="bold red")
    console.print(Text.assemble("checkpoint and format ", verdict))


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
    table.add_row("difference", signed(result.difference), "")
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
