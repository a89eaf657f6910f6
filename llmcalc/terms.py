"""The one structure every command renders: a tree of Terms.

A leaf's value is computed by evaluating its own formula with its bindings, so the
formula a user reads and the number they are shown cannot disagree. A parent's value
is the sum of its children's totals; nothing is computed twice.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any

from llmcalc.records import field, record, record_defaults

# Why a component that exists has no parameters: shared with the embedding, absent, or a
# norm without weights.
ZERO_REASONS = ("tied", "none", "non-parametric")

# Patterns compiled on first use (by re's own cache): most runs never write a formula with its values.
_SYMBOL = r"[A-Za-z_][A-Za-z_0-9]*"
# Symbols the formulas use for multiplication; evaluation maps them to Python's `*`.
_TIMES = ("×", "·")


def evaluate(formula: str, bindings: Mapping[str, int]) -> int:
    """Evaluate an integer formula such as ``"H × (n_kv × d)"``.

    Only names, integer literals, parentheses, +, -, × and exact division / are
    allowed: these are formulas written in this package, and the restriction keeps them
    exact (a division that leaves a remainder is an error, not a rounding).
    """
    try:
        return eval(_compiled(formula), _EVAL_GLOBALS, bindings)  # noqa: S307 - checked by _compiled
    except _InexactDivision as exc:
        raise ValueError(f"{exc} is not exact in formula {formula!r}") from None
    except NameError as exc:
        raise KeyError(exc.name) from None


class _InexactDivision(ArithmeticError):
    pass


def _exact_division(left: int, right: int) -> int:
    if right == 0 or left % right:
        raise _InexactDivision(f"{left} / {right}")
    return left // right


# Nothing but the division helper is reachable from a formula: no builtins.
_EVAL_GLOBALS = {"__builtins__": {}, "_exact_division": _exact_division}


@lru_cache(maxsize=None)
def _compiled(formula: str) -> CodeType:
    """The formula checked once (names, integers, + - × /) and compiled, division made exact.

    Evaluating the compiled code is several times faster than walking the syntax tree at
    every call, which is what a sweep over thousands of configs does.
    """
    source = formula
    for symbol in _TIMES:
        source = source.replace(symbol, "*")
    tree = ast.parse(source, mode="eval")

    def check(node: ast.AST) -> ast.expr:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            left, right = check(node.left), check(node.right)
            if isinstance(node.op, ast.Div):
                return ast.Call(func=ast.Name(id="_exact_division", ctx=ast.Load()), args=[left, right], keywords=[])
            return ast.BinOp(left=left, op=node.op, right=right)
        if isinstance(node, ast.Name) and not node.id.startswith("_"):
            return ast.Name(id=node.id, ctx=ast.Load())
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return ast.Constant(value=node.value)
        raise ValueError(f"unsupported expression in formula {formula!r}")

    expression = ast.fix_missing_locations(ast.Expression(body=check(tree.body)))
    return compile(expression, f"<formula {formula}>", "eval")


@record(eq=False)
class Term:
    """One component of a count.

    ``value`` is for one instance; ``repeat`` says how many identical instances there
    are (layers, experts), so ``total = value × repeat``. ``used`` says how many of those
    instances one token passes through when that is fewer (the top-k of a layer's routed
    experts); ``reason`` says why a component that exists holds no parameters.
    """

    key: str
    label: str
    value: int
    formula: str = ""
    bindings: Mapping[str, int] = field(default_factory=dict)
    repeat: int = 1
    children: tuple[Term, ...] = ()
    note: str = ""
    used: int | None = None  # instances of `repeat` one token uses; None: all of them
    reason: str = ""  # one of ZERO_REASONS for a component with no parameters of its own
    estimate: str = ""  # an estimate's value: where its formula comes from ("" for an exact figure)

    @property
    def total(self) -> int:
        return self.value * self.repeat

    @property
    def active(self) -> int:
        """What one token uses of this term: every instance but the experts it is not routed to."""
        per_instance = sum(child.active for child in self.children) if self.children else self.value
        return per_instance * (self.repeat if self.used is None else self.used)

    @property
    def substituted(self) -> str:
        """The formula with each symbol replaced by its value: `4,096 × (8 × 128)`."""
        return re.sub(_SYMBOL, lambda m: f"{self.bindings[m.group()]:,}" if m.group() in self.bindings
                      else m.group(), self.formula)

    def walk(self, prefix: str = "", multiplier: int = 1) -> Iterator[tuple[str, Term, int]]:
        """Yield (dotted path, term, instances of this term in the whole model)."""
        path = f"{prefix}.{self.key}" if prefix else self.key
        instances = multiplier * self.repeat
        yield path, self, instances
        for child in self.children:
            yield from child.walk(path, instances)

    def leaves(self, prefix: str = "") -> Iterator[tuple[str, Term, int]]:
        for path, term, instances in self.walk(prefix):
            if not term.children:
                yield path, term, instances


@lru_cache(maxsize=None)
def _symbols(formula: str) -> frozenset[str]:
    """The names the formula reads: its compiled code's, but the division helper's."""
    return frozenset(_compiled(formula).co_names) - {"_exact_division"}


_LAYER_GROUP = r"\.?layers\.[^.]+"


def component_totals(root: Term) -> dict[str, Term | int]:
    """Each component's total over all its instances, with layer groups merged.

    `decoder.layers.0-2.ffn.up_proj` and `decoder.layers.3-60.ffn.up_proj` both count
    towards `decoder.ffn.up_proj`. Keys keep the order in which they first appear. A
    component whose only instance has no parameters (a tied head) maps to its Term,
    so that callers can show its note instead of a 0.
    """
    totals: dict[str, Term | int] = {}
    for path, term, instances in root.leaves():
        key = re.sub(_LAYER_GROUP, "", path.removeprefix(f"{root.key}.")).lstrip(".")
        if term.reason:
            totals.setdefault(key, term)
            continue
        previous = totals.get(key, 0)
        totals[key] = (previous if isinstance(previous, int) else 0) + term.value * instances
    return totals


_TERM_DEFAULTS = dict(record_defaults(Term))  # a dict: dict.update from a dict is the fast path


def _fast_term(**values: Any) -> Term:
    """The Term that `Term(**values)` builds, without the frozen dataclass `__init__`'s
    `object.__setattr__` per field: a count builds a few dozen Terms, a sweep millions.
    Only for the constructors below, which always pass `bindings` when it is not empty."""
    term: Term = object.__new__(Term)
    state = term.__dict__
    state.update(_TERM_DEFAULTS)
    state["bindings"] = {}
    state.update(values)
    return term


def leaf(key: str, label: str, formula: str, bindings: Mapping[str, int], note: str = "") -> Term:
    """A component whose value is its formula evaluated; it keeps only the symbols it uses."""
    used = _symbols(formula)
    return _fast_term(
        key=key,
        label=label,
        value=evaluate(formula, bindings),
        formula=formula,
        bindings={name: value for name, value in bindings.items() if name in used},
        note=note,
    )


def absent(key: str, label: str, reason: str, note: str) -> Term:
    """A component that exists but holds no parameters of its own, and why."""
    if reason not in ZERO_REASONS:
        raise ValueError(f"reason {reason!r} is not one of {ZERO_REASONS}")
    return _fast_term(key=key, label=label, value=0, note=note, reason=reason)


def group(
    key: str, label: str, children: tuple[Term, ...] | list[Term], repeat: int = 1, note: str = "",
    used: int | None = None,
) -> Term:
    kids = tuple(children)
    return _fast_term(
        key=key,
        label=label,
        value=sum(child.total for child in kids),
        repeat=repeat,
        children=kids,
        note=note,
        used=used,
    )
