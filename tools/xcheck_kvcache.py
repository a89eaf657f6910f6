"""Dev-time cross-check: llmcalc's KV-cache bytes against the caches transformers returns.

For each attention layout (MHA, GQA, MQA, sliding window, local/global hybrid, MLA,
encoder-decoder, RWKV state) and each newer kind of layer (attention sinks, chunked attention,
Gated DeltaNet, Mamba, Mamba-2, Jamba's and Falcon-H1's hybrids, MiniMax's lightning attention),
builds a tiny random model with `transformers`, runs one forward pass over T tokens in bfloat16,
sums `nbytes` of every tensor in the returned cache (K and V, conv and recurrent states), and
compares with llmcalc for a spec with the same dimensions; the newer kinds are read by llmcalc
from the very config transformers built, so the reader's layer schedule is checked too.

Known, documented differences (printed as such):
  * sliding-window and chunked layers: transformers keeps window - 1 tokens between steps,
    llmcalc counts the window (it includes the token being generated), i.e. one token more;
  (MLA agrees exactly: transformers 5.23 caches the compressed latent as "keys" and the
  shared RoPE key as "values", as llmcalc counts it.)

Run in the cross-check environment (see tools/xcheck_transformers.py):
    PYTHONPATH=. /tmp/xcheck/bin/python tools/xcheck_kvcache.py
"""

from __future__ import annotations

import sys
from typing import Any

import torch
import transformers

from llmcalc.hf_config import config_fields
from llmcalc.kvcache import kv_cache as cache_of
from llmcalc.memory import DTYPES
from llmcalc.scenario import point
from llmcalc.schema import build_spec


def kv_cache(spec, tokens, batch, dtype, encoder_tokens=None):  # type: ignore[no-untyped-def]
    """llmcalc's cache at one point, resolved as the commands resolve it."""
    return cache_of(spec, point(spec, tokens, batch, dtype, encoder_tokens=encoder_tokens))


TOKENS = 20
WINDOW = 8
BF16 = DTYPES["bf16"]

BASE = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4)

# name -> (transformers config class, model class, config kwargs, llmcalc fields, what to compare)
CASES: dict[str, tuple[str, str, dict[str, Any], dict[str, Any], str]] = {
    "MHA (llama)": ("LlamaConfig", "LlamaForCausalLM", dict(BASE, num_key_value_heads=4),
                    dict(BASE, num_key_value_heads=4), "total"),
    "GQA (llama)": ("LlamaConfig", "LlamaForCausalLM", dict(BASE, num_key_value_heads=2),
                    dict(BASE, num_key_value_heads=2), "total"),
    "MQA (falcon)": ("FalconConfig", "FalconForCausalLM",
                     dict(vocab_size=128, hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
                          multi_query=True, parallel_attn=True, new_decoder_architecture=False, bias=False),
                     dict(BASE, num_key_value_heads=1, gated_ffn=False, norm="layernorm", norms_per_layer=1),
                     "total"),
    "sliding window (mistral)": ("MistralConfig", "MistralForCausalLM",
                                 dict(BASE, num_key_value_heads=2, sliding_window=WINDOW),
                                 dict(BASE, num_key_value_heads=2, sliding_window=WINDOW), "window"),
    "hybrid local/global (gemma2)": ("Gemma2Config", "Gemma2ForCausalLM",
                                     dict(BASE, num_key_value_heads=2, head_dim=16, sliding_window=WINDOW),
                                     dict(BASE, num_key_value_heads=2, head_dim=16, sliding_window=WINDOW,
                                          sliding_window_pattern=2, norms_per_layer=4), "window"),
    "MLA (deepseek_v2)": ("DeepseekV2Config", "DeepseekV2ForCausalLM",
                          dict(BASE, num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=32,
                               qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16, n_routed_experts=4,
                               num_experts_per_tok=2, moe_intermediate_size=32, first_k_dense_replace=1),
                          dict(BASE, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16),
                          "total"),
}


