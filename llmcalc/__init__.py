"""llmcalc: exact parameter counts and memory sizes of transformer language models.

The names below are the public API (`llmcalc.api`, documented in the README); they are imported
on first use, so `import llmcalc` costs next to nothing.
"""

from __future__ import annotations

# Not `typing.TYPE_CHECKING`: the console script imports this package before its launcher turns
# the cyclic collector off, and importing `typing` here rather than later, with Typer, cost the
# collections it set off: about half a millisecond a run (interleaved runs with and without).
TYPE_CHECKING = False

__version__ = "0.1.0"

# Public name → the module that defines it.
_EXPORTS = {
    "load_model": "llmcalc.api",
    "count_params": "llmcalc.api",
    "kv_cache": "llmcalc.api",
    "kv_caches": "llmcalc.api",
    "compare_models": "llmcalc.api",
    "quantize": "llmcalc.api",
    "quantize_all": "llmcalc.api",
    "fit_model": "llmcalc.api",
    "plan_training": "llmcalc.api",
    "ModelWarning": "llmcalc.api",
    "ModelSpec": "llmcalc.spec",
    "ParamCount": "llmcalc.params",
    "CacheSize": "llmcalc.kvcache",
    "Comparison": "llmcalc.compare",
    "QuantSize": "llmcalc.quant",
    "NotApplicable": "llmcalc.quant",
    "Fit": "llmcalc.fit",
    "TrainResult": "llmcalc.train",
    "Term": "llmcalc.terms",
    "LlmcalcError": "llmcalc.errors",
    "UsageError": "llmcalc.errors",
    "SpecError": "llmcalc.errors",
    "UnknownModelError": "llmcalc.errors",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from typing import Any

    from llmcalc.api import (ModelWarning, compare_models, count_params, fit_model, kv_cache, kv_caches,
                             load_model, plan_training, quantize, quantize_all)
    from llmcalc.compare import Comparison
    from llmcalc.errors import LlmcalcError, SpecError, UnknownModelError, UsageError
    from llmcalc.fit import Fit
    from llmcalc.kvcache import CacheSize
    from llmcalc.params import ParamCount
    from llmcalc.quant import NotApplicable, QuantSize
    from llmcalc.spec import ModelSpec
    from llmcalc.terms import Term
    from llmcalc.train import TrainResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmcalc' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
