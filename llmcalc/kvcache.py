"""KV-cache memory as a tree of Terms. Pure: no I/O, no rendering.

Per layer, the cache holds K and V for every cached token of every sequence:
``T × B × n_kv × d × bytes`` each. Sliding-window layers hold at most the window;
MLA layers hold one compressed latent per token; an encoder-decoder's decoder also
holds the cross-attention K and V over the encoder's tokens; RWKV holds a fixed
recurrent state instead.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from llmcalc.memory import DType, dtype_bytes
from llmcalc.records import record, replace
from llmcalc.scenario import Point
from llmcalc.spec import Layer, LatentAttention, LightningAttention, LinearAttention, ModelSpec, StateSpace, TimeMix
from llmcalc.terms import Term, evaluate, group, leaf
from llmcalc.text import layer_span

if TYPE_CHECKING:  # a sibling in the core: only its type is needed here
    from llmcalc.params import ParamCount

KIND_NOTES = {
    "kv": "K and V of every layer for every cached token",
    "latent": "MLA: one compressed latent (kv_lora_rank + qk_rope_head_dim) per token and layer, "
              "instead of K and V per head",
    "state": "no KV cache: a fixed recurrent state per sequence and layer, the same at any length",
    "hybrid": "K and V of the attention layers for every cached token; a fixed recurrent state in the "
              "others (Mamba, linear attention), the same at any length",
    "none": "an encoder has no autoregressive cache",
}

# What each attention layout saves, in one sentence (kvcache's summary and explain).
LAYOUT_NOTES = {
    "GQA": "GQA shares each K/V head among g query heads",
    "MQA": "MQA shares one K/V head among all query heads",
    "MLA": "MLA caches a compressed latent instead of K and V per head",
    "MHA": "MHA: every query head has its own K and V; GQA or MQA would shrink this cache",
    "": "no attention: a fixed recurrent state instead of a cache",
}

# RWKV-4's state: 2 vectors in the model dtype, 3 accumulators in float32 (transformers).
RWKV_FP32_BYTES = 4
# The recurrent state of Mamba, Mamba-2 and Gated DeltaNet layers: float32 whatever the model
# dtype, as transformers 5.23's cache holds what the scan returns (mamba_ssm's kernels also keep
# it in float32); the convolution state follows the model dtype.
STATE_FP32_BYTES = 4
# Cache components that grow with the generated tokens (cross-attention grows with the
# encoder's input instead, a state not at all).
PER_TOKEN_KEYS = ("k", "v", "latent")


@record(eq=False)
class CacheSize:
    """The cache for one point. Only `root` is built up front; the comparisons (no window,
    multi-head, per token) are built when something asks for them."""

    spec: ModelSpec
    point: Point
    root: Term  # per layer group: K and V (or latent, or state) with their formulas

    @property
    def kind(self) -> str:
        return self.spec.cache_kind

    @property
    def tokens(self) -> int:
        return self.point.tokens

    @property
    def batch(self) -> int:
        return self.point.batch

    @property
    def dtype(self) -> DType:
        return self.point.cache_dtype.dtype

    @property
    def encoder_tokens(self) -> int:
        """Tokens cross-attention caches, or 0 without cross-attention."""
        return self.point.encoder_tokens if _has_cross_attention(self.spec) else 0

    @property
    def total(self) -> int:
        return self.root.total

    @cached_property
    def bytes_per_token(self) -> int:
        """All layers, one sequence, one token, before any window cap (self-attention only)."""
        return sum(evaluate(term.formula, {**term.bindings, "T": 1, "B": 1}) * instances
                   for _, term, instances in self.root.leaves() if term.key in PER_TOKEN_KEYS)

    @cached_property
    def uncapped(self) -> Term:
        """The same cache if no layer had a window."""
        return _cache_tree(self.spec, replace(self.point, windows=False), mha=False)

    @cached_property
    def mha_equivalent(self) -> Term:
        """One KV head per query head (for MLA: K and V per head, uncompressed)."""
        return _cache_tree(self.spec, self.point, mha=True)

    @property
    def _capped_groups(self) -> list[Term]:
        """Layer groups whose window holds fewer tokens than the sequence has."""
        return [part for stack in self.root.children for part in stack.children
                if part.children[0].key == "k" and part.children[0].bindings["T"] < self.tokens]

    @property
    def windowed_layers(self) -> int:
        """Layers whose window caps the cached tokens."""
        return sum(part.repeat for part in self._capped_groups)

    @property
    def windows(self) -> list[int]:
        """The window sizes that cap some layer's cache, smallest first."""
        return sorted({part.children[0].bindings["T"] for part in self._capped_groups})

    @property
    def saving_factor(self) -> float | None:
        """How many times larger the multi-head (or uncompressed) cache would be."""
        return self.mha_equivalent.total / self.total if self.total else None

    @property
    def recompute_peak(self) -> int:
        """Without a cache, K and V are recomputed one layer at a time: the largest layer's."""
        return max((part.value for stack in self.root.children for part in stack.children), default=0)


