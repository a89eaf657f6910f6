"""llmcalc as a library: what every command computes, returning the objects the command renders.

    import llmcalc

    spec = llmcalc.load_model("mistral-7b")             # any MODEL the CLI takes, a mapping, or a ModelSpec
    llmcalc.count_params(spec).total                    # 7241732096
    llmcalc.kv_cache(spec, seq="32k").total             # 536870912 bytes: its 4,096-token window

The command line calls these same functions, so a number here is the number the CLI prints.
Sizes and amounts take what the options take (`4096`, `"4k"`, `"24GiB"`); a mistake raises the
`LlmcalcError` the CLI reports (`UsageError`, `SpecError`, `UnknownModelError`). What the CLI
prints as `llmcalc: warning:` lines (a config read with an assumption, tokens beyond the context)
is issued as a `ModelWarning`, or handed to `on_warning` when one is given.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

if TYPE_CHECKING:
    from llmcalc.compare import Comparison
    from llmcalc.fit import Fit
    from llmcalc.kvcache import CacheSize
    from llmcalc.params import ParamCount
    from llmcalc.quant import NotApplicable, QuantSize
    from llmcalc.spec import ModelSpec
    from llmcalc.train import TrainResult

# A MODEL as the CLI takes it (preset, alias, YAML or config.json path, folder, repo id), a
# mapping of preset fields, or a model already loaded.
Model = Union[str, Mapping[str, Any], "ModelSpec"]
# A size or amount: an int, or the text an option takes ("4k", "24GiB", "15T").
Amount = Union[int, str]
WarningSink = Optional[Callable[[str], None]]


class ModelWarning(UserWarning):
    """Something about the model or the question worth a look; the answer is still exact."""


def load_model(model: Model | None, *, overrides: Mapping[str, Any] | None = None, assume: str | None = None,
               revision: str | None = None, offline: bool = False, remote: bool = False,
               on_warning: WarningSink = None) -> ModelSpec:
    """A model from anything the CLI's MODEL takes (a Hub repo id is read from the local cache,
    else from the Hub with `llmcalc[hub]`), a mapping of preset fields, or a ModelSpec; with
    `overrides` (preset fields, as `--set`) on top. `None` with `hidden_size` and
    `num_hidden_layers` among the overrides builds a LLaMA-style model, as flags alone do."""
    from llmcalc.models import resolve_model, with_overrides
    from llmcalc.spec import ModelSpec

    if isinstance(model, ModelSpec):
        return with_overrides(model, overrides or {})
    if isinstance(model, Mapping):
        from llmcalc.schema import build_spec

        return with_overrides(build_spec(model, "a mapping of preset fields"), overrides or {})
    from llmcalc.hub_access import HubAccess

    spec, notes = resolve_model(model, overrides, assume, HubAccess(revision, offline, remote))
    _tell(notes, on_warning)
    return spec


def count_params(model: Model, *, on_warning: WarningSink = None) -> ParamCount:
    """Every parameter, component by component (`llmcalc params`): `.total`, `.active`, `.root`
    (the tree of Terms, each with its formula and bindings)."""
    from llmcalc.params import count_params as count

    return count(_spec(model, on_warning))


def kv_cache(model: Model, *, seq: Amount | None = None, batch: Amount | None = None, dtype: str | None = None,
             weights_dtype: str | None = None, windows: bool = True, encoder_seq: Amount | None = None,
             on_warning: WarningSink = None) -> CacheSize:
    """The KV cache (and SSM state) at one size (`llmcalc kvcache`): `.total` bytes, `.per_token`,
    `.root`. Defaults as the CLI's: the model's context length, batch 1, the model's dtype."""
    return kv_caches(model, seq=seq, batch=batch, dtype=dtype, weights_dtype=weights_dtype, windows=windows,
                     encoder_seq=encoder_seq, on_warning=on_warning, sweep=False)[0]


def kv_caches(model: Model, *, seq: Amount | Sequence[Amount] | None = None,
              batch: Amount | Sequence[Amount] | None = None, dtype: str | None = None,
              weights_dtype: str | None = None, windows: bool = True, encoder_seq: Amount | None = None,
              on_warning: WarningSink = None, sweep: bool = True) -> list[CacheSize]:
    """One cache per (seq, batch) combination, as `llmcalc kvcache --seq 1k,4k --batch 1,8`."""
    from llmcalc.kvcache import kv_cache as cache_at
    from llmcalc.scenario import Scenario

    scenario = Scenario.parse(_sizes(seq), _sizes(batch), dtype, weights_dtype, windows, _sizes(encoder_seq),
                              sweep=sweep)
    spec = _spec(model, on_warning)
    points, notes = scenario.resolve(spec)
    _tell(notes, on_warning)
    return [cache_at(spec, point) for point in points]


