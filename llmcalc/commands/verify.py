"""`llmcalc verify`."""

from typing import Annotated

import typer

from llmcalc.options import AssumeOption, OfflineOption, RevisionOption, emit, report_gguf, reports_errors, warn


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
        from llmcalc.quant_check import check_quantized_folder

        quantized = check_quantized_folder(spec, result.tensors)

    def as_json() -> None:
        from llmcalc.formats import write_json
        from llmcalc.formats.verify import verification_document

        write_json(verification_document(spec, result, quantized))

    def as_table() -> None:
        from llmcalc.views.verify import print_verification

        print_verification(spec, result, quantized)

    emit(None, json_output, {"table": as_table, "json": as_json})
    if not (quantized.agrees if quantized is not None else result.agrees):
        raise typer.Exit(1)


def _verify_gguf(path: str, json_output: bool) -> None:
    from llmcalc.files import user_path
    from llmcalc.quant_check import check_gguf

    report_gguf(path, check_gguf(user_path(path)), json_output)
