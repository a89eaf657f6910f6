"""Hugging Face `config.json` → preset fields → ModelSpec, through one table of readers.

Each supported `model_type` is a row of READERS: which config key (and under which other
spellings) gives each preset field, the class default when the key is absent (taken from
`transformers` 5.23's config classes, or the model's own remote code), what an explicit null
means (an undeclared null is an error, never a default), and the architectural facts a config
leaves implicit (norm kind, biases, gated FFN, norms per layer), as the modelling code builds
them. A row usually extends another (`like`); code appears only where the modelling code
really decides something from several keys (steps: windows, MoE layer schedules, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from llmcalc.errors import ModelFileError, SpecError
from llmcalc.files import load_json
from llmcalc.records import field, record
from llmcalc.schema import MAX_SIZE, SCHEMA, build_spec, shown
from llmcalc.spec import ModelSpec

REQUIRED = object()
# A null that means what leaving the key out means: the class's own default for the key is
# None, and the reader's default is what the class makes of None (num_key_value_heads →
# num_attention_heads, n_inner → 4·n_embd, ...).
AS_ABSENT = object()
_UNDECLARED = object()
Fields = dict[str, Any]
Step = Callable[["Config", Fields], None]


@record
class Key:
    """Where a preset field comes from: a config key, its class default when absent (a
    value, REQUIRED, or a function of the fields read before it), its JSON type, and an
    optional mapping of the value read to the field's value."""

    name: str
    default: Any = REQUIRED
    kind: type | tuple[type, ...] = int
    means: Callable[[Any, Fields], Any] | None = None


def same_as(field_name: str) -> Callable[[Fields], Any]:
    """A default that is another field's value (KV heads default to the query heads)."""
    return lambda fields: fields[field_name]


def times_hidden(factor: int) -> Callable[[Fields], Any]:
    return lambda fields: factor * fields["hidden_size"]


def flag(name: str, default: bool) -> Key:
    return Key(name, default, bool)


@record
class Reader:
    """One model type: keys read (preset field → Key), fixed facts, steps of code, what a
    null means per key (as the file spells it), and the spellings read as one setting."""

    keys: Mapping[str, Key | None] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    nulls: Mapping[str, object] = field(default_factory=dict)
    spellings: tuple[tuple[str, ...], ...] = ()


def like(base: Reader, keys: Mapping[str, Key | None] | None = None, facts: Mapping[str, Any] | None = None,
         steps: tuple[Step, ...] = (), nulls: Mapping[str, object] | None = None,
         spellings: tuple[tuple[str, ...], ...] = ()) -> Reader:
    """`base` with more keys (None drops one), facts, steps (run after base's), nulls and
    spellings. A key given again keeps its place, so defaults that refer to it still can."""
    return Reader(keys={**base.keys, **(keys or {})}, facts={**base.facts, **(facts or {})},
                  steps=base.steps + steps, nulls={**base.nulls, **(nulls or {})},
                  spellings=base.spellings + spellings)


class Config:
    """A config.json mapping with typed look-ups that name the file and key on error.

    A key is looked up under every spelling its model type reads; absent, it gets the
    reader's default; null, what the reader's `nulls` declare for it, and is an error where
    nothing is. This is the one place the absent/null rule is applied.
    """

    def __init__(self, data: dict[str, Any], source: str, model_type: str, reader: Reader) -> None:
        self.data, self.source, self.model_type = data, source, model_type
        self.warnings: list[str] = []
        self.nulls = {**ALL_TYPES.nulls, **reader.nulls}
        self.spellings: dict[str, tuple[str, ...]] = {}
        for group in ALL_TYPES.spellings + reader.spellings:
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

    def section(self, key: str, reader: Reader) -> Config:
        """A nested mapping (DBRX's attn_config) read as a config of its own; absent, or null
        where `nulls` says so, it is empty and every key takes its default."""
        value = self.get(key, {}, dict)
        return Config(value if value is not None else {}, f"{self.source} {key}", self.model_type, reader)


def read(c: Config, reader: Reader) -> Fields:
    """The preset fields a reader takes from a config: keys, then facts, then steps."""
    fields: Fields = {}
    for name, key in reader.keys.items():
        if key is None:
            continue
        default = key.default
        if callable(default):
            written = c.get(key.name, None, key.kind)
            value = default(fields) if written is None else written
        else:
            value = c.get(key.name, default, key.kind)
        if callable(value):  # a null whose meaning depends on other fields (see `nulls`)
            value = value(fields)
        fields[name] = key.means(value, fields) if key.means is not None else value
    fields.update(reader.facts)
    for step in reader.steps:
        step(c, fields)
    return fields


def _common(c: Config) -> Fields:
    """What every reader records: the checkpoint's dtype and quantization, and its RoPE scaling
    type (rope_scaling, or rope_parameters as transformers 5 writes it)."""
    fields: Fields = {}
    for key in ("rope_scaling", "rope_parameters"):
        rope = c.data.get(key)
        kind = rope.get("rope_type", rope.get("type")) if isinstance(rope, dict) else None
        if isinstance(kind, str) and kind != "default":
            fields["rope_scaling"] = kind
            break
    dtype = c.get("torch_dtype", None, str)
    if dtype is not None:
        fields["torch_dtype"] = dtype
    quantization = c.data.get("quantization_config")
    if isinstance(quantization, dict):
        fields["quantization"] = _quantization(quantization)
        fmt, why = checkpoint_format(quantization)
        if fmt:
            fields["checkpoint_format"] = fmt
        elif why:
            c.warnings.append(f"quantization_config: {why}; the checkpoint's own size is not shown")
    return fields


def _quantization(config: dict[str, Any]) -> str:
    method = str(config.get("quant_method", "")).lower()
    if method == "fp8" or str(config.get("fmt", "")).lower() in ("e4m3", "float8_e4m3fn"):
        return "fp8_e4m3"
    bits = config.get("bits") or config.get("w_bit") or (4 if config.get("load_in_4bit") else
                                                          8 if config.get("load_in_8bit") else None)
    return {4: "int4", 8: "int8"}.get(bits, "") if isinstance(bits, int) else ""


def checkpoint_format(config: dict[str, Any]) -> tuple[str, str]:
    """(the `quant` format a quantized checkpoint's files hold, or ""; why not, when not modelled)."""
    method = str(config.get("quant_method", "")).lower()
    bits, group = config.get("bits", config.get("w_bit")), config.get("group_size", config.get("q_group_size"))
    if method == "mxfp4":
        return "mxfp4", ""
    if method == "fp8":
        block = config.get("weight_block_size")
        return ("fp8", "") if block == [128, 128] else ("", f"fp8 with weight_block_size {block!r} is not modelled")
    if method in ("gptq", "awq"):
        name = {("gptq", 4): "gptq-int4", ("gptq", 8): "gptq-int8", ("awq", 4): "awq-int4"}.get((method, bits or 0))
        if name and group == 128:
            return name, ""
        return "", f"{method} with {bits} bits and group_size {group} is not modelled (4 or 8 bits, group 128 are)"
    if method == "bitsandbytes":
        if config.get("load_in_8bit"):
            return "bnb-int8", ""
        if config.get("load_in_4bit") and config.get("bnb_4bit_quant_type") == "nf4":
            return ("nf4-dq" if config.get("bnb_4bit_use_double_quant") else "nf4"), ""
        return "", "bitsandbytes other than nf4 and int8 is not modelled"
    if method == "compressed-tensors":
        formats = {group.get("format") or config.get("format") for group in (config.get("config_groups") or {}).values()
                   if isinstance(group, dict)} or {config.get("format")}
        weights = [group.get("weights") or {} for group in (config.get("config_groups") or {}).values()
                   if isinstance(group, dict)]
        if formats == {"nvfp4-pack-quantized"}:
            return "nvfp4", ""
        if formats == {"pack-quantized"} and all(w.get("num_bits") == 4 and w.get("group_size") == 128
                                                 and w.get("symmetric", True) for w in weights):
            # actorder "group" stores a group index per input column; "static" or none does not.
            return ("w4a16-gidx" if any(w.get("actorder") == "group" for w in weights) else "w4a16"), ""
        if formats == {"float-quantized"} and all(w.get("strategy") == "channel" for w in weights):
            return "fp8-dynamic", ""
        return "", f"compressed-tensors format {sorted(map(str, formats))} with these weights is not modelled"
    if method == "modelopt" and str(config.get("quant_algo", "")).upper() == "NVFP4":
        return "nvfp4", ""
    return "", f"quant_method {method!r} is not modelled" if method else ""


