"""`gpus --json`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmcalc.gpus import GPU


def gpus_document(catalogue: Iterable[GPU]) -> list[dict[str, Any]]:
    return [{"id": gpu.id, "name": gpu.name, "aliases": list(gpu.aliases), "memory_bytes": gpu.memory_bytes,
             "memory_note": gpu.memory_note, "usable_share": gpu.usable_share,
             "bandwidth_bytes_per_s": gpu.bandwidth_bytes_per_s, "bf16_flops": gpu.bf16_flops,
             "fp8_flops": gpu.fp8_flops, "int8_ops": gpu.int8_ops, "sources": list(gpu.sources)}
            for gpu in catalogue]
