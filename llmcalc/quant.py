"""`llmcalc quant`: the exact bytes of a model in each quantized format people download. Pure.

GGUF: llama.cpp's named mixes, tensor by tensor (`llama_quant`, on the tensors of `tensors.gguf_tensors`).
Safetensors: the layouts the quantization libraries write, Linear by Linear (on
`tensors.checkpoint_weights`), with the tensors each format leaves unquantized in 16 bits.
Every format's bytes are exact integers; the one format whose files hold a data-dependent
number (bitsandbytes' double quantization) says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache
from math import ceil, prod
from typing import overload

from llmcalc.errors import SpecError, UsageError
from llmcalc.ggml import GGML_TYPES, REVISION
from llmcalc.json_text import dumps
from llmcalc.llama_quant import (
    IMATRIX_MIXES,
    MIX_ALIASES,
    MIXES,
    Decided,
    Hparams,
    Listing,
    MixError,
    each_tensor,
    forget_model,
    in_order,
    plan,
)
from llmcalc.records import record
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Tensor, Weight, checkpoint_weights, gguf_hparams_of, gguf_tensors

GGUF_ALIGNMENT = 32  # GGUF_DEFAULT_ALIGNMENT: llama-quantize pads every tensor's data to it
UNQUANTIZED_BYTES = 2  # tensors a format leaves alone are stored in 16 bits (bf16 or fp16)


@record(eq=False)
class Format:
    name: str
    kind: str  # "gguf" or "safetensors"
    label: str
    source: str  # the code whose layout this follows
    exact: bool = True  # False: a few bytes per tensor depend on the weights' values


@record(eq=False)
class QuantTensor:
    name: str
    shape: tuple[int, ...]  # GGUF: ggml order (row length first); safetensors: [out, in]
    type: str  # the ggml type, or what the format stores (`gptq-int4`, `bf16`, ...)
    bytes: int  # all `count` of them
    reason: str = ""
    count: int = 1


@record(eq=False)
class QuantSize:
    format: Format
    tensors: Sequence[QuantTensor]  # a GGUF's are made when first read (see PlannedTensors)
    elements: int  # weights the format stores (a GGUF's extra tables included)
    bytes: int  # the tensors' bytes, all of them
    padded_bytes: int  # GGUF: with each tensor's data padded to GGUF_ALIGNMENT, as written
    imatrix: bool = False

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.bytes / self.elements if self.elements else 0.0


def _gguf_format(mix: str) -> Format:
    return Format(mix, "gguf", f"llama.cpp {MIXES[mix][0]}", f"src/llama-quant.cpp at {REVISION}")


SAFETENSORS_FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("gptq-int4", "safetensors", "GPTQ 4-bit, group 128", "auto-gptq 0.7.1 / GPTQModel QuantLinear buffers"),
    Format("gptq-int8", "safetensors", "GPTQ 8-bit, group 128", "auto-gptq 0.7.1 / GPTQModel QuantLinear buffers"),
    Format("awq-int4", "safetensors", "AWQ 4-bit GEMM, group 128", "autoawq 0.2.9 WQLinear_GEMM"),
    Format("w4a16", "safetensors", "compressed-tensors int4 pack-quantized, group 128",
           "compressed-tensors 0.20 pack-quantized"),
    Format("w4a16-gidx", "safetensors", "compressed-tensors int4 pack-quantized, group 128, with group index",
           "compressed-tensors 0.20 pack-quantized, actorder=group (weight_g_idx)"),
    Format("nf4", "safetensors", "bitsandbytes NF4 (blocks of 64, no double quantization)",
           "bitsandbytes 0.50 QuantState.as_dict, transformers 5.23"),
    Format("nf4-dq", "safetensors", "bitsandbytes NF4 with double quantization",
           "bitsandbytes 0.50 QuantState.as_dict, transformers 5.23", exact=False),
    Format("bnb-int8", "safetensors", "bitsandbytes LLM.int8", "bitsandbytes 0.50 Linear8bitLt"),
    Format("fp8", "safetensors", "FP8 e4m3, 128×128 block scales (DeepSeek-V3, Qwen3-FP8)",
           "DeepSeek-V3 / transformers fp8 quantizer: weight_scale_inv"),
    Format("fp8-dynamic", "safetensors", "FP8 e4m3, one bf16 scale per output channel (compressed-tensors)",
           "compressed-tensors 0.20 float-quantized, FP8_DYNAMIC"),
    Format("nvfp4", "safetensors", "NVFP4: 16-value blocks, fp8 scales, per-tensor scales",
           "compressed-tensors nvfp4-pack-quantized / ModelOpt"),
    Format("mxfp4", "safetensors", "MXFP4 experts (32-value blocks, 8-bit scale), the rest bf16 (gpt-oss)",
           "transformers 5.23 integrations/mxfp4.py"),
)}
FORMAT_NAMES = [*MIXES, *SAFETENSORS_FORMATS]


def find_format(name: str) -> str:
    """The canonical format name (GGUF mixes as llama.cpp spells them, in lower case: `q4_k_m`),
    or a usage error with suggestions."""
    key = name.strip().lower()
    mix = key.replace("-", "_")
    mix = MIX_ALIASES.get(mix, mix)
    if mix in MIXES:
        return mix
    if key in SAFETENSORS_FORMATS:
        return key
    close = difflib.get_close_matches(key, FORMAT_NAMES, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "`llmcalc quant MODEL` lists them all"
    raise UsageError(f"unknown format {name!r}; {hint}")


def quantize(spec: ModelSpec, name: str, imatrix: bool | None = None) -> QuantSize:
    """The model's bytes in one format (a SpecError when the format cannot hold it)."""
    return _quantize(_GgufModel(spec), name, imatrix)


