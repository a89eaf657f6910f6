"""Rich output for people: what every command's tables share — the console, `show` (a table no
narrower than it needs, drawn in one pass when it fits) — and the component tables of params
and kvcache. Each command's own output is in `llmcalc/views/`, imported only by that command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Optional, Union

from rich import box
from rich.console import Console
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.table import Table
from llmcalc.text import exact, share

if TYPE_CHECKING:
    from llmcalc.rows import Row, Rows


# Wide enough for any table of ours, to measure how wide it must be.
UNLIMITED_WIDTH = 10_000

# Below this terminal width the formula column is left out so that every number fits.
FORMULA_MIN_WIDTH = 100


def say(console: Console, text: str, highlight: bool = False) -> None:
    """One line of prose, in the reader's language: broken into lines as Rich would break it and
    written as it is when every character is one cell wide (`cells.wrapped`), else printed by
    Rich."""
    from llmcalc.cells import wrapped

    line = tr(text)
    lines = None if highlight else wrapped(line, console.width, "default")
    if lines is None:
        console.print(line, highlight=highlight)
    else:
        console.out("\n".join(lines), highlight=False)


def rule(console: Console, title: Text) -> None:
    """console.print(Rule(title, align="left")): the title, a space and a line to the console's
    width, made here without Rich's measuring (`cells`) when the title is one line of one-cell
    characters that Rich would not cut."""
    from llmcalc.cells import one_cell_each

    width = console.width
    if console.options.ascii_only or not title or not one_cell_each(title.plain) or len(title) > width - 2:
        from rich.rule import Rule

        console.print(Rule(title, align="left"))
        return
    line = Text(end="\n")
    line.append(title)
    line.append(" ")
    line.append("─" * (width - len(line)), "rule.line")
    # As wide as the console: written as it is, where Rich would break it into lines again.
    console.print(line, no_wrap=True, overflow="ignore", crop=False)


def make_console() -> Console:
    """A console for our own output: no markup, emoji or repr highlighting to interpret
    (styled cells are Text objects), which also spares compiling the highlighter."""
    return Console(highlight=False, markup=False, emoji=False)


def show(console: Console, table: Table) -> None:
    """Print a table no narrower than it needs: on a terminal too narrow for its numbers the
    lines run long and the terminal wraps them, but Rich never cuts a number to `…`."""
    from llmcalc.cells import text_width
    from llmcalc.fitted import fitted, measured

    # Rich measures a no-wrap cell by its longest word, then cuts it to that width: make
    # each such column as wide as its widest cell ("13.05 GiB") so the measure is true.
    # The table's width with nothing wrapped: its cells, their padding (none outside the first and
    # last column without pad_edge), the box's edges and the dividers between columns.
    columns = table.columns
    _, right, _, left = table.padding
    natural = table._extra_width + len(columns) * (left + right) - (0 if table.pad_edge else left + right)
    widths = []
    for column in columns:
        widest = max(text_width(text) for text in (str(column.header), *(str(cell) for cell in column.cells)))
        natural += widest
        if column.no_wrap:
            column.min_width = max(column.min_width or 0, widest)
        widths.append(widest)
    terminal = console.width
    laid_out = None  # the rich.table.Table, made only when Rich must measure or draw the table
    if natural <= terminal:
        # It fits: a no-wrap column is as wide as its widest cell, which Rich would find by
        # measuring every cell again (most of the time a long table takes to print).
        for column, widest in zip(columns, widths):
            if column.no_wrap and column.width is None and column.max_width is None:
                column.width = max(column.min_width or 0, widest)
    else:  # only then is the table's true minimum worth a measuring pass
        from rich.measure import Measurement

        # Measured against a wide page: Rich clamps a measurement to the width it is offered.
        wide = console.options.update(width=UNLIMITED_WIDTH)
        measurement = measured(console, wide, table)
        if measurement is None:
            laid_out = table.rich_table()
            measurement = Measurement.get(console, wide, laid_out)
        console.width = max(terminal, measurement.minimum)  # print(width=...) would be clamped to the terminal
    # A table of text cells is drawn by `fitted` (Rich's segments; a cell that fits on one line
    # without Rich's per-cell layout); any other, Rich lays out.
    fast = fitted(console, table)
    if fast is not None:
        # Rich crops each line to the console, measuring every segment again (and keeping each in
        # its cache): a fifth of the time `quant` takes to print its table. Only a table drawn
        # wider than the console (Rich's own layout can be, by a column) has a line to crop.
        console.print(fast, crop=fast.width > console.width)
    else:
        console.print(laid_out if laid_out is not None else table.rich_table())
    console.width = terminal


# One table line: component, formula, per unit × n, value, human, share.
Cells = tuple[Union[str, Text], Union[str, Text], str, str, str, str]


def row_cells(row: Row, human: Callable[[int], str], total: int) -> Cells:
    if row.reason:
        return (tr(row.name), Text(tr(row.note), style="italic"), "", "0", "", "")
    name: Union[str, Text] = Text(tr(row.name), style="bold") if row.heading else tr(row.name)
    return (name, row.formula, row.per_unit, exact(row.value), human(row.value), share(row.value, total))


def table_cells(rows: Rows, human: Callable[[int], str], total: int) -> list[Optional[Cells]]:
    return [None if row is None else row_cells(row, human, total) for row in rows]


def term_table(title: str, caption: str | None, rows: list[Optional[Cells]], footer: tuple[str, ...],
               width: int, unit_header: str = "per unit × n", value_header: str = "params") -> Table:
    with_formula = width >= FORMULA_MIN_WIDTH
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)

    def widest(index: int) -> int:
        cells = [str(r[index]) for r in rows if r is not None] + [footer[index]]
        return max(len(cell) for cell in cells)

    # Numbers are never cut or wrapped: their columns are as wide as their widest value.
    # On a narrow terminal component names wrap, and the formula column is left out.
    table.add_column(tr("component"), footer=tr(footer[0]), overflow="fold")
    if with_formula:
        table.add_column(tr("formula"), style="dim", ratio=1, min_width=9)
    for index, header in ((2, unit_header), (3, value_header), (4, ""), (5, "share")):
        table.add_column(tr(header), justify="right", footer=footer[index], no_wrap=True,
                         min_width=widest(index))
    for entry in rows:
        if entry is None:
            table.add_section()
            continue
        name, formula, *numbers = entry
        table.add_row(name, *((formula,) if with_formula else ()), *numbers)
    return table
