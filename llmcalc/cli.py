"""Thin CLI: parse, resolve the model, one core call, render. Errors become messages here.

No `from __future__ import annotations` here: Typer reads every command's annotations at
start-up, and string annotations would cost it an eval each (about 6 ms a run).
"""

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional, TypeVar

import typer

from llmcalc import __version__
from llmcalc.errors import LlmcalcError, SpecError, UsageError

if TYPE_CHECKING:
    from llmcalc.spec import ModelSpec

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Exact parameter counts and memory sizes of transformer language models.",
)

# Flags that build (or override) a model without a file, with the preset field each sets.
FLAG_FIELDS = {
    "hidden_size": "hidden_size",
    "layers": "num_hidden_layers",
    "heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
    "ffn": "intermediate_size",
    "vocab": "vocab_size",
    "head_dim": "head_dim",
    "context": "max_position_embeddings",
}


Command = TypeVar("Command", bound=Callable[..., None])


def reports_errors(command: Command) -> Command:
    """Turn domain errors into one or two plain lines on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except LlmcalcError as exc:
            sys.stderr.write(f"llmcalc: {exc}\n")
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"llmcalc {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Exact parameter counts and memory sizes of transformer language models."""


def _parse_set(assignments: list[str]) -> dict[str, Any]:
    """`key=value` pairs; values are read as YAML scalars or lists (8, true, null, [1, 2])."""
    if not assignments:
        return {}
    import yaml

    from llmcalc.spec import SYNONYMS

    overrides: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {assignment!r}: expected key=value, e.g. --set num_key_value_heads=8")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        overrides[SYNONYMS.get(key.strip(), key.strip())] = value
    return overrides


