"""config.json keys set to null or spelled another way: never a class default unnoticed.

transformers hands an explicit null to the config class as None, and what None means is the
class's or the modelling code's business (each reader's `nulls` in llmcalc.hf_config); a null nobody declared is
an error. A key transformers reads under several names (attribute_map) is read under each of
them, and two names that disagree are an error (each reader's `spellings`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.hf_config import load_config
from llmcalc.params import count_params
from llmcalc.spec import Attention

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "configs"
runner = CliRunner()


def write(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def fixture(name: str, **changes: Any) -> dict[str, Any]:
    return {**json.loads((FIXTURES / name).read_text()), **changes}


def kv_bytes(path: Path, seq: str) -> int:
    result = runner.invoke(app, ["kvcache", str(path), "--seq", seq, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["total_bytes"]


def assert_error(path: Path, *fragments: str) -> None:
    result = runner.invoke(app, ["params", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    for fragment in (str(path), *fragments):
        assert fragment in result.stderr, (fragment, result.stderr)


# --- sliding_window: null is no window; absent is the class's 4,096 ------------------------

def test_mistral_null_window_caches_every_token() -> None:
    # Mistral-7B v0.2 and v0.3 both ship "sliding_window": null (the fixture is v0.3; v0.2
    # differs only in vocab_size, which the cache does not see). transformers then builds a
    # plain causal mask (modeling_mistral.py: `create_causal_mask if sliding_window is None`):
    # every one of the 32,768 tokens is kept. 32 layers × K and V × 32,768 tokens × 8 KV heads
    # × 128 × 2 bytes (bf16). The class default of 4,096 would give 8× less.
    expected = 32 * 2 * 32_768 * 8 * 128 * 2
    assert kv_bytes(FIXTURES / "mistral_7b_v03.json", "32k") == expected == 4_294_967_296


def test_mistral_without_the_key_keeps_the_4096_window(tmp_path: Path) -> None:
    # MistralConfig's default (`sliding_window: int | None = 4096`): the window caps the cache.
    config = fixture("mistral_7b_v03.json")
    del config["sliding_window"]
    assert kv_bytes(write(tmp_path, config), "32k") == 32 * 2 * 4_096 * 8 * 128 * 2


@pytest.mark.parametrize("window, expected", [
    # Qwen2Config: the window is 4,096 unless given (configuration_qwen2.py), used with
    # use_sliding_window in layers from max_window_layers on; null means no window there.
    ({}, [None] * 20 + [4096] * 4),
    ({"sliding_window": None}, [None] * 24),
])
def test_qwen2_window_absent_or_null(tmp_path: Path, window: dict[str, Any], expected: list[int | None]) -> None:
    config = fixture("qwen2_0_5b.json", use_sliding_window=True, max_window_layers=20)
    del config["sliding_window"]
    spec, _ = load_config(write(tmp_path, {**config, **window}))
    windows = []
    for layer in spec.stacks[0].layers:
        assert isinstance(layer.mixer, Attention)
        windows.append(layer.mixer.sliding_window)
    assert windows == expected


# --- declared nulls count as transformers counts them --------------------------------------

@pytest.mark.parametrize("name, key, expected", [
    # Each: transformers 5.23.0 AutoModelForCausalLM built on the meta device from the
    # fixture with that one key set to null, model.num_parameters().
    ("llama3_2_1b.json", "num_key_value_heads", 1_336_477_696),  # None → num_attention_heads
    ("falcon_7b_instruct.json", "multi_query", 8_224_576_384),  # falsy: one K/V per head
    ("falcon_7b_instruct.json", "parallel_attn", 6_922_011_520),  # falsy: two LayerNorms a layer
])
def test_declared_null_counts_as_transformers(tmp_path: Path, name: str, key: str, expected: int) -> None:
    spec, _ = load_config(write(tmp_path, fixture(name, **{key: None})))
    assert count_params(spec).total == expected


# --- an undeclared null is an error naming the key -----------------------------------------

@pytest.mark.parametrize("name, key", [
    ("llama3_2_1b.json", "intermediate_size"),  # LlamaConfig: `int`, its validation rejects None
    ("mistral_7b_v03.json", "num_key_value_heads"),  # MistralConfig types it `int` (unlike Llama)
    ("qwen2_0_5b.json", "head_dim"),  # Qwen2Attention: getattr(config, "head_dim", ...) is None
    ("gemma2_2b.json", "sliding_window"),  # sliding layers without a window: transformers raises
])
def test_undeclared_null_is_an_error(tmp_path: Path, name: str, key: str) -> None:
    assert_error(write(tmp_path, fixture(name, **{key: None})), f"{key}: is null")


# --- spellings -----------------------------------------------------------------------------

# Qwen3-MoE written by transformers 5 (Qwen3MoeConfig.attribute_map: num_experts →
# num_local_experts): 160 experts. transformers 5.23.0 Qwen3MoeForCausalLM from this dict on
# the meta device: num_parameters() = 2,139,520 (= embeddings and head 2 × 1,000 × 64, final
# norm 64, and per layer attention 12,320, norms 128, router 64 × 160, experts 160 × 3 × 64 × 32).
QWEN3_MOE = {"model_type": "qwen3_moe", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
             "moe_intermediate_size": 32, "num_experts_per_tok": 8, "tie_word_embeddings": False}


@pytest.mark.parametrize("experts", [{"num_local_experts": 160}, {"num_experts": 160},
                                     {"num_experts": 160, "num_local_experts": 160}])
def test_qwen3_moe_expert_count_under_either_spelling(tmp_path: Path, experts: dict[str, int]) -> None:
    spec, _ = load_config(write(tmp_path, {**QWEN3_MOE, **experts}))
    assert count_params(spec).total == 2_139_520


@pytest.mark.parametrize("config, keys", [
    ({**QWEN3_MOE, "num_experts": 128, "num_local_experts": 160}, ("num_experts", "num_local_experts")),
    (fixture("gpt2.json", hidden_size=1024), ("n_embd", "hidden_size")),  # GPT2Config.attribute_map
])
def test_disagreeing_spellings_are_an_error(tmp_path: Path, config: dict[str, Any], keys: tuple[str, ...]) -> None:
    assert_error(write(tmp_path, config), *keys, "disagree")


# --- model types of 2024–2026: absent, null and other spellings --------------------------------------
# Every expected count below is transformers 5.23.0's num_parameters() for the very same dict,
# built with AutoModelForCausalLM.from_config on the meta device (pad_token_id 0 where the class's
# default pad id would not fit the tiny vocabulary; it shapes nothing).
def _tiny(model_type: str, **keys: Any) -> dict[str, Any]:
    return {"model_type": model_type, "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 8, **keys}


@pytest.mark.parametrize("config, total", [
    # SmolLM3: absent KV heads are the class's 4; a null is "as many as the query heads".
    (_tiny("smollm3", intermediate_size=96, pad_token_id=0), 68_160),
    (_tiny("smollm3", intermediate_size=96, pad_token_id=0, num_key_value_heads=None), 76_352),
    # Seed-OSS and ERNIE 4.5: an absent head_dim is 128 whatever H / heads; a null is H / heads.
    (_tiny("seed_oss", intermediate_size=96, num_key_value_heads=2), 380_736),
    (_tiny("seed_oss", intermediate_size=96, num_key_value_heads=2, head_dim=None), 70_656),
    (_tiny("ernie4_5", intermediate_size=96, num_key_value_heads=2), 371_264),
    (_tiny("ernie4_5", intermediate_size=96, num_key_value_heads=2, head_dim=None), 64_064),
    # GLM-4: absent KV heads are 2, not the query heads.
    (_tiny("glm4", intermediate_size=96, head_dim=8, pad_token_id=0), 70_912),
    # Llama 4: moe_layers [] is no MoE layer at all; no_rope_layers [] is the default schedule.
    (_tiny("llama4_text", num_hidden_layers=4, intermediate_size=32, intermediate_size_mlp=96,
           num_key_value_heads=2, head_dim=8, num_local_experts=4, moe_layers=[]), 128_064),
    (_tiny("llama4_text", num_hidden_layers=4, intermediate_size=32, intermediate_size_mlp=96,
           num_key_value_heads=2, head_dim=8, num_local_experts=4, no_rope_layers=[],
           interleave_moe_layer_step=2), 153_152),
    # Falcon-Mamba: intermediate_size wins over expand × H (falcon-mamba-7b: expand 16, width 8192);
    # Mamba-2 reads expand × H and ignores intermediate_size.
    ({"model_type": "falcon_mamba", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "state_size": 8,
      "expand": 16, "intermediate_size": 128}, 65_728),
    ({"model_type": "mamba2", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "state_size": 8,
      "num_heads": 16, "head_dim": 8, "n_groups": 2, "intermediate_size": 999}, 70_240),
    # Cohere2: a null window leaves every layer attending fully (no parameters change).
    (_tiny("cohere2", num_hidden_layers=4, intermediate_size=96, num_key_value_heads=2, sliding_window=None),
     121_408),
])
def test_new_model_types_read_absent_and_null_as_transformers_does(tmp_path: Path, config: dict[str, Any],
                                                                     total: int) -> None:
    result = runner.invoke(app, ["params", str(write(tmp_path, config)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_params"] == total


def test_cohere2_null_window_caches_every_token(tmp_path: Path) -> None:
    path = write(tmp_path, _tiny("cohere2", num_hidden_layers=4, intermediate_size=96, num_key_value_heads=2,
                                 sliding_window=None))
    assert kv_bytes(path, "10000") == 4 * 2 * 2 * 8 * 10_000 * 2  # 4 layers × K,V × 2 heads × 8 wide, bf16


@pytest.mark.parametrize("config, fragments", [
    # gpt-oss with a null window builds but cannot run (DynamicSlidingWindowLayer(None)): not a default.
    (_tiny("gpt_oss", intermediate_size=32, num_key_value_heads=2, head_dim=8, num_local_experts=4,
           sliding_window=None), ("sliding_window", "null")),
    # Qwen3-Next: a null full_attention_interval fails in the class (int % None).
    (_tiny("qwen3_next", intermediate_size=32, num_key_value_heads=2, full_attention_interval=None),
     ("full_attention_interval", "null")),
    # DBRX's head is never tied (configuration_dbrx.py:158).
    ({"model_type": "dbrx", "vocab_size": 100, "d_model": 64, "n_layers": 2, "n_heads": 8,
      "tie_word_embeddings": True}, ("tie_word_embeddings", "never tied")),
    # Mamba-2 heads × head_dim must be expand × H (configuration_mamba2.py:96-103).
    ({"model_type": "mamba2", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_heads": 16,
      "head_dim": 16}, ("num_heads", "must equal")),
])
def test_new_model_types_refuse_what_transformers_refuses(tmp_path: Path, config: dict[str, Any],
                                                         fragments: tuple[str, ...]) -> None:
    assert_error(write(tmp_path, config), *fragments)
