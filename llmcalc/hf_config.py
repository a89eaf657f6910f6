"""Hugging Face `config.json` → preset fields → ModelSpec.

Each supported `model_type` is read the way its reference implementation reads it: a key
that is absent means that class's default (taken from `transformers` 5.23's config
classes, or the model's own remote code), not zero; a key set to null means what that class
makes of None (NULLS: an undeclared null is an error), and a key is read under each spelling
the class reads (SPELLINGS). Architectural facts a config leaves implicit (norm kind,
biases, gated FFN, norms per layer) are set per model type here, as the modelling code
builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmcalc.errors import ModelFileError, SpecError
from llmcalc.files import load_json
from llmcalc.schema import MAX_SIZE, SCHEMA, build_spec, shown
from llmcalc.spec import ModelSpec

REQUIRED = object()
# A null that means what leaving the key out means: the class's own default for the key is
# None, and the reader's default is what the class makes of None (num_key_value_heads →
# num_attention_heads, n_inner → 4·n_embd, ...).
AS_ABSENT = object()
_UNDECLARED = object()

# What an explicit JSON null means, per model type and key as the file spells it. transformers
# hands a null to the config class as None, and the class or the modelling code decides what
# None means, which is often not the class default: MistralConfig defaults sliding_window to
# 4096, but None is no window at all. A null for a key not listed here is an error, never a
# default: transformers 5.23 rejects it too (a field typed `int` or `bool` fails the class's
# strict validation) or fails building the model. Each entry names the 5.23 line that decides.
_KV_HEADS = {"num_key_value_heads": AS_ABSENT}  # __post_init__: None → num_attention_heads
NULLS: dict[str, dict[str, object]] = {
    "*": {"torch_dtype": AS_ABSENT, "dtype": AS_ABSENT},  # configuration_utils.py:419, 440
    "llama": {**_KV_HEADS, "head_dim": AS_ABSENT},  # configuration_llama.py:87-90
    # head_dim: configuration_mistral.py:84; no window: modeling_mistral.py:353
    "mistral": {"head_dim": AS_ABSENT, "sliding_window": None},
    "mixtral": {"head_dim": AS_ABSENT, "sliding_window": AS_ABSENT},  # configuration_mixtral.py:73, 83
    "qwen2": {**_KV_HEADS, "sliding_window": None},  # configuration_qwen2.py:85, 91
    "qwen2_moe": {"mlp_only_layers": AS_ABSENT},  # configuration_qwen2_moe.py:112
    "qwen3": {**_KV_HEADS, "sliding_window": None},  # configuration_qwen3.py:88, 94
    # configuration_qwen3_moe.py:112; modeling_qwen3_moe.py:472
    "qwen3_moe": {"mlp_only_layers": AS_ABSENT, "sliding_window": None},
    "gemma2": {"layer_types": AS_ABSENT},  # configuration_gemma2.py:95
    "gemma3_text": {"layer_types": AS_ABSENT},  # configuration_gemma3.py:108
    "phi3": {**_KV_HEADS, "sliding_window": AS_ABSENT},  # configuration_phi3.py:84, 81
    "cohere": {**_KV_HEADS, "use_qk_norm": False},  # configuration_cohere.py:89; modeling_cohere.py:229
    "olmo": _KV_HEADS,  # configuration_olmo.py:87
    "olmo2": _KV_HEADS,  # configuration_olmo2.py:91
    "starcoder2": {"head_dim": AS_ABSENT, "sliding_window": AS_ABSENT},  # modeling_starcoder2.py:147; config :76
    "stablelm": {"head_dim": AS_ABSENT},  # modeling_stablelm.py:226 takes hidden_size // heads
    "gpt2": {"n_inner": AS_ABSENT},  # modeling_gpt2.py:250
    "gpt_bigcode": {"n_inner": AS_ABSENT},  # modeling_gpt_bigcode.py:263
    "gptj": {"n_inner": AS_ABSENT},  # modeling_gptj.py:386
    # configuration_falcon.py:95, 97, 70; the flags are tested for truth: modeling_falcon.py:230-239, 555
    "falcon": {"num_kv_heads": AS_ABSENT, "ffn_hidden_size": AS_ABSENT, "num_ln_in_parallel_attn": AS_ABSENT,
               "new_decoder_architecture": False, "multi_query": False, "parallel_attn": False, "bias": False},
    # q_lora_rank None: queries projected directly (modeling_deepseek_v2.py:378); head_dim is
    # replaced by qk_rope_head_dim (configuration_deepseek_v2.py:125) and the reader drops it.
    "deepseek_v2": {**_KV_HEADS, "head_dim": AS_ABSENT, "q_lora_rank": None},
    "deepseek_v3": {**_KV_HEADS, "head_dim": AS_ABSENT, "q_lora_rank": None},  # modeling_deepseek_v3.py:437
    "t5": {"num_decoder_layers": AS_ABSENT, "tie_word_embeddings": AS_ABSENT},  # configuration_t5.py:66, 82
    "rwkv": {"attention_hidden_size": AS_ABSENT, "intermediate_size": AS_ABSENT},  # configuration_rwkv.py:69, 71
    "internlm2": _KV_HEADS,  # InternLM2Config (remote code) sets None to num_attention_heads
}

# Spellings transformers 5.23 reads as one setting, per model type: the config classes'
# attribute_map, and legacy keywords a __post_init__ still takes (n_embed). A reader asks for
# one spelling and gets whichever the file uses; two spellings that disagree are an error.
_GPT2_NAMES = (("n_embd", "hidden_size"), ("n_positions", "max_position_embeddings"),
               ("n_head", "num_attention_heads"), ("n_layer", "num_hidden_layers"))
SPELLINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "*": (("torch_dtype", "dtype"),),  # configuration_utils.py:440
    "mixtral": (("num_local_experts", "num_experts"),),
    "qwen3_moe": (("num_experts", "num_local_experts"),),  # transformers 5 writes num_local_experts
    "gpt2": _GPT2_NAMES, "gpt_bigcode": _GPT2_NAMES, "gptj": _GPT2_NAMES,
    "bloom": (("hidden_size", "n_embed"), ("n_layer", "num_hidden_layers"), ("n_head", "num_attention_heads")),
    # n_head, n_layer and n_head_kv: the RefinedWeb remote code's own names (configuration_RW.py)
    "falcon": (("hidden_size", "n_embed"), ("num_attention_heads", "n_head"), ("num_hidden_layers", "n_layer"),
               ("num_kv_heads", "n_head_kv")),
    "deepseek_v2": (("n_routed_experts", "num_experts"),),
    "deepseek_v3": (("n_routed_experts", "num_local_experts"), ("num_nextn_predict_layers", "num_mtp_layers")),
    "t5": (("d_model", "hidden_size"), ("num_heads", "num_attention_heads"), ("num_layers", "num_hidden_layers"),
           ("d_kv", "head_dim")),
    "rwkv": (("context_length", "max_position_embeddings"),),
}


class Config:
    """A config.json mapping with typed look-ups that name the file and key on error.

    A key is looked up under every spelling its model type reads; absent, it gets the
    reader's default; null, what NULLS declares for it, and is an error where nothing is.
    """

    def __init__(self, data: dict[str, Any], source: str, model_type: str) -> None:
        self.data, self.source, self.model_type = data, source, model_type
        self.nulls = {**NULLS["*"], **NULLS.get(model_type, {})}
        self.spellings: dict[str, tuple[str, ...]] = {}
        for group in SPELLINGS["*"] + SPELLINGS.get(model_type, ()):
            for key in group:
                self.spellings[key] = (key, *(other for other in group if other != key))

    def _written(self, key: str) -> str | None:
        """The spelling of `key` the file uses (None: absent); an error if two disagree."""
        present = [spelling for spelling in self.spellings.get(key, (key,)) if spelling in self.data]
        for other in present[1:]:
            if self.data[other] != self.data[present[0]]:
                raise SpecError(self.source, f"{present[0]} and {other}",
                                f"two spellings of one setting disagree: {shown(self.data[present[0]])} "
                                f"and {shown(self.data[other])}")
        return present[0] if present else None

    def has(self, key: str) -> bool:
        return self._written(key) is not None

    def get(self, key: str, default: Any = REQUIRED, kind: type | tuple[type, ...] = int) -> Any:
        written = self._written(key)
        value = self.data[written] if written is not None else None
        if written is not None and value is None:
            meaning = self.nulls.get(written, _UNDECLARED)
            if meaning is _UNDECLARED:
                raise SpecError(self.source, written, f"is null, and what null means in a {self.model_type} "
                                                      "config is not declared: give a value, or leave the key "
                                                      "out for the default")
            if meaning is not AS_ABSENT:
                return meaning
            written = None
        if written is None:
            if default is REQUIRED:
                others = self.spellings.get(key, (key,))[1:]
                also = f" (also looked for {', '.join(others)})" if others else ""
                raise SpecError(self.source, key, f"missing{also}; this model type needs it")
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise SpecError(self.source, written, f"must be {names}, got {shown(value)}")
        if isinstance(value, int) and not isinstance(value, bool):
            # Readers compute with these before the schema sees them (a layer count drives
            # a loop): bound them here, by the schema's bounds where the key is a field.
            field = next((SCHEMA[name] for name in self.spellings.get(key, (key,)) if name in SCHEMA), None)
            low = field.minimum if field is not None and field.minimum is not None else 0
            high = field.maximum if field is not None else MAX_SIZE
            if not low <= value <= high:
                raise SpecError(self.source, written, f"must be from {low} to {high:,}, got {shown(value)}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, default, bool)


def _common(c: Config) -> dict[str, Any]:
    """What every reader records: provenance and the checkpoint's dtype and quantization."""
    fields: dict[str, Any] = {}
    dtype = c.get("torch_dtype", None, str)
    if dtype is not None:
        fields["torch_dtype"] = dtype
    quantization = c.data.get("quantization_config")
    if isinstance(quantization, dict):
        fields["quantization"] = _quantization(quantization)
    return fields


