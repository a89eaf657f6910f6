"""ModelSpec: one frozen description of an architecture, whatever it was read from.

Every reader (preset YAML, command-line flags) produces a flat mapping that uses the
Hugging Face ``config.json`` field names where one exists; :func:`build_spec` is the
only place that mapping is validated. The core trusts what it returns.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from llmcalc.errors import SpecError

NORM_KINDS = ("rmsnorm", "layernorm", "layernorm_no_bias", "nonparametric")
HEAD_KINDS = ("untied", "tied", "none")
ARCHITECTURES = ("decoder", "encoder", "encoder-decoder", "rwkv")
QK_NORMS = ("none", "head", "full")
LAYER_TYPES = ("sliding_attention", "full_attention")


# Weight (scale) and bias per normalised feature, by norm kind.
NORM_PARAMS_PER_FEATURE = {"rmsnorm": 1, "layernorm": 2, "layernorm_no_bias": 1, "nonparametric": 0}


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


@dataclass(frozen=True)
class TimeMix:
    """RWKV-4's attention replacement."""

    attention_hidden_size: int


@dataclass(frozen=True)
class FeedForward:
    intermediate_size: int
    gated: bool
    bias: bool = False


@dataclass(frozen=True)
class MixtureOfExperts:
    num_experts: int
    num_experts_per_tok: int
    expert_intermediate_size: int
    gated: bool
    shared_expert_intermediate_size: int = 0
    shared_expert_gate: bool = False


@dataclass(frozen=True)
class ChannelMix:
    """RWKV-4's feed-forward replacement."""

    intermediate_size: int


AttentionKind = Union[Attention, LatentAttention, TimeMix]
FeedForwardKind = Union[FeedForward, MixtureOfExperts, ChannelMix]


@dataclass(frozen=True)
class Layer:
    attention: AttentionKind
    ffn: FeedForwardKind
    norms: int  # hidden-size norms in this block (2 pre-norm, 1 parallel, 4 sandwich, ...)
    cross_attention: Attention | None = None


# Creating a dataclass costs about a millisecond of start-up here (each generated method is
# compiled), so value equality is generated only where it is used: layers and their parts
# are compared to group identical consecutive layers.


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
    head: str = "untied"  # one of HEAD_KINDS; "tied" reuses the token embedding
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
    hf_repo: str = ""
    aliases: tuple[str, ...] = ()
    reference: Reference | None = None
    notes: str = ""
    fields: Mapping[str, Any] | None = None  # the validated input fields, for --json
    overrides: Mapping[str, Any] | None = None  # --set and flags applied on top of a preset

    @property
    def norm_params_per_feature(self) -> int:
        return NORM_PARAMS_PER_FEATURE[self.norm]

    @property
    def num_layers(self) -> int:
        return sum(len(stack.layers) for stack in self.stacks)


# --- schema -------------------------------------------------------------------------------

# Each field: (accepted types, default, what it means). A default of REQUIRED means the
# field must be given. Per-layer fields also accept a list with one value per layer.
REQUIRED = object()
_INT = (int,)
_BOOL = (bool,)
_STR = (str,)
_OPT_INT = (int, type(None))

