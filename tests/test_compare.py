"""`llmcalc compare`: rows zipped from the models' own Term trees, in every format."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.compare import compare
from llmcalc.memory import DTYPES
from llmcalc.presets import resolve
from llmcalc.scenario import Scenario

runner = CliRunner()
EIGHT = ["gpt2", "llama2-7b", "mistral-7b", "mixtral-8x7b", "t5-base", "rwkv-4-169m", "deepseek-v2-lite",
         "openelm-270m"]


def compare_at(specs, tokens):  # type: ignore[no-untyped-def]
    """The comparison at bf16 and `tokens`, resolved as the command resolves it."""
    points, _ = Scenario(tokens=(tokens,), cache_dtype=DTYPES["bf16"], weight_dtype=DTYPES["bf16"]).resolve_together(specs)
    return compare(specs, points)


def run(*args: str, columns: int = 200):
    return runner.invoke(app, ["compare", *args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})


def params_json(model: str) -> dict:
    return json.loads(runner.invoke(app, ["params", model, "--json"]).stdout)


def test_two_models_table() -> None:
    result = run("llama2-7b", "llama2-70b")
    assert result.exit_code == 0, result.output
    out = result.stdout
    # totals from transformers (LlamaForCausalLM on the meta device), ratio 68,976,648,192 / 6,738,415,616
    for fragment in ("6,738,415,616", "68,976,648,192", "×10.2", "decoder.attention.k_proj", "KV heads",
                     "GQA", "weights dtype", "fp16 (torch_dtype)", "KV cache at 4,096 tokens", "2,147,483,648", "1,342,177,280"):
        assert fragment in out, fragment
    assert "\x1b[" not in out


def test_three_models_moe_next_to_dense_and_encoder_decoder() -> None:
    result = run("mistral-7b", "mixtral-8x7b", "t5-base")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "active parameters per token" in out and "12,879,925,248" in out
    assert "decoder.moe.experts.gate_proj" in out and "encoder.attention.q_proj" in out
    assert "decoder.cross_attention.q_proj" in out and "—" in out
    assert "2 / 8" in out  # Mixtral: 2 of 8 experts


def test_eight_models() -> None:
    result = run(*EIGHT)
    assert result.exit_code == 0, result.output
    doc = json.loads(run(*EIGHT, "--json").stdout)
    assert [model["model"] for model in doc["models"]] == EIGHT


def test_rows_come_from_the_term_trees() -> None:
    specs = [resolve(name) for name in ("deepseek-v2-lite", "t5-base", "gemma-2b")]
    comparison = compare_at(specs, 4096)
    for index, spec in enumerate(specs):
        components = sum(row.cells[index] for row in comparison.rows
                         if row.section == "parameters" and isinstance(row.cells[index], int))
        total = next(row.cells[index] for row in comparison.rows if row.name == "total parameters")
        assert components == total == params_json(spec.name)["total_params"]


def test_missing_components_are_dashes_not_zeros() -> None:
    comparison = compare_at([resolve("mistral-7b"), resolve("mixtral-8x7b")], 4096)
    router = next(row for row in comparison.rows if row.name == "decoder.moe.router")
    assert router.cells == (None, 4096 * 8 * 32)  # Mixtral's router: H × 8 experts in 32 layers
    tied = next(row for row in compare_at([resolve("mistral-7b"), resolve("gemma-2b")], 1).rows
                if row.name == "lm_head.weight")
    assert tied.cells == (32000 * 4096, "tied")


def test_json_format() -> None:
    doc = json.loads(run("llama2-7b", "gemma-2b", "--format", "json").stdout)
    assert doc["models"] == [params_json("llama2-7b"), params_json("gemma-2b")]
    # llama2-7b has 4,096 tokens of context, gemma-2b 8,192: both are compared at the shorter.
    assert doc["seq_len"] == 4096
    cache_dtypes = next(row for row in doc["rows"] if row["name"] == "KV cache dtype")
    assert cache_dtypes["values"] == ["fp16 (torch_dtype)", "bf16 (torch_dtype)"]
    total = next(row for row in doc["rows"] if row["name"] == "total parameters")
    assert total["values"] == [6_738_415_616, 2_506_172_416] and total["ratios"] == ["×0.37"]
    assert json.loads(run("llama2-7b", "gemma-2b", "--json").stdout) == doc


def test_csv_format() -> None:
    result = run("gpt2", "bert-base-cased", "--format", "csv")
    assert result.exit_code == 0 and "\x1b[" not in result.stdout
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "row", "gpt2", "bert-base-cased"]
    as_dict = {row[1]: row[2:] for row in rows[1:]}
    # transformers: GPT2LMHeadModel 124,439,808; BertModel 108,310,272
    assert as_dict["total parameters"] == ["124439808", "108310272"]
    assert as_dict["pooler"] == ["", "590592"]  # BERT's pooler, 768 × 768 + 768; GPT-2 has none
    assert len({len(row) for row in rows}) == 1


def test_markdown_format() -> None:
    out = run("gpt2", "gemma-2b", "--format", "markdown").stdout
    lines = out.splitlines()
    assert lines[0] == "| | gpt2 | gemma-2b | gemma-2b / gpt2 |"
    assert lines[1] == "|---|---:|---:|---:|"
    assert "| total parameters | 124,439,808 | 2,506,172,416 | ×20.1 |" in lines
    assert "\x1b[" not in out and all(line.startswith("|") for line in lines)


@pytest.mark.parametrize("args, fragment", [
    (("gpt2",), "2 to 8 models, got 1"),
    (tuple(EIGHT + ["gemma-2b"]), "2 to 8 models, got 9"),
    (("gpt2", "llama2-7", "mistral-7b"), "did you mean llama2-7b"),
    (("gpt2", "gemma-2b", "--format", "xml"), "table, json, csv, markdown"),
    (("gpt2", "gemma-2b", "--dtype", "fp12"), "unknown dtype"),
])
def test_errors(args: tuple[str, ...], fragment: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and result.stdout == "" and "Traceback" not in result.output