def _quantization(config: dict[str, Any]) -> str:
    method = str(config.get("quant_method", "")).lower()
    if method == "fp8" or str(config.get("fmt", "")).lower() in ("e4m3", "float8_e4m3fn"):
        return "fp8_e4m3"
    bits = config.get("bits") or config.get("w_bit") or (4 if config.get("load_in_4bit") else
                                                          8 if config.get("load_in_8bit") else None)
    return {4: "int4", 8: "int8"}.get(bits, "") if isinstance(bits, int) else ""


def _attention_core(c: Config, heads_default: Any = REQUIRED) -> dict[str, Any]:
    heads = c.get("num_attention_heads", heads_default)
    return {
        "vocab_size": c.get("vocab_size"),
        "hidden_size": c.get("hidden_size"),
        "num_hidden_layers": c.get("num_hidden_layers"),
        "num_attention_heads": heads,
        "num_key_value_heads": c.get("num_key_value_heads", heads),
        "head_dim": c.get("head_dim", None),
        "max_position_embeddings": c.get("max_position_embeddings", None),
    }


def _windows(c: Config, fields: dict[str, Any], default_window: int | None = None,
             default_pattern: int | None = None) -> None:
    """Sliding windows and local/global schedules, as the config (or its class) sets them."""
    window = c.get("sliding_window", default_window)
    if window is None or window == 0:
        return
    fields["sliding_window"] = window
    types = c.get("layer_types", None, list)
    if types is not None:
        fields["layer_types"] = types
        return
    pattern = c.get("sliding_window_pattern", default_pattern)
    if pattern is not None:
        fields["sliding_window_pattern"] = pattern


