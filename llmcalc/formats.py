"""Plain output: JSON, CSV and Markdown. A sibling of `render` (Rich); never imports rich,
so scripts pay only for what they read."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from llmcalc.memory import weight_memory
from llmcalc.params import ParamCount
from llmcalc.spec import ModelSpec
from llmcalc.terms import Term
from llmcalc.text import cell, ratio

if TYPE_CHECKING:  # only their types: `params --json` needs none of these modules
    from llmcalc.checkpoint import Verification
    from llmcalc.compare import Comparison
    from llmcalc.explain import Explanation
    from llmcalc.kvcache import CacheSize, Footprint

# Spec fields that are identity rather than architecture; they have keys of their own.
_IDENTITY_FIELDS = ("name", "family", "model_type", "hf_repo", "aliases", "reference", "notes", "not_counted")


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


def params_document(spec: ModelSpec, count: ParamCount, estimate: Term | None,
                    checkpoint: Any = None) -> dict[str, Any]:
    fields = spec.fields or {}
    document: dict[str, Any] = {
        "model": spec.name,
        "family": spec.family,
        "hf_repo": spec.hf_repo,
        "total_params": count.total,
        "active_params": count.active,
        "lm_head": spec.embeddings.head,
        "not_counted": list(spec.not_counted),
        "components": components(count.root),
        "weight_memory_bytes": {m.dtype: m.bytes for m in weight_memory(count.total)},
        "reference": {"params": spec.reference.params, "source": spec.reference.source}
        if spec.reference else None,
        "overrides": dict(spec.overrides or {}),
        "spec": {key: value for key, value in fields.items() if key not in _IDENTITY_FIELDS},
    }
    if estimate is not None:
        document["estimate"] = {"total_params": estimate.total, "terms": components(estimate)}
    if spec.checkpoint_format:
        bytes_ = getattr(checkpoint, "bytes", None)
        document["checkpoint"] = {"format": spec.checkpoint_format, "bytes": bytes_,
                                  "not_available": getattr(checkpoint, "reason", None) if bytes_ is None else None}
    return document


def params_grid_document(varied: list[str], specs: list[ModelSpec], counts: list[ParamCount],
                         estimates: list[Term | None], checkpoints: list[Any]) -> dict[str, Any]:
    """`params` over a grid of size flags: the varied fields, then one params document per
    combination (each one's `spec` holds every field's value)."""
    return {"model": specs[0].name, "grid": varied,
            "rows": [params_document(*row) for row in zip(specs, counts, estimates, checkpoints)]}


def write_json(document: Any) -> None:
    from llmcalc.json_text import dumps
    from llmcalc.streams import can_encode

    # Escaped where the output cannot hold the characters: the same JSON, read back.
    sys.stdout.write(dumps(document, indent=2, ensure_ascii=not can_encode(sys.stdout, "×—")) + "\n")


def presets_document(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"model": row.name, "family": row.family, "hf_repo": row.hf_repo, "aliases": list(row.aliases),
             "total_params": row.total_params, "active_params": row.active_params, "layers": row.layers,
             "hidden_size": row.hidden_size, "context_length": row.context_length, "source": row.source}
            for row in rows]


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


def compare_document(comparison: Comparison) -> dict[str, Any]:
    first = [row.cells[0] for row in comparison.rows]
    return {
        "models": [params_document(spec, count, None)
                   for spec, count in zip(comparison.specs, comparison.counts)],
        "seq_len": comparison.tokens,
        "rows": [{"section": row.section, "name": row.name, "unit": row.unit, "values": list(row.cells),
                  "ratios": [ratio(value, head) or None for value in row.cells[1:]]}
                 for row, head in zip(comparison.rows, first)],
    }


def compare_csv(comparison: Comparison) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "row", *(spec.name for spec in comparison.specs)])
    for row in comparison.rows:
        writer.writerow([row.section, row.name, *("" if value is None else value for value in row.cells)])
    return out.getvalue()


def compare_markdown(comparison: Comparison) -> str:
    names = [spec.name for spec in comparison.specs]
    ratio_headers = [f"{name} / {names[0]}" for name in names[1:]]
    lines = ["| | " + " | ".join([*names, *ratio_headers]) + " |",
             "|---|" + "---:|" * (len(names) + len(ratio_headers))]
    for row in comparison.rows:
        cells = [cell(value) for value in row.cells]
        ratios = [ratio(value, row.cells[0]) for value in row.cells[1:]]
        lines.append(f"| {row.name} | " + " | ".join([*cells, *ratios]) + " |")
    return "\n".join(lines) + "\n"


def explain_document(explanation: Explanation) -> dict[str, Any]:
    return {
        "model": explanation.model,
        "topic": explanation.topic,
        "unit": explanation.unit,
        "sections": [{"number": number, "title": step.title, "text": step.text, "result": step.result}
                     for number, step in enumerate(explanation.steps, 1)],
        "steps": [{"section": step.title, "title": entry.title, "formula": entry.formula,
                   "substituted": entry.substituted, "value": entry.value, "per_unit": entry.per_unit,
                   "instances": entry.instances, "note": entry.note, "difference": entry.signed}
                  for step in explanation.steps for entry in step.entries],
        "total": explanation.total,
    }


def explain_markdown(explanation: Explanation) -> str:
    from llmcalc.i18n import tr, tr_formula

    lines = [f"# {explanation.model}: {explanation.topic}", ""]
    for number, step in enumerate(explanation.steps, 1):
        lines += [f"## {number}. {tr(step.title)}", "", tr(step.text), ""]
        if step.entries:
            headers = " | ".join(tr(header) for header in ("formula", "substituted", "value", "note"))
            lines += [f"| | {headers} |", "|---|---|---|---:|---|"]
            for entry in step.entries:
                cells = [tr(entry.title), tr_formula(entry.formula), entry.substituted, entry.value_text, tr(entry.note)]
                lines.append("| " + " | ".join(text.replace("|", "\\|") for text in cells) + " |")
            lines.append("")
        if step.result is not None:
            unit = tr("parameters" if explanation.unit == "params" else "bytes")
            lines += [f"**= {step.result:,} {unit}**", ""]
    return "\n".join(lines)


def verification_document(spec: ModelSpec, result: Verification, quantized: Any = None) -> dict[str, Any]:
    document = {
        "model": spec.name,
        "agrees": result.agrees,
        "formula_params": result.formula,
        "stored_params": result.stored,
        "difference": result.difference,
        "params_by_dtype": result.per_dtype,
        "files": list(result.files),
        "tensors": len(result.tensors),
        "not_in_formula": {reason: [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "elements": t.numel}
                                    for t in tensors]
                           for reason, tensors in result.not_in_formula.items()},
        "missing": list(result.missing),
    }
    if quantized is not None:  # a quantized checkpoint: bytes against its format, which decide `agrees`
        document.update(agrees=quantized.agrees, quantized={
            "format": quantized.format.name, "stored_bytes": quantized.stored_bytes,
            "expected_bytes": quantized.expected_bytes, "format_tensors": quantized.format_tensors,
            "set_aside": quantized.set_aside})
    return document


def quant_document(spec: ModelSpec, sizes: list[Any], tensors: bool) -> dict[str, Any]:
    """`{"model", "params", "formats": [{"format", "file", "bytes", "bits_per_weight", ...}]}`; with
    one --format, its entry also lists every tensor."""
    from llmcalc.ggml import REVISION
    from llmcalc.params import count_params
    from llmcalc.quant import QuantSize

    formats = []
    for size in sizes:
        if not isinstance(size, QuantSize):
            formats.append({"format": size.format.name, "file": size.format.kind, "bytes": None,
                            "not_available": size.reason})
            continue
        entry: dict[str, Any] = {
            "format": size.format.name, "file": size.format.kind, "label": size.format.label,
            "bytes": size.bytes, "bits_per_weight": round(size.bits_per_weight, 4), "weights": size.elements,
            "exact": size.format.exact, "source": size.format.source,
        }
        if size.format.kind == "gguf":
            entry.update(padded_bytes=size.padded_bytes, imatrix=size.imatrix)
        if tensors:
            entry["tensors"] = [{"name": t.name, "shape": list(t.shape), "count": t.count, "type": t.type,
                                 "bytes": t.bytes, "why": t.reason} for t in size.tensors]
        formats.append(entry)
    return {"model": spec.name, "params": count_params(spec).total, "llama_cpp": REVISION, "formats": formats}


def gguf_check_document(path: str, result: Any) -> dict[str, Any]:
    from llmcalc.ggml import REVISION

    return {"file": path, "architecture": result.architecture, "file_type": result.mix, "imatrix": result.imatrix,
            "tensors": result.tensors, "stored_bytes": result.stored_bytes, "expected_bytes": result.expected_bytes,
            "agrees": result.agrees, "llama_cpp": REVISION,
            "differences": [{"name": d.name, "shape": list(d.shape), "stored": d.stored, "expected": d.expected,
                             "why": d.reason} for d in result.differences]}


def fit_document(result: Any, changes: Any) -> dict[str, Any]:
    """The `fit --json` contract: exact integers for bytes; estimates name their source."""
    d, point, gpu, speed = result.deployment, result.point, result.deployment.gpu, result.speed

    def budget(part: Any) -> dict[str, Any]:
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


def gpus_document(catalogue: Any) -> list[dict[str, Any]]:
    return [{"id": gpu.id, "name": gpu.name, "aliases": list(gpu.aliases), "memory_bytes": gpu.memory_bytes,
             "memory_note": gpu.memory_note, "usable_share": gpu.usable_share,
             "bandwidth_bytes_per_s": gpu.bandwidth_bytes_per_s, "bf16_flops": gpu.bf16_flops,
             "fp8_flops": gpu.fp8_flops, "int8_ops": gpu.int8_ops, "sources": list(gpu.sources)}
            for gpu in catalogue]


def train_document(result: Any) -> dict[str, Any]:
    """The `train --json` contract: exact integers for bytes and FLOPs."""
    t, budget = result.training, result.most_loaded
    per_gpu = {"stage": budget.stage.index, "params": budget.params, "weights_bytes": budget.weights.total,
               "gradients_bytes": budget.gradients.total, "optimizer_bytes": budget.optimizer.total,
               "activation_bytes": budget.activations.total, "total_bytes": budget.total,
               "host_bytes": budget.host_bytes}
    document: dict[str, Any] = {
        "model": result.spec.name, "gpus": t.gpus, "zero": t.zero, "tp": t.tp, "pp": t.pp, "dp": t.dp,
        "sequence_parallel": t.sequence_parallel, "seq": t.tokens, "micro_batch": t.micro_batch,
        "recompute": t.recompute, "attention": t.attention, "dropout": t.dropout, "optimizer": t.optimizer,
        "precision": t.precision, "offload": t.offload, "convention": t.convention,
        "lora": {"rank": t.lora_rank, "modules": list(t.lora_modules), "qlora": t.qlora} if t.lora_rank else None,
        "total_params": result.total_params, "trainable_params": result.trainable_params,
        "per_gpu": per_gpu,
        "activation_bytes_per_layer": result.per_layer.total,
        "activation_estimate": budget.activations.estimate,
        "flops_per_token": result.flops_per_token,
        "dense_flops_per_token": result.dense_flops_per_token,
        "attention_flops_per_token": result.attention_flops_per_token,
        "hardware_flops_per_token": result.hardware_flops_per_token,
        "run_tokens": t.run_tokens,
        "training_flops": result.training_flops,
        "chinchilla_tokens": result.chinchilla_tokens,
        "gpu": {"name": t.gpu.name, "id": t.gpu.id, "memory_bytes": t.gpu.capacity_bytes} if t.gpu else None,
        "fits": budget.total <= t.gpu.capacity_bytes if t.gpu else None,
        "mfu": t.mfu,
        "seconds": result.seconds,
        "gpu_hours": result.gpu_hours,
    }
    return document
