"""README.md's example outputs, checked against the real CLI (and rewritten with --update).

    python tools/readme_examples.py            # a diff of every example that differs; exit 1 if any
    python tools/readme_examples.py --update   # rewrite README.md's outputs with the real ones

An example is a fenced block with no language whose first line is `$ llmcalc ...`. Each
`$ llmcalc` line in it is one command, and the lines up to the next one are what it prints:
stderr, then stdout (warnings, then the result; or the error). ```sh, ```json and ```yaml
blocks are not examples: they are commands to type, or JSON shortened by hand.

Abridged output: a block whose output ends with a line `...` shows only the head of what
the command prints (the Markdown `compare`). Only the lines above `...` are checked,
against as many first lines of the real output, and --update rewrites only those: the
README chose how much to show, the code decides what it says. (The README's blocks
introduced as "Abridged:" are ```json, shortened inside, and not checked.)

Every command runs in-process at WIDTH columns without colour, in an empty working
directory holding the files the README names but does not ship (FIXTURES, written as the
README implies them, so no example is skipped), with no user presets and an empty Hugging
Face cache: the README shows what a fresh install prints.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import shlex
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script: this checkout's llmcalc; under pytest, the installed one
    sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from llmcalc.cli import app  # noqa: E402

README = ROOT / "README.md"
# Every table whole and unwrapped. The params table drops its formula column below 100
# columns; the kvcache sweep cuts cells below about 102 (`128.79 G…` at 100); explain's
# exact-count table breaks names mid-word below about 117 (`decoder.layers.0-31.ffn.gate_`).
# The other tables keep their natural width (at most 103); only prose lines use all 120.
WIDTH = 120
ABRIDGED = "..."


@dataclass(frozen=True)
class Example:
    command: str  # the `$ ` line without its prompt: "llmcalc params mistral-7b"
    expected: str  # the output shown, trailing whitespace stripped (Rich pads every line)
    line: int  # 1-based number of the `$ llmcalc` line; its output starts at index `line`
    stop: int  # 0-based index after the last output line checked (above any `...`)
    abridged: bool

    @property
    def args(self) -> list[str]:
        return shlex.split(self.command)[1:]


def tidy(text: str) -> str:
    """Compare text, not padding: trailing spaces and trailing blank lines are dropped."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


def _is_command(line: str) -> bool:
    return line.split()[:2] == ["$", "llmcalc"]


def examples(readme_text: str) -> list[Example]:
    """Every `$ llmcalc` command in a no-language fenced block that starts with one."""
    lines = readme_text.splitlines()
    found: list[Example] = []
    opening: int | None = None  # index of the fence line of the block we are in
    for index, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if opening is None:
            opening = index
            continue
        if lines[opening].strip() == "```" and index > opening + 1 and _is_command(lines[opening + 1]):
            starts = [number for number in range(opening + 1, index) if _is_command(lines[number])]
            for start, end in zip(starts, starts[1:] + [index]):
                output = lines[start + 1:end]
                abridged = bool(output) and output[-1].strip() == ABRIDGED
                shown = output[:-1] if abridged else output
                found.append(Example(lines[start][2:], tidy("\n".join(shown)), start + 1,
                                     start + 1 + len(shown), abridged))
        opening = None
    return found


# --- the files the README's examples name but does not ship, as the README implies them ---

def _llama_3_2_1b(work: Path) -> None:
    """./Llama-3.2-1B/config.json: meta-llama/Llama-3.2-1B's real config, a test fixture."""
    (work / "Llama-3.2-1B").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "configs" / "llama3_2_1b.json", work / "Llama-3.2-1B" / "config.json")


def _my_model(work: Path) -> None:
    """my-model.yaml: a LLaMA-style preset with the typo the error example reports."""
    (work / "my-model.yaml").write_text(
        "name: my-model\nvocab_size: 32000\nhiden_size: 4096\nnum_hidden_layers: 32\n"
        "num_attention_heads: 32\nintermediate_size: 14336\n", encoding="utf-8")


