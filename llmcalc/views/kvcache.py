"""`llmcalc kvcache` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.render import make_console, say, show, table_cells, term_table
from llmcalc.rows import term_rows
from llmcalc.table import Table
from llmcalc.text import binary_bytes, both_units, exact, gibibytes, gigabytes, plural, share

if TYPE_CHECKING:
    from llmcalc.kvcache import CacheSize, Footprint
    from llmcalc.spec import ModelSpec


# Characters of the longest bar in a sweep.
BAR_WIDTH = 24


def print_kvcache(spec: ModelSpec, cache: CacheSize, needs: Footprint) -> None:
    from llmcalc.kvcache import KIND_NOTES, LAYOUT_NOTES

    console = make_console()
    if cache.kind == "none":
        say(console, f"{spec.name}: {KIND_NOTES['none']} (it reads its whole input at once); KV cache: 0 bytes.")
        return
    title = (f"{spec.name} — KV cache, {exact(cache.tokens)} tokens × {plural(cache.batch, 'sequence')}, "
             f"{cache.point.cache_dtype}")
    if cache.encoder_tokens:
        title += f", {exact(cache.encoder_tokens)} encoder tokens"
    title = tr(title)
    footer = ("total", "", "", exact(cache.total), binary_bytes(cache.total), share(cache.total, cache.total))
    show(console, term_table(title, tr(KIND_NOTES[cache.kind]), table_cells(term_rows(cache.root), binary_bytes,
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
        say(console, line)


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
    say(console, f"weights at {first.point.weight_dtype}: {both_units(needs[0].weights)}; "
                  "'+ weights' is weights and cache together.")
