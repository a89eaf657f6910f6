"""Reading and writing the files a user hands us: one guarded way for every reader.

Every failure becomes a ModelFileError that names the file (and the line, for syntax), so
no reader has its own variant of "cannot read" and none can hang on a FIFO or read a
multi-gigabyte file by mistake.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from llmcalc.errors import ModelFileError, UsageError

# Real config.json and preset files are a few kilobytes; a safetensors index a few MB.
MAX_TEXT_BYTES = 16 * 2**20


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A regular file's UTF-8 text, at most `limit` bytes."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ModelFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(path, "not a regular file")
    if info.st_size > limit:
        raise ModelFileError(path, f"{info.st_size:,} bytes; files over {limit:,} bytes are refused")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None


def load_json(path: Path) -> Any:
    import json

    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(path, f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ModelFileError(path, "not valid JSON here: nested too deeply") from None


def load_yaml(path: Path) -> Any:
    import yaml

    text = read_text(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ModelFileError(path, f"{where}invalid YAML: {problem}") from None


def write_preset(target: Path, text: str, force: bool) -> None:
    """Write a new file; an existing one only with `force`."""
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to overwrite it")
    write_atomically(target, text)


def write_atomically(target: Path, text: str) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
