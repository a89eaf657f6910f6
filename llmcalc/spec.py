"""ModelSpec: one frozen description of an architecture, whatever it was read from.

The typed tree only. Each part checks its own invariants when it is made (and raises
InvalidPart naming the preset key at fault); `schema.build_spec` turns a flat mapping of
preset fields into this tree and names the file. The core trusts what it receives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from llmcalc.errors import InvalidPart
from llmcalc.memory import DType

NORM_KINDS = ("rmsnorm", "layernorm", "layernorm_no_bias", "nonparametric")
ARCHITECTURES = ("decoder", "encoder", "encoder-decoder", "rwkv")
QK_NORMS = ("none", "head", "full", "per_head")
LAYER_TYPES = ("sliding_attention", "full_attention")

# Weight (scale) and bias per normalised feature, by norm kind.
NORM_PARAMS_PER_FEATURE = {"rmsnorm": 1, "layernorm": 2, "layernorm_no_bias": 1, "nonparametric": 0}


def _positive(key: str, value: int | None) -> None:
    if value is not None and value <= 0:
        raise InvalidPart(key, f"must be a positive integer, got {value}")


# Every token mixer answers the same questions (cache_kind, query_heads, kv_heads,
# head_width), so callers ask them instead of dispatching on the class.

@dataclass(frozen=True)
class Attention:
    """Multi-head attention with MHA/GQA/MQA key-value sharing."""

    num_heads: int
    num_kv_heads: int
    head_dim: int
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: str = "none"
    sliding_window: int | None = None
    relative_attention_buckets: int = 0
    localized_filtering: bool = False

    cache_kind: ClassVar[str] = "kv"

    def __post_init__(self) -> None:
        _positive("num_attention_heads", self.num_heads)
        _positive("num_key_value_heads", self.num_kv_heads)
        _positive("head_dim", self.head_dim)
        _positive("sliding_window", self.sliding_window)
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
    def layout(self) -> str:
        if self.num_kv_heads == self.num_heads:
            return "MHA"
        return "MQA" if self.num_kv_heads == 1 else "GQA"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class TimeMix:
    """RWKV-4's attention replacement."""

    attention_hidden_size: int

    cache_kind: ClassVar[str] = "state"
    layout: ClassVar[str] = ""
    query_heads: ClassVar[None] = None
    kv_heads: ClassVar[None] = None
    head_width: ClassVar[None] = None

    def __post_init__(self) -> None:
        _positive("attention_hidden_size", self.attention_hidden_size)


@dataclass(frozen=True)
class FeedForward:
    intermediate_size: int
    gated: bool
    bias: bool = False

    def __post_init__(self) -> None:
        _positive("intermediate_size", self.intermediate_size)


@dataclass(frozen=True)
class MixtureOfExperts:
    num_experts: int
    num_experts_per_tok: int
    expert_intermediate_size: int
    gated: bool
    shared_expert_intermediate_size: int = 0
    shared_expert_gate: bool = False

    def __post_init__(self) -> None:
        _positive("num_experts", self.num_experts)
        _positive("num_experts_per_tok", self.num_experts_per_tok)
        _positive("moe_intermediate_size", self.expert_intermediate_size)
        if self.num_experts_per_tok > self.num_experts:
            raise InvalidPart("num_experts_per_tok",
                              f"{self.num_experts_per_tok} exceeds num_experts {self.num_experts}")


@dataclass(frozen=True)
class ChannelMix:
    """RWKV-4's feed-forward replacement."""

    intermediate_size: int

    def __post_init__(self) -> None:
        _positive("intermediate_size", self.intermediate_size)


MixerKind = Union[Attention, LatentAttention, TimeMix]
FeedForwardKind = Union[FeedForward, MixtureOfExperts, ChannelMix]


@dataclass(frozen=True)
class Layer:
    mixer: MixerKind  # what mixes tokens: attention, MLA, a linear-attention or SSM state
    ffn: FeedForwardKind
    norms: int  # hidden-size norms in this block (2 pre-norm, 1 parallel, 4 sandwich, ...)
    cross_attention: Attention | None = None


