"""Exact parameter counts as a tree of Terms. Pure: no I/O, no rendering."""

from __future__ import annotations


from llmcalc.records import record
from llmcalc.spec import (
    Attention,
    MixerKind,
    FeedForward,
    FeedForwardKind,
    LatentAttention,
    Layer,
    LightningAttention,
    LinearAttention,
    MixtureOfExperts,
    ModelSpec,
    Stack,
    StateSpace,
    TimeMix,
    layer_runs,
)
from llmcalc.terms import Term, absent, group, leaf


@record(eq=False)
class ParamCount:
    """The exact count: the Term tree, and which of its parts are the layer stacks."""

    root: Term
    stacks: tuple[Term, ...]

    @property
    def total(self) -> int:
        return self.root.total

    @property
    def active(self) -> int:
        """What one token uses: every parameter but the routed experts it is not sent to."""
        return self.root.active

    @property
    def active_in_layers(self) -> int:
        """Active parameters of the layer stacks: what each token multiplies through
        (embeddings are looked up; the LM head and pooler run once per output)."""
        return sum(stack.active for stack in self.stacks)


def count_params(spec: ModelSpec) -> ParamCount:
    hidden = spec.hidden_size
    stacks = tuple(_stack(spec, stack) for stack in spec.stacks)
    parts = [_embedding(spec), *stacks]
    if spec.pooler:
        parts.append(leaf("pooler", "pooler (dense + bias)", "H × H + H", {"H": hidden}))
    parts.append(_head(spec))
    return ParamCount(root=group("model", spec.name, parts), stacks=stacks)


def _hidden_norms(spec: ModelSpec, key: str, label: str, count: int) -> Term:
    """`count` norms over the hidden size; a parameter-free norm is shown, not dropped."""
    per = spec.norm_params_per_feature
    full_label = f"{label} ({_norm_label(spec)})"
    if per == 0:
        return absent(key, full_label, "non-parametric", "non-parametric: no weight, no bias")
    if count == 1:
        return leaf(key, full_label, norm_formula("H", per), {"H": spec.hidden_size})
    return leaf(key, full_label, norm_formula("H", per, "n"), {"n": count, "H": spec.hidden_size})


def norm_formula(width: str, per_feature: int, count: str = "1") -> str:
    """`count` norms over `width` features: weight-only norms have one parameter per feature,
    LayerNorm with bias two (`2 × H`)."""
    factor = f"{per_feature} × " if per_feature != 1 else ""
    return f"{count} × {factor}{width}" if count != "1" else f"{factor}{width}"


def _norm_label(spec: ModelSpec) -> str:
    return {
        "rmsnorm": "RMSNorm weight",
        "layernorm": "LayerNorm weight + bias",
        "layernorm_no_bias": "LayerNorm weight, no bias",
        "nonparametric": "LayerNorm without parameters",
    }[spec.norm]


def _embedding(spec: ModelSpec) -> Term:
    emb = spec.embeddings
    hidden = spec.hidden_size
    parts = [leaf("tokens", "token embedding", "V × H", {"V": emb.vocab_size, "H": hidden})]
    if emb.learned_positions:
        parts.append(leaf("positions", "learned position embedding", "P × H",
                          {"P": emb.learned_positions, "H": hidden}))
    if emb.token_types:
        parts.append(leaf("token_types", "token-type embedding", "T × H",
                          {"T": emb.token_types, "H": hidden}))
    if emb.norm:
        parts.append(_hidden_norms(spec, "norm", "embedding norm", 1))
    return group("embedding", "embeddings", parts)


def _head(spec: ModelSpec) -> Term:
    """Always `lm_head.weight`, so heads line up across models; tied or absent ones are 0 with a note."""
    emb = spec.embeddings
    hidden, vocab = spec.hidden_size, emb.vocab_size
    if emb.head == "none":
        weight = absent("weight", "LM head", "none", "none: a bare encoder")
    elif emb.head == "tied":
        weight = absent("weight", "LM head", "tied", "tied to embedding.tokens")
    else:
        weight = leaf("weight", "LM head", "H × V", {"H": hidden, "V": vocab})
    parts = [weight]
    if emb.head_bias:
        parts.append(leaf("bias", "LM head bias", "V", {"V": vocab}))
    return group("lm_head", f"LM head ({emb.head})", parts)


def _stack(spec: ModelSpec, stack: Stack) -> Term:
    """Consecutive layers with the same parameters become one Term repeated."""
    parts = [group(f"layers.{span}", f"layers {span}", _layer(spec, layer), repeat=count)
             for span, layer, count in layer_runs(stack)]
    if stack.final_norm:
        parts.append(_hidden_norms(spec, "final_norm", "final norm", 1))
    return group(stack.name, f"{stack.name} ({len(stack.layers)} layers)", parts)


