"""A model's config.json from the Hugging Face Hub, through the real client (`huggingface_hub`,
the optional extra `llmcalc[hub]`, imported only here and only when a repo id is not resolved
locally). The file lands in the standard Hugging Face cache, so the next run reads it there
without the network.

When the network is used: a repo id that is not a preset alias and is not in the cache (or any
repo id with `--remote` or `--revision`), and never with `--offline` or `HF_HUB_OFFLINE=1`.
`HF_ENDPOINT` (mirrors) and the client's token (`HF_TOKEN`, or `hf auth login`) are the client's
own; requests give up after `HF_HUB_ETAG_TIMEOUT` / `HF_HUB_DOWNLOAD_TIMEOUT` seconds (10 unless
set).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmcalc.errors import ModelFileError, UnknownModelError, UsageError
from llmcalc.hub_access import HubAccess, hf_hub_cache

CONFIG = "config.json"
INSTALL_HINT = "pip install 'llmcalc[hub]'"
DEFAULT_TIMEOUT = 10  # seconds, as huggingface_hub's own default


def timeout() -> float:
    """HF_HUB_ETAG_TIMEOUT seconds, else 10: how long the Hub may take to answer."""
    try:
        return float(os.environ.get("HF_HUB_ETAG_TIMEOUT") or DEFAULT_TIMEOUT)
    except ValueError:
        raise UsageError(f"HF_HUB_ETAG_TIMEOUT={os.environ['HF_HUB_ETAG_TIMEOUT']!r} is not a number of seconds") from None


def fetch_config(repo_id: str, access: HubAccess) -> Path:
    """The repo's config.json in the Hugging Face cache, downloaded if it is not there yet."""
    if access.revision is not None and not access.revision.strip():
        raise UsageError("--revision is empty: give a branch, tag or commit")
    hub = _client(f"{repo_id} is not in the local Hugging Face cache; fetching its config.json from the Hub")
    revision = access.revision or "main"
    cache = str(hf_hub_cache())
    try:
        cached = hub.try_to_load_from_cache(repo_id, CONFIG, cache_dir=cache, revision=revision)
    except hub.errors.HFValidationError:
        raise UnknownModelError(repo_id, [], "it is not a preset alias, nor a valid Hugging Face repo id") from None
    if isinstance(cached, str) and not access.remote:
        return Path(cached)
    if not access.network:
        raise UsageError(f"{repo_id}: no cached config.json (revision {revision}) and the network is off "
                         "(--offline or HF_HUB_OFFLINE); run once online to cache it")
    seconds = timeout()
    with _hub_errors(repo_id, access, hub, missing=f"the repo has no {CONFIG}",
                     unreachable="; a cached copy with --offline works without it"):
        return Path(_within(3 * seconds, repo_id, lambda: hub.hf_hub_download(
            repo_id, CONFIG, revision=access.revision, cache_dir=cache, etag_timeout=seconds,
            endpoint=os.environ.get("HF_ENDPOINT") or None)))


def safetensors_headers(repo_id: str, access: HubAccess) -> list[tuple[str, list[tuple[str, str, tuple[int, ...]]]]]:
    """(file, [(tensor, dtype, shape)]) for each safetensors file of the repo, from its header alone:
    the client reads the first 100,000 bytes of each file (and the rest of a longer header) by range
    requests, never the tensors."""
    if not access.network:
        raise UsageError(f"{repo_id}: verify reads the safetensors headers from the Hub, and the network is off "
                         "(--offline or HF_HUB_OFFLINE); give a downloaded model folder instead")
    hub = _client(f"reading {repo_id}'s safetensors headers from the Hub")
    api = hub.HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)
    seconds = timeout()
    try:
        with _hub_errors(repo_id, access, hub):
            metadata = _within(3 * seconds, repo_id, lambda: api.get_safetensors_metadata(
                repo_id, revision=access.revision, timeout=seconds))
    except hub.errors.NotASafetensorsRepoError:
        raise ModelFileError(repo_id, "the repo has no safetensors files (model.safetensors or its index)") from None
    except hub.errors.SafetensorsParsingError as exc:
        raise ModelFileError(repo_id, f"a safetensors header cannot be read: {_reason(exc)}") from None
    return [(file, [(name, info.dtype, tuple(info.shape)) for name, info in found.tensors.items()])
            for file, found in sorted(metadata.files_metadata.items())]


def _client(what: str) -> Any:
    """huggingface_hub, imported now (never at start-up), or a usage error with the install command."""
    import logging  # only when the Hub is asked: not on the start-up path

    try:
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # llmcalc asks for files, nothing else
        import huggingface_hub
        import huggingface_hub.errors  # noqa: F401 - the package exposes a submodule once it is imported

        # The client logs each retry ("Retrying in 2s ...") on stderr; llmcalc says what failed in one line.
        logging.getLogger("huggingface_hub.utils._http").setLevel(logging.ERROR)
    except ImportError:
        raise UsageError(f"{what} needs the Hugging Face client: {INSTALL_HINT}") from None
    return huggingface_hub


