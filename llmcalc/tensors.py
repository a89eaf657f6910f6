"""The tensors a model's files hold, named and shaped, derived from its spec. Pure.

Two layouts: the Hugging Face checkpoint's (PyTorch order, `[out, in]`; what safetensors
quantization formats pack, Linear by Linear) and a GGUF's as llama.cpp's convert_hf_to_gguf.py
writes it (ggml order, the row length first; experts stacked into 3-D tensors; norms, biases and
routers in f32). Both add up to the parameter count, element for element (a test checks every
preset), so the sizes built on them cannot drift from `params`.
"""

from __future__ import annotations

from math import prod

from llmcalc.errors import SpecError
from llmcalc.records import record, replace
from llmcalc.spec import Attention, FeedForward, Layer, LatentAttention, MixtureOfExperts, ModelSpec, layer_runs


@record(eq=False)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # as written before any quantization: "f32" (norms, biases, routers) or the model's
    linear: bool = False  # a Linear layer's weight: what weight-only quantization packs
    expert: bool = False  # a routed expert's (MoE) weight
    buffer: bool = False  # stored, but not a parameter (DeepSeek-V3's score-correction bias)

    @property
    def elements(self) -> int:
        return prod(self.shape)


@record(eq=False)
class GgufLayout:
    """How llama.cpp's converter writes one model type (convert_hf_to_gguf.py, checked against its
    tensor pass on real configs): its architecture name, the block's norm names, fusions."""

    arch: str
    norms: tuple[str, ...] = ("attn_norm", "ffn_norm")
    fused: bool = False  # Phi-3: attn_qkv and ffn_up holding gate and up
    rope_freqs: bool = False  # a llama3-scaled RoPE writes rope_freqs (LlamaModel.generate_extra_tensors)


_SANDWICH = ("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm")
GGUF_LAYOUTS = {
    "llama": GgufLayout("llama", rope_freqs=True), "mistral": GgufLayout("llama", rope_freqs=True),
    "mixtral": GgufLayout("llama"), "granite": GgufLayout("granite"), "smollm3": GgufLayout("smollm3"),
    "qwen2": GgufLayout("qwen2"), "qwen3": GgufLayout("qwen3"), "qwen3_moe": GgufLayout("qwen3moe"),
    "gemma2": GgufLayout("gemma2", _SANDWICH), "gemma3_text": GgufLayout("gemma3", _SANDWICH),
    "phi3": GgufLayout("phi3", fused=True), "gpt_oss": GgufLayout("gpt-oss", ("attn_norm", "post_attention_norm")),
    "llama4_text": GgufLayout("llama4", rope_freqs=True), "deepseek_v2": GgufLayout("deepseek2"),
    "deepseek_v3": GgufLayout("deepseek2"),
}


def gguf_layout(spec: ModelSpec) -> GgufLayout:
    """How this model's GGUF is laid out, or a SpecError naming what is not modelled."""
    layout = GGUF_LAYOUTS.get(spec.model_type)
    if layout is None or spec.architecture != "decoder":
        known = spec.model_type or f"{spec.family!r} (no model_type)"
        raise SpecError(spec.name, "model_type", f"the GGUF layout of {known} models is not modelled yet "
                                                 f"(modelled: {', '.join(sorted(GGUF_LAYOUTS))}); the safetensors "
                                                 "formats apply")
    return layout


