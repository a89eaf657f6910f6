"""What is being asked about a model, and every default and warning for it, in one place.

A `Scenario` is what the user gave (None: "use the default"); `resolve` turns it into the
concrete `Point`s a command computes, each saying which dtype it used and why, plus the
warnings. kvcache, explain and compare all resolve through here, so the same model and
options give the same bytes everywhere.

The rules:
- tokens: `--seq`, else the model's context length, else 4,096; `compare` uses the
  shortest context length among its models (one token count for all, so the ratios
  compare like with like), else 4,096.
- cache dtype: `--dtype`, else the checkpoint's `torch_dtype`, else bf16. The cache holds
  activations, which a weight-only quantization leaves in the model's dtype (vLLM's
  `kv_cache_dtype="auto"` does the same).
- weight dtype: `--weights-dtype`, else the checkpoint's quantization, else its
  `torch_dtype`, else bf16.
- encoder tokens (cross-attention): `--encoder-seq`, else the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llmcalc.errors import UsageError
from llmcalc.memory import DTYPES, DType, parse_dtype
from llmcalc.spec import ModelSpec

DEFAULT_TOKENS = 4096
DEFAULT_DTYPE = DTYPES["bf16"]
# Far beyond any context or batch anyone runs; larger is a typo that would only print
# absurd numbers.
MAX_SIZE = 2**40

SIZE_SUFFIXES = {"k": 2**10, "m": 2**20}
SIZE_FORMS = "a positive whole number, optionally with k (×1024) or m (×1048576): 4096, 4k, 32K, 1m"


def parse_sizes(option: str, text: str) -> tuple[int, ...]:
    """`4096`, `4k`, `32K`, `1m`, or a comma list of them."""
    sizes = []
    for item in text.split(","):
        word = item.strip().lower()
        factor = SIZE_SUFFIXES.get(word[-1:], 1) if word else 1
        digits = word[:-1] if factor > 1 else word
        # isascii: str.isdigit() also accepts digits such as ² that int() refuses.
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 15 or int(digits) <= 0:
            raise UsageError(f"{option} {item.strip()!r}: expected {SIZE_FORMS}, or a comma list of them")
        size = int(digits) * factor
        if size > MAX_SIZE:
            raise UsageError(f"{option} {item.strip()!r}: at most {MAX_SIZE:,}")
        sizes.append(size)
    return tuple(sizes)


@dataclass(frozen=True, eq=False)
class Choice:
    """A dtype and why it was used: `flag`, `torch_dtype`, `quantization` or `default`."""

    dtype: DType
    source: str

    def __str__(self) -> str:
        return f"{self.dtype.name} ({self.source})"


@dataclass(frozen=True, eq=False)
class Point:
    """One concrete question: this many tokens and sequences, at these precisions."""

    tokens: int
    batch: int
    encoder_tokens: int
    cache_dtype: Choice
    weight_dtype: Choice
    windows: bool = True


@dataclass(frozen=True, eq=False)
class Scenario:
    """What was asked, as given; None means the documented default."""

    tokens: Optional[tuple[int, ...]] = None
    batches: tuple[int, ...] = (1,)
    cache_dtype: Optional[DType] = None
    weight_dtype: Optional[DType] = None
    windows: bool = True
    encoder_tokens: Optional[int] = None

    @classmethod
    def parse(cls, seq: Optional[str] = None, batch: Optional[str] = None, dtype: Optional[str] = None,
              weights_dtype: Optional[str] = None, windows: bool = True, encoder_seq: Optional[str] = None,
              sweep: bool = False) -> Scenario:
        """From command-line text; `sweep` allows comma lists of sizes."""
        tokens = parse_sizes("--seq", seq) if seq is not None else None
        batches = parse_sizes("--batch", batch) if batch is not None else (1,)
        for option, sizes in (("--seq", tokens or ()), ("--batch", batches)):
            if len(sizes) > 1 and not sweep:
                raise UsageError(f"{option} takes one size here, got {len(sizes)}")
        encoder = parse_sizes("--encoder-seq", encoder_seq) if encoder_seq is not None else None
        if encoder is not None and len(encoder) != 1:
            raise UsageError(f"--encoder-seq takes one size, got {len(encoder)}")
        return cls(
            tokens=tokens,
            batches=batches,
            cache_dtype=parse_dtype(dtype) if dtype is not None else None,
            weight_dtype=parse_dtype(weights_dtype) if weights_dtype is not None else None,
            windows=windows,
            encoder_tokens=encoder[0] if encoder else None,
        )

    def resolve(self, spec: ModelSpec) -> tuple[list[Point], list[str]]:
        """Every (tokens, batch) point for this model, and the warnings to show."""
        if self.tokens is not None:
            tokens = self.tokens
        else:
            tokens = (spec.context_length or DEFAULT_TOKENS,)
        return self._points(spec, tokens), _context_warnings(spec, tokens)

    def resolve_together(self, specs: list[ModelSpec]) -> tuple[list[Point], list[str]]:
        """One point per model, all at the same tokens (compare)."""
        if self.tokens is not None:
            tokens = self.tokens[0]
        else:
            contexts = [spec.context_length for spec in specs if spec.context_length]
            tokens = min(contexts) if contexts else DEFAULT_TOKENS
        points = [self._points(spec, (tokens,))[0] for spec in specs]
        warnings = [warning for spec in specs for warning in _context_warnings(spec, (tokens,))]
        return points, warnings

    def _points(self, spec: ModelSpec, tokens: tuple[int, ...]) -> list[Point]:
        cache = self._cache_dtype(spec)
        weights = self._weight_dtype(spec)
        return [Point(tokens=count, batch=batch, cache_dtype=cache, weight_dtype=weights, windows=self.windows,
                      encoder_tokens=count if self.encoder_tokens is None else self.encoder_tokens)
                for count in tokens for batch in self.batches]

    def _cache_dtype(self, spec: ModelSpec) -> Choice:
        if self.cache_dtype is not None:
            return Choice(self.cache_dtype, "--dtype")
        if spec.torch_dtype is not None:
            return Choice(spec.torch_dtype, "torch_dtype")
        return Choice(DEFAULT_DTYPE, "default")

    def _weight_dtype(self, spec: ModelSpec) -> Choice:
        if self.weight_dtype is not None:
            return Choice(self.weight_dtype, "--weights-dtype")
        if spec.quantization is not None:
            return Choice(spec.quantization, "quantization")
        if spec.torch_dtype is not None:
            return Choice(spec.torch_dtype, "torch_dtype")
        return Choice(DEFAULT_DTYPE, "default")


def _context_warnings(spec: ModelSpec, tokens: tuple[int, ...]) -> list[str]:
    context = spec.context_length
    return [f"{count:,} tokens exceed {spec.name}'s context length of {context:,}"
            for count in tokens if context and count > context]


def point(spec: ModelSpec, tokens: int, batch: int = 1, cache_dtype: Optional[DType] = None,
          windows: bool = True, encoder_tokens: Optional[int] = None) -> Point:
    """One point resolved as any command resolves it: the library's shortcut."""
    scenario = Scenario(tokens=(tokens,), batches=(batch,), cache_dtype=cache_dtype, windows=windows,
                        encoder_tokens=encoder_tokens)
    return scenario.resolve(spec)[0][0]
