"""Bundled presets and preset YAML files → ModelSpec.

The YAML files in ``presets/`` are the source of truth. Parsing YAML costs more start-up
time than the rest of a command (PyYAML compiles its regular expressions on import), so
the bundled presets are also kept, already parsed, as Python literals in the package
``llmcalc/_preset_index/`` (its ``NAMES``: every name and alias; one module per preset holding
its fields; ``rows``: the presets listing's rows), which Python keeps compiled in its bytecode
cache: looking a model up by name or alias reads the names and that one preset's module, and
imports no JSON or YAML parser. The index is written by ``tools/build_preset_index.py`` with
:func:`build_index`, and a test fails when it no longer matches the YAML files. A user's own
YAML file is always parsed as YAML.
"""

from __future__ import annotations

import difflib
import os
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcalc.errors import LlmcalcError, ModelFileError, UnknownModelError
from llmcalc.files import home, is_dir, listing, load_yaml, user_path

if TYPE_CHECKING:  # a spec is built only where a preset is read: `presets` lists the rows counted in advance
    from llmcalc.spec import ModelSpec

PRESET_SUFFIX = ".yaml"
# Imported by name (as records import their generated methods): generated data, below every layer.
INDEX_PACKAGE = "llmcalc._preset_index"


def presets_dir() -> Path:
    """Where the bundled presets are: inside the installed package, or the checkout's top level."""
    here = Path(__file__).resolve().parent
    installed = here / "presets"
    return installed if os.path.isdir(installed) else here.parent / "presets"


def preset_paths() -> list[Path]:
    return sorted(presets_dir().glob(f"*{PRESET_SUFFIX}"))


def load_yaml_file(path: Path) -> dict[str, Any]:
    """A YAML file holding a mapping of preset fields."""
    data = load_yaml(path)
    if data is None:
        raise ModelFileError(path, "file is empty; expected a mapping of preset fields")
    if not isinstance(data, dict):
        raise ModelFileError(path, f"expected a mapping of preset fields, got a {type(data).__name__}")
    return data


def load_preset_file(path: Path) -> ModelSpec:
    from llmcalc.schema import build_spec

    return build_spec(load_yaml_file(path), str(path))


def build_index(paths: list[Path]) -> dict[str, Any]:
    """Parse and validate every preset file; map names and aliases (lower case) to presets."""
    from llmcalc.schema import build_spec

    presets: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for path in paths:
        fields = load_yaml_file(path)
        spec = build_spec(fields, str(path))
        if spec.name != path.stem:
            raise ModelFileError(path, f"name {spec.name!r} must match the file name {path.stem!r}")
        presets[spec.name] = fields
        for name in (spec.name, *spec.aliases):
            other = names.setdefault(name.lower(), spec.name)
            if other != spec.name:
                raise ModelFileError(path, f"alias {name!r} already names {other}")
    return {"presets": presets, "names": dict(sorted(names.items()))}


def bundled_names() -> dict[str, str]:
    """Every bundled preset's names and aliases, in lower case, → its canonical name."""
    names: dict[str, str] = import_module(INDEX_PACKAGE).NAMES
    return names


def bundled_fields(name: str) -> dict[str, Any]:
    """A bundled preset's fields, as its YAML file holds them (`name`: canonical)."""
    fields: dict[str, Any] = import_module(f"{INDEX_PACKAGE}.{import_module(INDEX_PACKAGE).MODULES[name]}").FIELDS
    return fields


def bundled_rows() -> dict[str, dict[str, Any]]:
    """The presets listing's row of every bundled preset, counted when the index was written."""
    rows: dict[str, dict[str, Any]] = import_module(f"{INDEX_PACKAGE}.rows").ROWS
    return rows


def bundled_index() -> dict[str, Any]:
    """The whole index, as `preset_rows.full_index` writes it: what the staleness test compares."""
    modules: dict[str, str] = import_module(INDEX_PACKAGE).MODULES
    return {"presets": {name: bundled_fields(name) for name in modules}, "names": bundled_names(),
            "rows": bundled_rows()}


