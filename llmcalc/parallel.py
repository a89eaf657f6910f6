"""Where a model's tensors go when it is split over GPUs: pipeline stages (layers) and tensor
parallelism (each Linear), as the frameworks do it. Pure.

Tensor parallelism splits each checkpoint tensor by its `tensors.Weight.split` role, the same
way in vLLM and Megatron-LM (column-parallel Q, gate and up; row-parallel O and down; heads
whole); they differ in the vocabulary's padding and in what happens when there are fewer K/V
heads than GPUs, which `TensorParallel` says.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from math import ceil

from llmcalc.errors import UsageError
from llmcalc.records import record
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Weight, checkpoint_weights


@record(eq=False)
class Stage:
    """GPUs that hold the same layers: one pipeline stage of `tp` identical GPUs, or one GPU of
    llama.cpp's layer split."""

    index: int
    layers: range
    embedding: bool  # holds the token embedding (the first stage; a tied head's copy on the last)
    head: bool  # holds the final norm and the LM head


@record
class TensorParallel:
    """How a framework splits tensors over `degree` GPUs."""

    degree: int
    framework: str  # named in error messages: "vLLM", "Megatron-LM"
    # Vocabulary rows are padded to a multiple of this before being divided (vLLM: 64, and the
    # division must come out even; Megatron-LM: 128 × degree, so it always does).
    vocab_multiple: int
    replicate_kv: bool  # fewer K/V heads than GPUs: each GPU keeps one (vLLM) or refuse (Megatron-LM)


def pipeline_stages(layers: int, pp: int, tied: bool) -> list[Stage]:
    """vLLM's get_pp_indices (Megatron-LM's even split when pp divides the layers): layers // pp per
    stage, the remainder given one each to the stages before the last (partitions[-2], [-3], ...);
    the embedding on the first stage, the head on the last (a tied head keeps a copy of the
    embedding there)."""
    partitions = [layers // pp] * pp
    for i in range(2, layers % pp + 2):
        partitions[-i] += 1
    stages, start = [], 0
    for index, size in enumerate(partitions):
        last = index == pp - 1
        stages.append(Stage(index, range(start, start + size), index == 0 or (last and tied), last))
        start += size
    return stages


def layer_split_stages(layers: int, gpus: int) -> list[Stage]:
    """llama.cpp's default layer split over equal GPUs (llama_model::load_tensors): the split
    points are i/gpus; layer il (and the output as layer n) goes to the first GPU whose split point
    exceeds il/(n + 1). The token embedding stays on the host."""
    splits = [(i + 1) / gpus for i in range(gpus)]
    owner = [min(bisect_right(splits, il / (layers + 1)), gpus - 1) for il in range(layers + 1)]
    held = owner[:layers]
    return [Stage(g, range(held.index(g), held.index(g) + held.count(g)) if g in held else range(0), False,
                  owner[layers] == g) for g in range(gpus)]


def shard_shape(weight: Weight, tp: TensorParallel) -> tuple[int, ...]:
    """The shape one of the GPUs holds."""
    shape, split, heads, degree = weight.shape, weight.split, weight.heads, tp.degree
    if degree == 1 or split == "replicated" or (split == "row" and len(shape) == 1):
        return shape

    def whole(count: int, what: str) -> int:
        if count % degree:
            raise UsageError(f"--tp {degree} does not divide the {count:,} {what} of {weight.name} "
                             f"({tp.framework} splits them evenly)")
        return count // degree

    if split == "vocab":
        padded = ceil(shape[0] / tp.vocab_multiple) * tp.vocab_multiple
        return (whole(padded, "padded vocabulary rows"), *shape[1:])
    if split == "kv":
        width = shape[0] // heads
        if degree >= heads and tp.replicate_kv:
            if degree % heads:
                raise UsageError(f"--tp {degree} is not a multiple of the {heads} K/V heads of {weight.name} "
                                 f"({tp.framework} replicates them evenly)")
            return (width, *shape[1:])
        return (whole(heads, "K/V heads") * width, *shape[1:])
    if split == "row":
        return (shape[0], whole(heads, "attention heads") * (shape[1] // heads) if heads else
                whole(shape[1], "input features"))
    # column, heads
    return (whole(heads, "attention heads") * (shape[0] // heads) if heads else
            whole(shape[0], "output features"), *shape[1:])


def count_in_stage(weight: Weight, stage: Stage) -> int:
    """How many of the weight's `count` tensors sit on the stage's GPUs."""
    if weight.layers is None:
        on_stage = stage.head if weight.name.startswith(("lm_head", "model.norm")) else stage.embedding
        return weight.count if on_stage else 0
    first, last = weight.layers
    overlap = len(range(max(first, stage.layers.start), min(last + 1, stage.layers.stop)))
    return weight.count // (last - first + 1) * overlap


def stage_weights(spec: ModelSpec, stage: Stage, tp: TensorParallel,
                  experts_over: int = 1) -> Iterator[tuple[Weight, tuple[int, ...], int]]:
    """(weight, the shape one GPU holds, how many of them) for each checkpoint tensor on one GPU of
    the stage; `experts_over` GPUs share each layer's routed experts whole (expert parallelism)."""
    for weight in checkpoint_weights(spec):
        count = count_in_stage(weight, stage)
        if not count:
            continue
        if weight.expert and experts_over > 1:
            per_layer = weight.count // (weight.layers[1] - weight.layers[0] + 1) if weight.layers else weight.count
            if per_layer % experts_over:
                raise UsageError(f"--expert-parallel over {experts_over} GPUs does not divide the {per_layer} "
                                 f"experts of {weight.name}")
            yield weight, weight.shape, count // experts_over
        else:
            yield weight, shard_shape(weight, tp), count
