"""`verify` against hostile safetensors files and indexes: one or two plain lines on stderr,
exit 1, no traceback, no hang, and never exit 0 for a file the format's reference reader
(huggingface/safetensors, tensor.rs) would refuse.

One test per cause, several cases each; a property test throws random headers, truncations
and header-length prefixes at the reader and checks it against a small validator written
here from the format's rules."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors_files import write_safetensors
from test_inputs import TINY, model_folder, tiny_llama_tensors
from typer.testing import CliRunner

from llmcalc.cli import app

runner = CliRunner()
# Bits per element, from the format's Dtype enum (tensor.rs `bitsize`); written out here, not
# imported, so the validator below does not share the code it checks.
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
        "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64}
Header = dict[str, Any]


def verify(folder: Path) -> Any:
    return runner.invoke(app, ["verify", str(folder)], env={"COLUMNS": "120", "NO_COLOR": "1"})


def assert_refused(result: Any, path: Path, *fragments: str) -> None:
    """Exit 1, one or two plain lines naming the file and the problem, nothing else."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2 and lines[0].startswith("llmcalc: "), result.stderr
    for fragment in (str(path), *fragments):
        assert fragment in result.stderr, (fragment, result.stderr)


def tiny_header() -> tuple[Header, int]:
    """The header write_safetensors writes for the tiny Llama (it agrees with TINY), and its data size."""
    sizes = {"F32": 4, "BF16": 2}
    header: Header = {}
    offset = 0
    for name, (dtype, shape) in tiny_llama_tensors().items():
        nbytes = sizes[dtype] * (shape[0] * shape[1] if len(shape) == 2 else shape[0])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    return header, offset