def _quantize(model: _GgufModel, name: str, imatrix: bool | None) -> QuantSize:
    if name in MIXES:
        return _gguf(model, name, name in IMATRIX_MIXES if imatrix is None else imatrix)
    return _safetensors(model.spec, SAFETENSORS_FORMATS[name])


# --- GGUF ---------------------------------------------------------------------------------------------

class _GgufModel:
    """A model's GGUF tensors and hyperparameters, worked out once however many mixes ask."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec

    @cached_property
    def tensors(self) -> list[Tensor]:
        return gguf_tensors(self.spec)

    @cached_property
    def listing(self) -> Listing:
        """(name, shape, type as converted), in the order llama-quantize reads them."""
        return in_order([(t.name, t.shape, t.dtype) for t in self.tensors])


    @cached_property
    def elements(self) -> int:
        return sum(t.elements for t in self.tensors)

    @cached_property
    def hparams(self) -> Hparams:
        return Hparams.of(*gguf_hparams_of(self.spec))


def _gguf(model: _GgufModel, mix: str, imatrix: bool) -> QuantSize:
    try:
        planned = plan(model.listing, model.hparams, mix, imatrix)
    except MixError as exc:
        raise SpecError(model.spec.name, f"--format {mix}", str(exc)) from None
    data, padded = gguf_bytes(model.listing, planned)
    return QuantSize(_gguf_format(mix), PlannedTensors(model.listing, model.hparams, mix, imatrix), model.elements,
                     data, padded, imatrix)


class PlannedTensors(Sequence[QuantTensor]):
    """A GGUF's tensors under a mix, planned again and made row by row when the rows are first
    read: the table of every format needs only the totals (`gguf_bytes`), and holding 33 mixes'
    plans until the table was printed raised `quant llama3.1-8b`'s peak memory by 200 KB
    (tracemalloc), where planning one mix again takes a tenth of a millisecond (the planner's
    caches are warm)."""

    def __init__(self, listing: Listing, hparams: Hparams, mix: str, imatrix: bool) -> None:
        self._listing = listing
        self._hparams = hparams
        self._mix = mix
        self._imatrix = imatrix

    @cached_property
    def _rows(self) -> tuple[QuantTensor, ...]:
        planned = plan(self._listing, self._hparams, self._mix, self._imatrix)
        return tuple(QuantTensor(name, shape, choice.type.name, _data_bytes(choice.type.name, shape), choice.reason)
                     for name, shape, choice in each_tensor(self._listing, planned))

    def __len__(self) -> int:
        return len(self._listing.tensors)

    @overload
    def __getitem__(self, index: int) -> QuantTensor: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[QuantTensor, ...]: ...

    def __getitem__(self, index: int | slice) -> QuantTensor | tuple[QuantTensor, ...]:
        return self._rows[index]

    def __iter__(self) -> Iterator[QuantTensor]:
        return iter(self._rows)

    def __repr__(self) -> str:
        return repr(self._rows)


def gguf_bytes(listing: Listing, planned: list[Decided]) -> tuple[int, int]:
    """The tensors' data bytes, and with each tensor padded to GGUF_ALIGNMENT as llama-quantize
    writes them: each run decided alike (one list of choices) counted once."""
    tensors = listing.tensors
    counted: dict[int, tuple[int, int]] = {}
    data = padded = 0
    for start, stop, choices in planned:
        sizes = counted.get(id(choices))
        if sizes is None:
            nbytes = [_data_bytes(choice.type.name, shape)
                      for (_, shape, _), choice in zip(tensors[start:stop], choices)]
            sizes = counted[id(choices)] = (sum(nbytes),
                                            sum(-(-n // GGUF_ALIGNMENT) * GGUF_ALIGNMENT for n in nbytes))
        data += sizes[0]
        padded += sizes[1]
    return data, padded


@lru_cache(maxsize=4096)  # every layer has the same shapes
def _data_bytes(ggml_type: str, shape: tuple[int, ...]) -> int:
    """ggml_nbytes: whole rows of blocks."""
    return GGML_TYPES[ggml_type].row_bytes(shape[0]) * prod(shape[1:])


# --- safetensors ---------------------------------------------------------------------------------------

def _safetensors(spec: ModelSpec, fmt: Format) -> QuantSize:
    weights = checkpoint_weights(spec)
    if fmt.name == "mxfp4" and not any(weight.expert for weight in weights):
        raise SpecError(spec.name, "--format mxfp4", "MXFP4 checkpoints (gpt-oss) quantize only MoE experts, "
                                                     "and this model has none")
    rows = []
    for weight in weights:
        packed = packs(fmt.name, weight)
        if packed:
            rows.append(_packed(fmt.name, weight))
        elif weight.buffer:
            rows.append(QuantTensor(weight.name, weight.shape, "f32", weight.elements * 4,
                                    "a float32 buffer the checkpoint stores (not a parameter)", weight.count))
        else:
            rows.append(QuantTensor(weight.name, weight.shape, "bf16", weight.elements * UNQUANTIZED_BYTES,
                                    _kept_reason(fmt.name, weight), weight.count))
    data = sum(row.bytes for row in rows)
    return QuantSize(fmt, tuple(rows), sum(w.elements for w in weights), data, data)


def packs(name: str, weight: Weight) -> bool:
    """Whether the format quantizes this tensor: Linear weights of the layers; routers never;
    MXFP4 only experts (gpt-oss); bitsandbytes under transformers 5 not the fused experts."""
    if not weight.linear or weight.router:
        return False
    if name == "mxfp4":
        return weight.expert
    if name in ("nf4", "nf4-dq", "bnb-int8"):
        return not weight.expert
    return True


def _kept_reason(name: str, weight: Weight) -> str:
    if weight.router:
        return "router: kept in 16 bits"
    if name == "mxfp4" and weight.linear:
        return "not an expert: kept in bf16 (modules_to_not_convert)"
    if name in ("nf4", "nf4-dq", "bnb-int8") and weight.expert:
        return "fused experts are not nn.Linear modules: kept in 16 bits (transformers 5)"
    return "not a Linear layer's weight (embedding, head, norm, bias): kept in 16 bits"


def _packed(name: str, weight: Weight) -> QuantTensor:
    out_features, in_features = weight.shape
    per = linear_bytes(name, weight.name, out_features, in_features)
    return QuantTensor(weight.name, weight.shape, name, per * weight.count, _LAYOUTS[name], weight.count)


_LAYOUTS = {
    "gptq-int4": "qweight int32 [K/8, N], qzeros int32 [K/128, N/8], scales fp16 [K/128, N], g_idx int32 [K]",
    "gptq-int8": "qweight int32 [K/4, N], qzeros int32 [K/128, N/4], scales fp16 [K/128, N], g_idx int32 [K]",
    "awq-int4": "qweight int32 [K, N/8], qzeros int32 [K/128, N/8], scales fp16 [K/128, N]",
    "w4a16": "weight_packed int32 [N, K/8], weight_scale bf16 [N, K/128], weight_shape int64 [2]",
    "w4a16-gidx": "weight_packed int32 [N, K/8], weight_scale bf16 [N, K/128], weight_shape int64 [2], "
                  "weight_g_idx int32 [K]",
    "nf4": "weight uint8 [N·K/2], absmax fp32 [N·K/64], quant_map fp32 [16], quant_state JSON",
    "nf4-dq": "weight uint8 [N·K/2], absmax uint8 [N·K/64], nested absmax and quant_map, quant_state JSON",
    "bnb-int8": "weight int8 [N, K], SCB fp32 [N], weight_format uint8",
    "fp8": "weight fp8 [N, K], weight_scale_inv fp32 [⌈N/128⌉, ⌈K/128⌉]",
    "fp8-dynamic": "weight fp8 [N, K], weight_scale bf16 [N, 1]",
    "nvfp4": "weight uint8 [N, K/2], weight_scale fp8 [N, K/16], two fp32 scalars",
    "mxfp4": "blocks uint8 [N, K/32, 16], scales uint8 [N, K/32]",
}
GROUP = 128


def linear_bytes(fmt: str, tensor: str, n: int, k: int) -> int:
    """Bytes one quantized Linear(K → N) stores (its bias, if any, is a separate 16-bit tensor)."""
    def need(condition: bool, why: str) -> None:
        if not condition:
            raise SpecError(tensor, f"--format {fmt}", why)

    if fmt in ("gptq-int4", "gptq-int8"):
        bits = 4 if fmt == "gptq-int4" else 8
        need(k % GROUP == 0, f"in_features {k:,} is not a multiple of the group size {GROUP}")
        need(n % 32 == 0, f"out_features {n:,} is not a multiple of 32: qzeros packs N × {bits} bits into int32")
        groups = k // GROUP
        return k * n * bits // 8 + groups * n * bits // 8 + 2 * groups * n + 4 * k
    if fmt == "awq-int4":
        need(k % GROUP == 0, f"in_features {k:,} is not a multiple of the group size {GROUP}")
        need(n % 8 == 0, f"out_features {n:,} is not a multiple of 8: qweight packs 8 values per int32")
        groups = k // GROUP
        return k * n // 2 + groups * n // 2 + 2 * groups * n
    if fmt in ("w4a16", "w4a16-gidx"):
        need(k % 8 == 0, f"in_features {k:,} is not a multiple of 8: weight_packed holds 8 values per int32")
        return n * k // 2 + 2 * n * ceil(k / GROUP) + 16 + (4 * k if fmt == "w4a16-gidx" else 0)
    if fmt in ("nf4", "nf4-dq"):
        values = n * k
        blocks = ceil(values / 64)
        state = {"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [n, k]}
        if fmt == "nf4":
            return ceil(values / 2) + 4 * blocks + 64 + len(dumps(state))
        # The nested offset is the mean of the absmax values: its repr is usually 17-20 characters
        # (18 assumed here), so this is within a few bytes per Linear.
        state.update(nested_blocksize=256, nested_dtype="float32", nested_offset=0.0)
        json_bytes = len(dumps(state)) - len("0.0") + 18
        return ceil(values / 2) + blocks + 4 * ceil(blocks / 256) + 1024 + 64 + json_bytes
    if fmt == "bnb-int8":
        return n * k + 4 * n + 1
    if fmt == "fp8":
        return n * k + 4 * ceil(n / 128) * ceil(k / 128)
    if fmt == "fp8-dynamic":
        return n * k + 2 * n
    if fmt == "nvfp4":
        need(k % 16 == 0, f"in_features {k:,} is not a multiple of 16, NVFP4's block")
        return n * k // 2 + n * k // 16 + 8
    if fmt == "mxfp4":
        need(k % 32 == 0, f"in_features {k:,} is not a multiple of 32, MXFP4's block")
        return 17 * n * k // 32
    raise ValueError(fmt)


@record(eq=False)
class NotApplicable:
    format: Format
    reason: str


def quantize_all(spec: ModelSpec, imatrix: bool | None = None) -> list[QuantSize | NotApplicable]:
    """Every format, or why it cannot hold this model."""
    results: list[QuantSize | NotApplicable] = []
    model = _GgufModel(spec)
    for name in FORMAT_NAMES:
        fmt = _gguf_format(name) if name in MIXES else SAFETENSORS_FORMATS[name]
        try:
            results.append(_quantize(model, name, imatrix))
        except SpecError as exc:
            results.append(NotApplicable(fmt, str(exc)))
    forget_model()
    _data_bytes.cache_clear()
    return results


def published_size(spec: ModelSpec) -> QuantSize | NotApplicable | None:
    """The size of the checkpoint as published, for a quantized one (`checkpoint_format`)."""
    if not spec.checkpoint_format:
        return None
    try:
        return quantize(spec, find_format(spec.checkpoint_format))
    except (SpecError, UsageError) as exc:
        return NotApplicable(Format(spec.checkpoint_format, "safetensors", spec.checkpoint_format, ""), str(exc))


def quantize_or_none(spec: ModelSpec, name: str) -> int | None:
    """The model's bytes in a format, or None where the format cannot hold it (compare's cell)."""
    try:
        return quantize(spec, name).bytes
    except SpecError:
        return None
