"""Models side by side: rows zipped from each model's spec, Term tree and KV cache. Pure.

Nothing is computed here that the core does not already compute: component rows are
the Term trees' leaves summed over layer groups (`component_totals`), totals are the
trees' totals, memory and cache come from `memory` and `kvcache`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from llmcalc.errors import UsageError
from llmcalc.kvcache import CacheSize, footprint, kv_cache
from llmcalc.params import ParamCount, count_params
from llmcalc.records import record
from llmcalc.scenario import Point
from llmcalc.spec import FeedForward, FeedForwardKind, MixtureOfExperts, ModelSpec
from llmcalc.terms import Term, component_totals
from llmcalc.text import Cell

if TYPE_CHECKING:  # the deployment is parsed by the command; fit is imported only when one is given
    from llmcalc.scenario import Deployment

MIN_MODELS, MAX_MODELS = 2, 8


def check_count(count: int) -> None:
    if not MIN_MODELS <= count <= MAX_MODELS:
        raise UsageError(f"compare takes {MIN_MODELS} to {MAX_MODELS} models, got {count}")


@record(eq=False)
class Row:
    section: str  # "architecture", "parameters", "totals", "memory"
    name: str
    cells: tuple[Cell, ...]  # one per model, in the order given
    unit: str = ""  # "params" or "bytes" for numeric rows


@record(eq=False)
class Comparison:
    specs: tuple[ModelSpec, ...]
    counts: tuple[ParamCount, ...]
    caches: tuple[CacheSize, ...]
    rows: tuple[Row, ...]

    @property
    def tokens(self) -> int:
        return self.caches[0].tokens


def compare(specs: list[ModelSpec], points: list[Point], quant: str | None = None,
            deployment: Deployment | None = None) -> Comparison:
    """Each model at its own point (the same tokens for all; dtypes as each one resolves), its
    weights in the `quant` format if one is named (— where the format cannot hold it), and how it
    fits the `deployment`'s GPUs if one is given."""
    counts = [count_params(spec) for spec in specs]
    caches = [kv_cache(spec, point) for spec, point in zip(specs, points)]
    needs = [footprint(cache, count) for cache, count in zip(caches, counts)]
    rows = _architecture_rows(specs)
    rows += _component_rows(counts)
    rows.append(Row("totals", "total parameters", tuple(c.total for c in counts), "params"))
    if any(c.active != c.total for c in counts):
        rows.append(Row("totals", "active parameters per token", tuple(c.active for c in counts), "params"))
    rows += [
        Row("memory", "weights dtype", tuple(str(point.weight_dtype) for point in points)),
        Row("memory", "weights", tuple(need.weights for need in needs), "bytes"),
        *([_quantized_weights(specs, quant)] if quant else []),
        Row("memory", "KV cache dtype", tuple(str(point.cache_dtype) for point in points)),
        Row("memory", "KV cache per token", tuple(c.bytes_per_token for c in caches), "bytes"),
        Row("memory", f"KV cache at {caches[0].tokens:,} tokens", tuple(c.total for c in caches), "bytes"),
    ]
    if deployment is not None:
        rows += _fit_rows(specs, points, deployment)
    return Comparison(tuple(specs), tuple(counts), tuple(caches), tuple(rows))


def _quantized_weights(specs: list[ModelSpec], quant: str) -> Row:
    from llmcalc.quant import quantize_or_none  # only with --quant: start-up does not pay for it

    return Row("memory", f"weights as {quant}", tuple(quantize_or_none(spec, quant) for spec in specs), "bytes")