def llama(c: Config, **extra: Any) -> dict[str, Any]:
    """LLaMA and the models built like it (Mistral, Yi, DeepSeek-LLM, InternLM2, Baichuan...)."""
    fields = {
        **_attention_core(c),
        "intermediate_size": c.get("intermediate_size"),
        "attention_bias": c.flag("attention_bias", False),
        "mlp_bias": c.flag("mlp_bias", False),
        "tie_word_embeddings": c.flag("tie_word_embeddings", False),
        "norm": "rmsnorm",
        "gated_ffn": True,
    }
    fields.update(extra)
    return fields


def mistral(c: Config) -> dict[str, Any]:
    fields = llama(c)
    _windows(c, fields, default_window=4096)
    return fields


def mixtral(c: Config) -> dict[str, Any]:
    fields = llama(c, num_experts=c.get("num_local_experts", 8), num_experts_per_tok=c.get("num_experts_per_tok", 2))
    _windows(c, fields)
    return fields


def _qwen_windows(c: Config, fields: dict[str, Any]) -> None:
    # Qwen2/3 use a window only with use_sliding_window, in layers from max_window_layers on;
    # their classes default the window to 4096 (a null window: none, where NULLS says so).
    window = c.get("sliding_window", 4096) if c.flag("use_sliding_window", False) else None
    if window is not None:
        layers = fields["num_hidden_layers"]
        start = c.get("max_window_layers", layers)
        fields["sliding_window"] = window
        fields["layer_types"] = ["sliding_attention" if index >= start else "full_attention"
                                 for index in range(layers)]


