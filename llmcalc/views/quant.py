"""`llmcalc quant` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.render import make_console, say, show
from llmcalc.table import Table
from llmcalc.text import MISSING, both_units, exact, gibibytes, gigabytes

if TYPE_CHECKING:
    from llmcalc.quant import NotApplicable, QuantSize
    from llmcalc.quant_check import GgufCheck
    from llmcalc.spec import ModelSpec


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
        say(console, f"{missing.format.name}: not available — {missing.reason}", highlight=False)


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
    say(console, f"total: {both_units(size.bytes)}; {size.bits_per_weight:.4f} bits per weight over "
                  f"{exact(size.elements)} weights" + (", made with an importance matrix" if size.imatrix else ""),
                  highlight=False)
    if fmt.kind == "gguf":
        say(console, f"as written, each tensor padded to 32 bytes: {exact(size.padded_bytes)} B of tensor data "
                      "(the file adds its header and metadata)", highlight=False)


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
