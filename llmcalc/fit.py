"""`llmcalc fit`: will the model run on these GPUs, how much context fits, how fast. Pure.

Per GPU, a budget of Terms:
- weights: the shard of the checkpoint this GPU holds, exact — vLLM splits every Linear the way
  its layer classes do (`tensors.SPLITS`) across the tensor-parallel GPUs and the layers across
  pipeline stages (`get_pp_indices`); llama.cpp splits by layers (`llama_model::load_tensors`)
  and keeps the token embedding on the host; transformers holds it all.
- KV cache: exact, in the runtime's layout — vLLM's 16-token blocks per sequence with each
  GPU's share of the K/V heads (MLA's latent whole on every GPU), llama.cpp's cells padded to
  256, transformers' DynamicCache.
- activation peak and runtime overhead: estimates, each naming where its formula comes from.

Then the largest context and batch that fit (exact searches over the same budget) and a
roofline for decode and prefill speed, its efficiency a visible parameter.
"""

from __future__ import annotations

from functools import cached_property
from math import ceil, prod
from typing import Callable, Optional

from llmcalc.errors import SpecError, UsageError
from llmcalc.kvcache import layer_cache
from llmcalc.memory import DType, dtype_bytes
from llmcalc.parallel import (
    Stage,
    TensorParallel,
    count_in_stage,
    layer_split_stages,
    pipeline_stages,
    stage_weights,
)
from llmcalc.records import record, replace
from llmcalc.scenario import MAX_SIZE, Deployment, Point
from llmcalc.spec import Attention, FeedForward, Layer, LatentAttention, MixtureOfExperts, ModelSpec
from llmcalc.terms import Term, group, leaf
from llmcalc.tensors import Weight, checkpoint_weights
from llmcalc.text import layer_span

VLLM_BLOCK_SIZE = 16  # CacheConfig.block_size default: the KV cache is allocated in 16-token blocks
VLLM_VOCAB_PADDING = 64  # DEFAULT_VOCAB_PADDING_SIZE: embedding and head rows padded to a multiple


def vllm_tensor_parallel(degree: int) -> TensorParallel:
    """vLLM's tensor parallelism: vocabulary padded to 64 and divided; K/V heads replicated."""
    return TensorParallel(degree, "vLLM", VLLM_VOCAB_PADDING, replicate_kv=True)
LLAMACPP_CELL_PADDING = 256  # llama_kv_cache pads its cells (n_ctx) to a multiple of 256
LLAMACPP_UBATCH = 512  # llama.cpp's -ub default: tokens per compute step
LLAMACPP_CUDA_ALIGNMENT = 128  # ggml-cuda buffer alignment
LLAMACPP_ROW_PADDING = 512  # ggml-cuda MATRIX_ROW_PADDING: quantized rows padded to 512 values

VLLM_CACHE_DTYPES = ("bf16", "fp16", "fp32", "fp8_e4m3", "fp8_e5m2")
LLAMACPP_CACHE_DTYPES = ("fp32", "fp16", "bf16", "q8_0", "q4_0")


@record(eq=False)
class Budget:
    """One GPU's memory: each part a Term (estimates carry their source in `note`)."""

    stage: Stage
    weights: Term
    kv_cache: Term
    activation: Term
    overhead: Term

    @property
    def estimated(self) -> int:
        """The parts that are estimates (activation and overhead); the rest is exact."""
        return self.activation.total + self.overhead.total

    @property
    def total(self) -> int:
        return self.weights.total + self.kv_cache.total + self.estimated


@record(eq=False)
class Speed:
    """The roofline: a step takes the longer of reading its bytes and computing its FLOPs."""

    decode_step_s: float
    decode_bound: str  # "memory" or "compute"
    decode_bytes: int  # per step, summed over the pipeline stages (per GPU of each stage)
    decode_flops: int
    prefill_s: Optional[float]  # None: the GPU's compute peak is unknown
    prefill_bound: str
    prefill_flops: int  # the whole batch, all GPUs together
    peak_flops: Optional[int]
    peak_kind: str  # which datasheet throughput: bf16 or fp8
    experts_read: Optional[float]  # MoE: the share of each layer's experts a decode step reads
    bytes_per_s: float  # the bandwidth the roofline divides by: the datasheet's times the efficiency
    flops_per_s: Optional[float]  # the same of the compute peak (None: unknown)

    @property
    def decode_tokens_per_s(self) -> Optional[float]:
        """Tokens each sequence gains per second: one per decode step (None: a step of no time)."""
        return 1 / self.decode_step_s if self.decode_step_s else None