def qwen2(c: Config) -> dict[str, Any]:
    fields = llama(c, qkv_bias=True, attention_bias=False, mlp_bias=False)
    _qwen_windows(c, fields)
    return fields


def _moe_layers(c: Config, fields: dict[str, Any]) -> None:
    """Qwen-MoE: layers listed in mlp_only_layers, or off the sparse step, keep a dense FFN."""
    layers = fields["num_hidden_layers"]
    step = c.get("decoder_sparse_step", 1)
    if step < 1:
        raise SpecError(c.source, "decoder_sparse_step", f"must be 1 or more, got {step}")
    listed = c.get("mlp_only_layers", [], list)
    if not all(isinstance(index, int) and not isinstance(index, bool) for index in listed):
        raise SpecError(c.source, "mlp_only_layers", f"must list layer indices, got {shown(listed)}")
    dense_only = set(listed)
    # As Qwen2MoeDecoderLayer decides: experts where the layer is not listed and (i + 1) is a
    # multiple of the step; a dense FFN of intermediate_size elsewhere.
    dense = [index for index in range(layers) if index in dense_only or (index + 1) % step != 0]
    if dense:
        fields["mlp_only_layers"] = dense


def qwen2_moe(c: Config) -> dict[str, Any]:
    fields = llama(c, qkv_bias=True, attention_bias=False, num_experts=c.get("num_experts", 60),
                   num_experts_per_tok=c.get("num_experts_per_tok", 4),
                   moe_intermediate_size=c.get("moe_intermediate_size", 1408),
                   shared_expert_intermediate_size=c.get("shared_expert_intermediate_size", 5632),
                   shared_expert_gate=True)
    _moe_layers(c, fields)
    _qwen_windows(c, fields)
    return fields


def qwen3(c: Config) -> dict[str, Any]:
    fields = llama(c, qk_norm="head")
    fields["head_dim"] = c.get("head_dim", 128)
    _qwen_windows(c, fields)
    return fields


def qwen3_moe(c: Config) -> dict[str, Any]:
    fields = qwen3(c)
    fields.update(num_experts=c.get("num_experts", 128), num_experts_per_tok=c.get("num_experts_per_tok", 8),
                  moe_intermediate_size=c.get("moe_intermediate_size", 768))
    _moe_layers(c, fields)
    return fields


def gemma(c: Config) -> dict[str, Any]:
    fields = llama(c, tie_word_embeddings=c.flag("tie_word_embeddings", True))
    fields["head_dim"] = c.get("head_dim", 256)
    return fields


