"""Text measured in terminal cells, and broken into lines as Rich breaks it, without Rich's
measuring: for the text llmcalc writes, whose characters are one cell wide.

Rich measures a string through `rich.cells.cell_len`, which keeps every string it measures in a
cache (every word of every line of prose, every cell of a table), and a string with a character
outside its own short list of one-cell ranges — an em dash, an arrow — loads its Unicode width
table (84 KB of tuples). Together they were 100 to 190 KB of a command's peak memory (tracemalloc),
when the peaks of explain, fit, train, compare and kvcache exceeded the floor's by 0.1-0.4 MB
(`benchmarks/startup.py`). Here the width of
a text whose every character is in ONE_CELL is its length, and `wrapped` breaks one line of it as
`Text.wrap` does (rich 15: `divide_line`, `Text.divide`, `rstrip_end`, `Lines.justify`,
`truncate`); any other text is left to Rich. tests/test_cells.py checks every character of
ONE_CELL against Rich's width table, and `wrapped` against `Text.wrap` for random texts.
"""

from __future__ import annotations

import re
from typing import Optional

from rich.cells import cell_len

# Printable ASCII, and the other characters llmcalc writes in English, each one cell wide by
# Rich's table (CJK text, two cells a character, is left to Rich).
ONE_CELL = frozenset(map(chr, range(0x20, 0x7F))) | frozenset("×·÷§²³¹—–−…→←≈≤≥≠⌈⌉ΔΣβᵀ⁰⁴⁵⁶⁷⁸⁹█")

_WORD = re.compile(r"\s*\S+\s*")  # rich._wrap.re_word: a word, with the spaces before and after it
_TRAILING_SPACE = re.compile(r"\s+$")  # rich.text._re_whitespace
JUSTIFIED = ("default", "left", "center", "right")
OVERFLOWS = ("fold", "crop", "ellipsis")


def one_cell_each(text: str) -> bool:
    return (text.isascii() and text.isprintable()) or ONE_CELL.issuperset(text)


def text_width(text: str) -> int:
    """Rich's cell_len, without adding the text to Rich's cache or loading its width table for a
    character of ONE_CELL."""
    return len(text) if one_cell_each(text) else cell_len(text)


def wrapped(text: str, width: int, justify: str, overflow: str = "fold") -> Optional[list[str]]:
    """The lines `Text.wrap` makes of a text of one line on `width` cells, justified as `justify`
    (one of JUSTIFIED) and a word longer than a line folded onto the next ("fold") or cut
    ("crop", "ellipsis"), if its every character is one cell wide; None for any other text
    (Rich wraps it)."""
    if width < 1 or justify not in JUSTIFIED or overflow not in OVERFLOWS or not one_cell_each(text):
        return None
    breaks = _breaks(text, width, fold=overflow == "fold")
    lines = []
    for start, end in zip([0, *breaks], [*breaks, len(text)]):
        line = text[start:end]
        if len(line) > width:  # Text.rstrip_end: the spaces past the width
            space = _TRAILING_SPACE.search(line)
            if space is not None:
                line = line[:len(line) - min(len(space.group()), len(line) - width)]
        if justify == "left":  # Lines.justify (Text.truncate, padded), then Text.truncate
            line = _truncated(line, width, overflow).ljust(width)
        elif justify == "center":
            line = _truncated(line.rstrip(), width, overflow)
            line = " " * ((width - len(line)) // 2) + line
            line = line.ljust(width)
        elif justify == "right":
            line = _truncated(line.rstrip(), width, overflow).rjust(width)
        lines.append(_truncated(line, width, overflow))
    return lines


def _truncated(line: str, width: int, overflow: str) -> str:
    """Text.truncate of a line of one-cell characters."""
    if len(line) <= width:
        return line
    return line[:width - 1] + "…" if overflow == "ellipsis" else line[:width]


def _breaks(text: str, width: int, fold: bool) -> list[int]:
    """rich._wrap.divide_line of a text of one-cell characters: where each line starts, but the first."""
    breaks: list[int] = []
    offset = 0  # cells used on the line so far
    for word_match in _WORD.finditer(text):
        start, word = word_match.start(), word_match.group()
        word_length = len(word.rstrip())
        if width - offset >= word_length:
            offset += len(word)
        elif word_length > width and fold:  # a word longer than a line: folded
            chunks = [word[index:index + width] for index in range(0, len(word), width)]
            for index, chunk in enumerate(chunks):
                if start:
                    breaks.append(start)
                if index == len(chunks) - 1:
                    offset = len(chunk)
                else:
                    start += len(chunk)
        elif word_length > width:  # cut, on a line of its own
            if start:
                breaks.append(start)
            offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks
