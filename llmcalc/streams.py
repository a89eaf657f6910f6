"""Standard output that never crashes the tool: closed, or unable to encode our symbols.

A terminal or pipe whose encoding cannot show ×, —, … or █ (LC_ALL=C, PYTHONIOENCODING=latin-1)
gets ASCII stand-ins instead of a UnicodeEncodeError; JSON keeps exactly the same content
by escaping (`ensure_ascii`), so scripts read the same strings either way.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

# What our own output prints outside ASCII, and what stands in for it.
ASCII_STAND_INS = str.maketrans({
    "×": "x", "·": "*", "—": "-", "–": "-", "−": "-", "→": "->", "←": "<-", "…": "...", "█": "#",
    "≠": "!=", "⌈": "ceil(", "⌉": ")", "Σ": "sum", "≈": "~",
    "⁰": "^0", "¹": "^1", "²": "^2", "³": "^3", "⁴": "^4", "⁵": "^5", "⁶": "^6", "⁷": "^7", "⁸": "^8", "⁹": "^9",
})
_PROBE = "×—…█−²"


def can_encode(stream: Any, text: str = _PROBE) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class AsciiFallback:
    """A text stream that writes ASCII stand-ins for our symbols, and ? for anything else
    its encoding cannot hold (a model name, say), instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        encoding = getattr(self._stream, "encoding", None) or "ascii"
        safe = text.translate(ASCII_STAND_INS).encode(encoding, "replace").decode(encoding)
        return self._stream.write(safe)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding: the real stream's
        return getattr(self._stream, name)


def guard_stdout() -> str | None:
    """Prepare sys.stdout for our output; a reason it cannot be written, or None."""
    if sys.stdout is None:  # started with stdout closed (`>&-`)
        return "standard output is closed; there is nowhere to print the result"
    if not can_encode(sys.stdout):
        sys.stdout = AsciiFallback(sys.stdout)  # type: ignore[assignment]
    return None
