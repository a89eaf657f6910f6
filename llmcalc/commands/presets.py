"""`llmcalc presets`."""

from typing import Annotated

import typer

from llmcalc.options import emit, reports_errors, warn


@reports_errors
def presets(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List every preset: name, family, total params, layers, hidden, heads/KV heads, context, source.

    User presets come from $LLMCALC_PRESETS and ~/.config/llmcalc/presets; one with a bundled
    preset's name replaces it.

    Example:

      llmcalc presets
    """
    from llmcalc.preset_rows import all_rows

    rows, warnings = all_rows()
    warn(warnings)

    def as_json() -> None:
        from llmcalc.formats import write_json
        from llmcalc.formats.presets import presets_document

        write_json(presets_document(rows))

    def as_table() -> None:
        from llmcalc.views.presets import print_presets

        print_presets(rows)

    emit(None, json_output, {"table": as_table, "json": as_json})
