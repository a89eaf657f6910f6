"""Rewrite what is generated from the presets and the schema (run after editing either):
presets/index.json from the preset YAML files, and the key tables of presets/README.md
from llmcalc/schema.py.

    python tools/build_preset_index.py

The index holds the parsed presets so that a command need not import PyYAML, and each
preset's summary row (counted here) so that `llmcalc presets` counts nothing. The test suite
fails when either file no longer matches its source.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmcalc.preset_rows import full_index  # noqa: E402
from llmcalc.presets import INDEX_NAME  # noqa: E402
from llmcalc.schema import key_tables  # noqa: E402

# The generated part of presets/README.md sits between these two comment lines.
KEYS_BLOCK = re.compile(r"(<!-- keys:[^\n]*-->\n)(.*?)(<!-- /keys -->)", re.DOTALL)


def readme_with_key_tables(text: str) -> str:
    if not KEYS_BLOCK.search(text):
        raise SystemExit("presets/README.md has no <!-- keys: ... --> / <!-- /keys --> block")
    return KEYS_BLOCK.sub(lambda match: match.group(1) + "\n" + key_tables() + "\n" + match.group(3), text)


def main() -> int:
    presets = ROOT / "presets"
    index = full_index(sorted(presets.glob("*.yaml")))
    (presets / INDEX_NAME).write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {presets / INDEX_NAME}: {len(index['presets'])} presets, {len(index['names'])} names")
    readme = presets / "README.md"
    readme.write_text(readme_with_key_tables(readme.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the key tables of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
