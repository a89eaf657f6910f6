"""Every validation branch of build_spec names the key and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from llmcalc.errors import SpecError
from llmcalc.schema import build_spec
from llmcalc.spec import Attention, LatentAttention, MixtureOfExperts

BASE: dict[str, Any] = {
    "name": "tiny",
    "vocab_size": 1000,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
}


def build(**changes: Any):
    fields = {**BASE, **changes}
    return build_spec({k: v for k, v in fields.items() if v is not ...}, "test.yaml")


def error(**changes: Any) -> SpecError:
    with pytest.raises(SpecError) as caught:
        build(**changes)
    assert caught.value.source == "test.yaml"
    return caught.value


def test_minimal_spec_defaults() -> None:
    spec = build()
    attention = spec.stacks[0].layers[0].mixer
    assert isinstance(attention, Attention)
    assert (attention.num_kv_heads, attention.head_dim) == (4, 16)
    assert spec.stacks[0].layers[0].ffn.intermediate_size == 4 * 64
    assert spec.embeddings.head == "untied"


@pytest.mark.parametrize("key", ["vocab_size", "hidden_size", "num_hidden_layers", "name"])
def test_missing_required_key(key: str) -> None:
    err = error(**{key: ...})
    assert err.key == key and "required" in err.problem


def test_missing_heads_for_a_transformer() -> None:
    assert error(num_attention_heads=...).key == "num_attention_heads"


def test_unknown_key_suggests_the_right_one() -> None:
    err = error(hiden_size=64)
    assert err.key == "hiden_size" and "hidden_size" in err.problem


@pytest.mark.parametrize("key, value", [
    ("hidden_size", "4096"), ("hidden_size", 4.5), ("hidden_size", True),
    ("tie_word_embeddings", "yes"), ("norm", 3), ("aliases", "x"),
])
def test_wrong_type(key: str, value: Any) -> None:
    err = error(**{key: value})
    assert err.key == key and "must be" in err.problem


@pytest.mark.parametrize("key", ["hidden_size", "vocab_size", "num_hidden_layers", "num_attention_heads",
                                 "intermediate_size", "head_dim"])
@pytest.mark.parametrize("value", [0, -8])
def test_non_positive_size(key: str, value: int) -> None:
    err = error(**{key: value})
    assert err.key == key and "positive" in err.problem


def test_kv_heads_must_divide_heads() -> None:
    err = error(num_key_value_heads=3)
    assert err.key == "num_key_value_heads" and "divide" in err.problem


def test_kv_heads_cannot_exceed_heads() -> None:
    assert error(num_key_value_heads=8).key == "num_key_value_heads"


def test_hidden_not_divisible_by_heads_needs_head_dim() -> None:
    err = error(num_attention_heads=5)
    assert err.key == "head_dim" and "not divisible" in err.problem
    assert build(num_attention_heads=5, head_dim=16).stacks[0].layers[0].mixer.head_dim == 16


@pytest.mark.parametrize("key, value", [("norm", "batchnorm"), ("architecture", "mamba"), ("qk_norm", "x")])
def test_choice_fields(key: str, value: str) -> None:
    err = error(**{key: value})
    assert err.key == key and "one of" in err.problem


def test_per_layer_list_length_must_match_layers() -> None:
    err = error(intermediate_size=[128, 128, 128])
    assert err.key == "intermediate_size" and "3 values for 2 layers" in err.problem


def test_per_layer_list_items_must_be_integers() -> None:
    assert error(num_attention_heads=[4, "4"]).key == "num_attention_heads"


def test_per_layer_lists_build_distinct_layers() -> None:
    spec = build(num_attention_heads=[4, 8], num_key_value_heads=[1, 2], head_dim=16,
                 intermediate_size=[128, 256])
    first, second = spec.stacks[0].layers
    assert (first.mixer.num_heads, second.mixer.num_heads) == (4, 8)
    assert (first.ffn.intermediate_size, second.ffn.intermediate_size) == (128, 256)


def test_moe_needs_top_k_within_experts() -> None:
    assert error(num_experts=4).key == "num_experts_per_tok"
    assert error(num_experts=4, num_experts_per_tok=5).key == "num_experts_per_tok"


def test_moe_synonyms_and_dense_first_layers() -> None:
    spec = build(n_routed_experts=8, num_experts_per_tok=2, first_k_dense_replace=1,
                 moe_intermediate_size=32, n_shared_experts=2)
    dense, sparse = spec.stacks[0].layers
    assert not isinstance(dense.ffn, MixtureOfExperts)
    assert isinstance(sparse.ffn, MixtureOfExperts)
    assert sparse.ffn.shared_expert_intermediate_size == 2 * 32


def test_synonym_and_canonical_key_together_is_an_error() -> None:
    err = error(num_experts=4, num_local_experts=4, num_experts_per_tok=1)
    assert "given twice" in err.problem


def test_mla_needs_its_head_dims() -> None:
    assert error(kv_lora_rank=32).key == "qk_nope_head_dim"
    spec = build(kv_lora_rank=32, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=8)
    assert isinstance(spec.stacks[0].layers[0].mixer, LatentAttention)


def test_layer_types_set_each_window() -> None:
    spec = build(num_hidden_layers=3, sliding_window=8,
                 layer_types=["full_attention", "sliding_attention", "full_attention"])
    assert [layer.mixer.sliding_window for layer in spec.layers] == [None, 8, None]
    pattern = build(num_hidden_layers=4, sliding_window=8, sliding_window_pattern=2)
    assert [layer.mixer.sliding_window for layer in pattern.layers] == [8, None, 8, None]
    assert error(num_hidden_layers=2, sliding_window=8, layer_types=["full_attention"] * 2,
                 sliding_window_pattern=2).key == "layer_types"
    assert error(num_hidden_layers=2, layer_types=["full_attention", "sliding_attention"]).key == "sliding_window"
    assert error(num_hidden_layers=2, layer_types="chunked_attention").key == "attention_chunk_size"
    assert error(num_hidden_layers=2, layer_types=["full_attention"]).key == "layer_types"
    assert error(num_hidden_layers=2, layer_types="dense").key == "layer_types"
    assert [layer.mixer.sliding_window for layer in build(layer_types="full_attention").layers] == [None, None]


@pytest.mark.parametrize("params", [0, -1, True])
def test_reference_count_must_be_positive(params: object) -> None:
    assert error(reference={"params": params, "source": "card"}).key == "reference.params"


def test_reference_must_be_complete() -> None:
    assert error(reference={"params": "7B", "source": "x"}).key == "reference.params"
    assert error(reference={"params": 7}).key == "reference.source"
    assert error(reference={"params": 7, "source": "card", "year": 1}).key == "reference"


def test_encoder_decoder_has_two_stacks_with_cross_attention() -> None:
    spec = build(architecture="encoder-decoder", num_decoder_layers=3)
    encoder, decoder = spec.stacks
    assert (len(encoder.layers), len(decoder.layers)) == (2, 3)
    assert encoder.layers[0].cross_attention is None
    assert decoder.layers[0].cross_attention is not None
    assert decoder.layers[0].norms == encoder.layers[0].norms + 1


def test_relative_bias_only_in_first_layer() -> None:
    layers = build(relative_attention_num_buckets=32).stacks[0].layers
    assert [layer.mixer.relative_attention_buckets for layer in layers] == [32, 0]


def test_rwkv_needs_no_heads() -> None:
    spec = build(architecture="rwkv", num_attention_heads=...)
    first, second = spec.stacks[0].layers
    assert first.norms == second.norms + 1  # the first block's extra LayerNorm (pre_ln)


def test_presets_readme_key_tables_are_generated_from_the_schema() -> None:
    import importlib.util
    from pathlib import Path

    from llmcalc.schema import SCHEMA, SYNONYMS

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("build_preset_index", root / "tools" / "build_preset_index.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (root / "presets" / "README.md").read_text(encoding="utf-8")
    assert tool.readme_with_key_tables(readme) == readme, "stale key tables: run python tools/build_preset_index.py"
    missing = [key for key in [*SCHEMA, *SYNONYMS] if f"`{key}`" not in readme]
    assert not missing, f"presets/README.md does not document {missing}"


@pytest.mark.parametrize("key, value, word", [
    ("hidden_size", 10**200, "largest accepted"), ("num_hidden_layers", 100_001, "largest accepted"),
    ("num_attention_heads", [4, 2**31], "largest accepted"), ("n_shared_experts", -1, "zero or positive"),
])
def test_sizes_are_bounded(key: str, value: Any, word: str) -> None:
    fields = {"num_hidden_layers": 2} if key == "num_attention_heads" else {}
    err = error(**fields, **{key: value})
    assert err.key == key and word in err.problem


def test_largest_sizes_are_accepted() -> None:
    assert build(num_hidden_layers=100_000).num_layers == 100_000


@pytest.mark.parametrize("value, expected", [("bfloat16", "bf16"), ("float32", "fp32"), ("float64", "fp64")])
def test_torch_dtype_is_typed(value: str, expected: str) -> None:
    spec = build(torch_dtype=value)
    assert spec.torch_dtype is not None and spec.torch_dtype.name == expected


def test_unknown_torch_dtype_names_the_key() -> None:
    err = error(torch_dtype="float128")
    assert err.key == "torch_dtype" and "float128" in err.problem


@pytest.mark.parametrize("kv_heads, layout", [(4, "MHA"), (2, "GQA"), (1, "MQA")])
def test_attention_layout(kv_heads: int, layout: str) -> None:
    spec = build(num_key_value_heads=kv_heads)
    assert spec.attention_layout == layout
    assert spec.with_kv_heads(4).attention_layout == "MHA"
    assert spec.with_kv_heads(1).attention_layout == "MQA"


def test_parts_check_their_own_invariants() -> None:
    from llmcalc.errors import InvalidPart

    with pytest.raises(InvalidPart, match="num_key_value_heads"):
        Attention(num_heads=6, num_kv_heads=4, head_dim=8)
    with pytest.raises(InvalidPart, match="num_experts_per_tok"):
        MixtureOfExperts(num_experts=4, num_experts_per_tok=5, expert_intermediate_size=8, gated=True)
    with pytest.raises(InvalidPart, match="kv_lora_rank"):
        LatentAttention(num_heads=2, q_lora_rank=0, kv_lora_rank=0, qk_nope_head_dim=8, qk_rope_head_dim=8,
                        v_head_dim=8)


def test_with_kv_heads_regroups_cross_attention_and_drops_the_reference() -> None:
    from llmcalc.presets import resolve

    t5 = resolve("t5-base")  # 12 heads, self- and cross-attention in the decoder
    mqa = t5.with_kv_heads(1)
    decoder = mqa.stacks[1].layers[0]
    assert decoder.mixer.num_kv_heads == 1 and decoder.cross_attention is not None
    assert decoder.cross_attention.num_kv_heads == 1
    assert t5.reference is not None and mqa.reference is None  # the reference counts the real model
    assert mqa.stacks[0].layers[1] is mqa.stacks[0].layers[2]  # identical layers stay one object (0 has T5's bias)
