"""Records (llmcalc/records.py) behave as the dataclasses they replaced, and their generated
methods are never stale."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from llmcalc.api import load_model
from llmcalc.errors import InvalidPart
from llmcalc.llama_quant import _State
from llmcalc.records import _build, record_defaults, replace
from llmcalc.scenario import Point
from llmcalc.spec import Attention
from llmcalc.terms import Term

ROOT = Path(__file__).resolve().parent.parent


def test_generated_methods_are_current() -> None:
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "build_records.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def _dataclass_twin(cls: type, **options: bool) -> type:
    """The same fields under @dataclass, the behaviour a record must match."""
    specs = [(f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory))
             for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, specs, **options)


def test_a_frozen_record_is_a_frozen_dataclass() -> None:
    gqa = Attention(num_heads=32, num_kv_heads=8, head_dim=128)
    twin = _dataclass_twin(Attention, frozen=True)(num_heads=32, num_kv_heads=8, head_dim=128)
    assert repr(gqa) == repr(twin)
    assert dataclasses.is_dataclass(gqa) and dataclasses.asdict(gqa) == dataclasses.asdict(twin)
    assert [f.name for f in dataclasses.fields(gqa)] == [f.name for f in dataclasses.fields(twin)]
    same = Attention(num_heads=32, num_kv_heads=8, head_dim=128)
    assert gqa == same and hash(gqa) == hash(same) and gqa is not same
    assert gqa != dataclasses.replace(gqa, qk_norm="head") and gqa != twin
    assert dataclasses.replace(gqa, num_kv_heads=1).layout == "MQA"
    with pytest.raises(dataclasses.FrozenInstanceError):
        gqa.num_heads = 64  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del gqa.num_heads  # type: ignore[misc]
    assert Attention.__match_args__ == tuple(f.name for f in dataclasses.fields(Attention))
    assert Attention.cache_kind == "kv" and "cache_kind" not in Attention.__dataclass_fields__  # a ClassVar


def test_post_init_runs() -> None:
    with pytest.raises(InvalidPart):
        Attention(num_heads=32, num_kv_heads=5, head_dim=128)  # 5 does not divide 32


def test_eq_false_compares_identity_and_factories_give_fresh_values() -> None:
    first, second = Term(key="a", label="a", value=1), Term(key="a", label="a", value=1)
    assert first != second and len({first, second}) == 2
    assert first.bindings == {} and first.bindings is not second.bindings
    assert dataclasses.replace(first, value=2).value == 2


def test_a_mutable_record_can_be_assigned() -> None:
    state = _State()
    state.n_attention_wv += 1
    assert state.n_attention_wv == 1 and _State().n_attention_wv == 0


def test_a_record_out_of_step_with_its_generated_methods_fails_at_import() -> None:
    class Attention:  # the real one's name and module, with a field it never had
        __module__ = "llmcalc.spec"
        __annotations__ = {"num_heads": "int", "rotary_base": "int"}

    with pytest.raises(TypeError, match="build_records.py"):
        _build(Attention, eq=True, frozen=True)


def test_replace_is_dataclasses_replace() -> None:
    """llmcalc copies records with records.replace, which makes no Field objects."""
    gqa = Attention(num_heads=32, num_kv_heads=8, head_dim=128, sliding_window=4096)
    term = Term(key="a", label="a", value=1, bindings={"H": 2})
    spec = load_model("mistral-7b")
    layer = spec.stacks[0].layers[0]
    for value, changes in [(gqa, {"sliding_window": None}), (gqa, {}), (term, {"value": 3}),
                           (layer, {"mixer": replace(gqa, num_kv_heads=1)}), (spec, {"reference": None})]:
        ours, theirs = replace(value, **changes), dataclasses.replace(value, **changes)
        assert type(ours) is type(theirs) and repr(ours) == repr(theirs)
        assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    with pytest.raises(InvalidPart):  # checked by the record's __post_init__, as dataclasses.replace does
        replace(gqa, num_kv_heads=5)
    with pytest.raises(TypeError):
        replace(gqa, no_such_field=1)


def test_fields_are_made_when_first_asked_for() -> None:
    """A record's Field objects are not made at import; the first question makes them, once,
    and they are what a dataclass would have (defaults, factories)."""
    code = ("import sys\nfrom llmcalc.terms import Term\nfrom llmcalc.scenario import Point\n"
            "print('dataclasses' in sys.modules, type(Point.__dict__['__dataclass_fields__']).__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "_Fields"]
    fields = dataclasses.fields(Term)
    assert dataclasses.fields(Term) == fields and type(Term.__dict__["__dataclass_fields__"]) is dict
    by_name = {f.name: f for f in fields}
    assert by_name["bindings"].default_factory is dict and by_name["repeat"].default == 1
    assert not hasattr(Term, "bindings") and Term.repeat == 1  # as a dataclass: a factory is no class attribute
    assert by_name["key"].default is dataclasses.MISSING and by_name["key"].default_factory is dataclasses.MISSING
    assert record_defaults(Term) == {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    assert dataclasses.is_dataclass(Point) and "tokens" in {f.name for f in dataclasses.fields(Point)}
