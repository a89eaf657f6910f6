"""`llmcalc train`: memory per GPU, FLOPs and time to train or fine-tune a model. Pure.

The most loaded GPU's budget, every term a Term:
- model states: the parameters this GPU holds (Megatron-LM's tensor and pipeline split of the
  exact checkpoint tensors, `parallel.py`), at bytes per parameter by precision, optimizer and
  convention, divided over the data-parallel GPUs by ZeRO stage;
- activations: Korthikanti et al. (2022) term by term, generalised to the architecture (gated
  FFNs, GQA and MLA, MoE, flash attention, dropout or none) and to tensor and sequence
  parallelism, recomputation and 1F1B pipelines;
- FLOPs per token by PaLM's convention (Chowdhery et al. 2022, appendix B: 6N plus 12·L·s·d_attn),
  and time at a stated model-FLOPs utilisation.
"""

from __future__ import annotations

from math import ceil, prod
from typing import Optional

from llmcalc.errors import SpecError, UsageError
from llmcalc.parallel import Stage, TensorParallel, pipeline_stages, stage_weights
from llmcalc.records import record, replace
from llmcalc.scenario import Training
from llmcalc.spec import Attention, FeedForward, Layer, LatentAttention, MixtureOfExperts, ModelSpec
from llmcalc.tensors import Weight, checkpoint_weights
from llmcalc.terms import Term, group, leaf

MEGATRON_VOCAB_MULTIPLE = 128  # --make-vocab-size-divisible-by: padded to 128 × tp rows
# bitsandbytes' 8-bit optimizers: blockwise states of 256 values with one float32 absmax each;
# tensors under 4,096 values keep 32-bit states (Optimizer8bit: min_8bit_size).
BNB_BLOCK = 256
BNB_MIN_8BIT_SIZE = 4096
CHINCHILLA_TOKENS_PER_PARAM = 20  # Hoffmann et al. (2022): compute-optimal ≈ 20 tokens per parameter
KORTHIKANTI = "Korthikanti et al. (2022), Reducing Activation Recomputation in Large Transformer Models, §4"


def megatron_tensor_parallel(degree: int) -> TensorParallel:
    """Megatron-LM's tensor parallelism: vocabulary padded to 128 × tp; K/V heads (query groups)
    must divide evenly."""
    return TensorParallel(degree, "Megatron-LM", MEGATRON_VOCAB_MULTIPLE * degree, replicate_kv=False)


@record(eq=False)
class TrainBudget:
    stage: Stage
    params: int  # parameters on this GPU before ZeRO shards them
    weights: Term
    gradients: Term
    optimizer: Term
    activations: Term
    host_bytes: int  # what offload moves to host memory

    @property
    def model_states(self) -> int:
        """Weights, gradients and optimizer states: what ZeRO shards."""
        return self.weights.total + self.gradients.total + self.optimizer.total

    @property
    def total(self) -> int:
        return self.model_states + self.activations.total


@record(eq=False)
class TrainResult:
    spec: ModelSpec
    training: Training
    budgets: tuple[TrainBudget, ...]
    total_params: int
    trainable_params: int
    per_layer: Term  # one layer's activations for one micro-batch on one GPU (the first stage's first layer)
    dense_flops_per_token: int  # 6 × the parameters that multiply each token
    attention_flops_per_token: int  # 12 × L × s × d_attn (PaLM), windows capping s
    hardware_flops_per_token: int  # with the recomputation's extra forward work

    @property
    def most_loaded(self) -> TrainBudget:
        return max(self.budgets, key=lambda budget: budget.total)

    @property
    def flops_per_token(self) -> int:
        return self.dense_flops_per_token + self.attention_flops_per_token

    @property
    def training_flops(self) -> Optional[int]:
        run = self.training.run_tokens
        return self.flops_per_token * run if run is not None else None

    @property
    def peak_flops(self) -> Optional[int]:
        gpu = self.training.gpu
        if gpu is None or self.training.precision == "fp32":
            return None
        return gpu.fp8_flops if self.training.precision == "fp8" and gpu.fp8_flops else gpu.bf16_flops

    @property
    def seconds(self) -> Optional[float]:
        """The run's model FLOPs over all GPUs' peak at the stated MFU (its definition)."""
        flops, peak = self.training_flops, self.peak_flops
        if flops is None or not peak:
            return None
        return flops / (self.training.gpus * peak * self.training.mfu)

    @property
    def gpu_hours(self) -> Optional[float]:
        return self.seconds * self.training.gpus / 3600 if self.seconds is not None else None

    @property
    def chinchilla_tokens(self) -> int:
        return CHINCHILLA_TOKENS_PER_PARAM * self.total_params


