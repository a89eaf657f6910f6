"""The house's layering (DESIGN.md): each module imports only from layers below its own,
lazy imports inside functions included. Type-only imports (under TYPE_CHECKING) are not
dependencies and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "llmcalc"

LAYERS: dict[str, int] = {
    "__init__": 0, "errors": 0, "records": 0,  # records: dataclasses with methods written at build time
    "json_text": 0,  # JSON text as json.dumps writes it
    "text": 1, "terms": 1, "memory": 1, "files": 1, "streams": 1,  # number-to-text, the Term tree, dtypes, I/O
    "ggml": 1, "gpus": 1,  # data: ggml's block types, the GPU catalogue
    "i18n": 1,  # message catalogs
    "grid": 1,  # size flags with comma lists → every combination
    "table": 0,  # what the views say of a table, without importing rich.table
    "cells": 0,  # text measured and broken into lines as Rich does, without Rich's measuring
    "fitted": 1,  # a Rich table that fits, drawn in one pass
    "llama_quant": 2,  # llama.cpp's mix rules over tensor names and shapes
    "spec": 2, "rows": 2,  # the typed model; a Term tree laid out as display rows
    "schema": 3, "scenario": 3,  # preset fields → ModelSpec; what is asked → concrete points
    "tensors": 3,  # the tensors of a model's files, from its spec
    "presets": 4, "hf_config": 4, "checkpoint": 4, "gguf_file": 4,  # readers
    "parallel": 4,  # where tensors go over GPUs
    "hub": 4,  # a config.json from the Hugging Face Hub
    "hub_access": 2,  # --revision/--offline/--remote and where the HF cache is: no client
    "models": 5, "params": 5, "kvcache": 5, "quant": 5,  # the one door for models; the core
    "fit": 6, "train": 6,  # the budget of each GPU, from the core's weights and caches
    "quant_check": 6,  # verify of quantized files: a GGUF's types, a folder's bytes, against quant
    "preset_rows": 6,  # the presets listing's rows, counted when the index is generated
    "compare": 7, "explain": 7,  # zip and narrate the core's trees
    "render": 7,  # what every command's Rich tables share
    "formats": 8, "views": 8,  # each command's JSON/CSV/Markdown (llmcalc/formats/) and Rich output (llmcalc/views/): siblings
    "api": 8,  # the library: every command's computation, from a MODEL and options
    "options": 9,  # what the commands share: options spelled alike, errors, output dispatch
    "commands": 10,  # one module per command (llmcalc/commands/), imported by the app that runs it
    "cli": 11, "launch": 12, "__main__": 13,
}
# Modules of a subpackage take the subpackage's layer.
SUBPACKAGES = ("commands", "formats", "views")


def modules() -> dict[str, Path]:
    """Each module's layer name (a subpackage's modules go by the subpackage) → its file."""
    found = {path.stem: path for path in PACKAGE.glob("*.py")}
    for package in SUBPACKAGES:
        found.update({f"{package}.{path.stem}": path for path in (PACKAGE / package).glob("*.py")})
    return found


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(path: Path) -> set[str]:
    """Every llmcalc module a file imports, wherever the import stands."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "llmcalc":
            if node.module == "llmcalc":
                found.update(alias.name for alias in node.names if alias.name in LAYERS)
                found.add("__init__")
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names
                         if alias.name.startswith("llmcalc."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_every_module_has_a_layer() -> None:
    named = {name.split(".")[0] for name in modules()}
    assert named == set(LAYERS), f"give these a layer: {sorted(named - set(LAYERS))}"


def test_modules_import_only_from_lower_layers() -> None:
    """A subpackage's modules may also use each other (compare's JSON holds each model's params
    document: `formats.compare` imports `formats.params`)."""
    wrong = []
    for name, path in sorted(modules().items()):
        own_package = name.split(".")[0] if "." in name else None
        for imported in imported_modules(path):
            if imported != "__init__" and imported != own_package and LAYERS[imported] >= layer(name):
                wrong.append(f"{name} (layer {layer(name)}) imports {imported} (layer {LAYERS[imported]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(name for name in modules() if name in ("cli", "options")
                                          or name.startswith("commands.")))
def test_the_cli_holds_no_arithmetic(name: str) -> None:
    """The app, the shared options and the commands: Typer signatures, calls and output dispatch;
    numbers are computed elsewhere."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    arithmetic = [ast.unparse(node) for node in ast.walk(tree)
                  if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Mod)]
    assert not arithmetic, arithmetic
