"""Bytes that a number of values takes at a given precision. Pure."""

from __future__ import annotations

from llmcalc.errors import UsageError
from llmcalc.records import record


@record
class DType:
    """A storage format: `block_bytes` bytes hold `block_values` values.

    Plain types store one value per block; llama.cpp's q8_0 packs 32 values into 34
    bytes (32 int8 + an fp16 scale) and q4_0 into 18 (32 nibbles + the scale), so the
    scale overhead is counted exactly.
    """

    name: str
    block_bytes: int
    block_values: int
    note: str


DTYPES: dict[str, DType] = {d.name: d for d in (
    DType("fp64", 8, 1, "64-bit float"),
    DType("fp32", 4, 1, "32-bit float"),
    DType("fp16", 2, 1, "16-bit float"),
    DType("bf16", 2, 1, "bfloat16"),
    DType("fp8_e4m3", 1, 1, "8-bit float, 4-bit exponent"),
    DType("fp8_e5m2", 1, 1, "8-bit float, 5-bit exponent"),
    DType("int8", 1, 1, "8-bit integer"),
    DType("int4", 1, 2, "4-bit integer, two per byte"),
    DType("q8_0", 34, 32, "llama.cpp: 32 int8 + fp16 scale"),
    DType("q4_0", 18, 32, "llama.cpp: 32 4-bit + fp16 scale"),
)}

DTYPE_SPELLINGS = {
    "float64": "fp64", "double": "fp64", "f64": "fp64",
    "float32": "fp32", "f32": "fp32", "float": "fp32",
    "float16": "fp16", "half": "fp16", "f16": "fp16",
    "bfloat16": "bf16",
    "fp8": "fp8_e4m3", "e4m3": "fp8_e4m3", "fp8-e4m3": "fp8_e4m3", "float8_e4m3fn": "fp8_e4m3",
    "e5m2": "fp8_e5m2", "fp8-e5m2": "fp8_e5m2", "float8_e5m2": "fp8_e5m2",
    "i8": "int8", "i4": "int4", "q8": "q8_0", "q4": "q4_0",
}

# The precisions the params command shows weight memory at.
WEIGHT_DTYPES = ("fp32", "bf16", "int8", "int4")


DTYPE_CHOICES = f"{', '.join(DTYPES)} (also float32, float16, half, f16, bfloat16, fp8)"


def find_dtype(text: str) -> DType | None:
    """The format a name or common spelling means (`bfloat16` → bf16), or None."""
    key = text.strip().lower()
    return DTYPES.get(DTYPE_SPELLINGS.get(key, key))


def parse_dtype(text: str) -> DType:
    """A dtype given on the command line; an unknown one is a usage error."""
    found = find_dtype(text)
    if found is None:
        raise UsageError(f"unknown dtype {text!r}; use one of {DTYPE_CHOICES}")
    return found


def dtype_bytes(values: int, dtype: DType) -> int:
    """Bytes for `values` stored as one tensor; a partly filled last block is a whole block."""
    return -(-values // dtype.block_values) * dtype.block_bytes


@record
class WeightMemory:
    dtype: str
    bytes: int


def weight_memory(params: int) -> list[WeightMemory]:
    labels = {"bf16": "bf16/fp16"}
    return [WeightMemory(labels.get(name, name), dtype_bytes(params, DTYPES[name])) for name in WEIGHT_DTYPES]
