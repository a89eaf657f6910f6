"""`llmcalc quant`: exact bytes of each quantized format, against independent sources.

- GGUF mixes: llama.cpp's own published table for Llama-3.1-8B (tools/quantize/README.md at
  b8495: bits per weight to 4 decimals and GiB to 2, per file type), and llama.cpp's golden
  per-tensor type files (tests/fixtures/llama_cpp/, see its README) for a 70B-class dense model,
  a dense GQA model with QK norms, a model with tied embeddings and an MoE model.
- Safetensors formats: published totals of real repositories, named at each case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.errors import SpecError, UsageError
from llmcalc.llama_quant import IMATRIX_MIXES, MIXES
from llmcalc.params import count_params
from llmcalc.presets import resolve
from llmcalc.quant import find_format, quantize
from llmcalc.schema import build_spec
from llmcalc.tensors import checkpoint_weights, gguf_tensors

SNAPSHOTS = Path(__file__).resolve().parent / "fixtures" / "llama_cpp"
runner = CliRunner()

# llama.cpp tools/quantize/README.md @ b8495: Llama-3.1-8B, (bits/weight, size in GiB). The
# 1–2-bit and IQ3_XXS/IQ3_XS/Q2_K_S rows need an importance matrix (llama-quantize refuses
# them without one); IQ4_NL and IQ4_XS match the rules without one.
LLAMA31_8B = {
    "iq1_s": (2.0042, 1.87), "iq1_m": (2.1460, 2.01), "iq2_xxs": (2.3824, 2.23), "iq2_xs": (2.5882, 2.42),
    "iq2_s": (2.7403, 2.56), "iq2_m": (2.9294, 2.74), "iq3_xxs": (3.2548, 3.04), "iq3_xs": (3.4977, 3.27),
    "iq3_s": (3.6606, 3.42), "iq3_m": (3.7628, 3.52), "iq4_xs": (4.4597, 4.17), "iq4_nl": (4.6818, 4.38),
    "q2_k_s": (2.9697, 2.78), "q2_k": (3.1593, 2.95), "q3_k_s": (3.6429, 3.41), "q3_k_m": (3.9960, 3.74),
    "q3_k_l": (4.2979, 4.02), "q4_k_s": (4.6672, 4.36), "q4_k_m": (4.8944, 4.58), "q5_k_s": (5.5704, 5.21),
    "q5_k_m": (5.7036, 5.33), "q6_k": (6.5633, 6.14), "q8_0": (8.5008, 7.95), "f16": (16.0005, 14.96),
}


@pytest.mark.parametrize("mix", sorted(LLAMA31_8B))
def test_llama31_8b_matches_llama_cpps_published_table(mix: str) -> None:
    bits, gib = LLAMA31_8B[mix]
    size = quantize(resolve("llama3.1-8b"), mix)
    # bits per weight over the GGUF's 8,030,261,312 values (the model's 8,030,261,248 and
    # rope_freqs' 64), as llama-bench counts them.
    assert size.elements == 8_030_261_312
    assert round(size.bits_per_weight, 4) == bits
    assert round(size.bytes / 2**30, 2) == gib
    assert size.imatrix == (mix in IMATRIX_MIXES)


def test_llama31_8b_gguf_has_the_tensors_a_conversion_writes() -> None:
    # A converted Meta-Llama-3.1-8B GGUF holds 292 tensors: 32 × 9, token_embd, output,
    # output_norm and rope_freqs.
    tensors = gguf_tensors(resolve("llama3.1-8b"))
    assert len(tensors) == 292
    assert [t.shape for t in tensors if t.name == "rope_freqs.weight"] == [(64,)]


def _snapshot(name: str) -> tuple[dict[str, int], dict[str, tuple[str, dict[str, str]]]]:
    header: dict[str, int] = {}
    sections: dict[str, tuple[str, dict[str, str]]] = {}
    current: dict[str, str] = {}
    for line in (SNAPSHOTS / f"{name}.schema").read_text().splitlines():
        if line.startswith("# n_embd"):
            header = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
        elif line.startswith("["):
            ftype, default = re.match(r"\[(\w+)\]\s+(\S+)", line).groups()  # type: ignore[union-attr]
            current = {}
            sections[ftype.lower()] = (default.lower(), current)
        elif line and not line.startswith("#"):
            tensor, kind = line.rsplit(" ", 1)
            current[tensor] = kind.lower()
    return header, sections


def _from_snapshot_header(name: str, **extra: object):  # type: ignore[no-untyped-def]
    h, _ = _snapshot(name)
    return build_spec({"name": name, "vocab_size": h["n_vocab"], "hidden_size": h["n_embd"],
                       "intermediate_size": h["n_ff"], "num_hidden_layers": h["n_layer"],
                       "num_attention_heads": h["n_head"], "num_key_value_heads": h["n_head_kv"], **extra}, name)


SNAPSHOT_MODELS = {
    # 80 layers with GQA: llama.cpp's LLM_TYPE_70B, whose attn_v gets q5_k for q3_k/q4_k.
    "meta-llama-3.1-70b-instruct": lambda: resolve("llama3.1-70b"),
    # Qwen3-14B: untied, per-head QK norms (config: head_dim 128).
    "qwen3-14b": lambda: _from_snapshot_header("qwen3-14b", model_type="qwen3", head_dim=128, qk_norm="head"),
    # gemma-3-4b-it: tied embeddings, so token_embd takes the output's rules (config: head_dim 256).
    "gemma-3-4b-it": lambda: _from_snapshot_header("gemma-3-4b-it", model_type="gemma3_text", head_dim=256,
                                                   qk_norm="head", norms_per_layer=4, tie_word_embeddings=True),
    # 128 experts of rows 2880 long, not whole 256-value blocks: the fallback types.
    "gpt-oss-120b": lambda: resolve("gpt-oss-120b"),
    # DeepSeek-V3.1 (DeepSeek-V3's architecture): MLA's 3-D attn_k_b/attn_v_b, 256 experts, shared experts.
    "deepseek-v3.1": lambda: resolve("deepseek-v3"),
}


@pytest.mark.parametrize("model", sorted(SNAPSHOT_MODELS))
def test_per_tensor_types_match_llama_cpps_golden_files(model: str) -> None:
    spec = SNAPSHOT_MODELS[model]()
    _, sections = _snapshot(model)
    checked = 0
    for ftype, (default, different) in sections.items():
        mix = {"q3_k": "q3_k_m"}.get(ftype, ftype)
        # The golden files are made without an importance matrix, even for the mixes that
        # llama-quantize refuses to make without one: those are checked by the table above.
        if mix not in MIXES or mix in IMATRIX_MIXES:
            continue
        size = quantize(spec, mix, imatrix=False)
        chosen = {t.name: t.type for t in size.tensors if t.name.endswith("weight") and len(t.shape) > 1
                  and "_norm" not in t.name and "ffn_gate_inp" not in t.name}
        expected = {name: different.get(name, default) for name in chosen}
        assert chosen == expected, mix
        assert set(different) <= set(chosen), mix
        checked += 1
    assert checked >= 20


# --- safetensors formats: published totals ---------------------------------------------------------

@pytest.mark.parametrize("model, fmt, published", [
    # openai/gpt-oss-20b model.safetensors.index.json "total_size": MXFP4 experts, the rest bf16.
    ("gpt-oss-20b", "mxfp4", 13_761_264_768),
    # openai/gpt-oss-120b: the tensor bytes of its 15 shards (65,248,893,184 B of files with headers).
    ("gpt-oss-120b", "mxfp4", 65_248_815_744),
    # nvidia/Llama-3.3-70B-Instruct-FP4 (ModelOpt NVFP4), its shards' tensor bytes.
    ("llama3.3-70b", "nvfp4", 42_709_045_632),
    # RedHatAI Llama-3.3-70B-Instruct quantized.w4a16 (compressed-tensors, actorder group: weight_g_idx).
    ("llama3.3-70b", "w4a16-gidx", 39_525_311_232),
    # RedHatAI Meta-Llama-3.1-8B-Instruct-FP8-dynamic (per-channel bf16 scales).
    ("llama3.1-8b", "fp8-dynamic", 9_083_953_152),
])
def test_safetensors_formats_equal_published_repositories(model: str, fmt: str, published: int) -> None:
    assert quantize(resolve(model), fmt).bytes == published


@pytest.mark.parametrize("fmt, qweight_rows, qzeros_columns", [("gptq-int4", 512, 128), ("gptq-int8", 1024, 256)])
def test_gptq_per_linear_layout(fmt: str, qweight_rows: int, qzeros_columns: int) -> None:
    # auto-gptq 0.7.1's QuantLinear(4096 → 1024, group 128) buffers, as its constructor made them:
    # 4 bits: qweight int32 (512, 1024), qzeros int32 (32, 128); 8 bits: (1024, 1024), (32, 256);
    # both: scales fp16 (32, 1024), g_idx int32 (4096,).
    spec = build_spec({"name": "t", "vocab_size": 32, "hidden_size": 4096, "intermediate_size": 4096,
                       "num_hidden_layers": 1, "num_attention_heads": 32, "num_key_value_heads": 8}, "t")
    k_proj = next(t for t in quantize(spec, fmt).tensors if t.name.endswith("k_proj.weight"))
    assert k_proj.shape == (1024, 4096)
    assert k_proj.bytes == qweight_rows * 1024 * 4 + 32 * qzeros_columns * 4 + 32 * 1024 * 2 + 4096 * 4


def test_every_tensor_is_stored_once() -> None:
    # Both layouts hold every parameter exactly once; the files also hold a few non-parameters
    # (DeepSeek-V3's score-correction biases; a GGUF's llama3-scaled rope_freqs).
    for name in ("llama3.1-8b", "qwen3-30b-a3b", "gpt-oss-20b", "gemma2-9b", "deepseek-v3", "kimi-k2", "dbrx"):
        spec = resolve(name)
        stored = sum(w.elements for w in checkpoint_weights(spec) if not w.buffer)
        assert stored == count_params(spec).total, name


@pytest.mark.parametrize("name, tensors, elements", [
    # llama.cpp's converter (convert_hf_to_gguf.py at a95a11e5, 2026-04-30), its tensor pass run on
    # each model's config with header-only checkpoints: tensors written and their elements.
    ("llama3.1-8b", 292, 8_030_261_312), ("mixtral-8x7b", 323, 46_702_792_704), ("qwen2.5-7b", 339, 7_615_616_512),
    ("qwen3-8b", 399, 8_190_735_360), ("qwen3-30b-a3b", 579, 30_532_122_624), ("gemma2-9b", 464, 9_241_705_984),
    ("phi-3-mini", 195, 3_821_079_552), ("deepseek-v3", 1086, 671_026_419_200), ("gpt-oss-20b", 459, 20_914_757_184),
    ("llama4-scout", 628, 107_769_861_184),
])
def test_gguf_layout_equals_llama_cpps_converter(name: str, tensors: int, elements: int) -> None:
    layout = gguf_tensors(resolve(name))
    assert (len(layout), sum(t.elements for t in layout)) == (tensors, elements)


# --- names, errors, JSON --------------------------------------------------------------------------

@pytest.mark.parametrize("written, canonical", [("Q4_K_M", "q4_k_m"), ("q4-k-m", "q4_k_m"), ("q4_k", "q4_k_m"),
                                                ("GPTQ-INT4", "gptq-int4"), ("mxfp4", "mxfp4")])
def test_format_names(written: str, canonical: str) -> None:
    assert find_format(written) == canonical


def test_unknown_format_exits_2_with_suggestions() -> None:
    with pytest.raises(UsageError, match="did you mean q4_k_m"):
        find_format("q4_km")
    result = runner.invoke(app, ["quant", "llama3.1-8b", "--format", "q4_km"])
    assert result.exit_code == 2 and "did you mean" in result.stderr


def test_a_format_that_cannot_apply_names_the_tensor() -> None:
    # gpt-oss's hidden size 2880 is not a multiple of GPTQ's group of 128.
    with pytest.raises(SpecError, match=r"q_proj\.weight.*2,880 is not a multiple of the group size 128"):
        quantize(resolve("gpt-oss-20b"), "gptq-int4")
    result = runner.invoke(app, ["quant", "gpt-oss-20b", "--format", "gptq-int4"])
    assert result.exit_code == 1 and "q_proj.weight" in result.stderr and "Traceback" not in result.output


def test_a_mix_that_needs_an_importance_matrix() -> None:
    with pytest.raises(SpecError, match="importance matrix"):
        quantize(resolve("llama3.1-8b"), "iq2_xxs", imatrix=False)


def test_quant_json_contract() -> None:
    every = json.loads(runner.invoke(app, ["quant", "llama3.1-8b", "--json"]).stdout)
    assert every["model"] == "llama3.1-8b" and every["params"] == 8_030_261_248
    q4 = next(f for f in every["formats"] if f["format"] == "q4_k_m")
    assert q4["bytes"] == 4_912_898_304 and q4["file"] == "gguf" and q4["bits_per_weight"] == 4.8944
    assert "tensors" not in q4
    one = json.loads(runner.invoke(app, ["quant", "llama3.1-8b", "--format", "q4_k_m", "--json"]).stdout)
    [entry] = one["formats"]
    assert sum(t["bytes"] for t in entry["tensors"]) == entry["bytes"] == 4_912_898_304
    assert {"name", "shape", "type", "bytes", "why", "count"} <= set(entry["tensors"][0])


def test_a_model_whose_gguf_layout_is_not_modelled_still_has_safetensors_formats() -> None:
    result = runner.invoke(app, ["quant", "glm-4.5-air", "--json"])  # GLM-4.5 GGUFs carry the NextN layer: not modelled
    assert result.exit_code == 0
    formats = {f["format"]: f for f in json.loads(result.stdout)["formats"]}
    assert formats["q4_k_m"]["bytes"] is None and "GGUF layout" in formats["q4_k_m"]["not_available"]
    assert formats["fp8"]["bytes"] > 0


# --- verify: GGUF files written by llama.cpp's own writer (the gguf package) -----------------------

def _write_gguf(path: Path, arch: str, tensors: list[tuple[str, tuple[int, ...], str]], file_type: int,
                meta: dict[str, int], data: bool) -> None:
    """A GGUF whose header the gguf package writes: tensor infos with these types; the data is
    zeros, written by the package (data=True) or left as a sparse tail of the right length."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch)
    for key, value in meta.items():
        writer.add_uint32(f"{arch}.{key}", value)
    writer.add_file_type(file_type)
    writer.add_token_list([f"token{index}" for index in range(20_000)])  # a vocabulary: skipped by the reader
    total = 0
    for name, shape, kind in tensors:
        ggml_type = gguf.GGMLQuantizationType[kind.upper()]
        block, type_size = gguf.GGML_QUANT_SIZES[ggml_type]
        rows = tuple(reversed(shape[1:]))
        byte_shape = rows + (shape[0] // block * type_size,)
        nbytes = int(np.prod(byte_shape, dtype=np.int64))
        total += -(-nbytes // 32) * 32
        if data:
            writer.add_tensor(name, np.zeros(byte_shape, dtype=np.uint8), raw_dtype=ggml_type)
        else:
            writer.add_tensor_info(name, byte_shape, np.dtype(np.uint8), nbytes, raw_dtype=ggml_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    if data:
        writer.write_tensors_to_file()
        writer.close()
        return
    writer.write_ti_data_to_file()
    writer.close()
    with open(path, "r+b") as handle:
        start = -(-handle.seek(0, 2) // 32) * 32
        handle.truncate(start + total)  # sparse: no disk used


def write_llama31_70b_q4_k_m(path: Path) -> None:
    """Llama-3.1-70B at Q4_K_M, every tensor's type taken from llama.cpp's golden file (not from
    llmcalc), shapes from the converter's layout; header by the gguf package, data a sparse tail."""
    _, sections = _snapshot("meta-llama-3.1-70b-instruct")
    default, different = sections["q4_k_m"]
    tensors = [(t.name, t.shape, t.dtype if t.dtype == "f32" else different.get(t.name, default))
               for t in gguf_tensors(resolve("llama3.1-70b"))]
    _write_gguf(path, "llama", tensors, 15, {"block_count": 80, "attention.head_count": 64,
                                             "attention.head_count_kv": 8, "embedding_length": 8192}, data=False)


def test_verify_a_gguf_with_llama_cpps_own_types_for_llama31_70b(tmp_path: Path) -> None:
    spec = resolve("llama3.1-70b")
    path = tmp_path / "Llama-3.1-70B-Q4_K_M.gguf"
    write_llama31_70b_q4_k_m(path)
    result = runner.invoke(app, ["verify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["agrees"] and report["file_type"] == "q4_k_m" and report["tensors"] == 724
    assert report["stored_bytes"] == quantize(spec, "q4_k_m").bytes


def test_verify_a_gguf_names_the_tensor_whose_type_differs(tmp_path: Path) -> None:
    spec = build_spec({"name": "tiny", "model_type": "llama", "vocab_size": 512, "hidden_size": 256,
                       "intermediate_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8,
                       "num_key_value_heads": 2}, "tiny")
    planned = quantize(spec, "q4_k_m").tensors
    tensors = [(t.name, t.shape, "q4_k" if t.name == "blk.0.attn_v.weight" else t.type) for t in planned]
    path = tmp_path / "tiny-Q4_K_M.gguf"
    meta = {"block_count": 8, "attention.head_count": 8, "attention.head_count_kv": 2, "embedding_length": 256}
    _write_gguf(path, "llama", tensors, 15, meta, data=True)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 1
    assert "blk.0.attn_v.weight" in result.stdout and "q6_k" in result.stdout and "DIFFERS" in result.stdout
    honest = tmp_path / "honest-Q4_K_M.gguf"
    _write_gguf(honest, "llama", [(t.name, t.shape, t.type) for t in planned], 15, meta, data=True)
    assert runner.invoke(app, ["verify", str(honest)]).exit_code == 0


@pytest.mark.parametrize("mangle, fragment", [
    (lambda raw: b"GGUX" + raw[4:], "not a GGUF file"),
    (lambda raw: raw[:4] + (9).to_bytes(4, "little") + raw[8:], "version 9"),
    (lambda raw: raw[:-100], "truncated"),
    (lambda raw: raw[:20], "truncated"),
])
def test_verify_a_broken_gguf_says_so_in_one_line(tmp_path: Path, mangle, fragment: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.gguf"
    spec = build_spec({"name": "t", "model_type": "llama", "vocab_size": 64, "hidden_size": 64,
                       "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2}, "t")
    meta = {"block_count": 1, "attention.head_count": 2, "attention.head_count_kv": 2, "embedding_length": 64}
    _write_gguf(path, "llama", [(t.name, t.shape, t.type) for t in quantize(spec, "q8_0").tensors], 7, meta, data=True)
    path.write_bytes(mangle(path.read_bytes()))
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 1 and fragment in result.stderr and "Traceback" not in result.output
    assert result.stderr.count("\n") <= 2


def test_verify_survives_any_corruption_of_a_gguf_header(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = tmp_path / "m.gguf"
    spec = build_spec({"name": "t", "model_type": "llama", "vocab_size": 64, "hidden_size": 64,
                       "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2}, "t")
    meta = {"block_count": 1, "attention.head_count": 2, "attention.head_count_kv": 2, "embedding_length": 64}
    _write_gguf(path, "llama", [(t.name, t.shape, t.type) for t in quantize(spec, "q8_0").tensors], 7, meta, data=True)
    original = path.read_bytes()
    header = original[:1200]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(0, len(header) - 1), st.integers(0, 255)), min_size=1, max_size=6))
    def corrupted(edits: list[tuple[int, int]]) -> None:
        raw = bytearray(original)
        for position, value in edits:
            raw[position] = value
        path.write_bytes(bytes(raw))
        result = runner.invoke(app, ["verify", str(path)])
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)

    corrupted()


# --- the checkpoint as published --------------------------------------------------------------------

CONFIGS = Path(__file__).resolve().parent / "fixtures" / "configs"


@pytest.mark.parametrize("fixture, fmt", [
    ("gpt_oss_20b.json", "mxfp4"),  # quant_method mxfp4
    ("presets/deepseek-r1.json", "fp8"),  # quant_method fp8, weight_block_size [128, 128]
    ("exaone4_1_2b.json", "w4a16"),  # compressed-tensors pack-quantized, 4 bits, group 128, actorder static
])
def test_quantization_config_names_the_checkpoints_format(fixture: str, fmt: str) -> None:
    from llmcalc.hf_config import load_config

    spec, warnings = load_config(CONFIGS / fixture)
    assert spec.checkpoint_format == fmt and warnings == []


def test_a_quantization_config_that_is_not_modelled_says_so(tmp_path: Path) -> None:
    data = json.loads((CONFIGS / "llama3_2_1b.json").read_text())
    data["quantization_config"] = {"quant_method": "gptq", "bits": 4, "group_size": 32}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["params", str(path), "--json"])
    assert result.exit_code == 0
    assert "group_size 32 is not modelled" in result.stderr
    assert "checkpoint" not in json.loads(result.stdout)


def test_params_shows_the_published_checkpoint() -> None:
    # gpt-oss-20b's model.safetensors.index.json total_size (MXFP4 experts).
    document = json.loads(runner.invoke(app, ["params", "gpt-oss-20b", "--json"]).stdout)
    assert document["checkpoint"] == {"format": "mxfp4", "bytes": 13_761_264_768, "not_available": None}
    table = runner.invoke(app, ["params", "gpt-oss-20b"], env={"COLUMNS": "200"}).stdout
    assert "the checkpoint as published (mxfp4" in table and "13,761,264,768 B" in table


def test_compare_adds_a_quantized_weights_row() -> None:
    result = runner.invoke(app, ["compare", "llama3.1-8b", "glm-4.5-air", "--quant", "q4_k_m", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["rows"]}
    # Llama-3.1-8B's q4_k_m as in llama.cpp's table; GLM-4.5's GGUF layout (NextN layer) is not modelled.
    assert rows["weights as q4_k_m"]["values"] == [4_912_898_304, None]
    assert runner.invoke(app, ["compare", "llama3.1-8b", "qwen3-8b", "--quant", "q4km"]).exit_code == 2


def test_explain_derives_a_format_step_by_step() -> None:
    document = json.loads(runner.invoke(app, ["explain", "llama3.1-8b", "--topic", "quant", "--json"]).stdout)
    assert document["topic"] == "quant" and document["total"] == 4_912_898_304  # q4_k_m, as in the table above
    steps = json.dumps(document["steps"])
    assert "use_more_bits" in steps and "210" in steps
    wrong = runner.invoke(app, ["explain", "llama3.1-8b", "--quant", "q4_k_m"])
    assert wrong.exit_code == 2 and "--topic quant" in wrong.stderr


# --- verify: a quantized checkpoint folder, byte for byte --------------------------------------------

def _folder(tmp_path: Path, config: dict, tensors: dict[str, tuple[str, list[int]]]) -> Path:
    from safetensors_files import write_safetensors

    (tmp_path / "config.json").write_text(json.dumps(config))
    write_safetensors(tmp_path / "model.safetensors", tensors)
    return tmp_path


GPT_OSS_TINY = {"model_type": "gpt_oss", "vocab_size": 32, "hidden_size": 64, "intermediate_size": 64,
                "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                "num_local_experts": 4, "num_experts_per_tok": 2,
                "quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": [
                    "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}}


def _gpt_oss_tensors(blocks_dtype: str = "U8") -> dict[str, tuple[str, list[int]]]:
    # openai/gpt-oss's checkpoint layout (transformers integrations/mxfp4.py; its index lists
    # model.layers.N.mlp.experts.gate_up_proj_blocks [E, 2I, H/32, 16] U8 and _scales [E, 2I, H/32] U8).
    e, h, i = 4, 64, 64
    tensors = {"model.embed_tokens.weight": ("BF16", [32, h]), "lm_head.weight": ("BF16", [32, h]),
               "model.norm.weight": ("BF16", [h])}
    for n in range(2):
        p = f"model.layers.{n}."
        tensors.update({
            p + "input_layernorm.weight": ("BF16", [h]), p + "post_attention_layernorm.weight": ("BF16", [h]),
            p + "self_attn.q_proj.weight": ("BF16", [64, h]), p + "self_attn.q_proj.bias": ("BF16", [64]),
            p + "self_attn.k_proj.weight": ("BF16", [32, h]), p + "self_attn.k_proj.bias": ("BF16", [32]),
            p + "self_attn.v_proj.weight": ("BF16", [32, h]), p + "self_attn.v_proj.bias": ("BF16", [32]),
            p + "self_attn.o_proj.weight": ("BF16", [h, 64]), p + "self_attn.o_proj.bias": ("BF16", [h]),
            p + "self_attn.sinks": ("BF16", [4]),
            p + "mlp.router.weight": ("BF16", [e, h]), p + "mlp.router.bias": ("BF16", [e]),
            p + "mlp.experts.gate_up_proj_blocks": (blocks_dtype, [e, 2 * i, h // 32, 16]),
            p + "mlp.experts.gate_up_proj_scales": ("U8", [e, 2 * i, h // 32]),
            p + "mlp.experts.gate_up_proj_bias": ("BF16", [e, 2 * i]),
            p + "mlp.experts.down_proj_blocks": (blocks_dtype, [e, h, i // 32, 16]),
            p + "mlp.experts.down_proj_scales": ("U8", [e, h, i // 32]),
            p + "mlp.experts.down_proj_bias": ("BF16", [e, h]),
        })
    return tensors


def test_verify_a_quantized_folder_accounts_for_every_scale(tmp_path: Path) -> None:
    folder = _folder(tmp_path, GPT_OSS_TINY, _gpt_oss_tensors())
    result = runner.invoke(app, ["verify", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["agrees"] and report["quantized"]["format"] == "mxfp4"
    assert report["quantized"]["format_tensors"] == 8  # blocks and scales of 2 matrices × 2 layers
    assert report["quantized"]["stored_bytes"] == report["quantized"]["expected_bytes"]


def test_verify_a_quantized_folder_that_is_not_its_format(tmp_path: Path) -> None:
    # The experts' blocks stored as 16-bit values: twice the bytes MXFP4 holds.
    folder = _folder(tmp_path, GPT_OSS_TINY, _gpt_oss_tensors(blocks_dtype="BF16"))
    result = runner.invoke(app, ["verify", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "DISAGREE" in result.stdout


def test_verify_a_gptq_folder(tmp_path: Path) -> None:
    # auto-gptq 0.7.1's QuantLinear buffers, as its probe printed them for K=4096 → N=1024 at 4 bits,
    # group 128: qweight I32 (K/8, N), qzeros I32 (K/128, N/8), scales F16 (K/128, N), g_idx I32 (K,).
    config = {"model_type": "llama", "vocab_size": 32, "hidden_size": 256, "intermediate_size": 512,
              "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "torch_dtype": "float16",
              "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False}}
    tensors: dict[str, tuple[str, list[int]]] = {
        "model.embed_tokens.weight": ("F16", [32, 256]), "lm_head.weight": ("F16", [32, 256]),
        "model.norm.weight": ("F16", [256]), "model.layers.0.input_layernorm.weight": ("F16", [256]),
        "model.layers.0.post_attention_layernorm.weight": ("F16", [256])}
    for module, n, k in (("self_attn.q_proj", 256, 256), ("self_attn.k_proj", 256, 256),
                         ("self_attn.v_proj", 256, 256), ("self_attn.o_proj", 256, 256),
                         ("mlp.gate_proj", 512, 256), ("mlp.up_proj", 512, 256), ("mlp.down_proj", 256, 512)):
        p = f"model.layers.0.{module}."
        tensors.update({p + "qweight": ("I32", [k // 8, n]), p + "qzeros": ("I32", [k // 128, n // 8]),
                        p + "scales": ("F16", [k // 128, n]), p + "g_idx": ("I32", [k])})
    report = json.loads(runner.invoke(app, ["verify", str(_folder(tmp_path, config, tensors)), "--json"]).stdout)
    assert report["agrees"] and report["quantized"]["format"] == "gptq-int4"
    assert report["quantized"]["format_tensors"] == 28


@pytest.mark.parametrize("model, mix, imatrix, gib, bpw", [
    # gguf-parser-go README (gpustack, @8dc7a622): SIZE is the file's padded tensor-data section,
    # BPW its bits over the elements. Qwen2.5-7B-Instruct q8_0: 7.54 GiB, 8.50 bpw.
    ("qwen2.5-7b", "q8_0", None, 7.54, 8.50),
    # DeepSeek-R1-Distill-Qwen-7B (Qwen2.5-7B's architecture) Q4_K_M: 4.36 GiB, 4.91 bpw.
    ("qwen2.5-7b", "q4_k_m", None, 4.36, 4.91),
    # bartowski's openbuddy-llama3.3-70b (Llama-3.3-70B's architecture) Q4_0, made with an
    # importance matrix as bartowski's are (the first 1/8 of ffn_down in q4_1): 37.35 GiB, 4.55 bpw.
    ("llama3.3-70b", "q4_0", True, 37.35, 4.55),
])
def test_gguf_sizes_match_gguf_parsers_published_examples(model: str, mix: str, imatrix: bool | None, gib: float,
                                                          bpw: float) -> None:
    size = quantize(resolve(model), mix, imatrix)
    assert round(size.padded_bytes / 2**30, 2) == gib
    assert round(size.padded_bytes * 8 / size.elements, 2) == bpw


def test_block_sizes_equal_gguf_pys() -> None:
    # llama.cpp's own Python package: GGMLQuantizationType ids and GGML_QUANT_SIZES (values, bytes
    # per block). Q8_1 differs there (40 bytes; ggml's block_q8_1 is 36) and no file holds it.
    import gguf

    from llmcalc.ggml import GGML_TYPES

    for name, ggml_type in GGML_TYPES.items():
        theirs = gguf.GGMLQuantizationType[name.upper()]
        assert ggml_type.id == theirs.value, name
        if name != "q8_1":
            assert (ggml_type.block_values, ggml_type.block_bytes) == gguf.GGML_QUANT_SIZES[theirs], name


@pytest.mark.parametrize("model", ["meta-llama-3.1-70b-instruct", "gpt-oss-120b", "qwen3-14b"])
def test_bytes_of_every_mix_from_golden_types_and_gguf_pys_block_sizes(model: str) -> None:
    # The bytes of each mix, from independent parts: each tensor's type from llama.cpp's golden
    # file, each type's block size from gguf-py, the tensor shapes from the converter's layout.
    import gguf

    spec = SNAPSHOT_MODELS[model]()
    _, sections = _snapshot(model)
    for ftype, (default, different) in sections.items():
        mix = {"q3_k": "q3_k_m"}.get(ftype, ftype)
        if mix not in MIXES or mix in IMATRIX_MIXES:
            continue
        expected = 0
        for tensor in gguf_tensors(spec):
            quantized = len(tensor.shape) > 1 and tensor.name.endswith("weight") and "_norm" not in tensor.name \
                and "ffn_gate_inp" not in tensor.name
            kind = different.get(tensor.name, default) if quantized else tensor.dtype
            block, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[kind.upper()]]
            expected += tensor.elements // block * type_size
        assert quantize(spec, mix, imatrix=False).bytes == expected, mix


# --- files the quantization libraries wrote --------------------------------------------------------

TINY_LLAMA = {"name": "tiny", "model_type": "llama", "vocab_size": 1000, "hidden_size": 256, "intermediate_size": 512,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}


@pytest.mark.parametrize("fmt, written", [
    # transformers 5.23 + bitsandbytes 0.50.2 save_pretrained of a random LlamaForCausalLM (these
    # sizes, bf16), the safetensors data bytes summed from the header: BitsAndBytesConfig
    # load_in_8bit → 2,222,606; load_in_4bit fp4 without double quantization → 1,692,128 (nf4's
    # layout byte for byte: the quant_state JSON says "fp4" where it says "nf4").
    ("bnb-int8", 2_222_606), ("nf4", 1_692_128),
])
def test_bitsandbytes_sizes_equal_files_it_wrote(fmt: str, written: int) -> None:
    assert quantize(build_spec(TINY_LLAMA, "tiny"), fmt).bytes == written


def test_bitsandbytes_double_quantization_is_within_a_few_bytes_per_linear() -> None:
    # The same save with nf4 and double quantization wrote 1,652,717 bytes; its quant_state JSON
    # holds a float whose repr is 16–19 characters, so llmcalc is within 3 bytes per Linear (14 here).
    size = quantize(build_spec(TINY_LLAMA, "tiny"), "nf4-dq")
    assert abs(size.bytes - 1_652_717) <= 3 * 14 and not size.format.exact


def test_bitsandbytes_keeps_transformers_5s_fused_experts_in_16_bits() -> None:
    # A random Qwen3MoeForCausalLM (1 layer, 4 experts of 128, 4 heads of 64) saved in nf4: 1,925,440
    # bytes of data; its experts and router stayed bf16.
    spec = build_spec({"name": "moe", "model_type": "qwen3_moe", "vocab_size": 1000, "hidden_size": 256,
                       "intermediate_size": 512, "moe_intermediate_size": 128, "num_hidden_layers": 1,
                       "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "qk_norm": "head",
                       "num_experts": 4, "num_experts_per_tok": 2}, "moe")
    assert quantize(spec, "nf4").bytes == 1_925_440


@pytest.mark.parametrize("fmt, written", [
    # compressed-tensors 0.20 compressing one bf16 Linear(512 → 96) with its presets: W4A16
    # (weight_packed, weight_scale (96, 4), weight_shape) 25,360 B; FP8_DYNAMIC 49,344 B; NVFP4
    # (weight_packed, fp8 weight_scale (96, 32), two float32 scales) 27,656 B.
    ("w4a16", 25_360), ("fp8-dynamic", 49_344), ("nvfp4", 27_656),
])
def test_compressed_tensors_sizes_equal_what_it_wrote(fmt: str, written: int) -> None:
    spec = build_spec({"name": "one", "model_type": "llama", "vocab_size": 8, "hidden_size": 512, "head_dim": 96,
                       "intermediate_size": 512, "num_hidden_layers": 1, "num_attention_heads": 1}, "one")
    q_proj = next(t for t in quantize(spec, fmt).tensors if t.name.endswith("q_proj.weight"))
    assert q_proj.shape == (96, 512) and q_proj.bytes == written


# Presets whose layers differ in what the rules see: dense GQA (8B), a 70B-class model, 8 experts
# (Mixtral), MLA with dense first layers and shared experts (DeepSeek-V3), 128 experts (Qwen3),
# MXFP4 experts (gpt-oss), MoE every other layer (Llama 4), a fused attn_qkv (Phi-3), Gemma 3.
REPLAY_PRESETS = ("llama3.1-8b", "llama2-70b", "mixtral-8x7b", "deepseek-v3", "qwen3-30b-a3b", "gpt-oss-20b",
                  "llama4-maverick", "phi-3-mini", "gemma3-27b")


@pytest.mark.parametrize("name", REPLAY_PRESETS)
def test_a_layer_like_an_earlier_one_gets_the_types_the_rules_give_it(name: str) -> None:
    """plan decides a layer once per position the rules can tell apart and repeats it
    (llama_quant._position); planning every run afresh must give the same types, reasons and
    refusals under every mix, with and without an importance matrix."""
    from dataclasses import replace

    from llmcalc.llama_quant import Hparams, Listing, MixError, each_tensor, in_order, plan
    from llmcalc.tensors import gguf_hparams_of

    spec = resolve(name)
    listing = in_order([(t.name, t.shape, t.dtype) for t in gguf_tensors(spec)])
    afresh = replace(listing, runs=[(start, stop, layer, -1, counted)
                                    for start, stop, layer, _, counted in listing.runs])
    hparams = Hparams.of(*gguf_hparams_of(spec))
    kinds = [kind for *_, kind, _ in listing.runs if kind >= 0]
    assert len(kinds) == spec.num_layers and len(set(kinds)) < len(kinds)  # layers alike: something to repeat

    def planned(listing: Listing, mix: str, imatrix: bool) -> object:
        try:
            return [(name, shape, choice.type.name, choice.reason)
                    for name, shape, choice in each_tensor(listing, plan(listing, hparams, mix, imatrix))]
        except MixError as refused:
            return str(refused)

    for mix in MIXES:
        for imatrix in (False, True):
            assert planned(listing, mix, imatrix) == planned(afresh, mix, imatrix), (mix, imatrix)


@pytest.mark.parametrize("name", ["llama3.1-8b", "deepseek-v3", "gpt-oss-20b"])
def test_a_formats_totals_are_its_tensors_sums(name: str) -> None:
    """A GGUF's totals are counted from its plan, which is not kept (the rows are planned again when
    read): they must be the rows' own sums, each tensor padded to 32 bytes as llama-quantize writes
    it."""
    from llmcalc.quant import GGUF_ALIGNMENT, QuantSize, quantize_all

    sizes = [size for size in quantize_all(resolve(name)) if isinstance(size, QuantSize)]
    assert len(sizes) > 30
    for size in sizes:
        assert size.bytes == sum(tensor.bytes for tensor in size.tensors), size.format.name
        padded = sum(-(-t.bytes // GGUF_ALIGNMENT) * GGUF_ALIGNMENT for t in size.tensors)
        assert size.padded_bytes == (padded if size.format.kind == "gguf" else size.bytes), size.format.name
        assert len(size.tensors) == len(list(size.tensors)) == len(size.tensors[:])


def test_every_format_leaves_nothing_in_the_planners_caches() -> None:
    """The caches hold a model's names and shapes only while its mixes are planned: kept, they
    raised `quant`'s peak memory by about 190 KB while it printed its table."""
    from llmcalc import llama_quant
    from llmcalc.quant import _data_bytes, quantize_all

    quantize_all(resolve("llama3.1-8b"))
    for cache in (llama_quant.category, llama_quant.quantizable, llama_quant._positions, llama_quant._position,
                  llama_quant._order, llama_quant._choice, _data_bytes):
        assert cache.cache_info().currsize == 0, cache
