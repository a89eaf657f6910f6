"""Plain, machine-readable output (JSON). Never imports rich: scripts pay only for what they read."""

from __future__ import annotations

import json
import sys
from typing import Any

from llmcalc.kvcache import KIND_NOTES, CacheSize, Footprint, attention_sharing, saving_factor
from llmcalc.memory import weight_memory
from llmcalc.params import ParamCount
from llmcalc.spec import ModelSpec
from llmcalc.terms import Term

# Spec fields that are identity rather than architecture; they have keys of their own.
_IDENTITY_FIELDS = ("name", "family", "hf_repo", "aliases", "reference", "notes")


def components(root: Term) -> list[dict[str, Any]]:
    """Every leaf of the tree, with its total over all instances. They sum to the model total."""
    rows = []
    for path, term, instances in root.leaves():
        row: dict[str, Any] = {
            "name": path.removeprefix(f"{root.key}."),
            "params": term.value * instances,
            "per_instance": term.value,
            "instances": instances,
            "formula": term.formula,
            "bindings": dict(term.bindings),
        }
        if term.note:
            row["note"] = term.note
        rows.append(row)
    return rows


def term_to_dict(term: Term) -> dict[str, Any]:
    return {
        "key": term.key,
        "label": term.label,
        "formula": term.formula,
        "bindings": dict(term.bindings),
        "value": term.value,
        "repeat": term.repeat,
        "total": term.total,
        "children": [term_to_dict(child) for child in term.children],
    }


def params_document(spec: ModelSpec, count: ParamCount, estimate: Term | None) -> dict[str, Any]:
    fields = spec.fields or {}
    document: dict[str, Any] = {
        "model": spec.name,
        "family": spec.family,
        "hf_repo": spec.hf_repo,
        "total_params": count.total,
        "active_params": count.active,
        "lm_head": spec.embeddings.head,
        "components": components(count.root),
        "weight_memory_bytes": {m.dtype: m.bytes for m in weight_memory(count.total)},
        "reference": {"params": spec.reference.params, "source": spec.reference.source}
        if spec.reference else None,
        "overrides": dict(spec.overrides or {}),
        "spec": {key: value for key, value in fields.items() if key not in _IDENTITY_FIELDS},
    }
    if estimate is not None:
        document["estimate"] = {"total_params": estimate.total, "terms": components(estimate)}
    return document


def write_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def kvcache_document(spec: ModelSpec, cache: CacheSize, needs: Footprint) -> dict[str, Any]:
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
    factor = saving_factor(cache)
    return {
        "model": spec.name,
        "seq_len": cache.tokens,
        "batch": cache.batch,
        "encoder_seq_len": cache.encoder_tokens,
        "dtype": cache.dtype.name,
        "kind": cache.kind,
        "attention": attention_sharing(spec),
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
        "weights": {"dtype": needs.weight_dtype.name, "bytes": needs.weights},
        "total_with_weights_bytes": needs.total,
    }
