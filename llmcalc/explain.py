"""Derivations, step by step, generated from the same Term trees `params` and `kvcache` print.

Nothing here is written per model: every formula, substitution and value is read off
a Term, so an explanation cannot disagree with a number shown elsewhere. The only
arithmetic is the reconciliation's grouping of differences, and it closes on the
exact total by construction (checked).
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

from llmcalc.errors import UsageError
from llmcalc.params import ESTIMATE_FORMULA, ParamCount, count_params, textbook_estimate
from llmcalc.records import record
from llmcalc.rows import layer_groups, summarised
from llmcalc.scenario import Point
from llmcalc.spec import Attention, ModelSpec
from llmcalc.terms import Term
from llmcalc.text import exact, human_count, layer_span, plural, product, signed

if TYPE_CHECKING:  # the other topics' results; their modules are imported only for them
    from llmcalc.fit import Fit
    from llmcalc.kvcache import CacheSize
    from llmcalc.scenario import Deployment, Training
    from llmcalc.train import TrainResult
    from llmcalc.quant import QuantSize, QuantTensor

TOPICS = ("params", "kvcache", "gqa", "estimate", "quant", "fit", "train")


def check_topic(topic: str) -> None:
    if topic not in TOPICS:
        raise UsageError(f"--topic {topic!r}: use one of {', '.join(TOPICS)}")

# What each formula symbol stands for, and the preset / config.json field it comes from.
SYMBOLS: dict[str, tuple[str, str]] = {
    "V": ("vocabulary size", "vocab_size"),
    "H": ("hidden size", "hidden_size"),
    "L": ("layers", "num_hidden_layers"),
    "I": ("FFN width (per expert in MoE layers)", "intermediate_size / moe_intermediate_size"),
    "n_h": ("query heads", "num_attention_heads"),
    "n_kv": ("key/value heads", "num_key_value_heads"),
    "d": ("head dimension", "head_dim (default hidden_size / num_attention_heads)"),
    "g": ("query heads per KV head", "num_attention_heads / num_key_value_heads"),
    "n": ("norms per layer", "norms_per_layer"),
    "E": ("routed experts", "num_experts"),
    "P": ("learned positions", "max_position_embeddings"),
    "T": ("tokens (for the cache: cached tokens per layer)", "type_vocab_size, or --seq"),
    "B": ("buckets / sequences", "relative_attention_num_buckets, or --batch"),
    "r_q": ("query latent rank", "q_lora_rank"),
    "r_kv": ("KV latent rank", "kv_lora_rank"),
    "d_nope": ("per-head Q/K width without RoPE", "qk_nope_head_dim"),
    "d_rope": ("per-head RoPE width", "qk_rope_head_dim"),
    "d_v": ("per-head V width", "v_head_dim"),
    "A": ("RWKV time-mix width", "attention_hidden_size"),
    "H_2": ("half the hidden size", "hidden_size / 2"),
    "b": ("bytes per block of values", "--dtype"),
    "v": ("values per block", "--dtype"),
    "f": ("bytes of a float32", "RWKV, Mamba and linear-attention states"),
    "d_in": ("Mamba inner width", "mamba_d_inner (expand × hidden_size)"),
    "N": ("SSM state size per channel", "mamba_d_state"),
    "R": ("Mamba Δt rank", "mamba_dt_rank"),
    "n_m": ("Mamba-2 heads", "mamba_n_heads"),
    "d_m": ("Mamba-2 head width", "mamba_d_inner / mamba_n_heads"),
    "G": ("Mamba-2 groups of B and C", "mamba_n_groups"),
    "C_conv": ("channels through the causal convolution", "Mamba: d_in; Mamba-2: d_in + 2·G·N; "
                                                          "Gated DeltaNet: 2·n_qk·d_qk + n_val·d_val"),
    "d_conv": ("causal convolution width", "mamba_d_conv / linear_conv_kernel_dim"),
    "n_qk": ("linear-attention Q/K heads", "linear_num_key_heads"),
    "n_val": ("linear-attention V heads", "linear_num_value_heads"),
    "d_qk": ("linear-attention Q/K head width", "linear_key_head_dim"),
    "d_val": ("linear-attention V head width", "linear_value_head_dim"),
}


@record(eq=False)
class Entry:
    """One line of a derivation: formula → substituted → value (× instances)."""

    title: str
    formula: str = ""
    substituted: str = ""
    value: int = 0  # what this line contributes: per_unit × instances
    per_unit: int | None = None
    instances: int = 1
    note: str = ""
    signed: bool = False  # a difference: shown as +n or −n

    @property
    def value_text(self) -> str:
        """`16,777,216 × 32 = 536,870,912`, `−805,306,368` for a difference, or the value alone."""
        if self.signed:
            return signed(self.value)
        if self.per_unit is not None:
            return product(self.per_unit, self.instances)
        return exact(self.value) if self.value or self.formula else ""


@record(eq=False)
class Step:
    title: str
    text: str
    entries: tuple[Entry, ...]
    result: int | None = None


@record(eq=False)
class Explanation:
    model: str
    topic: str
    steps: tuple[Step, ...]
    total: int
    unit: str  # "params" or "bytes"


def explain(spec: ModelSpec, topic: str, point: Point, quant: str = "q4_k_m",
            deployment: Deployment | None = None, training: Training | None = None,
            check: Figure | None = None) -> Explanation:
    """The derivation of `topic`; `point` gives the tokens, batch and dtype of the cache topics,
    `quant` the format of the quant topic, `deployment` the GPUs of the fit topic, `training` the
    setup of the train topic; `check` a figure someone computed, to find the slips behind it."""
    if topic == "fit":
        from llmcalc.fit import fit

        if deployment is None:
            raise UsageError("--topic fit needs a GPU: --gpu NAME")
        result = fit(spec, point, deployment)
        return Explanation(spec.name, topic, tuple(_fit_steps(result)), result.most_loaded.total, "bytes")
    if topic == "train":
        from llmcalc.train import train

        if training is None:
            raise UsageError("--topic train needs the training setup")
        trained = train(spec, training)
        return Explanation(spec.name, topic, tuple(_train_steps(trained)), trained.most_loaded.total, "bytes")
    if topic == "quant":
        from llmcalc.quant import quantize

        size = quantize(spec, quant)
        return Explanation(spec.name, topic, tuple(_quant_steps(size)), size.bytes, "bytes")
    if topic == "kvcache":
        from llmcalc.kvcache import kv_cache

        cache = kv_cache(spec, point)
        return Explanation(spec.name, topic, tuple(_kvcache_steps(spec, cache)), cache.total, "bytes")
    count = count_params(spec)
    if topic == "gqa":
        return Explanation(spec.name, topic, tuple(_gqa_steps(spec, count, point)), count.total, "params")
    estimate = textbook_estimate(spec)
    steps = [_symbols_step(spec, count.root)]
    if estimate is not None:
        steps.append(_estimate_step(estimate))
    if topic == "params":
        steps.append(_notes_step(spec, count))
        steps.append(_exact_step(spec, count))
    if estimate is not None:
        steps.append(_reconciliation_step(spec, estimate, count))
    elif topic == "estimate":
        steps.append(Step("No textbook estimate", "RWKV has no attention blocks; the estimate does not apply.", ()))
    if check is not None:
        steps.append(_check_step(check_figure(spec, check)))
    return Explanation(spec.name, topic, tuple(steps), count.total, "params")


def _check_step(result: FigureCheck) -> Step:
    figure = result.figure
    off = f"{abs(result.off):.1%} {'too high' if result.off > 0 else 'too low'}" if result.off else "right"
    exact = f"The exact count of {result.scope} is {result.exact:,} ({human_count(result.exact)}): {figure.text}, " \
            f"its prefix read in 1000s, is {off}."
    if result.reproduced is None:
        text = (f"No combination of the usual slips (a binary prefix, a tied head counted twice, the embedding "
                f"counted once, GQA ignored or the group size misread, biases or norms left out, the FFN as 2 or 3 "
                f"matrices) gives {figure.text}, for the whole model or one layer or its attention or FFN. {exact}")
        return Step("Your figure", text, (Entry("exact count", value=result.exact),), result.exact)
    if not result.slips:
        return Step("Your figure", f"{figure.text} is {result.scope}, right to its rounding. {exact}",
                    (Entry("exact count", value=result.exact),), result.exact)
    slips = "; ".join(f"({number}) {slip}" for number, slip in enumerate(result.slips, 1))
    also = (f" Also consistent with it, too small to change {figure.text} at its rounding: "
            f"{', '.join(result.also)}." if result.also else "")
    text = f"{figure.text} is {result.scope} counted with: {slips}.{also} {exact}"
    entries = (Entry("exact count", value=result.exact), Entry("with those slips", value=result.reproduced),
               Entry("difference", value=result.reproduced - result.exact, signed=True))
    return Step("Your figure", text, entries, result.reproduced)


# --- step 1: symbols -----------------------------------------------------------------------------

def _symbols_step(spec: ModelSpec, root: Term) -> Step:
    values: dict[str, list[int]] = {}
    for _, term, _ in root.leaves():
        for name, value in term.bindings.items():
            seen = values.setdefault(name, [])
            if value not in seen:
                seen.append(value)
    values["L"] = [spec.num_layers]
    heads, kv_heads = values.get("n_h", []), values.get("n_kv", [])
    if len(heads) == 1 and len(kv_heads) == 1 and kv_heads[0]:
        values["g"] = [heads[0] // kv_heads[0]]
    entries = []
    for symbol in sorted(values, key=lambda name: list(SYMBOLS).index(name) if name in SYMBOLS else 99):
        meaning, field = SYMBOLS.get(symbol, (symbol, ""))
        shown = " / ".join(f"{value:,}" for value in values[symbol])
        note = "differs by layer or component" if len(values[symbol]) > 1 else ""
        entries.append(Entry(f"{symbol} = {shown}", note=f"{meaning} ({field}){'; ' + note if note else ''}"))
    text = (f"{spec.name}: {spec.architecture}, {spec.num_layers} layers, norm {spec.norm}, "
            f"LM head {spec.embeddings.head}. Each symbol, its value, and the config field it comes from.")
    return Step("Symbols", text, tuple(entries))


# --- step 2: the textbook estimate -------------------------------------------------------------

def _estimate_step(estimate: Term) -> Step:
    entries = [_entry(path, term, instances) for path, term, instances in estimate.leaves()]
    layers = sum(term.total for term in estimate.children if term.children)
    head_and_embedding = estimate.total - layers
    total = estimate.total
    text = (
        f"{ESTIMATE_FORMULA}: embedding, attention as full multi-head, gated FFN (2·H·I if plain), output "
        f"layer. Exactly {total:,} = {total / 10**9:.2f} × 10⁹. Careful with prefixes: in binary "
        f"units the same sum reads {head_and_embedding / 2**20:,.2f} × 2²⁰ + {layers / 2**30:,.2f} × 2³⁰ "
        f"= {total / 2**30:,.2f} × 2³⁰ — the notes' worked example wrote such 2²⁰/2³⁰ figures as \"M\" and "
        f"\"B\" (\"250M + 7.25B = 7.5B\" for Mistral-7B), but {total / 2**30:,.2f} × 2³⁰ is "
        f"{total / 10**9:.2f} billion.")
    return Step("Textbook estimate", text, tuple(entries), total)


# --- step 3: one layer, the way the notes count it -------------------------------------------------

NOTES_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")


def _notes_step(spec: ModelSpec, count: ParamCount) -> Step:
    """The study notes' path: one layer's attention (with their H²(2 + 2/g) where n_h·d = H), FFN,
    norms and biases, the layer's total, × L for each group of equal layers, then embedding and head.
    Every value is a Term's (a group's value is the sum of its parts)."""
    entries: list[Entry] = []
    for part in count.root.children:
        groups = layer_groups(part)
        if not groups:
            entries.append(Entry(part.label, value=part.total) if not part.reason and part.total
                           else Entry(part.label, note=_absent_note(part)))
            continue
        if summarised(part):
            entries.append(Entry(f"{part.label}: layers of different sizes, counted layer by layer below",
                                 value=part.total))
            continue
        for layer_group in groups:
            entries += _notes_layer(layer_group)
        entries += [Entry(child.label, child.formula, child.substituted, child.total)
                    for child in part.children if child not in groups]
    text = ("As the notes count it: one layer's attention, FFN, norms and biases, the layer's total, times its "
            "number of layers; then the embedding and the output layer. With GQA the attention of one layer is "
            "H·(n_h·d) + 2·H·(n_kv·d) + (n_h·d)·H, which is the notes' H²(2 + 2/g) when n_h·d = H.")
    return Step("One layer at a time (the notes' path)", text, tuple(entries), count.total)


def _absent_note(term: Term) -> str:
    return term.children[0].note if term.children and term.children[0].reason else term.note


def _notes_layer(layer_group: Term) -> list[Entry]:
    span = layer_group.label
    entries: list[Entry] = []
    for component in layer_group.children:
        matrices = [c for c in component.children if c.key in NOTES_ATTENTION]
        if len(matrices) == len(NOTES_ATTENTION):
            entries.append(_notes_attention(span, matrices))
            entries += [Entry(f"{span}: {c.label}", c.formula, c.substituted, c.total)
                        for c in component.children if c not in matrices]
            continue
        compact = _matrices(component.children)
        if compact:
            entries.append(Entry(f"{span}: {component.label}", *compact, component.total))
            continue
        for part in component.children or (component,):
            if part.children:  # routed experts: one expert's matrices, × experts
                formula, substituted = _matrices(part.children) or (
                    " + ".join(child.formula for child in part.children),
                    " + ".join(child.substituted for child in part.children))
                entries.append(Entry(f"{span}: {part.label}, one expert", formula, substituted, part.total,
                                     part.value, part.repeat))
            elif part.reason:
                entries.append(Entry(f"{span}: {part.label}", note=part.note))
            else:
                entries.append(Entry(f"{span}: {part.label}", part.formula, part.substituted, part.total))
    entries.append(Entry(f"{span}: one layer", value=layer_group.value))
    entries.append(Entry(f"{span}: × {layer_group.repeat} layers", value=layer_group.total,
                         per_unit=layer_group.value, instances=layer_group.repeat))
    return entries


def _matrices(parts: tuple[Term, ...]) -> tuple[str, str] | None:
    """An FFN's matrices in the notes' form, `3 × H × I` (gated) or `2 × H × I`: when every part is an
    H × I or I × H matrix of one size."""
    shapes = {(term.bindings.get("H"), term.bindings.get("I")) for term in parts}
    if len(parts) < 2 or len(shapes) != 1 or any(term.formula not in ("H × I", "I × H") for term in parts):
        return None
    hidden, width = shapes.pop()
    return f"{len(parts)} × H × I", f"{len(parts)} × {hidden:,} × {width:,}"


def _notes_attention(span: str, matrices: list[Term]) -> Entry:
    """Q, K, V and O of one layer; in the notes' form H²(2 + 2/g) when the heads span the hidden size."""
    value = sum(term.total for term in matrices)
    bindings = {name: number for term in matrices for name, number in term.bindings.items()}
    hidden, heads, kv_heads, width = (bindings.get(k) for k in ("H", "n_h", "n_kv", "d"))
    if hidden and heads and kv_heads and width and heads * width == hidden and heads % kv_heads == 0:
        group = heads // kv_heads
        if 2 * hidden * hidden + 2 * hidden * hidden // group == value and (2 * hidden * hidden) % group == 0:
            note = "MHA: 4H²" if group == 1 else f"GQA, g = n_h / n_kv = {heads} / {kv_heads}"
            return Entry(f"{span}: attention (Q, K, V, O)", "H² × (2 + 2/g)", f"{hidden:,}² × (2 + 2/{group})", value,
                         note=note)
    return Entry(f"{span}: attention (Q, K, V, O)", " + ".join(term.formula for term in matrices),
                 " + ".join(term.substituted for term in matrices), value)


