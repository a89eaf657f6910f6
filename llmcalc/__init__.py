"""llmcalc: exact parameter counts and memory sizes of transformer language models."""

__version__ = "0.1.0"
