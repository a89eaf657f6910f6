"""`compare --json`, `--format csv` and `--format markdown`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcalc.formats.params import params_document
from llmcalc.text import cell, ratio

if TYPE_CHECKING:
    from llmcalc.compare import Comparison


def compare_document(comparison: Comparison) -> dict[str, Any]:
    first = [row.cells[0] for row in comparison.rows]
    return {
        "models": [params_document(spec, count, None)
                   for spec, count in zip(comparison.specs, comparison.counts)],
        "seq_len": comparison.tokens,
        "rows": [{"section": row.section, "name": row.name, "unit": row.unit, "values": list(row.cells),
                  "ratios": [ratio(value, head) or None for value in row.cells[1:]]}
                 for row, head in zip(comparison.rows, first)],
    }


def compare_csv(comparison: Comparison) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "row", *(spec.name for spec in comparison.specs)])
    for row in comparison.rows:
        writer.writerow([row.section, row.name, *("" if value is None else value for value in row.cells)])
    return out.getvalue()


def compare_markdown(comparison: Comparison) -> str:
    names = [spec.name for spec in comparison.specs]
    ratio_headers = [f"{name} / {names[0]}" for name in names[1:]]
    lines = ["| | " + " | ".join([*names, *ratio_headers]) + " |",
             "|---|" + "---:|" * (len(names) + len(ratio_headers))]
    for row in comparison.rows:
        cells = [cell(value) for value in row.cells]
        ratios = [ratio(value, row.cells[0]) for value in row.cells[1:]]
        lines.append(f"| {row.name} | " + " | ".join([*cells, *ratios]) + " |")
    return "\n".join(lines) + "\n"
