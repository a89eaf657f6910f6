"""Thin CLI: Typer signatures and the options they share; no arithmetic, no defaults, no files.

Each command resolves its model through `models`, its question through `scenario`, asks the
core, and hands the result to `render` (Rich) or `formats` (JSON, CSV, Markdown). Domain
errors become one or two plain lines here.

Each command is defined by a function in COMMANDS, called only when the app is built with that
command (`_typer`): a run defines and builds the one command it names; `llmcalc --help`, a name
that is no command, and `llmcalc.cli.app` (the tests') have them all. No `from __future__ import
annotations`: Typer would evaluate each string annotation of the built command twice, which costs
more than evaluating them once here.
"""

import functools
import sys
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Optional, TypeVar

import typer

from llmcalc import __version__
from llmcalc.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, LlmcalcError, UsageError



def _typer(commands: Iterable[str]) -> typer.Typer:
    """The app with these commands (COMMANDS' names), each defined only now: a command's
    signature builds its options (Typer's OptionInfo objects, about 80 in all), and a run needs
    one command's."""
    built = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="Exact parameter counts and memory sizes of transformer language models.",
    )
    built.callback()(root)
    for name in commands:
        built.command(name)(COMMANDS[name]())
    return built


@functools.cache
def __getattr__(name: str) -> typer.Typer:
    """`llmcalc.cli.app`: the whole app, every command (what the tests and `--help` use)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _typer(COMMANDS)

# --- options every command spells the same way -----------------------------------------------

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
    """The size flags given (named after the preset fields they set), each one value or several."""
    from llmcalc.grid import parse_counts
    from llmcalc.schema import SCHEMA

    options = {param.name: param.opts[0] for param in ctx.command.params}
    return {name: parse_counts(options[name], value) for name, value in ctx.params.items()
            if name in SCHEMA and value is not None}


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


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"llmcalc {__version__}\n")
        raise typer.Exit()


def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Exact parameter counts and memory sizes of transformer language models."""


# --- commands -------------------------------------------------------------------------------

