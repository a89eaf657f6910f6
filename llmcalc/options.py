"""What the commands share: the options every command spells the same way, and how a command
reports errors, reads `--set` and size flags, warns, and picks its output. Typer only; no
arithmetic, no defaults, no files (the commands are in `llmcalc/commands/`, the app in `cli`)."""

import functools
import sys
from collections.abc import Callable
from typing import Annotated, Any, Optional, TypeVar

import typer

from llmcalc.errors import LlmcalcError, UsageError

MODEL_HELP = ("Preset name or alias (case-insensitive), a preset YAML file, a config.json, a model folder, "
              "or a Hugging Face repo id (the local cache, else the Hub with llmcalc\\[hub]).")
ModelArgument = Annotated[str, typer.Argument(help=MODEL_HELP)]
SIZES = "N[,N...]"
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (the documented contract).")]
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="KEY=VALUE", help="Override any preset field, e.g. num_key_value_heads=8.")]
AssumeOption = Annotated[Optional[str], typer.Option(
    "--assume", help="Read a config.json of an unsupported model_type as this one (e.g. llama), with a warning.")]
SeqOption = Annotated[Optional[str], typer.Option(
    "--seq", help="Tokens per sequence: 4096, 4k, 32K, 1m; kvcache also takes a comma list \\[default: the model's "
                  "context length (compare: the shortest of the models'), else 4096].")]
BatchOption = Annotated[Optional[str], typer.Option(
    "--batch", help="Sequences; kvcache also takes a comma list \\[default: 1].")]
DtypeOption = Annotated[Optional[str], typer.Option(
    "--dtype", help="KV-cache precision: fp32, fp16, bf16, fp8_e4m3, fp8_e5m2, int8, int4, q8_0, q4_0 "
                    "\\[default: the model's torch_dtype, else bf16].")]
RevisionOption = Annotated[Optional[str], typer.Option(
    "--revision", help="Hub repo ids: a branch, tag or commit \\[default: main; the cache first].")]
OfflineOption = Annotated[bool, typer.Option(
    "--offline", help="Never use the network (also HF_HUB_OFFLINE=1): repo ids from the cache only.")]
RemoteOption = Annotated[bool, typer.Option(
    "--remote", help="Read a repo id's config.json from the Hub even when a preset alias or a cached copy "
                     "would do.")]
LangOption = Annotated[Optional[str], typer.Option(
    "--lang", help="Language of the text: en, zh (Simplified Chinese), zh-Hant (Traditional) \\[default: "
                   "LLMCALC_LANG, else the locale, else en]; JSON never changes.")]
WeightsDtypeOption = Annotated[Optional[str], typer.Option(
    "--weights-dtype", help="Weight precision \\[default: the checkpoint's quantization, else its torch_dtype, "
                            "else bf16].")]


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


def overrides(assignments: Optional[list[str]]) -> dict[str, Any]:
    """Preset fields `--set` changes."""
    from llmcalc.models import parse_assignments

    return parse_assignments(assignments or [])


def size_flags(ctx: typer.Context) -> dict[str, tuple[int, ...]]:
    """The size flags given — the options whose metavar is SIZES, each named after the preset field
    it sets (tests/test_cli.py checks the names) — each one value or several."""
    from llmcalc.grid import parse_counts

    options = {param.name: param.opts[0] for param in ctx.command.params if param.metavar == SIZES}
    return {name: parse_counts(options[name], value) for name, value in ctx.params.items()
            if name in options and value is not None}


def warn(*groups: list[str]) -> None:
    for warnings in groups:
        for warning in warnings:
            sys.stderr.write(f"llmcalc: warning: {warning}\n")


def emit(output_format: Optional[str], json_output: bool, writers: dict[str, Callable[[], None]]) -> None:
    """Run the writer of the chosen format: --json is short for --format json; the first is the default."""
    if json_output and output_format not in (None, "json"):
        raise UsageError(f"--json and --format {output_format} disagree; give one of them")
    chosen = "json" if json_output else output_format or next(iter(writers))
    if chosen not in writers:
        raise UsageError(f"--format {chosen!r}: use one of {', '.join(writers)}")
    writers[chosen]()


def report_gguf(path: str, result: Any, json_output: bool) -> None:
    """A GGUF's check, printed; exit 1 when a tensor's type differs from llama.cpp's rules."""

    def as_json() -> None:
        from llmcalc.formats import write_json
        from llmcalc.formats.quant import gguf_check_document

        write_json(gguf_check_document(path, result))

    def as_table() -> None:
        from llmcalc.views.quant import print_gguf_check

        print_gguf_check(path, result)

    emit(None, json_output, {"table": as_table, "json": as_json})
    if not result.agrees:
        raise typer.Exit(1)
