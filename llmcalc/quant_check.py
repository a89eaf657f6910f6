"""`verify` of quantized files: a GGUF header's every tensor type against llama.cpp's rules for the
file type it records, and a quantized checkpoint folder's bytes against its format's layout.
Apart from `quant` (the sizes), so that `llmcalc quant MODEL` loads none of it."""

from __future__ import annotations

import re
from math import prod
from pathlib import Path
from typing import Any

from llmcalc.errors import SpecError, UsageError
from llmcalc.llama_quant import FILE_TYPES, Hparams, MixError, each_tensor, in_order, plan
from llmcalc.quant import Format, find_format, gguf_bytes, quantize
from llmcalc.records import record
from llmcalc.spec import ModelSpec

# --- verify: a GGUF's header against the rules --------------------------------------------------------

@record(eq=False)
class GgufDifference:
    name: str
    shape: tuple[int, ...]
    stored: str
    expected: str
    reason: str


@record(eq=False)
class GgufCheck:
    """A GGUF's tensors against the type the rules give each of them, for the file type the
    file records and the architecture's hyper-parameters it carries."""

    architecture: str
    mix: str
    imatrix: bool
    tensors: int
    stored_bytes: int  # tensor data, as the file's tensor infos say
    expected_bytes: int  # the same tensors at the types the rules choose
    differences: tuple[GgufDifference, ...]

    @property
    def agrees(self) -> bool:
        return not self.differences and self.stored_bytes == self.expected_bytes


def check_gguf(path: Path) -> GgufCheck:
    """Read a GGUF's header (never its data) and check every tensor's type against the mix
    its general.file_type names."""
    from llmcalc.gguf_file import read_gguf

    return check_gguf_header(read_gguf(path), path)


def check_remote_gguf(repo_id: str, pattern: str, access: Any) -> tuple[str, GgufCheck]:
    """The repo's one GGUF file matching `pattern`, its header read from the Hub by range requests
    (never its tensors), checked as a local file is: (its path in the repo, the check)."""
    from fnmatch import fnmatch

    from llmcalc.gguf_file import read_gguf_stream
    from llmcalc.hub import RemoteFile, list_files

    matches = [name for name in list_files(repo_id, access) if name.endswith(".gguf") and fnmatch(name, pattern)]
    if len(matches) != 1:
        found = ", ".join(matches[:6]) + (" …" if len(matches) > 6 else "")
        raise UsageError(f"--file {pattern!r} matches {len(matches)} GGUF files in {repo_id}"
                         + (f" ({found}); make it match one" if matches else ""))
    with RemoteFile(repo_id, matches[0], access) as handle:
        gguf = read_gguf_stream(handle, Path(f"{repo_id}/{matches[0]}"), handle.size)
    return matches[0], check_gguf_header(gguf, Path(f"{repo_id}/{matches[0]}"))


def check_gguf_header(gguf: Any, path: Path) -> GgufCheck:
    """Every tensor's type in a parsed GGUF header against the mix its general.file_type names."""
    meta = gguf.metadata
    arch = meta.get("general.architecture")
    if not isinstance(arch, str):
        raise SpecError(str(path), "general.architecture", "missing: not a llama.cpp model file")
    by_value = {value: name for name, value in FILE_TYPES.items()}
    file_type = meta.get("general.file_type")
    if file_type not in by_value:
        raise SpecError(str(path), "general.file_type", f"{file_type!r} is not a llama-quantize file type llmcalc "
                                                        "knows; cannot tell which mix to check against")
    mix = by_value[file_type].lower()

    def number(key: str, default: int | None = None) -> int:
        value = meta.get(f"{arch}.{key}", default)
        if isinstance(value, list) and value:  # per-layer arrays: llama.cpp reads layer 0
            value = value[0]
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpecError(str(path), f"{arch}.{key}", f"missing or not an integer: {value!r}")
        return value

    hp = Hparams.of(arch, number("block_count"), number("attention.head_count"),
                    number("attention.head_count_kv", number("attention.head_count")), number("expert_count", 0))
    imatrix = any(key.startswith("quantize.imatrix.") for key in meta)
    try:
        listing = in_order([(t.name, t.shape, t.type.name) for t in gguf.tensors])
        planned = plan(listing, hp, mix, imatrix)
    except MixError as exc:
        raise SpecError(str(path), mix, str(exc)) from None
    stored = {t.name: t for t in gguf.tensors}
    differences = tuple(GgufDifference(name, shape, stored[name].type.name, choice.type.name, choice.reason)
                        for name, shape, choice in each_tensor(listing, planned)
                        if stored[name].type.name != choice.type.name)
    return GgufCheck(architecture=arch, mix=mix, imatrix=imatrix, tensors=len(gguf.tensors),
                     stored_bytes=gguf.data_bytes,
                     expected_bytes=gguf_bytes(listing, planned)[0],
                     differences=differences)


