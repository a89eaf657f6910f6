"""llmcalc.table.Table keeps what rich.table.Table keeps (the reference is Rich itself): after the
same random calls, every attribute the views, `render.show` and `fitted` read is equal, and the
Rich table `rich_table()` makes has every attribute of the one Rich made, and draws the same."""

from __future__ import annotations

import dataclasses
from typing import Any

import rich.table
from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console
from rich.text import Text

from llmcalc.table import Table

WORDS = st.text(alphabet="ab xyz019.,×—参数量 ", max_size=14)
STYLES = st.sampled_from(["", "bold", "dim", "italic", "green", "bold red", "on blue"])
# Table's own attributes, as Rich names them (columns and rows are compared apart).
TABLE_ATTRIBUTES = ("title", "caption", "width", "min_width", "box", "safe_box", "padding", "collapse_padding",
                    "pad_edge", "expand", "_expand", "show_header", "show_footer", "show_edge", "show_lines", "leading",
                    "style", "row_styles", "header_style", "footer_style", "border_style", "title_style",
                    "caption_style", "title_justify", "caption_justify", "highlight", "_extra_width")
COLUMN_FIELDS = tuple(field.name for field in dataclasses.fields(rich.table.Column))


def rarely(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly None: a fixed or capped width mostly makes a table Rich must lay out."""
    return st.sampled_from([None] * 9 + [0]).flatmap(lambda pick: st.none() if pick is None else values)


@st.composite
def cells(draw: st.DrawFn) -> str | Text | None:
    kind = draw(st.sampled_from(["str", "text", "spans"] * 6 + ["odd", "none"]))
    if kind == "str":
        return draw(WORDS)
    if kind == "none":
        return None
    text = Text(draw(WORDS), style=draw(STYLES))
    if kind == "spans":
        text.append(draw(WORDS), style=draw(STYLES))
    if kind == "odd":  # what the fast path must leave to Rich
        return draw(st.sampled_from([Text("two\nlines"), "a\ttab", Text("x", justify="right"), Text("y", no_wrap=True)]))
    return text


@st.composite
def recipes(draw: st.DrawFn, odd: bool = True) -> tuple[dict[str, Any], list[tuple[str, tuple[Any, ...], dict[str, Any]]]]:
    """A table's arguments and the calls that fill it; `odd` adds what the views never do (rows
    longer or shorter than the columns, padding, highlighting) for the attribute checks."""
    options: dict[str, Any] = dict(
        title=draw(st.none() | WORDS), caption=draw(st.none() | WORDS),
        box=draw(st.sampled_from([box.SIMPLE_HEAD, None, box.ROUNDED, box.HEAVY_HEAD, box.MINIMAL])),
        pad_edge=draw(st.booleans()), show_header=draw(st.booleans()), show_footer=draw(st.booleans()),
        show_edge=draw(st.booleans()), show_lines=draw(st.booleans()),
        border_style=draw(STYLES), row_styles=draw(st.sampled_from([None, ["", "dim"]])))
    if odd:
        options.update(draw(st.fixed_dictionaries({}, optional={
            "padding": st.sampled_from([0, 1, (1,), (0, 2), (1, 2, 0, 3), [0, 1, 0, 1]]),
            "header_style": st.none() | STYLES, "footer_style": st.none() | STYLES, "highlight": st.booleans(),
            "width": st.none() | st.integers(10, 80), "min_width": st.none() | st.integers(0, 40),
            "expand": st.booleans(), "leading": st.integers(0, 2), "collapse_padding": st.booleans(),
            "safe_box": st.none() | st.booleans(), "style": STYLES, "title_justify": st.sampled_from(["left", "right"]),
        })))
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    columns = draw(st.integers(1, 5))
    for _ in range(columns):
        column_options = dict(
            footer=draw(WORDS), style=draw(STYLES), justify=draw(st.sampled_from(["left", "center", "right"])),
            no_wrap=draw(st.booleans()), overflow=draw(st.sampled_from(["fold", "ellipsis", "crop"])),
            min_width=draw(rarely(st.integers(0, 12))), max_width=draw(rarely(st.integers(1, 12))),
            width=draw(rarely(st.integers(1, 12))))
        if odd:
            column_options.update(draw(st.fixed_dictionaries({}, optional={
                "header_style": st.none() | STYLES, "footer_style": st.none() | STYLES,
                "highlight": st.none() | st.booleans(), "ratio": st.none() | st.integers(1, 3),
                "vertical": st.sampled_from(["top", "middle", "bottom"])})))
        calls.append(("add_column", (draw(WORDS),), column_options))
    for _ in range(draw(st.integers(0, 6))):
        length = draw(st.integers(max(columns - 1, 0), columns + 1)) if odd else columns
        calls.append(("add_row", tuple(draw(cells()) for _ in range(length)), {"style": draw(st.none() | STYLES)}))
        if draw(st.booleans()):
            calls.append(("add_section", (), {}))
    return options, calls


def build(kind: Any, recipe: tuple[dict[str, Any], list[tuple[str, tuple[Any, ...], dict[str, Any]]]]) -> Any:
    options, calls = recipe
    table = kind(**options)
    for method, args, keywords in calls:
        getattr(table, method)(*args, **keywords)
    return table


def attributes(table: Any, console: Console) -> dict[str, Any]:
    return {
        **{name: getattr(table, name) for name in TABLE_ATTRIBUTES},
        "columns": [{name: getattr(column, name) for name in COLUMN_FIELDS} | {"cells": list(column.cells)}
                    for column in table.columns],
        "rows": [(row.style, row.end_section) for row in table.rows],
        "row styles": [table.get_row_style(console, index) for index in range(len(table.rows))],
    }


CONSOLE = Console(width=100, force_terminal=True, color_system="truecolor", highlight=False, markup=False, emoji=False)


@settings(max_examples=300, deadline=None)
@given(recipes())
def test_the_same_calls_keep_the_same_attributes_as_rich(recipe: Any) -> None:
    ours, theirs = build(Table, recipe), build(rich.table.Table, recipe)
    assert attributes(ours, CONSOLE) == attributes(theirs, CONSOLE)
    made = ours.rich_table()
    assert attributes(made, CONSOLE) == attributes(theirs, CONSOLE)
    assert vars(made).keys() == vars(theirs).keys()  # nothing of Rich's left unset
    assert list(CONSOLE.render(made)) == list(CONSOLE.render(theirs))