def custom_defaults(hidden_size: int, layers: int) -> dict[str, Any]:
    """A LLaMA-style model for flags alone: RMSNorm, gated FFN of ⌈8H/3⌉ rounded up to 256."""
    ffn = -(-(8 * hidden_size // 3) // 256) * 256
    return {
        "name": "custom",
        "num_hidden_layers": layers,
        "hidden_size": hidden_size,
        "num_attention_heads": max(1, hidden_size // 128),
        "intermediate_size": ffn,
        "vocab_size": 32000,
    }


def resolve_model(model: Optional[str], flags: dict[str, Any], assignments: list[str],
                  assume: Optional[str] = None) -> "ModelSpec":
    """A preset, YAML, config.json, folder or cached repo id (with overrides), or flags alone."""
    from llmcalc.models import resolve
    from llmcalc.spec import build_spec

    overrides = {FLAG_FIELDS[name]: value for name, value in flags.items() if value is not None}
    overrides.update(_parse_set(assignments))
    if model is None:
        hidden, layers = overrides.get("hidden_size"), overrides.get("num_hidden_layers")
        if hidden is None or layers is None:
            raise UsageError("give a MODEL (preset name, alias or YAML file), "
                             "or at least --hidden-size and --layers to build one")
        base = custom_defaults(hidden, layers)
        try:
            return build_spec({**base, **overrides}, "flags")
        except SpecError as exc:
            raise UsageError(str(exc)) from None
    spec, warnings = resolve(model, assume)
    warn(warnings)
    if not overrides:
        return spec
    fields = {**(spec.fields or {}), **overrides}
    # The recorded reference count describes the unmodified preset only.
    fields["reference"] = None
    try:
        modified = build_spec(fields, f"{spec.name} with overrides")
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    import dataclasses

    return dataclasses.replace(modified, overrides=overrides)


MODEL_HELP = ("Preset name or alias (case-insensitive), a preset YAML file, a config.json, a model folder, "
              "or a Hugging Face repo id in the local cache.")
ASSUME_HELP = "Read a config.json of an unsupported model_type as this one (e.g. llama), with a warning."


@app.command()
@reports_errors
def params(
    model: Optional[str] = typer.Argument(None, help=MODEL_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (the documented contract)."),
    estimate: bool = typer.Option(False, "--estimate",
                                  help="Add the textbook estimate V·H + L·4H² + L·3·H·I + V·H."),
    hidden_size: Optional[int] = typer.Option(None, "--hidden-size", help="H, model width."),
    layers: Optional[int] = typer.Option(None, "--layers", help="L, number of layers."),
    heads: Optional[int] = typer.Option(None, "--heads", help="Query heads \\[default: H/128]."),
    kv_heads: Optional[int] = typer.Option(None, "--kv-heads", help="KV heads \\[default: = heads]."),
    ffn: Optional[int] = typer.Option(None, "--ffn",
                                      help="FFN width I \\[default: 8H/3 rounded up to 256]."),
    vocab: Optional[int] = typer.Option(None, "--vocab", help="Vocabulary size \\[default: 32000]."),
    head_dim: Optional[int] = typer.Option(None, "--head-dim", help="Per-head width \\[default: H/heads]."),
    context: Optional[int] = typer.Option(None, "--context", help="Context length (informational)."),
    assignments: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                          help="Override any preset field, e.g. num_key_value_heads=8."),
    assume: Optional[str] = typer.Option(None, "--assume", help=ASSUME_HELP),
) -> None:
    """Count a model's parameters exactly, component by component.

    Examples:

      llmcalc params mistral-7b

      llmcalc params llama2-70b --json

      llmcalc params llama2-7b --set num_key_value_heads=8

      llmcalc params --hidden-size 4096 --layers 32 --heads 32 --kv-heads 8 --ffn 14336 --vocab 32000

    Flags alone build a LLaMA-style model: RMSNorm, gated (SwiGLU) FFN, RoPE, untied head.
    """
    from llmcalc.params import count_params, textbook_estimate

    flags = {"hidden_size": hidden_size, "layers": layers, "heads": heads, "kv_heads": kv_heads,
             "ffn": ffn, "vocab": vocab, "head_dim": head_dim, "context": context}
    spec = resolve_model(model, flags, assignments, assume)
    count = count_params(spec)
    estimate_term = textbook_estimate(spec) if estimate else None
    if json_output:
        from llmcalc.formats import params_document, write_json

        write_json(params_document(spec, count, estimate_term))
        return
    from llmcalc.render import print_params

    print_params(spec, count, estimate_term)


SIZE_SUFFIXES = {"k": 2**10, "m": 2**20}
SIZE_FORMS = "a positive whole number, optionally with k (×1024) or m (×1048576): 4096, 4k, 32K, 1m"


def parse_sizes(option: str, text: str) -> list[int]:
    """`4096`, `4k`, `32K`, `1m`, or a comma list of them."""
    sizes = []
    for item in text.split(","):
        word = item.strip().lower()
        factor = SIZE_SUFFIXES.get(word[-1:], 1) if word else 1
        digits = word[:-1] if factor > 1 else word
        if not digits.isdigit() or int(digits) <= 0:
            raise UsageError(f"{option} {item.strip()!r}: expected {SIZE_FORMS}, or a comma list of them")
        sizes.append(int(digits) * factor)
    return sizes


def spec_field(spec: "ModelSpec", name: str) -> str:
    return str((spec.fields or {}).get(name) or "")


def model_dtype(spec: "ModelSpec") -> str:
    """The precision the checkpoint is published in (torch_dtype), else fp16."""
    return spec_field(spec, "torch_dtype") or "fp16"


def one_size(option: str, text: str) -> int:
    sizes = parse_sizes(option, text)
    if len(sizes) != 1:
        raise UsageError(f"{option} takes one size here, got {len(sizes)}")
    return sizes[0]


def choose_format(output_format: str, json_output: bool, allowed: tuple[str, ...]) -> str:
    """--json is short for --format json."""
    chosen = "json" if json_output else output_format
    if chosen not in allowed:
        raise UsageError(f"--format {output_format!r}: use one of {', '.join(allowed)}")
    return chosen


@app.command()
@reports_errors
def kvcache(
    model: str = typer.Argument(..., help=MODEL_HELP),
    seq: Optional[str] = typer.Option(None, "--seq",
                                      help="Tokens per sequence: 4096, 4k, 32K, 1m or a comma list "
                                           "\\[default: the model's context length]."),
    batch: str = typer.Option("1", "--batch", help="Sequences: a number or a comma list."),
    dtype: Optional[str] = typer.Option(None, "--dtype",
                                        help="Cache precision: fp32, fp16, bf16, fp8_e4m3, fp8_e5m2, int8, int4, "
                                             "q8_0, q4_0 \\[default: the model's torch_dtype, else fp16]."),
    weights_dtype: Optional[str] = typer.Option(None, "--weights-dtype",
                                                help="Weight precision for the summary \\[default: the "
                                                     "checkpoint's quantization, else --dtype]."),
    no_window: bool = typer.Option(False, "--no-window", help="Ignore sliding windows: every layer keeps every token."),
    encoder_seq: Optional[str] = typer.Option(None, "--encoder-seq",
                                              help="Encoder tokens for cross-attention (T5) \\[default: --seq]."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (the documented contract)."),
    assignments: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="Override any preset field."),
    assume: Optional[str] = typer.Option(None, "--assume", help=ASSUME_HELP),
) -> None:
    """KV-cache memory: per token, per layer and in total, and what GQA, MQA, MLA and windows save.

    Examples:

      llmcalc kvcache mistral-7b --seq 4096 --batch 1 --dtype fp16

      llmcalc kvcache llama2-70b --seq 1k,4k,32k,128k --dtype bf16

      llmcalc kvcache deepseek-v2-lite --seq 32k --json
    """
    from llmcalc.kvcache import footprint, kv_cache
    from llmcalc.memory import parse_dtype
    from llmcalc.params import count_params

    batches = parse_sizes("--batch", batch)
    encoder = one_size("--encoder-seq", encoder_seq) if encoder_seq else None
    spec = resolve_model(model, {}, assignments, assume)
    cache_dtype = parse_dtype(dtype or model_dtype(spec))
    weight_dtype = parse_dtype(weights_dtype or spec_field(spec, "quantization") or cache_dtype.name)
    if seq is None:
        if spec.context_length is None:
            raise UsageError(f"{spec.name} records no context length; give --seq")
        lengths = [spec.context_length]
    else:
        lengths = parse_sizes("--seq", seq)
    warnings = [f"{length:,} tokens exceed {spec.name}'s context length of {spec.context_length:,}"
                for length in lengths if spec.context_length and length > spec.context_length]
    warn(warnings)
    count = count_params(spec)
    caches = [kv_cache(spec, length, sequences, cache_dtype, windows=not no_window, encoder_tokens=encoder)
              for length in lengths for sequences in batches]
    needs = [footprint(cache, count.total, count.active_in_layers, weight_dtype) for cache in caches]
    if json_output:
        from llmcalc.formats import kvcache_document, write_json

        rows = [kvcache_document(spec, cache, need) for cache, need in zip(caches, needs)]
        write_json(rows[0] if len(rows) == 1 else {"model": spec.name, "rows": rows})
        return
    from llmcalc.render import print_kvcache, print_kvcache_sweep

    if len(caches) == 1:
        print_kvcache(spec, caches[0], needs[0])
    else:
        print_kvcache_sweep(spec, caches, needs)


COMPARE_FORMATS = ("table", "json", "csv", "markdown")


@app.command()
@reports_errors
def compare(
    models: list[str] = typer.Argument(..., help="2 to 8 models: presets, aliases, YAML or config.json files, "
                                                 "model folders, cached repo ids."),
    output_format: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
    json_output: bool = typer.Option(False, "--json", help="Same as --format json."),
    dtype: str = typer.Option("bf16", "--dtype", help="Precision for weight memory and the KV cache."),
    seq: str = typer.Option("4096", "--seq", help="Tokens for the KV-cache row: 4096, 4k, 32K, 1m."),
    assume: Optional[str] = typer.Option(None, "--assume", help=ASSUME_HELP),
) -> None:
    """Models side by side, component by component, with ratios against the first.

    Examples:

      llmcalc compare llama2-7b llama2-70b

      llmcalc compare mistral-7b mixtral-8x7b llama3-8b --format markdown

      llmcalc compare gpt2 t5-base --json
    """
    from llmcalc.compare import MAX_MODELS, MIN_MODELS, compare as compare_models
    from llmcalc.memory import parse_dtype

    chosen = choose_format(output_format, json_output, COMPARE_FORMATS)
    if not MIN_MODELS <= len(models) <= MAX_MODELS:
        raise UsageError(f"compare takes {MIN_MODELS} to {MAX_MODELS} models, got {len(models)}")
    kind = parse_dtype(dtype)
    tokens = one_size("--seq", seq)
    # Every model is resolved before anything is printed: one bad name, no partial output.
    specs = [resolve_model(model, {}, [], assume) for model in models]
    comparison = compare_models(specs, kind, tokens)
    if chosen == "table":
        from llmcalc.render import print_compare

        print_compare(comparison)
        return
    from llmcalc import formats

    if chosen == "json":
        formats.write_json(formats.compare_document(comparison))
    else:
        render_text = formats.compare_csv if chosen == "csv" else formats.compare_markdown
        sys.stdout.write(render_text(comparison))


EXPLAIN_FORMATS = ("rich", "markdown", "json")


@app.command()
@reports_errors
def explain(
    model: str = typer.Argument(..., help=MODEL_HELP),
    topic: str = typer.Option("params", "--topic", help="params, kvcache, gqa or estimate."),
    output_format: str = typer.Option("rich", "--format", help="rich, markdown or json."),
    json_output: bool = typer.Option(False, "--json", help="Same as --format json."),
    seq: str = typer.Option("4096", "--seq", help="Tokens, for --topic kvcache and gqa: 4096, 4k, 32K, 1m."),
    batch: str = typer.Option("1", "--batch", help="Sequences, for --topic kvcache."),
    dtype: str = typer.Option("fp16", "--dtype", help="Cache precision, for --topic kvcache and gqa."),
    assignments: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="Override any preset field."),
    assume: Optional[str] = typer.Option(None, "--assume", help=ASSUME_HELP),
) -> None:
    """The derivation, step by step: symbols, estimate, exact count, reconciliation.

    Examples:

      llmcalc explain mistral-7b

      llmcalc explain llama2-70b --topic kvcache --seq 4k

      llmcalc explain mistral-7b --topic gqa --format markdown
    """
    from llmcalc.explain import TOPICS
    from llmcalc.explain import explain as derive
    from llmcalc.memory import parse_dtype

    if topic not in TOPICS:
        raise UsageError(f"--topic {topic!r}: use one of {', '.join(TOPICS)}")
    chosen = choose_format(output_format, json_output, EXPLAIN_FORMATS)
    tokens, batches = one_size("--seq", seq), one_size("--batch", batch)
    spec = resolve_model(model, {}, assignments, assume)
    explanation = derive(spec, topic, tokens, batches, parse_dtype(dtype))
    if chosen == "rich":
        from llmcalc.render import print_explanation

        print_explanation(explanation)
        return
    from llmcalc import formats

    if chosen == "json":
        formats.write_json(formats.explain_document(explanation))
    else:
        sys.stdout.write(formats.explain_markdown(explanation))


@app.command("import")
@reports_errors
def import_config(
    config: str = typer.Argument(..., help="A config.json, or a model folder holding one."),
    name: Optional[str] = typer.Option(None, "--name", help="Preset name \\[default: from the config]."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --output file."),
    assume: Optional[str] = typer.Option(None, "--assume", help=ASSUME_HELP),
) -> None:
    """Turn a Hugging Face config.json into an equivalent preset YAML.

    Examples:

      llmcalc import ./Llama-3.2-1B/config.json --name llama3.2-1b

      llmcalc import ./Llama-3.2-1B -o ~/.config/llmcalc/presets/llama3.2-1b.yaml
    """
    from pathlib import Path

    from llmcalc.hf_config import config_fields, read_config_file
    from llmcalc.presets import preset_yaml
    from llmcalc.spec import build_spec

    path = Path(config).expanduser()
    if path.is_dir():
        path = path / "config.json"
    fields, warnings = config_fields(read_config_file(path), str(path), assume, name.lower() if name else None)
    warn(warnings)
    build_spec(fields, str(path))  # the preset must be valid before it is written
    text = preset_yaml(fields, f"written by `llmcalc import {path}`")
    if output is None:
        sys.stdout.write(text)
        return
    target = Path(output).expanduser()
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to overwrite it")
    write_atomically(target, text)
    sys.stderr.write(f"llmcalc: wrote {target}\n")


def write_atomically(target: Any, text: str) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    import os
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


@app.command()
@reports_errors
def verify(
    folder: str = typer.Argument(..., help="A model folder: config.json and .safetensors files."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    assume: Optional[str] = typer.Option(None, "--assume", help=ASSUME_HELP),
) -> None:
    """Check the formula count against the tensors a checkpoint actually stores (headers only).

    Exit 0 when they agree, 1 when they do not.

    Example:

      llmcalc verify ~/models/Llama-2-7b-hf
    """
    from pathlib import Path

    from llmcalc.checkpoint import verify as check
    from llmcalc.hf_config import load_config
    from llmcalc.params import count_params

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder")
    spec, warnings = load_config(path / "config.json", assume)
    warn(warnings)
    result = check(path, spec, count_params(spec).total)
    if json_output:
        from llmcalc.formats import verification_document, write_json

        write_json(verification_document(spec, result))
    else:
        from llmcalc.render import print_verification

        print_verification(spec, result)
    if not result.agrees:
        raise typer.Exit(1)


@app.command()
@reports_errors
def presets(
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List every preset: name, family, total params, layers, hidden, heads/KV heads, context, source.

    User presets come from $LLMCALC_PRESETS and ~/.config/llmcalc/presets; one with a bundled
    preset's name replaces it.

    Example:

      llmcalc presets
    """
    from llmcalc.params import count_params
    from llmcalc.presets import all_presets

    rows = [(spec, count_params(spec), source) for spec, source in all_presets()]
    if json_output:
        from llmcalc.formats import write_json

        write_json([
            {"model": spec.name, "family": spec.family, "hf_repo": spec.hf_repo,
             "aliases": list(spec.aliases), "total_params": count.total,
             "active_params": count.active, "layers": spec.num_layers,
             "hidden_size": spec.hidden_size, "context_length": spec.context_length, "source": source}
            for spec, count, source in rows
        ])
        return
    from llmcalc.render import make_console, presets_table

    make_console().print(presets_table(rows))


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        sys.stderr.write(f"llmcalc: warning: {warning}\n")


def _interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("llmcalc: interrupted\n")
    sys.exit(130)


def main() -> None:
    import signal

    # Click would turn Ctrl-C into "Aborted!" and exit 1; the documented code is 130.
    signal.signal(signal.SIGINT, _interrupted)
    app()
