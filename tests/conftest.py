"""No test reaches the network: the Hugging Face client, if a test gets that far, is offline
unless the test serves a stand-in Hub on 127.0.0.1 itself (tests/test_hub.py), and its cache is a
folder of the test's own, never the developer's ~/.cache/huggingface."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing answers there
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hf-cache")))
