"""The secondary outputs: each number and listing that a one-line change could once alter
without any test noticing. Expected values are worked out here from the architecture
(head counts, widths, layers) and from published totals, not read off llmcalc."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.hf_config import config_fields

runner = CliRunner()

# LLaMA-2-7B: 32 layers, H = 4,096, 32 heads of 128, V = 32,000; total 6,738,415,616
# (transformers LlamaForCausalLM on the meta device).
LLAMA2_7B_TOTAL = 6_738_415_616
LLAMA2_EMBEDDING = 32_000 * 4_096


def run_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_explain_gqa_values() -> None:
    steps = run_json("explain", "llama2-7b", "--topic", "gqa", "--seq", "4096", "--dtype", "fp16")["steps"]
    rows = {step["title"]: step for step in steps if step["section"] == "MHA, GQA and MQA"}
    h, d = 4096, 128
    assert rows["MHA ← this model"]["value"] == h * h + 2 * h * 32 * d
    assert rows["GQA (8 KV heads)"]["value"] == h * h + 2 * h * 8 * d
    assert rows["MQA"]["value"] == h * h + 2 * h * 1 * d
    # K and V × 32 layers × 4,096 tokens × n_kv heads × 128 × 2 bytes
    for name, kv_heads in (("MHA ← this model", 32), ("GQA (8 KV heads)", 8), ("MQA", 1)):
        assert f"{2 * 32 * 4096 * kv_heads * d * 2:,} B" in rows[name]["note"]


def test_explain_gqa_on_heads_no_small_group_divides() -> None:
    # Falcon-7B has 71 query heads (a prime): no GQA group from 2 to 8; MHA and MQA remain.
    steps = run_json("explain", "falcon-7b", "--topic", "gqa")["steps"]
    titles = [step["title"] for step in steps if step["section"] == "MHA, GQA and MQA"]
    assert titles == ["MHA", "MQA ← this model"]


def test_explain_gqa_on_layers_with_different_heads() -> None:
    result = runner.invoke(app, ["explain", "openelm-270m", "--topic", "gqa"])
    assert result.exit_code == 0 and "different numbers of heads" in result.stdout


def test_weight_flops_with_and_without_the_cache() -> None:
    doc = run_json("kvcache", "llama2-7b", "--seq", "4096")
    layer_params = LLAMA2_7B_TOTAL - 2 * LLAMA2_EMBEDDING  # neither the embedding nor the head
    assert doc["weight_flops_per_token_with_cache"] == 2 * layer_params
    assert doc["weight_flops_per_token_without_cache"] == 2 * layer_params * 4096


def test_active_layer_params_leave_out_idle_experts() -> None:
    # Mixtral-8x7B: total 46,702,792,704 (transformers); each of 32 layers leaves 6 of 8 experts
    # (3 × 4,096 × 14,336 each) idle per token.
    active = 46_702_792_704 - 32 * 6 * 3 * 4096 * 14336
    assert run_json("params", "mixtral-8x7b")["active_params"] == active
    doc = run_json("kvcache", "mixtral-8x7b", "--seq", "4096")
    assert doc["weight_flops_per_token_with_cache"] == 2 * (active - 2 * 32_000 * 4096)


@pytest.mark.parametrize("quantization, expected", [
    ({"quant_method": "fp8", "fmt": "e4m3"}, "fp8_e4m3"),
    ({"quant_method": "gptq", "bits": 4}, "int4"),
    ({"quant_method": "gptq", "bits": 8}, "int8"),
    ({"quant_method": "awq", "w_bit": 4}, "int4"),
    ({"quant_method": "bitsandbytes", "load_in_4bit": True}, "int4"),
    ({"quant_method": "bitsandbytes", "load_in_8bit": True}, "int8"),
    ({"quant_method": "mystery"}, ""),
])
def test_config_quantization_mapping(quantization: dict, expected: str, tmp_path: Path) -> None:
    config = {"model_type": "llama", "vocab_size": 32, "hidden_size": 16, "intermediate_size": 24,
              "num_hidden_layers": 2, "num_attention_heads": 4, "torch_dtype": "bfloat16",
              "quantization_config": quantization}
    fields, _ = config_fields(config, "config.json")
    assert fields["quantization"] == expected
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    weights = run_json("kvcache", str(path), "--seq", "16")["weights"]
    assert (weights["dtype"], weights["dtype_source"]) == ((expected, "quantization") if expected
                                                           else ("bf16", "torch_dtype"))


def test_cached_tokens_and_the_window() -> None:
    # Mistral-7B: every layer's window of 4,096 caps a 32,768-token sequence.
    [group] = run_json("kvcache", "mistral-7b", "--seq", "32k")["per_layer"]
    assert group["cached_tokens"] == 4096 and group["count"] == 32


def test_non_contiguous_layer_spans() -> None:
    # Gemma-2-9B: 42 layers alternate local (window 4,096) and global, starting local.
    doc = run_json("kvcache", "gemma2-9b", "--seq", "8192")
    spans = {group["layers"]: group["cached_tokens"] for group in doc["per_layer"]}
    assert spans == {",".join(str(i) for i in range(0, 42, 2)): 4096,
                     ",".join(str(i) for i in range(1, 42, 2)): 8192}
    table = runner.invoke(app, ["kvcache", "gemma2-9b", "--seq", "8192"], env={"COLUMNS": "120"}).stdout
    assert "layers 0, 2, …, 40" in table and "layers 1, 3, …, 41" in table


def test_saving_factor_and_recompute_peak() -> None:
    # LLaMA-2-70B: 64 query heads, 8 KV heads: the multi-head cache is 8 times larger.
    doc = run_json("kvcache", "llama2-70b", "--seq", "4096", "--dtype", "fp16")
    assert doc["saving_factor"] == 8.0 and doc["mha_equivalent_bytes"] == 8 * doc["total_bytes"]
    # One layer's K and V: 2 × 4,096 tokens × 8 heads × 128 × 2 bytes.
    assert doc["without_cache_peak_bytes"] == 2 * 4096 * 8 * 128 * 2
    # DeepSeek-V2-Lite: per head K (128 + 64) and V (128) for 16 heads, against one 512 + 64 latent.
    mla = run_json("kvcache", "deepseek-v2-lite", "--seq", "1024")
    assert mla["saving_factor"] == round(16 * (192 + 128) / (512 + 64), 4)
    # Gemma-2-9B at 8,192 tokens: the global layers' K and V are the largest.
    assert run_json("kvcache", "gemma2-9b", "--seq", "8192")["without_cache_peak_bytes"] == 2 * 8192 * 8 * 256 * 2


def test_share_column() -> None:
    # Mistral-7B: one q_proj is 4,096 × 4,096, × 32 layers, of 7,241,732,096 in all.
    table = runner.invoke(app, ["params", "mistral-7b"], env={"COLUMNS": "120"}).stdout
    q_proj = next(line for line in table.splitlines() if "attention.q_proj" in line)
    assert q_proj.rstrip().endswith(f"{100 * 32 * 4096 * 4096 / 7_241_732_096:.1f} %")
    embedding = next(line for line in table.splitlines() if "embedding.tokens" in line)
    assert embedding.rstrip().endswith(f"{100 * 32_000 * 4096 / 7_241_732_096:.1f} %")


def test_compare_row_order() -> None:
    out = runner.invoke(app, ["compare", "mistral-7b", "mixtral-8x7b", "--format", "csv"]).stdout
    rows = [row[1] for row in csv.reader(io.StringIO(out))][1:]
    # Architecture facts first, then components in model order: a component only Mixtral has goes
    # right after the one it follows in Mixtral, so its experts stand beside Mistral's FFN.
    assert rows[:3] == ["vocabulary", "hidden size", "layers"]
    components = rows[rows.index("embedding.tokens"):rows.index("total parameters")]
    assert components == [
        "embedding.tokens", "decoder.attention.q_proj", "decoder.attention.k_proj", "decoder.attention.v_proj",
        "decoder.attention.o_proj", "decoder.moe.router", "decoder.moe.experts.gate_proj",
        "decoder.moe.experts.up_proj", "decoder.moe.experts.down_proj", "decoder.ffn.gate_proj",
        "decoder.ffn.up_proj", "decoder.ffn.down_proj", "decoder.norms", "decoder.final_norm", "lm_head.weight"]
    assert rows[rows.index("total parameters"):] == [
        "total parameters", "active parameters per token", "weights dtype", "weights", "KV cache dtype",
        "KV cache per token", "KV cache at 32,768 tokens"]


def test_verify_listing_is_cut_after_five(tmp_path: Path) -> None:
    # pytest puts tests/ on the import path (rootdir-relative 'prepend' mode).
    from test_inputs import TINY, model_folder, tiny_llama_tensors

    tensors = tiny_llama_tensors()
    for index in range(7):
        tensors[f"model.layers.0.mlp.extra{index}.weight_scale_inv"] = ("F32", [1])
    result = runner.invoke(app, ["verify", str(model_folder(tmp_path, TINY, tensors))], env={"COLUMNS": "120"})
    lines = [line for line in result.stdout.splitlines() if "weight_scale_inv" in line]
    assert len(lines) == 5 and "… and 2 more" in result.stdout
