"""What a GGUF file holds, read from its header and tensor infos alone, never the tensor data.

The layout is ggml's (ggml/src/gguf.cpp, `gguf_init_from_file_impl`): the magic `GGUF`, a
version (2 or 3), the tensor and metadata counts, the metadata key-value pairs, one info per
tensor (name, dimensions, ggml type, offset into the data section), then the data section,
aligned to `general.alignment` (default 32). Every count and length is checked against the
file's real size before anything is read, so a truncated or forged file is refused, and a
multi-gigabyte model is read in milliseconds.
"""

from __future__ import annotations

import os
import stat
import struct
from math import prod
from pathlib import Path
from typing import Any, Protocol

from llmcalc.errors import ModelFileError, SpecError
from llmcalc.ggml import GGML_TYPES_BY_ID, GgmlType
from llmcalc.records import record

MAGIC = b"GGUF"
VERSIONS = (2, 3)  # version 1 used 32-bit counts and is long gone
DEFAULT_ALIGNMENT = 32  # GGUF_DEFAULT_ALIGNMENT
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_NAME = 64  # GGML_MAX_NAME: a tensor name is shorter than this
KEPT_STRING = 4096  # longer metadata strings (chat templates) are summarised, not kept
KEPT_ARRAY = 4096  # longer arrays (the vocabulary) are skipped and summarised, not kept
MAX_STRINGS = 10_000_000  # a longer array of strings is a hostile file, not a vocabulary

# GGUF metadata value types (gguf.cpp `gguf_type`): struct format and size of the scalar ones.
_SCALARS = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4), 6: ("<f", 4),
            7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}
_STRING, _ARRAY = 8, 9


