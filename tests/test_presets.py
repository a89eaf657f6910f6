"""Every bundled preset against its recorded reference count.

The expected numbers are NOT computed here: each preset's `reference.params` was
obtained independently (transformers on the meta device via
tools/xcheck_transformers.py, a published count, a checkpoint inventory, or a module
dump summed by tools/count_module_dump.py) and `reference.source` says which.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from llmcalc.params import count_params
from llmcalc.errors import ModelFileError
from llmcalc.preset_rows import full_index
from llmcalc.memory import DType
from llmcalc.presets import build_index, bundled_fields, bundled_index, load_preset_file, preset_paths, resolve
from llmcalc.schema import build_spec

# The presets the foundation issue asks for, by canonical name.
REQUIRED_PRESETS = """
gpt2 gpt2-medium openai-gpt bert-base-cased t5-base bloom-7b1 llama-7b llama-13b llama-30b
llama-65b llama2-7b llama2-13b llama2-70b llama3-8b llama3-70b llama3.1-405b chatglm-6b
chatglm2-6b chatglm3-6b mistral-7b mixtral-8x7b qwen1.5-0.5b qwen1.5-moe-a2.7b qwen2.5-3b
qwen2.5-7b gemma-2b gemma-7b grok-1 command-r openelm-270m yuan2-2b rwkv-4-169m falcon-7b
falcon-40b baichuan2-7b deepseek-llm-7b internlm2-7b olmo-7b phi-3-mini yi-6b
deepseek-v2-lite deepseek-v3
""".split()

ROOT = Path(__file__).resolve().parent.parent
PATHS = preset_paths()
NAMES = [path.stem for path in PATHS]


def test_every_required_preset_is_bundled() -> None:
    assert set(REQUIRED_PRESETS) <= set(NAMES)


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_total_equals_reference(path) -> None:
    spec = load_preset_file(path)
    assert spec.reference is not None, f"{path.name} records no reference count"
    assert len(spec.reference.source) > 20, "the source must say where the number comes from"
    assert count_params(spec).total == spec.reference.params


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_name_matches_file_and_is_lower_case(path) -> None:
    spec = load_preset_file(path)
    assert spec.name == path.stem == path.stem.lower()


def test_index_matches_the_yaml_files() -> None:
    # Commands read the generated llmcalc/_preset_index/; it must say exactly what the YAML files say.
    assert bundled_index() == full_index(PATHS), "stale index: run python tools/build_preset_index.py"


def _records_in_order(value: Any, seen: list[Any]) -> list[Any]:
    """Every record reachable from `value`, depth first, once each (by identity)."""
    if hasattr(type(value), "__match_args__"):
        if any(value is other for other in seen):
            return seen
        seen.append(value)
        for name in type(value).__match_args__:
            _records_in_order(getattr(value, name), seen)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _records_in_order(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            _records_in_order(item, seen)
    return seen


@pytest.mark.parametrize("name", NAMES)
def test_a_bundled_presets_spec_is_what_build_spec_makes_of_it(name: str) -> None:
    """A run reads a bundled preset's spec from the index (`spec()`, written by the tool), not
    through the schema: it must be the spec build_spec makes of the preset's fields — the same
    values, the same records shared (a model's equal layers are one object) and the catalogue's
    own dtypes."""
    ours, theirs = resolve(name), build_spec(bundled_fields(name), name)
    assert repr(ours) == repr(theirs)
    ours_records, theirs_records = _records_in_order(ours, []), _records_in_order(theirs, [])
    assert [repr(record) for record in ours_records] == [repr(record) for record in theirs_records]
    for mine, built in zip(ours_records, theirs_records):
        assert (mine is built) == (type(built) is DType), type(built)  # only the catalogue's dtypes are one object


def test_the_preset_modules_are_what_the_tool_writes() -> None:
    tool_spec = importlib.util.spec_from_file_location("build_preset_index", ROOT / "tools" / "build_preset_index.py")
    assert tool_spec is not None and tool_spec.loader is not None
    tool = importlib.util.module_from_spec(tool_spec)
    tool_spec.loader.exec_module(tool)
    stale = [path.name for path, text in tool.index_files(bundled_index()).items()
             if path.read_text(encoding="utf-8") != text]
    assert not stale, f"stale preset modules {stale}: run python tools/build_preset_index.py"


def test_index_rejects_an_alias_that_names_two_presets(tmp_path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\naliases: [shared]\nvocab_size: 8\nhidden_size: 8\nnum_hidden_layers: 1\n"
            "num_attention_heads: 1\n")
    with pytest.raises(ModelFileError, match="already names a"):
        build_index(sorted(tmp_path.glob("*.yaml")))


def test_index_rejects_a_name_that_differs_from_the_file(tmp_path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("name: b\nvocab_size: 8\nhidden_size: 8\nnum_hidden_layers: 1\nnum_attention_heads: 1\n")
    with pytest.raises(ModelFileError, match="must match the file name"):
        build_index([path])


@pytest.mark.parametrize("name", ["MISTRAL-7B", "mistralai/Mistral-7B-v0.1", "Mistral-7B-v0.1"])
def test_resolve_by_name_or_alias_case_insensitive(name: str) -> None:
    assert resolve(name).name == "mistral-7b"


# Published totals (not transformers): the model authors' own figures, checked here so
# that a preset cannot drift from them even if the reference line were edited.
@pytest.mark.parametrize("name, published", [
    ("mistral-7b", 7_241_732_096),  # Mistral AI
    ("bloom-7b1", 7_069_016_064),  # BLOOM-7b1 model card
])
def test_published_totals(name: str, published: int) -> None:
    assert count_params(resolve(name)).total == published


def test_mixtral_active_params() -> None:
    # Mistral AI publishes "12.9B active" for Mixtral-8x7B: 2 of 8 experts per token. Exactly,
    # the total (transformers, above) less 6 unused SwiGLU experts of 3·4096·14336 in 32 layers.
    count = count_params(resolve("mixtral-8x7b"))
    assert count.active == 46_702_792_704 - 32 * 6 * 3 * 4096 * 14336 == 12_879_925_248


# Active parameters per token of the 2024–2026 MoE presets: transformers 5.23's num_parameters()
# for the preset's config (tests/fixtures/configs/presets/) minus (E − k) routed experts in every
# MoE layer, each expert's size read from the tensors of the model transformers built (its
# biases included for gpt-oss). Shared experts, routers, attention, embeddings and the head are
# active. The vendors' rounded figures fit: gpt-oss-20b "3.6B" and -120b "5.1B" are these
# without the input embedding (579,133,440); Qwen3-30B-A3B "3.3B", Qwen3-235B-A22B "22B",
# DeepSeek-R1 "37B", Kimi-K2 "32B", Jamba-1.5-Mini "12B", OLMoE "1B", DBRX "36B",
# Mixtral-8x22B "39B", Llama 4 "17B".
@pytest.mark.parametrize("name, active", [
    ("llama4-scout", 17_172_894_720), ("llama4-maverick", 17_184_691_200), ("gpt-oss-20b", 4_187_440_704),
    ("gpt-oss-120b", 5_711_982_912), ("qwen3-30b-a3b", 3_353_032_704), ("qwen3-235b-a22b", 22_190_763_520),
    ("qwen3-next-80b-a3b", 3_874_929_408), ("deepseek-r1", 37_552_282_624), ("kimi-k2", 32_861_477_888),
    ("glm-4.5", 33_632_251_904), ("glm-4.5-air", 13_424_123_904), ("mixtral-8x22b", 39_152_031_744),
    ("dbrx", 36_469_708_800), ("jamba-1.5-mini", 12_110_311_296), ("olmoe-1b-7b", 1_282_017_280),
])
def test_active_params_of_current_moe_presets(name: str, active: int) -> None:
    assert count_params(resolve(name)).active == active
