"""The public Python API: stable names, a cheap `import llmcalc`, and the numbers the CLI prints.

The CLI calls these same functions, so agreement with its JSON guards the wiring (what each
command passes on), not the arithmetic; the arithmetic's anchors are the independent figures
below and the other test files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
from typer.testing import CliRunner

import llmcalc
from llmcalc.cli import app

runner = CliRunner()


def cli_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_import_llmcalc_stays_cheap() -> None:
    """`import llmcalc` loads none of the CLI's dependencies nor the core until a name is used."""
    code = ("import sys, llmcalc\n"
            "print(' '.join(sorted(name for name in sys.modules if name.split('.')[0] in "
            "('llmcalc', 'typer', 'rich', 'yaml', 'click'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["llmcalc"]


def test_import_llmcalc_imports_nothing_else() -> None:
    """Not even `typing`: the console script imports the package before its launcher turns the
    cyclic collector off, and importing typing there cost about half a millisecond a run."""
    code = "import sys\nbefore = set(sys.modules)\nimport llmcalc\nprint(' '.join(sorted(set(sys.modules) - before)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert set(loaded) <= {"llmcalc", "__future__"}, loaded


def test_every_public_name_resolves() -> None:
    for name in llmcalc.__all__:
        assert getattr(llmcalc, name) is not None, name
    assert sorted(llmcalc.__all__) == dir(llmcalc)
    with pytest.raises(AttributeError):
        llmcalc.no_such_name  # noqa: B018


def test_count_matches_transformers() -> None:
    # MistralForCausalLM(Mistral-7B-v0.1 config) on the meta device: num_parameters() = 7,241,732,096.
    count = llmcalc.count_params("mistral-7b")
    assert isinstance(count.total, int) and count.total == 7_241_732_096
    assert count.total == cli_json("params", "mistral-7b")["total_params"]


def test_any_model_form() -> None:
    spec = llmcalc.load_model("llama2-7b")
    # LLaMA-2-7B's config.json fields as a mapping: the same model, the same count.
    fields = {"name": "mine", "vocab_size": 32000, "hidden_size": 4096, "num_hidden_layers": 32,
              "num_attention_heads": 32, "intermediate_size": 11008}
    assert llmcalc.count_params(fields).total == llmcalc.count_params(spec).total == 6_738_415_616
    # Flags alone, as `llmcalc params --hidden-size 4096 --layers 32`: LLaMA's rule gives LLaMA-7B's FFN.
    custom = llmcalc.load_model(None, overrides={"hidden_size": 4096, "num_hidden_layers": 32})
    assert custom.stacks[0].layers[0].ffn.intermediate_size == 11008


def test_an_override_of_null_is_a_value() -> None:
    """Mistral-7B v0.2 drops the window: 32 layers × 8 KV heads × 128 × (K and V) × 2 bytes per
    token = 131,072 B, × 32,768 tokens = 4,294,967,296 B (issue 10's figure)."""
    windowless = llmcalc.load_model("mistral-7b", overrides={"sliding_window": None})
    assert llmcalc.kv_cache(windowless, seq="32k", dtype="bf16").total == 4_294_967_296
    assert llmcalc.kv_cache("mistral-7b", seq=32768, dtype="bf16").total == 4096 * 131_072  # the 4,096 window


def test_kv_cache_matches_the_cli() -> None:
    cache = llmcalc.kv_cache("llama2-70b", seq="4k", batch=2, dtype="fp8_e4m3")
    assert cache.total == cli_json("kvcache", "llama2-70b", "--seq", "4k", "--batch", "2",
                                   "--dtype", "fp8_e4m3")["total_bytes"]
    sweep = llmcalc.kv_caches("llama2-70b", seq=[1024, "4k"], batch=[1, 8])
    rows = cli_json("kvcache", "llama2-70b", "--seq", "1024,4k", "--batch", "1,8")["rows"]
    assert [cache.total for cache in sweep] == [row["total_bytes"] for row in rows]


def test_compare_matches_the_cli() -> None:
    comparison = llmcalc.compare_models(["llama2-7b", "llama2-70b"], quant="Q4_K_M")
    document = cli_json("compare", "llama2-7b", "llama2-70b", "--quant", "q4_k_m")
    assert [list(row.cells) for row in comparison.rows] == [row["values"] for row in document["rows"]]


def test_quantize_matches_the_cli() -> None:
    size = llmcalc.quantize("llama3.1-8b", "Q4_K_M")
    assert size.bytes == cli_json("quant", "llama3.1-8b", "--format", "q4_k_m")["formats"][0]["bytes"]
    every = {result.format.name: result for result in llmcalc.quantize_all("llama3.1-8b")}
    assert every["q4_k_m"].bytes == size.bytes


def test_fit_matches_the_cli() -> None:
    result = llmcalc.fit_model("llama3.1-70b", "h100", gpus=4, seq="8k", gpu_util=0.9)
    document = cli_json("fit", "llama3.1-70b", "--gpu", "h100", "--gpus", "4", "--seq", "8k", "--gpu-util", "0.9")
    assert (result.fits, result.max_seq, result.max_batch, result.kv_capacity_tokens) == (
        document["fits"], document["max_seq"], document["max_batch"], document["kv_capacity_tokens"])
    assert result.most_loaded.total == document["per_gpu"]["total_bytes"]


def test_training_matches_the_cli() -> None:
    result = llmcalc.plan_training("llama3.1-8b", gpus=8, zero=3, seq=8192, tokens="15T", gpu="h100")
    document = cli_json("train", "llama3.1-8b", "--gpus", "8", "--zero", "3", "--seq", "8192", "--tokens", "15T",
                        "--gpu", "h100")
    assert result.most_loaded.total == document["per_gpu"]["total_bytes"]
    assert result.training_flops is not None
    assert (result.flops_per_token, result.training_flops) == (document["flops_per_token"], document["training_flops"])
    lora = llmcalc.plan_training("llama2-7b", lora_rank=16, lora_modules=["q_proj", "v_proj"])
    # peft's LoraConfig(r=16, target_modules=["q_proj", "v_proj"]) on LLaMA-2-7B:
    # print_trainable_parameters() reports 8,388,608 trainable parameters.
    assert lora.trainable_params == 8_388_608


def test_warnings_are_python_warnings_or_go_where_asked() -> None:
    with pytest.warns(llmcalc.ModelWarning, match="exceed"):
        llmcalc.kv_cache("llama2-7b", seq="8k")  # LLaMA-2's context is 4,096
    told: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        llmcalc.kv_cache("llama2-7b", seq="8k", on_warning=told.append)
    assert told == ["8,192 tokens exceed llama2-7b's context length of 4,096"]


@pytest.mark.parametrize("call", [
    lambda: llmcalc.kv_cache("llama2-7b", seq="lots"),
    lambda: llmcalc.kv_cache("llama2-7b", seq=[1024, 2048]),  # one size: kv_caches sweeps
    lambda: llmcalc.quantize("llama2-7b", "q5_x"),
    lambda: llmcalc.fit_model("llama2-7b"),
    lambda: llmcalc.plan_training("llama2-7b", zero=7),
    lambda: llmcalc.compare_models(["llama2-7b"]),
])
def test_mistakes_raise_the_usage_error_the_cli_reports(call) -> None:
    with pytest.raises(llmcalc.UsageError):
        call()


def test_unknown_model() -> None:
    with pytest.raises(llmcalc.UnknownModelError):
        llmcalc.load_model("no-such-model", offline=True)
    with pytest.raises(llmcalc.SpecError):
        llmcalc.load_model({"name": "x", "vocab_size": 10, "hidden_size": 0, "num_hidden_layers": 1})


def test_the_readme_example_runs_as_shown() -> None:
    import doctest
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    example = re.search(r"```pycon\n(.*?)```", section, re.S)
    assert example is not None
    test = doctest.DocTestParser().get_doctest(example.group(1), {}, "README Python API", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 10