@record(eq=False)
class Fit:
    spec: ModelSpec
    point: Point
    deployment: Deployment
    weight_format: Optional[str]
    weight_format_source: str
    budgets: tuple[Budget, ...]  # one per stage
    host_bytes: int  # weights the runtime keeps in host memory (llama.cpp's token embedding)
    capacity_bytes: int  # per GPU: what the runtime may use of it
    speed: Speed
    evaluate: Callable[[int, int], int]  # (tokens, batch) → the most loaded GPU's total

    @property
    def most_loaded(self) -> Budget:
        return max(self.budgets, key=lambda budget: budget.total)

    @property
    def decode_tokens_per_s_total(self) -> Optional[float]:
        """Tokens per second over the whole batch."""
        per_sequence = self.speed.decode_tokens_per_s
        return None if per_sequence is None else per_sequence * self.point.batch

    @property
    def fits(self) -> bool:
        return self.most_loaded.total <= self.capacity_bytes

    @property
    def headroom(self) -> int:
        return self.capacity_bytes - self.most_loaded.total

    @cached_property
    def max_seq(self) -> int:
        """The most tokens per sequence that fit at this batch, up to the model's context length
        (0: not even one token)."""
        limit = self.spec.context_length or MAX_SIZE
        return _largest(lambda tokens: self.evaluate(tokens, self.point.batch) <= self.capacity_bytes, limit)

    @property
    def max_seq_is_context(self) -> bool:
        """The whole context length fits: memory is not what limits the context."""
        return bool(self.spec.context_length) and self.max_seq == self.spec.context_length

    @cached_property
    def max_batch(self) -> int:
        """The most sequences of this many tokens that fit (0: not even one)."""
        return _largest(lambda batch: self.evaluate(self.point.tokens, batch) <= self.capacity_bytes)

    @cached_property
    def kv_capacity_tokens(self) -> Optional[int]:
        """vLLM's "GPU KV cache size: N tokens": the blocks left after weights, activation and
        overhead on the most loaded GPU, times the block size (uniform full-attention models)."""
        if self.deployment.runtime != "vllm":
            return None
        per_block = self._vllm_block_bytes
        if per_block is None:
            return None
        budget = self.most_loaded
        available = self.capacity_bytes - budget.weights.total - budget.estimated
        return vllm_kv_tokens(available, per_block)

    @cached_property
    def _vllm_block_bytes(self) -> Optional[int]:
        """One block's bytes over the layers of the most loaded GPU, when every layer caches every
        token (no windows): then vLLM's pool is one uniform group."""
        return vllm_block_bytes(self.spec, self.most_loaded.stage.layers, self.deployment.tp,
                                self.point.cache_dtype.dtype)

    @property
    def max_concurrency(self) -> Optional[float]:
        """vLLM's "Maximum concurrency for T tokens per request": KV tokens over blocks per request."""
        tokens = self.kv_capacity_tokens
        if tokens is None:
            return None
        return tokens / (ceil(self.point.tokens / VLLM_BLOCK_SIZE) * VLLM_BLOCK_SIZE)


def vllm_block_bytes(spec: ModelSpec, layers: range, tp: int, dtype: DType) -> Optional[int]:
    """One 16-token block over `layers` on one of `tp` GPUs (page_size_bytes × layers), when every
    layer caches every token (no windows): then vLLM's pool is one uniform group."""
    if any(_window(spec.layers[i].mixer) for i in layers):
        return None
    pages: dict[int, int] = {}  # layers alike are one object (spec.layers): each priced once
    for i in layers:
        layer = spec.layers[i]
        if id(layer) not in pages:
            pages[id(layer)] = _vllm_page(spec, layer, tp, dtype)
    return sum(pages[id(spec.layers[i])] for i in layers)


