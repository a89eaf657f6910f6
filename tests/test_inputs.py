"""Real models as input: config.json files, model folders, the local HF cache, import, verify,
user presets.

Expected counts for the config fixtures are in tests/fixtures/configs/expected.json, each
with its source: transformers built from that very file on the meta device
(tools/xcheck_configs.py), or a published count for remote-code models.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app
from llmcalc.hf_config import MODEL_TYPE_SPELLINGS, READERS, load_config
from llmcalc.kvcache import kv_cache
from llmcalc.memory import DTYPES
from llmcalc.params import count_params
from llmcalc.presets import resolve
from llmcalc.scenario import point
from safetensors_files import write_safetensors

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "configs"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
runner = CliRunner()


def run(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "140", "NO_COLOR": "1", **env})


def assert_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


# --- config.json ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_fixture_count(name: str) -> None:
    spec, warnings = load_config(FIXTURES / name)
    assert warnings == []
    assert count_params(spec).total == EXPECTED[name]["params"], EXPECTED[name]["source"]


def _counted_model_type(data: dict) -> str:
    """The model type llmcalc counts: a multimodal config's language model sits in text_config."""
    if data["model_type"] not in READERS and "text_config" in data:
        return data["text_config"]["model_type"]
    return MODEL_TYPE_SPELLINGS.get(data["model_type"], data["model_type"])


@pytest.mark.parametrize("name", sorted(path.stem for path in (FIXTURES / "presets").glob("*.json")))
def test_a_preset_equals_the_config_it_was_imported_from(name: str) -> None:
    # presets/NAME.json is the config.json each 2024–2026 preset was written from (llmcalc import);
    # its count is transformers 5.23's for that file (expected.json), and the preset must agree
    # with it in every parameter and every byte of cache.
    from_config, _ = load_config(FIXTURES / "presets" / f"{name}.json")
    preset = resolve(name)
    assert count_params(preset).total == count_params(from_config).total == EXPECTED[f"presets/{name}.json"]["params"]
    assert preset.reference is not None and preset.reference.params == count_params(preset).total
    for tokens in (1, 100_000):
        ours = kv_cache(preset, point(preset, tokens, 1, DTYPES["bf16"]))
        theirs = kv_cache(from_config, point(from_config, tokens, 1, DTYPES["bf16"]))
        assert ours.total == theirs.total


def test_every_supported_model_type_has_a_fixture() -> None:
    types = {_counted_model_type(json.loads((FIXTURES / name).read_text())) for name in EXPECTED}
    assert types == set(READERS)


def test_config_path_and_folder_as_model(tmp_path: Path) -> None:
    expected = EXPECTED["llama3_2_1b.json"]["params"]
    by_file = json.loads(run("params", str(FIXTURES / "llama3_2_1b.json"), "--json").stdout)
    (tmp_path / "config.json").write_text((FIXTURES / "llama3_2_1b.json").read_text())
    by_folder = json.loads(run("params", str(tmp_path), "--json").stdout)
    assert by_file["total_params"] == by_folder["total_params"] == expected
    assert by_file["lm_head"] == "tied"  # Llama-3.2-1B ties its embeddings


def test_config_dtype_and_quantization_flow_into_kvcache() -> None:
    # DeepSeek-V3: torch_dtype bfloat16 for the cache; quantization_config fp8 e4m3 for the weights.
    doc = json.loads(run("kvcache", str(FIXTURES / "deepseek_v3.json"), "--seq", "4k", "--json").stdout)
    assert doc["dtype"] == "bf16" and doc["weights"]["dtype"] == "fp8_e4m3"
    assert doc["weights"]["bytes"] == EXPECTED["deepseek_v3.json"]["params"]  # one byte per weight
    t5 = json.loads(run("kvcache", str(FIXTURES / "t5_base.json"), "--seq", "128", "--json").stdout)
    assert t5["dtype"] == "fp32"  # t5-base is published in float32