SCHEMA: dict[str, tuple[tuple[type, ...], Any, str]] = {
    # identity and provenance
    "name": (_STR, REQUIRED, "canonical lower-case name"),
    "family": (_STR, "custom", "model family"),
    "hf_repo": (_STR, "", "Hugging Face repo id"),
    "aliases": ((list,), [], "other names this preset answers to"),
    "reference": ((dict, type(None)), None, "{params: exact int, source: where it comes from}"),
    "notes": (_STR, "", "free text shown with the model"),
    "torch_dtype": (_STR, "", "dtype the checkpoint is published in"),
    "quantization": (_STR, "", "weight format of a quantized checkpoint: fp8_e4m3, int8, int4"),
    # layout
    "architecture": (_STR, "decoder", "one of " + ", ".join(ARCHITECTURES)),
    "vocab_size": (_INT, REQUIRED, "V, rows of the token embedding"),
    "hidden_size": (_INT, REQUIRED, "H, the model width"),
    "num_hidden_layers": (_INT, REQUIRED, "L, layers (the encoder's, for encoder-decoder)"),
    "num_decoder_layers": (_OPT_INT, None, "decoder layers of an encoder-decoder (default L)"),
    "max_position_embeddings": (_OPT_INT, None, "context length"),
    # attention
    "num_attention_heads": (_OPT_INT, None, "query heads, required but for RWKV (int or per-layer list)"),
    "num_key_value_heads": (_OPT_INT, None, "KV heads (default: = heads; int or per-layer list)"),
    "head_dim": (_OPT_INT, None, "per-head width (default hidden_size / heads)"),
    "attention_bias": (_BOOL, False, "bias on q, k, v and o projections"),
    "qkv_bias": (_BOOL, False, "bias on q, k, v only (Qwen, ChatGLM2)"),
    "qk_norm": (_STR, "none", "norm on queries and keys: none, head (per head), full"),
    "sliding_window": (_OPT_INT, None, "local attention window in tokens"),
    "layer_types": ((list, type(None)), None, "per layer: sliding_attention or full_attention"),
    "sliding_window_pattern": (_OPT_INT, None, "every Nth layer is global, the others local"),
    "relative_attention_num_buckets": (_INT, 0, "T5 relative bias buckets (first layer of each stack)"),
    "localized_filtering": (_BOOL, False, "Yuan2's localized-filtering convolutions on q/k"),
    # MLA (DeepSeek-V2/V3)
    "kv_lora_rank": (_OPT_INT, None, "MLA: latent KV rank (enables MLA)"),
    "q_lora_rank": (_OPT_INT, None, "MLA: latent query rank (null: direct q projection)"),
    "qk_nope_head_dim": (_OPT_INT, None, "MLA: per-head query/key width without RoPE"),
    "qk_rope_head_dim": (_OPT_INT, None, "MLA: per-head decoupled RoPE width"),
    "v_head_dim": (_OPT_INT, None, "MLA: per-head value width"),
    # feed-forward and experts
    "intermediate_size": (_OPT_INT, None, "FFN width I (default 4·H; int or per-layer list)"),
    "gated_ffn": (_BOOL, True, "gated FFN (SwiGLU/GeGLU: 3·H·I) or plain (2·H·I)"),
    "mlp_bias": (_BOOL, False, "bias on FFN projections"),
    "num_experts": (_OPT_INT, None, "routed experts per MoE layer"),
    "num_experts_per_tok": (_OPT_INT, None, "experts each token is routed to (top-k)"),
    "moe_intermediate_size": (_OPT_INT, None, "width of one routed expert (default intermediate_size)"),
    "shared_expert_intermediate_size": (_INT, 0, "width of the always-on shared expert (Qwen-MoE)"),
    "n_shared_experts": (_INT, 0, "shared experts of moe_intermediate_size each (DeepSeek)"),
    "shared_expert_gate": (_BOOL, False, "sigmoid gate on the shared expert (Qwen-MoE)"),
    "first_k_dense_replace": (_INT, 0, "leading layers with a dense FFN instead of experts"),
    "num_nextn_predict_layers": (_INT, 0, "multi-token-prediction modules (not counted)"),
    # RWKV
    "attention_hidden_size": (_OPT_INT, None, "RWKV time-mix width (default H)"),
    # norms, embeddings, head
    "norm": (_STR, "rmsnorm", "one of " + ", ".join(NORM_KINDS)),
    "norms_per_layer": (_INT, 2, "hidden-size norms per block (1 parallel, 4 sandwich)"),
    "final_norm": (_BOOL, True, "a norm after the last layer"),
    "learned_position_embeddings": (_BOOL, False, "a learned max_position_embeddings × H table"),
    "type_vocab_size": (_INT, 0, "token-type (segment) embeddings (BERT)"),
    "embedding_norm": (_BOOL, False, "a norm right after the embeddings (BLOOM, BERT)"),
    "tie_word_embeddings": (_BOOL, False, "LM head shares the token embedding"),
    "lm_head": (_BOOL, True, "has an LM head (false for a bare encoder)"),
    "lm_head_bias": (_BOOL, False, "bias on the LM head (GPT-J)"),
    "pooler": (_BOOL, False, "BERT's H × H pooler with bias"),
}

