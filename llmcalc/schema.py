"""The preset fields, as one table, and `build_spec`: a flat mapping → a validated ModelSpec.

Every reader (preset YAML, config.json, command-line flags, `--set`) produces a flat mapping
that uses the Hugging Face ``config.json`` field names where one exists. Each field's type,
default, bounds, whether it may be given per layer, and its documentation live in SCHEMA;
the key tables of ``presets/README.md`` are generated from it (`key_tables`), and a test
fails when they differ.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from llmcalc.errors import InvalidPart, SpecError
from llmcalc.memory import DType, find_dtype
from llmcalc.records import record
from llmcalc.spec import (
    ARCHITECTURES,
    FFN_TYPES,
    LAYER_TYPES,
    LINEAR_ATTENTION_KINDS,
    NORM_KINDS,
    QK_NORMS,
    Attention,
    MixerKind,
    ChannelMix,
    Embeddings,
    FeedForward,
    FeedForwardKind,
    LatentAttention,
    Layer,
    LightningAttention,
    LinearAttention,
    MixtureOfExperts,
    ModelSpec,
    Reference,
    StateSpace,
    Stack,
    TimeMix,
)

REQUIRED = object()
# No real dimension comes near these; a larger one is a typo or a hostile file, and would
# only make the count slow.
MAX_SIZE = 2**31 - 1
MAX_LAYERS = 100_000


@record(eq=False)
class Field:
    types: tuple[type, ...]
    default: Any
    section: str
    doc: str
    shown_default: str = ""  # how the default reads in the docs when it is derived ("= heads")
    minimum: int | None = None  # for integers
    maximum: int = MAX_SIZE
    per_layer: bool = False  # also accepts a list with one integer per layer


_INT, _BOOL, _STR = (int,), (bool,), (str,)
_OPT_INT = (int, type(None))
IDENTITY, LAYOUT, ATTENTION, FFN, NORMS = (
    "Identity and provenance", "Layout", "Attention", "Feed-forward and experts", "Norms, embeddings, head")

SCHEMA: dict[str, Field] = {
    "name": Field(_STR, REQUIRED, IDENTITY, "canonical lower-case name, equal to the file name"),
    "family": Field(_STR, "custom", IDENTITY, "model family, for listings"),
    "model_type": Field(_STR, "", IDENTITY,
                        "the Hugging Face `model_type` of the architecture (`llama`, `qwen2`, `gpt_oss`...), as "
                        "config.json names it; `quant` needs it for a GGUF's layout and llama.cpp's rules"),
    "hf_repo": Field(_STR, "", IDENTITY, "Hugging Face repo id"),
    "aliases": Field((list,), [], IDENTITY, "other names, matched case-insensitively; unique across presets"),
    "reference": Field((dict, type(None)), None, IDENTITY,
                       "`{params: <exact int>, source: \"<where it comes from>\"}`; bundled presets must have one"),
    "notes": Field(_STR, "", IDENTITY, "free text"),
    "not_counted": Field((list,), [], IDENTITY,
                         "parts of the published model outside the count, one line each (a vision tower, "
                         "an audio encoder); multi-token-prediction modules are added from "
                         "`num_nextn_predict_layers`"),
    "torch_dtype": Field(_STR, "", IDENTITY,
                         "dtype the checkpoint is published in (`bfloat16`, `float16`, `float32`...); the default "
                         "precision of its weights and KV cache"),
    "quantization": Field(_STR, "", IDENTITY,
                          "weight format of a quantized checkpoint (`fp8_e4m3`, `int8`, `int4`), from "
                          "`quantization_config`; the default precision of its weights (scale tensors not "
                          "counted)"),
    "checkpoint_format": Field(_STR, "", IDENTITY,
                               "the `llmcalc quant` format a quantized checkpoint's files hold (`mxfp4`, `fp8`, "
                               "`gptq-int4`, `awq-int4`, `nf4`, `nvfp4`...), from `quantization_config`: `params` "
                               "then shows the checkpoint's own size"),
    "architecture": Field(_STR, "decoder", LAYOUT,
                          "`decoder`, `encoder` (BERT), `encoder-decoder` (T5), or `rwkv`"),
    "vocab_size": Field(_INT, REQUIRED, LAYOUT,
                        "V, rows of the token embedding (the padded size, as the checkpoint stores it)", minimum=1),
    "hidden_size": Field(_INT, REQUIRED, LAYOUT, "H", minimum=1),
    "num_hidden_layers": Field(_INT, REQUIRED, LAYOUT, "L (the encoder's, for encoder-decoder)", minimum=1,
                               maximum=MAX_LAYERS),
    "num_decoder_layers": Field(_OPT_INT, None, LAYOUT, "decoder layers of an encoder-decoder", "= L", minimum=1,
                                maximum=MAX_LAYERS),
    "max_position_embeddings": Field(_OPT_INT, None, LAYOUT,
                                     "context length; also the size of learned position tables", minimum=1),
    "rope_scaling": Field(_STR, "", LAYOUT,
                          "RoPE scaling type from config.json (`llama3`, `yarn`, `linear`...): no parameters, but a "
                          "`llama3` model's GGUF holds a table of scaled frequencies (`rope_freqs`)"),
    "num_attention_heads": Field(_OPT_INT, None, ATTENTION,
                                 "query heads; an integer or a per-layer list (RWKV has none)",
                                 "required", minimum=1, per_layer=True),
    "num_key_value_heads": Field(_OPT_INT, None, ATTENTION,
                                 "KV heads (1 = MQA, fewer = GQA); an integer or a per-layer list; must divide "
                                 "the heads", "= heads", minimum=1, per_layer=True),
    "head_dim": Field(_OPT_INT, None, ATTENTION,
                      "per-head width; required when H is not divisible by the heads (Gemma's is wider)",
                      "H / heads", minimum=1),
    "attention_bias": Field(_BOOL, False, ATTENTION,
                            "bias on the Q, K, V and O projections (GPT-2, BLOOM, BERT, ChatGLM-6B)"),
    "qkv_bias": Field(_BOOL, False, ATTENTION, "bias on Q, K and V only (Qwen, ChatGLM2/3)"),
    "attention_out_bias": Field(_BOOL, False, ATTENTION, "bias on O alone (Seed-OSS)"),
    "qk_norm": Field(_STR, "none", ATTENTION,
                     "`head`: a norm of head width on Q and one on K (OpenELM); `full`: over all heads; "
                     "`per_head`: a weight-only norm for every Q and KV head (StableLM's `qk_layernorm`)"),
    "sliding_window": Field(_OPT_INT, None, ATTENTION,
                            "local attention window (no parameters; caps the KV cache of local layers)", minimum=1),
    "layer_types": Field((list, str, type(None)), None, ATTENTION,
                         "each layer's token mixer, a list or one value for all: `full_attention`, "
                         "`sliding_attention` (needs `sliding_window`), `chunked_attention` (needs "
                         "`attention_chunk_size`), `linear_attention` (Gated DeltaNet), `mamba`, `hybrid` "
                         "(full attention and Mamba side by side, Falcon-H1)",
                         "all full (all local with a window)"),
    "sliding_window_pattern": Field(_OPT_INT, None, ATTENTION,
                                    "with a window: layer i is global when i + 1 is a multiple of it (Gemma-2: 2); "
                                    "the others are local", minimum=1),
    "attention_chunk_size": Field(_OPT_INT, None, ATTENTION,
                                  "chunked attention (Llama 4): a token attends within its chunk; caps the "
                                  "cache of `chunked_attention` layers", minimum=1),
    "attention_sinks": Field(_BOOL, False, ATTENTION, "a learned sink logit per query head (gpt-oss)"),
    "attention_output_gate": Field(_BOOL, False, ATTENTION,
                                   "Q projection twice as wide: half gates the attention output (Qwen3-Next)"),
    "linear_attention": Field(_STR, "gated_deltanet", ATTENTION,
                              "what `linear_attention` layers are: `gated_deltanet` (Qwen3-Next) or `lightning` "
                              "(MiniMax-Text-01, with the attention heads and head_dim)"),
    "linear_num_key_heads": Field(_INT, 16, ATTENTION, "Gated DeltaNet layers: Q/K heads", minimum=1),
    "linear_num_value_heads": Field(_INT, 32, ATTENTION, "Gated DeltaNet layers: V heads (one state each)",
                                    minimum=1),
    "linear_key_head_dim": Field(_INT, 128, ATTENTION, "Gated DeltaNet layers: Q/K head width", minimum=1),
    "linear_value_head_dim": Field(_INT, 128, ATTENTION, "Gated DeltaNet layers: V head width", minimum=1),
    "linear_conv_kernel_dim": Field(_INT, 4, ATTENTION, "Gated DeltaNet layers: causal convolution width",
                                    minimum=1),
    "mamba_version": Field(_INT, 2, ATTENTION, "`mamba` layers: 1 (Mamba) or 2 (Mamba-2)", minimum=1, maximum=2),
    "mamba_d_inner": Field(_OPT_INT, None, ATTENTION, "`mamba` layers: expanded width E", "2·H", minimum=1),
    "mamba_d_state": Field(_INT, 128, ATTENTION, "`mamba` layers: state size N per channel", minimum=1),
    "mamba_d_conv": Field(_INT, 4, ATTENTION, "`mamba` layers: causal convolution width", minimum=1),
    "mamba_dt_rank": Field(_OPT_INT, None, ATTENTION, "Mamba-1: rank of the Δt projection", "⌈H / 16⌉",
                           minimum=1),
    "mamba_n_heads": Field(_OPT_INT, None, ATTENTION, "Mamba-2: heads (each E / heads wide); required for "
                                                      "Mamba-2", minimum=1),
    "mamba_n_groups": Field(_INT, 1, ATTENTION, "Mamba-2: groups sharing B and C", minimum=1),
    "mamba_conv_bias": Field(_BOOL, True, ATTENTION, "`mamba` layers: a bias on the convolution"),
    "mamba_in_proj_bias": Field(_BOOL, False, ATTENTION, "`mamba` layers: a bias on the input projection"),
    "mamba_out_proj_bias": Field(_BOOL, False, ATTENTION, "`mamba` layers: a bias on the output projection"),
    "mamba_gated_norm": Field(_BOOL, True, ATTENTION, "Mamba-2: a gated RMSNorm over E before the output"),
    "mamba_inner_norms": Field(_BOOL, False, ATTENTION, "Mamba-1: RMSNorm weights on Δt, B and C (Jamba)"),
    "relative_attention_num_buckets": Field(_INT, 0, ATTENTION,
                                            "T5's relative position bias, buckets × heads, in the first layer of "
                                            "each stack", minimum=0),
    "localized_filtering": Field(_BOOL, False, ATTENTION,
                                 "Yuan2's two 2×1 convolutions (with bias) and an RMSNorm before Q and K"),
    "kv_lora_rank": Field(_OPT_INT, None, ATTENTION,
                          "MLA (DeepSeek-V2/V3): rank of the compressed KV latent; setting it selects MLA", minimum=1),
    "q_lora_rank": Field(_OPT_INT, None, ATTENTION, "MLA: rank of the query latent; `null` projects queries directly",
                         minimum=0),
    "qk_nope_head_dim": Field(_OPT_INT, None, ATTENTION, "MLA: per-head query/key width without RoPE (required "
                                                         "with `kv_lora_rank`)", minimum=1),
    "qk_rope_head_dim": Field(_OPT_INT, None, ATTENTION, "MLA: per-head decoupled RoPE width (required with "
                                                         "`kv_lora_rank`)", minimum=1),
    "v_head_dim": Field(_OPT_INT, None, ATTENTION, "MLA: per-head value width (required with `kv_lora_rank`)",
                        minimum=1),
    "intermediate_size": Field(_OPT_INT, None, FFN, "FFN width I; an integer or a per-layer list (OpenELM)",
                               "4·H", minimum=1, per_layer=True),
    "gated_ffn": Field(_BOOL, True, FFN, "gated SwiGLU/GeGLU (gate, up, down: 3·H·I) or plain (up, down: 2·H·I)"),
    "mlp_bias": Field(_BOOL, False, FFN, "biases on the FFN projections"),
    "num_experts": Field(_OPT_INT, None, FFN,
                         "routed experts per layer; `num_local_experts` (Mixtral) and `n_routed_experts` (DeepSeek) "
                         "mean the same", minimum=1),
    "num_experts_per_tok": Field(_OPT_INT, None, FFN, "top-k, required with experts", minimum=1),
    "moe_intermediate_size": Field(_OPT_INT, None, FFN, "width of one routed expert", "`intermediate_size`",
                                   minimum=1),
    "shared_expert_intermediate_size": Field(_INT, 0, FFN, "width of an always-on shared expert (Qwen-MoE)",
                                             minimum=0),
    "n_shared_experts": Field(_INT, 0, FFN, "shared experts of `moe_intermediate_size` each (DeepSeek)", minimum=0),
    "shared_expert_gate": Field(_BOOL, False, FFN, "the shared expert's H → 1 sigmoid gate (Qwen-MoE)"),
    "router_bias": Field(_BOOL, False, FFN, "a bias on the router (gpt-oss)"),
    "expert_bias": Field(_BOOL, False, FFN, "biases on every expert's projections (gpt-oss)"),
    "router_score_bias": Field(_BOOL, False, FFN,
                               "a per-expert score-correction bias (`e_score_correction_bias`): a buffer that "
                               "checkpoints and GGUFs store, not a parameter (DeepSeek-V3, GLM-4.5, dots.llm1)"),
    "ffn_types": Field((list, str, type(None)), None, FFN,
                       "each layer's feed-forward, a list or one value for all: `dense`, `moe`, `none` (a Mamba "
                       "block); instead of `first_k_dense_replace` and `mlp_only_layers`",
                       "`moe` with experts, else `dense`"),
    "first_k_dense_replace": Field(_INT, 0, FFN,
                                   "leading layers with a dense FFN of `intermediate_size` (DeepSeek)", minimum=0),
    "mlp_only_layers": Field((list,), [], FFN,
                             "indices of layers that keep a dense FFN of `intermediate_size` in an MoE model, "
                             "wherever they stand (Qwen-MoE's `mlp_only_layers` and `decoder_sparse_step`)"),
    "num_nextn_predict_layers": Field(_INT, 0, FFN,
                                      "DeepSeek-V3's multi-token-prediction modules: recorded, not counted "
                                      "(transformers does not build them)", minimum=0),
    "attention_hidden_size": Field(_OPT_INT, None, FFN, "RWKV time-mix width", "H", minimum=1),
    "norm": Field(_STR, "rmsnorm", NORMS,
                  "`rmsnorm` (H), `layernorm` (2·H), `layernorm_no_bias` (H, Command-R), `nonparametric` (0, OLMo)"),
    "norms_per_layer": Field(_INT, 2, NORMS,
                             "hidden-size norms per block: 2 pre-norm, 1 for a shared norm before parallel attention "
                             "+ FFN (Falcon-7B, Command-R), 4 for sandwich norms (Grok-1); a decoder with "
                             "cross-attention adds one", minimum=1),
    "final_norm": Field(_BOOL, True, NORMS, "a norm after the last layer (post-LN GPT and BERT have none)"),
    "learned_position_embeddings": Field(_BOOL, False, NORMS,
                                         "a learned `max_position_embeddings` × H table (GPT, GPT-2, BERT)"),
    "type_vocab_size": Field(_INT, 0, NORMS, "BERT's token-type embeddings", minimum=0),
    "embedding_norm": Field(_BOOL, False, NORMS, "a norm right after the embeddings (BLOOM, BERT)"),
    "tie_word_embeddings": Field(_BOOL, False, NORMS,
                                 "the LM head reuses the token embedding (counted once, shown as tied)"),
    "lm_head": Field(_BOOL, True, NORMS, "`false` for a bare encoder (BertModel)"),
    "lm_head_bias": Field(_BOOL, False, NORMS, "a bias on the LM head (GPT-J)"),
    "pooler": Field(_BOOL, False, NORMS, "BERT's H × H pooler with bias"),
}

# Spellings from other configs that mean a schema field.
SYNONYMS = {
    "num_local_experts": "num_experts",  # Mixtral
    "n_routed_experts": "num_experts",  # DeepSeek
}


def shown(value: Any) -> str:
    """A value for an error message: a huge number or text is cut, never printed whole."""
    if isinstance(value, int) and abs(value) >= 10**30:  # str() of a 5,000-digit number fails
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(types: tuple[type, ...]) -> str:
    names = {int: "an integer", bool: "true or false", str: "a string", list: "a list",
             dict: "a mapping", type(None): "null"}
    return " or ".join(names[t] for t in types)


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    # bool is an int subclass in Python; a size given as `true` is a mistake, not 1.
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _check_bounds(name: str, minimum: int, maximum: int, value: Any, source: str) -> None:
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, int) or isinstance(item, bool):
            continue
        if item < minimum:
            wanted = "a positive integer" if minimum == 1 else "zero or positive"
            raise SpecError(source, name, f"must be {wanted}, got {shown(item)}")
        if item > maximum:
            raise SpecError(source, name, f"{shown(item)} is over the largest accepted, {maximum:,}")


_REQUIRED_FIELDS = tuple(name for name, field in SCHEMA.items() if field.default is REQUIRED)
_DEFAULTS = {name: field.default for name, field in SCHEMA.items() if field.default is not REQUIRED}
_LIST_DEFAULTS = tuple(name for name, default in _DEFAULTS.items() if isinstance(default, list))


def normalise_fields(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check names, types and bounds of a flat mapping; return it with defaults filled in."""
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
        field = SCHEMA[name]
        if field.per_layer and isinstance(value, list):
            for item in value:
                if not _is_instance(item, (int,)):
                    raise SpecError(source, key, f"per-layer list must hold integers, got {shown(item)}")
        elif not _is_instance(value, field.types):
            raise SpecError(source, key, f"must be {_type_name(field.types)}, got {shown(value)}")
        if field.minimum is not None:
            _check_bounds(name, field.minimum, field.maximum, value, source)
        fields[name] = value
    for name in _REQUIRED_FIELDS:
        if name not in fields:
            raise SpecError(source, name, "missing; it is required")
    # The given keys first, in their order, then the defaults in SCHEMA's (as JSON shows them).
    filled = {**fields, **_DEFAULTS, **fields}
    for name in _LIST_DEFAULTS:  # a fresh list each time: callers may change theirs
        if name not in fields:
            filled[name] = list(_DEFAULTS[name])
    return filled


