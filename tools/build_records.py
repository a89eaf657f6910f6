"""Write the methods of llmcalc's records (`@record` classes) into llmcalc/_generated/.

    python tools/build_records.py           # rewrite llmcalc/_generated/*.py
    python tools/build_records.py --check   # exit 1 when a generated file is stale

The methods are the ones `@dataclass` would write at import (llmcalc/records.py says why they
are written here instead): `__init__` (object.__setattr__ for frozen records, default
factories, then `__post_init__` when the class has one), and for `eq=True` `__eq__` and
`__hash__` over the fields in order (`__repr__` is one function for every record, in
records.py). The classes are read from the source with `ast`, so the tool needs nothing
imported.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "llmcalc"
GENERATED = PACKAGE / "_generated"


@dataclass(frozen=True)
class Field:
    name: str
    default: bool  # a default value
    factory: bool  # field(default_factory=...)


@dataclass(frozen=True)
class Record:
    name: str
    fields: tuple[Field, ...]
    eq: bool
    frozen: bool
    post_init: bool


def _options(decorator: ast.expr) -> tuple[bool, bool] | None:
    """(eq, frozen) of `@record` or `@record(...)`; None for any other decorator."""
    if isinstance(decorator, ast.Name) and decorator.id == "record":
        return True, True
    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == "record":
        given = {keyword.arg: ast.literal_eval(keyword.value) for keyword in decorator.keywords}
        return given.get("eq", True), given.get("frozen", True)
    return None


def _field(statement: ast.AnnAssign, where: str) -> Field | None:
    if not isinstance(statement.target, ast.Name) or "ClassVar" in ast.unparse(statement.annotation):
        return None
    value = statement.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "field":
        keywords = {keyword.arg for keyword in value.keywords}
        if value.args or keywords != {"default_factory"}:
            raise SystemExit(f"{where}.{statement.target.id}: a record's field() takes default_factory=... only "
                             "(llmcalc.records.field); a default is written `name: type = value`")
        return Field(statement.target.id, default=False, factory=True)
    return Field(statement.target.id, default=value is not None, factory=False)


def records(path: Path) -> list[Record]:
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ClassDef):
            continue
        options = next((o for o in map(_options, node.decorator_list) if o is not None), None)
        if options is None:
            continue
        where = f"{path.name}:{node.name}"
        fields = tuple(f for statement in node.body if isinstance(statement, ast.AnnAssign)
                       for f in [_field(statement, where)] if f is not None)
        seen_default = False
        for f in fields:
            if seen_default and not (f.default or f.factory):
                raise SystemExit(f"{where}: field {f.name} without a default follows one with a default")
            seen_default = seen_default or f.default or f.factory
        post_init = any(isinstance(item, ast.FunctionDef) and item.name == "__post_init__" for item in node.body)
        found.append(Record(node.name, fields, options[0], options[1], post_init))
    return found


def _methods(record: Record) -> str:
    names = [f.name for f in record.fields]
    parameters = ["self"]
    for f in record.fields:
        if f.factory:
            parameters.append(f"{f.name}=_FACTORY")
        elif f.default:
            parameters.append(f"{f.name}=_defaults[{f.name!r}]")
        else:
            parameters.append(f.name)
    body = []
    for f in record.fields:
        value = f"_factories[{f.name!r}]() if {f.name} is _FACTORY else {f.name}" if f.factory else f.name
        body.append(f"_setattr(self, {f.name!r}, {value})" if record.frozen else f"self.{f.name} = {value}")
    if record.post_init:
        body.append("self.__post_init__()")
    lines = [f"def {record.name}(_defaults, _factories):",
             f"    def __init__({', '.join(parameters)}):"]
    lines += [f"        {line}" for line in body or ["pass"]]
    methods = ["__init__"]
    if record.eq:
        mine = "".join(f"self.{name}, " for name in names)
        theirs = "".join(f"other.{name}, " for name in names)
        lines += ["", "    def __eq__(self, other):",
                  "        if other.__class__ is self.__class__:",
                  f"            return ({mine}) == ({theirs})",
                  "        return NotImplemented"]
        methods.append("__eq__")
        if record.frozen:
            lines += ["", "    def __hash__(self):", f"        return hash(({mine}))"]
            methods.append("__hash__")
    lines += ["", "    return {" + ", ".join(f"{name!r}: {name}" for name in methods) + "}"]
    return "\n".join(lines)


def generated_source(path: Path) -> str | None:
    """The generated module for one source module, or None when it holds no records."""
    found = records(path)
    if not found:
        return None
    fields = "".join(f"    {r.name!r}: ({tuple(f.name for f in r.fields)!r}, ({r.eq}, {r.frozen})),\n" for r in found)
    factories = any(f.factory for r in found for f in r.fields)
    return (f'"""Generated by tools/build_records.py from llmcalc/{path.name}: its records\' methods. Do not edit."""\n\n'
            + ("from llmcalc.records import FACTORY_DEFAULT as _FACTORY\n\n" if factories else "")
            + "_setattr = object.__setattr__\n\n"
            "# Each record: its fields in order, and (eq, frozen).\n"
            f"FIELDS = {{\n{fields}}}\n\n\n"
            + "\n\n\n".join(_methods(r) for r in found) + "\n")


def expected() -> dict[Path, str]:
    files = {GENERATED / "__init__.py": '"""Methods of llmcalc\'s records, written by tools/build_records.py."""\n'}
    for path in sorted(PACKAGE.glob("*.py")):
        source = generated_source(path)
        if source is not None:
            files[GENERATED / path.name] = source
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    check = parser.parse_args().check
    wanted = expected()
    present = set(GENERATED.glob("*.py"))
    stale = [path for path, text in wanted.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text] + sorted(present - set(wanted))
    if check:
        for path in stale:
            print(f"stale: {path.relative_to(PACKAGE.parent)}; run python tools/build_records.py", file=sys.stderr)
        return 1 if stale else 0
    GENERATED.mkdir(exist_ok=True)
    for path in present - set(wanted):
        path.unlink()
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