def train(spec: ModelSpec, training: Training) -> TrainResult:
    from llmcalc.params import count_params

    _check_supported(spec, training)
    tp = megatron_tensor_parallel(training.tp)
    stages = pipeline_stages(spec.num_layers, training.pp, spec.embeddings.head == "tied")
    lora = _lora_targets(spec, training) if training.lora_rank is not None else None
    count = count_params(spec)
    budgets: tuple[TrainBudget, ...]
    if training.convention == "deepspeed":
        budgets = (_deepspeed_budget(spec, training, count.total, stages[0]),)
    else:
        budgets = tuple(_budget(spec, training, stage, tp, lora) for stage in stages)
    trainable = (sum(w.count * training.lora_rank * (w.shape[0] + w.shape[1]) for w in lora)
                 if lora is not None and training.lora_rank is not None else count.total)
    dense, attention, hardware = _flops_per_token(spec, training)
    first = spec.layers[0]
    return TrainResult(spec, training, budgets, count.total, trainable, _layer_activations(spec, first, training),
                       dense, attention, hardware)


def _check_supported(spec: ModelSpec, training: Training) -> None:
    mixers = {type(layer.mixer) for layer in spec.layers}
    if spec.architecture != "decoder" or not mixers <= {Attention, LatentAttention}:
        raise SpecError(spec.name, "layer_types", "train models attention decoders (full, sliding, chunked, MLA); "
                                                   "state-space, linear-attention and encoder models are not yet")
    if training.pp > 1 and spec.num_layers % training.pp:
        raise UsageError(f"--pp {training.pp} does not divide {spec.name}'s {spec.num_layers} layers (Megatron-LM "
                         f"splits them evenly); valid: "
                         + ", ".join(str(n) for n in range(1, spec.num_layers + 1) if spec.num_layers % n == 0))
    if training.sequence_parallel and spec.hidden_size % training.tp:
        raise UsageError(f"--sequence-parallel with --tp {training.tp}: the hidden size {spec.hidden_size:,} must "
                         "divide evenly")


# --- model states -------------------------------------------------------------------------------------

def _lora_targets(spec: ModelSpec, training: Training) -> list[Weight]:
    """The Linear weights LoRA adapts: those whose module name is one of --lora-modules
    (`all-linear`: every Linear of the layers, as peft's shorthand, which leaves out the head)."""
    modules = training.lora_modules
    # Routed experts are left out: transformers 5 fuses them into 3-D parameters, which peft adapts
    # its own way (not modelled).
    linears = [w for w in checkpoint_weights(spec) if w.linear and w.layers is not None and not w.expert]
    chosen = linears if "all-linear" in modules else \
        [w for w in linears if w.name.removesuffix(".weight").rsplit(".", 1)[-1] in modules]
    named = {w.name.removesuffix(".weight").rsplit(".", 1)[-1] for w in linears}
    unknown = [m for m in modules if m != "all-linear" and m not in named]
    if unknown:
        raise UsageError(f"--lora-modules {','.join(unknown)}: {spec.name}'s Linear modules are "
                         f"{', '.join(sorted(named))} (or all-linear; routed experts are not modelled)")
    return chosen


def _bytes_per_value(precision: str) -> int:
    return 4 if precision == "fp32" else 2