def test_gemma3_sliding_schedule_from_config() -> None:
    spec, _ = load_config(FIXTURES / "gemma3_1b_it.json")
    windows = [layer.mixer.sliding_window for layer in spec.stacks[0].layers]
    # sliding_window_pattern 6: every 6th layer global, the others keep 512 tokens
    assert windows[:6] == [512] * 5 + [None] and windows.count(None) == 26 // 6


def test_qwen_sliding_window_only_when_enabled() -> None:
    spec, _ = load_config(FIXTURES / "qwen2_7b.json")  # use_sliding_window: false
    assert all(layer.mixer.sliding_window is None for layer in spec.stacks[0].layers)


@pytest.mark.parametrize("content, fragments", [
    ("{oops", ("line 1, column 2", "not valid JSON")),
    ("[1, 2]", ("expected a JSON object",)),
    (b"\xff\xfe".decode("latin-1"), ("not",)),
    ('{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,'
     ' "intermediate_size": 8}', ("vocab_size", "missing")),
    ('{"model_type": "llama", "vocab_size": 10, "hidden_size": "64", "num_hidden_layers": 2,'
     ' "num_attention_heads": 4, "intermediate_size": 8}', ("hidden_size", "must be int")),
    ('{"model_type": "xlstm", "hidden_size": 64}', ("model_type", "'xlstm' is not supported", "llama, llama4_text, mamba")),
])
def test_broken_config_json(tmp_path: Path, content: str, fragments: tuple[str, ...]) -> None:
    path = tmp_path / "config.json"
    path.write_text(content, encoding="latin-1")
    assert_error(run("params", str(path)), 1, str(path), *fragments)


