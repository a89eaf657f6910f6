"""`llmcalc explain`: derivations generated from the Term trees, for every architecture kind."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.explain import explain
from llmcalc.kvcache import kv_cache
from llmcalc.memory import DTYPES
from llmcalc.params import count_params
from llmcalc.presets import resolve
from llmcalc.scenario import point

runner = CliRunner()
FP16 = DTYPES["fp16"]


def run(*args: str):
    return runner.invoke(app, ["explain", *args], env={"COLUMNS": "160", "NO_COLOR": "1"})


def test_mistral_page_has_every_number_of_the_worked_example() -> None:
    result = run("mistral-7b")
    assert result.exit_code == 0, result.output
    out = result.stdout
    # The notes' worked example (shared/notes/README.md), finished exactly.
    for fragment in (
        "H = 4,096", "L = 32", "V = 32,000", "I = 14,336", "n_h = 32", "n_kv = 8", "d = 128", "g = 4",
        "hidden_size", "num_key_value_heads",  # where each symbol comes from
        "8,046,772,224", "8.05 × 10⁹", "250.00 × 2²⁰", "7.25 × 2³⁰", "7.49 × 2³⁰", "8.05 billion",
        "V × H", "H × (n_h × d)", "H × (n_kv × d)", "(n_h × d) × H", "H × I",
        "= 4,096 × (8 × 128)", "4,194,304 × 32 = 134,217,728",
        "−805,306,368", "+266,240", "7,241,732,096",
    ):
        assert fragment in out, fragment


MODELS = ["mistral-7b", "mixtral-8x7b", "qwen1.5-moe-a2.7b", "deepseek-v2-lite", "t5-base", "openelm-270m",
          "rwkv-4-169m", "gpt2", "bert-base-cased", "gemma-7b", "olmo-7b", "yuan2-2b", "chatglm-6b"]


@pytest.mark.parametrize("model", MODELS)
def test_derivation_ends_at_the_exact_total(model: str) -> None:
    spec = resolve(model)
    count = count_params(spec)
    explanation = explain(spec, "params", point(spec, 4096, 1, FP16))
    assert explanation.total == count.total
    exact = next(step for step in explanation.steps if step.title.startswith("Exact"))
    assert exact.result == count.total == spec.reference.params
    reconciliation = [step for step in explanation.steps if step.title.startswith("Reconciliation")]
    if reconciliation:  # every difference named and counted: the entries add up to the total
        assert sum(entry.value for entry in reconciliation[0].entries) == count.total


@pytest.mark.parametrize("model", MODELS)
def test_every_step_value_is_the_term_it_renders(model: str) -> None:
    spec = resolve(model)
    root = count_params(spec).root
    leaves = {path.removeprefix("model."): (term, n) for path, term, n in root.leaves()}
    exact = next(step for step in explain(spec, "params", point(spec, 4096, 1, FP16)).steps if step.title.startswith("Exact"))
    rendered = {entry.title: entry for entry in exact.entries}
    for path, (term, instances) in leaves.items():
        if path not in rendered:  # per-layer sizes: shown per layer group instead (see the test below)
            assert model == "openelm-270m" and ".layers." in path
            continue
        entry = rendered[path]
        if term.note:
            assert entry.note == term.note and entry.value == 0
        else:
            assert (entry.formula, entry.substituted) == (term.formula, term.substituted)
            assert (entry.per_unit, entry.instances, entry.value) == (term.value, instances, term.value * instances)


def test_per_layer_sizes_are_tabulated_and_summed() -> None:
    spec = resolve("openelm-270m")
    exact = next(step for step in explain(spec, "params", point(spec, 1, 1, FP16)).steps if step.title.startswith("Exact"))
    layer_rows = [entry for entry in exact.entries if entry.formula == "attention + ffn + norms"]
    assert len(layer_rows) == 16 and "n_h 20" in layer_rows[-1].title
    outside = [exact_entry for exact_entry in exact.entries
               if exact_entry.title in ("embedding.tokens", "decoder.final_norm", "lm_head.weight")]
    assert sum(entry.value for entry in layer_rows + outside) == 271_527_168


def test_moe_mentions_active_params() -> None:
    out = run("mixtral-8x7b").stdout
    assert "Active per token" in out and "12,879,925,248" in out and "routers (not in the estimate)" in out


def test_rwkv_has_no_estimate_but_an_exact_count() -> None:
    spec = resolve("rwkv-4-169m")
    explanation = explain(spec, "params", point(spec, 1, 1, FP16))
    assert [step.title for step in explanation.steps] == ["Symbols", "One layer at a time (the notes' path)",
                                                          "Exact count, component by component"]
    assert explanation.total == 169_342_464


def test_kvcache_topic_uses_the_cache_terms() -> None:
    spec = resolve("mistral-7b")
    explanation = explain(spec, "kvcache", point(spec, 32768, 1, FP16))
    assert explanation.total == kv_cache(spec, point(spec, 32768, 1, FP16)).total == 2 * 32 * 8 * 128 * 4096 * 2
    out = run("mistral-7b", "--topic", "kvcache", "--seq", "32k").stdout
    assert "T × B × n_kv × d × b" in out and "= 4,096 × 1 × 8 × 128 × 2" in out
    assert "2,147,483,648" in out and "4,294,967,296" in out  # MHA equivalent; without the window


def test_kvcache_topic_mla_and_encoder() -> None:
    out = run("deepseek-v2-lite", "--topic", "kvcache", "--seq", "1k").stdout
    assert "T × B × (r_kv + d_rope) × b" in out and "compressed latent" in out
    assert "no autoregressive cache" in run("bert-base-cased", "--topic", "kvcache").stdout


def test_gqa_topic() -> None:
    out = run("llama2-7b", "--topic", "gqa").stdout
    # Llama-2-7B (H 4096, 32 heads of 128): K/V shapes under MHA, 8-group GQA and MQA, as in the notes.
    assert "K/V 4,096 × 4,096" in out and "K/V 4,096 × 1,024" in out and "K/V 4,096 × 128" in out
    assert "MHA ← this model" in out
    assert f"{2 * 32 * 32 * 128 * 4096 * 2:,} B" in out  # its own cache at 4096 tokens


def test_estimate_topic() -> None:
    doc = json.loads(run("mistral-7b", "--topic", "estimate", "--json").stdout)
    assert [section["title"] for section in doc["sections"]] == ["Symbols", "Textbook estimate",
                                                                  "Reconciliation: estimate → exact"]


def test_json_shape() -> None:
    doc = json.loads(run("mistral-7b", "--json").stdout)
    assert doc["model"] == "mistral-7b" and doc["topic"] == "params" and doc["total"] == 7_241_732_096
    assert {"title", "formula", "substituted", "value"} <= set(doc["steps"][0])
    gqa = next(step for step in doc["steps"] if step["title"].startswith("GQA"))
    assert gqa["value"] == -805_306_368 and gqa["difference"] is True


def test_markdown_has_no_escape_codes() -> None:
    result = runner.invoke(app, ["explain", "deepseek-v2-lite", "--format", "markdown"],
                           env={"COLUMNS": "160", "FORCE_COLOR": "1"})
    assert result.exit_code == 0 and "\x1b[" not in result.stdout
    assert result.stdout.startswith("# deepseek-v2-lite: params") and "| --- " not in result.stdout


@pytest.mark.parametrize("args, fragment", [
    (("mistral-7b", "--topic", "flops"), "params, kvcache, gqa, estimate"),
    (("mistral-7b", "--format", "pdf"), "rich, markdown, json"),
    (("mistral-7b", "--seq", "0"), "--seq '0'"),
    (("mistral-7", ), "did you mean mistral-7b"),
])
def test_errors(args: tuple[str, ...], fragment: str) -> None:
    result = run(*args)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output


def test_reconciliation_names_every_difference_of_bert() -> None:
    # BERT-base-cased (BertModel, 108,310,272 in transformers): V = 28,996, H = 768, L = 12,
    # I = 3,072, plain FFN, LayerNorm with bias, 512 learned positions, 2 token types, a pooler.
    doc = json.loads(runner.invoke(app, ["explain", "bert-base-cased", "--json"]).stdout)
    entries = {step["title"]: step["value"] for step in doc["steps"] if step["section"].startswith("Reconciliation")}
    assert entries == {
        "textbook estimate": 2 * 28996 * 768 + 12 * 4 * 768**2 + 12 * 2 * 768 * 3072,
        "no LM head (encoder)": -28996 * 768,
        "position embeddings (not in the estimate)": 512 * 768,
        "token-type embeddings (not in the estimate)": 2 * 768,
        "norms (not in the estimate)": 2 * 768 + 12 * 2 * 2 * 768,  # embedding norm, 2 per layer
        "biases (not in the estimate)": 12 * (4 * 768 + 3072 + 768),  # Q, K, V, O; FFN up and down
        "pooler (not in the estimate)": 768 * 768 + 768,
    }
    assert sum(entries.values()) == doc["total"] == 108_310_272


def test_rwkv_estimate_topic_says_there_is_none() -> None:
    doc = json.loads(runner.invoke(app, ["explain", "rwkv-4-169m", "--topic", "estimate", "--json"]).stdout)
    assert [section["title"] for section in doc["sections"]][-1] == "No textbook estimate"


def test_encoder_cache_topic() -> None:
    doc = json.loads(runner.invoke(app, ["explain", "bert-base-cased", "--topic", "kvcache", "--json"]).stdout)
    assert doc["total"] == 0 and doc["sections"][0]["title"] == "No KV cache"
    kv = json.loads(runner.invoke(app, ["kvcache", "bert-base-cased", "--json"]).stdout)
    assert kv["total_bytes"] == 0 and kv["saving_factor"] is None and kv["kind"] == "none"
