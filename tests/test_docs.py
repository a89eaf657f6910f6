"""The front door stays true: CI runs the README's commands, the README's numbers are real."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)]


def test_ci_runs_the_readme_test_command() -> None:
    install, tests = shell_blocks(README)[:2]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()
    assert "pip install ." in install and "llmcalc params mistral-7b" in install
    assert "pip install ." in ci.splitlines() and "llmcalc params mistral-7b" in ci.splitlines()


def test_readme_lists_every_preset() -> None:
    for path in sorted((ROOT / "presets").glob("*.yaml")):
        assert f" {path.stem} " in README, f"README's preset list lacks {path.stem}"
