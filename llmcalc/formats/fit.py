"""`fit --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmcalc.fit import Budget, Fit, Remedies


def fit_document(result: Fit, changes: Remedies | None) -> dict[str, Any]:
    """The `fit --json` contract: exact integers for bytes; estimates name their source."""
    d, point, gpu, speed = result.deployment, result.point, result.deployment.gpu, result.speed

    def budget(part: Budget) -> dict[str, Any]:
        stage = part.stage
        terms = (part.weights, part.kv_cache, part.activation, part.overhead)
        return {"stage": stage.index, "layers": [stage.layers.start, stage.layers.stop - 1] if len(stage.layers)
                else [], "embedding": stage.embedding, "head": stage.head,
                "weights_bytes": part.weights.total, "kv_cache_bytes": part.kv_cache.total,
                "activation_bytes": part.activation.total, "overhead_bytes": part.overhead.total,
                "total_bytes": part.total, "capacity_bytes": result.capacity_bytes,
                "estimates": {term.key: term.estimate for term in terms if term.estimate}}

    document: dict[str, Any] = {
        "model": result.spec.name,
        "gpu": {"name": gpu.name, "id": gpu.id, "memory_bytes": gpu.memory_bytes,
                "bandwidth_bytes_per_s": gpu.bandwidth_bytes_per_s, "bf16_flops": gpu.bf16_flops,
                "fp8_flops": gpu.fp8_flops},
        "gpus": d.gpus, "tp": d.tp, "pp": d.pp, "expert_parallel": d.expert_parallel, "runtime": d.runtime,
        "format": result.weight_format or point.weight_dtype.dtype.name, "format_source": result.weight_format_source,
        "kv_dtype": point.cache_dtype.dtype.name, "seq": point.tokens, "batch": point.batch,
        "per_gpu": budget(result.most_loaded),
        "stages": [budget(part) for part in result.budgets],
        "host_bytes": result.host_bytes,
        "fits": result.fits,
        "max_seq": result.max_seq,
        "max_batch": result.max_batch,
        "kv_capacity_tokens": result.kv_capacity_tokens,
        "max_concurrency": round(result.max_concurrency, 4) if result.max_concurrency is not None else None,
        "decode_tokens_per_s": speed.decode_tokens_per_s,
        "decode_tokens_per_s_total": result.decode_tokens_per_s_total,
        "prefill_seconds": speed.prefill_s,
        "bound": speed.decode_bound,
        "prefill_bound": speed.prefill_bound if speed.prefill_s is not None else None,
        "efficiency": d.efficiency,
    }
    if changes is not None:
        document["would_fit"] = {"max_seq": result.max_seq or None,
                                 "max_batch": result.max_batch or None, "gpus": changes.gpus,
                                 "format": changes.format}
    return document
