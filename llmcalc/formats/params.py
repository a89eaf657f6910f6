"""`params --json`: the count of one model, or of a grid of models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcalc.memory import weight_memory
from llmcalc.params import ParamCount
from llmcalc.spec import ModelSpec
from llmcalc.terms import Term

if TYPE_CHECKING:
    from llmcalc.quant import NotApplicable, QuantSize

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
                    checkpoint: QuantSize | NotApplicable | None = None) -> dict[str, Any]:
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
                         estimates: list[Term | None],
                         checkpoints: list[QuantSize | NotApplicable | None]) -> dict[str, Any]:
    """`params` over a grid of size flags: the varied fields, then one params document per
    combination (each one's `spec` holds every field's value)."""
    return {"model": specs[0].name, "grid": varied,
            "rows": [params_document(*row) for row in zip(specs, counts, estimates, checkpoints)]}