def pack(header: Header | bytes, data: int, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + bytes(data)


def edited(edit: Callable[[Header], Any], data_change: int = 0) -> bytes:
    """The tiny Llama's file with one edit to its header (and its data grown or cut by `data_change`)."""
    header, data = tiny_header()
    edit(header)
    return pack(header, data + data_change)


def entry(header: Header, name: str = "model.norm.weight") -> dict[str, Any]:
    return header[name]  # type: ignore[no-any-return]


def folder_with(tmp_path: Path, blob: bytes) -> Path:
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    (tmp_path / "model.safetensors").write_bytes(blob)
    return tmp_path


def test_the_unedited_files_agree(tmp_path: Path) -> None:
    # The baseline every case below breaks: without the edit, verify agrees and exits 0.
    result = verify(folder_with(tmp_path, edited(lambda header: None)))
    assert result.exit_code == 0 and result.stderr == "", result.output


# --- 1. the header length against the file --------------------------------------------------

VALID, DATA = tiny_header()
RAW = json.dumps(VALID).encode()


@pytest.mark.parametrize("blob, fragments", [
    (b"", ("0 bytes, shorter than the 8-byte header length",)),
    (b"\x10\x00\x00", ("3 bytes, shorter than the 8-byte header length",)),
    (pack(RAW, DATA, length=len(RAW) + DATA + 1), ("but only", "truncated")),  # one byte past the end
    (pack(b"{}", 0, length=100 * 2**20), ("104,857,600", "over the format's 100,000,000")),  # 100 MiB
    (pack(b"{}", 0, length=99_000_000), ("99,000,000 bytes but only 2 follow",)),  # under the cap, tiny file
    (pack(b"{}", 0, length=2**64 - 1), ("over the format's",)),
    (pack(RAW, DATA)[: 8 + len(RAW) // 2], ("but only", "truncated")),  # cut inside the header
    (pack(RAW, DATA)[:-1], ("has", "truncated")),  # the last tensor's data lacks a byte
    (pack(RAW, DATA, length=len(RAW) - 3), ("not valid JSON",)),  # a prefix a little short
    (pack(RAW, DATA + 3), ("3 bytes follow the last tensor's data",)),
], ids=["empty", "3 bytes", "past the end", "100 MiB", "99 MB", "2**64-1", "cut in header", "cut in data",
        "short prefix", "trailing bytes"])
def test_header_length_and_data_against_the_file_size(tmp_path: Path, blob: bytes,
                                                      fragments: tuple[str, ...]) -> None:
    assert_refused(verify(folder_with(tmp_path, blob)), tmp_path / "model.safetensors", *fragments)


def _set(key: str, value: Any, name: str = "model.norm.weight") -> Callable[[Header], Any]:
    return lambda header: entry(header, name).__setitem__(key, value)


def _shift(by: int, name: str) -> Callable[[Header], Any]:
    def edit(header: Header) -> None:
        begin, end = entry(header, name)["data_offsets"]
        entry(header, name)["data_offsets"] = [begin + by, end + by]
    return edit


LAST = list(VALID)[-1]  # written last, so its data is the file's last bytes
NORM_BEGIN, NORM_END = VALID["model.norm.weight"]["data_offsets"]


@pytest.mark.parametrize("blob, fragments", [
    (edited(_set("dtype", "F128")), ("model.norm.weight", "dtype F128 is not a safetensors dtype")),
    (edited(_set("dtype", "bf16")), ("dtype bf16 is not",)),  # the names are case-sensitive
    (edited(_set("dtype", 7)), ("dtype must be a string",)),
    (edited(lambda h: entry(h).pop("dtype")), ("dtype must be a string",)),
    (edited(lambda h: entry(h).pop("data_offsets")), ("data_offsets must be two non-negative integers",)),
    (edited(_set("data_offsets", [-2, NORM_END])), ("data_offsets must be",)),
    (edited(_set("data_offsets", [NORM_BEGIN])), ("data_offsets must be",)),
    (edited(_set("data_offsets", [NORM_BEGIN, NORM_END, NORM_END])), ("data_offsets must be",)),
    (edited(_set("data_offsets", [str(NORM_BEGIN), str(NORM_END)])), ("data_offsets must be",)),
    (edited(_set("data_offsets", [float(NORM_BEGIN), float(NORM_END)])), ("data_offsets must be",)),
    (edited(_set("data_offsets", [False, 32])), ("data_offsets must be",)),
    (edited(_set("data_offsets", [NORM_END, NORM_BEGIN])), ("end before they begin",)),
    (edited(_set("shape", [8])), ("data_offsets span 32 bytes; BF16 of shape [8] needs 16",)),
    (edited(_set("dtype", "F32")), ("needs 64",)),  # same shape, wider dtype, same bytes: no
    (edited(lambda h: entry(h).update(dtype="F4", shape=[3])), ("3 F4 elements do not fill whole bytes",)),
    (edited(_shift(-2, "model.norm.weight")), ("model.norm.weight", "overlap the data before them")),
    (edited(_shift(2, LAST), data_change=2), (LAST, "leave a gap")),
    (edited(_shift(10**6, LAST)), (LAST, "truncated, or wrong offsets")),
    (edited(lambda h: h.pop("model.norm.weight")), ("leave a gap",)),  # its data is left unclaimed
    (edited(lambda h: h.update({"extra": {"dtype": "U8", "shape": [2**40], "data_offsets": [0, 2**40]}})),
     ("extra", "truncated")),
    (edited(lambda h: h.update({"extra": {"dtype": "U8", "shape": [2**32, 2**32],
                                          "data_offsets": [0, 0]}})), ("more elements than a file can hold",)),
], ids=["unknown dtype", "lower-case dtype", "int dtype", "no dtype", "no offsets", "negative offset",
        "one offset", "three offsets", "string offsets", "float offsets", "bool offset", "end before begin",
        "shape vs bytes", "dtype vs bytes", "sub-byte", "overlap", "gap", "past the end", "unclaimed data",
        "1 TiB claimed", "overflow"])
def test_data_offsets_and_dtypes_must_describe_the_data(tmp_path: Path, blob: bytes,
                                                        fragments: tuple[str, ...]) -> None:
    assert_refused(verify(folder_with(tmp_path, blob)), tmp_path / "model.safetensors", *fragments)


def test_every_format_dtype_and_layout_quirk_is_accepted(tmp_path: Path) -> None:
    """Well-formed files the reference reader accepts: every dtype, a zero-size tensor, metadata,
    header padding, entries not in offset order; and its own documentation example."""
    header: Header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for dtype, bits in reversed(BITS.items()):
        nbytes = 8 * bits // 8  # 8 elements fill whole bytes even for F4 and F6
        header[f"t.{dtype}"] = {"dtype": dtype, "shape": [2, 4], "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["empty"] = {"dtype": "F32", "shape": [0, 5], "data_offsets": [offset, offset]}
    header = dict(reversed(header.items()))
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # the reference writer pads the header to 8 bytes with spaces
    result = runner.invoke(app, ["verify", str(folder_with(tmp_path, pack(raw, offset))), "--json"])
    assert result.exit_code == 1 and result.stderr == "", result.output  # exit 1: it disagrees with TINY
    assert set(json.loads(result.stdout)["params_by_dtype"]) == set(BITS)

    example = (b"<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":"
               b"[0,16]}}" + bytes(16))  # from tensor.rs's doc comment for `deserialize`
    result = verify(folder_with(tmp_path, example))
    assert result.exit_code == 1 and "DISAGREE" in result.stdout and result.stderr == ""


def test_only_headers_are_read(tmp_path: Path) -> None:
    # A 4 GiB rotary buffer (not a parameter) in a sparse file: verified without reading its data.
    header, data = tiny_header()
    header["model.rotary_emb.inv_freq"] = {"dtype": "F32", "shape": [2**30], "data_offsets": [data, data + 2**32]}
    folder = folder_with(tmp_path, pack(header, 0))
    with (folder / "model.safetensors").open("r+b") as handle:
        handle.truncate(handle.seek(0, os.SEEK_END) + data + 2**32)
    started = time.monotonic()
    result = verify(folder)
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert time.monotonic() - started < 2


# --- 2. shapes, and headers that are not JSON -----------------------------------------------

@pytest.mark.parametrize("blob, fragments", [
    (edited(_set("shape", [-16])), ("model.norm.weight", "shape must be a list of non-negative integers")),
    (edited(_set("shape", [16.5])), ("shape must be",)),
    (edited(_set("shape", [16.0])), ("shape must be",)),
    (edited(_set("shape", ["16"])), ("shape must be",)),
    (edited(_set("shape", [None])), ("shape must be",)),
    (edited(_set("shape", [True, 16])), ("shape must be",)),
    (edited(_set("shape", "16")), ("shape must be",)),
    (edited(_set("shape", {"0": 16})), ("shape must be",)),
    (edited(_set("shape", [2**64])), ("shape must be",)),
    (edited(lambda h: entry(h).pop("shape")), ("shape must be",)),
    (pack(RAW.replace(b'"shape": [16]', b'"shape": [NaN]'), DATA), ("NaN is not JSON",)),
    (pack(RAW.replace(b'"shape": [16]', b'"shape": [Infinity]'), DATA), ("Infinity is not JSON",)),
    (pack(RAW.replace(b'"shape": [16]', b'"shape": [1' + b"0" * 5000 + b"]"), DATA), ("digits",)),
    (pack(b"[" * 100_000 + b"]" * 100_000, 0), ("nested too deeply",)),
    (pack(b'{"\xff": 1}', 0), ("not UTF-8 (bad byte at header offset 2)",)),
    (pack('{"a": 1}'.encode("utf-16"), 0), ("not UTF-8",)),  # json.loads(bytes) would take UTF-16
    (pack(b"{oops", 0), ("not valid JSON at header offset 1",)),
    (pack(b"", 0), ("not valid JSON",)),
    (pack(b"[1, 2]", 0), ("not a JSON object",)),
    (pack(b'{"x": [1]}', 0), ("x: tensor entry is not an object",)),
    (pack(b'{"\\ud800": {}}', 0), ("tensor name is not valid Unicode",)),
    (pack(b'{"a\\nb": {"dtype": "X"}}', 0), ('"a\\nb"', "not a safetensors dtype")),  # stays one line
    (pack(json.dumps({"n" * 10**6: {}}).encode(), 0), ("n" * 80 + "…: dtype must be a string",)),
    (edited(lambda h: h.update({"__metadata__": {"format": 1}})), ("__metadata__", "must be an object of strings")),
    (edited(lambda h: h.update({"__metadata__": []})), ("__metadata__",)),
], ids=["negative", "16.5", "16.0", "string", "null", "bool", "string shape", "object shape", "2**64",
        "no shape", "NaN", "Infinity", "5000 digits", "deep", "bad byte", "UTF-16", "bad JSON", "empty",
        "array", "entry not object", "surrogate name", "newline name", "megabyte name", "metadata int",
        "metadata list"])
def test_shapes_and_header_json(tmp_path: Path, blob: bytes, fragments: tuple[str, ...]) -> None:
    result = verify(folder_with(tmp_path, blob))
    assert_refused(result, tmp_path / "model.safetensors", *fragments)
    assert len(result.stderr) < 500  # no megabyte names or shapes in a message


# --- 3. the index -----------------------------------------------------------------------------

def sharded(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return model_folder(folder, TINY, tiny_llama_tensors(), shards=2)


def write_index(folder: Path, content: Any) -> Path:
    index = folder / "model.safetensors.index.json"
    index.write_text(content if isinstance(content, str) else json.dumps(content))
    return index


SHARD = "model-00001-of-00002.safetensors"


@pytest.mark.parametrize("content, fragments", [
    ({"weight_map": [SHARD]}, ("weight_map", "not an object")),
    ({"metadata": {}}, ("weight_map", "missing")),
    ([SHARD], ("weight_map", "missing")),
    ({"weight_map": {"lm_head.weight": 1}}, ("weight_map.lm_head.weight", "must be a file name")),
    ({"weight_map": {"lm_head.weight": None}}, ("must be a file name",)),
    ({"weight_map": {"lm_head.weight": "gone.safetensors"}}, ("names gone.safetensors, which is not in",)),
    ({"weight_map": {"lm_head.weight": "../" + SHARD}}, ("../" + SHARD, "not a file name inside")),
    ({"weight_map": {"lm_head.weight": "/etc/passwd"}}, ("/etc/passwd", "not a file name inside")),
    ({"weight_map": {"lm_head.weight": "C:\\x.safetensors"}}, ("not a file name inside",)),
    ({"weight_map": {"lm_head.weight": "sub/../../x"}}, ("not a file name inside",)),
    ({"weight_map": {"lm_head.weight": "a\0b"}}, ("not a file name inside",)),
    ({"weight_map": {"lm_head.weight": ""}}, ("not a file name inside",)),
    ("{oops", ("line 1, column 2: not valid JSON",)),
    ('{"weight_map": {"x": 1' + "0" * 5000 + "}}", ("not a safetensors index", "digits")),
    ("[" * 100_000, ("nested too deeply",)),
], ids=["list", "no weight_map", "index is a list", "int shard", "null shard", "missing shard", "parent",
        "absolute", "drive", "escaping subfolder", "NUL", "empty name", "bad JSON", "5000 digits", "deep"])
def test_index_names_shards_inside_the_folder(tmp_path: Path, content: Any, fragments: tuple[str, ...]) -> None:
    folder = sharded(tmp_path)
    index = write_index(folder, content)
    assert_refused(verify(folder), index, *fragments)


def test_index_too_large_or_shards_that_overlap(tmp_path: Path) -> None:
    folder = sharded(tmp_path)
    index = folder / "model.safetensors.index.json"
    with index.open("r+b") as handle:
        handle.truncate(65 * 2**20)  # sparse: refused by its size, never read
    assert_refused(verify(folder), index, "68,157,440 bytes", "refused")

    # Two shards holding the same tensor: counting both would double it.
    folder = sharded(tmp_path / "twice")
    write_safetensors(folder / "model-00002-of-00002.safetensors", {"model.norm.weight": ("BF16", [16])})
    write_safetensors(folder / SHARD, {"model.norm.weight": ("BF16", [16])})
    assert_refused(verify(folder), folder, "model.norm.weight", "also stored in")


def test_shards_linked_from_outside_as_in_the_hub_cache(tmp_path: Path) -> None:
    # Snapshots link every shard to ../../blobs/<hash>; the name decides "inside", not the target.
    folder = sharded(tmp_path / "snapshots" / "abc")
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    for shard in folder.glob("*.safetensors"):
        shard.rename(blobs / shard.name)
        shard.symlink_to(os.path.relpath(blobs / shard.name, folder))
    result = verify(folder)
    assert result.exit_code == 0 and result.stderr == "", result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("where", ["model.safetensors", "model.safetensors.index.json", SHARD])
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_files_that_are_not_regular_return_promptly(tmp_path: Path, where: str, kind: str) -> None:
    folder = sharded(tmp_path) if where == SHARD else tmp_path
    (folder / "config.json").write_text(json.dumps(TINY))
    (folder / where).unlink(missing_ok=True)
    os.mkfifo(folder / where) if kind == "fifo" else (folder / where).mkdir()
    # A subprocess with a time limit: an open() blocking on the FIFO would hang this test, not fail it.
    done = subprocess.run([sys.executable, "-m", "llmcalc", "verify", str(folder)],
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(folder / where) in done.stderr and "not a regular file" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --- random headers ----------------------------------------------------------------------------

def well_formed(blob: bytes) -> bool:
    """The format's rules, as tensor.rs `read_metadata` and `Metadata::validate` apply them."""
    if len(blob) < 8:
        return False
    n = int.from_bytes(blob[:8], "little")
    if n > 100_000_000 or 8 + n > len(blob):
        return False
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), parse_constant=lambda token: 1 / 0)
    except (ValueError, RecursionError, ZeroDivisionError):
        return False
    if not isinstance(header, dict):
        return False
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        return False

    def count(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64

    spans = []
    for info in header.values():
        if not isinstance(info, dict) or not isinstance(info.get("dtype"), str) or info["dtype"] not in BITS:
            return False
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if not (isinstance(shape, list) and all(map(count, shape))):
            return False
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(count, offsets))):
            return False
        elements = 1
        for dim in shape:
            elements *= dim
            if elements >= 2**64:
                return False
        bits = elements * BITS[info["dtype"]]
        if bits >= 2**64 or bits % 8 or offsets[1] - offsets[0] != bits // 8:
            return False
        spans.append(tuple(offsets))
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            return False
        end = stop
    return end == len(blob) - 8 - n


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=4)
DTYPES = st.sampled_from(sorted(BITS)) | st.sampled_from(["F128", "bf16", "", "float32"]) | JSONISH
SHAPES = st.lists(st.integers(0, 5), max_size=3) | JSONISH


@st.composite
def checkpoints(draw: Any) -> bytes:
    """The tiny Llama's file with a few random edits: entries, offsets, data size, length prefix, cut."""
    header, data = tiny_header()
    names = list(header)
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(names) | st.text(min_size=1, max_size=6))
        info = header.setdefault(name, {"dtype": "U8", "shape": [0], "data_offsets": [data, data]})
        if not isinstance(info, dict):  # an earlier edit made it junk
            info = header[name] = {}
        what = draw(st.sampled_from(["dtype", "shape", "data_offsets", "entry", "drop", "resize"]))
        if what == "resize":  # a valid change: new shape, offsets following on at the end of the data
            shape = draw(st.lists(st.integers(0, 5), max_size=3))
            dtype = draw(st.sampled_from(sorted(BITS)))
            elements = 1
            for dim in shape:
                elements *= dim
            nbytes = elements * BITS[dtype] // 8
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [data, data + nbytes]}
            data += nbytes  # the old region stays behind as a gap unless it was empty
        elif what == "drop":
            header.pop(name)
        elif what == "entry":
            header[name] = draw(JSONISH)
        elif what == "data_offsets":
            info[what] = draw(st.lists(st.integers(-2, data + 4), min_size=2, max_size=2) | JSONISH)
        else:
            info[what] = draw(DTYPES if what == "dtype" else SHAPES)
    if draw(st.booleans()):
        header["__metadata__"] = draw(st.dictionaries(st.text(max_size=3), st.text(max_size=3)) | JSONISH)
    raw = json.dumps(header).encode()  # floats may come out as NaN or Infinity, which JSON lacks
    raw += b" " * draw(st.integers(0, 7))
    length = draw(st.sampled_from([len(raw)] * 4 + [0, len(raw) - 1, len(raw) + 1]) | st.integers(0, 2**64 - 1))
    blob = struct.pack("<Q", length) + raw + bytes(max(0, data + draw(st.sampled_from([0, 0, 0, -1, 1, 7]))))
    cut = draw(st.none() | st.integers(0, len(blob)))
    return blob if cut is None else blob[:cut]


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=checkpoints())
def test_random_headers_exit_0_only_when_well_formed(tmp_path: Path, blob: bytes) -> None:
    folder = folder_with(tmp_path, blob)
    result = verify(folder)
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if well_formed(blob):  # read and counted: agreeing (0) or not (1), but no error
        assert result.stderr == "", result.stderr
    else:
        assert_refused(result, folder / "model.safetensors")
