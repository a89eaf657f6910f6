"""llmcalc.cells measures and breaks text as Rich does, without Rich: the reference is Rich itself
(rich.cells for widths, Text.wrap for lines, Console.print for what is written)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from llmcalc.cells import JUSTIFIED, ONE_CELL, OVERFLOWS, text_width, wrapped
from llmcalc.render import rule, say

EXTRAS = "".join(sorted(character for character in ONE_CELL if not character.isascii()))
# Prose as llmcalc writes it: words, runs of spaces, characters of ONE_CELL; a quarter of the texts
# with others too (CJK, a tab).
WORDS = ["a", "b", "xyz", "0", " ", "  ", ".", ",", "—", "→", "…", "×", "abcdefghijklmnop", *EXTRAS]
ONE_CELL_PROSE = st.lists(st.sampled_from(WORDS), max_size=40).map("".join)
PROSE = st.one_of(ONE_CELL_PROSE, ONE_CELL_PROSE, ONE_CELL_PROSE,
                  st.lists(st.sampled_from([*WORDS, "参数", "\t"]), max_size=40).map("".join))


def test_every_one_cell_character_is_one_cell_by_richs_table() -> None:
    for character in ONE_CELL:
        assert get_character_cell_size(character) == 1 == cell_len(character), repr(character)


@given(st.text(st.characters(blacklist_categories=()), max_size=20) | st.text(max_size=20) | PROSE)
def test_a_texts_width_is_rich_cell_len(text: str) -> None:
    assert text_width(text) == cell_len(text)


@given(PROSE, st.integers(1, 60), st.sampled_from(JUSTIFIED), st.sampled_from(OVERFLOWS))
def test_lines_are_broken_as_rich_breaks_them(text: str, width: int, justify: str, overflow: str) -> None:
    lines = wrapped(text, width, justify, overflow)
    if lines is not None:
        console = Console(width=200)
        rich_lines = Text(text).wrap(console, width, justify=justify, overflow=overflow)  # type: ignore[arg-type]
        assert lines == [line.plain for line in rich_lines]


def test_other_texts_are_left_to_rich() -> None:
    assert wrapped("参数", 10, "default") is None  # two cells a character
    assert wrapped("a\tb", 10, "default") is None  # Rich expands the tab
    assert wrapped("a\nb", 10, "default") is None  # two lines
    assert wrapped("ab", 10, "full") is None
    assert wrapped("ab", 0, "default") is None
    assert wrapped("ab", 10, "default", "ignore") is None


def test_most_random_prose_takes_the_fast_path() -> None:
    # Not a vacuous property: the generator makes texts `wrapped` breaks, over several lines.
    taken = []

    @settings(max_examples=200, database=None, derandomize=True)
    @given(PROSE)
    def draw(text: str) -> None:
        lines = wrapped(text, 8, "default")
        taken.append(lines is not None and len(lines) > 1)

    draw()
    assert sum(taken) > len(taken) // 8


@given(PROSE, st.integers(1, 80))
def test_say_writes_what_rich_prints(text: str, width: int) -> None:
    def written(fast: bool) -> str:
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor",
                          highlight=False, markup=False, emoji=False)
        if fast:
            say(console, text)
        else:
            console.print(text)
        return console.file.getvalue()  # type: ignore[attr-defined]

    assert written(fast=True) == written(fast=False)


class Terminal(io.StringIO):
    """A terminal's output of some encoding (Rich draws a rule with "-" where it is not UTF-8)."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self.terminal_encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.terminal_encoding


@given(PROSE, st.integers(1, 80), st.sampled_from(["bold", "", "on blue"]), st.sampled_from(["utf-8", "ascii"]))
def test_a_rule_is_what_rich_prints(title: str, width: int, style: str, encoding: str) -> None:
    def written(fast: bool) -> str:
        console = Console(file=Terminal(encoding), width=width, force_terminal=True, color_system="truecolor",
                          highlight=False, markup=False, emoji=False)
        heading = Text(title, style=style)
        if fast:
            rule(console, heading)
        else:
            console.print(Rule(heading, align="left"))
        return console.file.getvalue()  # type: ignore[attr-defined]

    assert written(fast=True) == written(fast=False)
