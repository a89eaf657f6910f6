"""Hostile and broken input: one or two plain lines on stderr, the documented exit code, no
traceback, no hang, nothing damaged. One test per cause, several cases each; the property
tests throw random config.json documents at the readers.

Behaviour of the real entry point (signals, closed or non-UTF-8 streams, Click's usage
errors) is checked in a subprocess running `python -m llmcalc`, with a time limit."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmcalc.cli import app

runner = CliRunner()
TIME_LIMIT = 20  # seconds: far above any answer, far below a hang
LLAMA = {"model_type": "llama", "vocab_size": 32, "hidden_size": 16, "intermediate_size": 24,
         "num_hidden_layers": 2, "num_attention_heads": 4}


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "120", **(env or {})})


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        **options: Any) -> subprocess.CompletedProcess[str]:
    """The installed entry point, as a shell runs it."""
    environment = {key: value for key, value in os.environ.items() if key != "LLMCALC_PRESETS"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "llmcalc", *args], capture_output=True, text=True,
                          timeout=TIME_LIMIT, env=environment, cwd=cwd, **options)


def assert_plain_error(code: int, exit_code: int, stderr: str, *fragments: str) -> None:
    assert exit_code == code, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


def write_config(folder: Path, config: dict[str, Any] | str, name: str = "config.json") -> Path:
    path = folder / name
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    return path


# --- path look-ups ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x" * 300, "a/" + "x" * 300, "~nosuchuser", "bad\0name"],
                         ids=["300 characters", "long path", "unknown user", "null byte"])
def test_odd_names_are_unknown_models(name: str) -> None:
    result = run("params", name)
    assert_plain_error(2, result.exit_code, result.stderr, "unknown model")


@pytest.mark.parametrize("name", ["~nosuchuser/model.yaml", "x" * 300 + ".yaml", "x" * 300 + ".json"],
                         ids=["unknown user", "long yaml", "long json"])
def test_odd_file_names_cannot_be_read(name: str) -> None:
    result = run("params", name)
    assert_plain_error(1, result.exit_code, result.stderr, "cannot read")


def test_empty_name_is_a_usage_error() -> None:
    result = run("params", "")
    assert_plain_error(2, result.exit_code, result.stderr, "empty")


def test_a_folder_that_cannot_be_entered(monkeypatch: pytest.MonkeyPatch) -> None:
    # As root the tests cannot make a folder unreadable, so the look-up is made to fail as it
    # does for other users (Path.is_dir raises PermissionError inside such a folder).
    def refused(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_dir", refused)
    monkeypatch.setattr(Path, "is_file", refused)
    result = run("params", "locked/model")
    assert_plain_error(2, result.exit_code, result.stderr, "locked/model")
    assert run("params", "gpt2", "--json").exit_code == 0


def test_no_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    assert run("params", "gpt2", "--json").exit_code == 0
    assert run("params", "org/not-cached").exit_code == 2


# --- special files ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["config.json", "model.yaml"])
def test_a_fifo_is_refused_not_read(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    result = cli("params", str(fifo))
    assert_plain_error(1, result.returncode, result.stderr, "not a regular file")


def test_a_fifo_among_user_presets_is_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "broken.yaml")
    result = cli("params", "gpt2", "--json", env={"LLMCALC_PRESETS": str(tmp_path)})
    assert result.returncode == 0 and json.loads(result.stdout)["total_params"] == 124_439_808
    assert "skipped a user preset" in result.stderr and "broken.yaml" in result.stderr


def test_a_broken_user_preset_is_skipped_unless_asked_for(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nhidden_size: [1\n")
    env = {"LLMCALC_PRESETS": str(tmp_path)}
    result = run("params", "gpt2", "--json", env=env)
    assert result.exit_code == 0 and "skipped a user preset" in result.stderr
    listing = run("presets", "--json", env=env)
    assert listing.exit_code == 0 and "mine" not in {row["model"] for row in json.loads(listing.stdout)}
    asked = run("params", "mine", env=env)
    assert_plain_error(1, asked.exit_code, asked.stderr, "mine.yaml", "invalid YAML")


# --- unbounded work --------------------------------------------------------------------------

def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\nname: x\n"


@pytest.mark.parametrize("text, fragment", [
    (billion_laughs(), "aliases"),
    ("name: x\nvocab_size: 10\nhidden_size: 8\nnum_hidden_layers: 100000000\nnum_attention_heads: 2\n",
     "largest accepted"),
    ("x: [" + "1, " * 600_000 + "1]\n", "bytes; files over"),
])
def test_yaml_that_would_take_forever(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    result = cli("params", str(path))
    assert_plain_error(1, result.returncode, result.stderr, fragment)


def test_layers_flag_is_bounded() -> None:
    result = run("params", "--hidden-size", "64", "--layers", "1000000000")
    assert_plain_error(2, result.exit_code, result.stderr, "num_hidden_layers", "largest accepted")


def test_the_largest_model_is_answered(tmp_path: Path) -> None:
    path = write_config(tmp_path, {**LLAMA, "num_hidden_layers": 100_000})
    result = cli("kvcache", str(path), "--seq", "4k", "--json")
    assert result.returncode == 0, result.stderr
    # 100,000 layers × K and V × 4,096 tokens × 4 heads × 4 wide × 2 bytes (the config gives no dtype: bf16)
    assert json.loads(result.stdout)["total_bytes"] == 100_000 * 2 * 4096 * 4 * 4 * 2


# --- deep nesting ----------------------------------------------------------------------------

def test_deep_json(tmp_path: Path) -> None:
    path = write_config(tmp_path, '{"model_type": "llama", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = cli("params", str(path))
    assert_plain_error(1, result.returncode, result.stderr, "nested too deeply")


@pytest.mark.parametrize("text", ["x: " + "[" * 100_000 + "]" * 100_000 + "\n", "x:\n" + "- " * 100_000 + "1\n"])
def test_deep_yaml_does_not_crash_the_interpreter(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    result = cli("params", str(path))
    assert_plain_error(1, result.returncode, result.stderr, "nested more than")


def test_deep_set_value() -> None:
    # 30,000 levels: deep enough to crash a recursive loader, short enough for an argument list.
    result = cli("params", "gpt2", "--set", "hidden_size=" + "[" * 30_000 + "]" * 30_000)
    assert_plain_error(2, result.returncode, result.stderr, "--set hidden_size", "nested more than")


# --- huge and odd numbers --------------------------------------------------------------------

@pytest.mark.parametrize("literal, fragment", [
    ("1" + "0" * 200, "must be from 1 to 2,147,483,647"), ("-5", "must be from 1"), ("1" + "0" * 5000, "digits"),
], ids=["1e200", "negative", "5001 digits"])
def test_huge_numbers_in_a_config(tmp_path: Path, literal: str, fragment: str) -> None:
    # Written as text: Python itself will not print an integer of more than 4,300 digits.
    path = write_config(tmp_path, json.dumps({**LLAMA, "hidden_size": 0}).replace('"hidden_size": 0',
                                                                                f'"hidden_size": {literal}'))
    result = cli("params", str(path))
    assert_plain_error(1, result.returncode, result.stderr, fragment)


@pytest.mark.parametrize("seq", ["1e400", "²", "9" * 5000, "4096.5", "0x10"],
                         ids=["1e400", "superscript", "5000 nines", "fraction", "hex"])
def test_odd_sizes(seq: str) -> None:
    result = run("kvcache", "gpt2", f"--seq={seq}")
    assert_plain_error(2, result.exit_code, result.stderr, "--seq")


# --- wrong types in config.json ----------------------------------------------------------------

@pytest.mark.parametrize("change, key", [
    ({"model_type": ["llama"]}, "model_type"),
    ({"model_type": "qwen2_moe", "decoder_sparse_step": 0, "num_experts": 4}, "decoder_sparse_step"),
    ({"torch_dtype": "float128"}, "torch_dtype"),
    ({"num_attention_heads": 4.5}, "num_attention_heads"),
    ({"hidden_size": "16"}, "hidden_size"),
    ({"tie_word_embeddings": "yes"}, "tie_word_embeddings"),
])
def test_wrong_types_name_the_key(tmp_path: Path, change: dict[str, Any], key: str) -> None:
    result = run("params", str(write_config(tmp_path, {**LLAMA, **change})))
    assert_plain_error(1, result.exit_code, result.stderr, key)


def test_reference_with_odd_keys(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: m\nvocab_size: 10\nhidden_size: 8\nnum_hidden_layers: 1\nnum_attention_heads: 2\n"
                    "reference: {params: 1, source: s, 3: x, other: y}\n")
    result = run("params", str(path))
    assert_plain_error(1, result.exit_code, result.stderr, "reference", "unknown key")


# --- import writes -----------------------------------------------------------------------------

def test_import_refuses_a_folder_and_a_path_under_a_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, LLAMA)
    folder = tmp_path / "out"
    folder.mkdir()
    for target, fragment in ((folder, "is a folder"), (config / "x.yaml", "cannot write")):
        result = run("import", str(config), "-o", str(target), "--force")
        assert_plain_error(2, result.exit_code, result.stderr, fragment)


def test_import_treats_a_dangling_link_as_existing(tmp_path: Path) -> None:
    config = write_config(tmp_path, LLAMA)
    link = tmp_path / "link.yaml"
    link.symlink_to(tmp_path / "nowhere.yaml")
    result = run("import", str(config), "-o", str(link))
    assert_plain_error(2, result.exit_code, result.stderr, "exists")
    assert link.is_symlink()


def test_import_honours_the_umask(tmp_path: Path) -> None:
    config = write_config(tmp_path, LLAMA)
    old = os.umask(0o027)
    try:
        assert run("import", str(config), "-o", str(tmp_path / "p.yaml")).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "p.yaml").stat().st_mode) == 0o640


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_interrupted_import_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        when: str) -> None:
    from llmcalc import files

    real_replace = os.replace

    def interrupted(source: str, target: str) -> None:
        if when == "after":  # the signal lands right after the rename
            real_replace(source, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(tmp_path / "p.yaml", "name: p\n")
    assert [path.name for path in tmp_path.iterdir()] == (["p.yaml"] if when == "after" else [])


def test_sigterm_during_import_cleans_up(tmp_path: Path) -> None:
    """A real SIGTERM while the preset is written: exit 143, no temporary file."""
    script = ("import os, sys, time\n"
              "from llmcalc import files\n"
              "real = os.fdopen\n"
              "def slow(*args, **kwargs):\n"
              "    print('writing', flush=True); time.sleep(30); return real(*args, **kwargs)\n"
              "files.os.fdopen = slow\n"
              "sys.argv = ['llmcalc', 'import', sys.argv[1], '-o', sys.argv[2]]\n"
              "from llmcalc.cli import main\n"
              "main()\n")
    config = write_config(tmp_path, LLAMA)
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([sys.executable, "-c", script, str(config), str(out / "p.yaml")],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=TIME_LIMIT) == 143
    assert list(out.iterdir()) == []


# --- output streams ----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["params", "gpt2"], ["params", "gpt2", "--json"], ["presets"]])
def test_closed_stdout_fails_plainly(args: list[str]) -> None:
    command = " ".join([sys.executable, "-m", "llmcalc", *args]) + " >&-"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=TIME_LIMIT)
    assert_plain_error(1, result.returncode, result.stderr, "standard output is closed")


@pytest.mark.parametrize("encoding", [{"PYTHONIOENCODING": "latin-1"}, {"PYTHONIOENCODING": "ascii"},
                                      {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}])
def test_non_utf8_output(encoding: dict[str, str]) -> None:
    for args in (["params", "mixtral-8x7b"], ["kvcache", "llama2-7b", "--seq", "1k,2k"], ["explain", "gpt2"],
                 ["compare", "gpt2", "t5-base"]):
        result = cli(*args, env=encoding)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    as_json = cli("params", "mistral-7b", "--json", env=encoding)
    utf8 = cli("params", "mistral-7b", "--json")
    assert json.loads(as_json.stdout) == json.loads(utf8.stdout)  # escaped, not changed


@pytest.mark.parametrize("args", [["params", "mistral-7b"], ["params", "openelm-270m"], ["presets"],
                                  ["kvcache", "gemma2-9b"], ["kvcache", "llama2-70b", "--seq", "1k,128k"],
                                  ["compare", "gpt2", "t5-base", "llama2-70b"], ["explain", "gpt2"]])
def test_a_narrow_terminal_never_cuts_a_number(args: list[str]) -> None:
    result = cli(*args, env={"COLUMNS": "20"})
    assert result.returncode == 0
    cut = [line for line in result.stdout.splitlines() if "…" in line and "layers " not in line
           and ", …," not in line]
    assert not cut, cut
    if args[0] == "params":
        assert "total" in result.stdout


# --- usage errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["params", "--bogus"], "No such option"), (["nosuch"], "No such command"),
    (["kvcache"], "Missing argument"), (["params", "--hidden-size", "abc"], "--hidden-size"),
    (["compare", "gpt2", "t5-base", "--json", "--format", "bogus"], "--format"),
    (["compare", "gpt2", "t5-base", "--format", "bogus"], "--format"),
])
def test_usage_errors_are_one_or_two_lines(args: list[str], fragment: str) -> None:
    result = cli(*args)
    assert_plain_error(2, result.returncode, result.stderr, fragment)
    assert result.stdout == ""


# --- property tests -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
CONFIG_KEYS = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
               "num_attention_heads", "num_key_value_heads", "head_dim", "tie_word_embeddings", "torch_dtype",
               "sliding_window", "layer_types", "num_experts", "num_local_experts", "num_experts_per_tok",
               "quantization_config", "kv_lora_rank", "q_lora_rank", "text_config", "decoder_sparse_step",
               "mlp_only_layers", "n_layer", "n_embd", "rope_scaling", "max_position_embeddings"]
MODEL_TYPES = st.sampled_from(["llama", "mistral", "mixtral", "qwen2_moe", "gemma2", "gpt2", "falcon", "t5",
                               "bert", "rwkv", "chatglm", "deepseek_v3", "phi3", "bloom", "nonsense"])


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model_type=MODEL_TYPES, changes=st.dictionaries(st.sampled_from(CONFIG_KEYS), JSON_VALUES, max_size=6))
def test_random_configs_never_crash(tmp_path: Path, model_type: str, changes: dict[str, Any]) -> None:
    config = {**LLAMA, "model_type": model_type, **changes}
    path = write_config(tmp_path, config)
    for command in (["params", str(path), "--json"], ["kvcache", str(path), "--seq", "64", "--json"]):
        result = run(*command)
        assert result.exit_code in (0, 1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if result.exit_code == 0:
            json.loads(result.stdout)


@settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.sampled_from(["name", "vocab_size", "hidden_size", "num_hidden_layers",
                                                 "num_attention_heads", "num_key_value_heads", "reference",
                                                 "intermediate_size", "layer_types", "sliding_window",
                                                 "architecture", "norm", "aliases"]),
                                JSON_VALUES, max_size=8))
def test_random_presets_never_crash(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(json.dumps(document))  # JSON is YAML
    result = run("params", str(path), "--json")
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)

