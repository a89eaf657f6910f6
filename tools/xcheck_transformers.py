"""Dev-time cross-check: count each preset's parameters with Hugging Face `transformers`.

Builds the reference implementation's model class from a config with the preset's
architecture on PyTorch's ``meta`` device (nothing is allocated, so even 671B models
count in seconds) and prints ``num_parameters()`` beside llmcalc's own count.

This is how the ``reference.params`` of most presets were obtained. It is NOT a
dependency of llmcalc or of its tests. Run it in a separate virtual environment:

    python -m venv /tmp/xcheck
    /tmp/xcheck/bin/pip install torch==2.13.0 transformers   # the CPU build on this machine
    /tmp/xcheck/bin/pip install -e .                          # or PYTHONPATH=. below
    PYTHONPATH=. /tmp/xcheck/bin/python tools/xcheck_transformers.py [NAME ...]

Configs below are written from the models' public config.json files (see each preset's
``hf_repo``), with the transformers class defaults for absent keys.
"""

from __future__ import annotations

import sys
from typing import Any

# preset name -> (transformers model class, config class, config kwargs)
LLAMA = "LlamaForCausalLM", "LlamaConfig"


def llama(vocab: int, hidden: int, layers: int, heads: int, kv: int, ffn: int, **extra: Any) -> tuple:
    kwargs = dict(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                  num_attention_heads=heads, num_key_value_heads=kv, intermediate_size=ffn,
                  tie_word_embeddings=False, **extra)
    return (*LLAMA, kwargs)


CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "gpt2": ("GPT2LMHeadModel", "GPT2Config", dict(vocab_size=50257, n_embd=768, n_layer=12, n_head=12,
                                                    n_positions=1024)),
    "gpt2-medium": ("GPT2LMHeadModel", "GPT2Config", dict(vocab_size=50257, n_embd=1024, n_layer=24,
                                                           n_head=16, n_positions=1024)),
    "openai-gpt": ("OpenAIGPTLMHeadModel", "OpenAIGPTConfig", dict(vocab_size=40478, n_embd=768, n_layer=12,
                                                                    n_head=12, n_positions=512)),
    "bert-base-cased": ("BertModel", "BertConfig", dict(vocab_size=28996, hidden_size=768, num_hidden_layers=12,
                                                         num_attention_heads=12, intermediate_size=3072,
                                                         max_position_embeddings=512, type_vocab_size=2)),
    "t5-base": ("T5ForConditionalGeneration", "T5Config", dict(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072,
                                                                num_layers=12, num_decoder_layers=12, num_heads=12,
                                                                feed_forward_proj="relu",
                                                                relative_attention_num_buckets=32,
                                                                tie_word_embeddings=True)),
    "bloom-7b1": ("BloomForCausalLM", "BloomConfig", dict(vocab_size=250880, hidden_size=4096, n_layer=30,
                                                           n_head=32)),
    "llama-7b": llama(32000, 4096, 32, 32, 32, 11008),
    "llama-13b": llama(32000, 5120, 40, 40, 40, 13824),
    "llama-30b": llama(32000, 6656, 60, 52, 52, 17920),
    "llama-65b": llama(32000, 8192, 80, 64, 64, 22016),
    "llama2-7b": llama(32000, 4096, 32, 32, 32, 11008),
    "llama2-13b": llama(32000, 5120, 40, 40, 40, 13824),
    "llama2-70b": llama(32000, 8192, 80, 64, 8, 28672),
    "llama3-8b": llama(128256, 4096, 32, 32, 8, 14336),
    "llama3-70b": llama(128256, 8192, 80, 64, 8, 28672),
    "llama3.1-405b": llama(128256, 16384, 126, 128, 8, 53248),
    "mistral-7b": ("MistralForCausalLM", "MistralConfig", dict(vocab_size=32000, hidden_size=4096,
                                                                num_hidden_layers=32, num_attention_heads=32,
                                                                num_key_value_heads=8, intermediate_size=14336,
                                                                sliding_window=4096)),
    "mixtral-8x7b": ("MixtralForCausalLM", "MixtralConfig", dict(vocab_size=32000, hidden_size=4096,
                                                                  num_hidden_layers=32, num_attention_heads=32,
                                                                  num_key_value_heads=8, intermediate_size=14336,
                                                                  num_local_experts=8, num_experts_per_tok=2)),
    "qwen1.5-0.5b": ("Qwen2ForCausalLM", "Qwen2Config", dict(vocab_size=151936, hidden_size=1024,
                                                              num_hidden_layers=24, num_attention_heads=16,
                                                              num_key_value_heads=16, intermediate_size=2816,
                                                              tie_word_embeddings=True)),
    "qwen1.5-moe-a2.7b": ("Qwen2MoeForCausalLM", "Qwen2MoeConfig", dict(
        vocab_size=151936, hidden_size=2048, num_hidden_layers=24, num_attention_heads=16,
        num_key_value_heads=16, intermediate_size=5632, moe_intermediate_size=1408,
        shared_expert_intermediate_size=5632, num_experts=60, num_experts_per_tok=4,
        decoder_sparse_step=1, tie_word_embeddings=False)),
    "qwen2.5-3b": ("Qwen2ForCausalLM", "Qwen2Config", dict(vocab_size=151936, hidden_size=2048,
                                                            num_hidden_layers=36, num_attention_heads=16,
                                                            num_key_value_heads=2, intermediate_size=11008,
                                                            tie_word_embeddings=True)),
    "qwen2.5-7b": ("Qwen2ForCausalLM", "Qwen2Config", dict(vocab_size=152064, hidden_size=3584,
                                                            num_hidden_layers=28, num_attention_heads=28,
                                                            num_key_value_heads=4, intermediate_size=18944,
                                                            tie_word_embeddings=False)),
    "gemma-2b": ("GemmaForCausalLM", "GemmaConfig", dict(vocab_size=256000, hidden_size=2048, num_hidden_layers=18,
                                                          num_attention_heads=8, num_key_value_heads=1,
                                                          head_dim=256, intermediate_size=16384)),
    "gemma2-9b": ("Gemma2ForCausalLM", "Gemma2Config", dict(vocab_size=256000, hidden_size=3584,
                                                            num_hidden_layers=42, num_attention_heads=16,
                                                            num_key_value_heads=8, head_dim=256,
                                                            intermediate_size=14336, sliding_window=4096)),
    "gemma-7b": ("GemmaForCausalLM", "GemmaConfig", dict(vocab_size=256000, hidden_size=3072, num_hidden_layers=28,
                                                          num_attention_heads=16, num_key_value_heads=16,
                                                          head_dim=256, intermediate_size=24576)),
    "command-r": ("CohereForCausalLM", "CohereConfig", dict(vocab_size=256000, hidden_size=8192,
                                                             num_hidden_layers=40, num_attention_heads=64,
                                                             num_key_value_heads=64, intermediate_size=22528,
                                                             use_qk_norm=False, tie_word_embeddings=True)),
    "rwkv-4-169m": ("RwkvForCausalLM", "RwkvConfig", dict(vocab_size=50277, hidden_size=768, num_hidden_layers=12,
                                                           attention_hidden_size=768, intermediate_size=3072,
                                                           context_length=1024, tie_word_embeddings=False)),
    "falcon-7b": ("FalconForCausalLM", "FalconConfig", dict(vocab_size=65024, hidden_size=4544,
                                                             num_hidden_layers=32, num_attention_heads=71,
                                                             multi_query=True, parallel_attn=True, bias=False,
                                                             new_decoder_architecture=False)),
    "falcon-40b": ("FalconForCausalLM", "FalconConfig", dict(vocab_size=65024, hidden_size=8192,
                                                              num_hidden_layers=60, num_attention_heads=128,
                                                              num_kv_heads=8, parallel_attn=True, bias=False,
                                                              new_decoder_architecture=True)),
    "deepseek-llm-7b": llama(102400, 4096, 30, 32, 32, 11008),
    "olmo-7b": ("OlmoForCausalLM", "OlmoConfig", dict(vocab_size=50304, hidden_size=4096, num_hidden_layers=32,
                                                       num_attention_heads=32, intermediate_size=11008,
                                                       tie_word_embeddings=False)),
    "phi-3-mini": ("Phi3ForCausalLM", "Phi3Config", dict(vocab_size=32064, hidden_size=3072, num_hidden_layers=32,
                                                          num_attention_heads=32, num_key_value_heads=32,
                                                          intermediate_size=8192, tie_word_embeddings=False)),
    "yi-6b": llama(64000, 4096, 32, 32, 4, 11008),
    # Same tensor shapes as LLaMA (fused wqkv / W_pack / NormHead keep the counts): the
    # remote-code classes are cross-checked as their LLaMA equivalents.
    "internlm2-7b": llama(92544, 4096, 32, 32, 8, 14336),
    "baichuan2-7b": llama(125696, 4096, 32, 32, 32, 11008),
    "deepseek-v2-lite": ("DeepseekV2ForCausalLM", "DeepseekV2Config", dict(
        vocab_size=102400, hidden_size=2048, num_hidden_layers=27, num_attention_heads=16,
        num_key_value_heads=16, intermediate_size=10944, moe_intermediate_size=1408, n_routed_experts=64,
        n_shared_experts=2, num_experts_per_tok=6, first_k_dense_replace=1, q_lora_rank=None,
        kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
        tie_word_embeddings=False)),
    "deepseek-v3": ("DeepseekV3ForCausalLM", "DeepseekV3Config", dict(
        vocab_size=129280, hidden_size=7168, num_hidden_layers=61, num_attention_heads=128,
        num_key_value_heads=128, intermediate_size=18432, moe_intermediate_size=2048, n_routed_experts=256,
        n_shared_experts=1, num_experts_per_tok=8, first_k_dense_replace=3, q_lora_rank=1536,
        kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_group=8,
        topk_group=4, tie_word_embeddings=False)),
}


def reference_count(name: str) -> int:
    import torch
    import transformers

    model_class, config_class, kwargs = CONFIGS[name]
    config = getattr(transformers, config_class)(**kwargs)
    with torch.device("meta"):
        model = getattr(transformers, model_class)(config)
    return model.num_parameters()


def main(names: list[str]) -> int:
    from llmcalc.params import count_params
    from llmcalc.presets import resolve

    failures = 0
    for name in names or list(CONFIGS):
        expected = reference_count(name)
        ours = count_params(resolve(name)).total
        status = "ok" if ours == expected else f"DIFF {ours - expected:+,}"
        failures += ours != expected
        print(f"{name:20} transformers {expected:>18,}  llmcalc {ours:>18,}  {status}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
