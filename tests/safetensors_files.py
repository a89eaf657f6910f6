"""Safetensors files for tests and benchmarks: the format's own layout (an 8-byte little-endian
header length, the JSON header, the tensors' bytes), written without the safetensors package,
so that `verify` can be run on files whose every header field is known."""

from __future__ import annotations

import json
import struct
from pathlib import Path


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """A real safetensors file: 8-byte header length, JSON header, zeroed tensor data."""
    sizes = {"F32": 4, "BF16": 2, "F16": 2, "I8": 1, "U8": 1, "I32": 4, "I64": 8, "F8_E4M3": 1}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        nbytes = sizes[dtype]
        for n in shape:
            nbytes *= n
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))