# --- steps: code where the modelling code decides from several keys -------------------------------

def windows(default_window: int | None = None, default_pattern: int | None = None) -> Step:
    """Sliding windows and local/global schedules, as the config (or its class) sets them."""
    def step(c: Config, fields: Fields) -> None:
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
    return step


def qwen_windows(c: Config, fields: Fields) -> None:
    # Qwen2/3 use a window only with use_sliding_window, in layers from max_window_layers on;
    # their classes default the window to 4096 (a null window: none, where `nulls` says so).
    window = c.get("sliding_window", 4096) if c.flag("use_sliding_window", False) else None
    if window is not None:
        layers = fields["num_hidden_layers"]
        start = c.get("max_window_layers", layers)
        fields["sliding_window"] = window
        fields["layer_types"] = ["sliding_attention" if index >= start else "full_attention"
                                 for index in range(layers)]


def qwen_moe_layers(c: Config, fields: Fields) -> None:
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


def deepseek_moe_layers(c: Config, fields: Fields) -> None:
    if c.get("moe_layer_freq", 1) != 1:
        raise SpecError(c.source, "moe_layer_freq", "only 1 (every layer after the dense ones) is supported")


# --- the rows ---------------------------------------------------------------------------------------

LLAMA = Reader(
    keys={
        "vocab_size": Key("vocab_size"),
        "hidden_size": Key("hidden_size"),
        "num_hidden_layers": Key("num_hidden_layers"),
        "num_attention_heads": Key("num_attention_heads"),
        "num_key_value_heads": Key("num_key_value_heads", same_as("num_attention_heads")),
        "head_dim": Key("head_dim", None),
        "max_position_embeddings": Key("max_position_embeddings", None),
        "intermediate_size": Key("intermediate_size"),
        "attention_bias": flag("attention_bias", False),
        "mlp_bias": flag("mlp_bias", False),
        "tie_word_embeddings": flag("tie_word_embeddings", False),
    },
    facts={"norm": "rmsnorm", "gated_ffn": True},
    # configuration_llama.py:87-90: None → num_attention_heads, hidden_size // heads
    nulls={"num_key_value_heads": AS_ABSENT, "head_dim": AS_ABSENT},
)
_NO_KV_NULL = {"num_key_value_heads": _UNDECLARED}
MISTRAL = like(LLAMA, steps=(windows(default_window=4096),),
               # head_dim: configuration_mistral.py:84; no window: modeling_mistral.py:353
               nulls={**_NO_KV_NULL, "sliding_window": None})
MIXTRAL = like(LLAMA, keys={"num_experts": Key("num_local_experts", 8), "num_experts_per_tok": Key("num_experts_per_tok", 2)},
               steps=(windows(),), spellings=(("num_local_experts", "num_experts"),),
               nulls={**_NO_KV_NULL, "sliding_window": AS_ABSENT})  # configuration_mixtral.py:73, 83
QWEN2 = like(LLAMA, keys={"attention_bias": None, "mlp_bias": None},
             facts={"qkv_bias": True}, steps=(qwen_windows,),
             nulls={"head_dim": _UNDECLARED, "sliding_window": None})  # configuration_qwen2.py:85, 91
QWEN2_MOE = like(QWEN2, keys={"num_experts": Key("num_experts", 60), "num_experts_per_tok": Key("num_experts_per_tok", 4),
                              "moe_intermediate_size": Key("moe_intermediate_size", 1408),
                              "shared_expert_intermediate_size": Key("shared_expert_intermediate_size", 5632)},
                 facts={"shared_expert_gate": True}, steps=(qwen_moe_layers,),
                 nulls={"num_key_value_heads": _UNDECLARED, "sliding_window": _UNDECLARED,
                        "mlp_only_layers": AS_ABSENT})  # configuration_qwen2_moe.py:112
QWEN3 = like(LLAMA, keys={"head_dim": Key("head_dim", 128)}, facts={"qk_norm": "head"}, steps=(qwen_windows,),
             nulls={"head_dim": _UNDECLARED, "sliding_window": None})  # configuration_qwen3.py:88, 94
QWEN3_MOE = like(QWEN3, keys={"num_experts": Key("num_experts", 128), "num_experts_per_tok": Key("num_experts_per_tok", 8),
                              "moe_intermediate_size": Key("moe_intermediate_size", 768)},
                 steps=(qwen_moe_layers,), spellings=(("num_experts", "num_local_experts"),),  # transformers 5 writes num_local_experts
                 # configuration_qwen3_moe.py:112; modeling_qwen3_moe.py:472
                 nulls={"num_key_value_heads": _UNDECLARED, "mlp_only_layers": AS_ABSENT})
GEMMA = like(LLAMA, keys={"head_dim": Key("head_dim", 256), "tie_word_embeddings": flag("tie_word_embeddings", True)},
             nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED})
GEMMA2 = like(GEMMA, facts={"norms_per_layer": 4},  # before and after attention and the FFN
              steps=(windows(default_window=4096, default_pattern=2),),
              nulls={"layer_types": AS_ABSENT})  # configuration_gemma2.py:95
# Gemma 3's released configs leave out keys whose class defaults they rely on (gemma-3-27b's
# text_config has no vocab_size): every size takes Gemma3TextConfig's default (configuration_gemma3.py:74-82).
GEMMA3_TEXT = like(GEMMA, keys={"vocab_size": Key("vocab_size", 262_208), "hidden_size": Key("hidden_size", 2304),
                                "num_hidden_layers": Key("num_hidden_layers", 26),
                                "num_attention_heads": Key("num_attention_heads", 8),
                                "num_key_value_heads": Key("num_key_value_heads", 4),
                                "max_position_embeddings": Key("max_position_embeddings", 131_072),
                                "intermediate_size": Key("intermediate_size", 9216)},
                   facts={"norms_per_layer": 4, "qk_norm": "head"},
                   steps=(windows(default_window=4096, default_pattern=6),),
                   nulls={"layer_types": AS_ABSENT})  # configuration_gemma3.py:108
PHI3 = like(LLAMA, steps=(windows(),), nulls={"head_dim": _UNDECLARED, "sliding_window": AS_ABSENT})  # configuration_phi3.py:84, 81
COHERE = like(LLAMA, keys={"tie_word_embeddings": flag("tie_word_embeddings", True),
                           "qk_norm": Key("use_qk_norm", False, bool, lambda on, _: "full" if on else "none")},
              facts={"norm": "layernorm_no_bias", "norms_per_layer": 1},
              # configuration_cohere.py:89; modeling_cohere.py:229
              nulls={"head_dim": _UNDECLARED, "use_qk_norm": False})
OLMO = like(LLAMA, facts={"norm": "nonparametric"}, nulls={"head_dim": _UNDECLARED})  # configuration_olmo.py:87
OLMO2 = like(LLAMA, facts={"qk_norm": "full"}, nulls={"head_dim": _UNDECLARED})  # post-norms: still two per layer; :91
# InternLM2Config (remote code) sets a null num_key_value_heads to num_attention_heads
INTERNLM2 = like(LLAMA, keys={"attention_bias": flag("bias", False)}, nulls={"head_dim": _UNDECLARED})
BAICHUAN = like(LLAMA, keys={"num_key_value_heads": Key("num_attention_heads")},
                nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED})
