"""Records: dataclasses whose methods were written when the package was built, not at import.

`@dataclass` writes and compiles each class's `__init__`, `__repr__`, `__eq__`, `__hash__` and
frozen `__setattr__` every time its module is imported: about a millisecond a class, which made
it the largest share of llmcalc's own start-up (benchmarks/startup.py). A record's methods are
written once by `tools/build_records.py` into `llmcalc/_generated/<module>.py`, which Python
compiles into its bytecode cache like any module, so importing a record costs a function call.

A record is a dataclass to everything that asks: `dataclasses.fields`, `replace`, `asdict` and
`is_dataclass` work; equality and hashing are by fields (identity with `eq=False`); assigning to
a frozen record raises `dataclasses.FrozenInstanceError`; `__post_init__` runs after `__init__`.
A class whose fields no longer match the generated methods fails at import, naming the tool to
run, and a test fails when the generated files are stale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:  # type checkers read a record as the frozen dataclass it behaves as
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**options: Any) -> Callable[[Any], Any]:
        return lambda function: function

Record = TypeVar("Record", bound=type)

# The default of a parameter whose field has a default_factory: the generated __init__ calls
# the factory when it sees this (as dataclasses do).
FACTORY_DEFAULT: Any = object()


@overload
@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: Record, /) -> Record: ...


@overload
def record(*, eq: bool = True, frozen: bool = True) -> Callable[[Record], Record]: ...


def record(cls: Any = None, /, *, eq: bool = True, frozen: bool = True) -> Any:
    """`@record` is `@dataclass(frozen=True)`; `@record(eq=False)` compares by identity;
    `frozen=False` allows assignment."""

    def wrap(cls: Record) -> Record:
        return _build(cls, eq, frozen)

    return wrap if cls is None else wrap(cls)


def _build(cls: Record, eq: bool, frozen: bool) -> Record:
    module = cls.__module__.rpartition(".")[2]
    generated = import_module(f"llmcalc._generated.{module}")
    names, options = generated.FIELDS.get(cls.__qualname__, ((), None))
    annotations = cls.__dict__.get("__annotations__", {})
    declared = tuple(name for name, kind in annotations.items() if "ClassVar" not in str(kind).partition("[")[0])
    if declared != names or options != (eq, frozen):
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} differs from llmcalc/_generated/{module}.py: "
                        "run python tools/build_records.py")
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    fields: dict[str, dataclasses.Field[Any]] = {}
    for name in names:
        value = cls.__dict__.get(name, dataclasses.MISSING)
        if isinstance(value, dataclasses.Field):  # field(default_factory=...): not a class attribute
            spec = value
            delattr(cls, name)
            if spec.default_factory is not dataclasses.MISSING:
                factories[name] = spec.default_factory
            elif spec.default is not dataclasses.MISSING:
                defaults[name] = spec.default
                setattr(cls, name, spec.default)
        else:
            spec = dataclasses.field(default=value)
            if value is not dataclasses.MISSING:
                defaults[name] = value
        spec.name, spec.type = name, annotations[name]
        spec._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # what fields() and replace() look for
        fields[name] = spec
    setattr(cls, "__dataclass_fields__", fields)
    setattr(cls, "__match_args__", names)
    for method_name, method in getattr(generated, cls.__qualname__)(defaults, factories).items():
        method.__qualname__ = f"{cls.__qualname__}.{method_name}"
        setattr(cls, method_name, method)
    if eq and not frozen:  # as dataclasses: a mutable value with field equality is unhashable
        setattr(cls, "__hash__", None)
    if frozen:
        setattr(cls, "__setattr__", _frozen_setattr)
        setattr(cls, "__delattr__", _frozen_delattr)
    return cls


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