def _layer(spec: ModelSpec, layer: Layer) -> list[Term]:
    parts = [_attention(spec, layer.mixer, "attention", "self-attention")]
    if layer.parallel_mixer is not None:
        parts.append(_state_space(layer.parallel_mixer, spec.hidden_size))
    if layer.cross_attention is not None:
        parts.append(_attention(spec, layer.cross_attention, "cross_attention", "cross-attention"))
    if layer.ffn is not None:
        parts.append(_ffn(layer.ffn, spec.hidden_size))
    if layer.norms:
        parts.append(_hidden_norms(spec, "norms", f"{layer.norms} norms", layer.norms))
    return parts


def _attention(spec: ModelSpec, attention: MixerKind, key: str, label: str) -> Term:
    hidden = spec.hidden_size
    per = spec.norm_params_per_feature
    if isinstance(attention, Attention):
        return _multi_head(attention, hidden, per, key, label)
    if isinstance(attention, LatentAttention):
        return _latent(attention, hidden, per, key)
    if isinstance(attention, StateSpace):
        return _state_space(attention, hidden)
    if isinstance(attention, LinearAttention):
        return _linear_attention(attention, hidden)
    if isinstance(attention, LightningAttention):
        return _lightning_attention(attention, hidden, per)
    return _time_mix(attention, hidden)


