"""The one door for a MODEL argument: a preset or alias, a preset YAML file, a config.json,
a model folder, a Hugging Face repo id (from the local cache, else the Hub: `hub.py`), or flags
alone, with `--set` and flag overrides on top."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmcalc.errors import SpecError, UnknownModelError, UsageError
from llmcalc.files import is_dir, is_file, listing, user_path
from llmcalc.hub_access import HubAccess, hf_hub_cache
from llmcalc.records import replace
from llmcalc.spec import ModelSpec


def cached_snapshot(repo_id: str) -> tuple[Path | None, Path]:
    """(the newest cached snapshot folder holding a config.json, or None; where it looked)."""
    repo = hf_hub_cache() / f"models--{repo_id.replace('/', '--')}"
    snapshots = [path for path in listing(repo / "snapshots", "*") if is_file(path / "config.json")]
    if not snapshots:
        return None, repo
    return max(snapshots, key=lambda path: (path / "config.json").stat().st_mtime), repo


def load(name: str, assume: str | None = None, access: HubAccess | None = None) -> tuple[ModelSpec, list[str]]:
    """The model a name, path or repo id means, and any warnings about how it was read. A repo id:
    a preset alias first (unless --remote), then the local Hugging Face cache (unless --remote or
    --revision), then the Hub (unless --offline or HF_HUB_OFFLINE)."""
    from llmcalc.presets import lookup

    access = access or HubAccess()
    if not name.strip():
        raise UsageError("the model name is empty; give a preset name, a YAML or config.json file, or a folder")
    path = user_path(name)
    if is_dir(path) or path.suffix == ".json":
        return _from_config(path, assume)
    if not access.remote:
        try:
            return lookup(name)
        except UnknownModelError:
            if name.count("/") != 1:  # not shaped like a repo id (org/name)
                raise
    elif name.count("/") != 1:
        raise UsageError(f"--remote takes a Hugging Face repo id (org/name), not {name!r}")
    short = name.split("/")[-1].lower()
    if not access.remote and access.revision is None:
        snapshot, _ = cached_snapshot(name)
        if snapshot is not None:
            return _from_config(snapshot, assume, name=short)
    from llmcalc.hub import fetch_config

    return _from_config(fetch_config(name, access), assume, name=short)


def config_path(path: Path) -> Path:
    """A config.json, or the one inside a model folder."""
    if is_dir(path):
        config = path / "config.json"
        if not is_file(config):
            raise SpecError(str(path), "config.json", "this folder has none; give a preset, a YAML or config.json")
        return config
    return path


def _from_config(path: Path, assume: str | None, name: str | None = None) -> tuple[ModelSpec, list[str]]:
    from llmcalc.hf_config import load_config  # only when a config.json is read

    return load_config(config_path(path), assume, name)


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs; values are read as YAML scalars or lists (8, true, null, [1, 2])."""
    if not assignments:
        return {}
    from llmcalc.errors import ModelFileError
    from llmcalc.files import YamlSyntaxError, parse_yaml
    from llmcalc.schema import SYNONYMS

    overrides: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {assignment!r}: expected key=value, e.g. --set num_key_value_heads=8")
        try:
            value = parse_yaml(text, f"--set {key.strip()}") if text.strip() else None
        except YamlSyntaxError:
            value = text  # not YAML: the text as it is
        except ModelFileError as exc:
            raise UsageError(str(exc)) from None
        overrides[SYNONYMS.get(key.strip(), key.strip())] = value
    return overrides


def custom_fields(hidden_size: int, layers: int) -> dict[str, Any]:
    """A LLaMA-style model for flags alone: RMSNorm, gated FFN of ⌈8H/3⌉ rounded up to 256
    (LLaMA's rule: `--hidden-size 4096 --layers 32` is LLaMA-7B), H/128 heads, 32,000 tokens."""
    ffn = -(-(8 * hidden_size // 3) // 256) * 256
    return {
        "name": "custom",
        "num_hidden_layers": layers,
        "hidden_size": hidden_size,
        "num_attention_heads": max(1, hidden_size // 128),
        "intermediate_size": ffn,
        "vocab_size": 32000,
    }


def resolve_model(model: str | None, overrides: Mapping[str, Any] | None = None, assume: str | None = None,
                  access: HubAccess | None = None) -> tuple[ModelSpec, list[str]]:
    """A MODEL with preset fields overridden (flags and `--set`), or, without a MODEL, a
    LLaMA-style model from the overrides alone; and the warnings about how it was read."""
    overrides = dict(overrides or {})
    if model is None:
        hidden, layers = overrides.get("hidden_size"), overrides.get("num_hidden_layers")
        if hidden is None or layers is None:
            raise UsageError("give a MODEL (preset name, alias or YAML file), "
                             "or at least --hidden-size and --layers to build one")
        from llmcalc.schema import build_spec

        try:
            return build_spec({**custom_fields(hidden, layers), **overrides}, "flags"), []
        except SpecError as exc:  # the fields came from options: a usage error
            raise UsageError(str(exc)) from None
    spec, warnings = load(model, assume, access)
    return with_overrides(spec, overrides), warnings


def with_overrides(spec: ModelSpec, overrides: Mapping[str, Any]) -> ModelSpec:
    """The model with some preset fields changed (a null is a value: `sliding_window=None` drops
    the window); rebuilt and checked as a preset is."""
    if not overrides:
        return spec
    from llmcalc.schema import SYNONYMS, build_spec

    fields = {**(spec.fields or {}), **{SYNONYMS.get(name, name): value for name, value in overrides.items()}}
    # The recorded reference count describes the unmodified preset only.
    fields["reference"] = None
    try:
        modified = build_spec(fields, f"{spec.name} with overrides")
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    return replace(modified, overrides=dict(overrides))


def import_preset(config: str, name: str | None, assume: str | None) -> tuple[str, list[str]]:
    """A config.json (or model folder) as preset YAML text, validated; and the warnings."""
    from llmcalc.hf_config import config_fields, read_config_file
    from llmcalc.presets import preset_yaml
    from llmcalc.schema import build_spec

    path = config_path(user_path(config))
    fields, warnings = config_fields(read_config_file(path), str(path), assume, name.lower() if name else None)
    build_spec(fields, str(path))  # the preset must be valid before it is written
    return preset_yaml(fields, f"written by `llmcalc import {path}`"), warnings


def load_folder(folder: str, assume: str | None) -> tuple[Path, ModelSpec, list[str]]:
    """A model folder for `verify`: its path, the model its config.json describes, warnings."""
    from llmcalc.hf_config import load_config

    path = user_path(folder)
    if not is_dir(path):
        raise UsageError(f"{path} is not a folder")
    spec, warnings = load_config(path / "config.json", assume)
    return path, spec, warnings


def load_repo_checkpoint(repo_id: str, assume: str | None, access: HubAccess) -> tuple[ModelSpec, Any, list[str]]:
    """`verify REPO_ID`: the model its config.json describes, and the tensors its safetensors
    headers list (read from the Hub by range requests); and the warnings."""
    from llmcalc.checkpoint import Tensor
    from llmcalc.hub import safetensors_headers

    spec, warnings = load(repo_id, assume, HubAccess(access.revision, access.offline, remote=True))
    stored = [(file, [Tensor(name, dtype, shape) for name, dtype, shape in found])
              for file, found in safetensors_headers(repo_id, access)]
    return spec, stored, warnings


def is_repo_id(name: str) -> bool:
    """`org/name` that is not a path on this machine: what `verify` reads from the Hub."""
    return name.count("/") == 1 and not os.path.lexists(user_path(name)) and not name.startswith((".", "~", "/"))