def kv_cache(spec: ModelSpec, point: Point) -> CacheSize:
    """The cache for `point.batch` sequences of `point.tokens` tokens."""
    return CacheSize(spec=spec, point=point, root=_cache_tree(spec, point, mha=False))


def _has_cross_attention(spec: ModelSpec) -> bool:
    return any(layer.cross_attention is not None for stack in spec.cached_stacks for layer in stack.layers)


def _cache_tree(spec: ModelSpec, point: Point, mha: bool) -> Term:
    stacks = []
    for stack in spec.cached_stacks:
        # Each layer object is built once (a spec shares one object among identical layers);
        # layers are then grouped by what they cache, wherever they stand: Gemma-2's
        # alternating local and global layers make two groups, not 42.
        by_layer: dict[int, tuple[Layer, list[int]]] = {}
        for index, layer in enumerate(stack.layers):
            by_layer.setdefault(id(layer), (layer, []))[1].append(index)
        shapes: dict[tuple, tuple[list[Term], list[int]]] = {}
        for layer, indices in by_layer.values():
            terms = _layer_cache(spec, layer, point, mha)
            shapes.setdefault(_shape(terms), (terms, []))[1].extend(indices)
        parts = [group(f"layers.{_spans(sorted(indices))}", _layers_label(sorted(indices)), terms,
                       repeat=len(indices))
                 for terms, indices in shapes.values()]
        stacks.append(group(stack.name, f"{stack.name} ({len(stack.layers)} layers)", parts))
    return group("kv_cache", "KV cache", stacks)


def _contiguous(indices: list[int]) -> bool:
    return indices[-1] - indices[0] + 1 == len(indices)


def _spans(indices: list[int]) -> str:
    """`0-31`, or `0,2,4` for layers that are not contiguous."""
    if _contiguous(indices):
        return layer_span(indices[0], indices[-1])
    return ",".join(str(index) for index in indices)


def _layers_label(indices: list[int]) -> str:
    if len(indices) > 3 and not _contiguous(indices):
        return f"layers {indices[0]}, {indices[1]}, …, {indices[-1]}"
    return f"layers {_spans(indices)}"


def _shape(terms: list[Term]) -> tuple:
    return tuple((t.key, t.formula, tuple(sorted(t.bindings.items()))) for t in terms)


def _values(count: str, dtype: DType) -> str:
    """`T × B × count × bytes`, with whole blocks for packed formats (q8_0: 34 bytes per 32)."""
    if dtype.block_values == 1:
        return f"T × B × {count} × b"
    return f"T × B × ({count} / v) × b"


def layer_cache(spec: ModelSpec, layer: Layer, point: Point) -> list[Term]:
    """One layer's cache at `point` (fit: a layer as one GPU holds it, at the runtime's token count)."""
    return _layer_cache(spec, layer, point, mha=False)


