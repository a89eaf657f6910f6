"""Rewrite presets/index.json from the preset YAML files (run after adding or editing one).

    python tools/build_preset_index.py

The index holds the parsed presets so that a command need not import PyYAML; the test
suite fails when it no longer matches the YAML files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmcalc.presets import INDEX_NAME, build_index  # noqa: E402


def main() -> int:
    presets = ROOT / "presets"
    index = build_index(sorted(presets.glob("*.yaml")))
    (presets / INDEX_NAME).write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {presets / INDEX_NAME}: {len(index['presets'])} presets, {len(index['names'])} names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
