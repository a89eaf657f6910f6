"""JSON text exactly as `json.dumps` writes it, for the documents llmcalc prints, without importing
`json`: that import compiles six regular expressions and loads its C accelerator, about 1.5 ms of
a 60 ms `--json` run whose only JSON work is writing one small document.

`dumps(value, indent=..., ensure_ascii=...)` returns `json.dumps(value, indent=..., ensure_ascii=...)`
for every value: strings, numbers, booleans, None, lists, tuples and dicts are written here,
anything else (another type, a circular or too deeply nested structure) is handed to `json.dumps`
itself, which gives its own answer or error. tests/test_json_text.py compares the two on random
documents and on every command's JSON.
"""

from __future__ import annotations

from typing import Any

# What json escapes in every string: the quote, the backslash and control characters, the
# common ones by name and the rest as \u00XX.
_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x20)} | {
    ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
    ord("\b"): "\\b", ord("\f"): "\\f"}


class _Unsupported(Exception):
    """A value json.dumps must write (or refuse) itself."""


def dumps(value: Any, *, indent: int | None = None, ensure_ascii: bool = True) -> str:
    parts: list[str] = []
    try:
        _write(value, parts, ensure_ascii, None if indent is None else " " * indent, 0)
    except (_Unsupported, RecursionError):
        import json

        return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    return "".join(parts)


def _write(value: Any, parts: list[str], ensure_ascii: bool, indent: str | None, level: int) -> None:
    # The order of json's own checks: a str, int or float subclass is written as its base type.
    if isinstance(value, str):
        parts.append(_string(value, ensure_ascii))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float(value))
    elif isinstance(value, (list, tuple)):
        if not value:
            parts.append("[]")
            return
        first, between, last = _layout(indent, level)
        parts.append("[" + first)
        for index, item in enumerate(value):
            if index:
                parts.append(between)
            _write(item, parts, ensure_ascii, indent, level + 1)
        parts.append(last + "]")
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        first, between, last = _layout(indent, level)
        parts.append("{" + first)
        for index, (key, item) in enumerate(value.items()):
            if index:
                parts.append(between)
            parts.append(_string(_key(key), ensure_ascii) + ": ")
            _write(item, parts, ensure_ascii, indent, level + 1)
        parts.append(last + "}")
    else:
        raise _Unsupported


def _layout(indent: str | None, level: int) -> tuple[str, str, str]:
    """What follows a container's opening bracket, what goes between its items, and what comes
    before its closing bracket."""
    if indent is None:
        return "", ", ", ""
    inner = "\n" + indent * (level + 1)
    return inner, "," + inner, "\n" + indent * level


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise _Unsupported


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _string(text: str, ensure_ascii: bool) -> str:
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # space to `~` but the quote and the backslash: nothing to escape
    escaped = text.translate(_ESCAPES)
    if ensure_ascii and not (escaped.isascii() and "\x7f" not in escaped):
        # Everything past `~` as \uXXXX, and a character past the Basic Multilingual Plane as
        # its UTF-16 surrogate pair, as json does.
        escaped = "".join(char if char < "\x7f" else _ascii_escape(ord(char)) for char in escaped)
    return f'"{escaped}"'


def _ascii_escape(code: int) -> str:
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xd800 | (code >> 10) & 0x3ff:04x}\\u{0xdc00 | code & 0x3ff:04x}"
