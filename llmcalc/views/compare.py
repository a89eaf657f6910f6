"""`llmcalc compare` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.text import Text

from llmcalc.i18n import tr
from llmcalc.render import make_console, show
from llmcalc.table import Table
from llmcalc.text import MISSING, cell, ratio

if TYPE_CHECKING:
    from llmcalc.compare import Comparison


def print_compare(comparison: Comparison) -> None:
    console = make_console()
    names = [spec.name for spec in comparison.specs]
    table = Table(title=tr("compare: " + " vs ".join(names)), box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=tr(f"KV cache for one sequence; ratios (×): each model against {names[0]}; "
                             f"{MISSING} = the model has no such component"))
    table.add_column("", overflow="fold")
    for name in names:
        table.add_column(name, justify="right", overflow="fold")
    for name in names[1:]:
        table.add_column(f"{name} ×" if len(names) > 2 else tr("ratio"), justify="right", no_wrap=True)
    section = comparison.rows[0].section
    for row in comparison.rows:
        if row.section != section:
            table.add_section()
            section = row.section
        first = row.cells[0]
        # A value that differs from the first model's stands out.
        cells = [Text(tr(cell(value)) if isinstance(value, str) else cell(value),
                      style="" if index == 0 or value == first else "bold")
                 for index, value in enumerate(row.cells)]
        table.add_row(tr(row.name), *cells, *(ratio(value, first) for value in row.cells[1:]))
    show(console, table)
