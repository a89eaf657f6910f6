"""`llmcalc quant`."""

from typing import Annotated, Any, Optional

import typer

from llmcalc.options import (
    AssumeOption,
    JsonOption,
    LangOption,
    ModelArgument,
    OfflineOption,
    RemoteOption,
    RevisionOption,
    SetOption,
    emit,
    overrides,
    report_gguf,
    reports_errors,
    warn,
)


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
        from llmcalc.quant_check import check_remote_gguf

        name, result = check_remote_gguf(model, gguf_file, HubAccess(revision, offline, remote))
        report_gguf(f"{model}/{name}", result, json_output)
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
        from llmcalc.formats import write_json
        from llmcalc.formats.quant import quant_document

        write_json(quant_document(spec, sizes, tensors=output_format is not None))

    def as_table() -> None:
        from llmcalc.views.quant import print_quant

        print_quant(spec, sizes)

    emit(None, json_output, {"table": as_table, "json": as_json})
