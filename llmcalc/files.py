"""Reading and writing the files a user hands us: one guarded way for every reader.

Every failure becomes a ModelFileError that names the file (and the line, for syntax), so
no reader has its own variant of "cannot read" and none can hang on a FIFO or read a
multi-gigabyte file by mistake.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

from llmcalc.errors import ModelFileError, UsageError

# Real config.json files and presets are a few kilobytes (a per-layer list of 100,000
# layers under a megabyte); JSON parses fast, YAML slowly (10 MB: about 10 s).
MAX_TEXT_BYTES = 16 * 2**20
MAX_YAML_BYTES = 2**20
# Presets nest two levels deep. libyaml's loader recurses per level and crashes the
# interpreter near 10⁵; aliases can make a small file expand exponentially ("billion laughs").
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 10**6  # after expanding aliases


def user_path(text: str) -> Path:
    """A path as the user typed it, `~` expanded where it can be (`~nosuchuser` stays as typed)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


def home() -> Path | None:
    """The home folder, or None when there is none (HOME unset and no passwd entry)."""
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None


def is_dir(path: Path) -> bool:
    """Whether a folder is there; a name too long, a folder we may not enter: no."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def listing(folder: Path, pattern: str) -> list[Path]:
    """The entries of a folder that match, sorted; none where the folder cannot be read."""
    try:
        return sorted(folder.glob(pattern))
    except (OSError, ValueError):
        return []


class YamlSyntaxError(ModelFileError):
    """Text that is not YAML at all (as opposed to YAML too deep or too large)."""


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
        raise ModelFileError(path, "nested too deeply to be a model's config") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise ModelFileError(path, f"not a usable config: {exc}") from None


def load_yaml(path: Path) -> Any:
    return parse_yaml(read_text(path, MAX_YAML_BYTES), path)


def parse_yaml(text: str, source: object) -> Any:
    """YAML text, safely: no tags that run code, bounded nesting and alias expansion."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_yaml_shape(yaml.parse(text, Loader=loader), source)
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlSyntaxError(source, f"{where}invalid YAML: {problem}") from None


def _check_yaml_shape(events: Any, source: object) -> None:
    """Walk the parser's events (libyaml's parser does not recurse) and refuse a document
    nested deeper than MAX_YAML_DEPTH or of more than MAX_YAML_NODES nodes once its aliases
    are expanded, before anything builds it."""
    import yaml

    expanded: dict[str, int] = {}  # anchor → nodes it stands for
    open_nodes: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] per open collection
    for event in events:
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            open_nodes.append([event.anchor, 1])
            if len(open_nodes) > MAX_YAML_DEPTH + 1:
                raise ModelFileError(source, f"nested more than {MAX_YAML_DEPTH} levels deep")
            continue
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, nodes = open_nodes.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, nodes = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, nodes = None, expanded.get(event.anchor, 1)
        else:
            continue
        if anchor is not None:
            expanded[anchor] = nodes
        open_nodes[-1][1] += nodes
        if open_nodes[-1][1] > MAX_YAML_NODES:
            raise ModelFileError(source, f"more than {MAX_YAML_NODES:,} values once its aliases are expanded")


def write_preset(target: Path, text: str, force: bool) -> None:
    """Write a new file; an existing one (or a link, even one to nothing) only with `force`."""
    if is_dir(target):
        raise UsageError(f"{target} is a folder; give a file name")
    if os.path.lexists(target) and not force:
        raise UsageError(f"{target} exists; use --force to overwrite it")
    write_atomically(target, text)


def write_atomically(target: Path, text: str) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file, and an
    interruption (Ctrl-C, SIGTERM: both raise here) leaves no temporary file behind."""
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    renamed = False
    try:
        # mkstemp makes the file private (0600); a preset is as readable as any file the user makes.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
        renamed = True
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if not renamed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
