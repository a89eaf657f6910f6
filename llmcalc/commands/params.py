"""`llmcalc params`."""

from typing import Annotated, Any, Optional

import typer

from llmcalc.options import (
    MODEL_HELP,
    SIZES,
    AssumeOption,
    JsonOption,
    LangOption,
    OfflineOption,
    RemoteOption,
    RevisionOption,
    SetOption,
    emit,
    overrides,
    reports_errors,
    size_flags,
    warn,
)


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
        from llmcalc.formats import write_json
        from llmcalc.formats.params import params_document, params_grid_document

        if varied:
            write_json(params_grid_document(varied, specs, counts, estimates, checkpoints))
        else:
            write_json(params_document(specs[0], counts[0], estimates[0], checkpoints[0]))

    def as_table() -> None:
        from llmcalc.views.params import print_params, print_params_grid

        if varied:
            print_params_grid(varied, specs, counts, estimates)
        else:
            print_params(specs[0], counts[0], estimates[0], checkpoints[0])

    emit(None, json_output, {"table": as_table, "json": as_json})
