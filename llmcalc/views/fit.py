"""`llmcalc fit` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.render import make_console, say, show
from llmcalc.table import Table
from llmcalc.text import both_units, exact, gibibytes, gigabytes, layer_span, plural, signed

if TYPE_CHECKING:
    from llmcalc.fit import Fit, Remedies, Stage


def print_fit(result: Fit, changes: Remedies | None) -> None:
    """The most loaded GPU's budget, the verdict and what would change it, the limits, the speed."""
    console = make_console()
    d, point, gpu = result.deployment, result.point, result.deployment.gpu
    weights = result.weight_format or point.weight_dtype.dtype.name
    parallel = f"{d.gpus} × {gpu.name}" + (f" (tp {d.tp}, pp {d.pp})" if d.gpus > 1 else "")
    say(console, f"{result.spec.name} on {parallel} — {RUNTIME_NAMES[d.runtime]}, weights {weights} "
                  f"({result.weight_format_source}), KV cache {point.cache_dtype}, {exact(point.tokens)} tokens × "
                  f"{plural(point.batch, 'sequence')}")
    memory = f"GPU memory: {both_units(gpu.memory_bytes)} ({gpu.memory_note})"
    say(console, memory)
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
        say(console, f"on the host: {both_units(result.host_bytes)} (llama.cpp keeps the token embedding in "
                      "host memory)")
    if result.fits:
        console.print(Text(tr("FITS"), style="bold green"))
    else:
        console.print(Text(tr(f"DOES NOT FIT: {gigabytes(-result.headroom)} GB ({gibibytes(-result.headroom)} GiB) "
                           "over on the most loaded GPU"), style="bold red"))
        for line in _remedy_lines(result, changes):
            say(console, "  " + line)
    say(console, f"largest context at {plural(point.batch, 'sequence')}: {exact(result.max_seq)} tokens"
                  + (" (the model's whole context)" if result.max_seq_is_context else "")
                  + f"; largest batch at {exact(point.tokens)} tokens: {plural(result.max_batch, 'sequence')}")
    if result.kv_capacity_tokens is not None:
        say(console, f"vLLM would report: GPU KV cache size: {exact(result.kv_capacity_tokens)} tokens; maximum "
                      f"concurrency for {exact(point.tokens)} tokens per request: {result.max_concurrency:.2f}x")
    say(console, "(both searched exactly over the same budget, the estimates included)")
    _print_speed(console, result)
    for term in (budget.activation, budget.overhead):
        say(console, f"{term.key}: {term.formula} = {term.substituted} — {term.estimate}")


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
    gpu = d.gpu
    say(console, f"speed (roofline at {d.efficiency:g} × peak: an upper bound; --efficiency to change): "
                  f"{gpu.bandwidth_bytes_per_s / 1e12:,.3g} TB/s, "
                  + (f"{speed.peak_flops / 1e12:,.1f} TFLOPS dense {speed.peak_kind}" if speed.peak_flops
                     else "compute peak unknown (--flops)"))
    experts = (f"; {speed.experts_read:.1%} of each layer's experts read per step" if speed.experts_read is not None
               else "")
    say(console, f"  decode: {speed.decode_tokens_per_s or 0.0:,.1f} tokens/s per sequence, "
                  f"{result.decode_tokens_per_s_total or 0.0:,.1f} in total "
                  f"({speed.decode_bound}-bound: {both_units(speed.decode_bytes)} read per step{experts})")
    if speed.prefill_s is not None:
        say(console, f"  prefill of {exact(point.tokens)} tokens × {plural(point.batch, 'sequence')}: "
                      f"{speed.prefill_s:,.3g} s ({speed.prefill_bound}-bound: {speed.prefill_flops:,} FLOPs)")
