"""`quant --json`, and the check of a GGUF file (`verify` and `quant --file`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcalc.spec import ModelSpec

if TYPE_CHECKING:
    from llmcalc.quant import NotApplicable, QuantSize
    from llmcalc.quant_check import GgufCheck


def quant_document(spec: ModelSpec, sizes: list[QuantSize | NotApplicable], tensors: bool) -> dict[str, Any]:
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


def gguf_check_document(path: str, result: GgufCheck) -> dict[str, Any]:
    from llmcalc.ggml import REVISION

    return {"file": path, "architecture": result.architecture, "file_type": result.mix, "imatrix": result.imatrix,
            "tensors": result.tensors, "stored_bytes": result.stored_bytes, "expected_bytes": result.expected_bytes,
            "agrees": result.agrees, "llama_cpp": REVISION,
            "differences": [{"name": d.name, "shape": list(d.shape), "stored": d.stored, "expected": d.expected,
                             "why": d.reason} for d in result.differences]}