# name -> (config class, model class, config kwargs, what to compare): llmcalc reads the very
# config transformers builds (config.to_dict() through llmcalc's reader), so the reader's layer
# schedule is checked along with the bytes of each new kind of layer.
TINY = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2)
READ_CASES: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "sinks, alternating windows (gpt_oss)": ("GptOssConfig", "GptOssForCausalLM",
                                             dict(TINY, head_dim=16, sliding_window=WINDOW, num_local_experts=4,
                                                  num_experts_per_tok=2), "window"),
    "chunked + NoPE layers (llama4_text)": ("Llama4TextConfig", "Llama4ForCausalLM",
                                            dict(TINY, head_dim=16, intermediate_size_mlp=96, attention_chunk_size=WINDOW,
                                                 num_local_experts=4, interleave_moe_layer_step=2), "window"),
    "Gated DeltaNet + gated attention (qwen3_next)": (
        "Qwen3NextConfig", "Qwen3NextForCausalLM",
        dict(TINY, head_dim=16, linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=8,
             linear_value_head_dim=8, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
             shared_expert_intermediate_size=32, full_attention_interval=2), "total"),
    "Mamba-1 (mamba)": ("MambaConfig", "MambaForCausalLM",
                        dict(vocab_size=128, hidden_size=64, state_size=8, num_hidden_layers=3, conv_kernel=4), "total"),
    "Mamba-2 (mamba2)": ("Mamba2Config", "Mamba2ForCausalLM",
                         dict(vocab_size=128, hidden_size=64, state_size=8, num_hidden_layers=3, conv_kernel=4,
                              num_heads=16, head_dim=8, n_groups=2, chunk_size=8), "total"),
    "Mamba + attention (jamba)": ("JambaConfig", "JambaForCausalLM",
                                  dict(TINY, num_experts=4, num_experts_per_tok=2, attn_layer_period=2,
                                       attn_layer_offset=1, expert_layer_period=2, expert_layer_offset=1,
                                       mamba_d_state=8, mamba_expand=2), "total"),
    "attention beside Mamba-2 (falcon_h1)": ("FalconH1Config", "FalconH1ForCausalLM",
                                             dict(TINY, mamba_d_ssm=96, mamba_n_heads=12, mamba_n_groups=2,
                                                  mamba_d_state=8, mamba_d_conv=4, mamba_chunk_size=8), "total"),
    "lightning attention (minimax)": ("MiniMaxConfig", "MiniMaxForCausalLM",
                                      dict(TINY, head_dim=16, num_local_experts=4, num_experts_per_tok=2,
                                           block_size=8, layer_types=["linear_attention", "full_attention"] * 2),
                                      "total"),
}


def cache_bytes(cache: Any) -> int:
    """Sum of nbytes over every tensor a transformers cache object holds: K and V, the conv and
    recurrent states of linear-attention and Mamba layers, MiniMax's linear_cache."""
    if hasattr(cache, "self_attention_cache"):  # EncoderDecoderCache
        return cache_bytes(cache.self_attention_cache) + cache_bytes(cache.cross_attention_cache)
    total = 0
    for layer in cache.layers:
        for name in ("keys", "values"):
            tensor = getattr(layer, name, None)
            total += tensor.nbytes if isinstance(tensor, torch.Tensor) else 0
        for name in ("conv_states", "recurrent_states"):
            states = getattr(layer, name, None) or {}
            total += sum(state.nbytes for state in (states.values() if isinstance(states, dict) else states)
                         if isinstance(state, torch.Tensor))
    return total + sum(state.nbytes for state in getattr(cache, "linear_cache", []) if isinstance(state, torch.Tensor))


def run_decoder(config_class: str, model_class: str, kwargs: dict[str, Any]) -> int:
    torch.manual_seed(0)
    config = getattr(transformers, config_class)(**kwargs)
    model = getattr(transformers, model_class)(config).to(torch.bfloat16).eval()
    with torch.no_grad():
        out = model(torch.randint(0, 128, (2, TOKENS)), use_cache=True)
    cache = out.past_key_values if hasattr(out, "past_key_values") else out.cache_params  # Mamba's name
    return cache_bytes(cache)