def _budget(spec: ModelSpec, training: Training, stage: Stage, tp: TensorParallel,
            lora: Optional[list[Weight]]) -> TrainBudget:
    params = 0
    weight_bytes = gradient_bytes = optimizer_bytes = 0
    mixed = training.precision != "fp32"
    for weight, shape, count in stage_weights(spec, stage, tp):
        elements = count * prod(shape)
        if weight.buffer:  # a float32 buffer (DeepSeek's e_score_correction_bias): kept, never trained
            weight_bytes += 4 * elements
            continue
        params += elements
        if lora is None:
            weight_bytes += elements * _bytes_per_value(training.precision)
            gradient_bytes += elements * (4 if training.convention == "megatron" or not mixed else 2)
            optimizer_bytes += _optimizer_bytes(training.optimizer, shape, count, master=mixed)
        elif not training.qlora:
            weight_bytes += elements * _bytes_per_value(training.precision)
    adapters = 0
    if lora is not None and training.lora_rank is not None:
        rank = training.lora_rank
        if training.qlora:
            from llmcalc.quant import quantize

            weight_bytes = quantize(spec, "nf4-dq").bytes
        for target in lora:
            for shape in ((rank, target.shape[1]), (target.shape[0], rank)):  # lora_A, lora_B
                adapters += target.count * shape[0] * shape[1]
                optimizer_bytes += _optimizer_bytes(training.optimizer, shape, target.count, master=False)
        # peft keeps adapters in float32 under a bf16/fp16 base (autocast_adapter_dtype), and
        # their gradients with them.
        weight_bytes += 4 * adapters
        gradient_bytes = 4 * adapters
    dp, zero = training.dp, training.zero
    host = 0
    weights = _state("weights", "weights", weight_bytes, dp if zero == 3 else 1)
    gradients = _state("gradients", "gradients", gradient_bytes, dp if zero >= 2 else 1)
    optimizer = _state("optimizer", f"optimizer states ({training.optimizer})", optimizer_bytes,
                       dp if zero >= 1 else 1)
    if training.offload in ("optimizer", "all"):
        host += optimizer.total
        optimizer = Term("optimizer", f"optimizer states ({training.optimizer}): offloaded to the host", 0)
    if training.offload == "all":
        host += weights.total
        weights = Term("weights", "weights: offloaded to the host (ZeRO-3 parameter offload)", 0)
    return TrainBudget(stage, params + adapters, weights, gradients, optimizer,
                       _stage_activations(spec, training, stage), host)


def _state(key: str, label: str, total: int, shards: int) -> Term:
    if shards == 1:
        return Term(key=key, label=label, value=total)
    return Term(key=key, label=f"{label}, ÷ {shards} data-parallel GPUs (ZeRO), rounded up",
                value=ceil(total / shards), formula="X / d", bindings={"X": total, "d": shards})


def _optimizer_bytes(optimizer: str, shape: tuple[int, ...], count: int, master: bool) -> int:
    """States of `count` tensors of `shape`: a float32 master copy under mixed precision, plus the
    optimizer's own — Adam: two float32 moments; 8-bit Adam (bitsandbytes): two uint8 moments with a
    float32 absmax per 256-value block (tensors under 4,096 values: float32 moments); SGD: float32
    momentum; Adafactor (no first moment, its default): float32 row and column second moments of a
    matrix, a full one for a vector."""
    values = prod(shape)
    own = 4 * values if master else 0
    if optimizer in ("adam", "adamw"):
        own += 8 * values
    elif optimizer == "adam8bit":
        own += 8 * values if values < BNB_MIN_8BIT_SIZE else 2 * (values + 4 * ceil(values / BNB_BLOCK))
    elif optimizer == "sgd":
        own += 4 * values
    else:  # adafactor
        own += 4 * (shape[0] + shape[1] if len(shape) >= 2 else values)
    return own * count


def deepspeed_estimate(total_params: int, largest_layer_params: int, stage: int, gpus_per_node: int = 1,
                       nodes: int = 1, offload_optimizer: bool = False, offload_params: bool = False,
                       zero_init: bool = True, additional_buffer_factor: float = 1.5) -> tuple[int, int]:
    """(CPU bytes, GPU bytes) as DeepSpeed's estimate_zero2/zero3_model_states_mem_needs compute them
    (deepspeed/runtime/zero/stage_1_and_2.py and stage3.py at edaa722, 2026-08): 18 bytes per parameter
    divided over every GPU (2 of 16-bit and 4 of 32-bit gradients, 4 of fp32 master weights, 8 of
    Adam states), the 16-bit weights whole under ZeRO 2, and under ZeRO 3 the largest module's 16-bit
    weights and gradients gathered (4 × its parameters) instead."""
    total_gpus = nodes * gpus_per_node
    params, largest = total_params, largest_layer_params
    if stage == 2:
        if offload_optimizer:
            return int(params * max(4 * total_gpus, 16) * additional_buffer_factor), 2 * params
        return int(params * 4 * gpus_per_node * additional_buffer_factor), 2 * params + int(18 * params / total_gpus)
    gpus_factor = 1 / nodes
    largest_memory = 4 * largest
    if offload_optimizer and offload_params:
        factor = 18 * gpus_factor if zero_init else max(4 * gpus_per_node, 18 * gpus_factor)
        return int(params * factor * additional_buffer_factor), largest_memory
    if offload_optimizer:
        factor = 16 * gpus_factor if zero_init else max(4 * gpus_per_node, 16 * gpus_factor)
        return int(params * factor * additional_buffer_factor), largest_memory + int(2 * params / total_gpus)
    cpu = largest * 4 * gpus_per_node if zero_init else params * 4 * gpus_per_node
    return int(cpu * additional_buffer_factor), largest_memory + int(18 * params / total_gpus)