def gemma2(c: Config) -> dict[str, Any]:
    fields = gemma(c)
    fields["norms_per_layer"] = 4  # before and after attention and the FFN
    _windows(c, fields, default_window=4096, default_pattern=2)
    return fields


def gemma3_text(c: Config) -> dict[str, Any]:
    fields = gemma2(c)
    fields["qk_norm"] = "head"
    fields.pop("sliding_window_pattern", None)
    fields.pop("layer_types", None)
    _windows(c, fields, default_window=4096, default_pattern=6)
    return fields


def phi3(c: Config) -> dict[str, Any]:
    fields = llama(c)
    _windows(c, fields)
    return fields


def cohere(c: Config) -> dict[str, Any]:
    return llama(c, tie_word_embeddings=c.flag("tie_word_embeddings", True), norm="layernorm_no_bias",
                 norms_per_layer=1, qk_norm="full" if c.flag("use_qk_norm", False) else "none")


def olmo(c: Config) -> dict[str, Any]:
    return llama(c, norm="nonparametric")


def olmo2(c: Config) -> dict[str, Any]:
    return llama(c, qk_norm="full")  # post-norms: still two per layer


def internlm2(c: Config) -> dict[str, Any]:
    bias = c.flag("bias", False)
    return llama(c, attention_bias=bias)


def baichuan(c: Config) -> dict[str, Any]:
    return llama(c, num_key_value_heads=c.get("num_attention_heads"))


def starcoder2(c: Config) -> dict[str, Any]:
    bias = c.flag("use_bias", True)
    fields = llama(c, attention_bias=bias, mlp_bias=bias, gated_ffn=False, norm="layernorm",
                   tie_word_embeddings=c.flag("tie_word_embeddings", True))
    _windows(c, fields)
    return fields


def stablelm(c: Config) -> dict[str, Any]:
    # qk_layernorm: StableLmLayerNormPerHead, one LayerNorm(head_dim, bias=False) per Q and KV head.
    return llama(c, qkv_bias=c.flag("use_qkv_bias", False), norm="layernorm",
                 norms_per_layer=1 if c.flag("use_parallel_residual", False) else 2,
                 qk_norm="per_head" if c.flag("qk_layernorm", False) else "none")


def gpt2(c: Config, kv_heads: int | None = None) -> dict[str, Any]:
    hidden = c.get("n_embd", 768)
    heads = c.get("n_head", 12)
    return {
        "vocab_size": c.get("vocab_size", 50257),
        "hidden_size": hidden,
        "num_hidden_layers": c.get("n_layer", 12),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads or heads,
        "intermediate_size": c.get("n_inner", 4 * hidden),
        "max_position_embeddings": c.get("n_positions", 1024),
        "learned_position_embeddings": True,
        "norm": "layernorm",
        "gated_ffn": False,
        "attention_bias": True,
        "mlp_bias": True,
        "tie_word_embeddings": c.flag("tie_word_embeddings", True),
    }


def gpt_bigcode(c: Config) -> dict[str, Any]:
    return gpt2(c, kv_heads=1 if c.flag("multi_query", True) else None)


def gptj(c: Config) -> dict[str, Any]:
    hidden = c.get("n_embd", 4096)
    return {
        "vocab_size": c.get("vocab_size", 50400),
        "hidden_size": hidden,
        "num_hidden_layers": c.get("n_layer", 28),
        "num_attention_heads": c.get("n_head", 16),
        "intermediate_size": c.get("n_inner", 4 * hidden),
        "max_position_embeddings": c.get("n_positions", 2048),
        "norm": "layernorm",
        "norms_per_layer": 1,  # attention and FFN in parallel behind ln_1
        "gated_ffn": False,
        "mlp_bias": True,
        "lm_head_bias": True,
        "tie_word_embeddings": c.flag("tie_word_embeddings", False),
    }