def gguf_tensors(spec: ModelSpec) -> list[Tensor]:
    """Every tensor of a GGUF that llama.cpp's converter writes for this model (ggml order)."""
    layout = gguf_layout(spec)
    source = "bf16" if spec.torch_dtype is None or spec.torch_dtype.name == "bf16" else "f16"
    hidden, vocab = spec.hidden_size, spec.embeddings.vocab_size
    norm_bias = spec.norm == "layernorm"
    tensors = [Tensor("token_embd.weight", (hidden, vocab), source, linear=True)]
    for index, layer in enumerate(spec.stacks[0].layers):
        tensors += _gguf_layer(spec, layout, f"blk.{index}.", layer, source, norm_bias)
    if spec.stacks[0].final_norm:
        tensors += _norm("output_norm", hidden, norm_bias)
    if spec.embeddings.head == "untied":
        tensors.append(Tensor("output.weight", (hidden, vocab), source, linear=True))
    if spec.embeddings.head_bias:
        tensors.append(Tensor("output.bias", (vocab,), "f32"))
    if spec.rope_scaling == "llama3" and layout.rope_freqs:
        first = spec.stacks[0].layers[0].mixer
        assert isinstance(first, Attention)
        tensors.append(Tensor("rope_freqs.weight", (first.head_dim // 2,), "f32"))  # one per pair of dimensions
    return tensors


def _norm(name: str, width: int, bias: bool) -> list[Tensor]:
    return [Tensor(f"{name}.weight", (width,), "f32")] + ([Tensor(f"{name}.bias", (width,), "f32")] if bias else [])


def _gguf_layer(spec: ModelSpec, layout: GgufLayout, prefix: str, layer: Layer, source: str,
                norm_bias: bool) -> list[Tensor]:
    attention, ffn = layer.mixer, layer.ffn
    if not isinstance(attention, (Attention, LatentAttention)) or layer.parallel_mixer is not None \
            or layer.cross_attention is not None or ffn is None:
        raise SpecError(spec.name, "layer_types", "the GGUF layout of this kind of layer is not modelled yet")
    if isinstance(attention, Attention) and (attention.output_gate or attention.localized_filtering):
        raise SpecError(spec.name, "attention", "the GGUF layout of this attention is not modelled yet")
    if len(layout.norms) != layer.norms or spec.norm_params_per_feature == 0:
        raise SpecError(spec.name, "norms_per_layer", "the GGUF layout of this block's norms is not modelled yet")
    hidden = spec.hidden_size
    tensors: list[Tensor] = []
    for norm in layout.norms:
        tensors += _norm(prefix + norm, hidden, norm_bias)
    if isinstance(attention, LatentAttention):
        tensors += _gguf_latent(prefix, attention, hidden, source)
    else:
        tensors += _gguf_attention(spec, layout, prefix, attention, source, norm_bias)
    if isinstance(ffn, FeedForward):
        if layout.fused:  # gate and up in one [H, 2F] tensor
            tensors += [Tensor(prefix + "ffn_up.weight", (hidden, 2 * ffn.intermediate_size), source, linear=True),
                        Tensor(prefix + "ffn_down.weight", (ffn.intermediate_size, hidden), source, linear=True)]
        else:
            tensors += _gguf_ffn(prefix, "", hidden, ffn.intermediate_size, ffn.gated, ffn.bias, source)
    elif isinstance(ffn, MixtureOfExperts):
        tensors += _gguf_moe(prefix, hidden, ffn, source)
    else:
        raise SpecError(spec.name, "architecture", "the GGUF layout of RWKV is not modelled")
    return tensors


def _gguf_attention(spec: ModelSpec, layout: GgufLayout, prefix: str, attention: Attention, source: str,
                    norm_bias: bool) -> list[Tensor]:
    hidden, heads, kv_heads, head_dim = spec.hidden_size, attention.num_heads, attention.num_kv_heads, attention.head_dim
    if layout.fused:
        tensors = [Tensor(prefix + "attn_qkv.weight", (hidden, (heads + 2 * kv_heads) * head_dim), source, linear=True)]
    else:
        tensors = [Tensor(prefix + "attn_q.weight", (hidden, heads * head_dim), source, linear=True),
                   Tensor(prefix + "attn_k.weight", (hidden, kv_heads * head_dim), source, linear=True),
                   Tensor(prefix + "attn_v.weight", (hidden, kv_heads * head_dim), source, linear=True)]
    tensors.append(Tensor(prefix + "attn_output.weight", (heads * head_dim, hidden), source, linear=True))
    if attention.qkv_bias:
        tensors += [Tensor(prefix + "attn_q.bias", (heads * head_dim,), "f32"),
                    Tensor(prefix + "attn_k.bias", (kv_heads * head_dim,), "f32"),
                    Tensor(prefix + "attn_v.bias", (kv_heads * head_dim,), "f32")]
    if attention.o_bias:
        tensors.append(Tensor(prefix + "attn_output.bias", (hidden,), "f32"))
    if attention.qk_norm == "head":
        tensors += _norm(prefix + "attn_q_norm", head_dim, False) + _norm(prefix + "attn_k_norm", head_dim, False)
    elif attention.qk_norm == "full":
        tensors += (_norm(prefix + "attn_q_norm", heads * head_dim, norm_bias)
                    + _norm(prefix + "attn_k_norm", kv_heads * head_dim, norm_bias))
    elif attention.qk_norm != "none":
        raise SpecError(spec.name, "qk_norm", f"the GGUF layout of {attention.qk_norm!r} QK norms is not modelled")
    if attention.sinks:
        tensors.append(Tensor(prefix + "attn_sinks.weight", (heads,), "f32"))
    return tensors


def _gguf_latent(prefix: str, a: LatentAttention, hidden: int, source: str) -> list[Tensor]:
    """DeepSeek's MLA as the converter writes it: kv_b_proj split into per-head 3-D attn_k_b and attn_v_b."""
    query = a.num_heads * (a.qk_nope_head_dim + a.qk_rope_head_dim)
    if a.q_lora_rank:
        tensors = [Tensor(prefix + "attn_q_a.weight", (hidden, a.q_lora_rank), source, linear=True),
                   Tensor(prefix + "attn_q_a_norm.weight", (a.q_lora_rank,), "f32"),
                   Tensor(prefix + "attn_q_b.weight", (a.q_lora_rank, query), source, linear=True)]
    else:
        tensors = [Tensor(prefix + "attn_q.weight", (hidden, query), source, linear=True)]
    return tensors + [
        Tensor(prefix + "attn_kv_a_mqa.weight", (hidden, a.kv_lora_rank + a.qk_rope_head_dim), source, linear=True),
        Tensor(prefix + "attn_kv_a_norm.weight", (a.kv_lora_rank,), "f32"),
        Tensor(prefix + "attn_k_b.weight", (a.qk_nope_head_dim, a.kv_lora_rank, a.num_heads), source, linear=True),
        Tensor(prefix + "attn_v_b.weight", (a.kv_lora_rank, a.v_head_dim, a.num_heads), source, linear=True),
        Tensor(prefix + "attn_output.weight", (a.num_heads * a.v_head_dim, hidden), source, linear=True)]


def _gguf_ffn(prefix: str, suffix: str, hidden: int, width: int, gated: bool, bias: bool, source: str,
              experts: int = 0) -> list[Tensor]:
    """ffn_gate/up/down (`_exps` stacked over the experts, `_shexp` for a shared expert)."""
    stack = (experts,) if experts else ()
    tensors = []
    for name, shape in ((("ffn_gate", (hidden, width)),) if gated else ()) + (
            ("ffn_up", (hidden, width)), ("ffn_down", (width, hidden))):
        tensors.append(Tensor(f"{prefix}{name}{suffix}.weight", shape + stack, source, linear=True,
                              expert=bool(experts)))
        if bias:
            tensors.append(Tensor(f"{prefix}{name}{suffix}.bias", shape[1:] + stack, "f32"))
    return tensors


def _gguf_moe(prefix: str, hidden: int, moe: MixtureOfExperts, source: str) -> list[Tensor]:
    experts = moe.num_experts
    tensors = [Tensor(prefix + "ffn_gate_inp.weight", (hidden, experts), "f32")]
    if moe.router_bias:
        tensors.append(Tensor(prefix + "ffn_gate_inp.bias", (experts,), "f32"))
    if moe.score_correction_bias:
        tensors.append(Tensor(prefix + "exp_probs_b.bias", (experts,), "f32", buffer=True))
    tensors += _gguf_ffn(prefix, "_exps", hidden, moe.expert_intermediate_size, moe.gated, moe.expert_bias, source,
                         experts=experts)
    if moe.shared_expert_intermediate_size:
        tensors += _gguf_ffn(prefix, "_shexp", hidden, moe.shared_expert_intermediate_size, moe.gated, False, source)
    if moe.shared_expert_gate:
        tensors.append(Tensor(prefix + "ffn_gate_inp_shexp.weight", (hidden,), "f32"))
    return tensors


def gguf_hparams_of(spec: ModelSpec) -> tuple[str, int, int, int, int]:
    """(arch, n_layer, n_head, n_head_kv, n_expert) as llama.cpp reads them from the GGUF (an MLA
    model's head_count_kv is 1: its latent is shared by every head, as in llama.cpp's DeepSeek-V3.1
    golden file)."""
    arch = gguf_layout(spec).arch
    attention = spec.stacks[0].layers[0].mixer
    heads = attention.query_heads or 0
    kv_heads = attention.num_kv_heads if isinstance(attention, Attention) else 1
    experts = next((layer.ffn.num_experts for layer in spec.layers if isinstance(layer.ffn, MixtureOfExperts)), 0)
    return arch, spec.num_layers, heads, kv_heads, experts



# --- the Hugging Face checkpoint's tensors, grouped: one entry per run of identical layers ----------

@record(eq=False)
class Weight:
    """Tensors of one shape in a Hugging Face checkpoint: `count` of them (layers × experts)."""

    name: str  # `model.layers.0-31.self_attn.q_proj.weight`
    shape: tuple[int, ...]  # PyTorch order: [out_features, in_features] for a Linear
    count: int = 1
    linear: bool = False  # a Linear's weight matrix, which weight-only quantization packs
    expert: bool = False  # a routed expert's matrix
    router: bool = False  # an MoE router or shared-expert gate (kept unquantized by every format)
    buffer: bool = False  # stored in float32, not a parameter (e_score_correction_bias)
    # How tensor parallelism splits it (vLLM's layer classes): one of SPLITS. `heads`: the
    # attention heads laid out along the split dimension, so a split keeps whole heads.
    split: str = "replicated"
    heads: int = 0
    layers: tuple[int, int] | None = None  # first and last layer of a run; `count` covers them all

    @property
    def elements(self) -> int:
        return self.count * prod(self.shape)


# column: dim 0 (output features) divided (ColumnParallelLinear); row: dim 1 (input features)
# divided, a row Linear's bias kept whole on every GPU (RowParallelLinear); kv: K/V heads divided,
# each GPU keeping at least one when there are fewer heads than GPUs (QKVParallelLinear); vocab:
# rows padded to a multiple of 64, then divided (VocabParallelEmbedding, ParallelLMHead); heads: one
# value per attention head, divided (sinks); replicated: whole on every GPU (norms, routers, MLA's
# down-projections, which are ReplicatedLinear).
SPLITS = ("column", "row", "kv", "vocab", "heads", "replicated")


def checkpoint_weights(spec: ModelSpec) -> list[Weight]:
    """Every parameter tensor of the model's Hugging Face checkpoint, as transformers names
    LLaMA-like models (other families' names differ; the shapes and roles are theirs)."""
    if spec.architecture != "decoder":
        raise SpecError(spec.name, "architecture", "quantized formats of encoder and RWKV models are not modelled")
    hidden, vocab = spec.hidden_size, spec.embeddings.vocab_size
    norm_bias = spec.norm == "layernorm"
    embeddings = spec.embeddings
    weights = [Weight("model.embed_tokens.weight", (vocab, hidden), split="vocab")]
    if embeddings.learned_positions:
        weights.append(Weight("model.embed_positions.weight", (embeddings.learned_positions, hidden)))
    if embeddings.token_types:
        weights.append(Weight("model.token_type_embeddings.weight", (embeddings.token_types, hidden)))
    if embeddings.norm and spec.norm_params_per_feature:
        weights += _hf_norm("model.embed_layernorm", hidden, norm_bias)
    first = 0
    for span, layer, count in layer_runs(spec.stacks[0]):
        weights += [replace(w, count=w.count * count, layers=(first, first + count - 1))
                    for w in _checkpoint_layer(spec, f"model.layers.{span}.", layer, norm_bias)]
        first += count
    if spec.stacks[0].final_norm and spec.norm_params_per_feature:
        weights += _hf_norm("model.norm", hidden, norm_bias)
    if spec.embeddings.head == "untied":
        weights.append(Weight("lm_head.weight", (vocab, hidden), split="vocab"))
    if spec.embeddings.head_bias:
        weights.append(Weight("lm_head.bias", (vocab,), split="vocab"))
    return weights


def _hf_norm(name: str, width: int, bias: bool) -> list[Weight]:
    return [Weight(f"{name}.weight", (width,))] + ([Weight(f"{name}.bias", (width,))] if bias else [])


_HF_BLOCK_NORMS = {1: ("input_layernorm",), 2: ("input_layernorm", "post_attention_layernorm"),
                   4: ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                       "post_feedforward_layernorm")}


def _checkpoint_layer(spec: ModelSpec, prefix: str, layer: Layer, norm_bias: bool) -> list[Weight]:
    hidden = spec.hidden_size
    attention, ffn = layer.mixer, layer.ffn
    if layer.parallel_mixer is not None or layer.cross_attention is not None or ffn is None or \
            layer.norms not in _HF_BLOCK_NORMS or not isinstance(attention, (Attention, LatentAttention)):
        raise SpecError(spec.name, "layer_types", "quantized formats of Mamba, linear-attention and other "
                                                  "non-attention layers are not modelled yet")
    weights: list[Weight] = []
    if spec.norm_params_per_feature:
        for norm in _HF_BLOCK_NORMS[layer.norms]:
            weights += _hf_norm(prefix + norm, hidden, norm_bias)
    weights += _hf_attention(prefix + "self_attn.", attention, hidden, spec.norm_params_per_feature)
    if isinstance(ffn, FeedForward):
        weights += _hf_mlp(prefix + "mlp.", hidden, ffn.intermediate_size, ffn.gated, ffn.bias)
    elif isinstance(ffn, MixtureOfExperts):
        weights += _hf_moe(prefix + "mlp.", hidden, ffn)
    else:
        raise SpecError(spec.name, "architecture", "quantized formats of RWKV are not modelled")
    return weights


def _linear(name: str, out_features: int, in_features: int, bias: bool = False, count: int = 1,
            expert: bool = False, split: str = "replicated", heads: int = 0) -> list[Weight]:
    weights = [Weight(f"{name}.weight", (out_features, in_features), count, linear=True, expert=expert,
                      split=split, heads=heads)]
    # A row-parallel Linear adds its bias once, after the sum: every GPU keeps it whole.
    bias_split = "replicated" if split == "row" else split
    return weights + ([Weight(f"{name}.bias", (out_features,), count, split=bias_split, heads=heads)]
                      if bias else [])


def _hf_attention(prefix: str, attention: Attention | LatentAttention, hidden: int, per_feature: int) -> list[Weight]:
    if isinstance(attention, LatentAttention):
        a = attention
        query = a.num_heads * (a.qk_nope_head_dim + a.qk_rope_head_dim)
        heads = a.num_heads
        weights = (_linear(prefix + "q_a_proj", a.q_lora_rank, hidden, a.bias)
                   + [Weight(prefix + "q_a_layernorm.weight", (a.q_lora_rank,))]
                   + _linear(prefix + "q_b_proj", query, a.q_lora_rank, split="column", heads=heads)) \
            if a.q_lora_rank else _linear(prefix + "q_proj", query, hidden, split="column", heads=heads)
        return weights + (_linear(prefix + "kv_a_proj_with_mqa", a.kv_lora_rank + a.qk_rope_head_dim, hidden, a.bias)
                          + [Weight(prefix + "kv_a_layernorm.weight", (a.kv_lora_rank,))]
                          + _linear(prefix + "kv_b_proj", heads * (a.qk_nope_head_dim + a.v_head_dim),
                                    a.kv_lora_rank, split="column", heads=heads)
                          + _linear(prefix + "o_proj", hidden, heads * a.v_head_dim, a.bias, split="row",
                                    heads=heads))
    if attention.localized_filtering or attention.relative_attention_buckets:
        raise SpecError(prefix, "attention", "quantized formats of this attention are not modelled")
    heads, kv_heads, head_dim = attention.num_heads, attention.num_kv_heads, attention.head_dim
    query = heads * head_dim * (2 if attention.output_gate else 1)
    weights = (_linear(prefix + "q_proj", query, hidden, attention.qkv_bias, split="column", heads=heads)
               + _linear(prefix + "k_proj", kv_heads * head_dim, hidden, attention.qkv_bias, split="kv",
                         heads=kv_heads)
               + _linear(prefix + "v_proj", kv_heads * head_dim, hidden, attention.qkv_bias, split="kv",
                         heads=kv_heads)
               + _linear(prefix + "o_proj", hidden, heads * head_dim, attention.o_bias, split="row", heads=heads))
    if attention.qk_norm == "head" and per_feature:
        weights += [Weight(prefix + "q_norm.weight", (head_dim * per_feature,)),
                    Weight(prefix + "k_norm.weight", (head_dim * per_feature,))]
    elif attention.qk_norm == "full" and per_feature:
        weights += [Weight(prefix + "q_norm.weight", (heads * head_dim * per_feature,)),
                    Weight(prefix + "k_norm.weight", (kv_heads * head_dim * per_feature,))]
    elif attention.qk_norm == "per_head":
        weights += [Weight(prefix + "q_layernorm.norms.weight", (heads * head_dim,)),
                    Weight(prefix + "k_layernorm.norms.weight", (kv_heads * head_dim,))]
    if attention.sinks:
        weights.append(Weight(prefix + "sinks", (heads,), split="heads", heads=heads))
    return weights


def _hf_mlp(prefix: str, hidden: int, width: int, gated: bool, bias: bool, count: int = 1,
            expert: bool = False) -> list[Weight]:
    weights = _linear(prefix + "gate_proj", width, hidden, bias, count, expert, "column") if gated else []
    return (weights + _linear(prefix + "up_proj", width, hidden, bias, count, expert, "column")
            + _linear(prefix + "down_proj", hidden, width, bias, count, expert, "row"))


def _hf_moe(prefix: str, hidden: int, moe: MixtureOfExperts) -> list[Weight]:
    experts = moe.num_experts
    weights = [Weight(prefix + "gate.weight", (experts, hidden), router=True)]
    if moe.router_bias:
        weights.append(Weight(prefix + "gate.bias", (experts,), router=True))
    if moe.score_correction_bias:
        weights.append(Weight(prefix + "gate.e_score_correction_bias", (experts,), router=True, buffer=True))
    weights += _hf_mlp(f"{prefix}experts.0-{experts - 1}.", hidden, moe.expert_intermediate_size, moe.gated,
                       moe.expert_bias, experts, expert=True)
    if moe.shared_expert_intermediate_size:
        weights += _hf_mlp(prefix + "shared_expert.", hidden, moe.shared_expert_intermediate_size, moe.gated, False)
    if moe.shared_expert_gate:
        weights.append(Weight(prefix + "shared_expert_gate.weight", (1, hidden), router=True))
    return weights
