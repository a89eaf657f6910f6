"""Messages in the reader's language: English text → a gettext catalog's translation, applied by
the renderers only (the core and JSON stay in English, with stable keys).

A catalog's msgid is either an exact English string or a template with `{named}` parts: the
core writes `layers 0-31` and the template `layers {span}` translates it, its parts translated in
turn, so numbers keep their digits and separators. The language: `--lang`, else `LLMCALC_LANG`,
else the locale (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`, as gettext reads them); English is
the fallback. Catalogs live in `llmcalc/locale/<language>/LC_MESSAGES/llmcalc.mo`, compiled from
the `.po` files next to them by `tools/build_catalogs.py`.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from llmcalc.errors import UsageError

DOMAIN = "llmcalc"
# What --lang accepts, and the catalog each name means (None: English, no catalog).
LANGUAGES = {"en": None, "zh": "zh", "zh-hans": "zh", "zh-cn": "zh", "zh-sg": "zh", "zh-hant": "zh_Hant",
             "zh-tw": "zh_Hant", "zh-hk": "zh_Hant", "zh-mo": "zh_Hant"}
LANGUAGE_CHOICES = "en, zh (Simplified Chinese), zh-Hant (Traditional Chinese)"

_chosen: list[str | None] = []  # set by the command line for each command it runs
# Strings asked for in a non-English language that no catalog entry matched (tests read it).
MISSES: set[str] = set()


def choose(name: str | None) -> None:
    """--lang NAME, else the environment: fixed for the rest of the command."""
    _chosen.clear()
    if name is None:
        _chosen.append(_from_environment())
        return
    key = name.strip().lower().replace("_", "-")
    if key not in LANGUAGES:
        raise UsageError(f"--lang {name!r}: use one of {LANGUAGE_CHOICES}")
    _chosen.append(LANGUAGES[key])


def catalog_name() -> str | None:
    """The catalog in use, or None for English."""
    return _chosen[0] if _chosen else _from_environment()


def _from_environment() -> str | None:
    for variable in ("LLMCALC_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if not value:
            continue
        first = value.split(":")[0].split(".")[0].split("@")[0].lower().replace("_", "-")
        if first in LANGUAGES:
            return LANGUAGES[first]
        if first.startswith("zh"):  # zh-CN.UTF-8 and the like: Hant for the traditional regions
            return "zh_Hant" if any(tag in first for tag in ("tw", "hk", "mo", "hant")) else "zh"
        return None  # the first language variable set decides, as gettext's lookup does
    return None


def tr(text: str) -> str:
    """`text` in the chosen language (unchanged in English, or where the catalog has no entry); a
    table's indentation is kept."""
    body = text.lstrip(" ")
    return text[:len(text) - len(body)] + _translate(body, record=True)


def tr_formula(text: str) -> str:
    """A formula column: symbols stay, the few words some formulas hold are translated."""
    return _translate(text, record=False)


def _translate(text: str, record: bool) -> str:
    name = catalog_name()
    if name is None or not text:
        return text
    exact, templates = _catalog(name)
    found = exact.get(text)
    if found is not None:
        return found
    for pattern, translation in templates:
        match = pattern.fullmatch(text)
        if match is not None:
            # The parts are names, numbers or labels: translated where the catalog knows them.
            return translation.format(**{key: _part(value, key.endswith("_list"))
                                         for key, value in match.groupdict().items()})
    if (record and re.search(r"[A-Za-z]{2,}", text) and not re.fullmatch(SYMBOL_LINE, text)
            and not re.fullmatch(NAME, text)):
        MISSES.add(text)
    return text


def _part(value: str, is_list: bool) -> str:
    """A template's part: a name, number or label, translated where the catalog knows it; a part
    named `..._list` is a list of labels (`a; b`, `a, b`), each translated and joined the language's way."""
    if is_list:
        exact = _catalog(catalog_name() or "")[0]
        for separator in ("; ", ", "):
            if separator in value:
                return exact.get(separator, separator).join(_translate(item, False) for item in value.split(separator))
    return _translate(value, False)


# Names that read the same in every language: a component's path (`attention.q_proj`), a model's
# name, a dtype; and a symbol with its values (`C_conv = 10,240`, `n_kv = 3 / 4 / 5`). Patterns, compiled
# (and cached by `re`) only by a run that records misses: compiling them at import cost every run.
NAME = r"\s*(?:(?=[\w.,\-/]*[\d_.,\-/])[\w.,\-/]+|[A-Z][A-Z0-9]+)\s*"
SYMBOL_LINE = r"[A-Za-z_][\w]* = [\d,./ ]+"


@lru_cache(maxsize=None)
def _catalog(name: str) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    import gettext

    locale_dir = Path(__file__).resolve().parent / "locale"  # here, not at import: JSON never reads it
    translations = gettext.translation(DOMAIN, localedir=str(locale_dir), languages=[name], fallback=True)
    messages: dict[str, str] = dict(getattr(translations, "_catalog", {}))
    messages.pop("", None)  # the header
    exact = {msgid: text for msgid, text in messages.items() if "{" not in msgid}
    # A template must hold some fixed text: `{x}` alone would match, and hide, any sentence.
    templates = [(_pattern(msgid), text) for msgid, text in messages.items()
                 if "{" in msgid and re.sub(r"\{\w+\}", "", msgid).strip()]
    # The template with the most fixed text first: `{n} norms ({kind})` before `{n} {what}`.
    templates.sort(key=lambda item: -len(re.sub(r"\(\?P<\w+>[^)]*\)", "", item[0].pattern)))
    return exact, templates


# What a template's part may hold, by its name, so that `{stack} layers {span}` cannot swallow a
# sentence that merely contains " layers ": numbers, a layer span, one word, one token.
PART_PATTERNS = {
    **dict.fromkeys(("n", "k", "e", "heads", "kv", "g", "power", "power2", "batch", "tokens", "encoder", "width",
                     "hidden", "window", "layers", "held", "peak", "flops", "weights", "cache", "exact", "estimated",
                     "active", "bytes", "values", "block", "count", "flops2", "rate", "ms", "blocks", "size", "chunk",
                     "cells", "pad", "ubatch", "r", "params", "tp", "pp", "dp", "zero", "b", "m", "mib"), r"[\d,.]+"),
    "span": r"\d[\d,\-– …]*",
    **dict.fromkeys(("sp", "dropout"), r".*?"),  # parts that may be empty
    "stack": r"\w+",
    **dict.fromkeys(("model", "path", "tensor", "figure", "figure2", "figure3", "type", "other", "format", "name",
                     "optimizer", "convention"), r"\S+"),
}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>{PART_PATTERNS.get(part, '.+?')})"
                    for index, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)
