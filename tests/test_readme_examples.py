"""README.md's example outputs are what the CLI really prints (see tools/readme_examples.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import readme_examples  # noqa: E402

EXAMPLES = readme_examples.examples(readme_examples.README.read_text(encoding="utf-8"))


def test_the_readme_has_examples() -> None:
    # Otherwise a change in how the README writes its blocks would leave nothing to check.
    assert EXAMPLES, "no `$ llmcalc` example found in README.md"


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.command for example in EXAMPLES])
def test_readme_example(example: readme_examples.Example) -> None:
    assert readme_examples.run(example) == example.expected, (
        f"README.md line {example.line}: `{example.command}` prints something else at "
        f"{readme_examples.WIDTH} columns. If the change is intended, run "
        "`python tools/readme_examples.py --update` and review the README diff.")
