"""What every command knows of the Hub without the Hub's client or `hub.py`: how a repo id may be
fetched (`--revision`, `--offline`, `--remote`) and where the Hugging Face cache is (a repo id
already there is read offline)."""

from __future__ import annotations

import os
from pathlib import Path

from llmcalc.files import home, user_path
from llmcalc.records import record


def hf_hub_cache() -> Path:
    """HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (as huggingface_hub does), read
    on every call (the client reads it once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return user_path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return user_path(os.environ["HF_HOME"]) / "hub"
    home_folder = home()
    return (home_folder or Path(".")) / ".cache" / "huggingface" / "hub"


@record
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