# --- step 4: the exact count ---------------------------------------------------------------------

def _exact_step(spec: ModelSpec, count: ParamCount) -> Step:
    entries: list[Entry] = []
    for part in count.root.children:
        groups = layer_groups(part)
        if summarised(part):
            entries += _per_layer_entries(part, groups)
            entries += [_entry(f"{part.key}.{child.key}", child, child.repeat)
                        for child in part.children if child not in groups]
            continue
        entries += [_entry(path, term, instances) for path, term, instances in part.leaves(count.root.key)]
    active = ""
    if count.active != count.total:
        active = (f" Active per token (only the top-k routed experts of each MoE layer): {count.active:,} "
                  f"= {human_count(count.active)}.")
    text = ("Every tensor, from the formula to its value; per-layer components are counted once and "
            f"multiplied by their layers (and experts). Total {count.total:,} = {human_count(count.total)}."
            + active)
    return Step("Exact count, component by component", text, tuple(entries), count.total)


def _per_layer_entries(stack: Term, groups: list[Term]) -> list[Entry]:
    """Layers of different sizes (OpenELM): the formulas once, then one line per layer, summed."""
    first = groups[0]
    entries = [_entry(f"{stack.key}.{path.removeprefix(first.key + '.')} (layer {first.key[7:]})", term, 1)
               for path, term, _ in first.leaves()]
    for layer_group in groups:
        parts = [child.total // layer_group.repeat for child in layer_group.children]
        names = " + ".join(child.key for child in layer_group.children)
        facts = ", ".join(f"{name} {value:,}" for name, value in _layer_facts(layer_group))
        entries.append(Entry(
            f"{stack.key} {layer_group.label} ({facts})",
            formula=names,
            substituted=" + ".join(f"{value:,}" for value in parts),
            value=layer_group.total,
            per_unit=layer_group.value,
            instances=layer_group.repeat,
        ))
    return entries


def _layer_facts(layer_group: Term) -> list[tuple[str, int]]:
    facts: dict[str, int] = {}
    for _, term, _ in layer_group.leaves():
        for name in ("n_h", "n_kv", "I"):
            if name in term.bindings:
                facts.setdefault(name, term.bindings[name])
    return list(facts.items())


def _entry(path: str, term: Term, instances: int) -> Entry:
    name = path.removeprefix("model.").removeprefix("estimate.")
    if term.reason:
        return Entry(name, note=term.note)
    return Entry(name, term.formula, term.substituted, term.value * instances, term.value, instances)


# --- step 5: reconciliation ------------------------------------------------------------------------

ATTENTION_WEIGHTS = ("q_proj", "k_proj", "v_proj", "o_proj", "q_a_proj", "q_b_proj", "kv_a_proj", "kv_b_proj")
FFN_WEIGHTS = ("gate_proj", "up_proj", "down_proj")


def _category(path: str, term: Term) -> str:
    """Which part of the estimate a component corresponds to, or what it adds to it."""
    key = term.key
    if path.endswith("embedding.tokens"):
        return "embedding"
    if ".lm_head." in f".{path}." or path.startswith("lm_head"):
        return "output"
    if key in ATTENTION_WEIGHTS:
        return "attention"
    if key in FFN_WEIGHTS:
        return "ffn"
    if "norm" in key:
        return "norms"
    if "bias" in key and key != "relative_bias":
        return "biases"
    return {"router": "routers", "shared_expert_gate": "routers", "positions": "position embeddings",
            "token_types": "token-type embeddings", "relative_bias": "relative position bias",
            "pooler": "pooler"}.get(key, "other components")


def _reconciliation_step(spec: ModelSpec, estimate: Term, count: ParamCount) -> Step:
    exact: dict[str, int] = {}
    for path, term, instances in count.root.leaves():
        category = _category(path, term)
        exact[category] = exact.get(category, 0) + term.value * instances
    guessed = {"embedding": 0, "attention": 0, "ffn": 0, "output": 0}
    for path, term, instances in estimate.leaves():
        guessed[term.key if term.key in guessed else "embedding"] += term.value * instances
    entries = [Entry("textbook estimate", value=estimate.total)]
    for category, reason in (("attention", _attention_reason(spec)), ("ffn", "FFN weights"),
                             ("embedding", "embedding"), ("output", _output_reason(spec))):
        difference = exact.get(category, 0) - guessed[category]
        if difference:
            entries.append(Entry(reason, formula=f"exact {exact.get(category, 0):,} − estimated "
                                                 f"{guessed[category]:,}", value=difference, signed=True))
    for category, value in exact.items():
        if category not in guessed and value:
            entries.append(Entry(f"{category} (not in the estimate)", value=value, signed=True))
    total = sum(entry.value for entry in entries)
    if total != count.total:  # the grouping above must account for every component
        raise AssertionError(f"reconciliation of {spec.name} ends at {total}, not {count.total}")
    text = "The estimate, and every difference between it and the real model, named and counted."
    return Step("Reconciliation: estimate → exact", text, tuple(entries), count.total)


def _attention_reason(spec: ModelSpec) -> str:
    sharing = spec.attention_layout
    attention = spec.stacks[0].layers[0].mixer
    reasons = []
    if sharing in ("GQA", "MQA"):
        reasons.append(f"{sharing}: K and V are H × (n_kv·d), not H × H")
    if sharing == "MLA":
        reasons.append("MLA: low-rank Q and KV projections instead of 4H²")
    if isinstance(attention, Attention) and attention.num_heads * attention.head_dim != spec.hidden_size:
        reasons.append(f"n_h·d = {attention.num_heads * attention.head_dim:,} ≠ H = {spec.hidden_size:,}")
    if not reasons:
        reasons.append("attention projections")
    return "; ".join(reasons)


def _output_reason(spec: ModelSpec) -> str:
    return {"tied": "tied LM head: the embedding is counted once",
            "none": "no LM head (encoder)"}.get(spec.embeddings.head, "output layer")


# --- kvcache ------------------------------------------------------------------------------------------

def _kvcache_steps(spec: ModelSpec, cache: CacheSize) -> list[Step]:
    from llmcalc.kvcache import LAYOUT_NOTES

    if cache.kind == "none":
        return [Step("No KV cache", f"{spec.name} is an encoder: it reads its whole input at once and keeps "
                                    "no autoregressive cache.", (), 0)]
    entries = [_entry(path.removeprefix("kv_cache."), term, instances) for path, term, instances in cache.root.leaves()]
    text = (f"{cache.tokens:,} tokens × {plural(cache.batch, 'sequence')} at {cache.point.cache_dtype} "
            f"({cache.dtype.block_bytes} bytes per {plural(cache.dtype.block_values, 'value')}).")
    if cache.kind != "state":
        text += " Per attention layer: T × B × (values cached per token) × bytes, for K and for V."
    if cache.kind in ("state", "hybrid") and spec.architecture != "rwkv":
        text += (" Per Mamba or linear-attention layer: a fixed state, the same at any length: the last inputs "
                 "of its causal convolution (model dtype) and its recurrent state (float32, as transformers "
                 "keeps it).")
    steps = [_symbols_step(spec, cache.root),
             Step("Cache, layer by layer", text, tuple(entries), cache.total)]
    if not spec.attention_layout:  # no attention layer: no layout to compare
        return steps
    factor = cache.saving_factor
    comparison = [Entry("this model's cache", value=cache.total),
                  Entry("uncompressed K and V per head" if cache.kind == "latent" else "multi-head equivalent",
                        value=cache.mha_equivalent.total,
                        note=f"× {factor:.2f} of this cache" if factor else "")]
    if cache.windowed_layers:
        comparison.append(Entry("without sliding windows", value=cache.uncapped.total,
                                note=f"{cache.windowed_layers} layers keep only their window"))
    steps.append(Step("What the attention layout saves", LAYOUT_NOTES[spec.attention_layout] + ".",
                      tuple(comparison), cache.total))
    return steps


# --- gqa --------------------------------------------------------------------------------------------

def _gqa_steps(spec: ModelSpec, count: ParamCount, point: Point) -> list[Step]:
    from llmcalc.kvcache import kv_cache

    attentions = [layer.mixer for layer in spec.layers if isinstance(layer.mixer, Attention)]
    title = "MHA, GQA and MQA"
    symbols = _symbols_step(spec, count.root)
    if not attentions:
        return [symbols, Step(title, f"{spec.name} has no multi-head attention to compare (MLA or RWKV).", ())]
    attention = attentions[0]
    if any((a.num_heads, a.head_dim) != (attention.num_heads, attention.head_dim) for a in attentions):
        return [symbols, Step(title, f"{spec.name}'s layers have different numbers of heads; there is no single "
                                     "MHA/GQA/MQA variant of it to compare.", ())]
    heads, own = attention.num_heads, attention.num_kv_heads
    variants = [("MHA", heads)]
    group_count = own if 1 < own < heads else _gqa_groups(heads)
    if group_count is not None:
        variants.append((f"GQA ({group_count} KV heads)", group_count))
    variants.append(("MQA", 1))
    entries = []
    for name, kv_heads in variants:
        variant = spec.with_kv_heads(kv_heads)
        leaves = {term.key: term for _, term, _ in count_params(variant).root.leaves()
                  if term.key in ("q_proj", "k_proj")}
        cache = kv_cache(variant, point)
        mark = " ← this model" if kv_heads == own else ""
        q, k = leaves["q_proj"], leaves["k_proj"]
        entries.append(Entry(
            f"{name}{mark}",
            formula=f"Q H × n_h·d, K and V H × n_kv·d (n_kv = {kv_heads})",
            substituted=(f"Q {spec.hidden_size:,} × {heads * attention.head_dim:,}, "
                         f"K/V {spec.hidden_size:,} × {kv_heads * attention.head_dim:,}"),
            value=q.value + 2 * k.value,
            note=(f"Q+K+V per layer; KV cache at {point.tokens:,} tokens × {point.batch:,} "
                  f"({cache.dtype.name}): {cache.total:,} B"),
        ))
    text = ("The same model with every query head keeping its own K and V (MHA), sharing them in groups "
            "(GQA), or sharing one (MQA): projection shapes and parameters per layer, and the cache.")
    return [symbols, Step(title, text, tuple(entries))]


def _gqa_groups(heads: int) -> int | None:
    """The KV-head count to show for GQA: the largest from 2 to 8 that divides the heads
    (Llama-2-7B: 8, as in the notes' table); None when none does (Falcon-7B's 71 heads)."""
    return max((g for g in range(2, 9) if heads % g == 0 and g < heads), default=None)


# --- quant ---------------------------------------------------------------------------------------------

def _quant_steps(size: QuantSize) -> list[Step]:
    from llmcalc.ggml import GGML_TYPES

    fmt = size.format
    steps = [Step(f"The format: {fmt.name}", f"{fmt.label}, following {fmt.source}.", ())]
    if fmt.kind == "gguf":
        used = sorted({t.type for t in size.tensors}, key=lambda name: GGML_TYPES[name].id)
        blocks = "; ".join(f"{name}: {GGML_TYPES[name].block_bytes} bytes per {GGML_TYPES[name].block_values} "
                           f"values ({GGML_TYPES[name].bits_per_weight:g} bits per weight)" for name in used)
        steps.append(Step("Block types", "Each ggml type stores a row in whole blocks of values, so a row of n "
                                         f"values takes n / (values per block) blocks. {blocks}.", ()))
    groups: dict[tuple, list[QuantTensor]] = {}
    for tensor in size.tensors:
        pattern = re.sub(r"^blk\.\d+\.", "blk.*.", tensor.name)
        groups.setdefault((pattern, tensor.shape, tensor.type, tensor.reason), []).append(tensor)
    entries = []
    for (pattern, shape, kind, reason), members in groups.items():
        per = members[0].bytes
        if fmt.kind == "gguf":
            block = GGML_TYPES[kind]
            rows = per // block.row_bytes(shape[0]) if block.row_bytes(shape[0]) else 0
            formula = f"rows × (row length / {block.block_values}) × {block.block_bytes}"
            substituted = f"{rows:,} × ({shape[0]:,} / {block.block_values}) × {block.block_bytes}"
        else:
            formula, substituted = "", " × ".join(f"{n:,}" for n in shape)
        entries.append(Entry(f"{pattern} → {kind}", formula, substituted, per * len(members), per, len(members),
                             reason))
    text = "Tensors with the same name in every layer, shape and type are counted once and multiplied."
    steps.append(Step("Tensor by tensor", text, tuple(entries), size.bytes))
    steps.append(Step("Total", f"{size.bits_per_weight:.4f} bits per weight over {size.elements:,} weights.",
                      (Entry("bytes of tensor data", value=size.bytes),), size.bytes))
    return steps



# --- fit --------------------------------------------------------------------------------------------------

def _fit_steps(result: Fit) -> list[Step]:
    d, point, gpu, budget = result.deployment, result.point, result.deployment.gpu, result.most_loaded
    stage = budget.stage
    layers = f"layers {layer_span(stage.layers.start, stage.layers.stop - 1)}" if len(stage.layers) else "no layers"
    share = (f"vLLM may use {d.gpu_utilization} of it (--gpu-memory-utilization), rounded up"
             if d.runtime == "vllm" else "the runtime may use all of it" if gpu.usable_share is None
             else f"macOS lets the GPU use {gpu.usable_share} of unified memory")
    steps = [Step("The GPUs", f"{d.gpus} × {gpu.name}: {gpu.memory_bytes:,} bytes each ({gpu.memory_note}); "
                              f"{share}. Runtime {d.runtime}, tensor parallel {d.tp}, pipeline {d.pp}; the most "
                              f"loaded GPU holds {layers}.",
                  (Entry("capacity per GPU", value=result.capacity_bytes),), result.capacity_bytes)]
    weights = result.weight_format or point.weight_dtype.dtype.name
    steps.append(Step("Weights on it (exact)", f"{budget.weights.label}: the checkpoint's tensors at {weights} "
                                               f"({result.weight_format_source}), each split as the runtime splits it.",
                      (Entry("weights", value=budget.weights.total),), budget.weights.total))
    entries = [_entry(path.removeprefix("kv_cache."), term, instances)
               for path, term, instances in budget.kv_cache.leaves()]
    steps.append(Step("KV cache on it (exact)", f"{point.tokens:,} tokens × {plural(point.batch, 'sequence')} at "
                                                f"{point.cache_dtype}, in the runtime's layout: "
                      + "; ".join(part.label for part in budget.kv_cache.children) + ".",
                      tuple(entries), budget.kv_cache.total))
    estimated = (budget.activation, budget.overhead)
    sources = " ".join(f"{term.key.capitalize()}: {term.estimate.removeprefix('estimate: ')}." for term in estimated)
    steps.append(Step("Activation and overhead (estimates)", f"Not exact. {sources}",
                      tuple(Entry(term.label, term.formula, term.substituted, term.total) for term in estimated),
                      budget.estimated))
    verdict = "It fits." if result.fits else "It does not fit."
    steps.append(Step("Total against capacity", f"{verdict} The largest context at this batch is "
                                                f"{result.max_seq:,} tokens; the largest batch at these tokens "
                                                f"{result.max_batch:,} (exact searches over this same budget).",
                      (Entry("total", value=budget.total), Entry("capacity", value=result.capacity_bytes),
                       Entry("headroom", value=result.headroom, signed=True)), budget.total))
    speed = result.speed
    text = (f"A decode step reads every weight it uses and the whole cache once: {speed.decode_bytes:,} bytes at "
            f"{speed.bytes_per_s:,.0f} bytes/s = {speed.decode_step_s * 1000:,.2f} ms ({speed.decode_bound}-bound; it computes "
            f"{speed.decode_flops:,} FLOPs), so {speed.decode_tokens_per_s or 0.0:,.1f} tokens/s per sequence.")
    if speed.prefill_s is not None and speed.flops_per_s:
        text += (f" Prefill: 2 FLOPs per weight per token plus causal attention, {speed.prefill_flops:,} FLOPs at "
                 f"{speed.flops_per_s:,.0f} FLOP/s ({speed.peak_kind}) over {d.tp} GPU(s) = "
                 f"{speed.prefill_s:,.3g} s ({speed.prefill_bound}-bound).")
    steps.append(Step("Speed: a roofline", text + f" Efficiency {d.efficiency:g} (--efficiency).",
                      (Entry("bytes read per decode step", value=speed.decode_bytes),), speed.decode_bytes))
    return steps


# --- train ------------------------------------------------------------------------------------------------

def _train_steps(result: TrainResult) -> list[Step]:
    t, budget = result.training, result.most_loaded
    mixed = t.precision != "fp32"
    if t.lora_rank is not None:
        states = (f"LoRA rank {t.lora_rank} on {', '.join(t.lora_modules)}: {result.trainable_params:,} trainable "
                  f"parameters (rank × (in + out) per adapted Linear), kept in float32 with their gradients and "
                  f"{t.optimizer} states; the frozen base at {'NF4 with double quantization' if t.qlora else t.precision}.")
    else:
        gradient = 4 if t.convention == "megatron" or not mixed else 2
        states = (f"Each parameter: {4 if not mixed else 2} bytes of weights, {gradient} of gradients and the "
                  f"{t.optimizer} states ({'a float32 master copy and ' if mixed else ''}the optimizer's own); "
                  f"the {t.convention} convention.")
    sharded = {0: "nothing", 1: "the optimizer states", 2: "the optimizer states and gradients",
               3: "the optimizer states, gradients and weights"}[t.zero]
    steps = [Step("Model states (exact)", f"{states} The GPU holds {budget.params:,} parameters (tensor parallel "
                                          f"{t.tp}, pipeline {t.pp}); ZeRO {t.zero} divides {sharded} over the "
                                          f"{t.dp} data-parallel GPUs.",
                  tuple(Entry(term.label, term.formula, term.substituted, term.total)
                        for term in (budget.weights, budget.gradients, budget.optimizer)),
                  budget.model_states)]
    layer = [Entry(term.label, term.formula, term.substituted, term.total) for _, term, _ in result.per_layer.leaves()]
    steps.append(Step("Activations of one layer (estimate)", f"For one micro-batch of {t.micro_batch} × "
                                                             f"{t.tokens:,} tokens on one GPU, what backward needs "
                                                             f"kept; {budget.activations.estimate.removeprefix('estimate: ')}.",
                      tuple(layer), result.per_layer.total))
    parts = [Entry(part.label, value=part.total) for part in budget.activations.children]
    steps.append(Step("Activations on the GPU", "Each group of layers × the micro-batches 1F1B keeps in flight on "
                                                "this stage, then the output layer's terms.",
                      tuple(parts), budget.activations.total))
    steps.append(Step("Total", "Model states and activations.", (Entry("total", value=budget.total),), budget.total))
    text = (f"PaLM's convention: 6 × the weights that multiply a token, {result.dense_flops_per_token:,}, plus "
            f"attention 12·L·s·d_attn, {result.attention_flops_per_token:,}: {result.flops_per_token:,} FLOPs per "
            f"token.")
    if result.training_flops is not None:
        text += f" The run: {t.run_tokens:,} tokens × that = {result.training_flops:.4g} FLOPs."
    if result.seconds is not None and result.peak_flops:
        text += (f" On {t.gpus} GPUs of {result.peak_flops:,} FLOP/s at MFU {t.mfu:g}: {result.seconds:,.0f} s, "
                 f"{result.gpu_hours:,.0f} GPU-hours.")
    steps.append(Step("Compute", text, (), None))
    return steps


# --- checking a learner's figure ----------------------------------------------------------------------

PREFIXES = {"k": 1, "m": 2, "g": 3, "b": 3, "t": 4}  # K, M, G (= B, billion), T: powers of 1000 or 1024


@record
class Figure:
    text: str
    value: float  # the number as written, before its prefix: 3.16 of "3.16G"
    decimals: int  # the rounding the person used: 2 for 3.16
    power: int  # 0 without a prefix, 3 for G/B


def parse_figure(text: str) -> Figure:
    """`3.16e9`, `3.16G`, `7.5B`, `232M`, `41,943,040`: a number someone computed by hand. An exponent
    that is a multiple of 3 counts as a prefix (3.16e9 as 3.16G), which may have been meant in 1024s."""
    match = re.fullmatch(r"\s*(\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?:e\+?(\d+))?\s*([kmgbt]?)\s*", text.lower())
    if match is None or (match.group(2) and match.group(3)) or float(match.group(1).replace(",", "") or 0) == 0:
        raise UsageError(f"--check {text!r}: expected a figure such as 3.16e9, 3.16G, 7.5B, 232M or 41,943,040")
    digits = match.group(1).replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    if match.group(2):
        exponent = int(match.group(2))
        if exponent % 3 == 0 and exponent <= 12:
            return Figure(text.strip(), float(digits), decimals, exponent // 3)
        return Figure(text.strip(), float(digits) * 10**exponent, decimals - exponent, 0)
    return Figure(text.strip(), float(digits), decimals, PREFIXES.get(match.group(3), 0))


@record
class Slip:
    name: str  # "kind:what the person did"; two slips of one kind exclude each other
    delta: int  # what it adds to the scope's exact count (negative: leaves out)
    in_layers: bool = True  # a change to the layers' part (not the embedding and head)


@record
class Scope:
    name: str  # what a figure may count: "the whole model", "one layer", ...
    layers: int  # its exact count in the layers
    rest: int  # and outside them (embedding, head, final norm)
    slips: tuple[Slip, ...]


@record
class FigureCheck:
    figure: Figure
    scope: str
    exact: int  # the scope's exact count
    slips: tuple[str, ...]  # the simplest combination that reproduces the figure (its reading included)
    reproduced: int | None  # the count with those slips, or None when nothing reproduces the figure
    also: tuple[str, ...]  # slips too small to change the figure at its rounding
    written: float  # the figure in parameters, its prefix read in 1000s

    @property
    def off(self) -> float:
        return self.written / self.exact - 1 if self.exact else 0.0


# How the prefix was meant: 1000s, 1024s, or 1024s for the layers added to 1000s for the rest (the
# notes' "131M + 7.25B + 131M ≈ 7.51B").
READINGS = ("", "binary prefix: {figure} in units of 1024^{power}, not 1000^{power}",
            "binary and decimal mixed: the layers in 1024^{power} units, the embedding and head in 1000^{power}")


def check_figure(spec: ModelSpec, figure: Figure) -> FigureCheck:
    """Which common slips, from a fixed list, turn the exact count into the figure (to its rounding):
    a binary prefix read as decimal (or the two mixed), a tied head counted twice, the embedding
    counted once, GQA ignored or the group size misread, biases or norms left out, the FFN taken as
    2 or 3 matrices. The simplest combination wins; the whole model is tried before its parts."""
    from itertools import combinations

    count = count_params(spec)
    target = round(figure.value, figure.decimals)
    best: tuple[int, Scope, tuple[Slip, ...], int] | None = None
    for order, scope in enumerate(_scopes(spec, count)):
        for size in range(len(scope.slips) + 1):
            for chosen in combinations(scope.slips, size):
                kinds = [slip.name.split(":")[0] for slip in chosen]
                if len(set(kinds)) < len(kinds):
                    continue
                for reading in range(len(READINGS) if figure.power else 1):
                    if _reads_as(scope, chosen, reading, figure) == target:
                        cost = (len(chosen) + (reading > 0) + (reading > 1)) * 100 + order
                        if best is None or cost < best[0]:
                            best = (cost, scope, chosen, reading)
    written = figure.value * 1000 ** figure.power
    if best is None:
        return FigureCheck(figure, "the whole model", count.total, (), None, (), written)
    _, scope, chosen, reading = best
    labels = tuple(slip.name.split(":", 1)[1] for slip in chosen)
    if reading:
        labels = (READINGS[reading].format(figure=figure.text, power=figure.power),) + labels
    used = {slip.name.split(":")[0] for slip in chosen}
    also = tuple(slip.name.split(":", 1)[1] for slip in scope.slips
                 if slip.name.split(":")[0] not in used and _reads_as(scope, chosen + (slip,), reading, figure) == target
                 ) if labels else ()
    total = scope.layers + scope.rest + sum(slip.delta for slip in chosen)
    return FigureCheck(figure, scope.name, scope.layers + scope.rest, labels, total, also, written)


def _reads_as(scope: Scope, chosen: tuple[Slip, ...], reading: int, figure: Figure) -> float:
    layers = scope.layers + sum(slip.delta for slip in chosen if slip.in_layers)
    rest = scope.rest + sum(slip.delta for slip in chosen if not slip.in_layers)
    thousand, binary = 1000 ** figure.power, 1024 ** figure.power
    if reading == 0:
        value = (layers + rest) / thousand
    elif reading == 1:
        value = (layers + rest) / binary
    else:
        value = layers / binary + rest / thousand
    return round(value, figure.decimals)


def _scopes(spec: ModelSpec, count: ParamCount) -> list[Scope]:
    """What a figure may count, its exact value, and the slips that apply to it."""
    groups = [group for part in count.root.children for group in layer_groups(part)]
    layers_total = sum(group.total for group in groups)
    hidden, vocab = spec.hidden_size, spec.embeddings.vocab_size
    head: list[Slip] = []
    if spec.embeddings.head == "tied":
        head.append(Slip("head:a tied output layer counted as a second V × H", vocab * hidden, False))
    elif spec.embeddings.head == "untied":
        head.append(Slip("head:the embedding and output layer counted once, not twice", -vocab * hidden, False))
    layer_slips = [_layer_slips(group) for group in groups]
    summed: dict[str, int] = {}
    for group, slips in zip(groups, layer_slips):
        for slip in slips:
            summed[slip.name] = summed.get(slip.name, 0) + slip.delta * group.repeat
    all_layers = tuple(Slip(name, delta) for name, delta in summed.items())
    outside_norms = sum(term.value * n for path, term, n in count.root.leaves()
                        if "norm" in term.key and ".layers." not in path)
    whole = [Slip(slip.name, slip.delta, slip.in_layers) for slip in all_layers if not slip.name.startswith("norms:")]
    if "norms:norms left out" in summed:
        whole.append(Slip("norms:norms left out", summed["norms:norms left out"] - outside_norms))
    scopes = [Scope("the whole model", layers_total, count.total - layers_total, tuple(head + whole))]
    if not groups:
        return scopes
    first, slips = groups[0], layer_slips[0]
    scopes += [Scope("one layer", first.value, 0, tuple(slips)), Scope("all the layers", layers_total, 0, all_layers)]
    for component in first.children:
        if component.key not in ("attention", "ffn"):
            continue
        kinds = ("gqa", "biases") if component.key == "attention" else ("ffn",)
        own = tuple(slip for slip in slips if slip.name.split(":")[0] in kinds)
        over = sum(child.total * group.repeat for group in groups for child in group.children
                   if child.key == component.key)
        scopes += [Scope(f"one layer's {component.label}", component.value, 0, own),
                   Scope(f"the {component.label} of all the layers", over, 0,
                         tuple(Slip(slip.name, summed[slip.name]) for slip in own))]
    return scopes


def _layer_slips(layer_group: Term) -> list[Slip]:
    slips: list[Slip] = []
    leaves = list(layer_group.leaves())
    biases = sum(term.value * n for _, term, n in leaves if "bias" in term.key) // layer_group.repeat
    norms = sum(term.value * n for _, term, n in leaves if "norm" in term.key) // layer_group.repeat
    if biases:
        slips.append(Slip("biases:biases left out", -biases))
    if norms:
        slips.append(Slip("norms:norms left out", -norms))
    for component in layer_group.children:
        matrices = {c.key: c for c in component.children if c.key in NOTES_ATTENTION}
        if len(matrices) == len(NOTES_ATTENTION):
            actual = sum(term.value for term in matrices.values())
            bindings = {k: v for term in matrices.values() for k, v in term.bindings.items()}
            hidden, heads, kv, width = (bindings.get(k, 0) for k in ("H", "n_h", "n_kv", "d"))
            full = 2 * hidden * heads * width + 2 * hidden * heads * width
            if kv and kv < heads:
                slips.append(Slip("gqa:GQA ignored (K and V as large as Q)", full - actual))
                if heads * width == hidden and kv != heads // kv:
                    misread = 2 * hidden * hidden + 2 * hidden * hidden // kv
                    slips.append(Slip(f"gqa:the group size misread as {kv} (the K/V heads), not {heads // kv}",
                                      misread - actual))
        if component.key == "ffn" and _matrices(component.children):
            width = component.children[0].value
            if len(component.children) == 3:
                slips.append(Slip("ffn:the FFN taken as 2 matrices (a gated one has 3)", -width))
            else:
                slips.append(Slip("ffn:the FFN taken as 3 matrices (a plain one has 2)", width))
    return slips
