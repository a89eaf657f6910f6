"""`llmcalc fit`."""

from typing import Annotated, Optional

import typer

from llmcalc.options import (
    AssumeOption,
    BatchOption,
    DtypeOption,
    JsonOption,
    LangOption,
    ModelArgument,
    OfflineOption,
    RemoteOption,
    RevisionOption,
    SeqOption,
    SetOption,
    WeightsDtypeOption,
    emit,
    overrides,
    reports_errors,
    warn,
)


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
        from llmcalc.formats import write_json
        from llmcalc.formats.fit import fit_document

        write_json(fit_document(result, changes))

    def as_table() -> None:
        from llmcalc.views.fit import print_fit

        print_fit(result, changes)

    emit(None, json_output, {"table": as_table, "json": as_json})
