"""llmcalc.fitted draws a table of text cells as Rich would (one-line cells in one pass, a cell
that wraps as Rich wraps it, the columns narrowed as Rich narrows them) and measures it as Rich
does; the reference is Rich itself: for random tables and for every table the commands print, its
segments (text and style, each run of unstyled ones joined, so the bytes on a colour terminal too)
must equal what rich.table.Table yields for the same table (built by the same calls, or, for the
commands' tables, the one `Table.rich_table()` makes: tests/test_table.py), and its measure
Rich's."""

from __future__ import annotations

import io
from typing import Any

import pytest
import rich.table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.segment import Segment
from typer.testing import CliRunner

import llmcalc.fitted
from llmcalc import render
from llmcalc.cli import app
from llmcalc.fitted import fitted, measured, text_width
from llmcalc.table import Table
from test_cells import PROSE
from test_i18n import PAGES
from test_table import build, recipes


def segments(console: Console, renderable: Any) -> list[Segment]:
    """What is written: the segments, each run of unstyled ones as one (Rich writes an unstyled
    segment's text as it is, on any terminal; the fitted table joins such runs)."""
    written: list[Segment] = []
    for segment in console.render(renderable):
        if segment.style or segment.control:
            written.append(segment)
        elif written and not written[-1].style and not written[-1].control:
            written[-1] = Segment(written[-1].text + segment.text)
        else:
            written.append(Segment(segment.text))
    return written


@st.composite
def tables(draw: st.DrawFn) -> tuple[Console, Table, rich.table.Table]:
    """A page, and one table as the views describe it and as Rich's own Table, by the same calls."""
    console = Console(width=draw(st.integers(20, 250)), force_terminal=True, color_system="truecolor",
                      highlight=False, markup=False, emoji=False)
    recipe = draw(recipes(odd=draw(st.booleans())))  # odd: rows of other lengths, padding, table widths
    return console, build(Table, recipe), build(rich.table.Table, recipe)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_a_fitted_table_is_what_rich_draws(drawn: tuple[Console, Table, rich.table.Table]) -> None:
    console, table, reference = drawn
    fast = fitted(console, table)
    if fast is not None:
        assert segments(console, fast) == segments(console, reference)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 250), recipes(odd=False))
def test_show_prints_what_rich_prints(width: int, recipe: Any) -> None:
    """render.show prints a fitted table without Rich's cropping of each line to the console: the
    bytes must be those of the same table printed by Rich (cropped), at any width — a line the
    fitted table drew wider than the console would differ."""

    def printed(fast: bool) -> str:
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor",
                          highlight=False, markup=False, emoji=False)
        with pytest.MonkeyPatch.context() as patch:
            if not fast:
                patch.setattr(llmcalc.fitted, "fitted", lambda console, table: None)
            render.show(console, build(Table, recipe))
        return console.file.getvalue()  # type: ignore[attr-defined]

    assert printed(fast=True) == printed(fast=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROSE, PROSE, st.integers(1, 80), st.sampled_from(["center", "left", "right", "full"]),
       st.sampled_from([None, "", "bold", "on blue"]))
def test_a_long_title_and_caption_are_what_rich_draws(title: str, caption: str, width: int, justify: str,
                                                      style: Any) -> None:
    """Titles and captions of one-cell characters are broken into lines and styled without Rich
    (llmcalc.cells): random tables' titles are short; these wrap, fold and justify."""
    console = Console(width=width, force_terminal=True, color_system="truecolor", highlight=False, markup=False,
                      emoji=False)
    recipe = ({"title": title, "caption": caption, "title_justify": justify, "caption_justify": justify,
               "title_style": style, "box": None},
              [("add_column", ("a",), {}), ("add_column", ("b",), {}), ("add_row", ("x", "a longer cell"), {})])
    fast = fitted(console, build(Table, recipe))
    if fast is not None:
        assert segments(console, fast) == segments(console, build(rich.table.Table, recipe))


