"""`llmcalc explain`."""

import sys
from typing import Annotated, Optional

import typer

from llmcalc.errors import UsageError
from llmcalc.options import (
    AssumeOption,
    BatchOption,
    DtypeOption,
    LangOption,
    ModelArgument,
    OfflineOption,
    RemoteOption,
    RevisionOption,
    SeqOption,
    SetOption,
    emit,
    overrides,
    reports_errors,
    warn,
)


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
        from llmcalc.views.explain import print_explanation

        print_explanation(explanation)

    def as_json() -> None:
        from llmcalc.formats import write_json
        from llmcalc.formats.explain import explain_document

        write_json(explain_document(explanation))

    def as_markdown() -> None:
        from llmcalc.formats.explain import explain_markdown

        sys.stdout.write(explain_markdown(explanation))

    emit(output_format, json_output, {"rich": as_rich, "markdown": as_markdown, "json": as_json})