def _fit_rows(specs: list[ModelSpec], points: list[Point], deployment: Deployment) -> list[Row]:
    """`fit`'s answer for each model (— for a model fit does not model, or a split it cannot make)."""
    from llmcalc.errors import SpecError
    from llmcalc.fit import Fit, fit

    results: list[Fit | None] = []
    for spec, point in zip(specs, points):
        try:
            results.append(fit(spec, point, deployment))
        except (SpecError, UsageError):
            results.append(None)
    section = f"fit on {deployment.gpus} × {deployment.gpu.id} ({deployment.runtime})"

    def row(name: str, value: Callable[[Fit], Cell], unit: str = "") -> Row:
        return Row(section, name, tuple(None if result is None else value(result) for result in results), unit)

    return [
        row("weights on the most loaded GPU", lambda r: r.most_loaded.weights.total, "bytes"),
        row("KV cache on it", lambda r: r.most_loaded.kv_cache.total, "bytes"),
        row("its total (with the estimates)", lambda r: r.most_loaded.total, "bytes"),
        row("fits", lambda r: "yes" if r.fits else "no"),
        row("largest context", lambda r: r.max_seq, "tokens"),
        row("largest batch at these tokens", lambda r: r.max_batch, "sequences"),
        row("decode tokens/s (roofline)", lambda r: f"{r.speed.decode_tokens_per_s or 0.0:,.1f}"),
    ]


def _component_rows(counts: list[ParamCount]) -> list[Row]:
    per_model = [component_totals(count.root) for count in counts]
    # Merge the models' orders: a component only one model has goes right after the
    # component it follows in that model (Mixtral's experts where Mistral's FFN is).
    names: list[str] = []
    for totals in per_model:
        position = 0
        for name in totals:
            if name in names:
                position = names.index(name) + 1
            else:
                names.insert(position, name)
                position += 1
    return [Row("parameters", name, tuple(_component_cell(totals.get(name)) for totals in per_model), "params")
            for name in names]


def _component_cell(value: Term | int | None) -> Cell:
    if isinstance(value, Term):  # no parameters of its own: say why (tied, none, non-parametric)
        return value.reason
    return value


def _architecture_rows(specs: list[ModelSpec]) -> list[Row]:
    facts: dict[str, list[Cell]] = {name: [] for name in (
        "vocabulary", "hidden size", "layers", "attention heads", "KV heads", "head dim", "attention",
        "FFN width", "FFN kind", "experts (active / routed)", "norm", "context length", "LM head")}
    for spec in specs:
        attentions = [layer.mixer for layer in spec.layers]
        ffns = [layer.ffn for layer in spec.layers if layer.ffn is not None]
        facts["vocabulary"].append(spec.embeddings.vocab_size)
        facts["hidden size"].append(spec.hidden_size)
        facts["layers"].append(spec.num_layers)
        facts["attention heads"].append(_span([a.query_heads for a in attentions]))
        facts["KV heads"].append(_span([a.kv_heads for a in attentions]))
        facts["head dim"].append(_span([a.head_width for a in attentions]))
        facts["attention"].append(spec.attention_layout or None)
        facts["FFN width"].append(_span([_ffn_width(f) for f in ffns]))
        facts["FFN kind"].append(_ffn_kind(ffns) or None)
        moe = next((f for f in ffns if isinstance(f, MixtureOfExperts)), None)
        facts["experts (active / routed)"].append(
            f"{moe.num_experts_per_tok} / {moe.num_experts}" if moe else None)
        facts["norm"].append(spec.norm)
        facts["context length"].append(spec.context_length)
        facts["LM head"].append(spec.embeddings.head)
    return [Row("architecture", name, tuple(cells)) for name, cells in facts.items()
            if any(cell is not None for cell in cells)]


def _span(values: list[int | None]) -> Cell:
    """One value, or `min–max` when layers differ (OpenELM); None when no layer has it."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    low, high = min(present), max(present)
    return low if low == high else f"{low:,}–{high:,}"


def _ffn_width(ffn: FeedForwardKind) -> int:
    if isinstance(ffn, MixtureOfExperts):
        return ffn.expert_intermediate_size
    return ffn.intermediate_size


def _ffn_kind(ffns: list[FeedForwardKind]) -> str:
    kinds = []
    for ffn in ffns:
        if isinstance(ffn, MixtureOfExperts):
            kind = "MoE, gated" if ffn.gated else "MoE, plain"
        elif isinstance(ffn, FeedForward):
            kind = "gated" if ffn.gated else "plain"
        else:
            kind = "RWKV channel-mix"
        if kind not in kinds:
            kinds.append(kind)
    return " + ".join(kinds)
