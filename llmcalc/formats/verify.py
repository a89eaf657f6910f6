"""`verify --json` of a model folder (a GGUF's check is `quant`'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcalc.spec import ModelSpec

if TYPE_CHECKING:
    from llmcalc.checkpoint import Verification
    from llmcalc.quant_check import FolderCheck


def verification_document(spec: ModelSpec, result: Verification, quantized: FolderCheck | None = None) -> dict[str, Any]:
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