def gpt_neox(c: Config) -> dict[str, Any]:
    fields = llama(c, attention_bias=c.flag("attention_bias", True), mlp_bias=True, gated_ffn=False,
                   norm="layernorm")
    return fields


def falcon(c: Config) -> dict[str, Any]:
    hidden = c.get("hidden_size", 4544)
    heads = c.get("num_attention_heads", 71)
    new_architecture = c.flag("new_decoder_architecture", False)
    if new_architecture:
        kv_heads = c.get("num_kv_heads", heads)
        norms = 1 if c.get("num_ln_in_parallel_attn", 2) == 1 else 2
    else:
        kv_heads = 1 if c.flag("multi_query", True) else heads
        norms = 1 if c.flag("parallel_attn", True) else 2
    bias = c.flag("bias", False)
    return {
        "vocab_size": c.get("vocab_size", 65024),
        "hidden_size": hidden,
        "num_hidden_layers": c.get("num_hidden_layers", 32),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": c.get("head_dim", None),
        "intermediate_size": c.get("ffn_hidden_size", 4 * hidden),
        "max_position_embeddings": c.get("max_position_embeddings", 2048),
        "attention_bias": bias,
        "mlp_bias": bias,
        "norm": "layernorm",
        "norms_per_layer": norms,
        "gated_ffn": False,
        "tie_word_embeddings": c.flag("tie_word_embeddings", True),
    }


def bloom(c: Config) -> dict[str, Any]:
    hidden = c.get("hidden_size", 64)
    return {
        "vocab_size": c.get("vocab_size", 250880),
        "hidden_size": hidden,
        "num_hidden_layers": c.get("n_layer", 2),
        "num_attention_heads": c.get("n_head", 8),
        "intermediate_size": 4 * hidden,
        "max_position_embeddings": c.get("seq_length", None),
        "norm": "layernorm",
        "embedding_norm": True,
        "gated_ffn": False,
        "attention_bias": True,
        "mlp_bias": True,
        "tie_word_embeddings": c.flag("tie_word_embeddings", True),
    }


def deepseek(c: Config, defaults: dict[str, Any]) -> dict[str, Any]:
    fields = llama(c)
    fields.pop("head_dim")
    q_rank = c.get("q_lora_rank", defaults["q_lora_rank"])  # null: no query LoRA (NULLS)
    layer_step = c.get("moe_layer_freq", 1)
    if layer_step != 1:
        raise SpecError(c.source, "moe_layer_freq", "only 1 (every layer after the dense ones) is supported")
    fields.update(
        q_lora_rank=q_rank,
        kv_lora_rank=c.get("kv_lora_rank", 512),
        qk_nope_head_dim=c.get("qk_nope_head_dim", 128),
        qk_rope_head_dim=c.get("qk_rope_head_dim", 64),
        v_head_dim=c.get("v_head_dim", 128),
        num_experts=c.get("n_routed_experts", defaults["n_routed_experts"]),
        num_experts_per_tok=c.get("num_experts_per_tok", defaults["num_experts_per_tok"]),
        moe_intermediate_size=c.get("moe_intermediate_size", defaults["moe_intermediate_size"]),
        n_shared_experts=c.get("n_shared_experts", defaults["n_shared_experts"]),
        first_k_dense_replace=c.get("first_k_dense_replace", defaults["first_k_dense_replace"]),
        num_nextn_predict_layers=c.get("num_nextn_predict_layers", 0),
    )
    return fields


def deepseek_v2(c: Config) -> dict[str, Any]:
    return deepseek(c, {"q_lora_rank": 1536, "n_routed_experts": 64, "num_experts_per_tok": 6,
                        "moe_intermediate_size": 1407, "n_shared_experts": 2, "first_k_dense_replace": 0})


def deepseek_v3(c: Config) -> dict[str, Any]:
    return deepseek(c, {"q_lora_rank": 1536, "n_routed_experts": 256, "num_experts_per_tok": 8,
                        "moe_intermediate_size": 2048, "n_shared_experts": 1, "first_k_dense_replace": 3})


