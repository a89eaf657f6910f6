"""Models straight from the Hub, through the real client (huggingface_hub), against a stand-in
Hub on 127.0.0.1 that serves config.json files the way the Hub's `resolve` endpoint does (HEAD
for the ETag and commit, then GET), gated (401) and missing (404) repos, and one that hangs."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcalc.cli import app

hub_constants = pytest.importorskip("huggingface_hub.constants")
runner = CliRunner()

TINY = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16"}
# The same shapes, 4 layers: what the repo's branch v2 holds.
TINY_V2 = {**TINY, "num_hidden_layers": 4}
# 2 layers of (4 × 64² / 2 + 2 × 64 × 32 ... ): counted by the formula in llmcalc; here only compared.
MISTRAL = {"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 3,
           "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000, "sliding_window": None}


class StandInHub(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = {("org/tiny", "main", "config.json"): json.dumps(TINY).encode(),
                      ("org/tiny", "v2", "config.json"): json.dumps(TINY_V2).encode(),
                      ("mistralai/Mistral-7B-v0.1", "main", "config.json"): json.dumps(MISTRAL).encode()}
        self.requests: list[tuple[str, str]] = []
        self.bytes_sent = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    server: StandInHub

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def do_GET(self) -> None:
        self.answer(body=True)

    def answer(self, body: bool) -> None:
        self.server.requests.append((self.command, self.path))
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["api", "models"]:  # the tree listing: /api/models/{repo}/tree/{revision}
            return self.listing("/".join(parts[2:4]), parts[5] if len(parts) > 5 else "main")
        repo, revision, name = "/".join(parts[:2]), parts[3] if len(parts) > 3 else "", "/".join(parts[4:])
        if repo == "org/slow":
            time.sleep(5)
        if repo == "org/gated":
            return self.error(401, "GatedRepo", "Access to model org/gated is restricted.")
        stored = self.server.files.get((repo, revision, name))
        data = stored.read_bytes() if isinstance(stored, Path) and stored.stat().st_size < 1 << 20 else stored
        if isinstance(data, Path):  # a large (sparse) file: its ranges are read from disk
            return self.large(data, body)
        if data is None:
            known = any(key[0] == repo for key in self.server.files)
            if known and not any(key[:2] == (repo, revision) for key in self.server.files):
                return self.error(404, "RevisionNotFound", "Invalid rev id")
            return self.error(404, "EntryNotFound" if known else "RepoNotFound", "not found")
        wanted = self.headers.get("Range")
        part = data
        if wanted and body:  # bytes=first-last, as the client asks for a safetensors header
            first, last = (int(n) for n in wanted.removeprefix("bytes=").split("-"))
            part = data[first:last + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{first + len(part) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
        self.send_header("X-Repo-Commit", hashlib.sha1(repo.encode() + revision.encode()).hexdigest())
        self.send_header("Content-Length", str(len(part) if body else len(data)))
        self.end_headers()
        if body:  # counted before it is sent: the client may be done before this thread runs on
            self.server.bytes_sent += len(part)
            self.wfile.write(part)

    def listing(self, repo: str, revision: str) -> None:
        files = [{"type": "file", "path": name, "oid": "0" * 40,
                  "size": value.stat().st_size if isinstance(value, Path) else len(value)}
                 for (owner, rev, name), value in self.server.files.items() if owner == repo and rev == revision]
        if not files:
            return self.error(404, "RepoNotFound", "not found")
        raw = json.dumps(files).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def large(self, path: Path, body: bool) -> None:
        size = path.stat().st_size
        wanted = self.headers.get("Range")
        first, last = (int(n) for n in wanted.removeprefix("bytes=").split("-")) if wanted else (0, size - 1)
        last = min(last, size - 1)
        self.send_response(206 if wanted else 200)
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("ETag", '"' + hashlib.sha256(str(size).encode()).hexdigest() + '"')
        self.send_header("X-Repo-Commit", "b" * 40)
        self.send_header("Content-Length", str(last - first + 1 if (body and wanted) else size))
        self.end_headers()
        if body and wanted:
            with open(path, "rb") as handle:
                handle.seek(first)
                part = handle.read(last - first + 1)
            self.server.bytes_sent += len(part)
            self.wfile.write(part)

    def error(self, status: int, code: str, message: str) -> None:
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInHub]:
    server = StandInHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)  # the client read it once, at import
    # ... and its cache: get_safetensors_metadata downloads an index where the constant says
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    yield server
    server.shutdown()
    server.server_close()


def tiny_safetensors(config: dict) -> bytes:
    """The checkpoint transformers' save_pretrained would write for the tiny LLaMA config: its tensor
    names and shapes in the header, then zeros for the data (bf16)."""
    hidden, inner, vocab, kv = config["hidden_size"], config["intermediate_size"], config["vocab_size"], 32
    shapes = {"model.embed_tokens.weight": [vocab, hidden], "model.norm.weight": [hidden], "lm_head.weight": [vocab, hidden]}
    for i in range(config["num_hidden_layers"]):
        layer = f"model.layers.{i}."
        shapes.update({layer + "self_attn.q_proj.weight": [hidden, hidden], layer + "self_attn.k_proj.weight": [kv, hidden],
                       layer + "self_attn.v_proj.weight": [kv, hidden], layer + "self_attn.o_proj.weight": [hidden, hidden],
                       layer + "mlp.gate_proj.weight": [inner, hidden], layer + "mlp.up_proj.weight": [inner, hidden],
                       layer + "mlp.down_proj.weight": [hidden, inner], layer + "input_layernorm.weight": [hidden],
                       layer + "post_attention_layernorm.weight": [hidden]})
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = 2
        for n in shape:
            size *= n
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)


def run(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


def total(result) -> int:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["total_params"]


def test_downloaded_once_then_read_offline(hub: StandInHub) -> None:
    online = total(run("params", "org/tiny", "--json"))
    # embedding 100 × 64, 2 × (q 64·64 + k, v 64·32 + o 64·64 + 3 × 64·128 + 2 norms) + final norm + head
    assert online == 100 * 64 + 2 * (64 * 64 * 2 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64) + 64 + 100 * 64
    assert hub.requests == [("HEAD", "/org/tiny/resolve/main/config.json"),
                            ("GET", "/org/tiny/resolve/main/config.json")]
    assert hub.bytes_sent == len(json.dumps(TINY))
    assert total(run("params", "org/tiny", "--json", HF_HUB_OFFLINE="1")) == online
    assert total(run("params", "org/tiny", "--json")) == online  # the cached copy: no request
    assert len(hub.requests) == 2


def test_offline_without_a_cached_copy(hub: StandInHub) -> None:
    result = run("params", "org/tiny", "--offline")
    assert result.exit_code == 2 and "network is off" in result.stderr
    assert hub.requests == []


def test_revision(hub: StandInHub) -> None:
    main, v2 = total(run("params", "org/tiny", "--json")), total(run("params", "org/tiny", "--json",
                                                                      "--revision", "v2"))
    assert v2 > main
    missing = run("params", "org/tiny", "--revision", "v9")
    assert missing.exit_code == 2 and "no revision 'v9'" in missing.stderr


def test_a_preset_alias_wins_unless_remote(hub: StandInHub) -> None:
    assert json.loads(run("params", "mistralai/Mistral-7B-v0.1", "--json").stdout)["model"] == "mistral-7b"
    assert hub.requests == []
    remote = json.loads(run("params", "mistralai/Mistral-7B-v0.1", "--json", "--remote").stdout)
    assert remote["spec"]["num_hidden_layers"] == 3  # the stand-in's config, not the preset
    assert hub.requests


@pytest.mark.parametrize(("repo", "fragment"), [
    ("org/gated", "is gated"), ("org/missing", "no such repo on the Hub: org/missing"),
])
def test_gated_and_missing_repos_are_one_line(hub: StandInHub, repo: str, fragment: str) -> None:
    result = run("params", repo)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_hanging_hub_times_out(hub: StandInHub) -> None:
    started = time.monotonic()
    result = run("params", "org/slow", HF_HUB_ETAG_TIMEOUT="1")
    assert result.exit_code == 2 and "could not be reached" in result.stderr
    # Bounded by 3 × the 1 s asked for plus a cold import of the client; the default (10 s) would take 30 s.
    assert time.monotonic() - started < 8


def test_a_hub_that_refuses_connections_is_one_line(tmp_path: Path) -> None:
    # Nothing listens on the discard port: the client retries, and logged each retry on stderr.
    # In a process of its own: the request given up on keeps retrying in its thread, and the
    # client shares one HTTP session across threads (and resets it between retries).
    env = {**os.environ, "HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_CACHE": str(tmp_path),
           "HF_HUB_ETAG_TIMEOUT": "1"}
    result = subprocess.run([sys.executable, "-m", "llmcalc", "params", "org/unreachable"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "the Hub could not be reached" in result.stderr, result.stderr


def test_a_connection_dropped_mid_read_is_one_line() -> None:
    # huggingface_hub 2 reads through httpx2 (1.x through httpx), whose transport errors are not
    # OSErrors: one reached a user as a traceback.
    import importlib.util

    from llmcalc.errors import UsageError
    from llmcalc.hub import _client, _hub_errors
    from llmcalc.hub_access import HubAccess

    name = next((n for n in ("httpx2", "httpx") if importlib.util.find_spec(n)), None)
    if name is None:
        pytest.skip("no httpx")
    http = __import__(name)
    with pytest.raises(UsageError, match="could not be reached"):
        with _hub_errors("org/tiny", HubAccess(), _client("a test")):
            raise http.ReadError("[Errno 9] Bad file descriptor")


def test_without_the_client_a_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    result = run("params", "org/tiny", HF_HUB_CACHE=str(tmp_path))
    assert result.exit_code == 2 and "pip install 'llmcalc[hub]'" in result.stderr


def test_verify_a_repo_reads_only_the_headers(hub: StandInHub) -> None:
    checkpoint = tiny_safetensors(TINY)
    hub.files[("org/tiny", "main", "model.safetensors")] = checkpoint
    result = run("verify", "org/tiny", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["agrees"] and document["stored_params"] == document["formula_params"]
    ranges = [path for method, path in hub.requests if path.endswith("model.safetensors") and method == "GET"]
    assert len(ranges) == 1
    # the config.json once, and the first 100,001 bytes of the checkpoint: never the rest of its tensors
    assert hub.bytes_sent == len(json.dumps(TINY)) + 100_001 < len(checkpoint)


def shards(config: dict, count: int) -> tuple[bytes, list[bytes]]:
    """The tiny checkpoint split as save_pretrained splits a large one: `count` shard files, each a
    safetensors file of its own, and the index that maps every tensor to its shard."""
    whole = tiny_safetensors(config)
    (length,) = struct.unpack("<Q", whole[:8])
    header = json.loads(whole[8:8 + length])
    names = list(header)
    files, weight_map = [], {}
    for number in range(count):
        name = f"model-{number + 1:05d}-of-{count:05d}.safetensors"
        part, offset = {}, 0
        for tensor in names[number::count]:
            first, last = header[tensor]["data_offsets"]
            part[tensor] = {**header[tensor], "data_offsets": [offset, offset + last - first]}
            offset += last - first
            weight_map[tensor] = name
        raw = json.dumps(part).encode()
        files.append(struct.pack("<Q", len(raw)) + raw + bytes(offset))
    index = json.dumps({"metadata": {"total_size": sum(len(f) for f in files)}, "weight_map": weight_map}).encode()
    return index, files


def test_verify_a_sharded_repo_reads_the_index_and_each_shards_header(hub: StandInHub) -> None:
    # Large repos (the example, DeepSeek-V3, has 163 shards) come as an index and shards.
    config = {**TINY, "num_hidden_layers": 40}
    index, files = shards(config, 3)
    hub.files[("org/sharded", "main", "config.json")] = json.dumps(config).encode()
    hub.files[("org/sharded", "main", "model.safetensors.index.json")] = index
    for number, data in enumerate(files):
        hub.files[("org/sharded", "main", f"model-{number + 1:05d}-of-00003.safetensors")] = data
    result = run("verify", "org/sharded", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["agrees"] and document["stored_params"] == document["formula_params"]
    headers = [path for method, path in hub.requests if method == "GET" and "-of-00003" in path]
    assert len(headers) == 3  # one range request per shard
    # config, index, and 100,001 bytes of each shard: never the rest of the tensors
    assert hub.bytes_sent == len(json.dumps(config)) + len(index) + 3 * 100_001 < sum(len(f) for f in files)


def test_verify_a_repo_offline_is_refused(hub: StandInHub) -> None:
    result = run("verify", "org/tiny", "--offline")
    assert result.exit_code == 2 and "network is off" in result.stderr


def test_a_gguf_repo_is_checked_from_its_header_alone(hub: StandInHub, tmp_path: Path) -> None:
    # Llama-3.1-70B at Q4_K_M with llama.cpp's own golden types (as tests/test_quant.py writes it):
    # a 42 GB file, sparse on disk; the check needs its header only.
    from test_quant import write_llama31_70b_q4_k_m

    from llmcalc.presets import resolve
    from llmcalc.quant import quantize

    spec = resolve("llama3.1-70b")
    path = tmp_path / "Llama-3.1-70B-Q4_K_M.gguf"
    write_llama31_70b_q4_k_m(path)
    repo = "someone/Llama-3.1-70B-GGUF"
    hub.files[(repo, "main", "Llama-3.1-70B-Q4_K_M.gguf")] = path
    hub.files[(repo, "main", "Llama-3.1-70B-Q8_0.gguf")] = b"GGUF"
    result = run("quant", repo, "--file", "*Q4_K_M.gguf", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["agrees"] and report["tensors"] == 724 and report["stored_bytes"] == quantize(spec, "q4_k_m").bytes
    assert hub.bytes_sent < 4 << 20 < path.stat().st_size  # the header's megabytes, not the 42 GB of tensors
    several = run("quant", repo, "--file", "*.gguf")
    assert several.exit_code == 2 and "matches 2 GGUF files" in several.stderr