def _multi_head(att: Attention, hidden: int, per_feature: int, key: str, label: str) -> Term:
    b = {"H": hidden, "n_h": att.num_heads, "n_kv": att.num_kv_heads, "d": att.head_dim}
    parts = [
        leaf("q_proj", "Q projection and output gate", "H × (2 × n_h × d)", b) if att.output_gate
        else leaf("q_proj", "Q projection", "H × (n_h × d)", b),
        leaf("k_proj", "K projection", "H × (n_kv × d)", b),
        leaf("v_proj", "V projection", "H × (n_kv × d)", b),
        leaf("o_proj", "O projection", "(n_h × d) × H", b),
    ]
    if att.qkv_bias:
        q_bias = "2 × n_h × d" if att.output_gate else "n_h × d"
        parts.append(leaf("qkv_bias", "Q, K, V biases", f"{q_bias} + 2 × n_kv × d", b))
    if att.o_bias:
        parts.append(leaf("o_bias", "O bias", "H", b))
    if att.qk_norm == "head" and per_feature:
        parts.append(leaf("qk_norm", "Q and K norms (one per head width)", norm_formula("d", per_feature, "2"), b))
    if att.qk_norm == "full" and per_feature:
        parts.append(leaf("qk_norm", "Q and K norms (full width)",
                          norm_formula("(n_h × d + n_kv × d)", per_feature), b))
    if att.qk_norm == "per_head":  # StableLM: a LayerNorm without bias for every Q and KV head
        parts.append(leaf("qk_norm", "Q and K norms (one per head, weight only)", "n_h × d + n_kv × d", b))
    if att.sinks:
        parts.append(leaf("sinks", "attention sinks (one logit per head)", "n_h", b))
    if att.relative_attention_buckets:
        parts.append(leaf("relative_bias", "relative position bias (buckets × heads)", "B × n_h",
                          {"B": att.relative_attention_buckets, "n_h": att.num_heads}))
    if att.localized_filtering:
        lf = {"H": hidden, "H_2": hidden // 2}
        parts.extend([
            leaf("lf_conv1", "localized filter conv1 (2×1 kernel, bias)", "H_2 × H × 2 + H_2", lf),
            leaf("lf_conv2", "localized filter conv2 (2×1 kernel, bias)", "H × H_2 × 2 + H", lf),
            leaf("lf_norm", "localized filter output norm", norm_formula("H", per_feature), lf),
        ])
    return group(key, label, parts)


def _latent(att: LatentAttention, hidden: int, per_feature: int, key: str) -> Term:
    b = {
        "H": hidden, "n_h": att.num_heads, "r_q": att.q_lora_rank, "r_kv": att.kv_lora_rank,
        "d_nope": att.qk_nope_head_dim, "d_rope": att.qk_rope_head_dim, "d_v": att.v_head_dim,
    }
    parts = []
    if att.q_lora_rank:
        parts += [
            leaf("q_a_proj", "Q down-projection to the latent", "H × r_q", b),
            leaf("q_a_norm", "Q latent norm", norm_formula("r_q", per_feature), b),
            leaf("q_b_proj", "Q up-projection", "r_q × (n_h × (d_nope + d_rope))", b),
        ]
    else:
        parts.append(leaf("q_proj", "Q projection", "H × (n_h × (d_nope + d_rope))", b))
    parts += [
        leaf("kv_a_proj", "KV down-projection (latent + shared RoPE key)", "H × (r_kv + d_rope)", b),
        leaf("kv_a_norm", "KV latent norm", norm_formula("r_kv", per_feature), b),
        leaf("kv_b_proj", "KV up-projection", "r_kv × (n_h × (d_nope + d_v))", b),
        leaf("o_proj", "O projection", "(n_h × d_v) × H", b),
    ]
    if att.bias:
        formula = "r_q + r_kv + d_rope + H" if att.q_lora_rank else "r_kv + d_rope + H"
        parts.append(leaf("bias", "down-projection and O biases", formula, b))
    return group(key, "multi-head latent attention (MLA)", parts)


def _state_space(ssm: StateSpace, hidden: int) -> Term:
    b = {"H": hidden, "d_in": ssm.inner_size, "N": ssm.state_size, "d_conv": ssm.conv_kernel,
         "R": ssm.time_step_rank, "n_m": ssm.heads, "G": ssm.groups, "C_conv": ssm.conv_channels}
    if ssm.version == 1:
        parts = [leaf("in_proj", "input projection (x and gate z)", "H × 2 × d_in", b)]
        if ssm.in_proj_bias:
            parts.append(leaf("in_proj_bias", "input projection bias", "2 × d_in", b))
    else:
        parts = [leaf("in_proj", "input projection (z, x, B, C, Δt)", "H × (d_in + C_conv + n_m)", b)]
        if ssm.in_proj_bias:
            parts.append(leaf("in_proj_bias", "input projection bias", "d_in + C_conv + n_m", b))
    parts.append(leaf("conv1d", "causal depthwise convolution", "C_conv × d_conv", b))
    if ssm.conv_bias:
        parts.append(leaf("conv1d_bias", "convolution bias", "C_conv", b))
    if ssm.version == 1:
        parts += [leaf("x_proj", "Δt, B and C projection", "d_in × (R + 2 × N)", b),
                  leaf("dt_proj", "Δt projection (with bias)", "R × d_in + d_in", b),
                  leaf("A_log", "state matrix A (log)", "d_in × N", b),
                  leaf("D", "skip connection D", "d_in", b)]
        if ssm.inner_norms:
            parts.append(leaf("inner_norms", "RMSNorm weights on Δt, B and C", "R + 2 × N", b))
    else:
        parts.append(leaf("dt_bias_A_D", "Δt bias, A (log) and D, one each per head", "3 × n_m", b))
        if ssm.gated_norm:
            parts.append(leaf("norm", "gated RMSNorm", "d_in", b))
    parts.append(leaf("out_proj", "output projection", "d_in × H", b))
    if ssm.out_proj_bias:
        parts.append(leaf("out_proj_bias", "output projection bias", "H", b))
    return group("mamba", f"Mamba{'-2' if ssm.version == 2 else ''} mixer", parts)


def _linear_attention(att: LinearAttention, hidden: int) -> Term:
    b = {"H": hidden, "n_qk": att.key_heads, "n_val": att.value_heads, "d_qk": att.key_head_dim,
         "d_val": att.value_head_dim, "d_conv": att.conv_kernel}
    return group("linear_attention", "Gated DeltaNet (linear attention)", [
        leaf("in_proj_qkvz", "Q, K, V and output-gate projection", "H × (2 × n_qk × d_qk + 2 × n_val × d_val)", b),
        leaf("in_proj_ba", "β and decay-gate projection", "H × 2 × n_val", b),
        leaf("conv1d", "causal depthwise convolution over Q, K, V", "(2 × n_qk × d_qk + n_val × d_val) × d_conv", b),
        leaf("dt_bias_A", "decay bias and A (log), one each per V head", "2 × n_val", b),
        leaf("norm", "gated RMSNorm (V head width)", "d_val", b),
        leaf("out_proj", "output projection", "(n_val × d_val) × H", b),
    ])


def _lightning_attention(att: LightningAttention, hidden: int, per_feature: int) -> Term:
    b = {"H": hidden, "n_h": att.num_heads, "d": att.head_dim}
    return group("lightning_attention", "lightning attention (linear)", [
        leaf("qkv_proj", "Q, K, V projection", "H × 3 × n_h × d", b),
        leaf("output_gate", "output gate projection", "H × (n_h × d)", b),
        leaf("norm", "output norm (all heads)", norm_formula("(n_h × d)", per_feature), b),
        leaf("out_proj", "output projection", "(n_h × d) × H", b),
    ])


def _time_mix(att: TimeMix, hidden: int) -> Term:
    b = {"H": hidden, "A": att.attention_hidden_size}
    return group("time_mix", "time mixing (RWKV attention)", [
        leaf("decay_first", "time_decay and time_first", "2 × A", b),
        leaf("mix", "time_mix for key, value, receptance", "3 × H", b),
        leaf("key_value_receptance", "key, value, receptance projections", "3 × H × A", b),
        leaf("output", "output projection", "A × H", b),
    ])


def _ffn(ffn: FeedForwardKind, hidden: int) -> Term:
    if isinstance(ffn, FeedForward):
        return _dense_ffn("ffn", "feed-forward", ffn.intermediate_size, ffn.gated, ffn.bias, hidden)
    if isinstance(ffn, MixtureOfExperts):
        return _moe(ffn, hidden)
    b = {"H": hidden, "I": ffn.intermediate_size}
    return group("channel_mix", "channel mixing (RWKV feed-forward)", [
        leaf("mix", "time_mix for key, receptance", "2 × H", b),
        leaf("key", "key projection", "H × I", b),
        leaf("receptance", "receptance projection", "H × H", b),
        leaf("value", "value projection", "I × H", b),
    ])


def _dense_ffn(key: str, label: str, width: int, gated: bool, bias: bool, hidden: int,
               repeat: int = 1, used: int | None = None) -> Term:
    b = {"H": hidden, "I": width}
    if gated:
        parts = [leaf("gate_proj", "gate projection", "H × I", b),
                 leaf("up_proj", "up projection", "H × I", b)]
    else:
        parts = [leaf("up_proj", "up projection", "H × I", b)]
    parts.append(leaf("down_proj", "down projection", "I × H", b))
    if bias:
        parts.append(leaf("bias", "FFN biases", "2 × I + H" if gated else "I + H", b))
    kind = "gated" if gated else "plain"
    return group(key, f"{label} ({kind})", parts, repeat=repeat, used=used)


def _moe(moe: MixtureOfExperts, hidden: int) -> Term:
    # Each token is routed to top-k of the experts: the rest are held, not used.
    experts = _dense_ffn("experts", "routed experts", moe.expert_intermediate_size, moe.gated,
                         moe.expert_bias, hidden, repeat=moe.num_experts, used=moe.num_experts_per_tok)
    router = {"H": hidden, "E": moe.num_experts}
    parts = [leaf("router", "router (with bias)", "H × E + E", router) if moe.router_bias
             else leaf("router", "router", "H × E", router), experts]
    if moe.shared_expert_intermediate_size:
        parts.append(_dense_ffn("shared_expert", "shared expert", moe.shared_expert_intermediate_size,
                                moe.gated, False, hidden))
    if moe.shared_expert_gate:
        parts.append(leaf("shared_expert_gate", "shared expert gate", "H", {"H": hidden}))
    label = f"mixture of experts (top-{moe.num_experts_per_tok} of {moe.num_experts})"
    return group("moe", label, parts)


# The notes' quick estimate, as every output names it.
ESTIMATE_FORMULA = "V·H + L·4H² + L·3·H·I + V·H"


def textbook_estimate(spec: ModelSpec) -> Term | None:
    """The notes' quick estimate, ESTIMATE_FORMULA (2·H·I for a plain FFN).

    Attention is counted as full multi-head (4H² per attention block), no norms or
    biases, and the output layer always, tied or not. MoE layers count every expert's
    width in I. A model with layers that are not attention + FFN (RWKV, Mamba, linear
    attention) is outside what the estimate describes: no estimate.
    """
    if any(not isinstance(layer.mixer, (Attention, LatentAttention)) or layer.ffn is None
           or layer.parallel_mixer is not None for layer in {id(layer): layer for layer in spec.layers}.values()):
        return None
    hidden, vocab = spec.hidden_size, spec.embeddings.vocab_size
    parts = [leaf("embedding", "embedding", "V × H", {"V": vocab, "H": hidden})]
    for stack in spec.stacks:
        for span, layer, count in layer_runs(stack):
            width, factor = _estimate_width(layer)
            b = {"L": count, "H": hidden, "I": width}
            attention = "L × 4 × H × H" if layer.cross_attention is None else "L × 2 × 4 × H × H"
            parts.append(group(f"{stack.name}.layers.{span}", f"{stack.name} layers {span}", [
                leaf("attention", "attention, as full multi-head (4H² per block)", attention, b),
                leaf("ffn", f"FFN ({factor}·H·I)", f"L × {factor} × H × I", b),
            ]))
    parts.append(leaf("output", "output layer", "V × H", {"V": vocab, "H": hidden}))
    return group("estimate", "textbook estimate", parts)


def _estimate_width(layer: Layer) -> tuple[int, int]:
    """(FFN width summed over every expert, 3 for gated or 2 for plain)."""
    ffn = layer.ffn
    if isinstance(ffn, MixtureOfExperts):
        width = ffn.num_experts * ffn.expert_intermediate_size + ffn.shared_expert_intermediate_size
        return width, 3 if ffn.gated else 2
    if isinstance(ffn, FeedForward):
        return ffn.intermediate_size, 3 if ffn.gated else 2
    raise TypeError(f"no estimate for {ffn!r}")
