"""KV-cache memory as a tree of Terms. Pure: no I/O, no rendering.

Per layer, the cache holds K and V for every cached token of every sequence:
``T × B × n_kv × d × bytes`` each. Sliding-window layers hold at most the window;
MLA layers hold one compressed latent per token; an encoder-decoder's decoder also
holds the cross-attention K and V over the encoder's tokens; RWKV holds a fixed
recurrent state instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.memory import DType, dtype_bytes
from llmcalc.spec import Attention, Layer, LatentAttention, ModelSpec, TimeMix
from llmcalc.terms import Term, group, leaf

KIND_NOTES = {
    "kv": "K and V of every layer for every cached token",
    "latent": "MLA: one compressed latent (kv_lora_rank + qk_rope_head_dim) per token and layer, "
              "instead of K and V per head",
    "state": "RWKV keeps no KV cache: a fixed recurrent state per sequence (5 vectors of H per layer; "
             "3 of them float32, as transformers' RwkvModel keeps them)",
    "none": "an encoder has no autoregressive cache",
}

# RWKV-4's state: 2 vectors in the model dtype, 3 accumulators in float32 (transformers).
RWKV_FP32_BYTES = 4


@dataclass(frozen=True, eq=False)
class CacheSize:
    root: Term  # per layer group: K and V (or latent, or state) with their formulas
    kind: str  # one of KIND_NOTES
    tokens: int
    batch: int
    encoder_tokens: int
    dtype: DType
    bytes_per_token: int  # all layers, one sequence, no window cap (self-attention only)
    uncapped: Term  # the same cache if no layer had a window
    mha_equivalent: Term  # one KV head per query head (for MLA: K and V per head, uncompressed)
    windowed_layers: int  # layers whose window caps the cached tokens

    @property
    def total(self) -> int:
        return self.root.total

    @property
    def recompute_peak(self) -> int:
        """Without a cache, K and V are recomputed one layer at a time: the largest layer's."""
        return max((part.value for stack in self.root.children for part in stack.children), default=0)


def cache_kind(spec: ModelSpec) -> str:
    if spec.architecture == "encoder":
        return "none"
    attention = _cached_stacks(spec)[0].layers[0].attention
    if isinstance(attention, LatentAttention):
        return "latent"
    if isinstance(attention, TimeMix):
        return "state"
    return "kv"


def kv_cache(spec: ModelSpec, tokens: int, batch: int, dtype: DType, windows: bool = True,
             encoder_tokens: int | None = None) -> CacheSize:
    """The cache for `batch` sequences of `tokens` tokens (`encoder_tokens` for cross-attention)."""
    encoder = tokens if encoder_tokens is None else encoder_tokens
    capped = _cache_tree(spec, tokens, batch, dtype, encoder, windows=windows, mha=False)
    uncapped = _cache_tree(spec, tokens, batch, dtype, encoder, windows=False, mha=False)
    kind = cache_kind(spec)
    # A recurrent state does not grow with the tokens: nothing per token.
    per_token = 0 if kind == "state" else _cache_tree(spec, 1, 1, dtype, 0, windows=False, mha=False).total
    windowed = sum(
        1 for stack in _cached_stacks(spec) for layer in stack.layers
        if windows and isinstance(layer.attention, Attention)
        and layer.attention.sliding_window is not None and layer.attention.sliding_window < tokens
    )
    return CacheSize(
        root=capped,
        kind=kind,
        tokens=tokens,
        batch=batch,
        encoder_tokens=encoder if _has_cross_attention(spec) else 0,
        dtype=dtype,
        bytes_per_token=per_token,
        uncapped=uncapped,
        mha_equivalent=_cache_tree(spec, tokens, batch, dtype, encoder, windows=windows, mha=True),
        windowed_layers=windowed,
    )


def _cached_stacks(spec: ModelSpec) -> list:
    if spec.architecture == "encoder":
        return []
    # An encoder-decoder caches in its decoder only; the encoder runs once over the input.
    return [stack for stack in spec.stacks if stack.name != "encoder"]


def _has_cross_attention(spec: ModelSpec) -> bool:
    return any(layer.cross_attention is not None for stack in _cached_stacks(spec) for layer in stack.layers)


def _cache_tree(spec: ModelSpec, tokens: int, batch: int, dtype: DType, encoder_tokens: int,
                windows: bool, mha: bool) -> Term:
    stacks = []
    for stack in _cached_stacks(spec):
        # Layers are grouped by what they cache, wherever they stand: Gemma-2's alternating
        # local and global layers make two groups, not 42.
        shapes: dict[tuple, list[int]] = {}
        caches: dict[tuple, list[Term]] = {}
        for index, layer in enumerate(stack.layers):
            terms = _layer_cache(spec, layer, tokens, batch, dtype, encoder_tokens, windows, mha)
            shapes.setdefault(_shape(terms), []).append(index)
            caches.setdefault(_shape(terms), terms)
        parts = [group(f"layers.{_spans(indices)}", _layers_label(indices), caches[shape], repeat=len(indices))
                 for shape, indices in shapes.items()]
        stacks.append(group(stack.name, f"{stack.name} ({len(stack.layers)} layers)", parts))
    return group("kv_cache", "KV cache", stacks)