@pytest.mark.parametrize("page", [10_000, 6, 2, 1])
@pytest.mark.parametrize("padding", [0, (0, 1), (0, 3)])
def test_a_blank_cell_is_measured_as_rich_measures_it(page: int, padding: Any) -> None:
    """Cells of spaces or of nothing have no word to measure the narrowest by: random tables
    rarely make a column of them."""
    console = Console(width=80, highlight=False, markup=False, emoji=False)
    recipe = ({"padding": padding, "show_header": False}, [("add_column", ("a",), {}), ("add_column", ("b",), {}),
                                                           ("add_row", ("   ", ""), {}), ("add_row", ("  ", ""), {})])
    options = console.options.update(width=page)
    assert measured(console, options, build(Table, recipe)) == \
        Measurement.get(console, options, build(rich.table.Table, recipe))


@pytest.mark.parametrize("padding", [0, 1, (0, 2), (1, 2), (0, 1, 1, 1), (1, 0, 0, 0)])
@pytest.mark.parametrize("width", [80, 12])
def test_padding_is_drawn_as_rich_draws_it(padding: Any, width: int) -> None:
    """Padding above or below a cell makes rows taller: random tables rarely reach it."""
    console = Console(width=width, force_terminal=True, color_system="truecolor", highlight=False, markup=False,
                      emoji=False)
    recipe = ({"padding": padding, "title": "t"}, [("add_column", ("a",), {}), ("add_column", ("b",), {}),
                                                   ("add_row", ("x", "a longer cell"), {})])
    fast = fitted(console, build(Table, recipe))
    if fast is not None:
        assert segments(console, fast) == segments(console, build(rich.table.Table, recipe))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from([10_000, 60, 1]))
def test_a_tables_measure_is_what_rich_measures(drawn: tuple[Console, Table, rich.table.Table], page: int) -> None:
    """What render.show asks before drawing a table wider than the terminal (its minimum)."""
    console, table, reference = drawn
    options = console.options.update(width=page)
    ours = measured(console, options, table)
    if ours is not None:
        assert ours == Measurement.get(console, options, reference)


@given(st.text(st.characters(blacklist_categories=()), max_size=20) | st.text(max_size=20))
def test_a_texts_width_is_rich_cell_len(text: str) -> None:
    assert text_width(text) == cell_len(text)


def test_most_random_tables_take_the_fast_path() -> None:
    # Not a vacuous property: the generator makes tables the fast path draws.
    taken = []

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(tables())
    def draw(drawn: tuple[Console, Table, rich.table.Table]) -> None:
        taken.append(fitted(*drawn[:2]) is not None)

    draw()
    assert sum(taken) > len(taken) // 8  # about a quarter (49 and 50 of 200 seen): not a ratio to pin


@pytest.mark.parametrize("width", [250, 80])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_table_a_command_prints_is_what_rich_draws(monkeypatch: pytest.MonkeyPatch, width: int,
                                                         lang: str) -> None:
    checked: list[bool] = []
    real = llmcalc.fitted.fitted

    def compared(console: Console, table: Table) -> Any:
        fast = real(console, table)
        checked.append(fast is not None)
        if fast is not None:  # Rich's table with the same attributes (tests/test_table.py)
            assert segments(console, fast) == segments(console, table.rich_table())
        return fast

    monkeypatch.setattr(llmcalc.fitted, "fitted", compared)
    runner = CliRunner()
    for args in [*PAGES, ("presets",), ("params", "llama2-7b", "--layers", "16,32", "--hidden-size", "2048,4096")]:
        result = runner.invoke(app, [*args, "--lang", lang] if args != ("presets",) else [*args],
                               env={"COLUMNS": str(width), "NO_COLOR": "1"})
        assert result.exit_code == 0, (args, result.output)
    if width == 250:  # on a wide page most tables fit
        assert sum(checked) > len(checked) // 2, checked