# --- verify: a quantized checkpoint folder's bytes against its format ---------------------------------

# What each safetensors format stores per quantized Linear, by the ends of the tensors' names.
FORMAT_TENSORS = {
    "gptq-int4": (".qweight", ".qzeros", ".scales", ".g_idx"), "gptq-int8": (".qweight", ".qzeros", ".scales", ".g_idx"),
    "awq-int4": (".qweight", ".qzeros", ".scales"),
    "w4a16": (".weight_packed", ".weight_scale", ".weight_shape"),
    "w4a16-gidx": (".weight_packed", ".weight_scale", ".weight_shape", ".weight_g_idx"),
    "nf4": (".weight", ".weight.absmax", ".weight.quant_map", ".weight.quant_state.bitsandbytes__nf4"),
    "nf4-dq": (".weight", ".weight.absmax", ".weight.quant_map", ".weight.nested_absmax", ".weight.nested_quant_map",
               ".weight.quant_state.bitsandbytes__nf4"),
    "bnb-int8": (".weight", ".SCB", ".weight_format"),
    "fp8": (".weight", ".weight_scale_inv"), "fp8-dynamic": (".weight", ".weight_scale"),
    "nvfp4": (".weight_packed", ".weight_scale", ".weight_global_scale", ".input_global_scale", ".weight",
              ".weight_scale_2", ".input_scale"),
    "mxfp4": ("_blocks", "_scales"),
}


@record(eq=False)
class FolderCheck:
    """A quantized checkpoint's tensors, byte for byte, against its format's layout."""

    format: Format
    stored_bytes: int  # every tensor of the language model, scales and zero points included
    expected_bytes: int
    format_tensors: int  # stored tensors that are the format's packed weights, scales and zero points
    set_aside: dict[str, int]  # why → tensors outside the language model (towers, MTP, rotary buffers)

    @property
    def difference(self) -> int:
        """Bytes stored beyond the format's layout (negative: fewer)."""
        return self.stored_bytes - self.expected_bytes

    @property
    def agrees(self) -> bool:
        return self.difference == 0


def check_quantized_folder(spec: ModelSpec, stored: tuple[Any, ...]) -> FolderCheck:
    """`stored`: the checkpoint's tensors (name, dtype, shape) as its headers give them."""
    from llmcalc.checkpoint import BUFFER, DTYPE_BITS, MTP, TOWER

    name = find_format(spec.checkpoint_format)
    expected = quantize(spec, name)
    layers = spec.num_layers
    set_aside: dict[str, int] = {}
    stored_bytes = tensors = 0
    for tensor in stored:
        index = re.search(r"(?:^|\.)layers\.(\d+)\.", tensor.name)
        why = ("a vision or audio tower" if TOWER.search(tensor.name) else
               "a multi-token-prediction module" if MTP.search(tensor.name) or (index and int(index.group(1)) >= layers)
               else "a rotary or mask buffer" if BUFFER.search(tensor.name) and "e_score" not in tensor.name else "")
        if why:
            set_aside[why] = set_aside.get(why, 0) + 1
            continue
        bits = DTYPE_BITS[tensor.dtype]
        stored_bytes += prod(tensor.shape) * bits // 8
        tensors += tensor.name.endswith(FORMAT_TENSORS[name])
    return FolderCheck(expected.format, stored_bytes, expected.bytes, tensors, set_aside)
