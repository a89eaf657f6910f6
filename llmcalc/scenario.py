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

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from llmcalc.errors import UsageError
from llmcalc.memory import DTYPES, DType, parse_dtype
from llmcalc.spec import ModelSpec

if TYPE_CHECKING:  # data a Deployment holds; imported where a Deployment is parsed
    from llmcalc.gpus import GPU

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


# --- where the model runs: GPUs, parallelism, runtime (`fit`) ---------------------------------------

RUNTIMES = ("vllm", "llamacpp", "transformers")
# The vLLM whose rules fit follows (vllm/config/cache.py, v1/kv_cache_interface.py, engine/arg_utils.py).
VLLM_REVISION = "vLLM 0.21 (upstream 9aaf83ef5, 2026-05-19)"
# `--gpu-memory-utilization` default: the share of each GPU's memory vLLM may use; 0.92 since
# vLLM 0.21 (PR #38284, which also began subtracting CUDA graphs before sizing the cache), 0.9 before.
VLLM_GPU_MEMORY_UTILIZATION = 0.92
# The roofline's default: peak bandwidth and peak throughput, an upper bound on speed.
DEFAULT_EFFICIENCY = 1.0

_BYTE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*")


def parse_amount(option: str, text: str, units: dict[str, int], forms: str) -> int:
    """`24GiB`, `3.35TB/s`, `989T`: a positive amount in whole units (bytes, bytes/s, FLOP/s)."""
    match = _AMOUNT.fullmatch(text.lower().removesuffix("/s").removesuffix("flops").removesuffix("flop"))
    unit = units.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise UsageError(f"{option} {text!r}: expected {forms}")
    value = int(Decimal(match.group(1)) * unit)
    if value <= 0:
        raise UsageError(f"{option} {text!r}: must be more than zero")
    return value


def parse_bytes(option: str, text: str) -> int:
    return parse_amount(option, text, _BYTE_UNITS, "a size with its unit: 24GiB, 80GB, 512MiB (GB = 10^9 bytes, "
                                                   "GiB = 2^30)")


def parse_bandwidth(option: str, text: str) -> int:
    return parse_amount(option, text, _BYTE_UNITS, "bytes per second with a unit: 936GB/s, 3.35TB/s")


def parse_flops(option: str, text: str) -> int:
    return parse_amount(option, text, _COUNT_UNITS, "operations per second: 165T, 989e12, 1.98P")


