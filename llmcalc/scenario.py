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
from typing import TYPE_CHECKING, Optional

from llmcalc.errors import UsageError
from llmcalc.memory import DTYPES, DType, parse_dtype
from llmcalc.records import record, replace
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


@record(eq=False)
class Choice:
    """A dtype and why it was used: `flag`, `torch_dtype`, `quantization` or `default`."""

    dtype: DType
    source: str

    def __str__(self) -> str:
        return f"{self.dtype.name} ({self.source})"


@record(eq=False)
class Point:
    """One concrete question: this many tokens and sequences, at these precisions."""

    tokens: int
    batch: int
    encoder_tokens: int
    cache_dtype: Choice
    weight_dtype: Choice
    windows: bool = True


@record(eq=False)
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
# fit follows vLLM 0.21's rules (upstream 9aaf83ef5, 2026-05-19: vllm/config/cache.py,
# v1/kv_cache_interface.py, engine/arg_utils.py).
# `--gpu-memory-utilization` default: the share of each GPU's memory vLLM may use; 0.92 since
# vLLM 0.21 (PR #38284, which also began subtracting CUDA graphs before sizing the cache), 0.9 before.
VLLM_GPU_MEMORY_UTILIZATION = 0.92
# The roofline's default: peak bandwidth and peak throughput, an upper bound on speed.
DEFAULT_EFFICIENCY = 1.0

_BYTE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_AMOUNT = r"\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*"  # compiled (and cached by `re`) when an amount is read


def parse_amount(option: str, text: str, units: dict[str, int], forms: str) -> int:
    """`24GiB`, `3.35TB/s`, `989T`: a positive amount in whole units (bytes, bytes/s, FLOP/s)."""
    match = re.fullmatch(_AMOUNT, text.lower().removesuffix("/s").removesuffix("flops").removesuffix("flop"))
    unit = units.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise UsageError(f"{option} {text!r}: expected {forms}")
    from decimal import Decimal  # exact `3.35TB/s`; imported here, off the start-up of commands without amounts

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


@record(eq=False)
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
        is_mix = False
        if chosen is not None:  # llama.cpp's mixes are read only for a format
            from llmcalc.llama_quant import MIXES

            is_mix = chosen in MIXES
        if runtime is not None and runtime not in RUNTIMES:
            raise UsageError(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
        if runtime is not None:
            name, source = runtime, "--runtime"
        elif is_mix:
            name, source = "llamacpp", "a GGUF format runs on llama.cpp"
        else:
            name, source = "vllm", "default"
        if chosen is not None and is_mix != (name == "llamacpp"):
            raise UsageError(f"--format {chosen} is a {'GGUF mix' if is_mix else 'safetensors format'}: "
                             f"{'llama.cpp runs GGUF files' if is_mix else 'llama.cpp runs GGUF mixes'}"
                             f" — use --runtime {'llamacpp' if is_mix else 'vllm or transformers'}")
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


# --- how the model is trained (`train`) ------------------------------------------------------------------

TRAIN_PRECISIONS = ("bf16", "fp16", "fp32", "fp8")  # bf16, fp16 and fp8 are mixed precision
OPTIMIZERS = ("adamw", "adam", "adam8bit", "sgd", "adafactor")
RECOMPUTE = ("none", "selective", "full")
ATTENTION_KERNELS = ("flash", "eager")
OFFLOAD = ("none", "optimizer", "all")
CONVENTIONS = ("zero", "megatron", "deepspeed")
# FSDP's sharding strategies are ZeRO stages under other names.
ZERO_STAGES = {"0": 0, "1": 1, "2": 2, "3": 3, "no-shard": 0, "no_shard": 0, "grad-op": 2, "shard_grad_op": 2,
               "full": 3, "full_shard": 3}
# Training runs at a chosen sequence length, rarely the model's whole context: 4,096 unless --seq.
DEFAULT_TRAIN_TOKENS = 4096
# The model-FLOPs utilisation time estimates assume unless --mfu (large dense runs report 0.35–0.55).
DEFAULT_MFU = 0.4
# Tokens of a run: 15e12, 15T, 300B, 2.5e9.
_RUN_UNITS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}