STARCODER2 = like(LLAMA, keys={"attention_bias": flag("use_bias", True), "mlp_bias": flag("use_bias", True),
                               "tie_word_embeddings": flag("tie_word_embeddings", True)},
                  facts={"gated_ffn": False, "norm": "layernorm"}, steps=(windows(),),
                  # modeling_starcoder2.py:147; configuration_starcoder2.py:76
                  nulls={"num_key_value_heads": _UNDECLARED, "sliding_window": AS_ABSENT})
# qk_layernorm: StableLmLayerNormPerHead, one LayerNorm(head_dim, bias=False) per Q and KV head.
STABLELM = like(LLAMA, keys={"attention_bias": None, "qkv_bias": flag("use_qkv_bias", False),
                             "norms_per_layer": Key("use_parallel_residual", False, bool, lambda on, _: 1 if on else 2),
                             "qk_norm": Key("qk_layernorm", False, bool, lambda on, _: "per_head" if on else "none")},
                facts={"norm": "layernorm"},
                nulls={"num_key_value_heads": _UNDECLARED})  # head_dim: modeling_stablelm.py:226 takes hidden // heads
# GPTNeoXAttention has as many K/V heads as query heads, of hidden_size // heads each
# (modeling_gpt_neox.py): a config's num_key_value_heads or head_dim is not read.
GPT_NEOX = like(LLAMA, keys={"num_key_value_heads": None, "head_dim": None,
                             "attention_bias": flag("attention_bias", True)},
                facts={"mlp_bias": True, "gated_ffn": False, "norm": "layernorm"}, nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED})

GPT2 = Reader(
    keys={
        "vocab_size": Key("vocab_size", 50257),
        "hidden_size": Key("n_embd", 768),
        "num_hidden_layers": Key("n_layer", 12),
        "num_attention_heads": Key("n_head", 12),
        "intermediate_size": Key("n_inner", times_hidden(4)),
        "max_position_embeddings": Key("n_positions", 1024),
        "tie_word_embeddings": flag("tie_word_embeddings", True),
    },
    facts={"learned_position_embeddings": True, "norm": "layernorm", "gated_ffn": False, "attention_bias": True,
           "mlp_bias": True},
    nulls={"n_inner": AS_ABSENT},  # modeling_gpt2.py:250
    spellings=(("n_embd", "hidden_size"), ("n_positions", "max_position_embeddings"),
               ("n_head", "num_attention_heads"), ("n_layer", "num_hidden_layers")),
)
GPT_BIGCODE = like(GPT2, keys={"num_key_value_heads": Key("multi_query", True, bool,
                                                          lambda mqa, f: 1 if mqa else f["num_attention_heads"])})
GPTJ = like(GPT2, keys={"vocab_size": Key("vocab_size", 50400), "hidden_size": Key("n_embd", 4096),
                        "num_hidden_layers": Key("n_layer", 28), "num_attention_heads": Key("n_head", 16),
                        "max_position_embeddings": Key("n_positions", 2048),
                        "tie_word_embeddings": flag("tie_word_embeddings", False)},
            # attention and FFN in parallel behind ln_1; no attention biases
            facts={"learned_position_embeddings": False, "attention_bias": False, "norms_per_layer": 1,
                   "lm_head_bias": True})
BLOOM = Reader(
    keys={
        "vocab_size": Key("vocab_size", 250880),
        "hidden_size": Key("hidden_size", 64),
        "num_hidden_layers": Key("n_layer", 2),
        "num_attention_heads": Key("n_head", 8),
        "intermediate_size": Key("hidden_size", 64, int, lambda hidden, _: 4 * hidden),
        "max_position_embeddings": Key("seq_length", None),
        "tie_word_embeddings": flag("tie_word_embeddings", True),
    },
    facts={"norm": "layernorm", "embedding_norm": True, "gated_ffn": False, "attention_bias": True, "mlp_bias": True},
    spellings=(("hidden_size", "n_embed"), ("n_layer", "num_hidden_layers"), ("n_head", "num_attention_heads")),
)


def falcon_layout(c: Config, fields: Fields) -> None:
    """Falcon's two layouts: the new decoder architecture (GQA, one or two norms) or the old
    one (MQA or MHA, parallel attention with one norm or sequential with two)."""
    heads = fields["num_attention_heads"]
    if c.flag("new_decoder_architecture", False):
        fields["num_key_value_heads"] = c.get("num_kv_heads", heads)
        fields["norms_per_layer"] = 1 if c.get("num_ln_in_parallel_attn", 2) == 1 else 2
    else:
        fields["num_key_value_heads"] = 1 if c.flag("multi_query", True) else heads
        fields["norms_per_layer"] = 1 if c.flag("parallel_attn", True) else 2


FALCON = Reader(
    keys={
        "vocab_size": Key("vocab_size", 65024),
        "hidden_size": Key("hidden_size", 4544),
        "num_hidden_layers": Key("num_hidden_layers", 32),
        "num_attention_heads": Key("num_attention_heads", 71),
        "head_dim": Key("head_dim", None),
        "intermediate_size": Key("ffn_hidden_size", times_hidden(4)),
        "max_position_embeddings": Key("max_position_embeddings", 2048),
        "attention_bias": flag("bias", False),
        "mlp_bias": flag("bias", False),
        "tie_word_embeddings": flag("tie_word_embeddings", True),
    },
    facts={"norm": "layernorm", "gated_ffn": False},
    steps=(falcon_layout,),
    # configuration_falcon.py:95, 97, 70; the flags are tested for truth: modeling_falcon.py:230-239, 555
    nulls={"num_kv_heads": AS_ABSENT, "ffn_hidden_size": AS_ABSENT, "num_ln_in_parallel_attn": AS_ABSENT,
           "new_decoder_architecture": False, "multi_query": False, "parallel_attn": False, "bias": False},
    # n_head, n_layer and n_head_kv: the RefinedWeb remote code's own names (configuration_RW.py)
    spellings=(("hidden_size", "n_embed"), ("num_attention_heads", "n_head"), ("num_hidden_layers", "n_layer"),
               ("num_kv_heads", "n_head_kv")),
)


def deepseek(defaults: Mapping[str, int]) -> Reader:
    return like(
        LLAMA,
        keys={"head_dim": None,  # replaced by qk_rope_head_dim (configuration_deepseek_v2.py:125)
              "q_lora_rank": Key("q_lora_rank", defaults["q_lora_rank"]),  # null: no query LoRA
              "kv_lora_rank": Key("kv_lora_rank", 512), "qk_nope_head_dim": Key("qk_nope_head_dim", 128),
              "qk_rope_head_dim": Key("qk_rope_head_dim", 64), "v_head_dim": Key("v_head_dim", 128),
              "num_experts": Key("n_routed_experts", defaults["n_routed_experts"]),
              "num_experts_per_tok": Key("num_experts_per_tok", defaults["num_experts_per_tok"]),
              "moe_intermediate_size": Key("moe_intermediate_size", defaults["moe_intermediate_size"]),
              "n_shared_experts": Key("n_shared_experts", defaults["n_shared_experts"]),
              "first_k_dense_replace": Key("first_k_dense_replace", defaults["first_k_dense_replace"]),
              "num_nextn_predict_layers": Key("num_nextn_predict_layers", 0)},
        steps=(deepseek_moe_layers,),
        # q_lora_rank None: queries projected directly (modeling_deepseek_v2.py:378,
        # modeling_deepseek_v3.py:437); a head_dim, null or not, is replaced as above.
        nulls={"q_lora_rank": None},
    )


DEEPSEEK_V2 = like(deepseek({"q_lora_rank": 1536, "n_routed_experts": 64, "num_experts_per_tok": 6,
                             "moe_intermediate_size": 1407, "n_shared_experts": 2, "first_k_dense_replace": 0}),
                   spellings=(("n_routed_experts", "num_experts"),))
DEEPSEEK_V3 = like(deepseek({"q_lora_rank": 1536, "n_routed_experts": 256, "num_experts_per_tok": 8,
                             "moe_intermediate_size": 2048, "n_shared_experts": 1, "first_k_dense_replace": 3}),
                   facts={"router_score_bias": True},  # DeepseekV3TopkRouter's e_score_correction_bias buffer
                   spellings=(("n_routed_experts", "num_local_experts"), ("num_nextn_predict_layers", "num_mtp_layers")))
