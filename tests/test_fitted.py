"""llmcalc.fitted draws a table that fits in one pass; the reference is Rich itself: for random
tables and for every table the commands print, its segments (text and style, so the bytes on a
colour terminal too) must equal what rich.table.Table yields for the same table."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

import llmcalc.fitted
from llmcalc.cli import app
from llmcalc.fitted import fitted
from test_i18n import PAGES

WORDS = st.text(alphabet="ab xyz019.,×—参数量 ", max_size=14)
STYLES = st.sampled_from(["", "bold", "dim", "italic", "green", "bold red", "on blue"])


def rarely(values: st.SearchStrategy[int]) -> st.SearchStrategy[int | None]:
    """Mostly None: a fixed or capped width mostly makes a table Rich must lay out."""
    return st.sampled_from([None] * 9 + [0]).flatmap(lambda pick: st.none() if pick is None else values)


def segments(console: Console, renderable: Any) -> list[Segment]:
    return list(console.render(renderable))


@st.composite
def cells(draw: st.DrawFn) -> str | Text:
    kind = draw(st.sampled_from(["str", "text", "spans"] * 6 + ["odd"]))
    if kind == "str":
        return draw(WORDS)
    text = Text(draw(WORDS), style=draw(STYLES))
    if kind == "spans":
        text.append(draw(WORDS), style=draw(STYLES))
    if kind == "odd":  # what the fast path must leave to Rich
        return draw(st.sampled_from([Text("two\nlines"), "a\ttab", Text("x", justify="right"), Text("y", no_wrap=True)]))
    return text


@st.composite
def tables(draw: st.DrawFn) -> tuple[Console, Table]:
    console = Console(width=draw(st.integers(20, 250)), force_terminal=True, color_system="truecolor",
                      highlight=False, markup=False, emoji=False)
    table = Table(title=draw(st.none() | WORDS), caption=draw(st.none() | WORDS),
                  box=draw(st.sampled_from([box.SIMPLE_HEAD, None, box.ROUNDED, box.HEAVY_HEAD, box.MINIMAL])),
                  pad_edge=draw(st.booleans()), show_header=draw(st.booleans()), show_footer=draw(st.booleans()),
                  show_edge=draw(st.booleans()), show_lines=draw(st.booleans()),
                  border_style=draw(STYLES), row_styles=draw(st.sampled_from([None, ["", "dim"]])))
    for _ in range(draw(st.integers(1, 5))):
        table.add_column(draw(WORDS), footer=draw(WORDS), style=draw(STYLES),
                         justify=draw(st.sampled_from(["left", "center", "right"])),
                         no_wrap=draw(st.booleans()), overflow=draw(st.sampled_from(["fold", "ellipsis", "crop"])),
                         min_width=draw(rarely(st.integers(0, 12))), max_width=draw(rarely(st.integers(1, 12))),
                         width=draw(rarely(st.integers(1, 12))))
    for _ in range(draw(st.integers(0, 6))):
        table.add_row(*(draw(cells()) for _ in table.columns), style=draw(st.none() | STYLES))
        if draw(st.booleans()):
            table.add_section()
    return console, table


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_a_fitted_table_is_what_rich_draws(drawn: tuple[Console, Table]) -> None:
    console, table = drawn
    fast = fitted(console, table)
    if fast is not None:
        assert segments(console, fast) == segments(console, table)


def test_most_random_tables_take_the_fast_path() -> None:
    # Not a vacuous property: the generator makes tables the fast path draws.
    taken = []

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(tables())
    def draw(drawn: tuple[Console, Table]) -> None:
        taken.append(fitted(*drawn) is not None)

    draw()
    assert sum(taken) > len(taken) // 4


@pytest.mark.parametrize("width", [250, 80])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_table_a_command_prints_is_what_rich_draws(monkeypatch: pytest.MonkeyPatch, width: int,
                                                         lang: str) -> None:
    checked: list[bool] = []
    real = llmcalc.fitted.fitted

    def compared(console: Console, table: Table) -> Any:
        fast = real(console, table)
        checked.append(fast is not None)
        if fast is not None:
            assert segments(console, fast) == segments(console, table)
        return fast

    monkeypatch.setattr(llmcalc.fitted, "fitted", compared)
    runner = CliRunner()
    for args in [*PAGES, ("presets",), ("params", "llama2-7b", "--layers", "16,32", "--hidden-size", "2048,4096")]:
        result = runner.invoke(app, [*args, "--lang", lang] if args != ("presets",) else [*args],
                               env={"COLUMNS": str(width), "NO_COLOR": "1"})
        assert result.exit_code == 0, (args, result.output)
    if width == 250:  # on a wide page most tables fit
        assert sum(checked) > len(checked) // 2, checked
