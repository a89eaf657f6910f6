"""One question, one answer: kvcache, explain and compare resolve tokens, batch and dtypes
through the same Scenario, so they report the same bytes with or without flags."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.memory import DTYPES
from llmcalc.presets import bundled_index, resolve
from llmcalc.scenario import DEFAULT_TOKENS, Scenario

runner = CliRunner()
PRESETS = sorted(bundled_index()["presets"])


def run_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def three_answers(model: str, *options: str) -> tuple[int, int, int]:
    """The cache bytes that kvcache, explain --topic kvcache and compare give for the same options."""
    kvcache = run_json("kvcache", model, *options)["total_bytes"]
    explain = run_json("explain", model, "--topic", "kvcache", *options)["total"]
    rows = run_json("compare", model, model, *[option for option in options if option != "--batch"])["rows"]
    compare = next(row for row in rows if row["name"].startswith("KV cache at"))["values"][0]
    return kvcache, explain, compare


@pytest.mark.parametrize("model", PRESETS)
@pytest.mark.parametrize("seq", ["1000", "4k"])
def test_same_bytes_with_flags(model: str, seq: str) -> None:
    kvcache, explain, compare = three_answers(model, "--seq", seq, "--dtype", "q8_0")
    assert kvcache == explain == compare


@pytest.mark.parametrize("model", PRESETS)
def test_same_bytes_with_defaults(model: str) -> None:
    kvcache, explain, compare = three_answers(model)
    assert kvcache == explain == compare


@pytest.mark.parametrize("command", [
    ["kvcache", "t5-base", "--seq", "1024"],
    ["explain", "t5-base", "--topic", "kvcache", "--seq", "1024"],
    ["compare", "t5-base", "gpt2", "--seq", "1024"],
])
def test_every_command_warns_past_the_context_length(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 0
    assert "warning: 1,024 tokens exceed t5-base's context length of 512" in result.stderr


def test_defaults_follow_the_documented_rule() -> None:
    t5 = resolve("t5-base")  # torch_dtype float32, 512 tokens of context
    [point], warnings = Scenario().resolve(t5)
    assert (point.tokens, point.batch, point.encoder_tokens) == (512, 1, 512) and warnings == []
    assert (point.cache_dtype.dtype.name, point.cache_dtype.source) == ("fp32", "torch_dtype")
    assert (point.weight_dtype.dtype.name, point.weight_dtype.source) == ("fp32", "torch_dtype")
    rwkv = resolve("rwkv-4-169m")  # records no torch_dtype
    [point], _ = Scenario().resolve(rwkv)
    assert (point.cache_dtype.dtype.name, point.cache_dtype.source) == ("bf16", "default")
    flagged = Scenario(cache_dtype=DTYPES["q4_0"], weight_dtype=DTYPES["int4"])
    [point], _ = flagged.resolve(t5)
    assert (str(point.cache_dtype), str(point.weight_dtype)) == ("q4_0 (--dtype)", "int4 (--weights-dtype)")


def test_quantization_sets_the_weights_not_the_cache() -> None:
    from llmcalc.schema import build_spec

    spec = build_spec({"name": "q", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
                       "num_attention_heads": 2, "torch_dtype": "bfloat16", "quantization": "int4"}, "test")
    [point], _ = Scenario().resolve(spec)
    assert str(point.weight_dtype) == "int4 (quantization)" and str(point.cache_dtype) == "bf16 (torch_dtype)"


def test_a_model_without_a_context_length_gets_the_default_tokens() -> None:
    from llmcalc.schema import build_spec

    spec = build_spec({"name": "x", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
                       "num_attention_heads": 2}, "test")
    [point], warnings = Scenario().resolve(spec)
    assert point.tokens == DEFAULT_TOKENS and warnings == []


def test_compare_uses_the_shortest_context_for_all() -> None:
    points, warnings = Scenario().resolve_together([resolve("mistral-7b"), resolve("llama2-7b")])
    assert [point.tokens for point in points] == [4096, 4096] and warnings == []


def test_sweeps_are_every_combination() -> None:
    scenario = Scenario.parse(seq="1k,2k", batch="1,4", sweep=True)
    points, _ = scenario.resolve(resolve("gpt2"))
    assert [(p.tokens, p.batch) for p in points] == [(1024, 1), (1024, 4), (2048, 1), (2048, 4)]


@pytest.mark.parametrize("options", [{"seq": "1k,2k"}, {"batch": "1,2"}, {"encoder_seq": "1,2"}])
def test_one_size_where_a_sweep_is_not_possible(options: dict[str, str]) -> None:
    from llmcalc.errors import UsageError

    with pytest.raises(UsageError, match="one size"):
        Scenario.parse(**options)


@pytest.mark.parametrize("text", ["²", "1" * 16, "2000000000000", "0", "-1", "1e400"])
def test_sizes_that_are_refused(text: str) -> None:
    from llmcalc.errors import UsageError

    with pytest.raises(UsageError):
        Scenario.parse(seq=text)
