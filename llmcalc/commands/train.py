"""`llmcalc train`."""

from typing import Annotated, Optional

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
    reports_errors,
    warn,
)


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
        from llmcalc.formats import write_json
        from llmcalc.formats.train import train_document

        write_json(train_document(result))

    def as_table() -> None:
        from llmcalc.views.train import print_train

        print_train(result)

    emit(None, json_output, {"table": as_table, "json": as_json})