def _deepspeed_budget(spec: ModelSpec, training: Training, total_params: int, stage: Stage) -> TrainBudget:
    """DeepSpeed's own estimator over this model's exact counts (one node of --gpus GPUs)."""
    largest = max(_module_params(spec).values())
    offload_optimizer = training.offload in ("optimizer", "all")
    cpu, gpu = deepspeed_estimate(total_params, largest, training.zero, training.gpus, 1, offload_optimizer,
                                  training.offload == "all")
    if training.zero == 2:
        weights = Term("weights", "16-bit weights, whole (DeepSpeed: 2P)", 2 * total_params)
    else:
        weights = Term("weights", f"the largest module's 16-bit weights and gradients, gathered (DeepSpeed: 4L, "
                                  f"L = {largest:,})", 4 * largest)
    sharded = gpu - weights.total
    label = ("16-bit gradients, ÷ GPUs (DeepSpeed: 2P/N)" if offload_optimizer and training.offload != "all"
             else "gradients (16- and 32-bit), fp32 master weights and Adam states, ÷ GPUs (DeepSpeed: 18P/N)")
    states = Term("optimizer", label, sharded)
    return TrainBudget(stage, total_params, weights, Term("gradients", "counted with the line below", 0), states,
                       _stage_activations(spec, training, stage), cpu)


def _module_params(spec: ModelSpec) -> dict[str, int]:
    """Each module's own parameters (a Linear's weight and bias, an embedding, a norm), one instance:
    what DeepSpeed's model_to_params takes the largest of."""
    modules: dict[str, int] = {}
    for weight in checkpoint_weights(spec):
        if weight.buffer:
            continue
        module = weight.name.rsplit(".", 1)[0]
        modules[module] = modules.get(module, 0) + prod(weight.shape)
    return modules


# --- activations ----------------------------------------------------------------------------------------

def _stage_activations(spec: ModelSpec, training: Training, stage: Stage) -> Term:
    """The stage's layers × the micro-batches 1F1B keeps in flight there (stage i of p: p − i), the
    embedding's and the output layer's terms, and with full recomputation one layer rebuilt in
    backward."""
    in_flight = training.pp - stage.index
    layers = [spec.layers[i] for i in stage.layers]
    parts: list[Term] = []
    runs: list[tuple[Layer, int]] = []
    for layer in layers:
        if runs and runs[-1][0] is layer:
            runs[-1] = (layer, runs[-1][1] + 1)
        else:
            runs.append((layer, 1))
    for index, (layer, count) in enumerate(runs):
        per_layer = _layer_activations(spec, layer, training)
        parts.append(group(f"layers.{index}", f"{count} layers × {in_flight} micro-batch(es) in flight",
                           per_layer.children, repeat=count * in_flight))
    if training.recompute == "full" and layers:
        rebuilt = _layer_activations(spec, layers[0], training, stored=False)
        parts.append(group("rebuilt", "one layer rebuilt in backward (full recomputation)", rebuilt.children))
    if stage.embedding and stage.index == 0 and training.dropout:
        parts.append(group("embedding", f"embedding dropout mask × {in_flight} in flight",
                           [_leaf("embedding_mask", "embedding dropout mask", "s × b × H", spec, training, True)],
                           repeat=in_flight))
    if stage.head:
        parts.append(group("output", "output layer (one micro-batch)", _output_terms(spec, training)))
    total = group("activations", "activations", parts)
    lora = " (LoRA: an upper bound, a frozen Linear's input need not be kept)" if training.lora_rank else ""
    return replace(total, estimate=f"estimate: what autograd keeps for backward, term by term after {KORTHIKANTI}"
                                   f"{lora}")


def _bindings(spec: ModelSpec, training: Training) -> dict[str, int]:
    return {"s": training.tokens, "b": training.micro_batch, "H": spec.hidden_size, "t": training.tp,
            "p": _bytes_per_value(training.precision), "V": spec.embeddings.vocab_size}


