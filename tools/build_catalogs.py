"""Compile llmcalc's message catalogs: llmcalc/locale/<lang>/LC_MESSAGES/llmcalc.po → .mo.

    python tools/build_catalogs.py           # rewrite every .mo from its .po
    python tools/build_catalogs.py --check   # exit 1 if a .mo is stale or a catalog misses a message

The English catalog is llmcalc/locale/llmcalc.pot (every msgid, empty msgstr); each language's
.po must translate every one of them. The .mo format is GNU gettext's, as the standard library's
`gettext` reads it (no Babel or msgfmt needed).
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "llmcalc" / "locale"
LANGUAGES = ("zh", "zh_Hant")


def parse_po(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (the header under the empty msgid)."""
    messages: dict[str, str] = {}
    key: str | None = None
    current: list[str] = []
    field = ""

    def flush() -> None:
        if field == "msgstr" and key is not None:
            messages[key] = "".join(current)

    msgid: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            field, msgid, current = "msgid", [ast.literal_eval(line[6:])], []
            key = None
        elif line.startswith("msgstr "):
            key = "".join(msgid)
            field, current = "msgstr", [ast.literal_eval(line[7:])]
        elif line.startswith('"'):
            (msgid if field == "msgid" else current).append(ast.literal_eval(line))
    flush()
    return messages


def mo_bytes(messages: dict[str, str]) -> bytes:
    """GNU .mo: magic, revision, count, the two offset tables, then the strings."""
    keys = sorted(messages)
    ids = [key.encode("utf-8") for key in keys]
    strs = [messages[key].encode("utf-8") for key in keys]
    header_size = 7 * 4
    table_size = len(keys) * 8
    data_start = header_size + 2 * table_size
    offsets: list[tuple[int, int]] = []
    data = b""
    for item in ids + strs:
        offsets.append((len(item), data_start + len(data)))
        data += item + b"\0"
    output = struct.pack("<7I", 0x950412DE, 0, len(keys), header_size, header_size + table_size, 0, 0)
    for length, offset in offsets:
        output += struct.pack("<2I", length, offset)
    return output + data


def po_text(messages: dict[str, str], header: str) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ['msgid ""', f"msgstr {quote(header)}", ""]
    for msgid in sorted(key for key in messages if key):
        lines += [f"msgid {quote(msgid)}", f"msgstr {quote(messages[msgid])}", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    check = parser.parse_args().check
    english = set(parse_po(LOCALE / "llmcalc.pot")) - {""}
    problems = []
    for language in LANGUAGES:
        po = LOCALE / language / "LC_MESSAGES" / "llmcalc.po"
        messages = parse_po(po)
        missing = sorted(msgid for msgid in english if not messages.get(msgid))
        extra = sorted(set(messages) - english - {""})
        if missing or extra:
            problems.append(f"{po}: {len(missing)} untranslated, {len(extra)} not in llmcalc.pot")
        mo = po.with_suffix(".mo")
        compiled = mo_bytes(messages)
        if check:
            if not mo.exists() or mo.read_bytes() != compiled:
                problems.append(f"{mo} is stale: run python tools/build_catalogs.py")
        else:
            mo.write_bytes(compiled)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
