"""Bundled presets and preset YAML files → ModelSpec.

A preset's file name is its canonical name (``presets/mistral-7b.yaml``), so looking a
model up by name reads one file. Aliases are found by scanning each file's one-line
``aliases: [...]`` entry as text, which is far cheaper than parsing YAML; a test checks
that this scan agrees with the parsed value for every bundled preset.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmcalc.errors import PresetFileError, UnknownModelError
from llmcalc.spec import ModelSpec, build_spec

PRESET_SUFFIX = ".yaml"
_ALIASES_LINE = re.compile(r"^aliases:\s*\[(?P<items>[^\]]*)\]\s*$", re.MULTILINE)


def presets_dir() -> Path:
    """Where the bundled presets are: inside the installed package, or the checkout's top level."""
    here = Path(__file__).resolve().parent
    installed = here / "presets"
    return installed if installed.is_dir() else here.parent / "presets"


def preset_paths() -> list[Path]:
    return sorted(presets_dir().glob(f"*{PRESET_SUFFIX}"))


def load_yaml_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, turning every way it can fail into a PresetFileError."""
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PresetFileError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PresetFileError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PresetFileError(f"{path}:{where}: invalid YAML: {problem}") from None
    if data is None:
        raise PresetFileError(f"{path}: file is empty; expected a mapping of preset fields")
    if not isinstance(data, dict):
        raise PresetFileError(f"{path}: expected a mapping of preset fields, got a {type(data).__name__}")
    return data


def load_preset_file(path: Path) -> ModelSpec:
    return build_spec(load_yaml_file(path), str(path))


def scan_aliases(path: Path) -> list[str]:
    """The aliases a preset file declares, read as text without parsing the YAML."""
    match = _ALIASES_LINE.search(path.read_text(encoding="utf-8"))
    if match is None:
        return []
    return [item.strip().strip("'\"") for item in match.group("items").split(",") if item.strip()]


def _looks_like_path(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name and Path(name).exists()


def resolve(name: str) -> ModelSpec:
    """A preset name or alias (case-insensitive), or a path to a preset YAML file."""
    if _looks_like_path(name):
        return load_preset_file(Path(name))
    wanted = name.lower()
    direct = presets_dir() / f"{wanted}{PRESET_SUFFIX}"
    if direct.is_file():
        return load_preset_file(direct)
    for path in preset_paths():
        if wanted in (alias.lower() for alias in scan_aliases(path)):
            return load_preset_file(path)
    raise UnknownModelError(name, suggest(name))


def suggest(name: str) -> list[str]:
    candidates: dict[str, str] = {}
    for path in preset_paths():
        candidates[path.stem] = path.stem
        for alias in scan_aliases(path):
            candidates.setdefault(alias.lower(), path.stem)
    close = difflib.get_close_matches(name.lower(), list(candidates), n=5, cutoff=0.6)
    unique: list[str] = []
    for match in close:
        if candidates[match] not in unique:
            unique.append(candidates[match])
    return unique[:3]


def all_presets() -> Iterator[ModelSpec]:
    for path in preset_paths():
        yield load_preset_file(path)