def _leaf(key: str, label: str, formula: str, spec: ModelSpec, training: Training, replicated: bool,
          **more: int) -> Term:
    """A term; `replicated` ones are whole on every tensor-parallel GPU unless sequence parallelism
    splits them, the others always divided by t."""
    split = not replicated or training.sequence_parallel
    if split and training.tp > 1:
        formula = f"{formula} / t"
    return leaf(key, label, formula, {**_bindings(spec, training), **more})


def _layer_activations(spec: ModelSpec, layer: Layer, training: Training, stored: bool = True) -> Term:
    """One layer, one micro-batch, one GPU: what backward needs kept (Korthikanti's 34sbh + 5as²b
    with dropout and eager attention), or with full recomputation only the layer's input."""
    if stored and training.recompute == "full":
        return group("layer", "one layer (full recomputation: its input only)",
                     [_leaf("input", "layer input", "s × b × H × p", spec, training, True)])
    terms = _attention_terms(spec, layer, training) + _ffn_terms(spec, layer, training)
    return group("layer", "one layer", terms)


def _attention_terms(spec: ModelSpec, layer: Layer, training: Training) -> list[Term]:
    mixer = layer.mixer
    terms = [_leaf("attention_norm_input", "attention norm input", "s × b × H × p", spec, training, True),
             _leaf("qkv_input", "Q/K/V projections' input (the norm's output)", "s × b × H × p", spec, training,
                   True)]
    if isinstance(mixer, LatentAttention):
        latent = {"r_q": mixer.q_lora_rank, "r_kv": mixer.kv_lora_rank, "d_rope": mixer.qk_rope_head_dim}
        terms.append(_leaf("latents", "MLA's latents and their norms' inputs", "2 × s × b × (r_q + r_kv + d_rope) × p",
                           spec, training, True, **latent))
        dims = {"n_h": mixer.num_heads, "d_qk": mixer.qk_nope_head_dim + mixer.qk_rope_head_dim, "d_v": mixer.v_head_dim}
        terms += [_leaf("qk", "Q and K (for QKᵀ)", "2 × s × b × n_h × d_qk × p", spec, training, False, **dims),
                  _leaf("v", "V (for the weighted sum)", "s × b × n_h × d_v × p", spec, training, False, **dims)]
        out = ("s × b × n_h × d_v × p", dims)
    else:
        assert isinstance(mixer, Attention)
        dims = {"n_h": mixer.num_heads, "n_kv": mixer.num_kv_heads, "d": mixer.head_dim}
        terms += [_leaf("qk", "Q and K (for QKᵀ)", "s × b × (n_h + n_kv) × d × p", spec, training, False, **dims),
                  _leaf("v", "V (for the weighted sum)", "s × b × n_kv × d × p", spec, training, False, **dims)]
        out = ("s × b × n_h × d × p", dims)
    heads: dict[str, int] = {"n_h": mixer.num_heads}
    if training.attention == "eager" and training.recompute != "selective":
        terms.append(_leaf("softmax", "softmax output (eager attention)", "n_h × s × s × b × p", spec, training,
                           False, **heads))
        if training.dropout:
            terms += [_leaf("attention_mask", "attention dropout mask", "n_h × s × s × b", spec, training, False,
                            **heads),
                      _leaf("attention_dropout", "attention dropout output", "n_h × s × s × b × p", spec, training,
                            False, **heads)]
    elif training.attention == "flash":
        terms.append(_leaf("softmax_lse", "softmax statistics (flash attention's float32 log-sum-exp)",
                           "n_h × s × b × 4", spec, training, False, **heads))
    terms.append(_leaf("output_input", "output projection input", out[0], spec, training, False, **out[1]))
    if training.dropout:
        terms.append(_leaf("attention_residual_mask", "dropout mask after attention", "s × b × H", spec, training,
                           True))
    return terms