def _layer_cache(spec: ModelSpec, layer: Layer, point: Point, mha: bool) -> list[Term]:
    dtype = point.cache_dtype.dtype
    size = {"B": point.batch, "b": dtype.block_bytes, "v": dtype.block_values}
    attention = layer.mixer
    if isinstance(attention, TimeMix):
        state = {**size, "H": spec.hidden_size, "f": RWKV_FP32_BYTES}
        model_dtype = "2 × H × b" if dtype.block_values == 1 else "(2 × H / v) × b"
        return [leaf("state", "recurrent state (2 × H model dtype + 3 × H float32)",
                     f"B × ({model_dtype} + 3 × H × f)", state)]
    if isinstance(attention, LatentAttention):
        b = {**size, "T": point.tokens, "n_h": attention.num_heads, "r_kv": attention.kv_lora_rank,
             "d_rope": attention.qk_rope_head_dim, "d_nope": attention.qk_nope_head_dim,
             "d_v": attention.v_head_dim}
        if mha:
            return [leaf("k", "K per head (uncompressed)", _values("n_h × (d_nope + d_rope)", dtype), b),
                    leaf("v", "V per head (uncompressed)", _values("n_h × d_v", dtype), b)]
        return [leaf("latent", "compressed KV latent + shared RoPE key", _values("(r_kv + d_rope)", dtype), b)]
    if isinstance(attention, StateSpace):
        return _mamba_state(attention, size, dtype)
    if isinstance(attention, LinearAttention):
        b = {**size, "C_conv": attention.conv_channels, "d_conv": attention.conv_kernel,
             "n_val": attention.value_heads, "d_qk": attention.key_head_dim, "d_val": attention.value_head_dim,
             "f": STATE_FP32_BYTES}
        return [leaf("conv_state", "convolution state (the last inputs of Q, K, V)",
                     _state_values("C_conv × d_conv", dtype), b),
                leaf("recurrent_state", "recurrent state (d_qk × d_val per V head, float32)",
                     "B × n_val × d_qk × d_val × f", b)]
    if isinstance(attention, LightningAttention):
        b = {**size, "n_h": attention.num_heads, "d": attention.head_dim}
        return [leaf("recurrent_state", "recurrent state (d × d per head, model dtype)",
                     _state_values("n_h × d × d", dtype), b)]
    window = attention.cached_window if point.windows else None
    cached = min(point.tokens, window) if window is not None else point.tokens
    b = {**size, "T": cached, "n_kv": attention.num_heads if mha else attention.num_kv_heads,
         "d": attention.head_dim}
    kind = "window" if attention.sliding_window is not None else "chunk"
    window_note = f" ({kind} {window})" if window is not None and window < point.tokens else ""
    parts = [leaf("k", f"K{window_note}", _values("n_kv × d", dtype), b),
             leaf("v", f"V{window_note}", _values("n_kv × d", dtype), b)]
    cross = layer.cross_attention
    if cross is not None:
        c = {**size, "T": point.encoder_tokens, "n_kv": cross.num_heads if mha else cross.num_kv_heads,
             "d": cross.head_dim}
        parts += [leaf("cross_k", "cross-attention K (encoder tokens)", _values("n_kv × d", dtype), c),
                  leaf("cross_v", "cross-attention V (encoder tokens)", _values("n_kv × d", dtype), c)]
    if layer.parallel_mixer is not None:
        parts += _mamba_state(layer.parallel_mixer, size, dtype)
    return parts


def _state_values(count: str, dtype: DType) -> str:
    """`B × count × b`: a state per sequence, whatever the number of tokens."""
    if dtype.block_values == 1:
        return f"B × {count} × b"
    return f"B × ({count} / v) × b"


def _mamba_state(ssm: StateSpace, size: dict[str, int], dtype: DType) -> list[Term]:
    b = {**size, "C_conv": ssm.conv_channels, "d_conv": ssm.conv_kernel, "d_in": ssm.inner_size,
         "N": ssm.state_size, "f": STATE_FP32_BYTES}
    conv = leaf("conv_state", "convolution state (the last inputs)", _state_values("C_conv × d_conv", dtype), b)
    if ssm.version == 1:
        return [conv, leaf("ssm_state", "SSM state (N per channel, float32)", "B × d_in × N × f", b)]
    b.update(n_m=ssm.heads, d_m=ssm.head_dim)
    return [conv, leaf("ssm_state", "SSM state (d_m × N per head, float32)", "B × n_m × d_m × N × f", b)]


@record(eq=False)
class Footprint:
    """What holding the model and its cache takes, and the compute the cache saves."""

    weight_dtype: DType
    weights: int  # bytes of the weights at weight_dtype
    cache: int
    flops_with_cache: int  # weight-matmul FLOPs per generated token: the layers see one token
    flops_without_cache: int  # ... when every step reruns all the tokens instead

    @property
    def total(self) -> int:
        return self.weights + self.cache


def footprint(cache: CacheSize, count: ParamCount) -> Footprint:
    # 2 FLOPs (multiply, add) per weight per token; attention scores and norms not included.
    per_token = 2 * count.active_in_layers
    weight_dtype = cache.point.weight_dtype.dtype
    return Footprint(
        weight_dtype=weight_dtype,
        weights=dtype_bytes(count.total, weight_dtype),
        cache=cache.total,
        flops_with_cache=per_token,
        flops_without_cache=per_token * cache.tokens,
    )
