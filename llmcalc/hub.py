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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmcalc.errors import ModelFileError, UnknownModelError, UsageError
from llmcalc.files import home, user_path

CONFIG = "config.json"
INSTALL_HINT = "pip install 'llmcalc[hub]'"
DEFAULT_TIMEOUT = 10  # seconds, as huggingface_hub's own default


def hf_hub_cache() -> Path:
    """HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (as huggingface_hub does), read
    on every call (the client reads it once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return user_path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return user_path(os.environ["HF_HOME"]) / "hub"
    home_folder = home()
    return (home_folder or Path(".")) / ".cache" / "huggingface" / "hub"


def timeout() -> float:
    """HF_HUB_ETAG_TIMEOUT seconds, else 10: how long the Hub may take to answer."""
    try:
        return float(os.environ.get("HF_HUB_ETAG_TIMEOUT") or DEFAULT_TIMEOUT)
    except ValueError:
        raise UsageError(f"HF_HUB_ETAG_TIMEOUT={os.environ['HF_HUB_ETAG_TIMEOUT']!r} is not a number of seconds") from None


@dataclass(frozen=True)
class HubAccess:
    """How a repo id may be fetched: `--revision`, `--offline`, `--remote`."""

    revision: str | None = None
    offline: bool = False
    remote: bool = False  # ask the Hub even when a preset alias or a cached copy would do

    @property
    def network(self) -> bool:
        """Whether the network may be used at all."""
        return not self.offline and os.environ.get("HF_HUB_OFFLINE", "").strip().lower() not in ("1", "true", "yes",
                                                                                                  "on")


def fetch_config(repo_id: str, access: HubAccess) -> Path:
    """The repo's config.json in the Hugging Face cache, downloaded if it is not there yet."""
    if access.revision is not None and not access.revision.strip():
        raise UsageError("--revision is empty: give a branch, tag or commit")
    try:
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # llmcalc asks for files, nothing else
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
        from huggingface_hub import errors as hub_errors
    except ImportError:
        raise UsageError(f"{repo_id} is not in the local Hugging Face cache; to fetch its config.json from the Hub, "
                         f"{INSTALL_HINT}") from None
    revision = access.revision or "main"
    cache = str(hf_hub_cache())
    try:
        cached = try_to_load_from_cache(repo_id, CONFIG, cache_dir=cache, revision=revision)
    except hub_errors.HFValidationError:
        raise UnknownModelError(repo_id, [], "it is not a preset alias, nor a valid Hugging Face repo id") from None
    if isinstance(cached, str) and not access.remote:
        return Path(cached)
    if not access.network:
        raise UsageError(f"{repo_id}: no cached config.json (revision {revision}) and the network is off "
                         "(--offline or HF_HUB_OFFLINE); run once online to cache it")
    seconds = timeout()
    try:
        return Path(_within(3 * seconds, repo_id, lambda: hf_hub_download(
            repo_id, CONFIG, revision=access.revision, cache_dir=cache, etag_timeout=seconds,
            endpoint=os.environ.get("HF_ENDPOINT") or None)))
    except hub_errors.GatedRepoError:
        raise UsageError(f"{repo_id} is gated: request access on its Hub page, then log in (HF_TOKEN or "
                         "`hf auth login`)") from None
    except hub_errors.RevisionNotFoundError:
        raise UsageError(f"{repo_id} has no revision {access.revision!r} on the Hub") from None
    except hub_errors.RepositoryNotFoundError:
        raise UsageError(f"no such repo on the Hub: {repo_id} (or it is private: log in with HF_TOKEN)") from None
    except (hub_errors.LocalEntryNotFoundError, hub_errors.OfflineModeIsEnabled) as exc:
        raise UsageError(f"{repo_id}: the Hub could not be reached ({_reason(exc)}); a cached copy with --offline "
                         "works without it") from None
    except hub_errors.EntryNotFoundError:
        raise ModelFileError(repo_id, f"the repo has no {CONFIG}") from None
    except OSError as exc:
        raise UsageError(f"{repo_id}: the Hub could not be reached ({_reason(exc)}); a cached copy with --offline "
                         "works without it") from None


def safetensors_headers(repo_id: str, access: HubAccess) -> list[tuple[str, list[tuple[str, str, tuple[int, ...]]]]]:
    """(file, [(tensor, dtype, shape)]) for each safetensors file of the repo, from its header alone:
    the client reads the first 100,000 bytes of each file (and the rest of a longer header) by range
    requests, never the tensors."""
    if not access.network:
        raise UsageError(f"{repo_id}: verify reads the safetensors headers from the Hub, and the network is off "
                         "(--offline or HF_HUB_OFFLINE); give a downloaded model folder instead")
    try:
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        from huggingface_hub import HfApi
        from huggingface_hub import errors as hub_errors
    except ImportError:
        raise UsageError(f"reading {repo_id}'s safetensors headers from the Hub needs the client: "
                         f"{INSTALL_HINT}") from None
    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)
    seconds = timeout()
    try:
        metadata = _within(3 * seconds, repo_id, lambda: api.get_safetensors_metadata(
            repo_id, revision=access.revision, timeout=seconds))
    except hub_errors.NotASafetensorsRepoError:
        raise ModelFileError(repo_id, "the repo has no safetensors files (model.safetensors or its index)") from None
    except hub_errors.SafetensorsParsingError as exc:
        raise ModelFileError(repo_id, f"a safetensors header cannot be read: {_reason(exc)}") from None
    except hub_errors.GatedRepoError:
        raise UsageError(f"{repo_id} is gated: request access on its Hub page, then log in (HF_TOKEN or "
                         "`hf auth login`)") from None
    except hub_errors.RevisionNotFoundError:
        raise UsageError(f"{repo_id} has no revision {access.revision!r} on the Hub") from None
    except hub_errors.RepositoryNotFoundError:
        raise UsageError(f"no such repo on the Hub: {repo_id} (or it is private: log in with HF_TOKEN)") from None
    except OSError as exc:
        raise UsageError(f"{repo_id}: the Hub could not be reached ({_reason(exc)})") from None
    return [(file, [(name, info.dtype, tuple(info.shape)) for name, info in found.tensors.items()])
            for file, found in sorted(metadata.files_metadata.items())]


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