# Spellings from other configs that mean a schema field.
SYNONYMS = {
    "num_local_experts": "num_experts",  # Mixtral
    "n_routed_experts": "num_experts",  # DeepSeek
}

PER_LAYER_FIELDS = ("num_attention_heads", "num_key_value_heads", "intermediate_size")
POSITIVE_FIELDS = (
    "vocab_size", "hidden_size", "num_hidden_layers", "num_decoder_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "intermediate_size", "max_position_embeddings",
    "sliding_window", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",
    "num_experts", "num_experts_per_tok", "moe_intermediate_size", "attention_hidden_size",
    "norms_per_layer", "sliding_window_pattern",
)
NON_NEGATIVE_FIELDS = (
    "relative_attention_num_buckets", "shared_expert_intermediate_size", "n_shared_experts",
    "first_k_dense_replace", "num_nextn_predict_layers", "type_vocab_size", "q_lora_rank",
)


def _type_name(types: tuple[type, ...]) -> str:
    names = {int: "an integer", bool: "true or false", str: "a string", list: "a list",
             dict: "a mapping", type(None): "null"}
    return " or ".join(names[t] for t in types)


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    # bool is an int subclass in Python; a size given as `true` is a mistake, not 1.
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def normalise_fields(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check names and types of a flat mapping; return it with defaults filled in."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise SpecError(source, str(key), "keys must be strings")
        name = SYNONYMS.get(key, key)
        if name not in SCHEMA:
            close = difflib.get_close_matches(key, list(SCHEMA) + list(SYNONYMS), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else "see presets/README.md for the keys"
            raise SpecError(source, key, f"unknown key; {hint}")
        if name in fields:
            raise SpecError(source, key, f"given twice (also as {name!r})")
        types = SCHEMA[name][0]
        if name in PER_LAYER_FIELDS and isinstance(value, list):
            for item in value:
                if not _is_instance(item, (int,)):
                    raise SpecError(source, key, f"per-layer list must hold integers, got {item!r}")
        elif not _is_instance(value, types):
            raise SpecError(source, key, f"must be {_type_name(types)}, got {value!r}")
        fields[name] = value
    for name, (_types, default, _doc) in SCHEMA.items():
        if name not in fields:
            if default is REQUIRED:
                raise SpecError(source, name, "missing; it is required")
            fields[name] = list(default) if isinstance(default, list) else default
    for name in POSITIVE_FIELDS:
        for item in _as_list(fields[name]):
            if item is not None and item <= 0:
                raise SpecError(source, name, f"must be a positive integer, got {item}")
    for name in NON_NEGATIVE_FIELDS:
        if fields[name] is not None and fields[name] < 0:
            raise SpecError(source, name, f"must be zero or positive, got {fields[name]}")
    return fields


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _per_layer(fields: Mapping[str, Any], name: str, layers: int, source: str) -> list[int]:
    value = fields[name]
    if isinstance(value, list):
        if len(value) != layers:
            raise SpecError(source, name, f"per-layer list has {len(value)} values for {layers} layers")
        return list(value)
    return [value] * layers


def _choice(fields: Mapping[str, Any], name: str, allowed: tuple[str, ...], source: str) -> str:
    value = fields[name]
    if value not in allowed:
        raise SpecError(source, name, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def build_spec(raw: Mapping[str, Any], source: str) -> ModelSpec:
    """Validate a flat mapping of preset fields and build the ModelSpec."""
    fields = normalise_fields(raw, source)
    architecture = _choice(fields, "architecture", ARCHITECTURES, source)
    norm = _choice(fields, "norm", NORM_KINDS, source)
    _choice(fields, "qk_norm", QK_NORMS, source)
    hidden = fields["hidden_size"]
    layers = fields["num_hidden_layers"]

    if architecture == "rwkv":
        stacks = (_rwkv_stack(fields),)
    else:
        main_name = "encoder" if architecture in ("encoder", "encoder-decoder") else "decoder"
        stacks_list = [_transformer_stack(fields, main_name, layers, cross_attention=False, source=source)]
        if architecture == "encoder-decoder":
            decoder_layers = fields["num_decoder_layers"] or layers
            stacks_list.append(
                _transformer_stack(fields, "decoder", decoder_layers, cross_attention=True, source=source)
            )
        stacks = tuple(stacks_list)

    reference = None
    if fields["reference"] is not None:
        reference = _reference(fields["reference"], source)

    if not fields["lm_head"]:
        head = "none"
    else:
        head = "tied" if fields["tie_word_embeddings"] else "untied"

    return ModelSpec(
        name=fields["name"],
        family=fields["family"],
        architecture=architecture,
        hidden_size=hidden,
        norm=norm,
        embeddings=Embeddings(
            vocab_size=fields["vocab_size"],
            learned_positions=(fields["max_position_embeddings"] or 0)
            if fields["learned_position_embeddings"] else 0,
            token_types=fields["type_vocab_size"],
            norm=fields["embedding_norm"],
            head=head,
            head_bias=fields["lm_head_bias"],
        ),
        stacks=stacks,
        pooler=fields["pooler"],
        context_length=fields["max_position_embeddings"],
        hf_repo=fields["hf_repo"],
        aliases=tuple(str(alias) for alias in fields["aliases"]),
        reference=reference,
        notes=fields["notes"],
        fields=fields,
    )


def _reference(value: Mapping[str, Any], source: str) -> Reference:
    params, origin = value.get("params"), value.get("source")
    if not _is_instance(params, (int,)) or params <= 0:
        raise SpecError(source, "reference.params", f"must be a positive integer, got {params!r}")
    if not isinstance(origin, str) or not origin.strip():
        raise SpecError(source, "reference.source", "must say where the number comes from")
    extra = set(value) - {"params", "source"}
    if extra:
        raise SpecError(source, "reference", f"unknown key {sorted(extra)[0]!r}; allowed: params, source")
    return Reference(params=params, source=origin)


def _transformer_stack(
    fields: Mapping[str, Any], name: str, layers: int, cross_attention: bool, source: str
) -> Stack:
    hidden = fields["hidden_size"]
    if fields["num_attention_heads"] is None:
        raise SpecError(source, "num_attention_heads", "missing; it is required")
    # Per-layer lists describe the main stack; an encoder-decoder's stacks are uniform.
    heads = _per_layer(fields, "num_attention_heads", layers, source)
    kv_field = "num_key_value_heads" if fields["num_key_value_heads"] is not None else "num_attention_heads"
    kv_heads = _per_layer(fields, kv_field, layers, source)
    if fields["intermediate_size"] is None:
        widths = [4 * hidden] * layers
    else:
        widths = _per_layer(fields, "intermediate_size", layers, source)
    windows = _windows(fields, layers, source)
    uses_mla = fields["kv_lora_rank"] is not None
    uses_moe = fields["num_experts"] is not None
    if uses_moe and fields["num_experts_per_tok"] is None:
        raise SpecError(source, "num_experts_per_tok", "missing; MoE models need top-k")
    if uses_moe and fields["num_experts_per_tok"] > fields["num_experts"]:
        raise SpecError(source, "num_experts_per_tok",
                        f"{fields['num_experts_per_tok']} exceeds num_experts {fields['num_experts']}")

    built = []
    for index in range(layers):
        n_heads, n_kv = heads[index], kv_heads[index]
        if uses_mla:
            attention: AttentionKind = _latent_attention(fields, n_heads, source)
        else:
            attention = Attention(
                num_heads=n_heads,
                num_kv_heads=n_kv,
                head_dim=_head_dim(fields, n_heads, n_kv, source),
                qkv_bias=fields["attention_bias"] or fields["qkv_bias"],
                o_bias=fields["attention_bias"],
                qk_norm=fields["qk_norm"],
                sliding_window=windows[index],
                relative_attention_buckets=fields["relative_attention_num_buckets"] if index == 0 else 0,
                localized_filtering=fields["localized_filtering"],
            )
        if uses_moe and index >= fields["first_k_dense_replace"]:
            expert_width = fields["moe_intermediate_size"] or widths[index]
            ffn: FeedForwardKind = MixtureOfExperts(
                num_experts=fields["num_experts"],
                num_experts_per_tok=fields["num_experts_per_tok"],
                expert_intermediate_size=expert_width,
                gated=fields["gated_ffn"],
                shared_expert_intermediate_size=fields["shared_expert_intermediate_size"]
                + fields["n_shared_experts"] * expert_width,
                shared_expert_gate=fields["shared_expert_gate"],
            )
        else:
            ffn = FeedForward(widths[index], gated=fields["gated_ffn"], bias=fields["mlp_bias"])
        cross = None
        if cross_attention:
            cross = Attention(
                num_heads=n_heads,
                num_kv_heads=n_kv,
                head_dim=_head_dim(fields, n_heads, n_kv, source),
                qkv_bias=fields["attention_bias"] or fields["qkv_bias"],
                o_bias=fields["attention_bias"],
            )
        norms = fields["norms_per_layer"] + (1 if cross_attention else 0)
        built.append(Layer(attention=attention, ffn=ffn, norms=norms, cross_attention=cross))
    return Stack(name=name, layers=tuple(built), final_norm=fields["final_norm"])


def _windows(fields: Mapping[str, Any], layers: int, source: str) -> list[int | None]:
    """Each layer's attention window: all local (Mistral), or a local/global schedule (Gemma-2)."""
    window = fields["sliding_window"]
    types, pattern = fields["layer_types"], fields["sliding_window_pattern"]
    if types is not None and pattern is not None:
        raise SpecError(source, "layer_types", "give layer_types or sliding_window_pattern, not both")
    if window is None:
        if types is not None or pattern is not None:
            raise SpecError(source, "sliding_window", "missing; a local/global schedule needs the window size")
        return [None] * layers
    if types is not None:
        if len(types) != layers or any(kind not in LAYER_TYPES for kind in types):
            raise SpecError(source, "layer_types",
                            f"must list {layers} values, each one of {', '.join(LAYER_TYPES)}")
        return [window if kind == "sliding_attention" else None for kind in types]
    if pattern is not None:
        # As Gemma's configs: layer i is global when (i + 1) is a multiple of the pattern.
        return [None if (index + 1) % pattern == 0 else window for index in range(layers)]
    return [window] * layers


def _head_dim(fields: Mapping[str, Any], heads: int, kv_heads: int, source: str) -> int:
    if kv_heads > heads or heads % kv_heads:
        raise SpecError(source, "num_key_value_heads",
                        f"{kv_heads} must divide num_attention_heads {heads} (1 = MQA, = heads: MHA)")
    if fields["head_dim"] is not None:
        return fields["head_dim"]
    hidden = fields["hidden_size"]
    if hidden % heads:
        raise SpecError(source, "head_dim",
                        f"hidden_size {hidden} is not divisible by num_attention_heads {heads}; give head_dim")
    return hidden // heads


def _latent_attention(fields: Mapping[str, Any], heads: int, source: str) -> LatentAttention:
    for name in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
        if fields[name] is None:
            raise SpecError(source, name, "missing; MLA (kv_lora_rank) needs it")
    return LatentAttention(
        num_heads=heads,
        q_lora_rank=fields["q_lora_rank"] or 0,
        kv_lora_rank=fields["kv_lora_rank"],
        qk_nope_head_dim=fields["qk_nope_head_dim"],
        qk_rope_head_dim=fields["qk_rope_head_dim"],
        v_head_dim=fields["v_head_dim"],
        bias=fields["attention_bias"],
    )


def _rwkv_stack(fields: Mapping[str, Any]) -> Stack:
    hidden = fields["hidden_size"]
    time_mix = TimeMix(fields["attention_hidden_size"] or hidden)
    channel_mix = ChannelMix(fields["intermediate_size"] if isinstance(fields["intermediate_size"], int)
                             else 4 * hidden)
    # The first block also normalises the embeddings (RWKV's pre_ln).
    first = Layer(attention=time_mix, ffn=channel_mix, norms=fields["norms_per_layer"] + 1)
    rest = Layer(attention=time_mix, ffn=channel_mix, norms=fields["norms_per_layer"])
    layers = (first,) + (rest,) * (fields["num_hidden_layers"] - 1)
    return Stack(name="blocks", layers=layers, final_norm=fields["final_norm"])