def main() -> int:
    failures = 0
    for name, (config_class, model_class, kwargs, fields, compare) in CASES.items():
        theirs = run_decoder(config_class, model_class, kwargs)
        cache = kv_cache(build_spec(dict(fields, name="tiny"), name), TOKENS, 2, BF16)
        if compare == "total":
            ours, expected, why = cache.total, theirs, "equal"
        else:  # one more token per windowed layer: 2 sequences × K and V × n_kv × d × 2 bytes
            layer = cache.root.children[0].children[0].children[0].bindings
            extra = cache.windowed_layers * 2 * 2 * layer["n_kv"] * layer["d"] * 2
            ours, expected, why = cache.total, theirs + extra, "transformers + 1 token per windowed layer"
        status = "ok" if ours == expected else "DIFF"
        failures += ours != expected
        print(f"{name:46} transformers {theirs:>8,} B  llmcalc {ours:>8,} B  {status} ({why})")

    for name, (config_class, model_class, kwargs, compare) in READ_CASES.items():
        torch.manual_seed(0)
        config = getattr(transformers, config_class)(**kwargs)
        theirs = run_decoder(config_class, model_class, kwargs)
        fields, _ = config_fields(config.to_dict(), name, name="tiny")
        cache = kv_cache(build_spec(fields, name), TOKENS, 2, BF16)
        ours, expected, why = cache.total, theirs, "equal"
        if compare == "window":
            attention = next(layer.mixer for layer in build_spec(fields, name).layers
                             if getattr(layer.mixer, "cached_window", None))
            extra = cache.windowed_layers * 2 * 2 * attention.num_kv_heads * attention.head_dim * 2
            expected, why = theirs + extra, "transformers + 1 token per windowed layer"
        status = "ok" if ours == expected else "DIFF"
        failures += ours != expected
        print(f"{name:46} transformers {theirs:>8,} B  llmcalc {ours:>8,} B  {status} ({why})")

    # Encoder-decoder: self-attention over the decoder tokens + cross-attention over the encoder's.
    config = transformers.T5Config(vocab_size=128, d_model=64, d_kv=16, d_ff=96, num_layers=2,
                                   num_decoder_layers=3, num_heads=4)
    model = transformers.T5ForConditionalGeneration(config).to(torch.bfloat16).eval()
    with torch.no_grad():
        out = model(input_ids=torch.randint(0, 128, (2, 12)), decoder_input_ids=torch.randint(0, 128, (2, 5)),
                    use_cache=True)
    theirs = cache_bytes(out.past_key_values)
    spec = build_spec(dict(name="tiny", architecture="encoder-decoder", vocab_size=128, hidden_size=64,
                           head_dim=16, intermediate_size=96, num_hidden_layers=2, num_decoder_layers=3,
                           num_attention_heads=4, gated_ffn=False), "t5")
    ours = kv_cache(spec, 5, 2, BF16, encoder_tokens=12).total
    failures += ours != theirs
    print(f"{'encoder-decoder (t5)':46} transformers {theirs:>8,} B  llmcalc {ours:>8,} B  "
          f"{'ok' if ours == theirs else 'DIFF'} (equal)")

    # RWKV: the state transformers returns; states 0-1 in the model dtype, 2-4 in float32.
    config = transformers.RwkvConfig(vocab_size=128, hidden_size=64, num_hidden_layers=3, attention_hidden_size=64,
                                     intermediate_size=96, context_length=64)
    model = transformers.RwkvForCausalLM(config).to(torch.bfloat16).eval()
    with torch.no_grad():
        out = model(torch.randint(0, 128, (2, TOKENS)), use_cache=True)
    theirs = sum(tensor.nbytes for tensor in out.state)
    spec = build_spec(dict(name="tiny", architecture="rwkv", vocab_size=128, hidden_size=64, num_hidden_layers=3,
                           intermediate_size=96, norm="layernorm"), "rwkv")
    ours = kv_cache(spec, TOKENS, 2, BF16).total
    failures += ours != theirs
    print(f"{'RWKV state':46} transformers {theirs:>8,} B  llmcalc {ours:>8,} B  "
          f"{'ok' if ours == theirs else 'DIFF'} (equal)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
