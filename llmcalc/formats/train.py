"""`train --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmcalc.train import TrainResult


def train_document(result: TrainResult) -> dict[str, Any]:
    """The `train --json` contract: exact integers for bytes and FLOPs."""
    t, budget = result.training, result.most_loaded
    per_gpu = {"stage": budget.stage.index, "params": budget.params, "weights_bytes": budget.weights.total,
               "gradients_bytes": budget.gradients.total, "optimizer_bytes": budget.optimizer.total,
               "activation_bytes": budget.activations.total, "total_bytes": budget.total,
               "host_bytes": budget.host_bytes}
    document: dict[str, Any] = {
        "model": result.spec.name, "gpus": t.gpus, "zero": t.zero, "tp": t.tp, "pp": t.pp, "dp": t.dp,
        "sequence_parallel": t.sequence_parallel, "seq": t.tokens, "micro_batch": t.micro_batch,
        "recompute": t.recompute, "attention": t.attention, "dropout": t.dropout, "optimizer": t.optimizer,
        "precision": t.precision, "offload": t.offload, "convention": t.convention,
        "lora": {"rank": t.lora_rank, "modules": list(t.lora_modules), "qlora": t.qlora} if t.lora_rank else None,
        "total_params": result.total_params, "trainable_params": result.trainable_params,
        "per_gpu": per_gpu,
        "activation_bytes_per_layer": result.per_layer.total,
        "activation_estimate": budget.activations.estimate,
        "flops_per_token": result.flops_per_token,
        "dense_flops_per_token": result.dense_flops_per_token,
        "attention_flops_per_token": result.attention_flops_per_token,
        "hardware_flops_per_token": result.hardware_flops_per_token,
        "run_tokens": t.run_tokens,
        "training_flops": result.training_flops,
        "chinchilla_tokens": result.chinchilla_tokens,
        "gpu": {"name": t.gpu.name, "id": t.gpu.id, "memory_bytes": t.gpu.capacity_bytes} if t.gpu else None,
        "fits": budget.total <= t.gpu.capacity_bytes if t.gpu else None,
        "mfu": t.mfu,
        "seconds": result.seconds,
        "gpu_hours": result.gpu_hours,
    }
    return document
