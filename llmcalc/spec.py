"""ModelSpec: one frozen description of an architecture, whatever it was read from.

The typed tree only. Each part checks its own invariants when it is made (and raises
InvalidPart naming the preset key at fault); `schema.build_spec` turns a flat mapping of
preset fields into this tree and names the file. The core trusts what it receives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from itertools import groupby
from typing import Any, ClassVar, Union

from llmcalc.errors import InvalidPart
from llmcalc.memory import DType
from llmcalc.records import record, replace
from llmcalc.text import layer_span

NORM_KINDS = ("rmsnorm", "layernorm", "layernorm_no_bias", "nonparametric")
ARCHITECTURES = ("decoder", "encoder", "encoder-decoder", "rwkv")
QK_NORMS = ("none", "head", "full", "per_head")
# The token mixer of each layer, as transformers' `layer_types` names them (plus `mamba`;
# `hybrid` is full attention and a Mamba mixer side by side, as Falcon-H1's layers).
LAYER_TYPES = ("full_attention", "sliding_attention", "chunked_attention", "linear_attention", "mamba", "hybrid")
# The feed-forward of each layer: a dense FFN, a mixture of experts, or none (Mamba blocks).
FFN_TYPES = ("dense", "moe", "none")
# What a `linear_attention` layer is: Qwen3-Next's Gated DeltaNet or MiniMax's lightning attention.
LINEAR_ATTENTION_KINDS = ("gated_deltanet", "lightning")

# Weight (scale) and bias per normalised feature, by norm kind.
NORM_PARAMS_PER_FEATURE = {"rmsnorm": 1, "layernorm": 2, "layernorm_no_bias": 1, "nonparametric": 0}


def _positive(key: str, value: int | None) -> None:
    if value is not None and value <= 0:
        raise InvalidPart(key, f"must be a positive integer, got {value}")


# Every token mixer answers the same questions (cache_kind, query_heads, kv_heads,
# head_width), so callers ask them instead of dispatching on the class.

class KeepsState:
    """The answers of a mixer that keeps a fixed-size state instead of a cache of tokens (RWKV,
    Mamba, linear attention): no attention heads, no layout to show."""

    cache_kind: ClassVar[str] = "state"
    layout: ClassVar[str] = ""
    query_heads: ClassVar[None] = None
    kv_heads: ClassVar[None] = None
    head_width: ClassVar[None] = None


@record
class Attention:
    """Multi-head attention with MHA/GQA/MQA key-value sharing."""

    num_heads: int
    num_kv_heads: int
    head_dim: int
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: str = "none"
    sliding_window: int | None = None
    chunk_size: int | None = None  # chunked attention (Llama 4): a token sees its own chunk only
    sinks: bool = False  # one learned logit per head that absorbs attention (gpt-oss)
    output_gate: bool = False  # Q projection also yields a sigmoid gate on the output (Qwen3-Next)
    relative_attention_buckets: int = 0
    localized_filtering: bool = False

    cache_kind: ClassVar[str] = "kv"

    def __post_init__(self) -> None:
        _positive("num_attention_heads", self.num_heads)
        _positive("num_key_value_heads", self.num_kv_heads)
        _positive("head_dim", self.head_dim)
        _positive("sliding_window", self.sliding_window)
        _positive("attention_chunk_size", self.chunk_size)
        if self.sliding_window is not None and self.chunk_size is not None:
            raise InvalidPart("attention_chunk_size", "a layer is sliding-window or chunked, not both")
        if self.num_kv_heads > self.num_heads or self.num_heads % self.num_kv_heads:
            raise InvalidPart("num_key_value_heads", f"{self.num_kv_heads} must divide num_attention_heads "
                                                     f"{self.num_heads} (1 = MQA, = heads: MHA)")
        if self.qk_norm not in QK_NORMS:
            raise InvalidPart("qk_norm", f"must be one of {', '.join(QK_NORMS)}, got {self.qk_norm!r}")

    @property
    def query_heads(self) -> int:
        return self.num_heads

    @property
    def kv_heads(self) -> int | None:
        return self.num_kv_heads

    @property
    def head_width(self) -> int:
        return self.head_dim

    @property
    def cached_window(self) -> int | None:
        """The most tokens this layer's cache holds: its window or chunk (None: all)."""
        return self.sliding_window if self.sliding_window is not None else self.chunk_size

    @property
    def layout(self) -> str:
        if self.num_kv_heads == self.num_heads:
            return "MHA"
        return "MQA" if self.num_kv_heads == 1 else "GQA"


