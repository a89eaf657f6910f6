"""`llmcalc train` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.render import make_console, say, show
from llmcalc.table import Table
from llmcalc.text import both_units, exact, gibibytes, gigabytes, human_count, share

if TYPE_CHECKING:
    from llmcalc.train import TrainResult


def print_train(result: TrainResult) -> None:
    t, budget, console = result.training, result.most_loaded, make_console()
    setup = f"{t.gpus} GPU(s): dp {t.dp} × tp {t.tp} × pp {t.pp}, ZeRO {t.zero}" + \
        (", sequence parallel" if t.sequence_parallel else "")
    what = (f"LoRA rank {t.lora_rank} on {','.join(t.lora_modules)}" + (" over an NF4 base (QLoRA)" if t.qlora else "")
            if t.lora_rank else "full training")
    say(console, f"{result.spec.name} — {what}; {setup}; {t.precision} {'' if t.precision == 'fp32' else 'mixed '}"
                  f"precision, {t.optimizer}, {t.convention} convention; {exact(t.tokens)} tokens × micro-batch "
                  f"{t.micro_batch}, recompute {t.recompute}, {t.attention} attention"
                  + (", dropout" if t.dropout else ""))
    say(console, f"parameters: {exact(result.total_params)} ({human_count(result.total_params)}); trainable: "
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
        say(console, f"on the host (offload): {both_units(budget.host_bytes)}")
    if t.gpu is not None:
        fits = budget.total <= t.gpu.capacity_bytes
        console.print(Text(tr("FITS" if fits else "DOES NOT FIT"), style="bold green" if fits else "bold red"))
    say(console, f"activations of one layer, one micro-batch: {both_units(result.per_layer.total)}; "
                  f"{budget.activations.estimate}")
    say(console, f"FLOPs per token: {exact(result.flops_per_token)} = 6 × the weights that multiply a token "
                  f"({exact(result.dense_flops_per_token)}) + attention 12·L·s·d_attn "
                  f"({exact(result.attention_flops_per_token)}), PaLM's convention"
                  + (f"; with {t.recompute} recomputation the GPUs do {exact(result.hardware_flops_per_token)}"
                     if t.recompute != "none" else ""))
    say(console, f"compute-optimal (Chinchilla, 20 tokens per parameter): {exact(result.chinchilla_tokens)} tokens")
    if result.training_flops is not None:
        say(console, f"the run: {exact(t.run_tokens or 0)} tokens × {exact(result.flops_per_token)} = "
                      f"{result.training_flops:.3e} FLOPs")
        if result.seconds is not None and result.gpu_hours is not None and result.peak_flops:
            say(console, f"on {t.gpus} × {t.gpu.name if t.gpu else ''} at MFU {t.mfu:g} of "
                          f"{result.peak_flops / 1e12:,.1f} TFLOPS: {result.seconds / 86400:,.1f} days, "
                          f"{result.gpu_hours:,.0f} GPU-hours")
        elif t.gpu is None:
            say(console, "time: give --gpu (and --mfu) to turn FLOPs into days")
