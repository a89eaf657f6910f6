"""The Term tree: its invariants, and component shapes checked against module dumps.

Shape expectations come from `print(model)` dumps of the real models (the notes'
architectures.md): e.g. Mistral's `k_proj: Linear(4096, 1024, bias=False)`.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcalc.params import count_params, textbook_estimate
from llmcalc.presets import preset_paths, load_preset_file, resolve
from llmcalc.schema import build_spec
from llmcalc.terms import Term, evaluate, leaf


def component(name: str, model: str) -> tuple[int, int]:
    """(per-instance value, instances) of the leaf whose path ends with `name`."""
    root = count_params(resolve(model)).root
    matches = [(term.value, n) for path, term, n in root.leaves() if path.endswith(name)]
    assert len(matches) == 1, f"{name}: {matches}"
    return matches[0]


def check_tree(term: Term) -> None:
    if term.children:
        assert term.value == sum(child.total for child in term.children)
        for child in term.children:
            check_tree(child)
    elif term.formula:
        assert term.value == evaluate(term.formula, term.bindings)


@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem)
def test_tree_invariants(path) -> None:
    root = count_params(load_preset_file(path)).root
    check_tree(root)
    assert sum(term.value * n for _, term, n in root.leaves()) == root.total


@pytest.mark.parametrize("model, name, expected", [
    # Linear(in, out, bias) from the module dumps: in·out (+ out)
    ("mistral-7b", "layers.0-31.attention.k_proj", (4096 * 1024, 32)),
    ("mistral-7b", "layers.0-31.ffn.down_proj", (14336 * 4096, 32)),
    ("gemma-2b", "layers.0-17.attention.q_proj", (2048 * 2048, 18)),
    ("gemma-2b", "layers.0-17.attention.k_proj", (2048 * 256, 18)),
    ("qwen1.5-0.5b", "layers.0-23.attention.qkv_bias", (3 * 1024, 24)),
    ("qwen1.5-moe-a2.7b", "moe.router", (2048 * 60, 24)),
    ("qwen1.5-moe-a2.7b", "moe.experts.up_proj", (2048 * 1408, 24 * 60)),
    ("qwen1.5-moe-a2.7b", "moe.shared_expert_gate", (2048, 24)),
    ("grok-1", "moe.experts.gate_proj", (6144 * 32768, 64 * 8)),
    ("grok-1", "layers.0-63.norms", (4 * 6144, 64)),
    ("bert-base-cased", "embedding.token_types", (2 * 768, 1)),
    ("bert-base-cased", "pooler", (768 * 768 + 768, 1)),
    ("t5-base", "encoder.layers.0.attention.relative_bias", (32 * 12, 1)),
    ("t5-base", "decoder.layers.0.attention.relative_bias", (32 * 12, 1)),
    ("yuan2-2b", "lf_conv1", (2048 * 1024 * 2 + 1024, 24)),
    ("openelm-270m", "layers.0.attention.qk_norm", (2 * 64, 1)),
    ("deepseek-v2-lite", "layers.1-26.attention.kv_a_proj", (2048 * (512 + 64), 26)),
    ("deepseek-v3", "layers.3-60.attention.q_b_proj", (1536 * 128 * 192, 58)),
])
def test_component_shapes(model: str, name: str, expected: tuple[int, int]) -> None:
    assert component(name, model) == expected


def test_chatglm2_fused_qkv_matches_its_dump() -> None:
    # query_key_value: Linear(in_features=4096, out_features=4608, bias=True)
    root = count_params(resolve("chatglm2-6b")).root
    attention = next(term for path, term, _ in root.walk() if path.endswith("layers.0-27.attention"))
    qkv = sum(child.value for child in attention.children if child.key in ("q_proj", "k_proj", "v_proj",
                                                                           "qkv_bias"))
    assert qkv == 4096 * 4608 + 4608


@pytest.mark.parametrize("model, kind", [("gpt2", "tied"), ("mistral-7b", "untied"),
                                         ("bert-base-cased", "none")])
def test_lm_head_kind_is_shown_not_missing(model: str, kind: str) -> None:
    root = count_params(resolve(model)).root
    head = next(term for term in root.children if term.key == "lm_head")
    weight = head.children[0]
    if kind == "untied":
        assert head.total == weight.value == 32000 * 4096
    else:
        assert head.total == 0 and weight.note.startswith(kind)


def test_dense_models_are_fully_active() -> None:
    count = count_params(resolve("llama2-7b"))
    assert count.active == count.total


def test_textbook_estimate_matches_the_notes() -> None:
    # The notes: 2·32000·4096 + 32·4096²·(4 + 3·3.5), stated exactly in notes/README.md.
    estimate = textbook_estimate(resolve("mistral-7b"))
    assert estimate is not None
    assert estimate.total == 2 * 32000 * 4096 + 32 * 4096**2 * 4 + 32 * 3 * 4096 * 14336 == 8_046_772_224


@pytest.mark.parametrize("model, expected", [
    # The notes' formula, worked out here from each model's published architecture:
    # GPT-2: plain FFN (2·H·I); V = 50,257, H = 768, L = 12, I = 3,072.
    ("gpt2", 2 * 50257 * 768 + 12 * 4 * 768**2 + 12 * 2 * 768 * 3072),
    # T5-base: 12 encoder layers, 12 decoder layers with self- and cross-attention (two 4H²
    # blocks), plain FFN; V = 32,128, H = 768, I = 3,072.
    ("t5-base", 2 * 32128 * 768 + 12 * 4 * 768**2 + 12 * 2 * 768 * 3072
     + 12 * 2 * 4 * 768**2 + 12 * 2 * 768 * 3072),
    # Mixtral-8x7B: every expert's width counts in I (8 × 14,336), gated.
    ("mixtral-8x7b", 2 * 32000 * 4096 + 32 * 4 * 4096**2 + 32 * 3 * 4096 * 8 * 14336),
    # Qwen1.5-MoE-A2.7B: 60 experts of 1,408 plus the shared expert of 5,632, gated.
    ("qwen1.5-moe-a2.7b", 2 * 151936 * 2048 + 24 * 4 * 2048**2 + 24 * 3 * 2048 * (60 * 1408 + 5632)),
])
def test_textbook_estimate_of_other_layouts(model: str, expected: int) -> None:
    estimate = textbook_estimate(resolve(model))
    assert estimate is not None and estimate.total == expected


def test_no_textbook_estimate_for_rwkv() -> None:
    assert textbook_estimate(resolve("rwkv-4-169m")) is None


def test_evaluate_rejects_anything_but_arithmetic() -> None:
    with pytest.raises(ValueError):
        evaluate("__import__('os')", {})
    assert evaluate("2 × (a + b) · 3 - 1", {"a": 1, "b": 2}) == 17


@pytest.mark.parametrize("formula", ["7 / 2", "a / 0", "(T × 3) / 2"])
def test_division_must_be_exact(formula: str) -> None:
    # A packed format's bytes are whole blocks; a formula that would round is a bug, not a size.
    with pytest.raises(ValueError, match="not exact"):
        evaluate(formula, {"a": 4, "T": 1})
    assert evaluate("(T × 4) / 2", {"T": 3}) == 6


@pytest.mark.parametrize(("formula", "symbols"), [
    ("H × (n_kv × d)", {"H", "n_kv", "d"}),
    ("2 · (a + b) - 1", {"a", "b"}),
    ("(T × 4) / d", {"T", "d"}),  # division compiles to a helper call: the helper is not a symbol
    ("7", set()),
])
def test_a_leaf_keeps_the_bindings_its_formula_reads(formula: str, symbols: set[str]) -> None:
    bindings = {"H": 8, "n_kv": 2, "d": 4, "a": 1, "b": 2, "T": 3, "unused": 5}
    term = leaf("x", "x", formula, bindings)
    assert set(term.bindings) == symbols and term.value == evaluate(formula, bindings)


def test_rwkv_uses_every_parameter() -> None:
    count = count_params(resolve("rwkv-4-169m"))
    assert count.active == count.total and count.active_in_layers == sum(stack.total for stack in count.stacks)


# --- properties over random architectures -----------------------------------------------

@st.composite
def dense_fields(draw: Any) -> dict[str, Any]:
    heads = draw(st.sampled_from([1, 2, 4, 8]))
    group = draw(st.sampled_from([g for g in (1, 2, 4, 8) if heads % g == 0]))
    head_dim = draw(st.sampled_from([8, 16, 32]))
    return {
        "name": "random",
        "vocab_size": draw(st.integers(1, 5000)),
        "hidden_size": heads * head_dim,
        "num_hidden_layers": draw(st.integers(1, 6)),
        "num_attention_heads": heads,
        "num_key_value_heads": heads // group,
        "intermediate_size": draw(st.integers(1, 512)),
        "gated_ffn": draw(st.booleans()),
        "tie_word_embeddings": draw(st.booleans()),
        "attention_bias": draw(st.booleans()),
        "mlp_bias": draw(st.booleans()),
        "norm": draw(st.sampled_from(["rmsnorm", "layernorm", "layernorm_no_bias", "nonparametric"])),
    }


def closed_form(f: dict[str, Any]) -> int:
    """The standard per-component formula, written out independently of the Term code."""
    h, v, n_layers, heads, kv, i = (f["hidden_size"], f["vocab_size"], f["num_hidden_layers"],
                                    f["num_attention_heads"], f["num_key_value_heads"],
                                    f["intermediate_size"])
    d = h // heads
    attention = 2 * h * heads * d + 2 * h * kv * d
    if f["attention_bias"]:
        attention += heads * d + 2 * kv * d + h
    ffn = (3 if f["gated_ffn"] else 2) * h * i
    if f["mlp_bias"]:
        ffn += (2 * i if f["gated_ffn"] else i) + h
    per_norm = {"rmsnorm": h, "layernorm": 2 * h, "layernorm_no_bias": h, "nonparametric": 0}[f["norm"]]
    head = 0 if f["tie_word_embeddings"] else v * h
    return v * h + n_layers * (attention + ffn + 2 * per_norm) + per_norm + head


@settings(max_examples=200, deadline=None)
@given(dense_fields())
def test_random_dense_models_match_the_closed_form(fields: dict[str, Any]) -> None:
    count = count_params(build_spec(fields, "random"))
    check_tree(count.root)
    assert count.total == closed_form(fields)


@settings(max_examples=100, deadline=None)
@given(dense_fields(), st.integers(2, 16), st.data())
def test_moe_total_and_active(fields: dict[str, Any], experts: int, data: Any) -> None:
    top_k = data.draw(st.integers(1, experts))
    dense = count_params(build_spec(fields, "dense")).total
    moe = count_params(build_spec({**fields, "num_experts": experts, "num_experts_per_tok": top_k}, "moe"))
    h, i, layers = fields["hidden_size"], fields["intermediate_size"], fields["num_hidden_layers"]
    expert = (3 if fields["gated_ffn"] else 2) * h * i  # experts carry no biases
    dense_ffn = expert + (((2 * i if fields["gated_ffn"] else i) + h) if fields["mlp_bias"] else 0)
    router = h * experts
    assert moe.total == dense + layers * (experts * expert + router - dense_ffn)
    assert moe.active == moe.total - layers * (experts - top_k) * expert
