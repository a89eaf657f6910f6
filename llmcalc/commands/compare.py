"""`llmcalc compare`."""

import sys
from typing import Annotated, Optional

import typer

from llmcalc.options import (
    AssumeOption,
    DtypeOption,
    LangOption,
    OfflineOption,
    RemoteOption,
    RevisionOption,
    SeqOption,
    WeightsDtypeOption,
    emit,
    reports_errors,
    warn,
)


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
        from llmcalc.views.compare import print_compare

        print_compare(comparison)

    def as_json() -> None:
        from llmcalc.formats import write_json
        from llmcalc.formats.compare import compare_document

        write_json(compare_document(comparison))

    def as_csv() -> None:
        from llmcalc.formats.compare import compare_csv

        sys.stdout.write(compare_csv(comparison))

    def as_markdown() -> None:
        from llmcalc.formats.compare import compare_markdown

        sys.stdout.write(compare_markdown(comparison))

    writers = {"table": as_table, "json": as_json, "csv": as_csv, "markdown": as_markdown}
    warn(notes)
    emit(output_format, json_output, writers)