def _write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """8-byte header length, JSON header, zeroed data: `verify` reads only the header."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = {"BF16": 2, "F32": 4}[dtype] * math.prod(shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))


def _tiny_llama(work: Path) -> None:
    """./tiny-llama: the README's counts (23 tensors in 2 files, 4,880 BF16 + 64 F32, 2 inv_freq
    buffers) are those of tests/test_inputs.py's 2-layer LLaMA saved in 2 shards."""
    folder = work / "tiny-llama"
    folder.mkdir()
    config = {"model_type": "llama", "vocab_size": 32, "hidden_size": 16, "intermediate_size": 24,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "tie_word_embeddings": False}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    layer = {"self_attn.q_proj.weight": ("BF16", [16, 16]), "self_attn.k_proj.weight": ("BF16", [8, 16]),
             "self_attn.v_proj.weight": ("BF16", [8, 16]), "self_attn.o_proj.weight": ("BF16", [16, 16]),
             "mlp.gate_proj.weight": ("BF16", [24, 16]), "mlp.up_proj.weight": ("BF16", [24, 16]),
             "mlp.down_proj.weight": ("BF16", [16, 24]), "input_layernorm.weight": ("F32", [16]),
             "post_attention_layernorm.weight": ("F32", [16]), "self_attn.rotary_emb.inv_freq": ("F32", [2])}
    tensors = {"model.embed_tokens.weight": ("BF16", [32, 16]), "model.norm.weight": ("BF16", [16]),
               "lm_head.weight": ("BF16", [32, 16])}
    tensors.update({f"model.layers.{i}.{name}": spec for i in range(2) for name, spec in layer.items()})
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map = {name: shards[index % 2] for index, name in enumerate(tensors)}
    for shard in shards:
        _write_safetensors(folder / shard, {name: tensors[name] for name in tensors if weight_map[name] == shard})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}), encoding="utf-8")


# Written for every example (a few kB): simpler than matching them to its arguments.
FIXTURES: tuple[Callable[[Path], None], ...] = (_llama_3_2_1b, _my_model, _tiny_llama)


def run(example: Example) -> str:
    """What the command really prints, tidied, cut to the lines the README shows if abridged."""
    with tempfile.TemporaryDirectory() as temporary:
        home, work = Path(temporary, "home"), Path(temporary, "work")
        home.mkdir()
        work.mkdir()
        for write in FIXTURES:
            write(work)
        env = {
            "COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb",
            # Would make Rich write escape codes whatever the terminal.
            "FORCE_COLOR": None, "TTY_COMPATIBLE": None,
            # No user presets and an empty HF cache, whoever runs this: `~` is an empty folder.
            "LLMCALC_PRESETS": None, "HF_HUB_CACHE": None,
            "HOME": str(home), "XDG_CONFIG_HOME": str(home), "HF_HOME": str(home),
            # English, whatever the caller's locale: the examples that show Chinese say --lang.
            "LLMCALC_LANG": "en",
        }
        # The README's relative paths name the fixtures, and nothing in the caller's
        # directory (a folder called mistral-7b, say) can stand in for a preset.
        previous = Path.cwd()
        os.chdir(work)
        try:
            result = CliRunner().invoke(app, example.args, env=env)
        finally:
            os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # A traceback is never a README example: fail instead of writing it in.
        raise RuntimeError(f"`{example.command}` crashed: {result.exception!r}") from result.exception
    # stderr first: llmcalc writes its warnings before its output, and an error instead of it.
    # (result.output interleaves the two in flush order, which puts the warnings last.)
    output = tidy(result.stderr + result.stdout)
    if example.abridged:
        output = "\n".join(output.splitlines()[:example.stop - example.line])
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check README.md's example outputs against the real CLI.")
    parser.add_argument("--update", action="store_true", help="rewrite README.md's outputs with the real ones")
    update = parser.parse_args(argv).update
    text = README.read_text(encoding="utf-8")
    results = [(example, run(example)) for example in examples(text)]
    stale = [(example, actual) for example, actual in results if actual != example.expected]
    if update:
        # Every example, not only the stale ones, so that no block keeps Rich's padding.
        lines = text.splitlines()
        for example, actual in reversed(results):  # bottom up, so the line numbers above still hold
            lines[example.line:example.stop] = actual.splitlines()
        updated = "\n".join(lines) + "\n"
        if updated != text:
            README.write_text(updated, encoding="utf-8")
        print(f"README.md: {len(stale)} of {len(results)} example outputs differed; all written at {WIDTH} columns")
        return 0
    for example, actual in stale:
        sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
            example.expected.splitlines(), actual.splitlines(),
            f"README.md:{example.line} $ {example.command}", f"real output at {WIDTH} columns", lineterm=""))
    print(f"README.md: {len(stale)} of {len(results)} example outputs differ"
          + (" (python tools/readme_examples.py --update rewrites them)" if stale else ""))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