def _dtype(fields: Mapping[str, Any], name: str, source: str) -> DType | None:
    text = fields[name]
    if not text:
        return None
    found = find_dtype(text)
    if found is None:
        from llmcalc.memory import DTYPE_CHOICES

        raise SpecError(source, name, f"unknown dtype {text!r}; use one of {DTYPE_CHOICES}")
    return found


def build_spec(raw: Mapping[str, Any], source: str) -> ModelSpec:
    """Validate a flat mapping of preset fields and build the ModelSpec."""
    fields = normalise_fields(raw, source)
    try:
        return _build(fields, source)
    except InvalidPart as exc:  # a part's own invariant: name the file it came from
        raise SpecError(source, exc.key, exc.problem) from None


def _build(fields: dict[str, Any], source: str) -> ModelSpec:
    architecture = _choice(fields, "architecture", ARCHITECTURES, source)
    norm = _choice(fields, "norm", NORM_KINDS, source)
    _choice(fields, "qk_norm", QK_NORMS, source)
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
        stacks = tuple(stacks_list)  # type: ignore[assignment]  # one stack or two

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
        model_type=fields["model_type"],
        architecture=architecture,
        hidden_size=fields["hidden_size"],
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
        rope_scaling=fields["rope_scaling"],
        torch_dtype=_dtype(fields, "torch_dtype", source),
        quantization=_dtype(fields, "quantization", source),
        checkpoint_format=fields["checkpoint_format"],
        hf_repo=fields["hf_repo"],
        aliases=tuple(str(alias) for alias in fields["aliases"]),
        reference=reference,
        notes=fields["notes"],
        not_counted=_not_counted(fields, source),
        fields=fields,
    )