# Creating a dataclass costs about a millisecond of start-up here (each generated method is
# compiled), so value equality is generated only where it is used: layers and their parts
# are compared to group identical layers.


@dataclass(frozen=True, eq=False)
class Stack:
    name: str
    layers: tuple[Layer, ...]
    final_norm: bool


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Token embedding and what shares or surrounds it, including the LM head."""

    vocab_size: int
    learned_positions: int = 0
    token_types: int = 0
    norm: bool = False
    head: str = "untied"  # "untied", "tied" (reuses the token embedding) or "none" (a bare encoder)
    head_bias: bool = False


@dataclass(frozen=True, eq=False)
class Reference:
    params: int
    source: str


@dataclass(frozen=True, eq=False)
class ModelSpec:
    name: str
    family: str
    architecture: str
    hidden_size: int
    norm: str  # one of NORM_KINDS, for every hidden-size norm (and QK / latent norms)
    embeddings: Embeddings
    stacks: tuple[Stack, ...]
    pooler: bool
    context_length: int | None
    torch_dtype: DType | None = None  # the precision the checkpoint is published in
    quantization: DType | None = None  # the weight format of a quantized checkpoint
    hf_repo: str = ""
    aliases: tuple[str, ...] = ()
    reference: Reference | None = None
    notes: str = ""
    fields: Mapping[str, Any] | None = None  # the validated input fields, for --json and --set
    overrides: Mapping[str, Any] | None = None  # --set and flags applied on top of a preset

    @property
    def norm_params_per_feature(self) -> int:
        return NORM_PARAMS_PER_FEATURE[self.norm]

    @property
    def num_layers(self) -> int:
        return sum(len(stack.layers) for stack in self.stacks)

    @property
    def layers(self) -> list[Layer]:
        return [layer for stack in self.stacks for layer in stack.layers]

    @property
    def cached_stacks(self) -> tuple[Stack, ...]:
        """The stacks that keep a cache while generating: an encoder-decoder's decoder only
        (the encoder runs once over the input), none for a bare encoder."""
        if self.architecture == "encoder":
            return ()
        return tuple(stack for stack in self.stacks if stack.name != "encoder")

    @property
    def cache_kind(self) -> str:
        """`kv`, `latent` (MLA), `state` (RWKV), or `none` (an encoder keeps no cache)."""
        stacks = self.cached_stacks
        return stacks[0].layers[0].mixer.cache_kind if stacks else "none"

    @property
    def attention_layout(self) -> str:
        """MHA, GQA or MQA (over every attention layer), MLA, or '' for RWKV."""
        layouts = {layer.mixer.layout for layer in self.layers}
        if len(layouts) == 1:
            return layouts.pop()
        return "GQA"  # layers that differ in KV sharing (OpenELM) share in groups overall

    def with_kv_heads(self, kv_heads: int) -> ModelSpec:
        """The same model with every multi-head attention keeping `kv_heads` K/V heads
        (head widths unchanged): what MHA, GQA or MQA would make of it."""
        def regroup(attention: Any) -> Any:
            if isinstance(attention, Attention):
                return dataclasses.replace(attention, num_kv_heads=kv_heads)
            return attention

        regrouped: dict[int, Layer] = {}  # by identity: the same layer object is rebuilt once

        def rebuild(layer: Layer) -> Layer:
            if id(layer) not in regrouped:
                regrouped[id(layer)] = dataclasses.replace(layer, mixer=regroup(layer.mixer),
                                                           cross_attention=regroup(layer.cross_attention))
            return regrouped[id(layer)]

        stacks = tuple(dataclasses.replace(stack, layers=tuple(rebuild(layer) for layer in stack.layers))
                       for stack in self.stacks)
        return dataclasses.replace(self, stacks=stacks, reference=None)