def _params_command() -> Callable[..., None]:
    @reports_errors
    def params(
        ctx: typer.Context,
        model: Annotated[Optional[str], typer.Argument(help=MODEL_HELP)] = None,
        json_output: JsonOption = False,
        estimate: Annotated[bool, typer.Option("--estimate", help="Add the notes' textbook estimate.")] = False,
        # Flags that build (or override) a model, named after the preset field each sets.
        # A comma list in any of them makes a grid: one row per combination.
        hidden_size: Annotated[Optional[str], typer.Option(
            "--hidden-size", metavar=SIZES, help="H, model width.")] = None,
        num_hidden_layers: Annotated[Optional[str], typer.Option("--layers", metavar=SIZES,
                                                                 help="L, number of layers.")] = None,
        num_attention_heads: Annotated[Optional[str], typer.Option("--heads", metavar=SIZES,
                                                                   help="Query heads \\[default: H/128].")] = None,
        num_key_value_heads: Annotated[Optional[str], typer.Option("--kv-heads", metavar=SIZES,
                                                                   help="KV heads \\[default: = heads].")] = None,
        intermediate_size: Annotated[Optional[str], typer.Option(
            "--ffn", metavar=SIZES, help="FFN width I \\[default: 8H/3 rounded up to 256].")] = None,
        vocab_size: Annotated[Optional[str], typer.Option("--vocab", metavar=SIZES,
                                                          help="Vocabulary size \\[default: 32000].")] = None,
        head_dim: Annotated[Optional[str], typer.Option("--head-dim", metavar=SIZES,
                                                        help="Per-head width \\[default: H/heads].")] = None,
        max_position_embeddings: Annotated[Optional[str], typer.Option(
            "--context", metavar=SIZES, help="Context length (informational).")] = None,
        assignments: SetOption = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """Count a model's parameters exactly, component by component.

        Examples:

          llmcalc params mistral-7b

          llmcalc params llama2-70b --json

          llmcalc params llama2-7b --set num_key_value_heads=8

          llmcalc params --hidden-size 4096 --layers 32 --heads 32 --kv-heads 8 --ffn 14336 --vocab 32000

          llmcalc params --hidden-size 2048,4096 --layers 16,32 --json

        Flags alone build a LLaMA-style model: RMSNorm, gated (SwiGLU) FFN, RoPE, untied head. A comma
        list in a size flag makes a grid: one row per combination.
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc import api
        from llmcalc.params import textbook_estimate
        from llmcalc.grid import combinations

        axes = size_flags(ctx)
        grid = combinations(axes)
        settings = overrides(assignments)
        notes: list[str] = []
        base = None if model is None else api.load_model(model, assume=assume, revision=revision, offline=offline,
                                                         remote=remote, on_warning=notes.append)
        specs = [api.load_model(base, overrides={**values, **settings}) for values in grid]
        warn(notes)
        counts = [api.count_params(spec) for spec in specs]
        estimates = [textbook_estimate(spec) if estimate else None for spec in specs]
        checkpoints: list[Any] = [None for _ in specs]
        if any(spec.checkpoint_format for spec in specs):  # the published file's bytes: quant's tables
            from llmcalc.quant import published_size

            checkpoints = [published_size(spec) if spec.checkpoint_format else None for spec in specs]
        varied = [name for name, values in axes.items() if len(values) > 1]

        def as_json() -> None:
            from llmcalc.formats import params_document, params_grid_document, write_json

            if varied:
                write_json(params_grid_document(varied, specs, counts, estimates, checkpoints))
            else:
                write_json(params_document(specs[0], counts[0], estimates[0], checkpoints[0]))

        def as_table() -> None:
            from llmcalc.render import print_params, print_params_grid

            if varied:
                print_params_grid(varied, specs, counts, estimates)
            else:
                print_params(specs[0], counts[0], estimates[0], checkpoints[0])

        emit(None, json_output, {"table": as_table, "json": as_json})

    return params


def _kvcache_command() -> Callable[..., None]:
    @reports_errors
    def kvcache(
        model: ModelArgument,
        seq: SeqOption = None,
        batch: BatchOption = None,
        dtype: DtypeOption = None,
        weights_dtype: WeightsDtypeOption = None,
        no_window: Annotated[bool, typer.Option("--no-window", help="Ignore sliding windows: every layer keeps "
                                                                    "every token.")] = False,
        encoder_seq: Annotated[Optional[str], typer.Option(
            "--encoder-seq", help="Encoder tokens for cross-attention (T5) \\[default: --seq].")] = None,
        json_output: JsonOption = False,
        assignments: SetOption = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """KV-cache memory: per token, per layer and in total, and what GQA, MQA, MLA and windows save.

        Examples:

          llmcalc kvcache mistral-7b --seq 4096 --batch 1 --dtype fp16

          llmcalc kvcache llama2-70b --seq 1k,4k,32k,128k --dtype bf16

          llmcalc kvcache deepseek-v2-lite --seq 32k --json
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc import api
        from llmcalc.kvcache import footprint

        notes: list[str] = []
        spec = api.load_model(model, overrides=overrides(assignments), assume=assume, revision=revision,
                              offline=offline, remote=remote, on_warning=notes.append)
        caches = api.kv_caches(spec, seq=seq, batch=batch, dtype=dtype, weights_dtype=weights_dtype,
                               windows=not no_window, encoder_seq=encoder_seq, on_warning=notes.append)
        warn(notes)
        count = api.count_params(spec)
        needs = [footprint(cache, count) for cache in caches]

        def as_json() -> None:
            from llmcalc.formats import kvcache_document, write_json

            rows = [kvcache_document(spec, cache, need) for cache, need in zip(caches, needs)]
            write_json(rows[0] if len(rows) == 1 else {"model": spec.name, "rows": rows})

        def as_table() -> None:
            from llmcalc.render import print_kvcache, print_kvcache_sweep

            if len(caches) == 1:
                print_kvcache(spec, caches[0], needs[0])
            else:
                print_kvcache_sweep(spec, caches, needs)

        emit(None, json_output, {"table": as_table, "json": as_json})

    return kvcache


def _compare_command() -> Callable[..., None]:
    @reports_errors
    def compare(
        models: Annotated[list[str], typer.Argument(help="2 to 8 models: presets, aliases, YAML or config.json "
                                                         "files, model folders, cached repo ids.")],
        output_format: Annotated[Optional[str], typer.Option("--format", help="table, json, csv or markdown.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
        dtype: DtypeOption = None,
        weights_dtype: WeightsDtypeOption = None,
        seq: SeqOption = None,
        quant: Annotated[Optional[str], typer.Option(
            "--quant", help="Add each model's weights in this quantized format (q4_k_m, gptq-int4, fp8, ...; see "
                            "`llmcalc quant`).")] = None,
        gpu: Annotated[Optional[str], typer.Option("--gpu", help="Add how each model fits this GPU (`llmcalc gpus`), "
                                                                "as `llmcalc fit` answers it.")] = None,
        gpus: Annotated[Optional[int], typer.Option(
            "--gpus", help="With --gpu: this many of them \\[default: 1].")] = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """Models side by side, component by component, with ratios against the first.

        Examples:

          llmcalc compare llama2-7b llama2-70b

          llmcalc compare mistral-7b mixtral-8x7b llama3-8b --format markdown

          llmcalc compare gpt2 t5-base --json

          llmcalc compare llama3.1-8b qwen3-8b --quant q4_k_m

          llmcalc compare llama3.1-8b qwen3-32b --gpu rtx-4090 --quant q4_k_m
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc import api
        from llmcalc.compare import check_count

        check_count(len(models))
        notes: list[str] = []
        # Every model is resolved before anything is printed: one bad name, no partial output.
        specs = [api.load_model(model, assume=assume, revision=revision, offline=offline, remote=remote,
                                on_warning=notes.append) for model in models]
        comparison = api.compare_models(specs, seq=seq, dtype=dtype, weights_dtype=weights_dtype, quant=quant,
                                        gpu=gpu, gpus=gpus, on_warning=notes.append)

        def as_table() -> None:
            from llmcalc.render import print_compare

            print_compare(comparison)

        def as_json() -> None:
            from llmcalc.formats import compare_document, write_json

            write_json(compare_document(comparison))

        def as_text(render_text: Callable[..., str]) -> Callable[[], None]:
            def write() -> None:
                sys.stdout.write(render_text(comparison))

            return write

        from llmcalc import formats

        writers = {"table": as_table, "json": as_json, "csv": as_text(formats.compare_csv),
                   "markdown": as_text(formats.compare_markdown)}
        warn(notes)
        emit(output_format, json_output, writers)

    return compare


def _explain_command() -> Callable[..., None]:
    @reports_errors
    def explain(
        model: ModelArgument,
        topic: Annotated[str, typer.Option(
            "--topic", help="params, kvcache, gqa, estimate, quant, fit or train.")] = "params",
        quant: Annotated[Optional[str], typer.Option(
            "--quant", help="The format --topic quant derives \\[default: q4_k_m], or the weights' format of --topic "
                            "fit.")] = None,
        check: Annotated[Optional[str], typer.Option(
            "--check", help="A figure you computed by hand (3.16e9, 3.16G, 7.5B, 232M): which common slips "
                            "give it.")] = None,
        gpu: Annotated[Optional[str], typer.Option("--gpu", help="--topic fit: the GPU (`llmcalc gpus`).")] = None,
        gpus: Annotated[Optional[int], typer.Option("--gpus", help="--topic fit: how many \\[default: 1].")] = None,
        runtime: Annotated[Optional[str], typer.Option("--runtime", help="--topic fit: vllm, llamacpp or "
                                                                        "transformers.")] = None,
        output_format: Annotated[Optional[str], typer.Option("--format", help="rich, markdown or json.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
        seq: SeqOption = None,
        batch: BatchOption = None,
        dtype: DtypeOption = None,
        assignments: SetOption = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """The derivation, step by step: symbols, estimate, exact count, reconciliation.

        Examples:

          llmcalc explain mistral-7b

          llmcalc explain qwen2.5-3b --check 3.16G

          llmcalc explain llama2-70b --topic kvcache --seq 4k

          llmcalc explain mistral-7b --topic gqa --format markdown

          llmcalc explain llama3.1-8b --topic quant --quant q4_k_m

          llmcalc explain llama3.1-70b --topic fit --gpu h100 --gpus 4 --seq 8k
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc.explain import check_topic, parse_figure
        from llmcalc.explain import explain as derive
        from llmcalc import api
        from llmcalc.scenario import Deployment, Scenario, Training

        check_topic(topic)
        if check is not None and topic not in ("params", "estimate"):
            raise UsageError("--check goes with --topic params or estimate: it checks a parameter count")
        figure = parse_figure(check) if check is not None else None
        if quant is not None:
            from llmcalc.quant import find_format

            if topic not in ("quant", "fit"):
                raise UsageError("--quant goes with --topic quant or --topic fit")
            quant = find_format(quant)
        if topic not in ("fit", "train") and (gpu, gpus, runtime) != (None, None, None):
            raise UsageError("--gpu, --gpus and --runtime go with --topic fit (--gpu and --gpus also with train)")
        deployment = Deployment.parse(gpu, gpus, runtime=runtime, weight_format=quant) if topic == "fit" else None
        # --topic train: the setup `llmcalc train` takes, its flags here limited to GPUs and tokens.
        training = Training.parse(gpus=gpus, seq=seq, micro_batch=batch, gpu=gpu) if topic == "train" else None
        scenario = Scenario.parse(seq, batch, dtype)
        notes: list[str] = []
        spec = api.load_model(model, overrides=overrides(assignments), assume=assume, revision=revision,
                              offline=offline, remote=remote, on_warning=notes.append)
        points, more = scenario.resolve(spec)
        warn(notes, more)
        explanation = derive(spec, topic, points[0], quant or "q4_k_m", deployment, training, figure)

        def as_rich() -> None:
            from llmcalc.render import print_explanation

            print_explanation(explanation)

        def as_json() -> None:
            from llmcalc.formats import explain_document, write_json

            write_json(explain_document(explanation))

        def as_markdown() -> None:
            from llmcalc.formats import explain_markdown

            sys.stdout.write(explain_markdown(explanation))

        emit(output_format, json_output, {"rich": as_rich, "markdown": as_markdown, "json": as_json})

    return explain


def _quant_command() -> Callable[..., None]:
    @reports_errors
    def quant(
        model: ModelArgument,
        output_format: Annotated[Optional[str], typer.Option(
            "--format", help="One format, tensor by tensor: a llama.cpp mix (q4_k_m, q8_0, iq4_xs, ...) or a "
                             "safetensors format (gptq-int4, awq-int4, nf4, fp8, mxfp4, nvfp4, ...).")] = None,
        imatrix: Annotated[Optional[bool], typer.Option(
            "--imatrix/--no-imatrix", help="GGUF: as made with an importance matrix \\[default: only the mixes that "
                                           "need one].")] = None,
        gguf_file: Annotated[Optional[str], typer.Option(
            "--file", help="MODEL is a Hub repo of GGUF files: check the one matching this pattern ('*Q4_K_M.gguf') "
                           "from its header, read by range requests.")] = None,
        json_output: JsonOption = False,
        assignments: SetOption = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """The exact size of a model in every quantized format: llama.cpp's GGUF mixes and the
        safetensors formats (GPTQ, AWQ, bitsandbytes, FP8, MXFP4, NVFP4).

        Examples:

          llmcalc quant llama3.1-8b

          llmcalc quant llama3.1-8b --format q4_k_m

          llmcalc quant qwen3-32b --format awq-int4 --json

          llmcalc quant bartowski/Meta-Llama-3.1-8B-Instruct-GGUF --file '*Q4_K_M.gguf'
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc import api

        if gguf_file is not None:
            from llmcalc.hub_access import HubAccess
            from llmcalc.quant import check_remote_gguf

            name, result = check_remote_gguf(model, gguf_file, HubAccess(revision, offline, remote))
            _report_gguf(f"{model}/{name}", result, json_output)
            return

        if output_format is not None:
            from llmcalc.quant import find_format

            find_format(output_format)  # a misspelt format is reported before the model is read
        notes: list[str] = []
        spec = api.load_model(model, overrides=overrides(assignments), assume=assume, revision=revision,
                              offline=offline, remote=remote, on_warning=notes.append)
        warn(notes)
        sizes: list[Any] = ([api.quantize(spec, output_format, imatrix=imatrix)] if output_format is not None
                            else api.quantize_all(spec, imatrix=imatrix))

        def as_json() -> None:
            from llmcalc.formats import quant_document, write_json

            write_json(quant_document(spec, sizes, tensors=output_format is not None))

        def as_table() -> None:
            from llmcalc.render import print_quant

            print_quant(spec, sizes)

        emit(None, json_output, {"table": as_table, "json": as_json})

    return quant


def _fit_command() -> Callable[..., None]:
    @reports_errors
    def fit(
        model: ModelArgument,
        gpu: Annotated[Optional[str], typer.Option("--gpu", help="A GPU of the catalogue (`llmcalc gpus`): h100, "
                                                                "a100-80gb, rtx-4090, mi300x, m4-max, ...")] = None,
        gpus: Annotated[Optional[int], typer.Option("--gpus", help="GPUs \\[default: --tp × --pp, else 1].")] = None,
        tp: Annotated[Optional[int], typer.Option("--tp", help="Tensor-parallel degree (vLLM) \\[default: --gpus ÷ "
                                                              "--pp].")] = None,
        pp: Annotated[Optional[int], typer.Option("--pp", help="Pipeline stages \\[default: --gpus ÷ --tp; llama.cpp: "
                                                              "--gpus].")] = None,
        expert_parallel: Annotated[bool, typer.Option(
            "--expert-parallel", help="vLLM: spread whole experts over the GPUs instead of splitting each.")] = False,
        runtime: Annotated[Optional[str], typer.Option(
            "--runtime", help="vllm, llamacpp or transformers \\[default: llamacpp for a GGUF format, else "
                              "vllm].")] = None,
        weight_format: Annotated[Optional[str], typer.Option(
            "--format", help="Weights as a quantized format (`llmcalc quant` lists them) \\[default: the checkpoint as "
                             "published, else --weights-dtype].")] = None,
        seq: SeqOption = None,
        batch: BatchOption = None,
        dtype: DtypeOption = None,
        weights_dtype: WeightsDtypeOption = None,
        gpu_memory: Annotated[Optional[str], typer.Option(
            "--gpu-memory", help="Memory of a GPU not in the catalogue (or instead of the catalogue's): 24GiB, "
                                 "80GB.")] = None,
        bandwidth: Annotated[Optional[str], typer.Option("--bandwidth", help="Its memory bandwidth: 936GB/s.")] = None,
        flops: Annotated[Optional[str], typer.Option("--flops", help="Its dense bf16 throughput: 165T.")] = None,
        gpu_util: Annotated[Optional[str], typer.Option(
            "--gpu-util", help="vLLM's --gpu-memory-utilization \\[default: 0.92, as in vLLM 0.21].")] = None,
        efficiency: Annotated[Optional[str], typer.Option(
            "--efficiency", help="Share of peak bandwidth and throughput the roofline assumes \\[default: 1.0, an "
                                 "upper bound].")] = None,
        json_output: JsonOption = False,
        assignments: SetOption = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """Will it run on these GPUs: the memory of the most loaded GPU, part by part, the largest
        context and batch that fit, and decode and prefill speed from a roofline.

        Examples:

          llmcalc fit llama3.1-70b --gpu h100 --gpus 4 --seq 32k --batch 8

          llmcalc fit qwen3-32b --gpu rtx-4090 --format q4_k_m

          llmcalc fit mistral-7b --gpu-memory 24GiB --bandwidth 936GB/s
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc import api
        from llmcalc.fit import remedies

        notes: list[str] = []
        spec = api.load_model(model, overrides=overrides(assignments), assume=assume, revision=revision,
                              offline=offline, remote=remote, on_warning=notes.append)
        result = api.fit_model(spec, gpu, gpus=gpus, tp=tp, pp=pp, expert_parallel=expert_parallel, runtime=runtime,
                               format=weight_format, seq=seq, batch=batch, dtype=dtype, weights_dtype=weights_dtype,
                               gpu_memory=gpu_memory, bandwidth=bandwidth, flops=flops, gpu_util=gpu_util,
                               efficiency=efficiency, on_warning=notes.append)
        warn(notes)
        changes = None if result.fits else remedies(result)

        def as_json() -> None:
            from llmcalc.formats import fit_document, write_json

            write_json(fit_document(result, changes))

        def as_table() -> None:
            from llmcalc.render import print_fit

            print_fit(result, changes)

        emit(None, json_output, {"table": as_table, "json": as_json})

    return fit


def _train_command() -> Callable[..., None]:
    @reports_errors
    def train(
        model: ModelArgument,
        gpus: Annotated[Optional[int], typer.Option("--gpus", help="GPUs \\[default: --tp × --pp, else 1].")] = None,
        zero: Annotated[Optional[str], typer.Option("--zero", help="ZeRO stage 0-3, or FSDP's no-shard, grad-op, full "
                                                                  "\\[default: 0].")] = None,
        tp: Annotated[Optional[int], typer.Option("--tp", help="Tensor-parallel degree \\[default: 1].")] = None,
        pp: Annotated[Optional[int], typer.Option("--pp", help="Pipeline stages \\[default: 1].")] = None,
        sequence_parallel: Annotated[bool, typer.Option(
            "--sequence-parallel", help="Split the norms' and dropouts' activations over --tp too.")] = False,
        recompute: Annotated[Optional[str], typer.Option("--recompute", help="none, selective or full \\[default: "
                                                                            "none].")] = None,
        attention: Annotated[Optional[str], typer.Option(
            "--attention", help="flash or eager \\[default: flash].")] = None,
        dropout: Annotated[bool, typer.Option("--dropout", help="Count dropout's masks and outputs (pre-training LLMs "
                                                                "today use none).")] = False,
        seq: Annotated[Optional[str], typer.Option(
            "--seq", help="Tokens per sequence: 4096, 8k \\[default: 4096].")] = None,
        micro_batch: Annotated[Optional[str], typer.Option("--micro-batch", help="Sequences per GPU per step "
                                                                                "\\[default: 1].")] = None,
        optimizer: Annotated[Optional[str], typer.Option("--optimizer", help="adamw, adam, adam8bit, sgd or adafactor "
                                                                            "\\[default: adamw].")] = None,
        precision: Annotated[Optional[str], typer.Option("--precision", help="bf16, fp16, fp8 (mixed) or fp32 "
                                                                            "\\[default: bf16].")] = None,
        offload: Annotated[Optional[str], typer.Option("--offload", help="none, optimizer or all (ZeRO-3 parameters "
                                                                        "too) \\[default: none].")] = None,
        convention: Annotated[Optional[str], typer.Option(
            "--convention", help="zero (2+2+12 bytes per parameter) or megatron (2+4+12) \\[default: zero].")] = None,
        lora_rank: Annotated[Optional[int], typer.Option(
            "--lora-rank", help="Train LoRA adapters of this rank.")] = None,
        lora_modules: Annotated[Optional[str], typer.Option(
            "--lora-modules", help="Modules LoRA adapts, e.g. q_proj,v_proj or all-linear \\[default: "
                                   "q_proj,v_proj].")] = None,
        qlora: Annotated[bool, typer.Option(
            "--qlora", help="Keep the frozen base in NF4 with double quantization.")] = False,
        tokens: Annotated[Optional[str], typer.Option(
            "--tokens", help="Tokens of the whole run: 15e12, 15T, 300B.")] = None,
        gpu: Annotated[Optional[str], typer.Option("--gpu", help="A GPU of the catalogue (`llmcalc gpus`): its memory "
                                                                "to fit and its peak for the time.")] = None,
        mfu: Annotated[Optional[str], typer.Option("--mfu", help="Model-FLOPs utilisation for the time \\[default: "
                                                                "0.4].")] = None,
        json_output: JsonOption = False,
        assignments: SetOption = None,
        assume: AssumeOption = None,
        lang: LangOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
        remote: RemoteOption = False,
    ) -> None:
        """Training memory per GPU (model states by ZeRO stage, activations term by term), FLOPs per
        token and the time of a run.

        Examples:

          llmcalc train llama3.1-8b --gpus 8 --zero 3 --seq 8k --micro-batch 2 --recompute selective

          llmcalc train llama2-7b --lora-rank 16 --lora-modules q_proj,v_proj

          llmcalc train llama3.1-70b --gpus 512 --tp 8 --pp 4 --tokens 15e12 --gpu h100 --mfu 0.4
        """
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc import api

        notes: list[str] = []
        spec = api.load_model(model, overrides=overrides(assignments), assume=assume, revision=revision,
                              offline=offline, remote=remote, on_warning=notes.append)
        warn(notes)
        result = api.plan_training(spec, gpus=gpus, zero=zero, tp=tp, pp=pp, sequence_parallel=sequence_parallel,
                                   recompute=recompute, attention=attention, dropout=dropout, seq=seq,
                                   micro_batch=micro_batch, optimizer=optimizer, precision=precision, offload=offload,
                                   convention=convention, lora_rank=lora_rank, lora_modules=lora_modules, qlora=qlora,
                                   tokens=tokens, gpu=gpu, mfu=mfu)

        def as_json() -> None:
            from llmcalc.formats import train_document, write_json

            write_json(train_document(result))

        def as_table() -> None:
            from llmcalc.render import print_train

            print_train(result)

        emit(None, json_output, {"table": as_table, "json": as_json})

    return train


def _list_gpus_command() -> Callable[..., None]:
    @reports_errors
    def list_gpus(json_output: JsonOption = False, lang: LangOption = None) -> None:
        """The GPU catalogue `fit --gpu` takes: memory, bandwidth and dense throughput, with sources."""
        from llmcalc.i18n import choose

        choose(lang)
        from llmcalc.gpus import CATALOGUE

        def as_json() -> None:
            from llmcalc.formats import gpus_document, write_json

            write_json(gpus_document(CATALOGUE))

        def as_table() -> None:
            from llmcalc.render import print_gpus

            print_gpus(CATALOGUE)

        emit(None, json_output, {"table": as_table, "json": as_json})

    return list_gpus


def _import_config_command() -> Callable[..., None]:
    @reports_errors
    def import_config(
        config: Annotated[str, typer.Argument(help="A config.json, or a model folder holding one.")],
        name: Annotated[Optional[str], typer.Option("--name", help="Preset name \\[default: from the config].")] = None,
        output: Annotated[Optional[str], typer.Option("-o", "--output",
                                                      help="Write to this file instead of stdout.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")] = False,
        assume: AssumeOption = None,
    ) -> None:
        """Turn a Hugging Face config.json into an equivalent preset YAML.

        Examples:

          llmcalc import ./Llama-3.2-1B/config.json --name llama3.2-1b

          llmcalc import ./Llama-3.2-1B -o ~/.config/llmcalc/presets/llama3.2-1b.yaml
        """
        from llmcalc.files import user_path, write_preset
        from llmcalc.models import import_preset

        text, warnings = import_preset(config, name, assume)
        warn(warnings)
        if output is None:
            sys.stdout.write(text)
            return
        target = user_path(output)
        write_preset(target, text, force)
        sys.stderr.write(f"llmcalc: wrote {target}\n")

    return import_config


def _verify_command() -> Callable[..., None]:
    @reports_errors
    def verify(
        folder: Annotated[str, typer.Argument(help="A model folder (config.json and .safetensors files), a .gguf "
                                                   "file, or a Hub repo id (headers by range requests).")],
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        assume: AssumeOption = None,
        revision: RevisionOption = None,
        offline: OfflineOption = False,
    ) -> None:
        """Check the formula against what a checkpoint stores, from its headers alone: a folder's
        parameter count, or a GGUF's every tensor type against llama.cpp's rules for its file type.

        Exit 0 when they agree, 1 when they do not.

        Examples:

          llmcalc verify ~/models/Llama-2-7b-hf

          llmcalc verify ~/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf

          llmcalc verify deepseek-ai/DeepSeek-V3
        """
        if folder.lower().endswith(".gguf"):
            _verify_gguf(folder, json_output)
            return
        from llmcalc.checkpoint import verify as check
        from llmcalc.checkpoint import verify_tensors
        from llmcalc.hub_access import HubAccess
        from llmcalc.models import is_repo_id, load_folder, load_repo_checkpoint
        from llmcalc.params import count_params

        if is_repo_id(folder):
            spec, stored, warnings = load_repo_checkpoint(folder, assume, HubAccess(revision, offline))
            warn(warnings)
            result = verify_tensors(stored, spec, count_params(spec).total, folder)
        else:
            path, spec, warnings = load_folder(folder, assume)
            warn(warnings)
            result = check(path, spec, count_params(spec).total)
        quantized = None
        if spec.checkpoint_format:  # a quantized checkpoint: its bytes against its format's layout
            from llmcalc.quant import check_quantized_folder

            quantized = check_quantized_folder(spec, result.tensors)

        def as_json() -> None:
            from llmcalc.formats import verification_document, write_json

            write_json(verification_document(spec, result, quantized))

        def as_table() -> None:
            from llmcalc.render import print_verification

            print_verification(spec, result, quantized)

        emit(None, json_output, {"table": as_table, "json": as_json})
        if not (quantized.agrees if quantized is not None else result.agrees):
            raise typer.Exit(1)

    return verify


def _verify_gguf(path: str, json_output: bool) -> None:
    from llmcalc.files import user_path
    from llmcalc.quant import check_gguf

    _report_gguf(path, check_gguf(user_path(path)), json_output)


def _report_gguf(path: str, result: Any, json_output: bool) -> None:
    """A GGUF's check, printed; exit 1 when a tensor's type differs from llama.cpp's rules."""

    def as_json() -> None:
        from llmcalc.formats import gguf_check_document, write_json

        write_json(gguf_check_document(path, result))

    def as_table() -> None:
        from llmcalc.render import print_gguf_check

        print_gguf_check(path, result)

    emit(None, json_output, {"table": as_table, "json": as_json})
    if not result.agrees:
        raise typer.Exit(1)


def _presets_command() -> Callable[..., None]:
    @reports_errors
    def presets(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """List every preset: name, family, total params, layers, hidden, heads/KV heads, context, source.

        User presets come from $LLMCALC_PRESETS and ~/.config/llmcalc/presets; one with a bundled
        preset's name replaces it.

        Example:

          llmcalc presets
        """
        from llmcalc.preset_rows import all_rows

        rows, warnings = all_rows()
        warn(warnings)

        def as_json() -> None:
            from llmcalc.formats import presets_document, write_json

            write_json(presets_document(rows))

        def as_table() -> None:
            from llmcalc.render import print_presets

            print_presets(rows)

        emit(None, json_output, {"table": as_table, "json": as_json})

    return presets


# Each command's name → what defines it, in the order `llmcalc --help` lists them.
COMMANDS: dict[str, Callable[[], Callable[..., None]]] = {
    "params": _params_command, "kvcache": _kvcache_command, "compare": _compare_command,
    "explain": _explain_command, "quant": _quant_command, "fit": _fit_command, "train": _train_command,
    "gpus": _list_gpus_command, "import": _import_config_command, "verify": _verify_command,
    "presets": _presets_command,
}


def _interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("llmcalc: interrupted\n")
    sys.exit(EXIT_INTERRUPTED)


def _terminated(signum: int, frame: object) -> None:
    # An exception, not the default instant death: a file being written is cleaned up.
    sys.exit(EXIT_TERMINATED)


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command the arguments name: Typer builds every command's Click
    objects from its signature at each start, and one is all a run uses. The whole app answers
    the overall --help and a name that is no command."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    return _typer([name]) if name in COMMANDS else _typer(COMMANDS)


def main() -> None:
    import signal

    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError as ClickUsageError
    from typer.exceptions import Abort

    from llmcalc.streams import guard_stdout

    # Click would turn Ctrl-C into "Aborted!" and exit 1; the documented code is 130.
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _terminated)
    problem = guard_stdout()
    if problem is not None:
        sys.stderr.write(f"llmcalc: {problem}\n")
        sys.exit(1)
    try:
        # Not standalone: Click's own error display is a box of several lines; ours is one or two.
        code = _app_for(sys.argv[1:])(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # no command given: the help, and the usage code as before
        if exc.ctx is not None:
            print(exc.ctx.get_help())
        code = exc.exit_code
    except ClickUsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "llmcalc"
        sys.stderr.write(f"llmcalc: {exc.format_message()}\nRun `{command} --help` for the options.\n")
        code = exc.exit_code
    except ClickException as exc:
        sys.stderr.write(f"llmcalc: {exc.format_message()}\n")
        code = exc.exit_code
    except Abort:  # end of input where Click asked for some
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