def _not_counted(fields: Mapping[str, Any], source: str) -> tuple[str, ...]:
    lines = fields["not_counted"]
    if not all(isinstance(line, str) and line.strip() for line in lines):
        raise SpecError(source, "not_counted", "must list lines of text")
    mtp = fields["num_nextn_predict_layers"]
    if mtp:
        lines = [*lines, f"{mtp} multi-token-prediction module{'s' if mtp > 1 else ''} "
                         "(num_nextn_predict_layers): a training and speculative-decoding aid that "
                         "transformers does not build"]
    return tuple(lines)


def key_tables() -> str:
    """The Markdown key tables of presets/README.md, one per section, from SCHEMA."""
    sections: dict[str, list[str]] = {}
    for name, field in SCHEMA.items():
        if field.shown_default:
            default = field.shown_default
        elif field.default is REQUIRED:
            default = "required"
        elif field.default is None:
            default = "none"
        elif isinstance(field.default, bool):
            default = f"`{str(field.default).lower()}`"
        elif isinstance(field.default, str):
            default = f"`{field.default}`" if field.default else '`""`'
        elif isinstance(field.default, list):
            default = "`[]`"
        else:
            default = str(field.default)
        sections.setdefault(field.section, []).append(f"| `{name}` | {default} | {field.doc} |")
    parts = []
    for section, rows in sections.items():
        parts.append(f"### {section}\n\n| key | default | meaning |\n|---|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(parts)


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
        raise SpecError(source, name, f"must be one of {', '.join(allowed)}, got {shown(value)}")
    return value


def _reference(value: Mapping[str, Any], source: str) -> Reference:
    params, origin = value.get("params"), value.get("source")
    if not isinstance(params, int) or isinstance(params, bool) or params <= 0:
        raise SpecError(source, "reference.params", f"must be a positive integer, got {params!r}")
    if not isinstance(origin, str) or not origin.strip():
        raise SpecError(source, "reference.source", "must say where the number comes from")
    extra = sorted(str(key) for key in set(value) - {"params", "source"})
    if extra:
        raise SpecError(source, "reference", f"unknown key {extra[0]!r}; allowed: params, source")
    return Reference(params=params, source=origin)


def _transformer_stack(
    fields: Mapping[str, Any], name: str, layers: int, cross_attention: bool, source: str
) -> Stack:
    hidden = fields["hidden_size"]
    mixer_types = _mixer_types(fields, layers, source)
    ffn_types = _ffn_types(fields, layers, source)
    linear_kind = _choice(fields, "linear_attention", LINEAR_ATTENTION_KINDS, source)
    has_attention = any(kind in ("full_attention", "sliding_attention", "chunked_attention", "hybrid")
                        or kind == "linear_attention" and linear_kind == "lightning" for kind in set(mixer_types))
    if fields["num_attention_heads"] is None and (has_attention or cross_attention):
        raise SpecError(source, "num_attention_heads", "missing; it is required")
    # Per-layer lists describe the main stack; an encoder-decoder's stacks are uniform.
    heads = _per_layer(fields, "num_attention_heads", layers, source)
    kv_field = "num_key_value_heads" if fields["num_key_value_heads"] is not None else "num_attention_heads"
    kv_heads = _per_layer(fields, kv_field, layers, source)
    if fields["intermediate_size"] is None:
        widths = [4 * hidden] * layers
    else:
        widths = _per_layer(fields, "intermediate_size", layers, source)
    uses_mla = fields["kv_lora_rank"] is not None

    # One object per distinct part: a 100,000-layer model holds a handful, and everything
    # downstream that groups layers compares them by identity first.
    parts: dict[Any, Any] = {}

    def once(kind: type, **values: Any) -> Any:
        key = (kind, *values.items())
        if key not in parts:
            parts[key] = kind(**values)
        return parts[key]

    def build_layer(n_heads: int, n_kv: int, kind: str, ffn_type: str, width: int,
                    holds_buckets: bool) -> Layer:
        projections: dict[str, Any] = {}
        if n_heads is not None and (not uses_mla or cross_attention):  # MLA has no head_dim of its own
            projections = {"num_heads": n_heads, "num_kv_heads": n_kv, "head_dim": _head_dim(fields, n_heads, source),
                           "qkv_bias": fields["attention_bias"] or fields["qkv_bias"],
                           "o_bias": fields["attention_bias"] or fields["attention_out_bias"]}
        mixer: MixerKind
        if kind == "mamba":
            if "mamba" not in parts:
                parts["mamba"] = _state_space(fields, source)
            mixer = parts["mamba"]
        elif kind == "linear_attention" and linear_kind == "lightning":
            mixer = once(LightningAttention, num_heads=n_heads, head_dim=_head_dim(fields, n_heads, source))
        elif kind == "linear_attention":
            mixer = once(LinearAttention, key_heads=fields["linear_num_key_heads"],
                         value_heads=fields["linear_num_value_heads"], key_head_dim=fields["linear_key_head_dim"],
                         value_head_dim=fields["linear_value_head_dim"],
                         conv_kernel=fields["linear_conv_kernel_dim"])
        elif uses_mla:
            if ("mla", n_heads) not in parts:
                parts[("mla", n_heads)] = _latent_attention(fields, n_heads, source)
            mixer = parts[("mla", n_heads)]
        else:
            mixer = once(
                Attention,
                **projections,
                qk_norm=fields["qk_norm"],
                sliding_window=fields["sliding_window"] if kind == "sliding_attention" else None,
                chunk_size=fields["attention_chunk_size"] if kind == "chunked_attention" else None,
                sinks=fields["attention_sinks"],
                output_gate=fields["attention_output_gate"],
                relative_attention_buckets=fields["relative_attention_num_buckets"] if holds_buckets else 0,
                localized_filtering=fields["localized_filtering"],
            )
        parallel = None
        if kind == "hybrid":
            if "mamba" not in parts:
                parts["mamba"] = _state_space(fields, source)
            parallel = parts["mamba"]
        ffn: FeedForwardKind | None = None
        if ffn_type == "moe":
            expert_width = fields["moe_intermediate_size"] or width
            ffn = once(
                MixtureOfExperts,
                num_experts=fields["num_experts"],
                num_experts_per_tok=fields["num_experts_per_tok"],
                expert_intermediate_size=expert_width,
                gated=fields["gated_ffn"],
                shared_expert_intermediate_size=fields["shared_expert_intermediate_size"]
                + fields["n_shared_experts"] * expert_width,
                shared_expert_gate=fields["shared_expert_gate"],
                router_bias=fields["router_bias"],
                expert_bias=fields["expert_bias"],
                score_correction_bias=fields["router_score_bias"],
            )
        elif ffn_type == "dense":
            ffn = once(FeedForward, intermediate_size=width, gated=fields["gated_ffn"], bias=fields["mlp_bias"])
        cross = once(Attention, **projections) if cross_attention else None
        norms = fields["norms_per_layer"] + (1 if cross_attention else 0)
        return once(Layer, mixer=mixer, ffn=ffn, norms=norms, cross_attention=cross, parallel_mixer=parallel)

    # Layers alike in everything that varies per layer are one object, built once: a
    # 100,000-layer model costs a handful of builds, and a uniform one a single build. Only
    # the first layer holds relative-position buckets (T5).
    holds_buckets = [bool(fields["relative_attention_num_buckets"])] + [False] * (layers - 1)
    signatures = list(zip(heads, kv_heads, mixer_types, ffn_types, widths, holds_buckets))
    by_signature = {signature: build_layer(*signature) for signature in dict.fromkeys(signatures)}
    return Stack(name=name, layers=tuple(map(by_signature.__getitem__, signatures)), final_norm=fields["final_norm"])


def _listed(fields: Mapping[str, Any], name: str, layers: int, allowed: tuple[str, ...], source: str) -> list[str]:
    """A per-layer list of names, or one name for every layer."""
    value = fields[name]
    values = [value] * layers if isinstance(value, str) else value
    if len(values) != layers or any(kind not in allowed for kind in values):
        raise SpecError(source, name, f"must be one value or {layers} values, each one of {', '.join(allowed)}")
    return list(values)


def _mixer_types(fields: Mapping[str, Any], layers: int, source: str) -> list[str]:
    """Each layer's token mixer: from `layer_types`, a local/global pattern (Gemma-2), or the
    same for all (local with a window: Mistral)."""
    window, pattern = fields["sliding_window"], fields["sliding_window_pattern"]
    if fields["layer_types"] is not None:
        if pattern is not None:
            raise SpecError(source, "layer_types", "give layer_types or sliding_window_pattern, not both")
        types = _listed(fields, "layer_types", layers, LAYER_TYPES, source)
        if "sliding_attention" in types and window is None:
            raise SpecError(source, "sliding_window", "missing; `sliding_attention` layers need the window size")
        if "chunked_attention" in types and fields["attention_chunk_size"] is None:
            raise SpecError(source, "attention_chunk_size", "missing; `chunked_attention` layers need the chunk size")
        return types
    if pattern is not None:
        if window is None:
            raise SpecError(source, "sliding_window", "missing; a local/global schedule needs the window size")
        # As Gemma's configs: layer i is global when (i + 1) is a multiple of the pattern.
        return ["full_attention" if (index + 1) % pattern == 0 else "sliding_attention" for index in range(layers)]
    return ["sliding_attention" if window is not None else "full_attention"] * layers


def _ffn_types(fields: Mapping[str, Any], layers: int, source: str) -> list[str]:
    """Each layer's feed-forward: from `ffn_types`, or experts after the first k dense layers
    except those listed in `mlp_only_layers`."""
    uses_moe = fields["num_experts"] is not None
    if uses_moe and fields["num_experts_per_tok"] is None:
        raise SpecError(source, "num_experts_per_tok", "missing; MoE models need top-k")
    if fields["ffn_types"] is not None:
        if fields["first_k_dense_replace"] or fields["mlp_only_layers"]:
            raise SpecError(source, "ffn_types", "give ffn_types, or first_k_dense_replace and mlp_only_layers, "
                                                 "not both")
        types = _listed(fields, "ffn_types", layers, FFN_TYPES, source)
        if "moe" in types and not uses_moe:
            raise SpecError(source, "num_experts", "missing; `moe` layers need the experts")
        return types
    dense_layers = set(fields["mlp_only_layers"])
    if any(not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < layers
           for index in dense_layers):
        raise SpecError(source, "mlp_only_layers", f"must list layer indices from 0 to {layers - 1}")
    if not uses_moe:
        return ["dense"] * layers
    return ["moe" if index >= fields["first_k_dense_replace"] and index not in dense_layers
            else "dense" for index in range(layers)]


def _state_space(fields: Mapping[str, Any], source: str) -> StateSpace:
    hidden, version = fields["hidden_size"], fields["mamba_version"]
    if version == 2 and fields["mamba_n_heads"] is None:
        raise SpecError(source, "mamba_n_heads", "missing; Mamba-2 layers need their heads")
    return StateSpace(
        version=version,
        inner_size=fields["mamba_d_inner"] or 2 * hidden,
        state_size=fields["mamba_d_state"],
        conv_kernel=fields["mamba_d_conv"],
        time_step_rank=(fields["mamba_dt_rank"] or -(-hidden // 16)) if version == 1 else 0,
        heads=fields["mamba_n_heads"] or 0 if version == 2 else 0,
        groups=fields["mamba_n_groups"],
        conv_bias=fields["mamba_conv_bias"],
        in_proj_bias=fields["mamba_in_proj_bias"],
        out_proj_bias=fields["mamba_out_proj_bias"],
        gated_norm=fields["mamba_gated_norm"],
        inner_norms=fields["mamba_inner_norms"],
    )


def _head_dim(fields: Mapping[str, Any], heads: int, source: str) -> int:
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
    first = Layer(mixer=time_mix, ffn=channel_mix, norms=fields["norms_per_layer"] + 1)
    rest = Layer(mixer=time_mix, ffn=channel_mix, norms=fields["norms_per_layer"])
    layers = (first,) + (rest,) * (fields["num_hidden_layers"] - 1)
    return Stack(name="blocks", layers=layers, final_norm=fields["final_norm"])
