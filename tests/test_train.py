"""`llmcalc train`: training memory and compute against independent published numbers.

- Model states: the ZeRO paper (Rajbhandari et al. 2020), Figure 1: a 7.5B-parameter model on 64
  GPUs with mixed-precision Adam needs 120 / 31.4 / 16.6 / 1.9 GB per GPU by stage.
- Activations: Korthikanti et al. (2022), Table 2, at GPT-3 175B's shape (h 12,288, a 96, s 2,048,
  t 8, b 1): sbh(34 + 5as/h), sbh(10 + 24/t + 5as/(ht)), 34sbh/t with sequence parallelism and
  selective recomputation, 2sbh with full recomputation.
- FLOPs: GPT-3's published 3.14e23 training FLOPs (Brown et al. 2020, table D.1: 175B, 300B tokens)
  for 6ND.
- LoRA: peft's printed trainable-parameter counts (Llama-2-7B, r 8 on q_proj and v_proj:
  "trainable params: 4,194,304 || all params: 6,742,609,920").
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.errors import UsageError
from llmcalc.presets import resolve
from llmcalc.scenario import Training, parse_run_tokens
from llmcalc.schema import build_spec
from llmcalc.train import train

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "160", "NO_COLOR": "1"})


# A model of exactly 7.5e9 parameters (tied head): 4,000 × 44,939 + 30 × (4 × 4,000² + 3 × 4,000 ×
# 15,000 + 2 × 4,000) + 4,000.
ZERO_PAPER_MODEL = build_spec({
    "name": "zero-7.5b", "vocab_size": 44939, "hidden_size": 4000, "num_hidden_layers": 30,
    "num_attention_heads": 40, "num_key_value_heads": 40, "intermediate_size": 15000, "norm": "rmsnorm",
    "gated_ffn": True, "tie_word_embeddings": True, "max_position_embeddings": 4096}, "zero-7.5b")

# GPT-3 175B (Brown et al. 2020, table 2.1): 96 layers, d_model 12,288, 96 heads, context 2,048,
# learned positions, LayerNorm, biases, tied embeddings, FFN 4 × d_model.
GPT3 = build_spec({
    "name": "gpt3-175b", "vocab_size": 50257, "hidden_size": 12288, "num_hidden_layers": 96,
    "num_attention_heads": 96, "intermediate_size": 49152, "max_position_embeddings": 2048,
    "learned_position_embeddings": True, "norm": "layernorm", "gated_ffn": False, "attention_bias": True,
    "mlp_bias": True, "tie_word_embeddings": True}, "gpt3-175b")


def states(result) -> int:
    budget = result.most_loaded
    return budget.weights.total + budget.gradients.total + budget.optimizer.total


@pytest.mark.parametrize(("zero", "gigabytes"), [("0", 120.0), ("1", 31.4), ("2", 16.6), ("3", 1.9)])
def test_zero_paper_figure_1(zero, gigabytes):
    result = train(ZERO_PAPER_MODEL, Training.parse(gpus=64, zero=zero if zero != "0" else None))
    assert result.total_params == 7_500_000_000
    assert round(states(result) / 1e9, 1) == gigabytes


def test_megatron_convention_is_18_bytes_or_6_plus_12_over_d():
    plain = train(ZERO_PAPER_MODEL, Training.parse(gpus=64, convention="megatron"))
    assert states(plain) == 18 * 7_500_000_000
    distributed = train(ZERO_PAPER_MODEL, Training.parse(gpus=64, zero="1", convention="megatron"))
    assert states(distributed) == 6 * 7_500_000_000 + 12 * 7_500_000_000 // 64


def per_layer(**options) -> int:
    return train(GPT3, Training.parse(seq="2048", gpus=8, tp=8, dropout=True, attention="eager",
                                      **options)).per_layer.total


def test_korthikanti_table_2_at_gpt3_175b():
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    no_tp = train(GPT3, Training.parse(seq="2048", dropout=True, attention="eager")).per_layer.total
    assert no_tp == s * b * h * 34 + 5 * a * s * s * b
    assert per_layer() == s * b * h * 10 + (24 * s * b * h + 5 * a * s * s * b) // t
    assert per_layer(sequence_parallel=True) == (34 * s * b * h + 5 * a * s * s * b) // t
    assert per_layer(recompute="selective") == s * b * h * 10 + 24 * s * b * h // t
    assert per_layer(sequence_parallel=True, recompute="selective") == 34 * s * b * h // t
    # Full recomputation keeps only each layer's input (the paper's §5 baseline, 2sbh).
    assert per_layer(recompute="full") == 2 * s * b * h


def test_output_layer_is_4sbh_times_1_plus_v_over_h():
    # Korthikanti §4.3 / Megatron-LM theoretical_memory_usage.py: the output layer keeps 4sbh(1 + v/h)
    # (the final norm's and the head's inputs, and the float32 softmax over the vocabulary); GPT-3's
    # vocabulary padded to 128 (Megatron's --make-vocab-size-divisible-by): 50,304.
    result = train(GPT3, Training.parse(seq="2048"))
    output = next(part for part in result.most_loaded.activations.children if part.key == "output")
    assert output.total == 4 * 2048 * 12288 + 4 * 2048 * 50304


def test_flash_attention_and_no_dropout_drop_the_s_squared_terms():
    flash = train(GPT3, Training.parse(seq="2048")).per_layer.total
    s, b, h, a = 2048, 1, 12288, 96
    # 34sbh less the two dropout masks (2sbh: one byte each), plus flash's float32 log-sum-exp per head.
    assert flash == 32 * s * b * h + 4 * a * s * b


def test_gpt3_training_flops_6nd():
    result = train(GPT3, Training.parse(seq="2048", tokens="300e9"))
    # 6ND for 175B parameters and 300B tokens: 3.14e23 (the input embedding, a lookup, is not
    # multiplied; the tied head is).
    assert f"{result.dense_flops_per_token * 300e9:.2e}" == "3.14e+23"
    assert result.training_flops == result.flops_per_token * 300_000_000_000
    assert result.attention_flops_per_token == 12 * 96 * 2048 * 12288


def test_recomputation_adds_forward_work():
    plain = train(GPT3, Training.parse(seq="2048"))
    full = train(GPT3, Training.parse(seq="2048", recompute="full"))
    assert full.hardware_flops_per_token * 6 == plain.flops_per_token * 8  # 8N instead of 6N
    assert full.flops_per_token == plain.flops_per_token  # model FLOPs: what MFU divides


def test_lora_trainable_params_match_peft():
    # peft's print_trainable_parameters for Llama-2-7B, LoRA r 8 on q_proj and v_proj:
    # "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622".
    result = train(resolve("llama2-7b"), Training.parse(lora_rank=8))
    assert result.trainable_params == 4_194_304
    assert result.most_loaded.params == 6_742_609_920
    assert train(resolve("llama2-7b"), Training.parse(lora_rank=16)).trainable_params == 8_388_608


def test_time_of_a_run_at_a_stated_mfu():
    result = train(resolve("llama3.1-8b"), Training.parse(gpus=8, tokens="15T", gpu="h100", mfu="0.5"))
    expected = result.flops_per_token * 15 * 10**12 / (8 * 989.4e12 * 0.5)
    assert result.seconds == pytest.approx(expected)
    assert result.gpu_hours == pytest.approx(expected * 8 / 3600)
    assert result.chinchilla_tokens == 20 * 8_030_261_248


def test_run_tokens_accept_exponents_and_suffixes():
    assert parse_run_tokens("--tokens", "15e12") == parse_run_tokens("--tokens", "15T") == 15 * 10**12
    with pytest.raises(UsageError):
        parse_run_tokens("--tokens", "1.5")


@pytest.mark.parametrize(("args", "fragment"), [
    (("--gpus", "6", "--tp", "4"), "not a multiple of --tp 4"),
    (("--zero", "3"), "shards over the data-parallel GPUs, and there is one"),
    (("--gpus", "8", "--tp", "3", "--pp", "1"), "not a multiple"),
    (("--gpus", "3", "--tp", "3"), "does not divide the 32"),
    (("--gpus", "8", "--pp", "3"), "not a multiple"),
    (("--zero", "5", "--gpus", "2"), "use 0, 1, 2, 3"),
    (("--offload", "all", "--gpus", "2", "--zero", "2"), "needs --zero 3"),
    (("--lora-modules", "q_proj"), "give --lora-rank"),
    (("--lora-rank", "8", "--lora-modules", "query"), "Linear modules are"),
    (("--tokens", "lots"), "expected a number of tokens"),
])
def test_invalid_combinations_exit_2_with_one_line(args, fragment):
    result = run("train", "llama3.1-8b", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert 1 <= len(result.stderr.strip().splitlines()) <= 2
    assert fragment in result.stderr


def test_json_contract():
    result = run("train", "llama3.1-8b", "--gpus", "8", "--zero", "3", "--seq", "8k", "--micro-batch", "2",
                 "--recompute", "selective", "--tokens", "1T", "--gpu", "h100", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for key in ("model", "gpus", "zero", "tp", "pp", "dp", "seq", "micro_batch", "recompute", "attention",
                "trainable_params", "per_gpu", "activation_bytes_per_layer", "flops_per_token", "training_flops",
                "seconds", "gpu_hours"):
        assert key in document
    per_gpu = document["per_gpu"]
    assert per_gpu["total_bytes"] == sum(per_gpu[k] for k in ("weights_bytes", "gradients_bytes",
                                                               "optimizer_bytes", "activation_bytes"))
    assert (document["dp"], document["zero"], document["seq"]) == (8, 3, 8192)


def test_explain_train_derives_the_same_budget():
    document = json.loads(run("explain", "llama3.1-8b", "--topic", "train", "--gpus", "8", "--seq", "8k",
                              "--json").stdout)
    answer = json.loads(run("train", "llama3.1-8b", "--gpus", "8", "--seq", "8k", "--json").stdout)
    assert document["total"] == answer["per_gpu"]["total_bytes"]
    sections = {section["title"]: section["result"] for section in document["sections"]}
    assert sections["Activations of one layer (estimate)"] == answer["activation_bytes_per_layer"]


# DeepSpeed's docs (docs/code-docs/source/memory.rst): t5-3b on one node of 8 GPUs, the estimators
# run "cold" with total_params=2851e6, largest_layer_params=32e6; GB there is 2^30 bytes.
DEEPSPEED_ZERO3_T5_3B = [  # (offload_params, offload_optimizer, zero_init, per CPU, per GPU)
    (True, True, True, "71.69", "0.12"), (True, True, False, "127.45", "0.12"),
    (False, True, True, "63.72", "0.78"), (False, True, False, "127.45", "0.78"),
    (False, False, True, "1.43", "6.09"), (False, False, False, "127.45", "6.09"),
]


@pytest.mark.parametrize(("params", "optimizer", "zero_init", "cpu", "gpu"), DEEPSPEED_ZERO3_T5_3B)
def test_deepspeed_estimator_reproduces_its_documented_zero3_table(params, optimizer, zero_init, cpu, gpu):
    from llmcalc.train import deepspeed_estimate

    host, device = deepspeed_estimate(2851 * 10**6, 32 * 10**6, 3, gpus_per_node=8, offload_optimizer=optimizer,
                                      offload_params=params, zero_init=zero_init)
    assert (f"{host / 2**30:.2f}", f"{device / 2**30:.2f}") == (cpu, gpu)


def test_deepspeed_zero2_table_and_its_stale_row():
    from llmcalc.train import deepspeed_estimate

    # Same docs, ZeRO-2: "127.45GB | 5.31GB | offload_optimizer=cpu" reproduces; the no-offload row
    # "15.93GB" is the formula before DeepSpeed PR #5099 (4P + 16P/N), which its code replaced with
    # 2P + 18P/N (11.28 GiB): the docs were not updated.
    host, device = deepspeed_estimate(2851 * 10**6, 0, 2, gpus_per_node=8, offload_optimizer=True)
    assert (f"{host / 2**30:.2f}", f"{device / 2**30:.2f}") == ("127.45", "5.31")
    assert f"{deepspeed_estimate(2851 * 10**6, 0, 2, gpus_per_node=8)[1] / 2**30:.2f}" == "11.28"
    assert f"{(4 * 2851 * 10**6 + 16 * 2851 * 10**6 // 8) / 2**30:.2f}" == "15.93"


def test_deepspeed_convention_takes_the_largest_module_and_shards_over_every_gpu():
    # transformers' docs (deepspeed.md, "Memory requirements"): bigscience/T0_3B on 1 GPU, "SW: Model
    # with 2783M total params, 65M largest layer params", no offload: "46.91GB" per GPU. Here the same
    # rule over Llama-3.1-8B's exact counts: the largest module is the 128,256 × 4,096 embedding.
    from llmcalc.train import deepspeed_estimate

    assert f"{deepspeed_estimate(2_783_959_040, 65_798_144, 3)[1] / 2**30:.2f}" == "46.91"
    result = train(resolve("llama3.1-8b"), Training.parse(gpus=8, zero="3", convention="deepspeed"))
    assert states(result) == 4 * 128256 * 4096 + int(18 * 8_030_261_248 / 8)


def test_peft_counts_for_gqa_models_and_all_linear():
    # peft 0.21.2 print_trainable_parameters on transformers 5.23 models built on the meta device:
    # Llama-3.1-8B r 16 all-linear "trainable params: 41,943,040"; Qwen2.5-7B r 64 all-linear
    # "161,480,704"; Mistral-7B-v0.1 r 8 q_proj,v_proj "3,407,872"; Mixtral-8x7B r 8 q_proj,v_proj
    # "3,407,872".
    cases = [("llama3.1-8b", 16, "all-linear", 41_943_040), ("qwen2.5-7b", 64, "all-linear", 161_480_704),
             ("mistral-7b", 8, "q_proj,v_proj", 3_407_872), ("mixtral-8x7b", 8, "q_proj,v_proj", 3_407_872)]
    for model, rank, modules, trainable in cases:
        assert train(resolve(model), Training.parse(lora_rank=rank, lora_modules=modules)).trainable_params == \
            trainable, model