T5 = Reader(
    keys={
        "vocab_size": Key("vocab_size", 32128),
        "hidden_size": Key("d_model", 512),
        "num_hidden_layers": Key("num_layers", 6),
        "num_decoder_layers": Key("num_decoder_layers", same_as("num_hidden_layers")),
        "num_attention_heads": Key("num_heads", 8),
        "head_dim": Key("d_kv", 64),
        "intermediate_size": Key("d_ff", 2048),
        "max_position_embeddings": Key("n_positions", None),
        "relative_attention_num_buckets": Key("relative_attention_num_buckets", 32),
        "gated_ffn": Key("feed_forward_proj", "relu", str, lambda kind, _: kind.startswith("gated-")),
        "tie_word_embeddings": flag("tie_word_embeddings", True),
    },
    facts={"architecture": "encoder-decoder", "norm": "rmsnorm"},
    nulls={"num_decoder_layers": AS_ABSENT, "tie_word_embeddings": AS_ABSENT},  # configuration_t5.py:66, 82
    spellings=(("d_model", "hidden_size"), ("num_heads", "num_attention_heads"), ("num_layers", "num_hidden_layers"),
               ("d_kv", "head_dim")),
)
# Counted as BertModel (encoder + pooler), as transformers' AutoModel builds it.
BERT = Reader(
    keys={
        "vocab_size": Key("vocab_size", 30522),
        "hidden_size": Key("hidden_size", 768),
        "num_hidden_layers": Key("num_hidden_layers", 12),
        "num_attention_heads": Key("num_attention_heads", 12),
        "intermediate_size": Key("intermediate_size", 3072),
        "max_position_embeddings": Key("max_position_embeddings", 512),
        "type_vocab_size": Key("type_vocab_size", 2),
    },
    facts={"architecture": "encoder", "learned_position_embeddings": True, "embedding_norm": True,
           "norm": "layernorm", "final_norm": False, "gated_ffn": False, "attention_bias": True, "mlp_bias": True,
           "lm_head": False, "pooler": True},
)
RWKV = Reader(
    keys={
        "vocab_size": Key("vocab_size", 50277),
        "hidden_size": Key("hidden_size", 4096),
        "num_hidden_layers": Key("num_hidden_layers", 32),
        "attention_hidden_size": Key("attention_hidden_size", same_as("hidden_size")),
        "intermediate_size": Key("intermediate_size", times_hidden(4)),
        "max_position_embeddings": Key("context_length", 1024),
        "tie_word_embeddings": flag("tie_word_embeddings", False),
    },
    facts={"architecture": "rwkv", "norm": "layernorm"},
    nulls={"attention_hidden_size": AS_ABSENT, "intermediate_size": AS_ABSENT},  # configuration_rwkv.py:69, 71
    spellings=(("context_length", "max_position_embeddings"),),
)


def smollm3_windows(c: Config, fields: Fields) -> None:
    """SmolLM3: a window only with use_sliding_window, and only on the layers without RoPE
    (no_rope_layers[i] == 0; by default every no_rope_layer_interval-th), configuration_smollm3.py:101-113."""
    types = c.get("layer_types", None, list)
    window = c.get("sliding_window", None)
    if window is None or not c.flag("use_sliding_window", False):
        if types is not None:
            fields["layer_types"] = types
        return
    fields["sliding_window"] = window
    if types is None:
        layers = fields["num_hidden_layers"]
        interval = c.get("no_rope_layer_interval", 4)
        rope = c.get("no_rope_layers", None, list)
        if rope is None:
            rope = [int((index + 1) % interval != 0) for index in range(layers)]
        if len(rope) < layers:
            raise SpecError(c.source, "no_rope_layers", f"lists {len(rope)} layers of {layers}")
        types = ["sliding_attention" if rope[index] == 0 else "full_attention" for index in range(layers)]
    fields["layer_types"] = types


def _layer_list(c: Config, key: str, layers: int) -> list[int] | None:
    """A list of layer indices or per-layer flags, checked to be integers."""
    values = c.get(key, None, list)
    if values is not None and not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        raise SpecError(c.source, key, f"must list integers, got {shown(values)}")
    return values


def llama4_schedule(c: Config, fields: Fields) -> None:
    """Llama 4 (configuration_llama4.py:166-191): layers with RoPE use chunked attention, every
    no_rope_layer_interval-th is full attention without RoPE; MoE layers are `moe_layers`, or
    every interleave_moe_layer_step-th; the others have a dense FFN of intermediate_size_mlp."""
    layers = fields["num_hidden_layers"]
    # A null or empty no_rope_layers means the default (the class tests its truth, :173).
    rope = _layer_list(c, "no_rope_layers", layers) or [
        int((index + 1) % c.get("no_rope_layer_interval", 4) != 0) for index in range(layers)]
    if len(rope) < layers:
        raise SpecError(c.source, "no_rope_layers", f"lists {len(rope)} layers of {layers}")
    types = c.get("layer_types", None, list)
    fields["layer_types"] = types if types is not None else [
        "chunked_attention" if rope[index] else "full_attention" for index in range(layers)]
    moe = _layer_list(c, "moe_layers", layers)  # [] is no MoE layer at all (tested against None, :176)
    if moe is None:
        step = c.get("interleave_moe_layer_step", 1)
        if step < 1:
            raise SpecError(c.source, "interleave_moe_layer_step", f"must be 1 or more, got {step}")
        moe = list(range(step - 1, layers, step))
    fields["ffn_types"] = ["moe" if index in set(moe) else "dense" for index in range(layers)]


def qwen3_next_schedule(c: Config, fields: Fields) -> None:
    """Qwen3-Next (configuration_qwen3_next.py:127-135): layer_types, or Gated DeltaNet layers
    with every full_attention_interval-th layer full (gated) attention."""
    types = c.get("layer_types", None, list)
    if types is None:
        interval = c.get("full_attention_interval", 4)
        if interval < 1:
            raise SpecError(c.source, "full_attention_interval", f"must be 1 or more, got {interval}")
        types = ["linear_attention" if (index + 1) % interval else "full_attention"
                 for index in range(fields["num_hidden_layers"])]
    fields["layer_types"] = types


