"""`llmcalc gpus` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box

from llmcalc.i18n import tr
from llmcalc.render import make_console, show
from llmcalc.table import Table
from llmcalc.text import MISSING, exact, gibibytes, gigabytes

if TYPE_CHECKING:
    from llmcalc.gpus import GPU


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