def list_files(repo_id: str, access: HubAccess) -> list[str]:
    """Every file of the repo at the revision (one listing request)."""
    if not access.network:
        raise UsageError(f"{repo_id}: listing its files needs the Hub, and the network is off")
    hub = _client(f"listing {repo_id}'s files")
    api = hub.HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)
    with _hub_errors(repo_id, access, hub):
        return list(_within(3 * timeout(), repo_id, lambda: api.list_repo_files(repo_id, revision=access.revision)))


class RemoteFile:
    """A file on the Hub read by range requests, in chunks, as a seekable binary stream: what a GGUF
    header needs, never the tensors after it."""

    CHUNK = 1 << 20

    def __init__(self, repo_id: str, filename: str, access: HubAccess) -> None:
        if not access.network:
            raise UsageError(f"{repo_id}: reading {filename} needs the Hub, and the network is off")
        self.hub = _client(f"reading {filename} of {repo_id}")
        self.repo_id, self.access = repo_id, access
        self.url = self.hub.hf_hub_url(repo_id, filename, revision=access.revision,
                                       endpoint=os.environ.get("HF_ENDPOINT") or None)
        with _hub_errors(repo_id, access, self.hub):
            metadata = _within(3 * timeout(), repo_id, lambda: self.hub.get_hf_file_metadata(self.url, timeout=timeout()))
        self.size = int(metadata.size or 0)
        self.position, self.buffer_start, self.buffer = 0, 0, b""
        self.fetched = 0

    def __enter__(self) -> RemoteFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.buffer = b""

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset if whence == 0 else self.position + offset if whence == 1 else self.size + offset
        return self.position

    def read(self, count: int) -> bytes:
        end = min(self.position + count, self.size)
        if not (self.buffer_start <= self.position and end <= self.buffer_start + len(self.buffer)):
            self._fetch(self.position, max(end, min(self.position + self.CHUNK, self.size)))
        start = self.position - self.buffer_start
        data = self.buffer[start:start + (end - self.position)]
        self.position += len(data)
        return data

    def _fetch(self, first: int, stop: int) -> None:
        from huggingface_hub.utils import build_hf_headers, get_session

        headers = {**build_hf_headers(), "Range": f"bytes={first}-{stop - 1}"}
        with _hub_errors(self.repo_id, self.access, self.hub):
            response = _within(3 * timeout(), self.repo_id,
                               lambda: get_session().get(self.url, headers=headers, timeout=timeout(),
                                                         follow_redirects=True))
        if response.status_code != 206 and not (response.status_code == 200 and first == 0):
            raise UsageError(f"{self.repo_id}: the Hub answered {response.status_code} to a range request")
        self.buffer_start, self.buffer = first, response.content[:stop - first]
        self.fetched += len(response.content)


class _hub_errors:  # noqa: N801 - a context manager read as a phrase: `with _hub_errors(...)`
    """The client's errors as one line each: `missing` says what an absent file means, and
    `unreachable` is added when the Hub cannot be reached."""

    def __init__(self, repo_id: str, access: HubAccess, hub: Any, missing: str = "no such file in the repo",
                 unreachable: str = "") -> None:
        self.repo_id, self.access, self.errors = repo_id, access, hub.errors
        self.missing, self.unreachable = missing, unreachable

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, trace: Any) -> None:
        if exc is None or isinstance(exc, UsageError):
            return
        errors, repo_id = self.errors, self.repo_id
        if isinstance(exc, errors.GatedRepoError):
            raise UsageError(f"{repo_id} is gated: request access on its Hub page, then log in (HF_TOKEN or "
                             "`hf auth login`)") from None
        if isinstance(exc, errors.RevisionNotFoundError):
            raise UsageError(f"{repo_id} has no revision {self.access.revision!r} on the Hub") from None
        if isinstance(exc, errors.RepositoryNotFoundError):
            raise UsageError(f"no such repo on the Hub: {repo_id} (or it is private: log in with HF_TOKEN)") from None
        # LocalEntryNotFoundError is both "not found" and an OSError: the file was not reachable
        if isinstance(exc, errors.EntryNotFoundError) and not isinstance(exc, errors.LocalEntryNotFoundError):
            raise ModelFileError(repo_id, self.missing) from None
        # The client's HTTP library (httpx, or httpx2 in huggingface_hub 2) raises its own transport
        # errors — a connection dropped mid-read — which are not OSErrors.
        if isinstance(exc, OSError) or any(cls.__name__ == "TransportError" for cls in type(exc).__mro__):
            raise UsageError(f"{repo_id}: the Hub could not be reached ({_reason(exc)}){self.unreachable}") from None


def _within(seconds: float, repo_id: str, call: Callable[[], Any]) -> Any:
    """`call()`, given up on after `seconds`: the client retries a timed-out request with a 60-second
    timeout of its own, so the bound is kept here (the abandoned request ends with the process)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller, whatever it is
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise UsageError(f"{repo_id}: the Hub could not be reached (no answer within {seconds:g} s; "
                         "HF_HUB_ETAG_TIMEOUT sets the bound); a cached copy with --offline works without it")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _reason(exc: BaseException) -> str:
    """The first cause's first line: `timed out`, `connection refused`, ..."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text[:120]
