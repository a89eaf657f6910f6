"""`kvcache --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcalc.spec import ModelSpec

if TYPE_CHECKING:
    from llmcalc.kvcache import CacheSize, Footprint


def kvcache_document(spec: ModelSpec, cache: CacheSize, needs: Footprint) -> dict[str, Any]:
    from llmcalc.kvcache import KIND_NOTES

    layers = []
    for stack in cache.root.children:
        for part in stack.children:
            layers.append({
                "stack": stack.key,
                "layers": part.key.removeprefix("layers."),
                "count": part.repeat,
                "cached_tokens": part.children[0].bindings.get("T"),
                "bytes_per_layer": part.value,
                "bytes": part.total,
                "components": [{"name": term.key, "bytes": term.value, "formula": term.formula,
                                "bindings": dict(term.bindings)} for term in part.children],
            })
    factor = cache.saving_factor
    return {
        "model": spec.name,
        "seq_len": cache.tokens,
        "batch": cache.batch,
        "encoder_seq_len": cache.encoder_tokens,
        "dtype": cache.dtype.name,
        "dtype_source": cache.point.cache_dtype.source,
        "kind": cache.kind,
        "attention": spec.attention_layout,
        "note": KIND_NOTES[cache.kind],
        "bytes_per_token": cache.bytes_per_token,
        "total_bytes": cache.total,
        "per_layer": layers,
        "mha_equivalent_bytes": cache.mha_equivalent.total,
        "saving_factor": round(factor, 4) if factor is not None else None,
        "windowed_layers": cache.windowed_layers,
        "uncapped_total_bytes": cache.uncapped.total,
        "without_cache_peak_bytes": cache.recompute_peak,
        "weight_flops_per_token_with_cache": needs.flops_with_cache,
        "weight_flops_per_token_without_cache": needs.flops_without_cache,
        "weights": {"dtype": needs.weight_dtype.name, "dtype_source": cache.point.weight_dtype.source,
                    "bytes": needs.weights},
        "total_with_weights_bytes": needs.total,
    }
