"""`llmcalc fit`: the budget of each GPU against independent sources.

- vLLM's KV capacity: published startup logs ("Available KV cache memory: X GiB" with "GPU KV
  cache size: N tokens" and "Maximum concurrency"), each named at its case; the logged GiB is
  rounded to 0.01, so the test checks that the logged tokens lie in the range that rounding allows.
- llama.cpp: published startup logs of its KV cache and model buffers (MiB to 2 decimals).
- Tensor-parallel shards: vLLM's partition arithmetic (QKVParallelLinear's per-rank output
  (heads/tp + 2·max(1, kv/tp))·head_dim, VocabParallelEmbedding's pad-to-64-then-divide), written
  out by hand per case; pipeline stages: vLLM's get_pp_indices worked by hand.
- The roofline: recomputed by hand from its definition (bytes over bandwidth, FLOPs over peak).
- Known facts: a 70B model in bf16 does not fit one 80 GB GPU and fits four.
"""

from __future__ import annotations

import json
from math import ceil, floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.errors import UsageError
from llmcalc.fit import fit, vllm_block_bytes, vllm_kv_tokens, vllm_tensor_parallel
from llmcalc.parallel import layer_split_stages, pipeline_stages, shard_shape
from llmcalc.gpus import CATALOGUE, find_gpu
from llmcalc.memory import DTYPES
from llmcalc.params import count_params
from llmcalc.presets import resolve
from llmcalc.quant import quantize
from llmcalc.scenario import Deployment, Scenario
from llmcalc.tensors import checkpoint_weights

runner = CliRunner()
GIB = 2**30
MIB = 2**20


def run(*args: str, columns: int = 160):
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1"})


def fitted(model: str, seq: str = "4096", batch: str = "1", dtype: str | None = None, **deployment):
    spec = resolve(model)
    point = Scenario.parse(seq=seq, batch=batch, dtype=dtype).resolve(spec)[0][0]
    return fit(spec, point, Deployment.parse(**deployment))


# --- vLLM's KV capacity, from its own startup logs --------------------------------------------------------

# (preset, tensor parallel, logged "Available KV cache memory" GiB, logged "GPU KV cache size"
# tokens, max_model_len, logged "Maximum concurrency" or None)
VLLM_LOGS = [
    # TheBuccaneer/vllm-offload-profiles @547be90, data/provenance/gpu_memory_configuration: vLLM
    # 0.17.1, RTX 3090, Llama-3.1-8B-Instruct, max_model_len 8192, util 0.90 / 0.86 / 0.75.
    ("llama3.1-8b", 1, 5.68, 46_544, 8192, None),
    ("llama3.1-8b", 1, 4.73, 38_736, 8192, None),
    ("llama3.1-8b", 1, 2.13, 17_424, 8192, None),
    # Same repository, Qwen2.5-7B-Instruct, util 0.90 / 0.86 / 0.65.
    ("qwen2.5-7b", 1, 6.32, 118_304, 8192, None),
    ("qwen2.5-7b", 1, 5.35, 100_256, 8192, None),
    ("qwen2.5-7b", 1, 0.49, 9_088, 8192, None),
    # dennislee22/vLLM-benchmarking @b474d1e, log/: vLLM 0.10.1.1, Qwen2-7B-Instruct (the same
    # attention as Qwen2.5-7B: 28 layers, 4 KV heads of 128), max_model_len 16384, A100 80GB at tp 1
    # and 2, util 0.25 / 0.5, and 2 × A100 40GB on two nodes.
    ("qwen2.5-7b", 1, 5.01, 93_872, 16384, 5.73),
    ("qwen2.5-7b", 1, 24.83, 464_848, 16384, 28.37),
    ("qwen2.5-7b", 2, 12.02, 450_192, 16384, 27.48),
    ("qwen2.5-7b", 2, 31.83, 1_192_160, 16384, 72.76),
    ("qwen2.5-7b", 2, 11.03, 412_944, 16384, 25.2),
    # ilseokoh/vllm-gce README: vLLM 0.15.1, A100 40GB, Llama-3.1-8B-Instruct, max_model_len 131072.
    ("llama3.1-8b", 1, 19.28, 157_936, 131072, 1.2),
]