def _spans(indices: list[int]) -> str:
    """`0-31`, or `0,2,4` for layers that are not contiguous."""
    if indices == list(range(indices[0], indices[-1] + 1)):
        return f"{indices[0]}-{indices[-1]}" if len(indices) > 1 else f"{indices[0]}"
    return ",".join(str(index) for index in indices)


def _layers_label(indices: list[int]) -> str:
    if len(indices) > 3 and indices != list(range(indices[0], indices[-1] + 1)):
        return f"layers {indices[0]}, {indices[1]}, …, {indices[-1]}"
    return f"layers {_spans(indices)}"


def _shape(terms: list[Term]) -> tuple:
    return tuple((t.key, t.formula, tuple(sorted(t.bindings.items()))) for t in terms)


def _values(count: str, dtype: DType) -> str:
    """`T × B × count × bytes`, with whole blocks for packed formats (q8_0: 34 bytes per 32)."""
    if dtype.block_values == 1:
        return f"T × B × {count} × b"
    return f"T × B × ({count} / v) × b"


def _layer_cache(spec: ModelSpec, layer: Layer, tokens: int, batch: int, dtype: DType,
                 encoder_tokens: int, windows: bool, mha: bool) -> list[Term]:
    size = {"B": batch, "b": dtype.block_bytes, "v": dtype.block_values}
    attention = layer.attention
    if isinstance(attention, TimeMix):
        state = {"B": batch, "H": spec.hidden_size, "b": dtype.block_bytes, "v": dtype.block_values,
                 "f": RWKV_FP32_BYTES}
        model_dtype = "2 × H × b" if dtype.block_values == 1 else "(2 × H / v) × b"
        return [leaf("state", "recurrent state (2 × H model dtype + 3 × H float32)",
                     f"B × ({model_dtype} + 3 × H × f)", state)]
    if isinstance(attention, LatentAttention):
        b = {**size, "T": tokens, "n_h": attention.num_heads, "r_kv": attention.kv_lora_rank,
             "d_rope": attention.qk_rope_head_dim, "d_nope": attention.qk_nope_head_dim,
             "d_v": attention.v_head_dim}
        if mha:
            return [leaf("k", "K per head (uncompressed)", _values("n_h × (d_nope + d_rope)", dtype), b),
                    leaf("v", "V per head (uncompressed)", _values("n_h × d_v", dtype), b)]
        return [leaf("latent", "compressed KV latent + shared RoPE key", _values("(r_kv + d_rope)", dtype), b)]
    assert isinstance(attention, Attention)
    window = attention.sliding_window if windows else None
    cached = min(tokens, window) if window is not None else tokens
    kv_heads = attention.num_heads if mha else attention.num_kv_heads
    b = {**size, "T": cached, "n_kv": kv_heads, "d": attention.head_dim}
    window_note = f" (window {window})" if window is not None and window < tokens else ""
    parts = [leaf("k", f"K{window_note}", _values("n_kv × d", dtype), b),
             leaf("v", f"V{window_note}", _values("n_kv × d", dtype), b)]
    cross = layer.cross_attention
    if cross is not None:
        cross_heads = cross.num_heads if mha else cross.num_kv_heads
        c = {**size, "T": encoder_tokens, "n_kv": cross_heads, "d": cross.head_dim}
        parts += [leaf("cross_k", "cross-attention K (encoder tokens)", _values("n_kv × d", dtype), c),
                  leaf("cross_v", "cross-attention V (encoder tokens)", _values("n_kv × d", dtype), c)]
    return parts


def attention_sharing(spec: ModelSpec) -> str:
    """MHA, GQA or MQA for the cached attention layers; MLA; or '' when there is no KV cache."""
    layers = [layer.attention for stack in _cached_stacks(spec) for layer in stack.layers]
    if not layers or isinstance(layers[0], TimeMix):
        return ""
    if isinstance(layers[0], LatentAttention):
        return "MLA"
    if all(att.num_kv_heads == att.num_heads for att in layers):
        return "MHA"
    if all(att.num_kv_heads == 1 for att in layers):
        return "MQA"
    return "GQA"


def saving_factor(cache: CacheSize) -> float | None:
    """How many times larger the multi-head (or uncompressed) cache would be."""
    return cache.mha_equivalent.total / cache.total if cache.total else None


@dataclass(frozen=True, eq=False)
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


def footprint(cache: CacheSize, params: int, active_layer_params: int, weight_dtype: DType) -> Footprint:
    # 2 FLOPs (multiply, add) per weight per token; attention scores and norms not included.
    per_token = 2 * active_layer_params
    return Footprint(
        weight_dtype=weight_dtype,
        weights=dtype_bytes(params, weight_dtype),
        cache=cache.total,
        flops_with_cache=per_token,
        flops_without_cache=per_token * cache.tokens,
    )
