"""Records: dataclasses whose methods were written when the package was built, not at import.

`@dataclass` writes and compiles each class's `__init__`, `__repr__`, `__eq__`, `__hash__` and
frozen `__setattr__` every time its module is imported: about a millisecond a class, which made
it the largest share of llmcalc's own start-up (benchmarks/startup.py). A record's methods are
written once by `tools/build_records.py` into `llmcalc/_generated/<module>.py`, which Python
compiles into its bytecode cache like any module, so importing a record costs a function call;
its `__repr__` is one function for all (the one @dataclass writes, reading the fields' names).
Its `dataclasses.Field` objects are made the first time anything asks for them (`fields`,
`replace`, `asdict`, `is_dataclass`), and llmcalc copies a record with this module's `replace`,
so a run imports no `dataclasses` (about 0.6 ms where Rich is not imported: `--json`).

A record is a dataclass to everything that asks: `dataclasses.fields`, `replace`, `asdict` and
`is_dataclass` work; equality and hashing are by fields (identity with `eq=False`); assigning to
a frozen record raises `dataclasses.FrozenInstanceError`; `__post_init__` runs after `__init__`.
A field with a default factory is declared with this module's `field(default_factory=...)`.
A class whose fields no longer match the generated methods fails at import, naming the tool to
run, and a test fails when the generated files are stale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:  # type checkers read a record as the frozen dataclass it behaves as
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**options: Any) -> Callable[[Any], Any]:
        return lambda function: function

Record = TypeVar("Record", bound=type)
Value = TypeVar("Value")

# The default of a parameter whose field has a default_factory: the generated __init__ calls
# the factory when it sees this (as dataclasses do).
FACTORY_DEFAULT: Any = object()
_NO_DEFAULT = object()


class _Factory:
    """What `field(default_factory=...)` leaves in a class body until `@record` reads it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Value]) -> Value:
    """`dataclasses.field(default_factory=...)` for a record."""
    return _Factory(default_factory)  # type: ignore[return-value]


@overload
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: Record, /) -> Record: ...


@overload
def record(*, eq: bool = True, frozen: bool = True) -> Callable[[Record], Record]: ...


def record(cls: Any = None, /, *, eq: bool = True, frozen: bool = True) -> Any:
    """`@record` is `@dataclass(frozen=True)`; `@record(eq=False)` compares by identity;
    `frozen=False` allows assignment."""

    def wrap(cls: Record) -> Record:
        return _build(cls, eq, frozen)

    return wrap if cls is None else wrap(cls)


def replace(obj: Value, /, **changes: Any) -> Value:
    """`dataclasses.replace` for a record (every field is an __init__ parameter): a copy with
    `changes`, built and checked by the record's own __init__, without making its Fields."""
    names: tuple[str, ...] = getattr(type(obj), "__match_args__")
    return type(obj)(**{name: getattr(obj, name) for name in names} | changes)


def record_defaults(cls: type) -> Mapping[str, Any]:
    """A record's fields with a default value (not a factory), and their defaults."""
    return cls.__dict__["__record_defaults__"]  # type: ignore[no-any-return]


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
    for name in names:
        value = cls.__dict__.get(name, _NO_DEFAULT)
        if isinstance(value, _Factory):  # not a class attribute, as with dataclasses
            delattr(cls, name)
            factories[name] = value.make
        elif value is not _NO_DEFAULT:
            defaults[name] = value
    setattr(cls, "__dataclass_fields__", _Fields(cls, names, annotations, defaults, factories))
    setattr(cls, "__record_defaults__", MappingProxyType(defaults))
    setattr(cls, "__match_args__", names)
    for method_name, method in getattr(generated, cls.__qualname__)(defaults, factories).items():
        method.__qualname__ = f"{cls.__qualname__}.{method_name}"
        setattr(cls, method_name, method)
    setattr(cls, "__repr__", _repr)
    if eq and not frozen:  # as dataclasses: a mutable value with field equality is unhashable
        setattr(cls, "__hash__", None)
    if frozen:
        setattr(cls, "__setattr__", _frozen_setattr)
        setattr(cls, "__delattr__", _frozen_delattr)
    return cls


def _repr(self: object) -> str:
    """The repr @dataclass writes, one for every record: a repr written per record was a third of
    the generated code (41 KB of bytecode), loaded by every run and read by none but a debugger."""
    names: tuple[str, ...] = type(self).__match_args__  # type: ignore[attr-defined]
    return f"{type(self).__qualname__}({', '.join(f'{name}={getattr(self, name)!r}' for name in names)})"


class _Fields:
    """A record's `__dataclass_fields__` until first read: then the `dataclasses.Field` of each
    field, put on the class in its place."""

    def __init__(self, owner: type, names: tuple[str, ...], annotations: dict[str, Any], defaults: dict[str, Any],
                 factories: dict[str, Callable[[], Any]]) -> None:
        self.owner, self.names, self.annotations = owner, names, annotations
        self.defaults, self.factories = defaults, factories

    def __get__(self, instance: object, owner: type) -> dict[str, Any]:
        import dataclasses

        fields: dict[str, dataclasses.Field[Any]] = {}
        for name in self.names:
            if name in self.factories:
                spec: dataclasses.Field[Any] = dataclasses.field(default_factory=self.factories[name])
            else:
                spec = dataclasses.field(default=self.defaults.get(name, dataclasses.MISSING))
            spec.name, spec.type = name, self.annotations[name]
            spec._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # what fields() and replace() look for
            fields[name] = spec
        setattr(self.owner, "__dataclass_fields__", fields)
        return fields


def _frozen_setattr(self: object, name: str, value: object) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot delete field {name!r}")
