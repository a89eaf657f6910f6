"""`explain --json` and `--format markdown`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmcalc.explain import Explanation


def explain_document(explanation: Explanation) -> dict[str, Any]:
    return {
        "model": explanation.model,
        "topic": explanation.topic,
        "unit": explanation.unit,
        "sections": [{"number": number, "title": step.title, "text": step.text, "result": step.result}
                     for number, step in enumerate(explanation.steps, 1)],
        "steps": [{"section": step.title, "title": entry.title, "formula": entry.formula,
                   "substituted": entry.substituted, "value": entry.value, "per_unit": entry.per_unit,
                   "instances": entry.instances, "note": entry.note, "difference": entry.signed}
                  for step in explanation.steps for entry in step.entries],
        "total": explanation.total,
    }


def explain_markdown(explanation: Explanation) -> str:
    from llmcalc.i18n import tr, tr_formula

    lines = [f"# {explanation.model}: {explanation.topic}", ""]
    for number, step in enumerate(explanation.steps, 1):
        lines += [f"## {number}. {tr(step.title)}", "", tr(step.text), ""]
        if step.entries:
            headers = " | ".join(tr(header) for header in ("formula", "substituted", "value", "note"))
            lines += [f"| | {headers} |", "|---|---|---|---:|---|"]
            for entry in step.entries:
                cells = [tr(entry.title), tr_formula(entry.formula), entry.substituted, entry.value_text, tr(entry.note)]
                lines.append("| " + " | ".join(text.replace("|", "\\|") for text in cells) + " |")
            lines.append("")
        if step.result is not None:
            unit = tr("parameters" if explanation.unit == "params" else "bytes")
            lines += [f"**= {step.result:,} {unit}**", ""]
    return "\n".join(lines)
