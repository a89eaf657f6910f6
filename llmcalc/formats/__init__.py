"""Plain output: JSON, CSV and Markdown, one module per command (as `views/` holds each
command's Rich output), so that a command's JSON loads only its own document; what they share,
writing the JSON, is here. Never imports rich: scripts pay only for what they read."""

from __future__ import annotations

import sys
from typing import Any


def write_json(document: Any) -> None:
    from llmcalc.json_text import dumps
    from llmcalc.streams import can_encode

    # Escaped where the output cannot hold the characters: the same JSON, read back.
    sys.stdout.write(dumps(document, indent=2, ensure_ascii=not can_encode(sys.stdout, "×—")) + "\n")