def compare_models(models: Sequence[Model], *, seq: Amount | None = None, dtype: str | None = None,
                   weights_dtype: str | None = None, quant: str | None = None, gpu: str | None = None,
                   gpus: int | None = None, on_warning: WarningSink = None) -> Comparison:
    """2 to 8 models side by side at the same tokens (`llmcalc compare`), optionally with each
    one's weights in a quantized format and how it fits a GPU."""
    from llmcalc.compare import check_count
    from llmcalc.compare import compare as side_by_side
    from llmcalc.scenario import Scenario

    check_count(len(models))
    scenario = Scenario.parse(_sizes(seq), None, dtype, weights_dtype)
    specs = [_spec(model, on_warning) for model in models]
    points, notes = scenario.resolve_together(specs)
    chosen = _format(quant)
    deployment = None
    if gpu is not None or gpus is not None:
        from llmcalc.scenario import Deployment

        deployment = Deployment.parse(gpu, gpus, weight_format=chosen)
    _tell(notes, on_warning)
    return side_by_side(specs, points, chosen, deployment)


def quantize(model: Model, format: str, *, imatrix: bool | None = None,
             on_warning: WarningSink = None) -> QuantSize:
    """The model's exact bytes in one quantized format, tensor by tensor (`llmcalc quant
    --format`): a llama.cpp mix (`q4_k_m`) or a safetensors format (`gptq-int4`, `fp8`, `nf4`)."""
    from llmcalc.quant import find_format
    from llmcalc.quant import quantize as in_format

    chosen = find_format(format)
    return in_format(_spec(model, on_warning), chosen, imatrix)


def quantize_all(model: Model, *, imatrix: bool | None = None,
                 on_warning: WarningSink = None) -> list[QuantSize | NotApplicable]:
    """Every format, or why it cannot hold this model (`llmcalc quant`)."""
    from llmcalc.quant import quantize_all as in_every_format

    return in_every_format(_spec(model, on_warning), imatrix)


def fit_model(model: Model, gpu: str | None = None, *, gpus: int | None = None, tp: int | None = None,
              pp: int | None = None, expert_parallel: bool = False, runtime: str | None = None,
              format: str | None = None, seq: Amount | None = None, batch: Amount | None = None,
              dtype: str | None = None, weights_dtype: str | None = None, gpu_memory: Amount | None = None,
              bandwidth: Amount | None = None, flops: Amount | None = None, gpu_util: float | str | None = None,
              efficiency: float | str | None = None, on_warning: WarningSink = None) -> Fit:
    """Will it run on these GPUs (`llmcalc fit`): `.fits`, the most loaded GPU's budget, the
    largest context and batch that fit, and the roofline speed (an estimate that says so)."""
    from llmcalc.fit import fit
    from llmcalc.scenario import Deployment, Scenario

    scenario = Scenario.parse(_sizes(seq), _sizes(batch), dtype, weights_dtype)
    deployment = Deployment.parse(gpu, gpus, tp, pp, expert_parallel, runtime, _format(format),
                                  _text(gpu_memory), _text(bandwidth), _text(flops), _text(gpu_util),
                                  _text(efficiency))
    spec = _spec(model, on_warning)
    points, notes = scenario.resolve(spec)
    _tell(notes, on_warning)
    return fit(spec, points[0], deployment)


def plan_training(model: Model, *, gpus: int | None = None, zero: int | str | None = None, tp: int | None = None,
                  pp: int | None = None, sequence_parallel: bool = False, recompute: str | None = None,
                  attention: str | None = None, dropout: bool = False, seq: Amount | None = None,
                  micro_batch: Amount | None = None, optimizer: str | None = None, precision: str | None = None,
                  offload: str | None = None, convention: str | None = None, lora_rank: int | None = None,
                  lora_modules: str | Sequence[str] | None = None, qlora: bool = False,
                  tokens: Amount | None = None, gpu: str | None = None, mfu: float | str | None = None,
                  on_warning: WarningSink = None) -> TrainResult:
    """Training memory per GPU, FLOPs per token and the run's time (`llmcalc train`)."""
    from llmcalc.scenario import Training
    from llmcalc.train import train

    modules = lora_modules if lora_modules is None or isinstance(lora_modules, str) else ",".join(lora_modules)
    training = Training.parse(gpus, tp, pp, _text(zero), sequence_parallel, recompute, attention, dropout,
                              _text(seq), _text(micro_batch), optimizer, precision, offload, convention, lora_rank,
                              modules, qlora, _text(tokens), gpu, _text(mfu))
    return train(_spec(model, on_warning), training)


def _spec(model: Model, on_warning: WarningSink) -> ModelSpec:
    return load_model(model, on_warning=on_warning)


def _format(name: str | None) -> str | None:
    """A quantized format's canonical name (`Q4_K_M` → `q4_k_m`), or None."""
    if name is None:
        return None
    from llmcalc.quant import find_format

    return find_format(name)


def _text(value: Amount | float | None) -> str | None:
    """An int or float as the text its option takes; the parsers check it as they check the CLI's."""
    return None if value is None else str(value)


def _sizes(value: Amount | Sequence[Amount] | None) -> str | None:
    """One size or several (a comma list, as `--seq 1k,4k`)."""
    if value is None or isinstance(value, (int, str)):
        return _text(value)
    return ",".join(str(item) for item in value)


def _tell(notes: list[str], on_warning: WarningSink) -> None:
    for note in notes:
        if on_warning is not None:
            on_warning(note)
        else:
            warnings.warn(note, ModelWarning, stacklevel=3)
