"""`presets --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmcalc.preset_rows import PresetRow


def presets_document(rows: list[PresetRow]) -> list[dict[str, Any]]:
    return [{"model": row.name, "family": row.family, "hf_repo": row.hf_repo, "aliases": list(row.aliases),
             "total_params": row.total_params, "active_params": row.active_params, "layers": row.layers,
             "hidden_size": row.hidden_size, "context_length": row.context_length, "source": row.source}
            for row in rows]
