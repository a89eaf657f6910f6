"""KV-cache bytes, pinned for presets of every attention kind.

Where the expectations come from: each is written out from the model's published
config (heads, KV heads, head_dim, layers, window) with the cache layout that
`transformers` actually returns — checked for every layout (MHA, GQA, MQA, sliding
window, local/global hybrid, MLA latent, encoder-decoder self + cross, RWKV state) by
tools/xcheck_kvcache.py, which sums `nbytes` over the cache of a forward pass of tiny
random models. Sliding-window layers count the whole window (transformers keeps one
token fewer between steps; see the tool).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.errors import UsageError
from llmcalc.kvcache import kv_cache
from llmcalc.memory import DTYPES, parse_dtype
from llmcalc.presets import resolve
from llmcalc.scenario import parse_sizes, point

def cache_at(spec, tokens, batch, dtype, **options):  # type: ignore[no-untyped-def]
    """The cache at one point, resolved as the commands resolve it."""
    return kv_cache(spec, point(spec, tokens, batch, dtype, **options))


FP16, BF16 = DTYPES["fp16"], DTYPES["bf16"]
OPENELM_KV_HEADS = [3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5]  # apple/OpenELM-270M num_kv_heads


@pytest.mark.parametrize("model, tokens, batch, dtype, expected", [
    # MHA: Llama-2-7B, 32 layers × 32 KV heads × 128: the published 0.5 MiB per token.
    ("llama2-7b", 4096, 1, "fp16", 2 * 32 * 32 * 128 * 4096 * 2),
    # GQA: Llama-2-70B, 80 layers × 8 KV heads × 128.
    ("llama2-70b", 4096, 1, "bf16", 2 * 80 * 8 * 128 * 4096 * 2),
    # MQA: Falcon-7B, 32 layers × 1 KV head × 64.
    ("falcon-7b", 2048, 4, "fp16", 2 * 32 * 1 * 64 * 2048 * 4 * 2),
    # MQA: Gemma-2B, 18 layers × 1 KV head × 256.
    ("gemma-2b", 8192, 1, "fp16", 2 * 18 * 1 * 256 * 8192 * 2),
    # ChatGLM2's 2 KV groups (multi_query_group_num 2): 28 layers × 2 × 128.
    ("chatglm2-6b", 32768, 1, "fp16", 2 * 28 * 2 * 128 * 32768 * 2),
    # Sliding window: Mistral-7B's 4096-token window caps all 32 layers at 32k context.
    ("mistral-7b", 32768, 1, "fp16", 2 * 32 * 8 * 128 * 4096 * 2),
    # Hybrid: Gemma-2-9B, 21 local layers (window 4096) and 21 global, 8 KV heads × 256.
    ("gemma2-9b", 8192, 1, "bf16", 21 * 2 * 8 * 256 * 4096 * 2 + 21 * 2 * 8 * 256 * 8192 * 2),
    # MLA: DeepSeek-V2-Lite caches (d_c + d_h^R) = 512 + 64 values per token and layer (DeepSeek-V2 paper).
    ("deepseek-v2-lite", 32768, 1, "fp16", 27 * (512 + 64) * 32768 * 2),
    ("deepseek-v3", 4096, 2, "bf16", 61 * (512 + 64) * 4096 * 2 * 2),
    # Per-layer KV heads: OpenELM-270M, head_dim 64.
    ("openelm-270m", 2048, 1, "fp16", sum(2 * kv * 64 * 2048 * 2 for kv in OPENELM_KV_HEADS)),
    # Packed formats: Qwen2.5-3B (36 layers × 2 KV heads × 128) in q8_0, 34 bytes per 32 values.
    ("qwen2.5-3b", 4096, 1, "q8_0", 2 * 36 * 4096 * (2 * 128 // 32) * 34),
    ("llama2-7b", 4096, 1, "q4_0", 2 * 32 * 4096 * (32 * 128 // 32) * 18),
    ("llama2-7b", 4096, 1, "int4", 2 * 32 * 32 * 128 * 4096 // 2),
    ("llama2-7b", 4096, 1, "fp8", 2 * 32 * 32 * 128 * 4096),
    ("llama2-7b", 4096, 1, "fp32", 2 * 32 * 32 * 128 * 4096 * 4),
    # RWKV: no KV cache; 12 layers × (2 × 768 in the model dtype + 3 × 768 float32) per sequence.
    ("rwkv-4-169m", 1024, 4, "fp16", 4 * 12 * (2 * 768 * 2 + 3 * 768 * 4)),
])
def test_cache_bytes(model: str, tokens: int, batch: int, dtype: str, expected: int) -> None:
    assert cache_at(resolve(model), tokens, batch, parse_dtype(dtype)).total == expected


def test_encoder_decoder_self_and_cross() -> None:
    # T5-base decoder: 12 layers × 12 heads × 64; self over 128 decoder tokens, cross over 512 encoder tokens.
    cache = cache_at(resolve("t5-base"), 128, 1, FP16, encoder_tokens=512)
    assert cache.total == 2 * 12 * 768 * (128 + 512) * 2
    assert cache.bytes_per_token == 2 * 12 * 768 * 2  # self-attention only; cross is fixed by the encoder


def test_bytes_per_token() -> None:
    assert cache_at(resolve("llama2-7b"), 10, 1, FP16).bytes_per_token == 512 * 1024
    assert cache_at(resolve("deepseek-v2-lite"), 10, 1, FP16).bytes_per_token == 27 * 576 * 2
    assert cache_at(resolve("rwkv-4-169m"), 10, 1, FP16).bytes_per_token == 0  # the state does not grow


def test_window_and_no_window() -> None:
    capped = cache_at(resolve("mistral-7b"), 32768, 1, FP16)
    uncapped = cache_at(resolve("mistral-7b"), 32768, 1, FP16, windows=False)
    assert capped.windowed_layers == 32 and uncapped.windowed_layers == 0
    assert uncapped.total == capped.uncapped.total == 2 * 32 * 8 * 128 * 32768 * 2
    assert cache_at(resolve("mistral-7b"), 4096, 1, FP16).windowed_layers == 0  # window not reached


@pytest.mark.parametrize("model, sharing, factor", [
    ("llama2-7b", "MHA", 1), ("mistral-7b", "GQA", 4), ("llama2-70b", "GQA", 8),
    ("falcon-7b", "MQA", 71), ("chatglm2-6b", "GQA", 16), ("deepseek-v2-lite", "MLA", None),
])
def test_mha_equivalent_and_saving(model: str, sharing: str, factor: int | None) -> None:
    spec = resolve(model)
    cache = cache_at(spec, 1000, 1, FP16)
    assert spec.attention_layout == sharing
    if factor is not None:
        assert cache.mha_equivalent.total == factor * cache.total
    else:
        # MLA without compression: K = 16 heads × (128 + 64), V = 16 × 128 per token and layer.
        assert cache.mha_equivalent.total == 27 * 16 * (192 + 128) * 1000 * 2


def test_encoder_only_has_no_cache() -> None:
    cache = cache_at(resolve("bert-base-cased"), 512, 1, FP16)
    assert cache.kind == "none" and cache.total == 0


def test_recompute_peak_is_one_layer() -> None:
    cache = cache_at(resolve("llama2-7b"), 4096, 1, FP16)
    assert cache.recompute_peak == cache.total // 32


# --- properties ---------------------------------------------------------------------------

MODELS = ["llama2-7b", "mistral-7b", "gemma2-9b", "falcon-7b", "deepseek-v2-lite", "openelm-270m", "t5-base"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.integers(1, 20000), st.integers(1, 64), st.sampled_from(sorted(DTYPES)))
def test_linear_in_batch_and_never_above_mha(model: str, tokens: int, batch: int, dtype: str) -> None:
    spec, kind = resolve(model), DTYPES[dtype]
    one = cache_at(spec, tokens, 1, kind)
    many = cache_at(spec, tokens, batch, kind)
    assert many.total == batch * one.total
    assert one.total <= one.mha_equivalent.total
    assert one.total <= one.uncapped.total


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.integers(1, 2048), st.integers(1, 2048))
def test_linear_in_tokens_up_to_the_window(model: str, a: int, b: int) -> None:
    # All windows here are at least 4096 tokens, so up to a + b = 4096 the cache is linear in tokens.
    spec = resolve(model)
    per_token = cache_at(spec, 1, 1, FP16, encoder_tokens=0).total
    assert cache_at(spec, a + b, 1, FP16, encoder_tokens=0).total == (a + b) * per_token


def test_window_stops_the_growth() -> None:
    spec = resolve("mistral-7b")
    assert cache_at(spec, 5000, 1, FP16).total == cache_at(spec, 100000, 1, FP16).total


# --- parsing -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("4096", [4096]), ("4k", [4096]), ("32K", [32768]),
                                            ("1m", [1048576]), ("1k, 4k,128k", [1024, 4096, 131072])])
def test_parse_sizes(text: str, expected: list[int]) -> None:
    assert list(parse_sizes("--seq", text)) == expected


@pytest.mark.parametrize("text", ["0", "-1", "abc", "4.5k", "", "4kk", "1,,2"])
def test_parse_sizes_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="4096, 4k, 32K, 1m"):
        parse_sizes("--seq", text)


@pytest.mark.parametrize("spelling, name", [("float16", "fp16"), ("half", "fp16"), ("f16", "fp16"),
                                            ("bfloat16", "bf16"), ("FP8", "fp8_e4m3"), ("e5m2", "fp8_e5m2"),
                                            ("q8_0", "q8_0"), ("float32", "fp32")])
def test_dtype_spellings(spelling: str, name: str) -> None:
    assert parse_dtype(spelling).name == name


def test_unknown_dtype_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError, match="fp16, bf16.*q4_0"):
        parse_dtype("fp12")


# --- the command ---------------------------------------------------------------------------

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["kvcache", *args], env={"COLUMNS": "140", "NO_COLOR": "1"})


def test_table_output() -> None:
    result = run("mistral-7b", "--seq", "4096", "--batch", "1", "--dtype", "fp16")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for fragment in ("536,870,912", "per token (all layers, one sequence): 131,072 B", "×4.00 this cache",
                     "2,147,483,648", "T × B × n_kv × d × b", "0.54 GB", "0.50 GiB",
                     "weights at bf16 (torch_dtype): 14,483,464,192 B + KV cache 536,870,912 B = 15,020,335,104 B"):
        assert fragment in out, fragment


def test_window_is_reported() -> None:
    out = run("mistral-7b", "--seq", "32k").stdout
    assert "32 of 32 layers keep only the last 4,096 tokens" in out and "4,294,967,296" in out
    assert "4,294,967,296" in run("mistral-7b", "--seq", "32k", "--no-window").stdout


def test_default_seq_is_the_context_length() -> None:
    doc = json.loads(run("llama2-7b", "--json").stdout)
    assert doc["seq_len"] == 4096


def test_json_contract() -> None:
    result = run("deepseek-v2-lite", "--seq", "32k", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("model", "seq_len", "batch", "dtype", "bytes_per_token", "total_bytes", "per_layer"):
        assert key in doc
    assert doc["total_bytes"] == 27 * 576 * 32768 * 2 and doc["kind"] == "latent"
    assert sum(layer["bytes"] for layer in doc["per_layer"]) == doc["total_bytes"]
    assert doc["weights"]["bytes"] + doc["total_bytes"] == doc["total_with_weights_bytes"]


def test_sweep_json_and_table() -> None:
    doc = json.loads(run("llama2-70b", "--seq", "1k,4k", "--batch", "1,2", "--dtype", "bf16", "--json").stdout)
    assert doc["model"] == "llama2-70b" and len(doc["rows"]) == 4
    assert [(row["seq_len"], row["batch"]) for row in doc["rows"]] == [(1024, 1), (1024, 2), (4096, 1), (4096, 2)]
    assert doc["rows"][3]["total_bytes"] == 2 * 80 * 8 * 128 * 4096 * 2 * 2
    out = run("llama2-70b", "--seq", "1k,4k,32k,128k", "--dtype", "bf16").stdout
    assert "42,949,672,960" in out and "█" * 24 in out


def test_weights_dtype() -> None:
    doc = json.loads(run("mistral-7b", "--seq", "4k", "--weights-dtype", "int4", "--json").stdout)
    assert doc["weights"] == {"dtype": "int4", "dtype_source": "--weights-dtype", "bytes": 7_241_732_096 // 2}


def test_context_warning_does_not_fail() -> None:
    result = run("llama2-7b", "--seq", "8k")
    assert result.exit_code == 0
    assert "warning: 8,192 tokens exceed llama2-7b's context length of 4,096" in result.stderr


def test_encoder_only_exits_zero() -> None:
    result = run("bert-base-cased")
    assert result.exit_code == 0 and "no autoregressive cache" in result.stdout


@pytest.mark.parametrize("args, fragment", [
    (("--seq", "0"), "--seq '0'"), (("--seq", "-5"), "--seq '-5'"), (("--seq", "lots"), "4k"),
    (("--batch", "0"), "--batch '0'"), (("--dtype", "fp12"), "unknown dtype 'fp12'"),
])
def test_usage_errors(args: tuple[str, ...], fragment: str) -> None:
    result = run("mistral-7b", *args)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output


# --- layers that keep a state: the bytes of a tiny transformers model's cache ------------------------
# Each config is a tiny model's, read through llmcalc's config reader; the expected bytes are the
# nbytes summed over the cache transformers 5.23 returns after a forward pass of 20 tokens × 2
# sequences in bfloat16 (tools/xcheck_kvcache.py, READ_CASES). The recurrent states of Mamba,
# Mamba-2 and Gated DeltaNet are float32 there; conv states and MiniMax's state follow the model.
TINY = {"vocab_size": 128, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4,
        "num_attention_heads": 4, "num_key_value_heads": 2}
STATE_CASES = {
    "qwen3_next": ({**TINY, "head_dim": 16, "linear_num_key_heads": 2, "linear_num_value_heads": 4,
                    "linear_key_head_dim": 8, "linear_value_head_dim": 8, "num_experts": 4, "num_experts_per_tok": 2,
                    "moe_intermediate_size": 32, "shared_expert_intermediate_size": 32,
                    "full_attention_interval": 2}, 16_384),
    "mamba": ({"vocab_size": 128, "hidden_size": 64, "state_size": 8, "num_hidden_layers": 3, "conv_kernel": 4},
              30_720),
    "mamba2": ({"vocab_size": 128, "hidden_size": 64, "state_size": 8, "num_hidden_layers": 3, "conv_kernel": 4,
                "num_heads": 16, "head_dim": 8, "n_groups": 2}, 32_256),
    "jamba": ({**TINY, "num_experts": 4, "num_experts_per_tok": 2, "attn_layer_period": 2, "attn_layer_offset": 1,
               "expert_layer_period": 2, "expert_layer_offset": 1, "mamba_d_state": 8, "mamba_expand": 2}, 30_720),
    "falcon_h1": ({**TINY, "mamba_d_ssm": 96, "mamba_n_heads": 12, "mamba_n_groups": 2, "mamba_d_state": 8,
                   "mamba_d_conv": 4}, 53_248),
    "minimax": ({**TINY, "head_dim": 16, "num_local_experts": 4, "num_experts_per_tok": 2,
                 "layer_types": ["linear_attention", "full_attention"] * 2}, 18_432),
}


@pytest.mark.parametrize("model_type", sorted(STATE_CASES))
def test_state_bytes_equal_a_tiny_transformers_models_cache(model_type: str) -> None:
    from llmcalc.hf_config import config_fields
    from llmcalc.schema import build_spec

    config, expected = STATE_CASES[model_type]
    fields, _ = config_fields({"model_type": model_type, **config}, "tiny.json", name="tiny")
    cache = cache_at(build_spec(fields, "tiny.json"), 20, 2, BF16)
    assert cache.total == expected
    assert cache.kind in ("state", "hybrid")
    # Constant in the tokens for the state part: only K and V of attention layers grow.
    longer = cache_at(build_spec(fields, "tiny.json"), 40, 2, BF16)
    assert longer.total - cache.total == 20 * cache.bytes_per_token * 2


def test_a_state_model_has_no_per_token_bytes_and_a_hybrid_names_both() -> None:
    from llmcalc.hf_config import config_fields
    from llmcalc.schema import build_spec

    mamba, _ = config_fields({"model_type": "mamba2", **STATE_CASES["mamba2"][0]}, "tiny.json", name="tiny")
    cache = cache_at(build_spec(mamba, "tiny.json"), 100_000, 1, BF16)
    assert cache.kind == "state" and cache.bytes_per_token == 0
    # 3 layers × (conv state (E + 2GN) × k in bf16 + SSM state heads × head_dim × N in float32)
    assert cache.total == 3 * ((128 + 2 * 2 * 8) * 4 * 2 + 16 * 8 * 8 * 4)
    jamba, _ = config_fields({"model_type": "jamba", **STATE_CASES["jamba"][0]}, "tiny.json", name="tiny")
    assert build_spec(jamba, "tiny.json").cache_kind == "hybrid"
