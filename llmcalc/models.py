"""What a MODEL argument names: a preset, a preset YAML file, a config.json, a model folder,
or a Hugging Face repo id already in the local cache. Never the network."""

from __future__ import annotations

import os
from pathlib import Path

from llmcalc.errors import SpecError, UnknownModelError
from llmcalc.spec import ModelSpec


def hf_hub_cache() -> Path:
    """HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (as huggingface_hub does)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def cached_snapshot(repo_id: str) -> tuple[Path | None, Path]:
    """(the newest cached snapshot folder holding a config.json, or None; where it looked)."""
    repo = hf_hub_cache() / f"models--{repo_id.replace('/', '--')}"
    snapshots = [path for path in (repo / "snapshots").glob("*") if (path / "config.json").is_file()]
    if not snapshots:
        return None, repo
    return max(snapshots, key=lambda path: (path / "config.json").stat().st_mtime), repo


def resolve(name: str, assume: str | None = None) -> tuple[ModelSpec, list[str]]:
    """The model and any warnings about how it was read."""
    from llmcalc.presets import resolve as resolve_preset

    path = Path(name).expanduser()
    if path.is_dir() or path.suffix == ".json":
        return _from_config(path, assume)
    try:
        return resolve_preset(name), []
    except UnknownModelError:
        if name.count("/") != 1:  # not shaped like a repo id (org/name)
            raise
    snapshot, looked = cached_snapshot(name)
    if snapshot is None:
        raise UnknownModelError(name, [], f"it is not a preset alias, and the local Hugging Face cache has no "
                                          f"config.json for it (looked in {looked}); llmcalc never downloads")
    return _from_config(snapshot, assume, name=name.split("/")[-1].lower())


def _from_config(path: Path, assume: str | None, name: str | None = None) -> tuple[ModelSpec, list[str]]:
    from llmcalc.hf_config import load_config  # only when a config.json is read

    if path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise SpecError(str(path), "config.json", "this folder has none; give a preset, a YAML or config.json")
        return load_config(config, assume, name)
    return load_config(path, assume, name)
