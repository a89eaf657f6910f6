"""What a safetensors checkpoint stores, read from its headers alone, against the formula count.

A `.safetensors` file starts with an 8-byte little-endian header length and a JSON header
giving each tensor's dtype, shape and byte range; only that is read, never the tensor
data, so a 400 GB checkpoint is verified in well under a second.

The header is checked as the reference reader (huggingface/safetensors, tensor.rs
`read_metadata` and `Metadata::validate`) checks it, against the file's real size: a
truncated or forged file would otherwise be counted as if whole.
"""

from __future__ import annotations

import json
import os
import re
import stat
import struct
from math import prod
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from llmcalc.errors import ModelFileError, SpecError
from llmcalc.files import listing, read_text
from llmcalc.records import record
from llmcalc.spec import ModelSpec

INDEX_NAME = "model.safetensors.index.json"
MAX_HEADER_BYTES = 100_000_000  # the reference reader's MAX_HEADER_SIZE (decimal, not MiB)
MAX_INDEX_BYTES = 64 * 2**20  # real indexes are a few MB (DeepSeek-V3's 91k tensors: under 10 MB)
LIMIT_64 = 2**64  # shapes and offsets are usize in the reference reader

# Bits per element of every dtype the format defines (tensor.rs `Dtype::bitsize`).
DTYPE_BITS = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
    "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}

# A multimodal checkpoint's other towers, as transformers names them (Llama 4, Gemma 3, Mistral 3...).
TOWER = re.compile(r"(^|\.)(vision_tower|vision_model|visual|multi_modal_projector|mm_projector|audio_tower|"
                   r"audio_model|embed_vision|embed_audio)\.")
# Multi-token-prediction modules outside the layers: Qwen3-Next's `mtp.`, ERNIE 4.5's `mtp_block.`,
# `mtp_emb_norm`, `mtp_linear_proj`...
MTP = re.compile(r"(^|\.)mtp[._]")
# Tensors that are stored but are not model parameters. e_score_correction_bias: the router
# bias of DeepSeek-V3, Kimi-K2, GLM-4.5, dots.llm1 and MiniMax-M2, a registered buffer in
# transformers (ERNIE 4.5's, under moe_statics, is a parameter). MiniMax's lightning-attention
# decay tables are persistent buffers too: saved, recomputed at load, not parameters.
BUFFER = re.compile(r"(inv_freq|rotary_emb\..*|\.attn\.(masked_)?bias|position_ids|[cs]in_cached|"
                    r"\.(gate|mlp|block_sparse_moe)\.e_score_correction_bias|"
                    r"\.self_attn\.(slope_rate|query_decay|key_decay|diagonal_decay))$")
QUANTIZATION = re.compile(r"(weight_scale(_inv)?|input_scale|\.scales?|qzeros|g_idx|absmax|quant_map|"
                          r"quant_state.*|SCB)$")
HEAD = re.compile(r"(^|\.)(lm_head|embed_out|output_layer|head)\.weight$")
LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers|h|blocks|block)\.(\d+)\.")


@record(eq=False)
class Tensor:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return prod(self.shape)


@record(eq=False)
class Verification:
    files: tuple[str, ...]
    tensors: tuple[Tensor, ...]
    formula: int  # llmcalc's count from the config
    stored: int  # elements in tensors that are parameters
    per_dtype: dict[str, int]  # parameter elements by stored dtype
    not_in_formula: dict[str, tuple[Tensor, ...]]  # why -> tensors the formula does not count
    missing: tuple[str, ...]  # components the formula counts that have no tensor

    @property
    def difference(self) -> int:
        """Parameters stored beyond the formula's count (negative: fewer)."""
        return self.stored - self.formula

    @property
    def agrees(self) -> bool:
        return self.difference == 0 and not self.missing


def read_header(path: Path) -> list[Tensor]:
    """The tensors a safetensors file stores, once its header is known to describe the file."""
    size, raw = _read_header_bytes(path)
    header = _parse_header(path, raw)
    tensors: list[Tensor] = []
    regions: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            _check_metadata(path, info)
            continue
        tensor, begin, end = _tensor_entry(path, name, info)
        tensors.append(tensor)
        regions.append((begin, end, name))
    _check_regions(path, regions, data_bytes=size - 8 - len(raw))
    return tensors