@pytest.mark.parametrize(("model", "tp", "gib", "tokens", "max_len", "concurrency"), VLLM_LOGS)
def test_vllm_kv_capacity_reproduces_published_startup_logs(model, tp, gib, tokens, max_len, concurrency):
    spec = resolve(model)
    block = vllm_block_bytes(spec, range(spec.num_layers), tp, DTYPES["bf16"])
    low = vllm_kv_tokens(floor((gib - 0.005) * GIB), block)
    high = vllm_kv_tokens(ceil((gib + 0.005) * GIB), block)
    assert low <= tokens <= high
    if concurrency is not None:
        assert round(tokens // 16 / ceil(max_len / 16), 2) == concurrency


def test_vllm_page_sizes_follow_its_kv_cache_spec():
    # kv_cache_interface.py: page = 2 × block_size × kv_heads per rank × head_size × dtype bytes
    # (MLA: one latent of kv_lora_rank + qk_rope_head_dim, whole on every rank).
    llama = resolve("llama3.1-70b")
    assert vllm_block_bytes(llama, range(80), 8, DTYPES["bf16"]) == 80 * 2 * 16 * 1 * 128 * 2
    assert vllm_block_bytes(llama, range(80), 16, DTYPES["bf16"]) == 80 * 2 * 16 * 1 * 128 * 2  # replicated
    assert vllm_block_bytes(llama, range(80), 1, DTYPES["fp8_e4m3"]) == 80 * 2 * 16 * 8 * 128 * 1
    deepseek = resolve("deepseek-v3")
    assert vllm_block_bytes(deepseek, range(61), 8, DTYPES["bf16"]) == 61 * 16 * 576 * 2
    assert vllm_block_bytes(resolve("gemma2-9b"), range(42), 1, DTYPES["bf16"]) is None  # windows: grouped pools


# --- llama.cpp, from its own startup logs -----------------------------------------------------------------

def test_llamacpp_kv_cache_matches_published_logs():
    # llama.cpp tools/fit-params/README.md: Qwen3-30B-A3B f16 on an RTX 4090, -c 4096: context 384 MiB.
    assert fitted("qwen3-30b-a3b", seq="4096", gpu="rtx-4090", weight_format="q4_k_m") \
        .most_loaded.kv_cache.total == 384 * MIB
    # An Ollama runner log (Dec 2025): Llama-3.1-8B Q4_K_M, n_ctx 8192 over n_seq_max 4 (2048 per
    # sequence): "KV self size = 1024.00 MiB, K (f16): 512.00 MiB, V (f16): 512.00 MiB",
    # "CUDA0 model buffer size = 4403.49 MiB", "CPU_Mapped model buffer size = 281.81 MiB".
    result = fitted("llama3.1-8b", seq="2048", batch="4", gpu="rtx-4090", weight_format="q4_k_m")
    assert result.most_loaded.kv_cache.total == 1024 * MIB
    assert round(result.most_loaded.weights.total / MIB, 2) == 4403.49
    assert round(result.host_bytes / MIB, 2) == 281.81
    assert result.point.cache_dtype.dtype.name == "fp16"  # llama.cpp's -ctk/-ctv default, not the model's bf16


def test_vllm_window_layers_hold_the_window_plus_a_prefill_chunk_and_a_block():
    # kv_cache_interface.py SlidingWindowSpec.max_memory_usage_bytes:
    # (cdiv(min(w − 1 + max_num_batched_tokens, max_model_len), block) + 1) × page. Gemma-2-9B on an
    # H100 (max_num_batched_tokens 8,192 for `vllm serve` on a GPU of 70 GiB or more), 32k tokens.
    result = fitted("gemma2-9b", seq="32768", gpu="h100")
    page = 16 * 2 * 8 * 256 * 2
    window_blocks = ceil(min(4096 - 1 + 8192, 32768) / 16) + 1
    assert result.most_loaded.kv_cache.total == 21 * page * (32768 // 16) + 21 * page * window_blocks


def test_llamacpp_cells_are_padded_per_sequence_and_windows_keep_window_plus_ubatch():
    # llama-kv-cache-iswa.cpp: size_swa = GGML_PAD(min(size_base, n_swa + n_ubatch), 256); n_ctx_seq
    # padded to 256. Gemma-2-9B: 21 sliding layers (window 4,096) and 21 full, 8 KV heads of 256.
    result = fitted("gemma2-9b", seq="10000", gpu="rtx-4090", weight_format="q8_0")
    row = 8 * 256 * 2  # f16 K or V per cell and layer
    full_cells = ceil(10000 / 256) * 256  # 10,240
    window_cells = ceil((4096 + 512) / 256) * 256  # 4,608
    assert result.most_loaded.kv_cache.total == 21 * 2 * row * (full_cells + window_cells)


def test_llamacpp_splits_layers_as_its_loader_does():
    # llama.cpp docs/backend/snapdragon/README.md: OLMoE-1B-7B (16 layers) over two devices holds
    # "HTP0 KV buffer size = 306.00 MiB" and "HTP1 ... = 238.00 MiB" at 34 MiB a layer: 9 and 7 layers.
    stages = layer_split_stages(16, 2)
    assert [len(stage.layers) for stage in stages] == [9, 7]
    assert [stage.head for stage in stages] == [False, True]
    assert not any(stage.embedding for stage in stages)  # the token embedding stays on the host


def test_vllm_pipeline_stages_follow_get_pp_indices():
    # vllm/distributed/utils.py get_pp_indices: layers // pp each, the remainder one each to
    # partitions[-2], [-3], ... (80 // 3 = 26, remainder 2; 61 // 4 = 15, remainder 1).
    assert [len(s.layers) for s in pipeline_stages(80, 3, tied=False)] == [27, 27, 26]
    assert [len(s.layers) for s in pipeline_stages(61, 4, tied=False)] == [15, 15, 16, 15]
    stages = pipeline_stages(28, 2, tied=True)
    assert (stages[0].embedding, stages[0].head, stages[1].embedding, stages[1].head) == (True, False, True, True)


# --- tensor-parallel shards --------------------------------------------------------------------------------

def shard(model: str, name_end: str, tp: int) -> tuple[int, ...]:
    weight = next(w for w in checkpoint_weights(resolve(model)) if w.name.endswith(name_end))
    return shard_shape(weight, vllm_tensor_parallel(tp))


def test_tp_shards_match_vllm_partitions():
    # Llama-3.1-70B: 64 heads, 8 KV heads of 128, hidden 8,192, FFN 28,672, vocab 128,256.
    # QKVParallelLinear at tp 8: (64/8 + 2·1)·128 = 1,280 rows; at tp 16: (4 + 2·max(1, 0))·128 = 768.
    q, k, v = (shard("llama3.1-70b", f"{p}_proj.weight", 8)[0] for p in "qkv")
    assert q + k + v == (64 // 8 + 2 * 1) * 128
    q, k, v = (shard("llama3.1-70b", f"{p}_proj.weight", 16)[0] for p in "qkv")
    assert q + k + v == (64 // 16 + 2 * 1) * 128
    assert shard("llama3.1-70b", "o_proj.weight", 8) == (8192, 64 // 8 * 128)  # RowParallelLinear
    assert shard("llama3.1-70b", "gate_proj.weight", 8) == (28672 // 8, 8192)  # MergedColumnParallelLinear
    assert shard("llama3.1-70b", "down_proj.weight", 8) == (8192, 28672 // 8)
    assert shard("llama3.1-70b", "embed_tokens.weight", 8) == (128256 // 8, 8192)
    # Qwen2.5-7B: vocab 152,064 (a multiple of 64), tp 2; its QKV biases split with their heads and
    # the norms stay whole.
    assert shard("qwen2.5-7b", "embed_tokens.weight", 2) == (152064 // 2, 3584)
    assert shard("qwen2.5-7b", "k_proj.bias", 2) == (4 // 2 * 128,)
    assert shard("qwen2.5-7b", "input_layernorm.weight", 2) == (3584,)
    # DeepSeek-V3's MLA down-projections are ReplicatedLinear; q_b and kv_b are column-parallel.
    assert shard("deepseek-v3", "kv_a_proj_with_mqa.weight", 8) == (512 + 64, 7168)
    assert shard("deepseek-v3", "q_b_proj.weight", 8) == (128 // 8 * 192, 1536)
    # gpt-oss: one sink per head, split with the heads; the padded vocabulary (201,088 is a multiple of 64).
    assert shard("gpt-oss-120b", "sinks", 8) == (64 // 8,)


def test_a_shard_times_tp_is_the_model_plus_the_replicated_copies():
    spec = resolve("llama3.1-70b")
    total = count_params(spec).total * 2
    replicated = sum(w.elements for w in checkpoint_weights(spec) if w.split == "replicated") * 2
    for tp in (2, 4, 8):
        weights = fitted("llama3.1-70b", gpu="h100", gpus=tp).most_loaded.weights.total
        assert weights * tp == total + (tp - 1) * replicated


def test_tp_that_splits_heads_unevenly_is_a_usage_error():
    with pytest.raises(UsageError, match="does not divide the 32 attention heads"):
        fitted("llama3.1-8b", gpu="h100", gpus=3)


# --- known facts ------------------------------------------------------------------------------------------

def test_a_70b_model_in_bf16_does_not_fit_one_80gb_gpu_and_fits_four():
    assert not fitted("llama3.1-70b", gpu="h100").fits
    assert not fitted("llama3.1-70b", gpu="a100-80gb").fits
    assert fitted("llama3.1-70b", gpu="h100", gpus=4).fits
    assert fitted("llama3.1-70b", gpu="a100-80gb", gpus=4).fits


def test_vllm_capacity_is_the_utilisation_share_rounded_up():
    # Worker.determine_available_memory: requested_memory = ceil(total × gpu_memory_utilization);
    # the default is 0.92 in vllm/config/cache.py since vLLM 0.21 (PR #38284), 0.9 before.
    result = fitted("llama3.1-8b", gpu="h100")
    assert result.capacity_bytes == ceil(85_520_809_984 * 0.92)
    assert fitted("llama3.1-8b", gpu="h100", gpu_utilization="0.9").capacity_bytes == ceil(85_520_809_984 * 0.9)
    assert fitted("llama3.1-8b", gpu="h100", runtime="llamacpp", weight_format="q8_0").capacity_bytes == 85_520_809_984


def test_apple_unified_memory_offers_the_gpu_three_quarters():
    # llama.cpp issue #3213: a 96 GB Mac reports recommendedMaxWorkingSetSize = 73728 MB (0.75).
    m3 = find_gpu("m3-max")
    assert m3.capacity_bytes == 96 * GIB


# --- the roofline, recomputed by hand ----------------------------------------------------------------------

def test_roofline_recomputed_by_hand():
    result = fitted("llama3.1-8b", seq="4096", gpu="h100")
    params, vocab, hidden = 8_030_261_248, 128_256, 4096
    weights = params * 2
    embedding = vocab * hidden * 2  # looked up a row per token: not read whole each step
    cache = 4096 * 32 * 2 * 8 * 128 * 2
    step_bytes = weights - embedding + cache
    assert result.speed.decode_bytes == step_bytes
    assert result.speed.decode_bound == "memory"
    assert result.speed.decode_step_s == pytest.approx(step_bytes / 3.35e12)
    norms = (2 * 32 + 1) * hidden
    multiplied = params - vocab * hidden - norms  # the Linears and the untied head
    attention = 32 * 2 * 32 * 128  # QK and AV widths per layer, per cached token
    assert result.speed.decode_flops == 2 * multiplied + 2 * attention * 4096
    prefill = 2 * 4096 * multiplied + 2 * attention * (4096 * 4097 // 2)
    assert result.speed.prefill_flops == prefill
    assert result.speed.prefill_s == pytest.approx(max(prefill / 989.4e12, weights / 3.35e12))
    assert result.speed.prefill_bound == "compute"


def test_efficiency_scales_the_roofline():
    full = fitted("llama3.1-8b", gpu="h100").speed
    half = fitted("llama3.1-8b", gpu="h100", efficiency="0.5").speed
    assert half.decode_step_s == pytest.approx(2 * full.decode_step_s)


# --- properties ----------------------------------------------------------------------------------------

MODELS = ["llama3.1-8b", "qwen3-32b", "mixtral-8x7b", "deepseek-v2-lite", "gemma2-9b", "gpt-oss-20b"]


@settings(max_examples=25, deadline=None)
@given(model=st.sampled_from(MODELS), seq=st.integers(1, 200_000), batch=st.integers(1, 64),
       gpu=st.sampled_from([g.id for g in CATALOGUE]))
def test_fits_is_exactly_total_within_capacity(model, seq, batch, gpu):
    result = fitted(model, seq=str(seq), batch=str(batch), gpu=gpu)
    assert result.fits == (result.most_loaded.total <= result.capacity_bytes)
    assert result.max_seq == 0 or result.evaluate(result.max_seq, batch) <= result.capacity_bytes


@pytest.mark.parametrize("model", ["llama3.1-8b", "qwen3-32b", "mixtral-8x7b", "llama3.1-70b"])
def test_more_gpus_never_lower_max_seq(model):
    seen = [fitted(model, seq="8192", gpu="l40s", gpus=n).max_seq for n in (1, 2, 4, 8)]
    assert seen == sorted(seen)
    layer_split = [fitted(model, seq="8192", gpu="rtx-4090", gpus=n, weight_format="q4_k_m").max_seq
                   for n in (1, 2, 3, 4)]
    assert layer_split == sorted(layer_split)


@pytest.mark.parametrize(("model", "formats"), [
    ("llama3.1-8b", ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q3_k_m", "q2_k")),
    ("qwen3-32b", ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "iq4_xs", "iq2_xxs")),
    ("llama3.1-8b", ("fp8", "gptq-int8", "gptq-int4", "awq-int4")),
])
def test_a_smaller_format_never_raises_the_total(model, formats):
    spec = resolve(model)
    ordered = sorted(formats, key=lambda name: quantize(spec, name).bytes, reverse=True)
    totals = [fitted(model, gpu="h100", weight_format=name).most_loaded.total for name in ordered]
    assert totals == sorted(totals, reverse=True)


# --- the command --------------------------------------------------------------------------------------------

def test_json_contract():
    result = run("fit", "llama3.1-70b", "--gpu", "h100", "--gpus", "4", "--seq", "32k", "--batch", "8", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for key in ("model", "gpu", "gpus", "tp", "pp", "runtime", "format", "kv_dtype", "seq", "batch", "per_gpu",
                "fits", "max_seq", "max_batch", "decode_tokens_per_s", "prefill_seconds", "bound"):
        assert key in document
    assert set(document["gpu"]) >= {"name", "memory_bytes", "bandwidth_bytes_per_s"}
    per_gpu = document["per_gpu"]
    for key in ("weights_bytes", "kv_cache_bytes", "activation_bytes", "overhead_bytes", "total_bytes",
                "capacity_bytes"):
        assert isinstance(per_gpu[key], int)
    assert per_gpu["total_bytes"] == sum(per_gpu[k] for k in ("weights_bytes", "kv_cache_bytes",
                                                               "activation_bytes", "overhead_bytes"))
    assert document["fits"] == (per_gpu["total_bytes"] <= per_gpu["capacity_bytes"])
    assert (document["tp"], document["seq"], document["batch"]) == (4, 32768, 8)
    assert set(per_gpu["estimates"]) == {"activation", "overhead"}


def test_table_names_the_verdict_and_the_remedies():
    result = run("fit", "llama3.1-70b", "--gpu", "h100", "--seq", "4k")
    assert result.exit_code == 0, result.output
    assert "DOES NOT FIT" in result.stdout
    assert "more GPUs: --gpus 2 fits" in result.stdout
    assert "estimate" in result.stdout and "exact" in result.stdout


def test_custom_gpu_from_flags():
    result = run("fit", "mistral-7b", "--gpu-memory", "24GiB", "--bandwidth", "936GB/s", "--seq", "8k", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["gpu"]["memory_bytes"] == 24 * GIB
    assert document["gpu"]["bandwidth_bytes_per_s"] == 936 * 10**9
    assert document["prefill_seconds"] is None  # no --flops: the compute side is unknown


@pytest.mark.parametrize(("args", "fragment"), [
    (("--gpu", "h10"), "did you mean h100"),
    (("--gpu", "h100", "--gpus", "3"), "does not divide the 32 attention heads"),
    (("--gpu-memory", "0GB", "--bandwidth", "1TB/s"), "must be more than zero"),
    (("--gpu-memory", "24", "--bandwidth", "1TB/s"), "with its unit"),
    (("--seq", "4k",), "fit needs a GPU"),
    (("--gpu", "h100", "--format", "q4_k_m", "--runtime", "vllm"), "llama.cpp runs GGUF"),
    (("--gpu", "h100", "--tp", "2", "--runtime", "llamacpp"), "splits a model across GPUs by layers"),
    (("--gpu", "h100", "--gpu-util", "1.5"), "between 0"),
    (("--gpu", "h100", "--dtype", "q4_0"), "vllm's KV cache holds"),
])
def test_bad_input_is_one_plain_line_and_exit_2(args, fragment):
    result = run("fit", "llama3.1-8b", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert 1 <= len(result.stderr.strip().splitlines()) <= 2
    assert fragment in result.stderr


def test_models_fit_does_not_model_are_refused_plainly():
    result = run("fit", "mamba-codestral-7b", "--gpu", "h100")
    assert result.exit_code == 1, result.output
    assert "fit models attention decoders" in result.stderr


def test_gpus_lists_the_catalogue_with_sources():
    result = run("gpus", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {entry["id"] for entry in document} >= {
        "h100-sxm", "h100-pcie", "h200-sxm", "b200", "a100-sxm-40gb", "a100-sxm-80gb", "l40s", "l4", "a10",
        "rtx-3090", "rtx-4090", "rtx-5090", "rtx-6000-ada", "mi300x", "mi325x", "m4-max-128gb"}
    assert all(entry["sources"] for entry in document)


def fit_json(*args: str) -> dict:
    result = run("fit", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_compare_rows_are_fits_answers():
    document = json.loads(run("compare", "llama3.1-8b", "qwen3-32b", "--gpu", "rtx-4090", "--quant", "q4_k_m",
                              "--json").stdout)
    rows = {row["name"]: row["values"] for row in document["rows"] if row["section"].startswith("fit on")}
    for index, model in enumerate(("llama3.1-8b", "qwen3-32b")):
        answer = fit_json(model, "--gpu", "rtx-4090", "--format", "q4_k_m", "--seq", str(document["seq_len"]))
        assert rows["its total (with the estimates)"][index] == answer["per_gpu"]["total_bytes"]
        assert rows["fits"][index] == ("yes" if answer["fits"] else "no")
        assert rows["largest context"][index] == answer["max_seq"]


def test_compare_leaves_a_model_fit_does_not_model_blank():
    document = json.loads(run("compare", "llama3.1-8b", "mamba-codestral-7b", "--gpu", "h100", "--json").stdout)
    fits = next(row for row in document["rows"] if row["name"] == "fits")
    assert fits["values"] == ["yes", None]


def test_explain_fit_derives_the_same_budget():
    document = json.loads(run("explain", "llama3.1-70b", "--topic", "fit", "--gpu", "h100", "--gpus", "4",
                              "--seq", "8k", "--json").stdout)
    answer = fit_json("llama3.1-70b", "--gpu", "h100", "--gpus", "4", "--seq", "8k")
    assert document["total"] == answer["per_gpu"]["total_bytes"]
    results = [section["result"] for section in document["sections"]]
    assert answer["per_gpu"]["weights_bytes"] in results and answer["per_gpu"]["kv_cache_bytes"] in results


def test_explain_gpu_options_go_with_the_fit_topic():
    result = run("explain", "llama3.1-8b", "--gpu", "h100")
    assert result.exit_code == 2 and "go with --topic fit" in result.stderr


def test_only_apple_gpus_share_their_memory():
    shared = {gpu.id for gpu in CATALOGUE if gpu.usable_share is not None}
    assert shared == {"m2-ultra-192gb", "m3-max-128gb", "m4-max-128gb"}
    assert find_gpu("mi300x").capacity_bytes == 205_822_885_888  # rocm-smi's VRAM Total Memory


def test_a_tp_slice_a_format_cannot_hold_is_named_not_guessed():
    # gpt-oss-120b's experts are 2,880 wide: 360 per GPU at tp 8, not whole 32-value MXFP4 blocks.
    result = run("fit", "gpt-oss-120b", "--gpu", "h100", "--gpus", "8")
    assert result.exit_code == 2 and "--expert-parallel" in result.stderr
    assert run("fit", "gpt-oss-120b", "--gpu", "h100", "--gpus", "8", "--expert-parallel").exit_code == 0
    assert "only 28 layers" in run("fit", "qwen2.5-7b", "--gpu", "h100", "--pp", "29").stderr


@settings(max_examples=300, deadline=None)
@given(threshold=st.integers(min_value=0, max_value=5_000), limit=st.integers(min_value=1, max_value=4_000))
def test_the_capacity_search_finds_the_largest_size_that_fits(threshold: int, limit: int) -> None:
    """max_seq and max_batch search sizes with `_largest`: for any size that fits up to a threshold
    and not beyond, it must return what counting up one by one would (0 when not even 1 fits),
    and ask the (costly) budget at most about 2·log2 of the answer times, once when the limit fits."""
    from llmcalc.fit import _largest

    asked: list[int] = []

    def fits(n: int) -> bool:
        asked.append(n)
        return n <= threshold

    expected = max((n for n in range(1, limit + 1) if n <= threshold), default=0)
    assert _largest(fits, limit) == expected
    assert len(asked) <= 2 * max(1, limit).bit_length() + 2
    if 1 <= threshold and limit <= threshold:
        assert len(asked) == 2  # 1, then the limit
