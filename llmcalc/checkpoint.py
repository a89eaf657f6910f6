"""What a safetensors checkpoint stores, read from its headers alone, against the formula count.

A `.safetensors` file starts with an 8-byte little-endian header length and a JSON header
giving each tensor's dtype, shape and byte range; only that is read, never the tensor
data, so a 400 GB checkpoint is verified in well under a second.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path

from llmcalc.errors import SpecError
from llmcalc.spec import ModelSpec

INDEX_NAME = "model.safetensors.index.json"
MAX_HEADER_BYTES = 100 * 2**20  # the format's own limit

# Tensors that are stored but are not model parameters.
BUFFER = re.compile(r"(inv_freq|rotary_emb\..*|\.attn\.(masked_)?bias|position_ids|[cs]in_cached)$")
QUANTIZATION = re.compile(r"(weight_scale(_inv)?|input_scale|\.scales?|qzeros|g_idx|absmax|quant_map|"
                          r"quant_state.*|SCB)$")
HEAD = re.compile(r"(^|\.)(lm_head|embed_out|output_layer|head)\.weight$")
LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers|h|blocks|block)\.(\d+)\.")


@dataclass(frozen=True, eq=False)
class Tensor:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return prod(self.shape)


@dataclass(frozen=True, eq=False)
class Verification:
    files: tuple[str, ...]
    tensors: tuple[Tensor, ...]
    formula: int  # llmcalc's count from the config
    stored: int  # elements in tensors that are parameters
    per_dtype: dict[str, int]  # parameter elements by stored dtype
    not_in_formula: dict[str, tuple[Tensor, ...]]  # why -> tensors the formula does not count
    missing: tuple[str, ...]  # components the formula counts that have no tensor

    @property
    def agrees(self) -> bool:
        return self.stored == self.formula and not self.missing


def read_header(path: Path) -> list[Tensor]:
    try:
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise SpecError(str(path), "header", "shorter than the 8-byte header length")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER_BYTES:
                raise SpecError(str(path), "header", f"claims {length:,} bytes; not a safetensors file")
            raw = handle.read(length)
    except OSError as exc:
        raise SpecError(str(path), "file", f"cannot read: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SpecError(str(path), "header", "not valid JSON; not a safetensors file") from None
    if not isinstance(header, dict):
        raise SpecError(str(path), "header", "not a JSON object")
    tensors = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list):
            raise SpecError(str(path), name, "tensor entry without a shape")
        tensors.append(Tensor(name, str(info.get("dtype", "?")), tuple(int(n) for n in info["shape"])))
    return tensors


def checkpoint_files(folder: Path) -> list[Path]:
    """The shards the index names, or every .safetensors file in the folder."""
    index = folder / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError, TypeError):
            raise SpecError(str(index), "weight_map", "missing or not valid JSON") from None
        return [folder / name for name in sorted(set(weight_map.values()))]
    return sorted(folder.glob("*.safetensors"))


def verify(folder: Path, spec: ModelSpec, formula: int) -> Verification:
    files = checkpoint_files(folder)
    if not files:
        raise SpecError(str(folder), "*.safetensors", "no safetensors files in this folder")
    tensors = [tensor for path in files for tensor in read_header(path)]
    layers = spec.num_layers if len(spec.stacks) == 1 else None
    reasons: dict[str, list[Tensor]] = {}
    embedding = next((t for t in tensors if re.search(r"(embed_tokens|word_embeddings|wte|embed_in|emb|"
                                                       r"shared|tok_embeddings)\.weight$", t.name)), None)
    per_dtype: dict[str, int] = {}
    stored = 0
    for tensor in tensors:
        reason = _not_a_parameter(tensor, spec, embedding, layers)
        if reason:
            reasons.setdefault(reason, []).append(tensor)
            continue
        stored += tensor.numel
        per_dtype[tensor.dtype] = per_dtype.get(tensor.dtype, 0) + tensor.numel
    missing = []
    if spec.embeddings.head == "untied" and not any(HEAD.search(t.name) for t in tensors):
        missing.append("lm_head.weight: the formula counts an untied LM head, the checkpoint has no head tensor")
    return Verification(
        files=tuple(path.name for path in files),
        tensors=tuple(tensors),
        formula=formula,
        stored=stored,
        per_dtype=per_dtype,
        not_in_formula={reason: tuple(found) for reason, found in reasons.items()},
        missing=tuple(missing),
    )


def _not_a_parameter(tensor: Tensor, spec: ModelSpec, embedding: Tensor | None, layers: int | None) -> str:
    if BUFFER.search(tensor.name):
        return "buffers, not parameters (e.g. rotary inv_freq)"
    if QUANTIZATION.search(tensor.name):
        return "quantization scales and metadata"
    if (spec.embeddings.head == "tied" and HEAD.search(tensor.name) and embedding is not None
            and tensor.shape == embedding.shape):
        return "a stored copy of the tied LM head (the embedding, counted once)"
    match = LAYER_INDEX.search(tensor.name)
    if layers is not None and match and int(match.group(1)) >= layers:
        return f"layers beyond the config's {layers} (e.g. a multi-token-prediction module)"
    return ""