def parse_share(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise UsageError(f"{option} {text!r}: expected a share between 0 (excluded) and 1, such as 0.9")
    return value


@dataclass(frozen=True, eq=False)
class Deployment:
    """Where and how the model runs, every default resolved (`fit`).

    - gpus: `--gpus`, else `--tp` × `--pp`, else 1. tp: `--tp`, else gpus ÷ pp for vLLM (it
      splits every layer across the GPUs of a node); llama.cpp and transformers split by layers
      only (tp 1, the GPUs are pipeline stages). pp: `--pp`, else gpus ÷ tp.
    - runtime: `--runtime`, else llamacpp for a GGUF format, else vllm.
    - format: `--format`, else the checkpoint's as published (`checkpoint_format`), else the
      weight dtype of the Scenario (for llama.cpp: the GGUF mix of that dtype). `parse` takes a
      canonical format name (`quant.find_format` turns what a user typed into one).
    """

    gpu: GPU
    gpus: int
    tp: int
    pp: int
    expert_parallel: bool
    runtime: str
    runtime_source: str
    format: Optional[str]
    gpu_utilization: float
    efficiency: float

    @classmethod
    def parse(cls, gpu: Optional[str] = None, gpus: Optional[int] = None, tp: Optional[int] = None,
              pp: Optional[int] = None, expert_parallel: bool = False, runtime: Optional[str] = None,
              weight_format: Optional[str] = None, gpu_memory: Optional[str] = None,
              bandwidth: Optional[str] = None, flops: Optional[str] = None,
              gpu_utilization: Optional[str] = None, efficiency: Optional[str] = None) -> Deployment:
        from llmcalc.gpus import custom_gpu, find_gpu
        from llmcalc.llama_quant import MIXES

        if gpu is None and gpu_memory is None:
            raise UsageError("fit needs a GPU: --gpu NAME (`llmcalc gpus` lists them), or --gpu-memory and "
                             "--bandwidth for one not in the catalogue")
        device = find_gpu(gpu) if gpu is not None else None
        device = custom_gpu(device,
                            parse_bytes("--gpu-memory", gpu_memory) if gpu_memory is not None else None,
                            parse_bandwidth("--bandwidth", bandwidth) if bandwidth is not None else None,
                            parse_flops("--flops", flops) if flops is not None else None)
        for option, value in (("--gpus", gpus), ("--tp", tp), ("--pp", pp)):
            if value is not None and not 1 <= value <= 4096:
                raise UsageError(f"{option} {value}: expected a whole number from 1 to 4,096")
        chosen = weight_format
        if runtime is not None and runtime not in RUNTIMES:
            raise UsageError(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
        if runtime is not None:
            name, source = runtime, "--runtime"
        elif chosen in MIXES:
            name, source = "llamacpp", "a GGUF format runs on llama.cpp"
        else:
            name, source = "vllm", "default"
        if chosen is not None and (chosen in MIXES) != (name == "llamacpp"):
            raise UsageError(f"--format {chosen} is a {'GGUF mix' if chosen in MIXES else 'safetensors format'}: "
                             f"{'llama.cpp runs GGUF files' if chosen in MIXES else 'llama.cpp runs GGUF mixes'}"
                             f" — use --runtime {'llamacpp' if chosen in MIXES else 'vllm or transformers'}")
        splits_layers_only = name != "vllm"
        if splits_layers_only and tp not in (None, 1):
            raise UsageError(f"--tp {tp}: {name} splits a model across GPUs by layers (use --gpus or --pp)")
        tp_degree = tp or (1 if splits_layers_only else (gpus or 1) // (pp or 1)) or 1
        pp_degree = pp or max(1, (gpus or tp_degree) // tp_degree)
        count = gpus or tp_degree * pp_degree
        if tp_degree * pp_degree != count:
            raise UsageError(f"--gpus {count} is not --tp {tp_degree} × --pp {pp_degree}")
        if name == "transformers" and count > 1:
            raise UsageError("--runtime transformers is modelled on one GPU (device_map placement across GPUs "
                             "is not); use --runtime vllm for several")
        if expert_parallel and name != "vllm":
            raise UsageError(f"--expert-parallel is vLLM's; {name} does not shard experts")
        return cls(gpu=device, gpus=count, tp=tp_degree, pp=pp_degree, expert_parallel=expert_parallel,
                   runtime=name, runtime_source=source, format=chosen,
                   gpu_utilization=(parse_share("--gpu-util", gpu_utilization) if gpu_utilization is not None
                                    else VLLM_GPU_MEMORY_UTILIZATION),
                   efficiency=parse_share("--efficiency", efficiency) if efficiency is not None
                   else DEFAULT_EFFICIENCY)

    def runtime_point(self, point: Point) -> Point:
        """The point as the runtime stores its cache: llama.cpp's -ctk/-ctv default is f16 whatever the
        model's dtype (vLLM's kv_cache_dtype "auto" is the model's, as the Scenario already says)."""
        if self.runtime == "llamacpp" and point.cache_dtype.source != "--dtype":
            return replace(point, cache_dtype=Choice(DTYPES["fp16"], "llama.cpp's -ctk/-ctv default"))
        return point

    def weight_format(self, spec: ModelSpec, weight_dtype: Choice) -> tuple[Optional[str], str]:
        """(format name or None for plain `weight_dtype`, why)."""
        if self.format is not None:
            return self.format, "--format"
        if self.runtime == "llamacpp":
            mix = {"bf16": "bf16", "fp16": "f16", "fp32": "f32"}.get(weight_dtype.dtype.name)
            if mix is None:
                raise UsageError(f"llama.cpp runs GGUF files: give --format (q4_k_m, q8_0, ...) for "
                                 f"{weight_dtype.dtype.name} weights")
            return mix, f"the GGUF mix of {weight_dtype}"
        if spec.checkpoint_format and self.format is None and weight_dtype.source != "--weights-dtype":
            return spec.checkpoint_format, "checkpoint_format (as published)"
        return None, weight_dtype.source


def vllm_batch_defaults(gpu: GPU) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) as `vllm serve` picks them (EngineArgs.get_batch_defaults):
    8,192 and 1,024 on a GPU of 70 GiB or more that is not an A100, else 2,048 and 256. vLLM's
    profile run, whose peak sizes the activation reserve, runs that many tokens."""
    if gpu.memory_bytes >= 70 * 2**30 and "a100" not in gpu.name.lower():
        return 8192, 1024
    return 2048, 256
