"""`llmcalc.json_text.dumps` writes what the standard library's `json.dumps` writes (the
independent source here), byte for byte, for any value: random documents, the corners of its
string escaping and number spelling, values it hands to json, and every command's JSON."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.json_text import dumps

# Any character, surrogates and controls included.
TEXT = st.text(st.characters(blacklist_categories=()), max_size=12)
KEYS = st.one_of(TEXT, st.integers(), st.floats(), st.booleans(), st.none())
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT)
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
    st.dictionaries(KEYS, inner, max_size=4)), max_leaves=30)
LAYOUTS = [{"indent": indent, "ensure_ascii": ascii_only} for indent in (None, 0, 2, 4) for ascii_only in (True, False)]


@settings(max_examples=400)
@given(DOCUMENTS)
def test_random_documents_are_written_as_json_writes_them(document: Any) -> None:
    for layout in LAYOUTS:
        assert dumps(document, **layout) == json.dumps(document, **layout)


@pytest.mark.parametrize("text", ["", "plain", 'a "quote" and a \\ backslash', 'a "quote"', "a \\ backslash",
                                  "".join(map(chr, range(0x20, 0x7f))), "\n\r\t\b\f\x00\x1f\x7f",
                                  "× — … █ 中文", "\U0001f600 astral", "\ud800 lone surrogate", "é\x7f"])
def test_strings(text: str) -> None:
    for layout in LAYOUTS:
        assert dumps({text: [text]}, **layout) == json.dumps({text: [text]}, **layout)


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


class Count(int):
    def __repr__(self) -> str:
        return "Count(...)"

    __str__ = __repr__


@pytest.mark.parametrize("value", [
    0, -1, 10**30, 0.1, -0.0, 1e300, 5e-324, float("nan"), float("inf"), float("-inf"), True, False, None,
    Colour.RED, Count(7), Name("a subclass"),
    {1.5: "float key", True: "bool key", None: "null key", Colour.RED: "enum key", Count(3): "int subclass key"},
    [[], {}, (), [[]]],
])
def test_numbers_constants_and_subclasses(value: Any) -> None:
    for layout in LAYOUTS:
        assert dumps(value, **layout) == json.dumps(value, **layout)


def test_what_json_refuses_it_refuses_with_jsons_words() -> None:
    circular: list[Any] = []
    circular.append(circular)
    for value in (object(), {(1, 2): "tuple key"}, circular, {1, 2}):
        with pytest.raises((TypeError, ValueError)) as expected:
            json.dumps(value, indent=2)
        with pytest.raises(expected.type, match=str(expected.value).split(" at 0x")[0].replace("(", r"\(")
                           .replace(")", r"\)")):
            dumps(value, indent=2)


@pytest.mark.parametrize("args", [
    ["params", "mixtral-8x7b", "--json"], ["params", "--hidden-size", "2048,4096", "--layers", "16,32", "--json"],
    ["kvcache", "gemma2-9b", "--seq", "1k,128k", "--json"], ["compare", "gpt2", "t5-base", "--json"],
    ["presets", "--json"], ["quant", "llama3.1-8b", "--json"], ["quant", "qwen3-30b-a3b", "--format", "q4_k_m", "--json"],
    ["fit", "llama3.1-70b", "--gpu", "h100", "--gpus", "4", "--json"],
    ["train", "llama3.1-8b", "--gpus", "8", "--zero", "3", "--json"], ["gpus", "--json"],
    ["explain", "deepseek-v3", "--json"],
])
def test_every_commands_json_is_what_json_writes(args: list[str]) -> None:
    """Read back and written again by json.dumps (its floats round-trip by repr): the same text."""
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert result.stdout == json.dumps(json.loads(result.stdout), indent=2, ensure_ascii=False) + "\n"