def _dt_rank(value: Any, fields: Fields) -> int:
    """Mamba's time_step_rank: "auto" is ⌈H / 16⌉ (configuration_mamba.py:96-98)."""
    return -(-fields["hidden_size"] // 16) if value == "auto" else value


def _expand(c: Config, key: str, hidden: int) -> int:
    expand = c.get(key, 2, (int, float))
    return int(expand * hidden)


def mamba_width(c: Config, fields: Fields) -> None:
    """Mamba-1's width E: intermediate_size when the file has one (it is set after
    __post_init__ derives expand × H, so it wins: falcon-mamba-7b's expand 16 is not used),
    else int(expand × H)."""
    width = c.get("intermediate_size", None)
    fields["mamba_d_inner"] = width if width is not None else _expand(c, "expand", fields["hidden_size"])


def mamba2_width(c: Config, fields: Fields) -> None:
    """Mamba-2's width is int(expand × H) (modeling_mamba2.py:387; intermediate_size is not read),
    and must equal num_heads × head_dim (configuration_mamba2.py:96-103)."""
    width = _expand(c, "expand", fields["hidden_size"])
    heads, head_dim = fields["mamba_n_heads"], c.get("head_dim", 64)
    if heads * head_dim != width:
        raise SpecError(c.source, "num_heads", f"num_heads × head_dim = {heads * head_dim:,} must equal "
                                               f"expand × hidden_size = {width:,}")
    fields["mamba_d_inner"] = width


def jamba_schedule(c: Config, fields: Fields) -> None:
    """Jamba (configuration_jamba.py:108-125): attention where i % attn_layer_period ==
    attn_layer_offset, Mamba elsewhere; experts where i % expert_layer_period ==
    expert_layer_offset (and more than one expert), a dense FFN elsewhere."""
    layers = fields["num_hidden_layers"]
    attn_period, attn_offset = c.get("attn_layer_period", 8), c.get("attn_layer_offset", 4)
    moe_period, moe_offset = c.get("expert_layer_period", 2), c.get("expert_layer_offset", 1)
    for period, offset, name in ((attn_period, attn_offset, "attn_layer"), (moe_period, moe_offset, "expert_layer")):
        if period < 1 or offset >= period:
            raise SpecError(c.source, f"{name}_offset", f"must be below {name}_period ({offset} ≥ {period})")
    fields["layer_types"] = ["full_attention" if index % attn_period == attn_offset else "mamba"
                             for index in range(layers)]
    many_experts = fields["num_experts"] > 1
    fields["ffn_types"] = ["moe" if many_experts and index % moe_period == moe_offset else "dense"
                           for index in range(layers)]
    if not many_experts:
        del fields["num_experts"], fields["num_experts_per_tok"]
    fields["mamba_d_inner"] = _expand(c, "mamba_expand", fields["hidden_size"])


def falcon_h1_width(c: Config, fields: Fields) -> None:
    """Falcon-H1's Mamba-2 width: mamba_d_ssm (class default 1024; null: mamba_expand × H,
    configuration_falcon_h1.py:77, 109), split into mamba_n_heads heads of mamba_d_head."""
    width = c.get("mamba_d_ssm", 1024)
    if width is None:
        width = _expand(c, "mamba_expand", fields["hidden_size"])
    head = c.get("mamba_d_head", "auto", (int, str))
    heads = fields["mamba_n_heads"]
    if width % heads or (head != "auto" and head * heads != width):
        raise SpecError(c.source, "mamba_d_head", f"mamba_n_heads × mamba_d_head must equal mamba_d_ssm {width:,}")
    fields["mamba_d_inner"] = width


def dbrx_sections(c: Config, fields: Fields) -> None:
    """DBRX keeps KV heads in attn_config and the experts in ffn_config (configuration_dbrx.py:40-79)."""
    if fields["tie_word_embeddings"]:
        raise SpecError(c.source, "tie_word_embeddings", "DBRX's head is never tied (configuration_dbrx.py:158)")
    attention, ffn = c.section("attn_config", DBRX_SECTION), c.section("ffn_config", DBRX_SECTION)
    fields.update(num_key_value_heads=attention.get("kv_n_heads", 1),
                  intermediate_size=ffn.get("ffn_hidden_size", 3584),
                  num_experts=ffn.get("moe_num_experts", 4),
                  num_experts_per_tok=ffn.get("moe_top_k", 1))


def ernie_moe_layers(c: Config, fields: Fields) -> None:
    """ERNIE-4.5-MoE (modeling_ernie4_5_moe.py:396-402): experts where (i + 1) is a multiple of
    moe_layer_interval and moe_layer_start_index ≤ i ≤ moe_layer_end_index (-1: the last layer)."""
    if fields.pop("use_bias"):
        raise SpecError(c.source, "use_bias", "true also puts biases on the shared experts, which llmcalc "
                                              "does not count; not supported")
    layers = fields["num_hidden_layers"]
    start, end = c.get("moe_layer_start_index", 1), c.get("moe_layer_end_index", -1)
    interval = c.get("moe_layer_interval", 1)
    if interval < 1:
        raise SpecError(c.source, "moe_layer_interval", f"must be 1 or more, got {interval}")
    end = layers - 1 if end == -1 else end
    fields["ffn_types"] = ["moe" if (index + 1) % interval == 0 and start <= index <= end else "dense"
                           for index in range(layers)]


def dots1_windows(c: Config, fields: Fields) -> None:
    """dots.llm1 (configuration_dots1.py:119-125): layer_types, or a window on the layers from
    max_window_layers on; unlike Qwen, use_sliding_window is not read."""
    window = c.get("sliding_window", 4096)
    types = c.get("layer_types", None, list)
    if types is None:
        start = c.get("max_window_layers", 62)
        types = ["sliding_attention" if window is not None and index >= start else "full_attention"
                 for index in range(fields["num_hidden_layers"])]
    if window is not None:
        fields["sliding_window"] = window
    fields["layer_types"] = types


def hunyuan_top_k(value: Any, fields: Fields) -> int:
    """moe_topk: an integer, or one per layer (Hunyuan-A13B's [8] * 32); llmcalc takes one top-k."""
    if isinstance(value, list):
        if not value or len(set(value)) != 1 or not isinstance(value[0], int) or isinstance(value[0], bool):
            raise SpecError("config", "moe_topk", f"per-layer top-k must be one integer repeated, got {shown(value)}")
        return value[0]
    return value


def minimax_schedule(c: Config, fields: Fields) -> None:
    """MiniMax (configuration_minimax.py:123-126): layer_types, or full and linear attention
    alternating from a full layer 0."""
    types = c.get("layer_types", None, list)
    fields["layer_types"] = types if types is not None else [
        "full_attention" if (index + 1) % 2 else "linear_attention" for index in range(fields["num_hidden_layers"])]


# --- 2024–2026 model types -------------------------------------------------------------------------

# muP multipliers change activations, not shapes; head_dim is read with getattr (a null fails).
GRANITE = like(LLAMA, nulls={"head_dim": _UNDECLARED})  # configuration_granite.py:89-90
GRANITEMOE = like(GRANITE, keys={"num_experts": Key("num_local_experts", 8),
                                 "num_experts_per_tok": Key("num_experts_per_tok", 2)})  # intermediate_size: per expert
# shared_mlp of shared_intermediate_size (0: none, configuration_granitemoeshared.py:96), no gate
GRANITEMOESHARED = like(GRANITEMOE, keys={"shared_expert_intermediate_size": Key("shared_intermediate_size", 0)})
# One weight-only LayerNorm before parallel attention and MLP (modeling_cohere2.py:264-310); no
# QK norm; local layers by layer_types or a pattern of 4 (configuration_cohere2.py:96-102).
COHERE2 = like(LLAMA, keys={"tie_word_embeddings": flag("tie_word_embeddings", True), "mlp_bias": None},
               facts={"norm": "layernorm_no_bias", "norms_per_layer": 1},
               steps=(windows(default_window=4096, default_pattern=4),),
               # a null window: sliding layers attend fully (modeling_cohere2.py:221)
               nulls={"head_dim": _UNDECLARED, "sliding_window": None, "layer_types": AS_ABSENT},
               spellings=(("sliding_window_pattern", "_sliding_window_pattern"),))
# Sandwich norms (4 per layer, modeling_glm4.py:73-76); Q, K, V biases, never on O (:218); KV
# heads default to 2 and head_dim to 128 whatever H / heads (configuration_glm4.py:61-62).
GLM4 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 2), "head_dim": Key("head_dim", 128),
                         "attention_bias": None, "mlp_bias": None, "qkv_bias": flag("attention_bias", True)},
            facts={"norms_per_layer": 4}, nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED})
# DeepSeek-V3's routing (first_k_dense_replace, one shared MLP of n_shared × width, the
# e_score_correction_bias buffer) with plain GQA; per-head QK norms with use_qk_norm.
GLM4_MOE = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "attention_bias": None,
                             "mlp_bias": None, "qkv_bias": flag("attention_bias", False),
                             "qk_norm": Key("use_qk_norm", False, bool, lambda on, _: "head" if on else "none"),
                             "num_experts": Key("n_routed_experts", 128),
                             "num_experts_per_tok": Key("num_experts_per_tok", 8),
                             "moe_intermediate_size": Key("moe_intermediate_size", 1408),
                             "n_shared_experts": Key("n_shared_experts", 1),
                             "first_k_dense_replace": Key("first_k_dense_replace", 1),
                             "num_nextn_predict_layers": Key("num_nextn_predict_layers", 1)},
                facts={"router_score_bias": True},  # modeling_glm4_moe.py:279, a persistent buffer
                nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED},
                spellings=(("n_routed_experts", "num_local_experts"),  # configuration_glm4_moe.py:86-89
                           ("num_nextn_predict_layers", "num_mtp_layers")))