@record
class LatentAttention:
    """DeepSeek's multi-head latent attention (MLA): low-rank compressed K/V (and Q)."""

    num_heads: int
    q_lora_rank: int  # 0: queries are projected directly, without a low-rank step
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    bias: bool = False

    cache_kind: ClassVar[str] = "latent"
    layout: ClassVar[str] = "MLA"
    kv_heads: ClassVar[None] = None

    def __post_init__(self) -> None:
        for key, value in (("num_attention_heads", self.num_heads), ("kv_lora_rank", self.kv_lora_rank),
                           ("qk_nope_head_dim", self.qk_nope_head_dim),
                           ("qk_rope_head_dim", self.qk_rope_head_dim), ("v_head_dim", self.v_head_dim)):
            _positive(key, value)
        if self.q_lora_rank < 0:
            raise InvalidPart("q_lora_rank", f"must be zero or positive, got {self.q_lora_rank}")

    @property
    def query_heads(self) -> int:
        return self.num_heads

    @property
    def head_width(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim


@record
class TimeMix(KeepsState):
    """RWKV-4's attention replacement."""

    attention_hidden_size: int

    def __post_init__(self) -> None:
        _positive("attention_hidden_size", self.attention_hidden_size)


@record
class LinearAttention(KeepsState):
    """Gated DeltaNet (Qwen3-Next): linear attention that keeps a fixed-size state per value
    head, and a short causal convolution over Q, K and V, instead of a KV cache."""

    key_heads: int
    value_heads: int
    key_head_dim: int
    value_head_dim: int
    conv_kernel: int

    def __post_init__(self) -> None:
        for key, value in (("linear_num_key_heads", self.key_heads), ("linear_num_value_heads", self.value_heads),
                           ("linear_key_head_dim", self.key_head_dim),
                           ("linear_value_head_dim", self.value_head_dim),
                           ("linear_conv_kernel_dim", self.conv_kernel)):
            _positive(key, value)
        if self.value_heads % self.key_heads:
            raise InvalidPart("linear_num_value_heads", f"{self.value_heads} must be a multiple of "
                                                        f"linear_num_key_heads {self.key_heads}")

    @property
    def conv_channels(self) -> int:
        """Q, K and V pass the causal convolution: 2 × n_k × d_k + n_v × d_v channels."""
        return 2 * self.key_heads * self.key_head_dim + self.value_heads * self.value_head_dim


@record
class LightningAttention(KeepsState):
    """MiniMax-Text-01's lightning attention: linear attention with an output gate that keeps
    a head_dim × head_dim state per head instead of a KV cache."""

    num_heads: int
    head_dim: int

    def __post_init__(self) -> None:
        _positive("num_attention_heads", self.num_heads)
        _positive("head_dim", self.head_dim)


@record
class StateSpace(KeepsState):
    """A selective state-space mixer: Mamba (version 1) or Mamba-2."""

    version: int
    inner_size: int  # E, the expanded width (expand × H)
    state_size: int  # N
    conv_kernel: int
    time_step_rank: int = 0  # Mamba-1: rank of the Δt projection
    heads: int = 0  # Mamba-2: heads of E / heads channels each
    groups: int = 1  # Mamba-2: groups sharing B and C
    conv_bias: bool = True
    in_proj_bias: bool = False
    out_proj_bias: bool = False
    gated_norm: bool = True  # Mamba-2: a gated RMSNorm over E before the output projection
    inner_norms: bool = False  # Mamba-1 (Jamba): RMSNorm weights on Δt, B and C (R + 2·N)

    def __post_init__(self) -> None:
        if self.version not in (1, 2):
            raise InvalidPart("mamba_version", f"must be 1 or 2, got {self.version}")
        for key, value in (("mamba_d_inner", self.inner_size), ("mamba_d_state", self.state_size),
                           ("mamba_d_conv", self.conv_kernel), ("mamba_n_groups", self.groups)):
            _positive(key, value)
        if self.version == 1:
            _positive("mamba_dt_rank", self.time_step_rank or None)
            if not self.time_step_rank:
                raise InvalidPart("mamba_dt_rank", "missing; Mamba-1 needs the rank of its Δt projection")
        else:
            if self.heads <= 0 or self.inner_size % self.heads:
                raise InvalidPart("mamba_n_heads", f"must divide mamba_d_inner {self.inner_size}, got {self.heads}")
            if self.heads % self.groups:
                raise InvalidPart("mamba_n_groups", f"must divide mamba_n_heads {self.heads}, got {self.groups}")

    @property
    def conv_channels(self) -> int:
        """Mamba-1 convolves x (E channels); Mamba-2 convolves x, B and C (E + 2·G·N)."""
        return self.inner_size if self.version == 1 else self.inner_size + 2 * self.groups * self.state_size

    @property
    def head_dim(self) -> int:
        return self.inner_size // self.heads if self.heads else 0


@record
class FeedForward:
    intermediate_size: int
    gated: bool
    bias: bool = False

    def __post_init__(self) -> None:
        _positive("intermediate_size", self.intermediate_size)


@record
class MixtureOfExperts:
    num_experts: int
    num_experts_per_tok: int
    expert_intermediate_size: int
    gated: bool
    shared_expert_intermediate_size: int = 0
    shared_expert_gate: bool = False
    router_bias: bool = False  # gpt-oss
    expert_bias: bool = False  # biases on every expert's projections (gpt-oss)
    score_correction_bias: bool = False  # a per-expert buffer in the files, not a parameter (DeepSeek-V3)

    def __post_init__(self) -> None:
        _positive("num_experts", self.num_experts)
        _positive("num_experts_per_tok", self.num_experts_per_tok)
        _positive("moe_intermediate_size", self.expert_intermediate_size)
        if self.num_experts_per_tok > self.num_experts:
            raise InvalidPart("num_experts_per_tok",
                              f"{self.num_experts_per_tok} exceeds num_experts {self.num_experts}")


@record
class ChannelMix:
    """RWKV-4's feed-forward replacement."""

    intermediate_size: int

    def __post_init__(self) -> None:
        _positive("intermediate_size", self.intermediate_size)


MixerKind = Union[Attention, LatentAttention, TimeMix, LinearAttention, LightningAttention, StateSpace]
FeedForwardKind = Union[FeedForward, MixtureOfExperts, ChannelMix]


@record
class Layer:
    mixer: MixerKind  # what mixes tokens: attention, MLA, a linear-attention or SSM state
    ffn: FeedForwardKind | None  # None: the block has no feed-forward (Mamba)
    norms: int  # hidden-size norms in this block (2 pre-norm, 1 parallel, 4 sandwich, ...)
    cross_attention: Attention | None = None
    parallel_mixer: StateSpace | None = None  # a Mamba mixer beside the attention, same input (Falcon-H1)

    @property
    def cache_kinds(self) -> set[str]:
        kinds = {self.mixer.cache_kind}
        if self.parallel_mixer is not None:
            kinds.add(self.parallel_mixer.cache_kind)
        return kinds


# Creating a dataclass costs about a millisecond of start-up here (each generated method is
# compiled), so value equality is generated only where it is used: layers and their parts
# are compared to group identical layers.


def _distinct(layers: Iterable[Layer]) -> list[Layer]:
    """Each layer object once: a spec shares one object among identical layers."""
    return list({id(layer): layer for layer in layers}.values())


@record(eq=False)
class Stack:
    name: str
    layers: tuple[Layer, ...]
    final_norm: bool


@record(eq=False)
class Embeddings:
    """Token embedding and what shares or surrounds it, including the LM head."""

    vocab_size: int
    learned_positions: int = 0
    token_types: int = 0
    norm: bool = False
    head: str = "untied"  # "untied", "tied" (reuses the token embedding) or "none" (a bare encoder)
    head_bias: bool = False


@record(eq=False)
class Reference:
    params: int
    source: str


@record(eq=False)
class ModelSpec:
    name: str
    family: str
    model_type: str  # config.json's model_type ("" when unknown)
    architecture: str
    hidden_size: int
    norm: str  # one of NORM_KINDS, for every hidden-size norm (and QK / latent norms)
    embeddings: Embeddings
    stacks: tuple[Stack, ...]
    pooler: bool
    context_length: int | None
    rope_scaling: str = ""  # config.json's RoPE scaling type (llama3, yarn, ...); shapes only a GGUF
    torch_dtype: DType | None = None  # the precision the checkpoint is published in
    quantization: DType | None = None  # the weight format of a quantized checkpoint
    checkpoint_format: str = ""  # the `quant` format its files hold (mxfp4, fp8, gptq-int4, ...)
    hf_repo: str = ""
    aliases: tuple[str, ...] = ()
    reference: Reference | None = None
    notes: str = ""
    not_counted: tuple[str, ...] = ()  # parts of the published model outside the count
    fields: Mapping[str, Any] | None = None  # the validated input fields, for --json and --set
    overrides: Mapping[str, Any] | None = None  # --set and flags applied on top of a preset

    @property
    def norm_params_per_feature(self) -> int:
        return NORM_PARAMS_PER_FEATURE[self.norm]

    @property
    def num_layers(self) -> int:
        return sum(len(stack.layers) for stack in self.stacks)

    @cached_property
    def layers(self) -> tuple[Layer, ...]:
        """Every layer of every stack, in order (worked out once: fit and train index it often)."""
        return tuple(layer for stack in self.stacks for layer in stack.layers)

    @property
    def cached_stacks(self) -> tuple[Stack, ...]:
        """The stacks that keep a cache while generating: an encoder-decoder's decoder only
        (the encoder runs once over the input), none for a bare encoder."""
        if self.architecture == "encoder":
            return ()
        return tuple(stack for stack in self.stacks if stack.name != "encoder")

    @property
    def cache_kind(self) -> str:
        """`kv`, `latent` (MLA), `state` (RWKV, Mamba, linear attention), `hybrid` (K and V in
        some layers, a state in others), or `none` (an encoder keeps no cache)."""
        kinds = {kind for layer in _distinct(layer for stack in self.cached_stacks for layer in stack.layers)
                 for kind in layer.cache_kinds}
        if not kinds:
            return "none"
        return kinds.pop() if len(kinds) == 1 else "hybrid"

    @property
    def attention_layout(self) -> str:
        """MHA, GQA or MQA (over every attention layer), MLA, or '' without attention."""
        layouts = {layer.mixer.layout for layer in _distinct(self.layers)} - {""}
        if len(layouts) <= 1:
            return layouts.pop() if layouts else ""
        return "GQA"  # layers that differ in KV sharing (OpenELM) share in groups overall

    def with_kv_heads(self, kv_heads: int) -> ModelSpec:
        """The same model with every multi-head attention keeping `kv_heads` K/V heads
        (head widths unchanged): what MHA, GQA or MQA would make of it."""
        def regroup(attention: Any) -> Any:
            if isinstance(attention, Attention):
                return replace(attention, num_kv_heads=kv_heads)
            return attention

        regrouped: dict[int, Layer] = {}  # by identity: the same layer object is rebuilt once

        def rebuild(layer: Layer) -> Layer:
            if id(layer) not in regrouped:
                regrouped[id(layer)] = replace(layer, mixer=regroup(layer.mixer),
                                               cross_attention=regroup(layer.cross_attention))
            return regrouped[id(layer)]

        stacks = tuple(replace(stack, layers=tuple(rebuild(layer) for layer in stack.layers)) for stack in self.stacks)
        return replace(self, stacks=stacks, reference=None)


def layer_runs(stack: Stack) -> list[tuple[str, Layer, int]]:
    """(span, layer, count) for each run of consecutive layers with the same parameters.

    A sliding window holds no parameters, so Gemma-2's alternating local and global layers
    are one run. Each layer object is looked at once: a spec shares one object among
    identical layers, so a 100,000-layer model costs a handful of comparisons' worth.
    """
    shapes: dict[int, Layer] = {}

    def parameters_of(layer: Layer) -> Layer:
        if id(layer) not in shapes:
            attention = layer.mixer
            if isinstance(attention, Attention) and attention.sliding_window is not None:
                shapes[id(layer)] = replace(layer, mixer=replace(attention, sliding_window=None))
            else:
                shapes[id(layer)] = layer
        return shapes[id(layer)]

    merged: list[list[Any]] = []  # [layer, count]; a run of one object is measured once
    for _, run in groupby(stack.layers, key=id):
        members = list(run)
        shape, count = parameters_of(members[0]), len(members)
        if merged and merged[-1][0] == shape:
            merged[-1][1] += count
        else:
            merged.append([shape, count])
    runs = []
    start = 0
    for shape, count in merged:
        runs.append((layer_span(start, start + count - 1), shape, count))
        start += count
    return runs