def vllm_kv_tokens(available_bytes: int, block_bytes: int) -> int:
    """vLLM's "GPU KV cache size": whole blocks in the memory left for the cache, times the block
    size (kv_cache_utils: num_blocks = available // page_size // num_layers)."""
    return max(0, available_bytes // block_bytes) * VLLM_BLOCK_SIZE


def _largest(fits: Callable[[int], bool], limit: int = MAX_SIZE) -> int:
    """The largest n in [1, limit] with fits(n), for a fits that stays false once false; 0 if none.
    The limit itself first (a model's whole context often fits: one evaluation), else doubling
    then bisection: about 2·log2(n) evaluations."""
    if not fits(1):
        return 0
    if fits(limit):
        return limit
    low, high = 1, 2
    while high <= limit and fits(high):
        low, high = high, high * 2
    high = min(high, limit + 1)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def _window(mixer: object) -> Optional[int]:
    return mixer.cached_window if isinstance(mixer, Attention) else None


# --- weights --------------------------------------------------------------------------------------------

@record
class Shard:
    """The bytes of weights one GPU holds, and the parts a decode step does not read whole."""

    total: int
    experts: int = 0  # routed experts: a step reads only those its tokens are sent to
    lookup: int = 0  # the token embedding table (untied): a step reads one row per token


def _checkpoint_shard(spec: ModelSpec, deployment: Deployment, stage: Stage, weight_format: Optional[str],
                      dtype: DType) -> Shard:
    if weight_format is not None:  # only then: the unquantized checkpoint needs no quant module
        from llmcalc.quant import UNQUANTIZED_BYTES, packs
    tp = deployment.tp
    total = experts = lookup = 0
    for weight, shape, count in stage_weights(spec, stage, vllm_tensor_parallel(tp), tp if deployment.expert_parallel else 1):
        elements = count * prod(shape)
        if weight.buffer:
            size = elements * 4
        elif weight_format is None:
            size = dtype_bytes(elements, dtype)
        elif packs(weight_format, weight):
            size = _shard_linear_bytes(weight_format, weight, shape, tp) * count
        else:
            size = elements * UNQUANTIZED_BYTES
        total += size
        experts += size if weight.expert else 0
        if weight.name == "model.embed_tokens.weight" and spec.embeddings.head == "untied":
            lookup += size
    return Shard(total, experts, lookup)


def _shard_linear_bytes(weight_format: str, weight: Weight, shape: tuple[int, ...], tp: int) -> int:
    """One packed Linear's bytes on one GPU; a slice the format cannot hold on its own (a GPTQ group
    or an MXFP4 block cut by the split) is one vLLM pads to its kernels' tile, which is not modelled."""
    from llmcalc.quant import linear_bytes

    try:
        return linear_bytes(weight_format, weight.name, shape[0], shape[1])
    except SpecError as exc:
        if shape == weight.shape:
            raise
        hint = " or --expert-parallel" if weight.expert else ""
        raise UsageError(f"--tp {tp}: each GPU's slice of {weight.name} ({shape[0]:,} × {shape[1]:,}) does not fit "
                         f"{weight_format}'s layout ({exc.problem}); vLLM pads such slices to its kernels' tiles, "
                         f"which fit does not model: try another --tp{hint}") from None


def _gguf_tensor_bytes(ggml_type: str, shape: tuple[int, ...], data: int) -> int:
    """A tensor's bytes in a llama.cpp CUDA buffer: quantized rows padded to 512 values
    (ggml_backend_cuda_buffer_type_get_alloc_size), then aligned to 128 bytes."""
    from llmcalc.ggml import GGML_TYPES

    block = GGML_TYPES[ggml_type]
    size = data
    if block.block_values > 1 and shape[0] % LLAMACPP_ROW_PADDING:
        size += block.row_bytes(LLAMACPP_ROW_PADDING - shape[0] % LLAMACPP_ROW_PADDING)
    return ceil(size / LLAMACPP_CUDA_ALIGNMENT) * LLAMACPP_CUDA_ALIGNMENT


def _gguf_split(spec: ModelSpec, mix: str, stages: list[Stage]) -> tuple[list[Shard], int]:
    """Each GPU's weights in llama.cpp's layer split, and the bytes left on the host."""
    from llmcalc.quant import quantize

    per_gpu = [0] * len(stages)
    experts = [0] * len(stages)
    head_gpu = next(stage.index for stage in stages if stage.head)
    layer_gpu = {i: stage.index for stage in stages for i in stage.layers}
    host = 0
    tensors = quantize(spec, mix).tensors
    tied = not any(tensor.name == "output.weight" for tensor in tensors)
    for tensor in tensors:
        on_gpu = _gguf_tensor_bytes(tensor.type, tensor.shape, tensor.bytes)
        if tensor.name.startswith("blk."):
            gpu = layer_gpu[int(tensor.name.split(".")[1])]
            per_gpu[gpu] += on_gpu
            experts[gpu] += on_gpu if "_exps." in tensor.name else 0
        elif tensor.name == "token_embd.weight":
            host += tensor.bytes
            if tied:  # the output reuses it: llama.cpp loads a duplicate on the output's GPU
                per_gpu[head_gpu] += on_gpu
        elif tensor.name == "rope_freqs.weight":
            per_gpu[layer_gpu.get(0, head_gpu)] += on_gpu
        else:
            per_gpu[head_gpu] += on_gpu
    return [Shard(total, expert) for total, expert in zip(per_gpu, experts)], host


# --- the KV cache ---------------------------------------------------------------------------------------

def _rank_layer(layer: Layer, tp: int) -> Layer:
    """The layer as one of `tp` GPUs holds its attention: its share of the query heads and at least
    one K/V head; MLA's latent is whole on every GPU."""
    attention = layer.mixer
    if tp == 1 or not isinstance(attention, Attention):
        return layer
    kv = max(1, attention.num_kv_heads // tp)
    return replace(layer, mixer=replace(attention, num_heads=max(kv, attention.num_heads // tp), num_kv_heads=kv),
                   cross_attention=None)


def _vllm_page(spec: ModelSpec, layer: Layer, tp: int, dtype: DType) -> int:
    """Bytes of one 16-token block of one layer on one GPU (vLLM's page_size_bytes)."""
    return sum(term.total for term in layer_cache(spec, _rank_layer(layer, tp), _cache_point(VLLM_BLOCK_SIZE, 1, dtype)))


def _cache_point(tokens: int, batch: int, dtype: DType) -> Point:
    from llmcalc.scenario import Choice

    chosen = Choice(dtype, "")
    return Point(tokens=tokens, batch=batch, encoder_tokens=0, cache_dtype=chosen, weight_dtype=chosen, windows=False)


def _cached_tokens(deployment: Deployment, mixer: object, tokens: int) -> tuple[int, str]:
    """Tokens (llama.cpp: cells) a layer holds for one sequence, and how they were counted."""
    from llmcalc.scenario import vllm_batch_defaults

    window = _window(mixer)
    if deployment.runtime == "llamacpp":
        # Each sequence has its own stream of n_ctx_seq cells, padded to 256 (kv_unified is off by
        # default); a sliding-window layer keeps n_swa + n_ubatch of them (llama_kv_cache_iswa).
        cells = _pad(tokens, LLAMACPP_CELL_PADDING)
        if window is not None and window + LLAMACPP_UBATCH < cells:
            cells = _pad(window + LLAMACPP_UBATCH, LLAMACPP_CELL_PADDING)
            return cells, (f"{cells:,} cells per sequence (window {window:,} + ubatch {LLAMACPP_UBATCH}, padded to "
                           f"{LLAMACPP_CELL_PADDING})")
        return cells, f"{cells:,} cells per sequence ({tokens:,} tokens padded to {LLAMACPP_CELL_PADDING})"
    if deployment.runtime == "vllm":
        # kv_cache_interface.py max_memory_usage_bytes: a chunk of a prefill is written before the
        # window moves on, so a window layer may hold w − 1 + max_num_batched_tokens tokens and one
        # block more; a chunked (local) layer c + max_num_batched_tokens.
        chunk = vllm_batch_defaults(deployment.gpu)[0]
        if isinstance(mixer, Attention) and mixer.sliding_window is not None and window is not None:
            held = min(window - 1 + chunk, tokens)
            blocks = ceil(held / VLLM_BLOCK_SIZE) + 1
            how = f"window {window:,} − 1 + {chunk:,} prefill tokens"
        else:
            held = min(window + chunk, tokens) if window is not None else tokens
            blocks = ceil(held / VLLM_BLOCK_SIZE)
            how = f"chunk {window:,} + {chunk:,} prefill tokens" if window is not None and held < tokens \
                else f"{tokens:,} tokens"
        return blocks * VLLM_BLOCK_SIZE, f"{how} in {blocks:,} blocks of {VLLM_BLOCK_SIZE} per sequence"
    held = min(tokens, window) if window is not None else tokens
    capped = f"window {window:,}" if window is not None and window < tokens else f"{held:,} tokens"
    return held, f"{capped} per sequence"


def _pad(value: int, multiple: int) -> int:
    return ceil(value / multiple) * multiple


def _kv_term(spec: ModelSpec, deployment: Deployment, point: Point, stage: Stage) -> Term:
    """The stage's cache on one of its GPUs, one group per run of layers held alike."""
    dtype = point.cache_dtype.dtype
    runtime = deployment.runtime
    tp = deployment.tp if runtime == "vllm" else 1
    runs: list[tuple[Layer, int, str, list[int]]] = []
    layers = spec.layers
    held_by_mixer: dict[int, tuple[int, str]] = {}  # layers share mixer objects: each asked once
    for i in stage.layers:
        layer = layers[i]
        if id(layer.mixer) not in held_by_mixer:
            held_by_mixer[id(layer.mixer)] = _cached_tokens(deployment, layer.mixer, point.tokens)
        held, how = held_by_mixer[id(layer.mixer)]
        if runs and runs[-1][0] is layer and runs[-1][1] == held:
            runs[-1][3].append(i)
        else:
            runs.append((layer, held, how, [i]))
    parts = [group(f"layers.{indices[0]}", f"layers {layer_span(indices[0], indices[-1])}: {how}",
                   layer_cache(spec, _rank_layer(layer, tp), _cache_point(held, point.batch, dtype)),
                   repeat=len(indices))
             for layer, held, how, indices in runs]
    return group("kv_cache", f"KV cache ({dtype.name})", parts)


# --- estimates ------------------------------------------------------------------------------------------

VLLM_ACTIVATION_SOURCE = (
    "estimate: the larger of the feed-forward intermediates of one layer for the tokens of vLLM's profile run "
    "(gate-up, their product and 3 hidden-size buffers: gpu_model_runner.profile_run runs max_num_batched_tokens) "
    "and the sampler's logits for min(max_num_seqs, tokens) requests in bf16 and float32; within 0.05 GiB of the "
    "overheads of published vLLM 0.10–0.17 logs (Llama-3.1-8B, Qwen2.5-7B, Qwen2-7B)")
LLAMACPP_COMPUTE_SOURCE = (
    "estimate: llama.cpp's compute buffer holds the largest float32 tensors of one ubatch (512 tokens): the "
    "logits (n_vocab × 512 × 4) on the GPU with the output, else the feed-forward intermediates; published logs "
    "with flash attention match the logits to 0.01 MiB plus a few MiB")
TRANSFORMERS_ACTIVATION_SOURCE = (
    "estimate: transformers' eager_attention_forward materialises the scores of one layer (B × n_h × T × T in the "
    "model dtype, a float32 softmax copy and the cast back) and repeat_kv's K and V for every head; the larger "
    "of that and the feed-forward intermediates of the whole prompt")
CUDA_GRAPHS_BYTES = 512 * 2**20
VLLM_NON_TORCH_BYTES = 200 * 2**20
VLLM_NON_TORCH_TP_BYTES = 100 * 2**20
LLAMACPP_CONTEXT_BYTES = 300 * 2**20
TORCH_CONTEXT_BYTES = 512 * 2**20
OVERHEAD_SOURCES = {
    "vllm": "estimate: CUDA graphs (since vLLM 0.21 subtracted before sizing the cache; 0.36–0.6 GiB in published "
            "single-GPU logs) + memory outside torch (cuBLAS workspaces, about 0.2 GiB; NCCL adds about 0.1 GiB "
            "with tensor parallelism); the CUDA context itself sits in the share vLLM leaves unused",
    "llamacpp": "estimate: the CUDA context and cuBLAS workspace, about 300 MiB with lazy module loading "
                "(pytorch PR #86509: 274 MiB lazy, 636 MiB eager)",
    "transformers": "estimate: the CUDA context and cuBLAS workspace of a PyTorch process, 0.5 GiB "
                    "(pytorch#20532, #107667: 300–400 MB, plus workspaces)",
}


def _ffn_width(layer: Layer, tp: int) -> int:
    """Values per token the layer's feed-forward writes at its widest (gate, up and their product)."""
    ffn = layer.ffn
    if isinstance(ffn, FeedForward):
        return 3 * ffn.intermediate_size // tp
    if isinstance(ffn, MixtureOfExperts):
        return (3 * ffn.num_experts_per_tok * ffn.expert_intermediate_size
                + 3 * ffn.shared_expert_intermediate_size) // tp
    return 0


def _activation_term(spec: ModelSpec, deployment: Deployment, point: Point, stage: Stage, dtype: DType) -> Term:
    from llmcalc.scenario import vllm_batch_defaults

    runtime, tp = deployment.runtime, deployment.tp
    layers = [spec.layers[i] for i in stage.layers]
    width = max((_ffn_width(layer, tp) for layer in layers), default=0)
    hidden, vocab = spec.hidden_size, spec.embeddings.vocab_size
    b = dtype.block_bytes // dtype.block_values or 2
    if runtime == "vllm":
        tokens, seqs = vllm_batch_defaults(deployment.gpu)
        forward = {"C": tokens, "F": width, "H": hidden, "b": b}
        logits = {"S": min(seqs, tokens), "V": vocab}
        if not stage.head or tokens * (width + 3 * hidden) * b >= logits["S"] * vocab * 6:
            return _estimate("activation", f"activation peak (profile run of {tokens:,} tokens)",
                             "C × (F + 3 × H) × b", forward, VLLM_ACTIVATION_SOURCE)
        return _estimate("activation", f"activation peak (sampler logits of {logits['S']:,} requests)",
                         "S × V × (2 + 4)", logits, VLLM_ACTIVATION_SOURCE)
    if runtime == "llamacpp":
        per_token = max(vocab if stage.head else 0, width + 3 * hidden)
        return _estimate("activation", f"compute buffer (ubatch of {LLAMACPP_UBATCH} tokens)",
                         "u × W × 4", {"u": LLAMACPP_UBATCH, "W": per_token}, LLAMACPP_COMPUTE_SOURCE)
    attention = next((layer.mixer for layer in layers if isinstance(layer.mixer, (Attention, LatentAttention))), None)
    heads = attention.query_heads if attention is not None else 0
    head_dim = attention.head_width if isinstance(attention, Attention) else 0
    tokens, batch = point.tokens, point.batch
    scores = batch * heads * tokens * tokens * (2 * b + 4) + 2 * batch * heads * tokens * head_dim * b
    ffn = batch * tokens * (width + 4 * hidden) * b
    if scores >= ffn:
        return _estimate("activation", "activation peak (eager attention scores of one layer)",
                         "B × n_h × T × T × (2 × b + 4) + 2 × B × n_h × T × d × b",
                         {"B": batch, "n_h": heads, "T": tokens, "b": b, "d": head_dim}, TRANSFORMERS_ACTIVATION_SOURCE)
    return _estimate("activation", "activation peak (feed-forward of the whole prompt)", "B × T × (F + 4 × H) × b",
                     {"B": batch, "T": tokens, "F": width, "H": hidden, "b": b}, TRANSFORMERS_ACTIVATION_SOURCE)


def _overhead_term(deployment: Deployment) -> Term:
    runtime = deployment.runtime
    if runtime == "vllm":
        non_torch = VLLM_NON_TORCH_BYTES + (VLLM_NON_TORCH_TP_BYTES if deployment.tp > 1 else 0)
        return _estimate("overhead", "runtime overhead (CUDA graphs + non-torch)", "G + N",
                         {"G": CUDA_GRAPHS_BYTES, "N": non_torch}, OVERHEAD_SOURCES[runtime])
    context = LLAMACPP_CONTEXT_BYTES if runtime == "llamacpp" else TORCH_CONTEXT_BYTES
    return _estimate("overhead", "runtime overhead (CUDA context)", "X", {"X": context}, OVERHEAD_SOURCES[runtime])


def _estimate(key: str, label: str, formula: str, bindings: dict[str, int], source: str) -> Term:
    term = leaf(key, label, formula, bindings)
    return replace(term, estimate=source)


# --- the whole budget -----------------------------------------------------------------------------------

def fit(spec: ModelSpec, point: Point, deployment: Deployment) -> Fit:
    """The budget of every GPU for `point.batch` sequences of `point.tokens` tokens."""
    point = deployment.runtime_point(point)
    _check_supported(spec, point, deployment)
    weight_format, format_source = deployment.weight_format(spec, point.weight_dtype)
    runtime = deployment.runtime
    if runtime == "llamacpp":
        stages = layer_split_stages(spec.num_layers, deployment.gpus)
        assert weight_format is not None
        shards, host = _gguf_split(spec, weight_format, stages)
        label = f"weights ({weight_format}, this GPU's layers, as in its CUDA buffer)"
    else:
        stages = (pipeline_stages(spec.num_layers, deployment.pp, spec.embeddings.head == "tied")
                  if runtime == "vllm" else [Stage(0, range(spec.num_layers), True, True)])
        host = 0
        label = weight_format or point.weight_dtype.dtype.name
        shard = f"this GPU's shard: 1/{deployment.tp} of each split Linear" if deployment.tp > 1 else "all of them"
        shards = [_checkpoint_shard(spec, deployment, stage, weight_format, point.weight_dtype.dtype)
                  for stage in stages]
        label = f"weights ({label}, {shard})"
    weights = [_exact("weights", label, shard.total) for shard in shards]
    activation_dtype = point.cache_dtype.dtype if point.cache_dtype.dtype.block_values == 1 else point.weight_dtype.dtype

    def budget(stage: Stage, weight: Term, at: Point) -> Budget:
        return Budget(stage, weight, _kv_term(spec, deployment, at, stage),
                      _activation_term(spec, deployment, at, stage, activation_dtype), _overhead_term(deployment))

    budgets = tuple(budget(stage, weight, point) for stage, weight in zip(stages, weights))
    capacity = _capacity(deployment)

    def most_loaded_total(tokens: int, batch: int) -> int:
        at = replace(point, tokens=tokens, batch=batch)
        return max(budget(stage, weight, at).total for stage, weight in zip(stages, weights))

    return Fit(spec, point, deployment, weight_format, format_source, budgets, host, capacity,
               _speed(spec, point, deployment, budgets, shards, weight_format), most_loaded_total)


def _capacity(deployment: Deployment) -> int:
    """What one GPU offers the runtime: vLLM takes gpu_memory_utilization of the total (rounded up,
    as Worker.determine_available_memory's requested_memory); the others all of it (Apple: the
    share macOS lets the GPU wire)."""
    gpu = deployment.gpu
    if deployment.runtime == "vllm":
        return ceil(gpu.capacity_bytes * deployment.gpu_utilization)
    return gpu.capacity_bytes


def _exact(key: str, label: str, value: int) -> Term:
    return Term(key=key, label=label, value=value)


def _check_supported(spec: ModelSpec, point: Point, deployment: Deployment) -> None:
    mixers = {type(layer.mixer) for layer in spec.layers}
    if spec.architecture != "decoder" or not mixers <= {Attention, LatentAttention}:
        raise SpecError(spec.name, "layer_types", "fit models attention decoders (full, sliding, chunked, MLA); "
                                                   "state-space, linear-attention and encoder models are not yet")
    if deployment.pp > spec.num_layers:
        raise UsageError(f"--pp {deployment.pp}: {spec.name} has only {spec.num_layers} layers to split")
    cache = point.cache_dtype.dtype.name
    allowed = {"vllm": VLLM_CACHE_DTYPES, "llamacpp": LLAMACPP_CACHE_DTYPES}.get(deployment.runtime)
    if allowed is not None and cache not in allowed:
        raise UsageError(f"--dtype {cache}: {deployment.runtime}'s KV cache holds {', '.join(allowed)}")
    if deployment.runtime == "vllm" and deployment.expert_parallel and \
            not any(isinstance(layer.ffn, MixtureOfExperts) for layer in spec.layers):
        raise UsageError(f"--expert-parallel: {spec.name} has no experts")


# --- speed: a roofline ----------------------------------------------------------------------------------

def _speed(spec: ModelSpec, point: Point, deployment: Deployment, budgets: tuple[Budget, ...],
           shards: list[Shard], weight_format: Optional[str]) -> Speed:
    """Decode: each step reads the weights it uses and the whole cache once, and does 2 FLOPs per
    weight it uses per sequence plus the attention over the cache; prefill: 2 FLOPs per weight per
    prompt token plus causal attention. A stage takes the longer of its bytes over the bandwidth and
    its FLOPs over the peak (both times the efficiency); pipeline stages run one after another."""
    gpu, tp = deployment.gpu, deployment.tp
    kind = "fp8" if weight_format in ("fp8", "fp8-dynamic") and gpu.fp8_flops else "bf16"
    peak = gpu.fp8_flops if kind == "fp8" else gpu.bf16_flops
    bytes_per_s = gpu.bandwidth_bytes_per_s * deployment.efficiency
    flops_per_s = peak * deployment.efficiency if peak else None
    batch, tokens = point.batch, point.tokens
    read = _expert_share(spec, batch)
    decode_time = prefill_time = 0.0
    decode_bytes = decode_flops = prefill_flops = 0
    memory_bound = True
    prefill_memory_bound = True
    for budget, shard in zip(budgets, shards):
        stage = budget.stage
        linear, experts, attention = _stage_work(spec, stage, tokens)
        weight_bytes = shard.total
        step_bytes = (weight_bytes - shard.experts - shard.lookup + round(shard.experts * read)
                      + budget.kv_cache.total)
        active = (linear - experts) + experts * _routed_share(spec)
        step_flops = round(2 * batch * active / tp + 2 * batch * attention["decode"] / tp)
        memory_s = step_bytes / bytes_per_s
        compute_s = step_flops / flops_per_s if flops_per_s else 0.0
        decode_time += max(memory_s, compute_s)
        memory_bound = memory_bound and memory_s >= compute_s
        decode_bytes += step_bytes
        decode_flops += step_flops
        flops = round(2 * batch * tokens * active + 2 * batch * attention["prefill"])
        prefill_flops += flops
        if flops_per_s:
            compute = flops / (tp * flops_per_s)
            memory = weight_bytes * ceil(batch * tokens / _prefill_chunk(deployment, batch * tokens)) / bytes_per_s
            prefill_time += max(compute, memory)
            prefill_memory_bound = prefill_memory_bound and memory >= compute
    return Speed(decode_time, "memory" if memory_bound else "compute", decode_bytes, decode_flops,
                 prefill_time if peak else None, "memory" if prefill_memory_bound else "compute", prefill_flops,
                 peak, kind, read if _routed_share(spec) < 1 else None, bytes_per_s, flops_per_s)


def _prefill_chunk(deployment: Deployment, tokens: int) -> int:
    from llmcalc.scenario import vllm_batch_defaults

    if deployment.runtime == "vllm":
        return vllm_batch_defaults(deployment.gpu)[0]
    return LLAMACPP_UBATCH if deployment.runtime == "llamacpp" else tokens


def _routed_share(spec: ModelSpec) -> float:
    """The share of the routed experts' weights one token uses (top-k of E), or 1 without experts."""
    moe = next((layer.ffn for layer in spec.layers if isinstance(layer.ffn, MixtureOfExperts)), None)
    return moe.num_experts_per_tok / moe.num_experts if moe else 1.0


def _expert_share(spec: ModelSpec, batch: int) -> float:
    """The expected share of a layer's experts that `batch` tokens touch together, each picking top-k
    of E uniformly: 1 − (1 − k/E)^B (an estimate: real routers are not uniform)."""
    return 1 - (1 - _routed_share(spec)) ** batch


def _stage_work(spec: ModelSpec, stage: Stage, tokens: int) -> tuple[int, int, dict[str, int]]:
    """(weights that multiply each token, of which routed experts, attention FLOPs/2 per sequence for
    one decode step at `tokens` and for a prefill of `tokens`), for the stage's layers."""
    linear = experts = 0
    for weight in checkpoint_weights(spec):
        if weight.linear:
            elements = count_in_stage(weight, stage) * weight.shape[0] * weight.shape[1]
            linear += elements
            experts += elements if weight.expert else 0
    if stage.head:  # the LM head multiplies (a tied one with the embedding's matrix)
        linear += spec.embeddings.vocab_size * spec.hidden_size
    decode = prefill = 0
    for i in stage.layers:
        mixer = spec.layers[i].mixer
        if isinstance(mixer, LatentAttention):
            width = mixer.num_heads * (mixer.qk_nope_head_dim + mixer.qk_rope_head_dim + mixer.v_head_dim)
        elif isinstance(mixer, Attention):
            width = 2 * mixer.num_heads * mixer.head_dim
        else:
            continue
        window = _window(mixer)
        held = min(tokens, window) if window is not None else tokens
        decode += width * held
        # Σ over positions t of min(t, window): the keys each prompt token attends to.
        span = min(tokens, window) if window is not None else tokens
        prefill += width * (span * (span + 1) // 2 + (tokens - span) * span)
    return linear, experts, {"decode": decode, "prefill": prefill}


# --- what would make it fit -----------------------------------------------------------------------------

# Formats to try, from the most bits down: the first that fits is the one to suggest.
SMALLER_FORMATS = {
    "vllm": ("fp8", "awq-int4", "gptq-int4", "nvfp4"),
    "llamacpp": ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "iq4_xs", "q3_k_m", "iq3_xxs", "q2_k", "iq2_xxs", "iq1_m"),
    "transformers": ("fp8", "nf4"),
}
MOST_GPUS = 64


@record
class Remedies:
    """What would make a budget that does not fit, fit (None: that change alone would not)."""

    gpus: Optional[int]  # the fewest GPUs that fit (vLLM: as tensor parallelism; others: more layer splits)
    format: Optional[str]  # the format with the most bits that fits


def remedies(result: Fit) -> Remedies:
    """Fewer tokens is max_seq and max_batch; here: more GPUs, or a smaller format."""
    spec, point, deployment = result.spec, result.point, result.deployment
    gpus = None
    count = deployment.gpus + 1
    while count <= MOST_GPUS and gpus is None:
        if deployment.runtime == "vllm":
            more = replace(deployment, gpus=count * deployment.pp, tp=count) if count > deployment.tp else None
            count *= 2
        else:
            more = replace(deployment, gpus=count, pp=count)
            count += 1
        if more is not None and deployment.runtime != "transformers" and _fits(spec, point, more):
            gpus = more.gpus
    current = result.weight_format
    smaller = SMALLER_FORMATS[deployment.runtime]
    start = smaller.index(current) + 1 if current in smaller else 0
    chosen = next((name for name in smaller[start:]
                   if _fits(spec, point, replace(deployment, format=name))), None)
    return Remedies(gpus, chosen)


def _fits(spec: ModelSpec, point: Point, deployment: Deployment) -> bool:
    try:
        return fit(spec, point, deployment).fits
    except (UsageError, SpecError):
        return False