@record(eq=False)
class GgufTensor:
    name: str
    shape: tuple[int, ...]  # ggml order: shape[0] (ne0) is the row length
    type: GgmlType
    offset: int  # into the data section

    @property
    def elements(self) -> int:
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.type.row_bytes(self.shape[0]) * (self.elements // self.shape[0]) if self.shape[0] else 0


@record(eq=False)
class GgufFile:
    version: int
    metadata: dict[str, Any]  # long strings and arrays are summarised as ("…", length)
    tensors: tuple[GgufTensor, ...]
    alignment: int
    data_start: int
    size: int

    @property
    def data_bytes(self) -> int:
        """Bytes of tensor data, without the alignment padding between tensors."""
        return sum(tensor.nbytes for tensor in self.tensors)


class _Reader:
    """Reads little-endian values from the file, never past its real size."""

    def __init__(self, handle: Stream, path: Path, size: int) -> None:
        self.handle, self.path, self.size, self.position = handle, path, size, 0

    def take(self, count: int, what: str) -> bytes:
        if count > self.size - self.position:
            raise ModelFileError(self.path, f"{what} at byte {self.position:,} needs {count:,} bytes but the file "
                                            f"has {self.size - self.position:,} left; truncated, or not a GGUF file")
        data = self.handle.read(count)
        if len(data) != count:
            raise ModelFileError(self.path, "changed while being read")
        self.position += count
        return data

    def skip(self, count: int, what: str) -> None:
        if count > self.size - self.position:
            raise ModelFileError(self.path, f"{what} at byte {self.position:,} needs {count:,} bytes but the file "
                                            f"has {self.size - self.position:,} left; truncated, or not a GGUF file")
        self.handle.seek(count, os.SEEK_CUR)
        self.position += count

    def scalar(self, kind: int, what: str) -> Any:
        fmt, width = _SCALARS[kind]
        return struct.unpack(fmt, self.take(width, what))[0]

    def u32(self, what: str) -> int:
        return int(self.scalar(4, what))

    def u64(self, what: str) -> int:
        return int(self.scalar(10, what))

    def string(self, what: str) -> str:
        length = self.u64(what)
        raw = self.take(length, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(self.path, f"{what} at byte {self.position - length:,} is not UTF-8") from None

    def value(self, kind: int, key: str) -> Any:
        if kind in _SCALARS:
            return self.scalar(kind, f"value of {key}")
        if kind == _STRING:
            text = self.string(f"value of {key}")
            return text if len(text) <= KEPT_STRING else ("string", len(text))
        if kind == _ARRAY:
            item = self.u32(f"array type of {key}")
            count = self.u64(f"array length of {key}")
            if item == _ARRAY:
                raise SpecError(str(self.path), key, "an array of arrays is not valid GGUF")
            if item not in _SCALARS and item != _STRING:
                raise SpecError(str(self.path), key, f"array of unknown type {item}")
            least = _SCALARS[item][1] if item in _SCALARS else 8  # a string is at least its length
            if count * least > self.size - self.position:
                raise ModelFileError(self.path, f"{key}: {count:,} array items cannot fit in the "
                                                f"{self.size - self.position:,} bytes left")
            if count <= KEPT_ARRAY:
                return [self.value(item, key) for _ in range(count)]
            if item in _SCALARS:  # a long array of numbers: skipped, not read
                self.skip(count * least, key)
            elif count > MAX_STRINGS:
                raise SpecError(str(self.path), key, f"an array of {count:,} strings; llmcalc reads at most "
                                                     f"{MAX_STRINGS:,} (vocabularies hold under a million)")
            else:
                for _ in range(count):  # the vocabulary: each string's length, then past it
                    self.skip(self.u64(f"string in {key}"), key)
            return ("array", count)
        raise SpecError(str(self.path), key, f"value of unknown type {kind}")


def read_gguf(path: Path) -> GgufFile:
    """The header of a GGUF file, its tensors checked to lie within the file."""
    try:
        # As for safetensors: a FIFO must not block, and the type is checked on the open descriptor.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as exc:
        raise ModelFileError(path, f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(path, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return _parse(_Reader(handle, path, info.st_size))
    except OSError as exc:
        raise ModelFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


class Stream(Protocol):
    """What the reader needs of a file: reading and relative seeking (a local file, or one on the Hub)."""

    def read(self, count: int, /) -> bytes: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...


def read_gguf_stream(handle: Stream, path: Path, size: int) -> GgufFile:
    """The header of a GGUF read from any seekable stream of `size` bytes (a file on the Hub)."""
    return _parse(_Reader(handle, path, size))


def _parse(reader: _Reader) -> GgufFile:
    path = reader.path
    if reader.size < 4 or reader.take(4, "magic") != MAGIC:
        raise ModelFileError(path, "does not start with GGUF; not a GGUF file")
    version = reader.u32("version")
    if version not in VERSIONS:
        raise ModelFileError(path, f"GGUF version {version}; versions {VERSIONS[0]} and {VERSIONS[1]} are read")
    tensor_count = reader.u64("tensor count")
    kv_count = reader.u64("metadata count")
    # A key-value pair takes at least 12 bytes, a tensor info at least 24: bound the loops by the file.
    if kv_count * 12 + tensor_count * 24 > reader.size - reader.position:
        raise ModelFileError(path, f"claims {kv_count:,} metadata entries and {tensor_count:,} tensors, more than "
                                   f"its {reader.size:,} bytes can hold; truncated, or not a GGUF file")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string("metadata key")
        if key in metadata:
            raise SpecError(str(path), key, "metadata key given twice")
        metadata[key] = reader.value(reader.u32(f"type of {key}"), key)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or alignment & (alignment - 1):
        raise SpecError(str(path), "general.alignment", f"must be a power of two, got {alignment!r}")
    tensors = [_tensor_info(reader) for _ in range(tensor_count)]
    names = set()
    for tensor in tensors:
        if tensor.name in names:
            raise SpecError(str(path), tensor.name, "tensor name given twice")
        names.add(tensor.name)
    data_start = -(-reader.position // alignment) * alignment
    for tensor in tensors:
        if tensor.offset % alignment:
            raise SpecError(str(path), tensor.name, f"offset {tensor.offset:,} is not a multiple of the "
                                                    f"alignment {alignment}")
        if data_start + tensor.offset + tensor.nbytes > reader.size:
            raise ModelFileError(path, f"{tensor.name}: its data ends past the end of the file; truncated")
    return GgufFile(version=version, metadata=metadata, tensors=tuple(tensors), alignment=alignment,
                    data_start=data_start, size=reader.size)


def _tensor_info(reader: _Reader) -> GgufTensor:
    name = reader.string("tensor name")
    if len(name.encode("utf-8")) >= MAX_NAME:
        raise SpecError(str(reader.path), name[:MAX_NAME] + "…", f"tensor name is {MAX_NAME} bytes or longer")
    dims = reader.u32(f"dimensions of {name}")
    if not 1 <= dims <= MAX_DIMS:
        raise SpecError(str(reader.path), name, f"{dims} dimensions; ggml tensors have 1 to {MAX_DIMS}")
    shape = tuple(reader.u64(f"shape of {name}") for _ in range(dims))
    type_id = reader.u32(f"type of {name}")
    ggml_type = GGML_TYPES_BY_ID.get(type_id)
    if ggml_type is None:
        raise SpecError(str(reader.path), name, f"ggml type {type_id} is not one llmcalc knows")
    if shape[0] % ggml_type.block_values:
        raise SpecError(str(reader.path), name, f"rows of {shape[0]:,} values are not whole {ggml_type.name} "
                                                f"blocks of {ggml_type.block_values}")
    elements = prod(shape)
    if elements * ggml_type.block_bytes // ggml_type.block_values > reader.size:
        raise ModelFileError(reader.path, f"{name}: shape {list(shape)} holds more data than the file")
    offset = reader.u64(f"offset of {name}")
    return GgufTensor(name=name, shape=shape, type=ggml_type, offset=offset)
