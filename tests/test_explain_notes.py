"""`explain` the way the study notes teach it (../shared/notes/param-formulas.md), and `--check`
on the notes' own worked figures: each figure the notes wrote must be traced to the slips that
produce it, from the exact count."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.explain import check_figure, parse_figure
from llmcalc.presets import resolve

runner = CliRunner()


def explain_json(*args: str) -> dict:
    result = runner.invoke(app, ["explain", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def notes_steps(document: dict) -> dict[str, dict]:
    return {step["title"]: step for step in document["steps"] if step["section"].startswith("One layer at a time")}


def test_mistral_per_layer_the_notes_way():
    document = explain_json("mistral-7b")
    steps = notes_steps(document)
    attention = steps["layers 0-31: attention (Q, K, V, O)"]
    assert (attention["formula"], attention["substituted"], attention["value"]) == \
        ("H² × (2 + 2/g)", "4,096² × (2 + 2/4)", 41_943_040)  # the notes: 4096² × (2 + 2/4)
    ffn = steps["layers 0-31: feed-forward (gated)"]
    assert (ffn["formula"], ffn["value"]) == ("3 × H × I", 176_160_768)  # the notes: 3 × 4096 × 14336
    assert steps["layers 0-31: one layer"]["value"] == 41_943_040 + 176_160_768 + 2 * 4096
    assert steps["layers 0-31: × 32 layers"]["value"] == 32 * steps["layers 0-31: one layer"]["value"]
    section = next(s for s in document["sections"] if s["title"].startswith("One layer at a time"))
    assert section["result"] == document["total"] == 7_241_732_096


def test_notes_path_shows_mha_as_4h2_and_moe_per_expert():
    steps = notes_steps(explain_json("llama2-7b"))
    assert steps["layers 0-31: attention (Q, K, V, O)"]["substituted"] == "4,096² × (2 + 2/1)"
    moe = notes_steps(explain_json("mixtral-8x7b"))["layers 0-31: routed experts (gated), one expert"]
    assert (moe["per_unit"], moe["instances"]) == (176_160_768, 8)


# The notes' figures (param-formulas.md): model, figure as written, what it counted, the slips that
# must be named. Mistral-7B: "232M" per layer, "7.5B" (the estimate), "131M + 7.25B + 131M ≈ 7.51B",
# "40M" and "1.25G" (attention with GQA per layer and over 32 layers), "64M" (per layer without GQA);
# Qwen2.5-3B: "324M" (attention over 36 layers), "2322M" (FFN), "3.16G" (the total).
NOTES_FIGURES = [
    ("mistral-7b", "232M", "one layer", {"binary prefix", "GQA ignored"}),
    ("mistral-7b", "7.5B", "the whole model", {"binary prefix", "GQA ignored"}),
    ("mistral-7b", "7.51B", "the whole model", {"binary and decimal mixed", "GQA ignored"}),
    ("mistral-7b", "40M", "one layer's self-attention", {"binary prefix"}),
    ("mistral-7b", "64M", "one layer's self-attention", {"binary prefix", "GQA ignored"}),
    ("mistral-7b", "1.25G", "the self-attention of all the layers", {"binary prefix"}),
    ("qwen2.5-3b", "324M", "the self-attention of all the layers", {"binary prefix"}),
    ("qwen2.5-3b", "2322M", "the feed-forward (gated) of all the layers", {"binary prefix"}),
    ("qwen2.5-3b", "3.16G", "the whole model", {"binary prefix", "a tied output layer counted"}),
    ("qwen2.5-3b", "3.16e9", "the whole model", {"binary prefix", "a tied output layer counted"}),
]


@pytest.mark.parametrize(("model", "figure", "scope", "slips"), NOTES_FIGURES)
def test_check_traces_the_notes_figures_to_their_slips(model, figure, scope, slips):
    result = check_figure(resolve(model), parse_figure(figure))
    assert result.scope == scope
    assert len(result.slips) == len(slips)
    for slip in slips:
        assert any(named.startswith(slip) for named in result.slips), (slip, result.slips)


def test_check_of_qwen_names_the_small_slips_too():
    result = check_figure(resolve("qwen2.5-3b"), parse_figure("3.16e9"))
    assert set(result.also) == {"biases left out", "norms left out"}
    assert result.exact == 3_085_938_688


def test_a_right_figure_and_a_figure_nothing_explains():
    assert check_figure(resolve("mistral-7b"), parse_figure("7.24B")).slips == ()
    lost = check_figure(resolve("mistral-7b"), parse_figure("9.9B"))
    assert lost.reproduced is None and round(lost.off, 3) == round(9.9e9 / 7_241_732_096 - 1, 3)


def test_check_command():
    result = runner.invoke(app, ["explain", "qwen2.5-3b", "--check", "3.16G"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "a tied output layer counted as a second V × H" in result.stdout
    bad = runner.invoke(app, ["explain", "qwen2.5-3b", "--check", "lots"])
    assert bad.exit_code == 2 and "expected a figure" in bad.stderr