def _ffn_terms(spec: ModelSpec, layer: Layer, training: Training) -> list[Term]:
    ffn = layer.ffn
    terms = [_leaf("ffn_norm_input", "feed-forward norm input", "s × b × H × p", spec, training, True),
             _leaf("ffn_input", "feed-forward input (the norm's output)", "s × b × H × p", spec, training, True)]
    if isinstance(ffn, FeedForward):
        terms.append(_intermediates("ffn", "", ffn.gated, ffn.intermediate_size, spec, training))
    elif isinstance(ffn, MixtureOfExperts):
        routing = {"E": ffn.num_experts, "k": ffn.num_experts_per_tok}
        terms += [_leaf("router", "router probabilities (float32)", "s × b × E × 4", spec, training, True, **routing),
                  _leaf("expert_inputs", "each token's copy for each of its k experts", "k × s × b × H × p", spec,
                        training, True, **routing),
                  _intermediates("experts", "k × ", ffn.gated, ffn.expert_intermediate_size, spec, training,
                                 routing=routing)]
        if ffn.shared_expert_intermediate_size:
            terms.append(_intermediates("shared_expert", "", ffn.gated, ffn.shared_expert_intermediate_size, spec,
                                        training, label="shared expert's"))
    if training.dropout:
        terms.append(_leaf("ffn_mask", "dropout mask after the feed-forward", "s × b × H", spec, training, True))
    return terms


def _intermediates(key: str, times: str, gated: bool, width: int, spec: ModelSpec, training: Training,
                   label: str = "", routing: Optional[dict[str, int]] = None) -> Term:
    """A gated FFN keeps four tensors of its width as PyTorch autograd does for an HF-style MLP (gate and
    up outputs, SiLU's output, the product); Megatron's fused SwiGLU recomputes SiLU and keeps fewer."""
    what = (f"{label} gate and up outputs, the activation's output and their product" if gated
            else f"{label} first projection's output and the activation's output").strip()
    count = 4 if gated else 2
    return _leaf(key, what, f"{times}{count} × s × b × I × p", spec, training, False, I=width, **(routing or {}))


def _output_terms(spec: ModelSpec, training: Training) -> list[Term]:
    """The final norm's input, the head's input, and the float32 softmax over the (padded) vocabulary
    the cross-entropy keeps for backward, split over t by Megatron's vocab-parallel loss: Korthikanti's
    4sbh(1 + v/h) for the output layer (Megatron-LM theoretical_memory_usage.py)."""
    multiple = MEGATRON_VOCAB_MULTIPLE * training.tp
    padded = ceil(spec.embeddings.vocab_size / multiple) * multiple
    return [_leaf("final_norm_input", "final norm input", "s × b × H × p", spec, training, True),
            _leaf("head_input", "LM head input", "s × b × H × p", spec, training, True),
            _leaf("logits", "float32 softmax of the logits over the padded vocabulary, for the loss",
                  "s × b × V_p × 4", spec, training, False, V_p=padded)]


# --- FLOPs ------------------------------------------------------------------------------------------------

def _flops_per_token(spec: ModelSpec, training: Training) -> tuple[int, int, int]:
    """(6 × the weights that multiply each token, the attention term, the hardware FLOPs with
    recomputation). PaLM's convention: 12·L·s·d_attn for attention (QKᵀ and the weighted sum,
    forward and backward, no causal halving), here 6·s·n_h·(d_qk + d_v) per layer, a window capping s."""
    multiplied = 0.0
    for weight in checkpoint_weights(spec):
        if weight.linear:
            elements = weight.count * weight.shape[0] * weight.shape[1]
            multiplied += elements * _routed_share(spec) if weight.expert else elements
    multiplied += spec.embeddings.vocab_size * spec.hidden_size  # the LM head (a tied one: the embedding)
    dense = 6 * round(multiplied)
    attention = 0
    for layer in spec.layers:
        mixer = layer.mixer
        if isinstance(mixer, LatentAttention):
            width = mixer.num_heads * (mixer.qk_nope_head_dim + mixer.qk_rope_head_dim + mixer.v_head_dim)
        elif isinstance(mixer, Attention):
            width = 2 * mixer.num_heads * mixer.head_dim
        else:
            continue
        window = mixer.cached_window if isinstance(mixer, Attention) else None
        seen = min(training.tokens, window) if window is not None else training.tokens
        attention += 6 * seen * width
    # Recomputation repeats forward work: selective the attention core (a third of its training
    # FLOPs), full the whole forward pass (a third of everything: 8N instead of 6N).
    extra = {"none": 0, "selective": attention // 3, "full": (dense + attention) // 3}[training.recompute]
    return dense, attention, dense + attention + extra


def _routed_share(spec: ModelSpec) -> float:
    moe = next((layer.ffn for layer in spec.layers if isinstance(layer.ffn, MixtureOfExperts)), None)
    return moe.num_experts_per_tok / moe.num_experts if moe else 1.0