def parse_run_tokens(option: str, text: str) -> int:
    """`15e12`, `15T` (= 15 × 10^12), `300B`, `2.5e9`: a positive whole number of tokens."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmbgt]?)\s*", text.lower())
    if match is None:
        raise UsageError(f"{option} {text!r}: expected a number of tokens: 15e12, 15T, 300B, 2.5e9")
    from decimal import Decimal

    value = Decimal(match.group(1)) * _RUN_UNITS[match.group(2)]
    if value <= 0 or value != value.to_integral_value() or value > 10**18:
        raise UsageError(f"{option} {text!r}: expected a whole number of tokens from 1 to 10^18")
    return int(value)


def _choice(option: str, value: Optional[str], choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value.lower() not in choices:
        raise UsageError(f"{option} {value!r}: use one of {', '.join(choices)}")
    return value.lower()


@record(eq=False)
class Training:
    """How the model is trained, every default resolved (`train`).

    - gpus: `--gpus`, else 1; tp, pp: `--tp`, `--pp`, else 1; dp = gpus ÷ (tp × pp), which must
      be whole. ZeRO shards over dp only, never over all the GPUs.
    - zero 0 (`--zero 0-3`, or FSDP's no-shard, grad-op, full); `--convention zero` counts mixed
      precision Adam as the ZeRO paper does (2 + 2 + 12 bytes per parameter), `megatron` as
      Megatron-LM does (fp32 gradients: 2 + 4 + 12, its distributed optimizer being `--zero 1`),
      `deepspeed` as DeepSpeed's estimators do (ZeRO 2 and 3 only).
    - seq 4,096 (not the model's context: runs train at a chosen length), micro-batch 1,
      recompute none, attention flash, no dropout, optimizer adamw, precision bf16 (mixed).
    - LoRA when `--lora-rank` is given (modules q_proj,v_proj, peft's default for LLaMA-like
      models); `--qlora` keeps the frozen base in NF4 with double quantization.
    - time: `--tokens` on `--gpu` at `--mfu` (0.4 unless given).
    """

    gpus: int
    tp: int
    pp: int
    zero: int
    sequence_parallel: bool
    recompute: str
    attention: str
    dropout: bool
    tokens: int
    micro_batch: int
    optimizer: str
    precision: str
    offload: str
    convention: str
    lora_rank: Optional[int]
    lora_modules: tuple[str, ...]
    qlora: bool
    run_tokens: Optional[int]
    gpu: Optional[GPU]
    mfu: float

    @property
    def dp(self) -> int:
        return self.gpus // (self.tp * self.pp)

    @classmethod
    def parse(cls, gpus: Optional[int] = None, tp: Optional[int] = None, pp: Optional[int] = None,
              zero: Optional[str] = None, sequence_parallel: bool = False, recompute: Optional[str] = None,
              attention: Optional[str] = None, dropout: bool = False, seq: Optional[str] = None,
              micro_batch: Optional[str] = None, optimizer: Optional[str] = None, precision: Optional[str] = None,
              offload: Optional[str] = None, convention: Optional[str] = None, lora_rank: Optional[int] = None,
              lora_modules: Optional[str] = None, qlora: bool = False, tokens: Optional[str] = None,
              gpu: Optional[str] = None, mfu: Optional[str] = None) -> Training:
        from llmcalc.gpus import find_gpu

        for option, value in (("--gpus", gpus), ("--tp", tp), ("--pp", pp)):
            if value is not None and not 1 <= value <= 1_000_000:
                raise UsageError(f"{option} {value}: expected a whole number from 1 to 1,000,000")
        tp_degree, pp_degree = tp or 1, pp or 1
        count = gpus or tp_degree * pp_degree
        if count % (tp_degree * pp_degree):
            raise UsageError(f"--gpus {count} is not a multiple of --tp {tp_degree} × --pp {pp_degree}; valid: "
                             f"--gpus {tp_degree * pp_degree}, {2 * tp_degree * pp_degree}, ...")
        if zero is not None and zero.lower() not in ZERO_STAGES:
            raise UsageError(f"--zero {zero!r}: use 0, 1, 2, 3 or FSDP's no-shard, grad-op, full")
        stage = ZERO_STAGES[zero.lower()] if zero is not None else 0
        dp = count // (tp_degree * pp_degree)
        if stage and dp == 1:
            raise UsageError(f"--zero {stage} shards over the data-parallel GPUs, and there is one "
                             f"({count} GPUs ÷ tp {tp_degree} × pp {pp_degree}); use --zero 0 or more --gpus")
        chosen_convention = _choice("--convention", convention, CONVENTIONS, "zero")
        if chosen_convention == "megatron" and stage > 1:
            raise UsageError("--convention megatron shards only the optimizer (its distributed optimizer): "
                             "--zero 0 or 1")
        if chosen_convention == "deepspeed" and (stage < 2 or tp_degree > 1 or pp_degree > 1):
            raise UsageError("--convention deepspeed reproduces DeepSpeed's estimators, which cover --zero 2 and 3 "
                             "with data parallelism only (--tp 1 --pp 1)")
        chosen_offload = _choice("--offload", offload, OFFLOAD, "none")
        if chosen_offload == "all" and stage != 3:
            raise UsageError("--offload all moves parameters to the host, which needs --zero 3; --offload "
                             "optimizer works at any stage")
        if sequence_parallel and tp_degree == 1:
            raise UsageError("--sequence-parallel splits over the tensor-parallel GPUs: give --tp 2 or more")
        modules = tuple(m.strip() for m in lora_modules.split(",") if m.strip()) if lora_modules else ()
        if lora_rank is not None and not 1 <= lora_rank <= 65536:
            raise UsageError(f"--lora-rank {lora_rank}: expected a whole number from 1 to 65,536")
        if (modules or qlora) and lora_rank is None:
            raise UsageError("--lora-modules and --qlora train LoRA adapters: give --lora-rank too")
        if lora_rank is not None and (tp_degree > 1 or pp_degree > 1):
            raise UsageError("LoRA is modelled with data parallelism (peft with DDP or ZeRO): --tp 1 --pp 1")
        if lora_rank is not None and chosen_convention != "zero":
            raise UsageError(f"--convention {chosen_convention} counts full training; LoRA follows peft's: drop "
                             "one of them")
        sizes = parse_sizes("--seq", seq) if seq is not None else (DEFAULT_TRAIN_TOKENS,)
        batches = parse_sizes("--micro-batch", micro_batch) if micro_batch is not None else (1,)
        if len(sizes) > 1 or len(batches) > 1:
            raise UsageError("--seq and --micro-batch take one size each here")
        if sequence_parallel and sizes[0] % tp_degree:
            raise UsageError(f"--sequence-parallel splits the {sizes[0]:,} tokens over --tp {tp_degree}: give a "
                             f"--seq that is a multiple of {tp_degree}")
        return cls(gpus=count, tp=tp_degree, pp=pp_degree, zero=stage, sequence_parallel=sequence_parallel,
                   recompute=_choice("--recompute", recompute, RECOMPUTE, "none"),
                   attention=_choice("--attention", attention, ATTENTION_KERNELS, "flash"),
                   dropout=dropout, tokens=sizes[0], micro_batch=batches[0],
                   optimizer=_choice("--optimizer", optimizer, OPTIMIZERS, "adamw"),
                   precision=_choice("--precision", precision, TRAIN_PRECISIONS, "bf16"),
                   offload=chosen_offload, convention=chosen_convention, lora_rank=lora_rank,
                   lora_modules=modules or (("q_proj", "v_proj") if lora_rank is not None else ()), qlora=qlora,
                   run_tokens=parse_run_tokens("--tokens", tokens) if tokens is not None else None,
                   gpu=find_gpu(gpu) if gpu is not None else None,
                   mfu=parse_share("--mfu", mfu) if mfu is not None else DEFAULT_MFU)
