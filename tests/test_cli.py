"""The CLI as a user and a shell script meet it: table, JSON contract, every error path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcalc import __version__
from llmcalc.cli import app
from llmcalc.presets import preset_paths

runner = CliRunner()


def run(*args: str, columns: int = 160):
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1"})


def params_json(*args: str) -> dict:
    result = run("params", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_clean_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


# --- the table -------------------------------------------------------------------------

def test_params_table_mistral() -> None:
    result = run("params", "mistral-7b")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "7,241,732,096" in out and "7.24 B" in out  # published exact count (Mistral AI)
    assert "attention.k_proj" in out and "4,194,304 × 32" in out  # per layer × L
    assert "H × (n_kv × d)" in out
    assert "matches reference" in out
    for dtype in ("fp32", "bf16/fp16", "int8", "int4"):
        assert dtype in out
    assert "14,483,464,192" in out  # bf16 bytes: 2 × 7,241,732,096
    assert "GiB" in out and "GB" in out
    assert "\x1b[" not in out  # no escape codes when not on a terminal


def test_params_table_shows_tied_head_and_moe_active() -> None:
    tied = run("params", "gemma-2b").stdout
    assert "lm_head.weight (tied)" in tied and "tied to embedding.tokens" in tied
    moe = run("params", "mixtral-8x7b").stdout
    assert "active per token" in moe and "12,879,925,248" in moe
    assert "× 32 × 8" in moe  # per expert × layers × experts


def test_params_table_per_layer_sizes_are_summed() -> None:
    out = run("params", "openelm-270m").stdout
    assert "Σ over 16 layers" in out and "271,527,168" in out and "lm_head.weight (tied)" in out


def test_narrow_terminal_keeps_every_number() -> None:
    out = run("params", "mixtral-8x7b", columns=80).stdout
    assert "46,702,792,704" in out and "15,032,385,536" in out and "…" not in out


def test_estimate_beside_exact_count() -> None:
    out = run("params", "mistral-7b", "--estimate").stdout
    assert "textbook estimate" in out and "8,046,772,224" in out and "+11.1 %" in out


def test_presets_lists_every_model() -> None:
    result = run("presets")
    assert result.exit_code == 0
    for fragment in ("mistral-7b", "7,241,732,096", "deepseek-v3", "32/8", "16/MLA", "per layer"):
        assert fragment in result.stdout


def test_presets_json() -> None:
    rows = json.loads(run("presets", "--json").stdout)
    assert len(rows) == len(preset_paths())
    assert {"model", "total_params", "layers", "hidden_size", "context_length"} <= set(rows[0])


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"llmcalc {__version__}"


def test_help_has_examples() -> None:
    out = run("params", "--help").stdout
    assert "llmcalc params mistral-7b" in out and "--set" in out and "8H/3" in out


# --- the JSON contract -------------------------------------------------------------------

def test_json_contract() -> None:
    doc = params_json("llama2-70b")
    assert doc["model"] == "llama2-70b"
    assert doc["total_params"] == 68_976_648_192  # transformers LlamaForCausalLM, meta device
    assert doc["active_params"] == doc["total_params"]
    assert all(isinstance(c["params"], int) for c in doc["components"])
    assert sum(c["params"] for c in doc["components"]) == doc["total_params"]
    assert {"name", "params"} <= set(doc["components"][0])
    assert doc["spec"]["num_key_value_heads"] == 8 and doc["spec"]["hidden_size"] == 8192
    assert doc["weight_memory_bytes"]["bf16/fp16"] == 2 * doc["total_params"]
    assert doc["reference"]["params"] == doc["total_params"]


def test_json_moe_active_differs() -> None:
    doc = params_json("deepseek-v2-lite")
    assert doc["active_params"] < doc["total_params"]


def test_json_has_no_floats() -> None:
    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert not isinstance(value, float), value
    walk(params_json("qwen2.5-3b"))


def test_json_estimate() -> None:
    doc = params_json("mistral-7b", "--estimate")
    assert doc["estimate"]["total_params"] == 8_046_772_224


# --- custom models and overrides -----------------------------------------------------------

def test_flags_build_a_model() -> None:
    # The flags describe Mistral-7B; the published count is 7,241,732,096.
    doc = params_json("--hidden-size", "4096", "--layers", "32", "--heads", "32", "--kv-heads", "8",
                      "--ffn", "14336", "--vocab", "32000")
    assert doc["model"] == "custom" and doc["total_params"] == 7_241_732_096


def test_flag_defaults_are_llama_style() -> None:
    # LLaMA-7B: 32 heads of 128, FFN ⌈8·4096/3⌉ to 256 = 11008, vocab 32000 (transformers count).
    doc = params_json("--hidden-size", "4096", "--layers", "32")
    assert doc["total_params"] == 6_738_415_616


def test_set_overrides_a_preset() -> None:
    doc = params_json("llama2-7b", "--set", "num_key_value_heads=8")
    assert doc["model"] == "llama2-7b" and doc["overrides"] == {"num_key_value_heads": 8}
    # Llama-2-7b with GQA: K and V shrink from 4096×4096 to 4096×1024 in 32 layers.
    assert doc["total_params"] == 6_738_415_616 - 32 * 2 * 4096 * (4096 - 1024)
    assert doc["reference"] is None  # the recorded count no longer applies


def test_flags_override_a_preset() -> None:
    doc = params_json("llama2-7b", "--layers", "16")
    assert doc["spec"]["num_hidden_layers"] == 16


def test_yaml_file_as_model(tmp_path: Path) -> None:
    preset = tmp_path / "tiny.yaml"
    preset.write_text("name: tiny\nvocab_size: 10\nhidden_size: 8\nnum_hidden_layers: 1\n"
                      "num_attention_heads: 2\nintermediate_size: 4\ngated_ffn: false\n"
                      "tie_word_embeddings: true\n")
    # 10·8 embedding + 4·8·8 attention + 2·8·4 FFN + 2·8 norms + 8 final norm
    assert params_json(str(preset))["total_params"] == 80 + 256 + 64 + 16 + 8


# --- errors --------------------------------------------------------------------------------

def test_unknown_model_suggests() -> None:
    assert_clean_error(run("params", "llama2-7"), 2, "unknown model 'llama2-7'", "llama2-7b")


def test_no_model_and_no_flags() -> None:
    assert_clean_error(run("params"), 2, "--hidden-size")


@pytest.mark.parametrize("assignment, fragment", [
    ("num_key_value_heads=7", "must divide"),
    ("hiden_size=4096", "did you mean hidden_size"),
    ("hidden_size=true", "must be an integer"),
    ("nonsense", "expected key=value"),
])
def test_bad_set_is_a_usage_error(assignment: str, fragment: str) -> None:
    assert_clean_error(run("params", "llama2-7b", "--set", assignment), 2, fragment)


def test_bad_flag_value_is_a_usage_error() -> None:
    assert_clean_error(run("params", "--hidden-size", "100", "--layers", "2", "--heads", "3"), 2,
                       "head_dim")


@pytest.mark.parametrize("content, fragments", [
    (b"name: x\nvocab_size: [1\n", ("line 3", "invalid YAML")),
    (b"", ("empty",)),
    (b"- a\n- b\n", ("expected a mapping", "list")),
    (b"name: x\xff\n", ("not UTF-8",)),
    (b"name: x\nvocab_size: 100\nhidden_size: 64\nnum_hidden_layers: 2\n",
     ("num_attention_heads", "required")),
    (b"name: x\nvocab_size: 100\nhiden_size: 64\n", ("hiden_size", "hidden_size")),
    (b"name: x\nvocab_size: 0\nhidden_size: 64\nnum_hidden_layers: 2\nnum_attention_heads: 4\n",
     ("vocab_size", "positive")),
    (b"name: x\nvocab_size: 9\nhidden_size: 64\nnum_hidden_layers: 2\nnum_attention_heads: 5\n",
     ("head_dim", "not divisible")),
    (b"name: x\nvocab_size: 9\nhidden_size: 64\nnum_hidden_layers: 2\nnum_attention_heads: 4\n"
     b"num_key_value_heads: 3\n", ("num_key_value_heads", "divide")),
])
def test_broken_yaml_files(tmp_path: Path, content: bytes, fragments: tuple[str, ...]) -> None:
    path = tmp_path / "model.yaml"
    path.write_bytes(content)
    assert_clean_error(run("params", str(path)), 1, str(path), *fragments)


def test_unreadable_yaml_file(tmp_path: Path) -> None:
    assert_clean_error(run("params", str(tmp_path / "missing.yaml")), 1, "cannot read")


# --- start-up: what a plain run imports -------------------------------------------------------

def imported_after(*args: str) -> set[str]:
    code = (
        "import sys\n"
        "from llmcalc.cli import main\n"
        f"sys.argv = ['llmcalc', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    environment = {**os.environ, "COLUMNS": "200"}  # wide enough for every table to fit
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    line = next(line for line in result.stderr.splitlines() if line.startswith("MODULES"))
    return set(line.split()[1:])


@pytest.mark.parametrize("args", [("--version",), ("params", "mistral-7b", "--json")])
def test_plain_runs_do_not_import_rich(args: tuple[str, ...]) -> None:
    modules = imported_after(*args)
    assert "rich" not in modules and "pydantic" not in modules
    assert "dataclasses" not in modules  # records make their Field objects only when asked


def test_version_does_not_import_yaml() -> None:
    assert "yaml" not in imported_after("--version")


def test_a_table_of_a_bundled_preset_imports_no_parser_and_one_preset() -> None:
    """The bundled presets are read from the generated index, already parsed: no YAML or JSON
    parser, and of the index only the names and the preset asked for."""
    modules = imported_after("params", "mistral-7b")
    assert "yaml" not in modules and "json" not in modules
    assert {name for name in modules if name.startswith("llmcalc._preset_index.")} == {
        "llmcalc._preset_index.p_mistral_7b"}


@pytest.mark.parametrize("args", [("params", "mistral-7b"), ("quant", "llama3.1-8b"), ("presets",)])
def test_tables_that_fit_do_not_import_rich_table(args: tuple[str, ...]) -> None:
    """Drawn in one pass from llmcalc.table (rich.table brings fractions and decimal)."""
    modules = imported_after(*args)
    assert "rich.console" in modules and "rich.table" not in modules and "decimal" not in modules


@pytest.mark.parametrize("args", [("compare", "llama2-7b", "llama2-70b"), ("fit", "llama3.1-70b", "--gpu", "h100", "--gpus", "4")])
def test_without_a_format_no_quantization_module_is_imported(args: tuple[str, ...]) -> None:
    modules = imported_after(*args)
    assert not modules & {"llmcalc.quant", "llmcalc.llama_quant", "llmcalc.ggml", "llmcalc.formats",
                          "llmcalc.formats.quant"}


@pytest.mark.parametrize("args", [("params", "mistral-7b", "--json"), ("quant", "llama3.1-8b")])
def test_writing_json_does_not_import_the_json_module(args: tuple[str, ...]) -> None:
    """JSON text is written by llmcalc.json_text (the json module is for reading files)."""
    assert "json" not in imported_after(*args)


def test_installed_command_runs_from_any_directory(tmp_path: Path) -> None:
    """The console script finds the bundled presets outside the checkout (CI installs non-editable)."""
    script = Path(sys.executable).with_name("llmcalc")
    if not script.exists():
        pytest.skip("llmcalc console script not installed in this environment")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
    result = subprocess.run([str(script), "params", "mistral-7b"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "7,241,732,096" in result.stdout


def test_python_dash_m(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "llmcalc", "params", "gpt2", "--json"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 124_439_808  # GPT2LMHeadModel, transformers


def test_installed_package_carries_its_presets() -> None:
    """After a non-editable install the presets live inside the package, not in a checkout."""
    import llmcalc
    from llmcalc.presets import presets_dir

    package = Path(llmcalc.__file__).resolve().parent
    if "site-packages" not in str(package):
        pytest.skip("running from a checkout or an editable install")
    assert presets_dir() == package / "presets"
    assert len(list(presets_dir().glob("*.yaml"))) == len(preset_paths())


@pytest.mark.parametrize("command", ["params", "kvcache", "compare", "explain", "import", "verify", "presets"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert f"llmcalc {command} " in result.stdout or f"llmcalc {command}\n" in result.stdout


# --- a grid over the size flags -----------------------------------------------------------------

def test_every_size_flag_is_named_after_the_preset_field_it_sets() -> None:
    """options.size_flags reads a command's size flags by their metavar, and passes each as the
    preset field its parameter is named after."""
    import typer.main

    from llmcalc.options import SIZES
    from llmcalc.schema import SCHEMA

    sizes = [param.name for command in app.registered_commands for param in
             typer.main.get_command_from_info(command, pretty_exceptions_short=True,
                                              rich_markup_mode=None).params if param.metavar == SIZES]
    assert len(sizes) >= 8 and all(name in SCHEMA for name in sizes), sizes


def test_params_grid_has_one_row_per_combination() -> None:
    document = params_json("--hidden-size", "2048,4096", "--layers", "16,32")
    assert document["grid"] == ["hidden_size", "num_hidden_layers"]
    shapes = [(row["spec"]["hidden_size"], row["spec"]["num_hidden_layers"]) for row in document["rows"]]
    assert shapes == [(2048, 16), (2048, 32), (4096, 16), (4096, 32)]  # the first flag varies slowest
    # --hidden-size 4096 --layers 32 is LLaMA-2-7B (LlamaForCausalLM on the meta device: 6,738,415,616).
    assert document["rows"][3]["total_params"] == 6_738_415_616
    for (hidden, layers), row in zip(shapes, document["rows"]):
        single = params_json("--hidden-size", str(hidden), "--layers", str(layers))
        assert row == single


def test_params_grid_over_a_preset_keeps_its_set_and_shows_a_table() -> None:
    document = params_json("mixtral-8x7b", "--layers", "16,32", "--set", "num_experts_per_tok=1")
    assert [row["overrides"] for row in document["rows"]] == [
        {"num_hidden_layers": 16, "num_experts_per_tok": 1}, {"num_hidden_layers": 32, "num_experts_per_tok": 1}]
    table = run("params", "mixtral-8x7b", "--layers", "16,32")
    assert table.exit_code == 0 and "active per token" in table.stdout
    assert f"{document['rows'][1]['total_params']:,}" in table.stdout


@pytest.mark.parametrize("flags, fragment", [
    (["--hidden-size", "4k", "--layers", "2"], "--hidden-size '4k'"),
    (["--hidden-size", "4096", "--layers", "2,x"], "--layers 'x'"),
    (["--hidden-size", ",".join(str(n) for n in range(128, 128 * 102, 128)), "--layers",
      ",".join(str(n) for n in range(1, 101))], "at most 10,000"),
])
def test_params_grid_mistakes(flags: list[str], fragment: str) -> None:
    assert_clean_error(run("params", *flags), 2, fragment)


def test_a_table_one_column_too_wide_is_printed_whole() -> None:
    """The quant table needs 83 columns (7 cells, 6 dividers, edges and padding): on an 80-column
    terminal its lines run long rather than the last column being cut ("0.125" to "0.1")."""
    result = run("quant", "llama3.1-8b", columns=80)
    assert result.exit_code == 0
    assert "× bf16" in result.stdout and "0.125" in result.stdout and "…" not in result.stdout
