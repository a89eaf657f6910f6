"""`llmcalc kvcache`."""

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
        from llmcalc.formats import write_json
        from llmcalc.formats.kvcache import kvcache_document

        rows = [kvcache_document(spec, cache, need) for cache, need in zip(caches, needs)]
        write_json(rows[0] if len(rows) == 1 else {"model": spec.name, "rows": rows})

    def as_table() -> None:
        from llmcalc.views.kvcache import print_kvcache, print_kvcache_sweep

        if len(caches) == 1:
            print_kvcache(spec, caches[0], needs[0])
        else:
            print_kvcache_sweep(spec, caches, needs)

    emit(None, json_output, {"table": as_table, "json": as_json})