# A KV-head count whose class default is a number but whose null means "as many as the heads".
_KV_NULL_IS_HEADS = {"num_key_value_heads": same_as("num_attention_heads")}
SMOLLM3 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 4),  # configuration_smollm3.py:77
                            "tie_word_embeddings": flag("tie_word_embeddings", True)},
               steps=(smollm3_windows,),
               nulls={**_KV_NULL_IS_HEADS, "head_dim": _UNDECLARED, "sliding_window": None, "layer_types": AS_ABSENT})
# OLMoE: Mixtral-like experts with OLMo-2's full-width QK norms, sized by H / heads whatever
# head_dim says (modeling_olmoe.py:222-225), so head_dim is not read.
OLMOE = like(LLAMA, keys={"head_dim": None, "num_experts": Key("num_experts", 64),
                          "num_experts_per_tok": Key("num_experts_per_tok", 8)},
             facts={"qk_norm": "full"}, spellings=(("num_experts", "num_local_experts"),),
             nulls={"head_dim": _UNDECLARED})  # configuration_olmoe.py:89-90
# OLMo 3: OLMo 2 with 3 sliding : 1 full layers (configuration_olmo3.py:86, 93-96); a null
# window leaves attention full (modeling_olmo3.py:164).
OLMO3 = like(OLMO2, steps=(windows(default_window=4096, default_pattern=4),),
             nulls={"sliding_window": None, "layer_types": AS_ABSENT})
# Seed-OSS: Q, K, V biases by attention_bias, O's by attention_out_bias; KV heads default to 8
# and head_dim to 128 (null: hidden // heads), configuration_seed_oss.py:67, 79-90.
SEED_OSS = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "head_dim": Key("head_dim", 128),
                             "attention_bias": None, "qkv_bias": flag("attention_bias", True),
                             "attention_out_bias": flag("attention_out_bias", False)},
                nulls={**_KV_NULL_IS_HEADS, "head_dim": None})

# Llama 4's text model: chunked attention on RoPE layers, full attention on NoPE layers, a
# parameter-free L2 QK norm, MoE layers (one shared expert, top-k of num_local_experts) and
# dense layers (modeling_llama4.py:57-163, 308-406). Nulls of the sizes are rejected (@strict).
LLAMA4_TEXT = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "head_dim": Key("head_dim", 128),
                                "intermediate_size": Key("intermediate_size_mlp", 16384), "mlp_bias": None,
                                "moe_intermediate_size": Key("intermediate_size", 8192),
                                "shared_expert_intermediate_size": Key("intermediate_size", 8192),
                                "num_experts": Key("num_local_experts", 16),
                                "num_experts_per_tok": Key("num_experts_per_tok", 1),
                                "attention_chunk_size": Key("attention_chunk_size", 8192)},
                   steps=(llama4_schedule,),
                   nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED, "no_rope_layers": AS_ABSENT,
                          "moe_layers": AS_ABSENT, "layer_types": AS_ABSENT})
# gpt-oss: attention with biases (on by default) and a sink logit per head; even layers slide
# over 128 tokens, odd layers are full; every layer is MoE with a router bias and expert biases
# (modeling_gpt_oss.py:71-123, 264-285). A null window makes the model fail: not declared.
GPT_OSS = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "head_dim": Key("head_dim", 64),
                            "attention_bias": flag("attention_bias", True), "mlp_bias": None,
                            "num_experts": Key("num_local_experts", 128),
                            "num_experts_per_tok": Key("num_experts_per_tok", 4)},
               facts={"attention_sinks": True, "router_bias": True, "expert_bias": True},
               steps=(windows(default_window=128, default_pattern=2),),
               nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED, "layer_types": AS_ABSENT},
               spellings=(("num_local_experts", "num_experts"),))  # configuration_gpt_oss.py:33-35
# Qwen3-Next: Gated DeltaNet layers and gated full attention (Q projection doubled for the
# output gate, per-head QK norms), MoE with a gated shared expert (modeling_qwen3_next.py).
# num_experts has no other spelling here: a num_local_experts key is not read by transformers.
QWEN3_NEXT = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 2), "head_dim": Key("head_dim", 256),
                               "intermediate_size": Key("intermediate_size", 5632), "mlp_bias": None,
                               "linear_num_key_heads": Key("linear_num_key_heads", 16),
                               "linear_num_value_heads": Key("linear_num_value_heads", 32),
                               "linear_key_head_dim": Key("linear_key_head_dim", 128),
                               "linear_value_head_dim": Key("linear_value_head_dim", 128),
                               "linear_conv_kernel_dim": Key("linear_conv_kernel_dim", 4),
                               "num_experts": Key("num_experts", 512), "num_experts_per_tok": Key("num_experts_per_tok", 10),
                               "moe_intermediate_size": Key("moe_intermediate_size", 512),
                               "shared_expert_intermediate_size": Key("shared_expert_intermediate_size", 512)},
                  facts={"qk_norm": "head", "attention_output_gate": True, "shared_expert_gate": True},
                  steps=(qwen3_next_schedule, qwen_moe_layers),
                  nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED, "layer_types": AS_ABSENT,
                         "mlp_only_layers": AS_ABSENT})

# Mamba: blocks of one RMSNorm and a Mamba mixer, no attention, no FFN (modeling_mamba.py:292-333,
# 505-512). Size keys typed int reject a null (@strict).
MAMBA_BLOCKS = Reader(
    keys={
        "vocab_size": Key("vocab_size"),
        "hidden_size": Key("hidden_size"),
        "num_hidden_layers": Key("num_hidden_layers"),
        "mamba_d_state": Key("state_size", 16),
        "mamba_d_conv": Key("conv_kernel", 4),
        "mamba_conv_bias": flag("use_conv_bias", True),
        "mamba_in_proj_bias": flag("use_bias", False),
        "mamba_out_proj_bias": flag("use_bias", False),
        "tie_word_embeddings": flag("tie_word_embeddings", True),
    },
    facts={"layer_types": "mamba", "ffn_types": "none", "norm": "rmsnorm", "norms_per_layer": 1},
)
MAMBA = like(MAMBA_BLOCKS, keys={"mamba_dt_rank": Key("time_step_rank", "auto", (int, str), _dt_rank)},
             facts={"mamba_version": 1}, steps=(mamba_width,))
# Falcon-Mamba: Mamba's parameters; its Δt/B/C RMSNorms hold no parameters (non-persistent buffers,
# modeling_falcon_mamba.py:46-60).
FALCON_MAMBA = MAMBA
# Mamba-2 (configuration_mamba2.py:62-88): heads, groups, a gated RMSNorm; untied by default.
MAMBA2 = like(MAMBA_BLOCKS, keys={"mamba_d_state": Key("state_size", 128), "mamba_n_heads": Key("num_heads", 128),
                                  "mamba_n_groups": Key("n_groups", 8),
                                  "tie_word_embeddings": flag("tie_word_embeddings", False)},
              facts={"mamba_version": 2}, steps=(mamba2_width,))
# Jamba: Mamba-1 layers (with RMSNorms on Δt, B, C) and attention layers without biases; dense
# FFNs and MoE layers on their own schedule (modeling_jamba.py:154-169, 452-502, 624-736).
JAMBA = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "attention_bias": None,
                          "mlp_bias": None, "tie_word_embeddings": flag("tie_word_embeddings", False),
                          "num_experts": Key("num_experts", 16), "num_experts_per_tok": Key("num_experts_per_tok", 2),
                          "mamba_d_state": Key("mamba_d_state", 16), "mamba_d_conv": Key("mamba_d_conv", 4),
                          "mamba_dt_rank": Key("mamba_dt_rank", "auto", (int, str), _dt_rank),
                          "mamba_conv_bias": flag("mamba_conv_bias", True),
                          "mamba_in_proj_bias": flag("mamba_proj_bias", False),
                          "mamba_out_proj_bias": flag("mamba_proj_bias", False)},
             facts={"mamba_version": 1, "mamba_inner_norms": True},
             steps=(jamba_schedule,), nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED},
             spellings=(("num_experts", "num_local_experts"),))  # configuration_jamba.py:63-65