def test_assume_counts_an_unknown_type_with_a_warning(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "llama2_7b.json").read_text())
    data["model_type"] = "mystery"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    result = run("params", str(path), "--assume", "llama", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total_params"] == EXPECTED["llama2_7b.json"]["params"]
    assert "warning: model_type 'mystery' is not supported: counted as 'llama'-like" in result.stderr
    assert_error(run("params", str(path), "--assume", "xlstm"), 1, "--assume")


def test_folder_without_config(tmp_path: Path) -> None:
    assert_error(run("params", str(tmp_path)), 1, "config.json")


# --- the local Hugging Face cache -------------------------------------------------------------

def cache_snapshot(hub: Path, repo: str, revision: str, config: str) -> Path:
    folder = hub / f"models--{repo.replace('/', '--')}" / "snapshots" / revision
    folder.mkdir(parents=True)
    (folder / "config.json").write_text((FIXTURES / config).read_text())
    return folder / "config.json"


def test_repo_id_from_the_cache_newest_snapshot(tmp_path: Path) -> None:
    old = cache_snapshot(tmp_path, "Qwen/Qwen3-0.6B", "aaa", "qwen2_0_5b.json")
    new = cache_snapshot(tmp_path, "Qwen/Qwen3-0.6B", "bbb", "qwen3_0.6b.json")
    os.utime(old, (time.time() - 100, time.time() - 100))
    doc = json.loads(run("params", "Qwen/Qwen3-0.6B", "--json", HF_HUB_CACHE=str(tmp_path)).stdout)
    assert doc["total_params"] == EXPECTED["qwen3_0.6b.json"]["params"] and new.exists()


def test_hf_home_is_the_fallback(tmp_path: Path) -> None:
    cache_snapshot(tmp_path / "hub", "org/model", "r1", "gpt2.json")
    doc = json.loads(run("params", "org/model", "--json", HF_HOME=str(tmp_path), HF_HUB_CACHE="").stdout)
    assert doc["total_params"] == EXPECTED["gpt2.json"]["params"]


def test_uncached_repo_id_offline_says_so(tmp_path: Path) -> None:
    result = run("params", "Qwen/Qwen3-4B", HF_HUB_CACHE=str(tmp_path), HF_HUB_OFFLINE="1")
    assert_error(result, 2, "Qwen/Qwen3-4B", "no cached config.json", "network is off")


def test_preset_alias_wins_over_the_cache(tmp_path: Path) -> None:
    doc = json.loads(run("params", "meta-llama/Llama-2-7b-hf", "--json", HF_HUB_CACHE=str(tmp_path)).stdout)
    assert doc["model"] == "llama2-7b"


# --- import -------------------------------------------------------------------------------

def test_import_round_trips(tmp_path: Path) -> None:
    result = run("import", str(FIXTURES / "deepseek_v2_lite.json"), "--name", "dsv2-lite")
    assert result.exit_code == 0 and result.stdout.startswith("# written by")
    preset = tmp_path / "dsv2-lite.yaml"
    preset.write_text(result.stdout)
    doc = json.loads(run("params", str(preset), "--json").stdout)
    assert doc["model"] == "dsv2-lite" and doc["total_params"] == EXPECTED["deepseek_v2_lite.json"]["params"]


def test_import_writes_atomically_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "presets" / "g.yaml"
    assert run("import", str(FIXTURES / "gemma_2b.json"), "-o", str(target)).exit_code == 0
    first = target.read_text()
    assert_error(run("import", str(FIXTURES / "gpt2.json"), "-o", str(target)), 2, "exists", "--force")
    assert target.read_text() == first
    assert run("import", str(FIXTURES / "gpt2.json"), "-o", str(target), "--force").exit_code == 0
    assert "n_embd" not in target.read_text() and "learned_position_embeddings: true" in target.read_text()
    assert [path.name for path in target.parent.iterdir()] == ["g.yaml"]  # no temporary file left


# --- verify ---------------------------------------------------------------------------------

# Tiny random models of each 2024–2026 model type, saved by transformers 5.23's save_pretrained:
# their config.json, the name, dtype and shape of every tensor the safetensors file holds, and
# num_parameters() of the model that wrote it (the dev-time script is described in
# tests/fixtures/checkpoints/README.md). verify must find the formula and the file agree, setting
# apart the buffers those files also hold (GLM-4.5's and dots.llm1's e_score_correction_bias,
# MiniMax's decay tables).
TINY_CHECKPOINTS = json.loads((FIXTURES.parent / "checkpoints" / "tiny_2024_2026.json").read_text())


@pytest.mark.parametrize("model_type", sorted(TINY_CHECKPOINTS))
def test_verify_a_checkpoint_save_pretrained_wrote(tmp_path: Path, model_type: str) -> None:
    recorded = TINY_CHECKPOINTS[model_type]
    (tmp_path / "config.json").write_text(json.dumps(recorded["config"]))
    write_safetensors(tmp_path / "model.safetensors",
                      {name: (dtype, shape) for name, dtype, shape in recorded["tensors"]})
    result = run("verify", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["agrees"] and report["formula_params"] == report["stored_params"] == recorded["num_parameters"]


TINY = {"model_type": "llama", "vocab_size": 32, "hidden_size": 16, "intermediate_size": 24,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": False}


def tiny_llama_tensors(layers: int = 2) -> dict[str, tuple[str, list[int]]]:
    """The tensors transformers' LlamaForCausalLM saves for TINY, plus rotary inv_freq buffers."""
    tensors = {"model.embed_tokens.weight": ("BF16", [32, 16]), "model.norm.weight": ("BF16", [16]),
               "lm_head.weight": ("BF16", [32, 16])}
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors.update({
            p + "self_attn.q_proj.weight": ("BF16", [16, 16]), p + "self_attn.k_proj.weight": ("BF16", [8, 16]),
            p + "self_attn.v_proj.weight": ("BF16", [8, 16]), p + "self_attn.o_proj.weight": ("BF16", [16, 16]),
            p + "mlp.gate_proj.weight": ("BF16", [24, 16]), p + "mlp.up_proj.weight": ("BF16", [24, 16]),
            p + "mlp.down_proj.weight": ("BF16", [16, 24]), p + "input_layernorm.weight": ("F32", [16]),
            p + "post_attention_layernorm.weight": ("F32", [16]),
            p + "self_attn.rotary_emb.inv_freq": ("F32", [2]),
        })
    return tensors


def model_folder(tmp_path: Path, config: dict, tensors: dict, shards: int = 1) -> Path:
    (tmp_path / "config.json").write_text(json.dumps(config))
    names = list(tensors)
    if shards == 1:
        write_safetensors(tmp_path / "model.safetensors", tensors)
        return tmp_path
    weight_map = {}
    for index in range(shards):
        part = names[index::shards]
        shard = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(tmp_path / shard, {name: tensors[name] for name in part})
        weight_map.update({name: shard for name in part})
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return tmp_path


def test_verify_agrees_and_names_the_buffers(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, TINY, tiny_llama_tensors(), shards=3)
    result = run("verify", str(folder))
    assert result.exit_code == 0, result.output
    assert "agree" in result.stdout and "inv_freq" in result.stdout and "3 file(s)" in result.stdout
    doc = json.loads(run("verify", str(folder), "--json").stdout)
    # 32×16 ×2 + 16 + 2 layers × (16·16·2 + 8·16·2 + 24·16·3 + 16·2), independently of llmcalc's formula
    assert doc["stored_params"] == doc["formula_params"] == 32 * 16 * 2 + 16 + 2 * (512 + 256 + 1152 + 32)
    # BF16: embedding, head, final norm and the projections; F32: the 4 layer norms
    assert doc["params_by_dtype"] == {"BF16": 512 + 512 + 16 + 2 * 1920, "F32": 4 * 16}
    assert sum(t["elements"] for ts in doc["not_in_formula"].values() for t in ts) == 4  # 2 layers × inv_freq[2]


def test_verify_disagrees_when_a_tensor_is_missing(tmp_path: Path) -> None:
    tensors = tiny_llama_tensors()
    del tensors["model.layers.1.mlp.up_proj.weight"]
    result = run("verify", str(model_folder(tmp_path, TINY, tensors)))
    assert result.exit_code == 1 and "DISAGREE" in result.stdout and "−384" in result.stdout


def test_verify_knows_the_router_bias_buffer(tmp_path: Path) -> None:
    # DeepSeek-V3 and Kimi-K2 checkpoints store model.layers.N.mlp.gate.e_score_correction_bias
    # (one value per routed expert); transformers registers it as a buffer, not a parameter.
    tensors = tiny_llama_tensors()
    tensors["model.layers.1.mlp.gate.e_score_correction_bias"] = ("F32", [8])
    doc = json.loads(run("verify", str(model_folder(tmp_path, TINY, tensors)), "--json").stdout)
    assert doc["agrees"] is True
    buffers = next(found for reason, found in doc["not_in_formula"].items() if reason.startswith("buffers"))
    assert "model.layers.1.mlp.gate.e_score_correction_bias" in {tensor["name"] for tensor in buffers}


def test_verify_tied_copy_extra_layers_and_scales(tmp_path: Path) -> None:
    tensors = tiny_llama_tensors(layers=3)  # one layer more than the config: like DeepSeek-V3's MTP
    tensors["model.layers.0.mlp.down_proj.weight_scale_inv"] = ("F32", [1, 1])
    config = dict(TINY, tie_word_embeddings=True)  # and a stored copy of the tied head
    doc = json.loads(run("verify", str(model_folder(tmp_path, config, tensors)), "--json").stdout)
    assert doc["agrees"] is True
    reasons = " ".join(doc["not_in_formula"])
    assert "tied LM head" in reasons and "beyond the config's 2" in reasons and "quantization" in reasons


def test_verify_reports_an_untied_head_with_no_tensor(tmp_path: Path) -> None:
    tensors = tiny_llama_tensors()
    del tensors["lm_head.weight"]
    result = run("verify", str(model_folder(tmp_path, TINY, tensors)))
    assert result.exit_code == 1 and "missing: lm_head.weight" in result.stdout


def test_verify_rejects_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 16)
    assert_error(run("verify", str(tmp_path)), 1, "model.safetensors", "not a safetensors file")


# --- user presets -------------------------------------------------------------------------------

def test_user_presets_shadow_and_are_marked(tmp_path: Path) -> None:
    (tmp_path / "gpt2.yaml").write_text("name: gpt2\naliases: [my-gpt]\nvocab_size: 10\nhidden_size: 8\n"
                                        "num_hidden_layers: 1\nnum_attention_heads: 2\n")
    (tmp_path / "mine.yaml").write_text("name: mine\nvocab_size: 10\nhidden_size: 8\nnum_hidden_layers: 1\n"
                                        "num_attention_heads: 2\n")
    env = {"LLMCALC_PRESETS": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "none")}
    shadowed = json.loads(run("params", "gpt2", "--json", **env).stdout)
    assert shadowed["total_params"] != EXPECTED["gpt2.json"]["params"]
    assert json.loads(run("params", "my-gpt", "--json", **env).stdout)["model"] == "gpt2"
    rows = {row["model"]: row["source"] for row in json.loads(run("presets", "--json", **env).stdout)}
    assert rows["mine"].endswith("mine.yaml") and "shadows bundled" in rows["gpt2"]
    assert rows["mistral-7b"] == "bundled"
    assert "(2 from user preset folders)" in run("presets", **env).stdout


def test_config_home_presets(tmp_path: Path) -> None:
    folder = tmp_path / "llmcalc" / "presets"
    folder.mkdir(parents=True)
    (folder / "tiny.yaml").write_text("name: tiny\nvocab_size: 10\nhidden_size: 8\nnum_hidden_layers: 1\n"
                                      "num_attention_heads: 2\n")
    result = run("params", "tiny", "--json", XDG_CONFIG_HOME=str(tmp_path), LLMCALC_PRESETS="")
    assert result.exit_code == 0 and json.loads(result.stdout)["model"] == "tiny"


@pytest.mark.parametrize("config, total, active", [
    # Dense layers between MoE layers. Totals: transformers 5.23.0 AutoModelForCausalLM.from_config
    # on the meta device, num_parameters(). Active: total less the idle experts of each MoE layer
    # (here 2 of 4 experts × 3 × 32 × 16 per MoE layer).
    ({"model_type": "qwen2_moe", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
      "moe_intermediate_size": 16, "shared_expert_intermediate_size": 24, "num_hidden_layers": 6,
      "num_attention_heads": 4, "num_key_value_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
      "decoder_sparse_step": 2, "mlp_only_layers": [3]}, 58_976, 58_976 - 2 * 2 * 1536),  # MoE: layers 1, 5
    ({"model_type": "qwen3_moe", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
      "moe_intermediate_size": 16, "num_hidden_layers": 5, "num_attention_heads": 4, "num_key_value_heads": 2,
      "head_dim": 8, "num_experts": 4, "num_experts_per_tok": 2, "decoder_sparse_step": 1,
      "mlp_only_layers": [1, 3]}, 47_920, 47_920 - 3 * 2 * 1536),  # MoE: layers 0, 2, 4
])
def test_qwen_moe_with_dense_layers_anywhere(tmp_path: Path, config: dict, total: int, active: int) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    doc = json.loads(run("params", str(tmp_path / "config.json"), "--json").stdout)
    assert (doc["total_params"], doc["active_params"]) == (total, active)


@pytest.mark.parametrize("extra, total", [
    # transformers 5.23.0 StableLmForCausalLM on the meta device, num_parameters(): qk_layernorm adds
    # a weight-only LayerNorm per Q and KV head, 2 layers × (4 + 2) × 8.
    ({}, 19_776),
    ({"qk_layernorm": True}, 19_776 + 2 * (4 + 2) * 8),
    ({"qk_layernorm": True, "use_parallel_residual": True, "use_qkv_bias": True}, 19_872),
])
def test_stablelm_qk_layernorm(tmp_path: Path, extra: dict, total: int) -> None:
    config = {"model_type": "stablelm", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, **extra}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert json.loads(run("params", str(tmp_path / "config.json"), "--json").stdout)["total_params"] == total
