"""`llmcalc explain` for people (Rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from llmcalc.cells import text_width
from llmcalc.i18n import tr, tr_formula
from llmcalc.render import make_console, rule, say, show
from llmcalc.table import Table
from llmcalc.text import binary_bytes, exact, human_count

if TYPE_CHECKING:
    from llmcalc.explain import Explanation


def print_explanation(explanation: Explanation) -> None:
    console = make_console()
    human = human_count if explanation.unit == "params" else binary_bytes
    for number, step in enumerate(explanation.steps, 1):
        heading = Text(f"{number}. {tr(step.title)}", style="bold")
        # A rule cuts a title that does not fit; on a narrow terminal the title stands alone.
        if text_width(heading.plain) + 4 < console.width:
            rule(console, heading)
        else:
            console.print(heading)
        say(console, step.text)
        if step.entries:
            table = Table(box=None, pad_edge=False, show_header=False)
            table.add_column(overflow="fold")
            table.add_column(style="dim", overflow="fold")
            table.add_column(overflow="fold")
            table.add_column(justify="right", no_wrap=True)
            table.add_column(justify="right", no_wrap=True)
            for entry in step.entries:
                detail = Text(f"= {entry.substituted}" if entry.substituted else "")
                if entry.note:
                    detail.append(("  " if entry.substituted else "") + tr(entry.note), style="italic")
                value = entry.value_text
                table.add_row(tr(entry.title), tr_formula(entry.formula), detail, value,
                              human(entry.value) if value and entry.value else "")
            show(console, table)
        if step.result is not None:
            console.print(Text(f"= {exact(step.result)}  ({human(step.result)})", style="bold"), justify="right")
        console.print()