def t5(c: Config) -> dict[str, Any]:
    layers = c.get("num_layers", 6)
    projection = c.get("feed_forward_proj", "relu", str)
    return {
        "architecture": "encoder-decoder",
        "vocab_size": c.get("vocab_size", 32128),
        "hidden_size": c.get("d_model", 512),
        "num_hidden_layers": layers,
        "num_decoder_layers": c.get("num_decoder_layers", layers),
        "num_attention_heads": c.get("num_heads", 8),
        "head_dim": c.get("d_kv", 64),
        "intermediate_size": c.get("d_ff", 2048),
        "max_position_embeddings": c.get("n_positions", None),
        "relative_attention_num_buckets": c.get("relative_attention_num_buckets", 32),
        "gated_ffn": projection.startswith("gated-"),
        "norm": "rmsnorm",
        "tie_word_embeddings": c.flag("tie_word_embeddings", True),
    }


def bert(c: Config) -> dict[str, Any]:
    # Counted as BertModel (encoder + pooler), as transformers' AutoModel builds it.
    return {
        "architecture": "encoder",
        "vocab_size": c.get("vocab_size", 30522),
        "hidden_size": c.get("hidden_size", 768),
        "num_hidden_layers": c.get("num_hidden_layers", 12),
        "num_attention_heads": c.get("num_attention_heads", 12),
        "num_key_value_heads": c.get("num_attention_heads", 12),
        "intermediate_size": c.get("intermediate_size", 3072),
        "max_position_embeddings": c.get("max_position_embeddings", 512),
        "learned_position_embeddings": True,
        "type_vocab_size": c.get("type_vocab_size", 2),
        "embedding_norm": True,
        "norm": "layernorm",
        "final_norm": False,
        "gated_ffn": False,
        "attention_bias": True,
        "mlp_bias": True,
        "lm_head": False,
        "pooler": True,
    }


def rwkv(c: Config) -> dict[str, Any]:
    hidden = c.get("hidden_size", 4096)
    return {
        "architecture": "rwkv",
        "vocab_size": c.get("vocab_size", 50277),
        "hidden_size": hidden,
        "num_hidden_layers": c.get("num_hidden_layers", 32),
        "attention_hidden_size": c.get("attention_hidden_size", hidden),
        "intermediate_size": c.get("intermediate_size", 4 * hidden),
        "max_position_embeddings": c.get("context_length", 1024),
        "norm": "layernorm",
        "tie_word_embeddings": c.flag("tie_word_embeddings", False),
    }


def chatglm(c: Config) -> dict[str, Any]:
    """THUDM's remote code: ChatGLM-6B (GLM blocks) or ChatGLM2/3 (padded_vocab_size, MQA groups)."""
    if c.has("padded_vocab_size") or c.has("multi_query_attention"):
        heads = c.get("num_attention_heads")
        return {
            "vocab_size": c.get("padded_vocab_size"),
            "hidden_size": c.get("hidden_size"),
            "num_hidden_layers": c.get("num_layers"),
            "num_attention_heads": heads,
            "num_key_value_heads": c.get("multi_query_group_num", heads)
            if c.flag("multi_query_attention", False) else heads,
            "head_dim": c.get("kv_channels", None),
            "intermediate_size": c.get("ffn_hidden_size"),
            "max_position_embeddings": c.get("seq_length", None),
            "qkv_bias": c.flag("add_qkv_bias", False),
            "attention_bias": c.flag("add_bias_linear", False),
            "mlp_bias": c.flag("add_bias_linear", False),
            "norm": "rmsnorm" if c.flag("rmsnorm", True) else "layernorm",
            "final_norm": c.flag("post_layer_norm", True),
            "gated_ffn": True,
            "tie_word_embeddings": c.flag("tie_word_embeddings", False),
        }
    hidden = c.get("hidden_size")
    return {
        "vocab_size": c.get("vocab_size"),
        "hidden_size": hidden,
        "num_hidden_layers": c.get("num_layers"),
        "num_attention_heads": c.get("num_attention_heads"),
        "intermediate_size": c.get("inner_hidden_size", 4 * hidden),
        "max_position_embeddings": c.get("max_sequence_length", None),
        "norm": "layernorm",
        "gated_ffn": False,
        "attention_bias": True,
        "mlp_bias": True,
        # The remote code leaves tie_word_embeddings at PretrainedConfig's default: tied.
        "tie_word_embeddings": c.flag("tie_word_embeddings", True),
    }