def _bundled_spec(name: str) -> ModelSpec:
    """A bundled preset's spec, as `build_spec` made it of the preset's fields when the index was
    written (its module's `spec()`): a run imports no schema (0.9 ms and 100 KB) to read a preset."""
    spec: ModelSpec = import_module(f"{INDEX_PACKAGE}.{import_module(INDEX_PACKAGE).MODULES[name]}").spec()
    return spec


def user_preset_dirs() -> list[Path]:
    """$LLMCALC_PRESETS (a path list), then ~/.config/llmcalc/presets (XDG_CONFIG_HOME honoured)."""
    dirs = [user_path(entry) for entry in os.environ.get("LLMCALC_PRESETS", "").split(os.pathsep) if entry]
    config_home = os.environ.get("XDG_CONFIG_HOME")
    home_folder = home()
    if config_home:
        dirs.append(user_path(config_home) / "llmcalc" / "presets")
    elif home_folder is not None:
        dirs.append(home_folder / ".config" / "llmcalc" / "presets")
    return [directory for directory in dirs if is_dir(directory)]


def user_preset_paths() -> list[Path]:
    return [path for directory in user_preset_dirs() for path in listing(directory, f"*{PRESET_SUFFIX}")]


def _user_preset(name: str, warnings: list[str]) -> Path | None:
    """A user preset by file name or alias; it shadows a bundled preset of the same name.
    A user preset that cannot be read is skipped with a warning, unless it is the one named."""
    wanted = name.lower()
    paths = user_preset_paths()
    for path in paths:
        if path.stem.lower() == wanted:
            return path
    for path in paths:
        try:
            aliases = load_yaml_file(path).get("aliases") or []
        except LlmcalcError as exc:
            warnings.append(f"skipped a user preset: {exc}")
            continue
        if isinstance(aliases, list) and wanted in (str(alias).lower() for alias in aliases):
            return path
    return None


def lookup(name: str) -> tuple[ModelSpec, list[str]]:
    """A preset name or alias (case-insensitive; user presets first), or a preset YAML file;
    and warnings about user presets that were skipped."""
    if name.endswith((".yaml", ".yml")):
        return load_preset_file(user_path(name)), []
    warnings: list[str] = []
    user = _user_preset(name, warnings)
    if user is not None:
        return load_preset_file(user), warnings
    canonical = bundled_names().get(name.lower())
    if canonical is None:
        raise UnknownModelError(name, suggest(name))
    return _bundled_spec(canonical), warnings


def resolve(name: str) -> ModelSpec:
    """The preset a name or alias means (see `lookup`)."""
    return lookup(name)[0]


def suggest(name: str) -> list[str]:
    names: dict[str, str] = dict(bundled_names())
    names.update({path.stem.lower(): path.stem for path in user_preset_paths()})
    suggestions: list[str] = []
    for match in difflib.get_close_matches(name.lower(), list(names), n=6, cutoff=0.6):
        if names[match] not in suggestions:
            suggestions.append(names[match])
    return suggestions[:3]


def preset_yaml(fields: dict[str, Any], origin: str) -> str:
    """Preset fields as YAML, in the schema's order, lists on one line, with a provenance note."""
    import yaml

    from llmcalc.schema import SCHEMA

    ordered = {key: fields[key] for key in SCHEMA if key in fields and fields[key] not in (None, "", [])}
    ordered.update({key: value for key, value in fields.items() if key not in ordered and key not in SCHEMA})
    body = "".join(
        yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=1000,
                       default_flow_style=None if isinstance(value, list) else False)
        for key, value in ordered.items())
    return (f"# {origin}\n"
            "# Add `reference: {params: <exact count>, source: <where it comes from>}` from an\n"
            "# independent source before bundling it (see presets/README.md).\n" + body)
