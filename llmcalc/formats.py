"""Plain, machine-readable output (JSON). Never imports rich: scripts pay only for what they read."""

from __future__ import annotations

import json
import sys
from typing import Any

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