READERS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "llama": llama, "mistral": mistral, "mixtral": mixtral, "qwen2": qwen2, "qwen2_moe": qwen2_moe,
    "qwen3": qwen3, "qwen3_moe": qwen3_moe, "gemma": gemma, "gemma2": gemma2, "gemma3_text": gemma3_text,
    "phi3": phi3, "gpt2": gpt2, "gpt_bigcode": gpt_bigcode, "gpt_neox": gpt_neox, "gptj": gptj,
    "falcon": falcon, "bloom": bloom, "cohere": cohere, "olmo": olmo, "olmo2": olmo2,
    "starcoder2": starcoder2, "stablelm": stablelm, "deepseek_v2": deepseek_v2, "deepseek_v3": deepseek_v3,
    "t5": t5, "bert": bert, "rwkv": rwkv, "chatglm": chatglm, "internlm2": internlm2, "baichuan": baichuan,
}
# Older spellings of the same architectures.
MODEL_TYPE_SPELLINGS = {"RefinedWeb": "falcon", "RefinedWebModel": "falcon", "gemma3": "gemma3_text"}


def read_config_file(path: Path) -> dict[str, Any]:
    data = load_json(path)
    if not isinstance(data, dict):
        raise ModelFileError(path, f"expected a JSON object, got {type(data).__name__}")
    return data


def _model_type(data: dict[str, Any], source: str) -> str | None:
    model_type = data.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        raise SpecError(source, "model_type", f"must be a string, got {shown(model_type)}")
    return MODEL_TYPE_SPELLINGS.get(model_type, model_type) if model_type else model_type


def config_fields(data: dict[str, Any], source: str, assume: str | None = None,
                  name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Preset fields for a config.json mapping, and any warnings to show."""
    warnings: list[str] = []
    model_type = _model_type(data, source)
    if "text_config" in data and isinstance(data["text_config"], dict) and model_type not in READERS:
        data = {**data["text_config"], **{k: v for k, v in data.items() if k in ("torch_dtype",)}}
        model_type = _model_type(data, source)
    if model_type not in READERS:
        if assume is None:
            raise SpecError(source, "model_type", f"{model_type!r} is not supported; supported: "
                                                  f"{', '.join(sorted(READERS))} (or --assume llama)")
        if assume not in READERS:
            raise SpecError(source, "--assume", f"{assume!r} is not a supported model type")
        warnings.append(f"model_type {model_type!r} is not supported: counted as {assume!r}-like")
        model_type = assume
    config = Config(data, source, model_type)
    fields = READERS[model_type](config)
    fields.update(_common(config))
    if not fields.get("head_dim"):
        fields.pop("head_dim", None)
    fields = {key: value for key, value in fields.items() if value is not None or key == "q_lora_rank"}
    fields["name"] = name or _default_name(data, source)
    fields["family"] = model_type
    return fields, warnings


def _default_name(data: dict[str, Any], source: str) -> str:
    name = data.get("_name_or_path")
    if isinstance(name, str) and name:
        return name.rstrip("/").split("/")[-1].lower()
    path = Path(source)
    return (path.parent.name if path.name == "config.json" else path.stem).lower() or "model"


def load_config(path: Path, assume: str | None = None, name: str | None = None) -> tuple[ModelSpec, list[str]]:
    data = read_config_file(path)
    fields, warnings = config_fields(data, str(path), assume, name)
    return build_spec(fields, str(path)), warnings