# Falcon-H1: every layer runs GQA attention and a Mamba-2 mixer side by side, then a gated MLP;
# muP multipliers are floats, not parameters (modeling_falcon_h1.py:176-193, 597-652, 832-945).
FALCON_H1 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8),
                              "mamba_n_heads": Key("mamba_n_heads", 128), "mamba_n_groups": Key("mamba_n_groups", 1),
                              "mamba_d_state": Key("mamba_d_state", 256), "mamba_d_conv": Key("mamba_d_conv", 4),
                              "mamba_conv_bias": flag("mamba_conv_bias", True),
                              "mamba_in_proj_bias": flag("mamba_proj_bias", False),
                              "mamba_out_proj_bias": flag("projectors_bias", False),
                              "mamba_gated_norm": flag("mamba_rms_norm", False)},
                 facts={"layer_types": "hybrid", "mamba_version": 2}, steps=(falcon_h1_width,),
                 # configuration_falcon_h1.py:105-106; a null conv/proj bias or rms_norm is tested for truth
                 nulls={**_KV_NULL_IS_HEADS, "head_dim": _UNDECLARED, "mamba_d_ssm": None, "mamba_conv_bias": False,
                        "mamba_proj_bias": False, "projectors_bias": False, "mamba_rms_norm": False})

# DBRX's attn_config and ffn_config: nothing beyond what every config reads.
DBRX_SECTION = Reader()
# DBRX: MPT key names, weight-only LayerNorms, fused Wqkv of H/heads-wide heads, 16 experts of
# fused w1/v1/w2, no biases anywhere (modeling_dbrx.py:174-315).
DBRX = Reader(
    keys={
        "vocab_size": Key("vocab_size"),
        "hidden_size": Key("d_model"),
        "num_hidden_layers": Key("n_layers"),
        "num_attention_heads": Key("n_heads"),
        "max_position_embeddings": Key("max_seq_len", 2048),
        "tie_word_embeddings": flag("tie_word_embeddings", False),
    },
    facts={"norm": "layernorm_no_bias", "gated_ffn": True},
    steps=(dbrx_sections,),
    # an ffn_config null takes DbrxFFNConfig's defaults; a null attn_config fails to build
    nulls={"ffn_config": AS_ABSENT, "max_seq_len": AS_ABSENT},
    spellings=(("d_model", "hidden_size"), ("n_heads", "num_attention_heads"), ("n_layers", "num_hidden_layers"),
               ("max_seq_len", "max_position_embeddings")),  # configuration_dbrx.py:115-120
)
# EXAONE 4: OLMo-2-like post-norms with per-head QK norms, no biases, 3 local : 1 global layers
# by default (configuration_exaone4.py:84-110; modeling_exaone4.py:194-284).
EXAONE4 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 32), "attention_bias": None,
                            "mlp_bias": None},
               facts={"qk_norm": "head"}, steps=(windows(default_window=4096, default_pattern=4),),
               # a null window: no window (:101-102); a null head_dim fails to build
               nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED, "sliding_window": None,
                      "layer_types": AS_ABSENT})
# Nemotron-4 / Minitron: LLaMA attention, a plain squared-ReLU MLP, LayerNorm1P (weight and bias,
# modeling_nemotron.py:61-78, 178-179). num_key_value_heads has no fallback; kv_channels is NeMo's
# name and transformers does not read it.
NEMOTRON = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads")},
                facts={"norm": "layernorm", "gated_ffn": False},
                nulls={"num_key_value_heads": _UNDECLARED})  # head_dim null: hidden // heads (:76)
# Phi-3.5-MoE: Mixtral's experts with LayerNorms (weight and bias), attention and LM-head biases,
# one window for every layer (modeling_phimoe.py:177-194, 528-531, 749). No num_experts spelling.
PHIMOE = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "mlp_bias": None,
                           "num_experts": Key("num_local_experts", 16), "num_experts_per_tok": Key("num_experts_per_tok", 2),
                           "lm_head_bias": flag("lm_head_bias", False)},
              facts={"norm": "layernorm"}, steps=(windows(),),
              nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED, "sliding_window": None})

# ERNIE 4.5: LLaMA with one use_bias switch for attention and MLP, head_dim 128 and 2 KV heads by
# default (null: hidden // heads, heads), tied (configuration_ernie4_5.py:69-87).
ERNIE4_5 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 2), "head_dim": Key("head_dim", 128),
                             "attention_bias": flag("use_bias", False), "mlp_bias": flag("use_bias", False),
                             "tie_word_embeddings": flag("tie_word_embeddings", True)},
                nulls={**_KV_NULL_IS_HEADS, "head_dim": None, "use_bias": False})
# ERNIE 4.5 MoE: dense and MoE layers on a schedule, ungated shared experts, a router whose
# e_score_correction_bias is a parameter of E values (moe_statics, modeling_ernie4_5_moe.py:281-284),
# head_dim = hidden // heads; its mtp* tensors are not built.
ERNIE4_5_MOE = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 4), "head_dim": None,
                                 "attention_bias": None, "mlp_bias": None, "use_bias": flag("use_bias", False),
                                 "tie_word_embeddings": flag("tie_word_embeddings", True),
                                 "num_experts": Key("moe_num_experts", 64), "num_experts_per_tok": Key("moe_k", 6),
                                 "moe_intermediate_size": Key("moe_intermediate_size", 1536),
                                 "n_shared_experts": Key("moe_num_shared_experts", 2),
                                 "num_nextn_predict_layers": Key("num_nextn_predict_layers", 0)},
                    facts={"router_bias": True}, steps=(ernie_moe_layers,),
                    nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED, "use_bias": False},
                    spellings=(("moe_num_experts", "num_experts"), ("moe_k", "num_experts_per_tok")))
# dots.llm1: DeepSeek-V3's routing (e_score_correction_bias is a buffer) on Qwen3 attention; the
# expert counts have no usable class default (configuration_dots1.py:83-125).
DOTS1 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 32),
                          "num_experts": Key("n_routed_experts"), "num_experts_per_tok": Key("num_experts_per_tok"),
                          "moe_intermediate_size": Key("moe_intermediate_size", 1408),
                          "n_shared_experts": Key("n_shared_experts"),
                          "first_k_dense_replace": Key("first_k_dense_replace", 0), "mlp_bias": None},
             facts={"qk_norm": "head", "router_score_bias": True}, steps=(dots1_windows,),
             nulls={**_KV_NULL_IS_HEADS, "head_dim": _UNDECLARED, "sliding_window": None, "layer_types": AS_ABSENT},
             spellings=(("n_routed_experts", "num_local_experts"),))  # configuration_dots1.py:79-81

# MiniMax-Text-01: lightning (linear) attention layers and softmax attention layers, Mixtral-like
# experts in every layer (modeling_minimax.py:125-148, 399-549). Its decay tables are persistent
# buffers, not parameters. The original repo's attn_type_list is not read by transformers, nor is
# sliding_window here: it masks the full layers but their cache keeps every token (MiniMaxCache).
MINIMAX = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "attention_bias": None,
                            "mlp_bias": None, "num_experts": Key("num_local_experts", 8),
                            "num_experts_per_tok": Key("num_experts_per_tok", 2)},
               facts={"linear_attention": "lightning"}, steps=(minimax_schedule,),
               nulls={"num_key_value_heads": _UNDECLARED, "layer_types": AS_ABSENT},
               spellings=(("num_local_experts", "num_experts"),))  # configuration_minimax.py:84
# MiniMax-M2: full-width QK norms, 256 small experts with a sigmoid router whose correction bias
# is a buffer; its MTP modules (num_mtp_modules) are not built (modeling_minimax_m2.py:45-113, 292).
MINIMAX_M2 = like(LLAMA, keys={"num_key_value_heads": Key("num_key_value_heads", 8), "head_dim": Key("head_dim", 128),
                               "attention_bias": None, "mlp_bias": None,
                               "num_experts": Key("num_local_experts", 256),
                               "num_experts_per_tok": Key("num_experts_per_tok", 8),
                               "num_nextn_predict_layers": Key("num_mtp_modules", 0)},
                  facts={"qk_norm": "full", "router_score_bias": True},
                  nulls={"num_key_value_heads": _UNDECLARED, "head_dim": _UNDECLARED},
                  spellings=(("num_local_experts", "num_experts"),))  # configuration_minimax_m2.py:70-73