def _read_header_bytes(path: Path) -> tuple[int, bytes]:
    """The file's size and its header bytes; never blocks on a FIFO, never reads past the file."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would wait for a writer forever. The type is
        # checked on the open descriptor, so nothing can be swapped in between check and read.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise ModelFileError(path, f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # before any read: a folder, a FIFO, a device
            raise ModelFileError(path, "not a regular file")
        size = info.st_size
        with os.fdopen(fd, "rb", closefd=False) as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise ModelFileError(path, f"{size} bytes, shorter than the 8-byte header length; "
                                           "not a safetensors file")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER_BYTES:
                raise ModelFileError(path, f"header claims {length:,} bytes, over the format's "
                                           f"{MAX_HEADER_BYTES:,}; not a safetensors file")
            if length > size - 8:  # checked before reading: the claim is the file's, the size is real
                raise ModelFileError(path, f"header claims {length:,} bytes but only {size - 8:,} follow; "
                                           "truncated, or not a safetensors file")
            raw = handle.read(length)
    except OSError as exc:
        raise ModelFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) != length:  # the file shrank after fstat
        raise ModelFileError(path, "changed while being read")
    return size, raw


def _parse_header(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        # Decoded explicitly: json.loads(bytes) would also accept UTF-16 and UTF-32.
        header = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise SpecError(str(path), "header", f"not UTF-8 (bad byte at header offset {exc.start}); "
                                             "not a safetensors file") from None
    except json.JSONDecodeError as exc:
        raise SpecError(str(path), "header", f"not valid JSON at header offset {exc.pos}: {exc.msg}; "
                                             "not a safetensors file") from None
    except RecursionError:
        raise SpecError(str(path), "header", "JSON nested too deeply; not a safetensors file") from None
    except ValueError as exc:  # NaN/Infinity, or an integer of more digits than Python converts
        raise SpecError(str(path), "header", f"{str(exc)[:80]}; not a safetensors file") from None
    if not isinstance(header, dict):
        raise SpecError(str(path), "header", "not a JSON object; not a safetensors file")
    return header


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")  # Python accepts NaN and Infinity; JSON and the format do not


def _check_metadata(path: Path, info: Any) -> None:
    # The reference reader wants a string-to-string map (or null) and refuses the file otherwise.
    if info is not None and not (isinstance(info, dict) and all(isinstance(v, str) for v in info.values())):
        raise SpecError(str(path), "__metadata__", "must be an object of strings")


def _tensor_entry(path: Path, name: str, info: Any) -> tuple[Tensor, int, int]:
    """One tensor, with its data's byte range, its types checked as the reference reader's serde does."""
    def wrong(problem: str) -> SpecError:
        return SpecError(str(path), _shown(name), problem)

    if not _valid_unicode(name):
        raise wrong("tensor name is not valid Unicode")
    if not isinstance(info, dict):
        raise wrong("tensor entry is not an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str):
        raise wrong("dtype must be a string such as BF16")
    if dtype not in DTYPE_BITS:
        raise wrong(f"dtype {_shown(dtype)} is not a safetensors dtype")
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise wrong("shape must be a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(n) for n in offsets):
        raise wrong("data_offsets must be two non-negative integers [begin, end]")
    begin, end = offsets
    if end < begin:
        raise wrong(f"data_offsets [{begin}, {end}] end before they begin")
    bits = _bits(shape, DTYPE_BITS[dtype])
    if bits is None:
        raise wrong("shape has more elements than a file can hold")
    if bits % 8:
        raise wrong(f"{bits // DTYPE_BITS[dtype]:,} {dtype} elements do not fill whole bytes")
    if end - begin != bits // 8:
        raise wrong(f"data_offsets span {end - begin:,} bytes; {dtype} of shape {_shown(str(shape))} "
                    f"needs {bits // 8:,}")
    return Tensor(name, dtype, tuple(shape)), begin, end


def _check_regions(path: Path, regions: list[tuple[int, int, str]], data_bytes: int) -> None:
    """The tensors' data must tile the data section exactly: from byte 0, no gap, no overlap, to the end.

    This is what the reference reader enforces (tensors sorted by offsets must be contiguous
    from 0, and their end must be the file's end); files it refuses cannot be loaded anywhere.
    """
    position = 0
    for begin, end, name in sorted(regions):
        if end > data_bytes:
            raise SpecError(str(path), _shown(name), f"data ends at byte {end:,} of the data section, "
                                                     f"which has {data_bytes:,}; truncated, or wrong offsets")
        if begin != position:
            problem = "overlap the data before them" if begin < position else "leave a gap after the data before them"
            raise SpecError(str(path), _shown(name), f"data_offsets [{begin:,}, {end:,}] {problem}, "
                                                     f"which ends at byte {position:,}")
        position = end
    if position != data_bytes:
        raise ModelFileError(path, f"{data_bytes - position:,} bytes follow the last tensor's data; "
                                   "safetensors readers refuse such a file")


def _bits(shape: list[int], bitsize: int) -> int | None:
    """Bits of data, or None past 64 bits: the reference's checked multiplications, in its order.

    Stopping early also keeps a forged shape of a million huge dimensions from taking minutes."""
    numel = 1
    for n in shape:
        numel *= n
        if numel >= LIMIT_64:
            return None
    bits = numel * bitsize
    return bits if bits < LIMIT_64 else None


def _is_count(value: Any) -> bool:
    # bool is an int subclass; JSON true is not a dimension. Floats (16.5, 16.0) are refused as serde does.
    return type(value) is int and 0 <= value < LIMIT_64


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate from a \ud800 escape: the reference refuses it
    except UnicodeEncodeError:
        return False
    return True


def _shown(text: str) -> str:
    """A name fit for a one-line message: a hostile header can hold newlines or megabyte names."""
    if len(text) <= 80 and text.isprintable():
        return text
    if text.isprintable():
        return text[:80] + "…"
    return json.dumps(text[:80]) + ("…" if len(text) > 80 else "")  # escapes newlines and the like


def checkpoint_files(folder: Path) -> list[Path]:
    """The shards the index names, or every .safetensors file in the folder."""
    index = folder / INDEX_NAME
    if not os.path.lexists(index):  # not is_file(): a FIFO, folder or dangling link is an error, not absent
        return listing(folder, "*.safetensors")
    text = read_text(index, limit=MAX_INDEX_BYTES)  # refuses FIFOs, folders and huge files before opening
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ModelFileError(index, f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ModelFileError(index, "nested too deeply to be a safetensors index") from None
    except ValueError as exc:  # NaN, or an integer of more digits than Python converts
        raise ModelFileError(index, f"not a safetensors index: {str(exc)[:80]}") from None
    weight_map = document.get("weight_map") if isinstance(document, dict) else None
    if not isinstance(weight_map, dict):
        raise SpecError(str(index), "weight_map", "missing, or not an object of tensor name → file name")
    shards = set()
    for name, shard in weight_map.items():
        if not isinstance(shard, str):
            raise SpecError(str(index), f"weight_map.{_shown(name)}", "the shard must be a file name (a string)")
        if not _inside(shard):
            raise SpecError(str(index), f"weight_map.{_shown(name)}",
                            f"shard {_shown(shard)} is not a file name inside the model folder")
        shards.add(shard)
    for shard in sorted(shards):
        if not os.path.lexists(folder / shard):
            raise SpecError(str(index), "weight_map", f"names {_shown(shard)}, which is not in {folder}")
    return [folder / shard for shard in sorted(shards)]


def _inside(name: str) -> bool:
    """A relative name that stays in the folder: judged by the name, not by resolving it, because the
    Hugging Face cache links every shard to a blob outside the snapshot folder."""
    if not name or "\0" in name or not _valid_unicode(name):
        return False
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:  # "/x", "C:\\x", "\\\\host\\x"
        return False
    return ".." not in PurePosixPath(name.replace("\\", "/")).parts


def verify(folder: Path, spec: ModelSpec, formula: int) -> Verification:
    files = checkpoint_files(folder)
    if not files:
        raise SpecError(str(folder), "*.safetensors", "no safetensors files in this folder")
    return verify_tensors([(path.name, read_header(path)) for path in files], spec, formula, str(folder))


def verify_tensors(headers: list[tuple[str, list[Tensor]]], spec: ModelSpec, formula: int,
                   source: str) -> Verification:
    """The formula against the tensors each file (or a Hub repo's file) stores."""
    tensors: list[Tensor] = []
    where: dict[str, str] = {}
    for file, found in headers:
        for tensor in found:
            # A tensor in two files (a stale shard beside a merged file) would be counted twice.
            if tensor.name in where:
                raise SpecError(f"{source}/{file}", _shown(tensor.name), f"also stored in {where[tensor.name]}; "
                                                                         "which copy is the checkpoint?")
            where[tensor.name] = file
            tensors.append(tensor)
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
        files=tuple(file for file, _ in headers),
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
    if TOWER.search(tensor.name):
        return "a vision or audio tower and its projector (only the language model is counted)"
    if (spec.embeddings.head == "tied" and HEAD.search(tensor.name) and embedding is not None
            and tensor.shape == embedding.shape):
        return "a stored copy of the tied LM head (the embedding, counted once)"
    if MTP.search(tensor.name):
        return "a multi-token-prediction module (not built by transformers, not counted)"
    match = LAYER_INDEX.search(tensor.name)
    if layers is not None and match and int(match.group(1)) >= layers:
        return f"layers beyond the config's {layers} (e.g. a multi-token-prediction module)"
    return ""
