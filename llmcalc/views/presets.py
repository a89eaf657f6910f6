"""`llmcalc presets` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box

from llmcalc.render import make_console, show
from llmcalc.table import Table
from llmcalc.text import MISSING, exact, human_count

if TYPE_CHECKING:
    from llmcalc.preset_rows import PresetRow


def print_presets(rows: list[PresetRow]) -> None:
    show(make_console(), presets_table(rows))


def presets_table(rows: list[PresetRow]) -> Table:
    users = sum(1 for row in rows if row.source != "bundled")
    table = Table(title="presets" + (f" ({users} from user preset folders)" if users else ""),
                  box=box.SIMPLE_HEAD)
    for name, justify in (("name", "left"), ("family", "left"), ("params", "right"), ("", "right"),
                          ("layers", "right"), ("hidden", "right"), ("heads/KV", "right"),
                          ("context", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    if users:
        table.add_column("source", overflow="fold")
    for row in rows:
        context = exact(row.context_length) if row.context_length else MISSING
        table.add_row(row.name, row.family, exact(row.total_params), human_count(row.total_params),
                      str(row.layers), exact(row.hidden_size), row.heads, context,
                      *((row.source,) if users else ()))
    return table
