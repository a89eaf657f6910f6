"""One summary row per preset for `llmcalc presets`: the bundled presets' rows are computed when
the preset index (llmcalc/_preset_index/) is generated (tools/build_preset_index.py; a test keeps
them current), so the command counts no bundled model at run time; user presets are counted as
they are read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcalc.records import record

if TYPE_CHECKING:
    from llmcalc.spec import ModelSpec


@record
class PresetRow:
    name: str
    family: str
    hf_repo: str
    aliases: tuple[str, ...]
    total_params: int
    active_params: int
    layers: int
    hidden_size: int
    heads: str  # `32/8` query/KV heads, `128/MLA`, `per layer`, or — without attention
    context_length: int | None
    source: str = "bundled"


def preset_row(spec: ModelSpec, source: str = "bundled") -> PresetRow:
    from llmcalc.params import count_params

    count = count_params(spec)
    return PresetRow(spec.name, spec.family, spec.hf_repo, tuple(spec.aliases), count.total, count.active,
                     spec.num_layers, spec.hidden_size, heads_summary(spec), spec.context_length, source)


def heads_summary(spec: ModelSpec) -> str:
    """`32/8` query/KV heads, `128/MLA`, `per layer` when layers differ, — without attention
    (the attention layers of a hybrid, Jamba's or Qwen3-Next's, are the ones shown)."""
    attentions = [layer.mixer for layer in spec.stacks[0].layers if layer.mixer.query_heads is not None]
    if not attentions:
        return "—"
    first = attentions[0]
    if first.kv_heads is None:
        return f"{first.query_heads}/{first.layout}"
    if len({(a.query_heads, a.kv_heads) for a in attentions}) > 1:
        return "per layer"
    return f"{first.query_heads}/{first.kv_heads}"


def full_index(paths: list[Path]) -> dict[str, Any]:
    """The preset index: the parsed presets, their names, and each one's summary row."""
    from dataclasses import asdict

    from llmcalc.presets import build_index
    from llmcalc.schema import build_spec

    index = build_index(paths)
    rows = {}
    for name, fields in index["presets"].items():
        row = asdict(preset_row(build_spec(fields, name)))
        row.pop("source")
        rows[name] = {**row, "aliases": list(row["aliases"])}  # as the YAML lists them
    return {**index, "rows": rows}


def all_rows() -> tuple[list[PresetRow], list[str]]:
    """Every preset's row (bundled from the index; a user preset, which wins, counted now) and the
    warnings for user presets that cannot be read."""
    from llmcalc.errors import LlmcalcError
    from llmcalc.presets import bundled_rows, load_preset_file, user_preset_paths

    users = {path.stem.lower(): path for path in reversed(user_preset_paths())}
    bundled = bundled_rows()
    rows: list[PresetRow] = []
    warnings: list[str] = []
    for name in sorted(set(bundled) | set(users)):
        if name in users:
            try:
                shadow = " (shadows bundled)" if name in bundled else ""
                rows.append(preset_row(load_preset_file(users[name]), f"{users[name]}{shadow}"))
                continue
            except LlmcalcError as exc:
                warnings.append(f"skipped a user preset: {exc}")
        if name in bundled:
            stored = bundled[name]
            rows.append(PresetRow(**{**stored, "aliases": tuple(stored["aliases"])}))
    return rows, warnings