# Hunyuan: per-head QK norms, head_dim required (its class default None fails to build,
# modeling_hunyuan_v1_dense.py:160-179); the MoE adds an ungated shared MLP of intermediate_size.
HUNYUAN_V1_DENSE = like(LLAMA, keys={"head_dim": Key("head_dim"), "mlp_bias": None}, facts={"qk_norm": "head"},
                        nulls={"head_dim": _UNDECLARED})
HUNYUAN_V1_MOE = like(HUNYUAN_V1_DENSE, keys={"num_experts": Key("num_experts", 1),
                                              "num_experts_per_tok": Key("moe_topk", 1, (int, list), hunyuan_top_k),
                                              "shared_expert_intermediate_size": Key("intermediate_size")},
                      spellings=(("moe_topk", "num_experts_per_tok"), ("num_experts", "num_local_experts")))


def chatglm_layout(c: Config, fields: Fields) -> None:
    """THUDM's remote code: ChatGLM-6B (GLM blocks) or ChatGLM2/3 (padded_vocab_size, MQA groups)."""
    if c.has("padded_vocab_size") or c.has("multi_query_attention"):
        heads = c.get("num_attention_heads")
        bias = c.flag("add_bias_linear", False)
        fields.update(
            vocab_size=c.get("padded_vocab_size"),
            hidden_size=c.get("hidden_size"),
            num_hidden_layers=c.get("num_layers"),
            num_attention_heads=heads,
            num_key_value_heads=c.get("multi_query_group_num", heads) if c.flag("multi_query_attention", False)
            else heads,
            head_dim=c.get("kv_channels", None),
            intermediate_size=c.get("ffn_hidden_size"),
            max_position_embeddings=c.get("seq_length", None),
            qkv_bias=c.flag("add_qkv_bias", False),
            attention_bias=bias,
            mlp_bias=bias,
            norm="rmsnorm" if c.flag("rmsnorm", True) else "layernorm",
            final_norm=c.flag("post_layer_norm", True),
            gated_ffn=True,
            tie_word_embeddings=c.flag("tie_word_embeddings", False),
        )
        return
    hidden = c.get("hidden_size")
    fields.update(
        vocab_size=c.get("vocab_size"),
        hidden_size=hidden,
        num_hidden_layers=c.get("num_layers"),
        num_attention_heads=c.get("num_attention_heads"),
        intermediate_size=c.get("inner_hidden_size", 4 * hidden),
        max_position_embeddings=c.get("max_sequence_length", None),
        norm="layernorm",
        gated_ffn=False,
        attention_bias=True,
        mlp_bias=True,
        # The remote code leaves tie_word_embeddings at PretrainedConfig's default: tied.
        tie_word_embeddings=c.flag("tie_word_embeddings", True),
    )


CHATGLM = Reader(steps=(chatglm_layout,))
# What every model type reads: torch_dtype under its transformers 5 name too (configuration_utils.py:419, 440).
ALL_TYPES = Reader(nulls={"torch_dtype": AS_ABSENT, "dtype": AS_ABSENT}, spellings=(("torch_dtype", "dtype"),))

READERS: dict[str, Reader] = {
    "llama": LLAMA, "mistral": MISTRAL, "mixtral": MIXTRAL, "qwen2": QWEN2, "qwen2_moe": QWEN2_MOE,
    "qwen3": QWEN3, "qwen3_moe": QWEN3_MOE, "gemma": GEMMA, "gemma2": GEMMA2, "gemma3_text": GEMMA3_TEXT,
    "phi3": PHI3, "gpt2": GPT2, "gpt_bigcode": GPT_BIGCODE, "gpt_neox": GPT_NEOX, "gptj": GPTJ,
    "falcon": FALCON, "bloom": BLOOM, "cohere": COHERE, "olmo": OLMO, "olmo2": OLMO2,
    "starcoder2": STARCODER2, "stablelm": STABLELM, "deepseek_v2": DEEPSEEK_V2, "deepseek_v3": DEEPSEEK_V3,
    "t5": T5, "bert": BERT, "rwkv": RWKV, "chatglm": CHATGLM, "internlm2": INTERNLM2, "baichuan": BAICHUAN,
    "granite": GRANITE, "granitemoe": GRANITEMOE, "granitemoeshared": GRANITEMOESHARED, "cohere2": COHERE2,
    "glm4": GLM4, "glm4_moe": GLM4_MOE, "smollm3": SMOLLM3, "olmoe": OLMOE, "olmo3": OLMO3, "seed_oss": SEED_OSS,
    "llama4_text": LLAMA4_TEXT, "gpt_oss": GPT_OSS, "qwen3_next": QWEN3_NEXT, "mamba": MAMBA,
    "falcon_mamba": FALCON_MAMBA, "mamba2": MAMBA2, "jamba": JAMBA, "falcon_h1": FALCON_H1, "dbrx": DBRX,
    "exaone4": EXAONE4, "nemotron": NEMOTRON, "phimoe": PHIMOE, "ernie4_5": ERNIE4_5, "ernie4_5_moe": ERNIE4_5_MOE,
    "dots1": DOTS1, "minimax": MINIMAX, "minimax_m2": MINIMAX_M2, "hunyuan_v1_dense": HUNYUAN_V1_DENSE,
    "hunyuan_v1_moe": HUNYUAN_V1_MOE,
}


# Older spellings of the same architectures.
# kimi_k2: Moonshot's remote code is DeepSeek-V3's (its config names DeepseekV3ForCausalLM).
MODEL_TYPE_SPELLINGS = {"RefinedWeb": "falcon", "RefinedWebModel": "falcon", "gemma3": "gemma3_text",
                        "kimi_k2": "deepseek_v3"}


# Sub-configs of a multimodal config that are not towers of their own.
_NOT_TOWERS = ("text_config", "quantization_config", "rope_scaling", "rope_parameters")


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
    not_counted = []
    # Gemma 3's multimodal configs say "gemma3", a spelling of its text model's type: the
    # language model is in text_config whenever the file's own type has no reader.
    if isinstance(data.get("text_config"), dict) and data.get("model_type") not in READERS:
        # A multimodal checkpoint: its language model is counted, its other towers are named.
        towers = [key for key, value in data.items()
                  if key.endswith("_config") and isinstance(value, dict) and key not in _NOT_TOWERS]
        not_counted = [f"the {key.removesuffix('_config')} tower and its projector ({key} of "
                       f"{data.get('model_type')!r}): "
                       "only the language model (text_config) is counted" for key in towers]
        data = {**data["text_config"], **{k: v for k, v in data.items() if k in ("torch_dtype", "dtype",
                                                                               "quantization_config")}}
        model_type = _model_type(data, source)
    if model_type not in READERS:
        if assume is None:
            raise SpecError(source, "model_type", f"{model_type!r} is not supported; supported: "
                                                  f"{', '.join(sorted(READERS))} (or --assume llama)")
        if assume not in READERS:
            raise SpecError(source, "--assume", f"{assume!r} is not a supported model type")
        warnings.append(f"model_type {model_type!r} is not supported: counted as {assume!r}-like")
        model_type = assume
    reader = READERS[model_type]
    config = Config(data, source, model_type, reader)
    fields = read(config, reader)
    fields.update(_common(config))
    warnings += config.warnings
    if not fields.get("head_dim"):
        fields.pop("head_dim", None)
    fields = {key: value for key, value in fields.items() if value is not None or key == "q_lora_rank"}
    if not_counted:
        fields["not_counted"] = not_counted
    fields["name"] = name or _default_name(data, source)
    fields["family"] = fields["model_type"] = model_type
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
