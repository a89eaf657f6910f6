"""llama.cpp's quantization mixes: which ggml type `llama-quantize` gives each tensor of a GGUF.

A port of src/llama-quant.cpp at the release in `ggml.REVISION` (LQ:line below): the file
types `llama-quantize` offers (tools/quantize/quantize.cpp QUANT_OPTIONS), the type each one
defaults to, and `llama_tensor_get_type` — output and token embedding, attn_v with its GQA and
70B bumps, ffn_down's `use_more_bits` layers, the MoE rules, the fallback when a row is not a
whole number of blocks. Pure: a list of (name, shape, source type) in, a type per tensor out.
"""

from __future__ import annotations

import re
from functools import lru_cache

from llmcalc.ggml import GGML_TYPES, GgmlType
from llmcalc.records import record

# llama-quantize's file types (QUANT_OPTIONS) → (ftype name, default ggml type; LQ:787-828).
MIXES: dict[str, tuple[str, str]] = {
    "q4_0": ("Q4_0", "q4_0"), "q4_1": ("Q4_1", "q4_1"), "mxfp4_moe": ("MXFP4_MOE", "mxfp4"),
    "q5_0": ("Q5_0", "q5_0"), "q5_1": ("Q5_1", "q5_1"),
    "iq2_xxs": ("IQ2_XXS", "iq2_xxs"), "iq2_xs": ("IQ2_XS", "iq2_xs"), "iq2_s": ("IQ2_S", "iq2_xs"),
    "iq2_m": ("IQ2_M", "iq2_s"), "iq1_s": ("IQ1_S", "iq1_s"), "iq1_m": ("IQ1_M", "iq1_m"),
    "tq1_0": ("TQ1_0", "tq1_0"), "tq2_0": ("TQ2_0", "tq2_0"), "q2_k": ("Q2_K", "q2_k"), "q2_k_s": ("Q2_K_S", "q2_k"),
    "iq3_xxs": ("IQ3_XXS", "iq3_xxs"), "iq3_s": ("IQ3_S", "iq3_s"), "iq3_m": ("IQ3_M", "iq3_s"),
    "iq3_xs": ("IQ3_XS", "iq3_s"), "q3_k_s": ("Q3_K_S", "q3_k"), "q3_k_m": ("Q3_K_M", "q3_k"),
    "q3_k_l": ("Q3_K_L", "q3_k"), "iq4_nl": ("IQ4_NL", "iq4_nl"), "iq4_xs": ("IQ4_XS", "iq4_xs"),
    "q4_k_s": ("Q4_K_S", "q4_k"), "q4_k_m": ("Q4_K_M", "q4_k"), "q5_k_s": ("Q5_K_S", "q5_k"),
    "q5_k_m": ("Q5_K_M", "q5_k"), "q6_k": ("Q6_K", "q6_k"), "q8_0": ("Q8_0", "q8_0"),
    "f16": ("F16", "f16"), "bf16": ("BF16", "bf16"), "f32": ("F32", "f32"),
}
# QUANT_OPTIONS' other names for the same file types.
MIX_ALIASES = {"q3_k": "q3_k_m", "q4_k": "q4_k_m", "q5_k": "q5_k_m"}
# llama_ftype values (include/llama.h), as general.file_type records them in a GGUF.
FILE_TYPES = {
    "F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11,
    "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18,
    "IQ2_XXS": 19, "IQ2_XS": 20, "Q2_K_S": 21, "IQ3_XS": 22, "IQ3_XXS": 23, "IQ1_S": 24, "IQ4_NL": 25,
    "IQ3_S": 26, "IQ3_M": 27, "IQ2_S": 28, "IQ2_M": 29, "IQ4_XS": 30, "IQ1_M": 31, "BF16": 32, "TQ1_0": 36,
    "TQ2_0": 37, "MXFP4_MOE": 38,
}
# Target types llama-quantize refuses to write without an importance matrix (LQ:762-781).
NEEDS_IMATRIX = ("iq3_xxs", "iq2_xxs", "iq2_xs", "iq2_s", "iq1_m", "iq1_s")
# Mixes that cannot be made without an importance matrix: some tensor always gets such a type.
IMATRIX_MIXES = ("iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq2_m", "iq3_xxs", "iq3_xs", "q2_k_s")
_IQ12 = ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M")


class MixError(ValueError):
    """A tensor llama-quantize would refuse (no fallback type, an importance matrix needed)."""


@record(eq=False)
class Hparams:
    """What the rules read of a model (LQ §5): llama.cpp's arch name, n_layer = block_count,
    layer 0's heads, the expert count, and whether llama.cpp classes it LLM_TYPE_70B."""

    arch: str
    n_layer: int
    n_head: int
    n_head_kv: int
    n_expert: int = 0
    type_70b: bool = False

    @property
    def n_gqa(self) -> int:  # llama-hparams.cpp n_gqa(0): integer division
        return self.n_head // self.n_head_kv if self.n_head_kv else 0

    @classmethod
    def of(cls, arch: str, n_layer: int, n_head: int, n_head_kv: int, n_expert: int) -> Hparams:
        """LLM_TYPE_70B as llama-model.cpp load_hparams sets it: llama with 80 layers, GQA and not
        8 experts; qwen2 and olmo with 80 layers (LQ §5)."""
        type_70b = n_layer == 80 and ((arch == "llama" and n_expert != 8 and n_head != n_head_kv)
                                      or arch in ("qwen2", "qwen2vl", "olmo"))
        return cls(arch, n_layer, n_head, n_head_kv, n_expert, type_70b)


@record(eq=False)
class Choice:
    type: GgmlType
    reason: str


@record(eq=False, frozen=False)
class _State:  # quantize_state_impl (LQ:164-198)
    n_attention_wv: int = 0
    n_layer: int = 0
    i_attention_wv: int = 0
    i_ffn_down: int = 0
    i_ffn_gate: int = 0
    i_ffn_up: int = 0
    tied: bool = True
    imatrix: bool = False


@lru_cache(maxsize=8192)  # every mix asks again about the same few hundred names
def category(name: str) -> str:
    """LQ:116-151, in its order (substring tests)."""
    if name == "output.weight":
        return "output"
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return "token_embd"
    for key, cat in (("attn_qkv.weight", "attn_qkv"), ("attn_kv_b.weight", "attn_kv_b"), ("attn_v.weight", "attn_v"),
                     ("attn_k.weight", "attn_k"), ("attn_q.weight", "attn_q"), ("attn_output.weight", "attn_output"),
                     ("ffn_up", "ffn_up"), ("ffn_gate", "ffn_gate"), ("ffn_down", "ffn_down")):
        if key in name:
            return cat
    return "other"


def _attn_v_like(cat: str) -> bool:  # LQ:154-158
    return cat in ("attn_v", "attn_qkv", "attn_kv_b")


_KEPT_AS_CONVERTED = (
    "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
    "shortconv.conv.weight", "attn_rel_b.weight", ".position_embd.",
    *(f"time_mix_{part}.weight" for part in ("first", "w0", "w1", "w2", "v0", "v1", "v2", "a0", "a1", "a2", "g1", "g2",
                                              "decay_w1", "decay_w2", "lerp_fused")))


@lru_cache(maxsize=8192)
def quantizable(name: str, shape: tuple[int, ...]) -> bool:
    """LQ:289-350 tensor_allows_quantization: 2-D and larger weights, except norms, routers and
    a few tensors llama.cpp keeps as converted."""
    if _dims(shape) < 2 or not name.endswith("weight"):
        return False
    return (not any(part in name for part in _KEPT_AS_CONVERTED)
            and name not in ("position_embd.weight", "token_types.weight"))


def _dims(shape: tuple[int, ...]) -> int:  # ggml_n_dims: trailing 1s do not count
    dims = len(shape)
    while dims > 1 and shape[dims - 1] == 1:
        dims -= 1
    return dims


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """LQ:412-414, with C++'s % (it truncates toward zero; Python's floors)."""
    offset = i_layer - n_layers // 8
    remainder = abs(offset) % 3 * (1 if offset >= 0 else -1)
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or remainder == 2


# A run of tensors in a Listing: (start, stop) in its tensors, the layer (-1: not a layer's
# tensor), the layer's kind (-1: none; runs of one kind hold the same tensors past `blk.N.`), and
# how many of its tensors each counter of the rules counts (attn_v-like, ffn_down, ffn_gate, ffn_up).
Run = tuple[int, int, int, int, tuple[int, int, int, int]]
# A run's tensors (start, stop in the Listing's tensors) and the type each gets. Runs decided alike
# share one list of choices: a caller may count a list once however many runs hold it.
Decided = tuple[int, int, list[Choice]]


@record(eq=False)
class Listing:
    """A model's tensors in the order llama-quantize reads them, with what every mix asks of them
    worked out once: what `plan` takes."""

    tensors: list[tuple[str, tuple[int, ...], str]]
    runs: list[Run]  # each layer's tensors, and each other tensor alone
    n_attention_wv: int  # LQ:980-993, counted before any tensor is quantized
    tied: bool  # no output.weight: the token embedding is the output


def in_order(tensors: list[tuple[str, tuple[int, ...], str]]) -> Listing:
    """The tensors — (GGUF name, shape with the row length first, type as converted) — in the
    order llama-quantize reads them, cut into runs, so that a model planned under every mix is
    sorted once."""
    ordered = sorted(tensors, key=lambda t: _order(t[0]))
    runs: list[Run] = []
    kinds: dict[tuple[tuple[str, tuple[int, ...], str], ...], int] = {}
    start = 0
    while start < len(ordered):
        layer = _order(ordered[start][0])[0]
        stop = start + 1
        if layer >= 0:
            prefix = f"blk.{layer}."
            while stop < len(ordered) and _order(ordered[stop][0])[0] == layer:
                stop += 1
            kind = kinds.setdefault(tuple((name.removeprefix(prefix), shape, source)
                                          for name, shape, source in ordered[start:stop]), len(kinds))
        else:
            kind = -1
        cats = [category(name) for name, _, _ in ordered[start:stop]]
        counted = (sum(map(_attn_v_like, cats)), cats.count("ffn_down"), cats.count("ffn_gate"), cats.count("ffn_up"))
        runs.append((start, stop, layer, kind, counted))
        start = stop
    cats = [category(name) for name, _, _ in ordered]
    return Listing(ordered, runs, sum(map(_attn_v_like, cats)), "output" not in cats)


def plan(listing: Listing, hp: Hparams, mix: str, imatrix: bool) -> list[Decided]:
    """Each tensor's type under `mix`, run by run, in the order llama-quantize writes them
    (LQ:834-1265); `each_tensor` lists them one by one.

    A layer whose tensors are those of an earlier layer, at positions the rules cannot tell apart
    (`_position` of each counter it advances and of its index), gets that layer's types without
    asking the rules again: most layers of a model are decided by one of a handful."""
    ftype, default = MIXES[mix]
    state = _State(n_layer=hp.n_layer, imatrix=imatrix, n_attention_wv=listing.n_attention_wv, tied=listing.tied)
    default_type = GGML_TYPES[default]
    tensors = listing.tensors
    planned: list[Decided] = []
    decided: dict[tuple[int, tuple[tuple[bool, ...], ...]], tuple[list[Choice], tuple[int, int, int, int]]] = {}
    for start, stop, layer, kind, counted in listing.runs:
        before = (state.i_attention_wv, state.i_ffn_down, state.i_ffn_gate, state.i_ffn_up)
        if kind >= 0:
            key = (kind, _positions(before, counted, layer, hp.n_layer, listing.n_attention_wv))
            known = decided.get(key)
            if known is not None:
                choices, (attention_wv, ffn_down, ffn_gate, ffn_up) = known
                state.i_attention_wv += attention_wv
                state.i_ffn_down += ffn_down
                state.i_ffn_gate += ffn_gate
                state.i_ffn_up += ffn_up
                planned.append((start, stop, choices))
                continue
        choices = [_decide(state, hp, mix, ftype, default_type, name, shape, source)
                   for name, shape, source in tensors[start:stop]]
        planned.append((start, stop, choices))
        if kind >= 0:
            decided[key] = (choices, (state.i_attention_wv - before[0], state.i_ffn_down - before[1],
                                      state.i_ffn_gate - before[2], state.i_ffn_up - before[3]))
    return planned


def each_tensor(listing: Listing, planned: list[Decided]) -> list[tuple[str, tuple[int, ...], Choice]]:
    """(name, shape, type chosen) of every tensor of a plan, in order."""
    tensors = listing.tensors
    return [(name, shape, choice) for start, stop, choices in planned
            for (name, shape, _), choice in zip(tensors[start:stop], choices)]


def _decide(state: _State, hp: Hparams, mix: str, ftype: str, default: GgmlType, name: str,
            shape: tuple[int, ...], source: str) -> Choice:
    if not quantizable(name, shape):
        return _choice(source, "kept as converted: not a quantized tensor (1-D, norm, router)")
    choice = _choose(state, hp, ftype, default, name, shape)
    if not state.imatrix and _needs_imatrix(name, choice.type.name, ftype):
        raise MixError(f"{mix}: {name} would be {choice.type.name}, which llama-quantize writes only "
                       "with an importance matrix (--imatrix)")
    return choice


@lru_cache(maxsize=4096)  # every mix asks again about the same layers at the same counters
def _positions(counters: tuple[int, int, int, int], counted: tuple[int, int, int, int], layer: int, n_layer: int,
               n_attention_wv: int) -> tuple[tuple[bool, ...], ...]:
    """What the rules can ask of a run: the position of each counter value its tensors read, and
    of its layer index (MoE rules read the index from the name)."""
    return (_position(layer, n_layer, n_attention_wv),
            *(_position(counter + step, n_layer, n_attention_wv)
              for counter, count in zip(counters, counted) for step in range(count)))


@lru_cache(maxsize=4096)
def _position(index: int, n_layer: int, n_attention_wv: int) -> tuple[bool, ...]:
    """Everything the rules ask of a layer index or counter: whether it is a valid layer (LQ:416-430),
    among the first two or four, the first 1/16 or 1/8 or the last 1/8, and `use_more_bits` of the
    layers and of the attn_v count (LQ:412-414). Two runs of the same tensors at positions equal in
    all of it get the same types; a rule that asks something else of a counter must add it here
    (tests/test_quant.py plans every mix with and without this and compares)."""
    return (0 <= index < n_layer, index < 2, index < 4, index < n_layer // 16, index < n_layer // 8,
            index >= 7 * n_layer // 8, use_more_bits(index, n_layer), use_more_bits(index, n_attention_wv))


def _needs_imatrix(name: str, chosen: str, ftype: str) -> bool:
    """LQ:762-781 tensor_requires_imatrix."""
    if category(name) in ("output", "token_embd"):
        return False
    return chosen in NEEDS_IMATRIX or (chosen == "q2_k" and ftype == "Q2_K_S")


@lru_cache(maxsize=8192)
def _order(name: str) -> tuple[int, str]:
    """llama-model-loader's weight_name_comparer: (layer from `blk.%d.`, or -1; name)."""
    match = re.match(r"blk\.([+-]?\d+)", name)
    return (int(match.group(1)) if match else -1, name)


def _choose(state: _State, hp: Hparams, ftype: str, default: GgmlType, name: str,
            shape: tuple[int, ...]) -> Choice:
    """LQ:656-698 llama_tensor_get_type, without --pure, overrides or --tensor-type."""
    if not default.block_values > 1:  # F16, BF16, F32: no mix rules
        return _choice(default.name, f"{ftype}: every weight")
    chosen, reason = _rules(state, hp, ftype, default.name, name, shape)
    return _fallback(name, shape, chosen, reason)


def _fallback(name: str, shape: tuple[int, ...], chosen: str, reason: str) -> Choice:
    """LQ:357-403: a row that is not a whole number of blocks takes a type with smaller blocks."""
    target = GGML_TYPES[chosen]
    if shape[0] % target.block_values == 0:
        return _choice(chosen, reason)
    if chosen in ("iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq3_xxs", "iq3_s", "iq4_xs"):
        other = "iq4_nl"
    elif chosen in ("q2_k", "q3_k", "tq1_0", "tq2_0"):
        other = "q4_0"
    elif chosen in ("q4_k", "q5_k", "q6_k"):
        other = {"q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0"}[chosen]
    else:
        raise MixError(f"{name}: rows of {shape[0]:,} values are not whole {chosen} blocks of "
                       f"{target.block_values}, and llama-quantize has no fallback for {chosen}")
    if shape[0] % GGML_TYPES[other].block_values:
        other = "f16"
    return _choice(other, f"{reason}; rows of {shape[0]:,} are not whole {chosen} blocks of {target.block_values}: "
                          f"{other} instead")


@lru_cache(maxsize=4096)  # the same few dozen (type, why) pairs for every layer of every mix
def _choice(ggml_type: str, reason: str) -> Choice:
    return Choice(GGML_TYPES[ggml_type], reason)


def _rules(state: _State, hp: Hparams, ftype: str, new: str, name: str, shape: tuple[int, ...]) -> tuple[str, str]:
    """LQ:406-653 llama_tensor_get_type_impl: (type, why)."""
    cat = category(name)
    n_expert = hp.n_expert

    def layer(counter: str) -> tuple[int, int]:  # LQ:416-430
        index = getattr(state, counter)
        if max(1, n_expert) > 1:
            match = re.match(r"blk\.(\d+)\.", name)
            if not match or not 0 <= int(match.group(1)) < state.n_layer:
                raise MixError(f"{name}: no layer index in [0, {state.n_layer}) for an MoE tensor")
            index = int(match.group(1))
        return index, state.n_layer

    if cat == "output" or (state.tied and cat == "token_embd"):  # LQ:434-455
        what = "output" if cat == "output" else "tied token embedding (the output)"
        if ftype == "MXFP4_MOE":
            return "q8_0", f"{what}: q8_0 under MXFP4_MOE"
        if hp.arch == "falcon" or shape[0] % GGML_TYPES[new].block_values:
            return "q8_0", f"{what}: q8_0 (Falcon, or rows not whole blocks)"
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "q5_k", f"{what}: q5_k for the 1-3 bit i-quant mixes"
        if new != "q8_0":
            return "q6_k", f"{what}: q6_k"
        return new, f"{what}: {new}"
    if ftype == "MXFP4_MOE":  # LQ:456-463
        if len(shape) > 2 and shape[2] > 1:
            return "mxfp4", "MoE expert weights: mxfp4"
        return "q8_0", "not an expert weight: q8_0 under MXFP4_MOE"
    if cat == "token_embd":  # LQ:464-481
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "q2_k", "token embedding: q2_k"
        if ftype in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "iq3_s", "token embedding: iq3_s"
        if ftype in ("TQ1_0", "TQ2_0"):
            return "q4_k", "token embedding: q4_k"
        return new, f"token embedding: {new}"
    if ftype in _IQ12:  # LQ:482-505
        if _attn_v_like(cat):
            state.i_attention_wv += 1
            if hp.n_gqa >= 4 or n_expert >= 4:
                return "q4_k", "attn_v: q4_k (GQA ≥ 4 or ≥ 4 experts)"
            return ("iq3_s" if ftype in ("IQ2_S", "IQ2_M") else "q2_k"), "attn_v: more bits"
        if n_expert == 8 and cat == "attn_k":
            return "q4_k", "attn_k of an 8-expert model: q4_k"
        if cat == "ffn_down":
            first = state.i_ffn_down < state.n_layer // 8
            state.i_ffn_down += 1
            if first:
                return ("iq3_s" if ftype in ("IQ2_S", "IQ2_M") else "q2_k"), "ffn_down, first 1/8: more bits"
            return new, f"ffn_down: {new}"
        if cat == "attn_output":
            if n_expert == 8:
                return "q5_k", "attn_output of an 8-expert model: q5_k"
            if ftype in ("IQ1_S", "IQ1_M"):
                return "iq2_xxs", "attn_output: iq2_xxs"
            if ftype in ("IQ2_S", "IQ2_M"):
                return "iq3_s", "attn_output: iq3_s"
        return new, f"{cat}: {new}"
    if _attn_v_like(cat):  # LQ:506-543
        return _attn_v(state, hp, ftype, new)
    if cat == "attn_k":  # LQ:544-555
        if n_expert == 8:
            return "q8_0", "attn_k of an 8-expert model: q8_0"
        if ftype == "IQ3_XS":
            return "iq3_xxs", "attn_k: iq3_xxs"
        if ftype == "IQ3_XXS":
            return "iq2_s", "attn_k: iq2_s"
        return new, f"attn_k: {new}"
    if cat == "attn_q":  # LQ:556-562
        if ftype == "IQ3_XS":
            return "iq3_xxs", "attn_q: iq3_xxs"
        if ftype == "IQ3_XXS":
            return "iq2_s", "attn_q: iq2_s"
        return new, f"attn_q: {new}"
    if cat == "ffn_down":  # LQ:563-607
        i_layer, n_layer = layer("i_ffn_down")
        state.i_ffn_down += 1
        return _ffn_down(state, hp, ftype, new, i_layer, n_layer)
    if cat == "attn_output":  # LQ:608-627
        return _attn_output(hp, ftype, new)
    if cat in ("ffn_gate", "ffn_up"):  # LQ:635-650
        counter = f"i_{cat}"
        i_layer, n_layer = layer(counter)
        setattr(state, counter, getattr(state, counter) + 1)
        if ftype == "IQ3_XS" and n_layer // 8 <= i_layer < 7 * n_layer // 8:
            return "iq3_xxs", f"{cat}, middle layers: iq3_xxs"
        return new, f"{cat}: {new}"
    return new, f"{new}"


def _attn_v(state: _State, hp: Hparams, ftype: str, new: str) -> tuple[str, str]:
    gqa = hp.n_gqa
    more = f"attn_v: more bits ({new} → "
    chosen, why = new, f"attn_v: {new}"
    if ftype == "Q2_K":
        chosen = "q4_k" if gqa >= 4 else "q3_k"
        why = more + f"{chosen}{', GQA ≥ 4' if gqa >= 4 else ''})"
    elif ftype == "Q2_K_S" and gqa >= 4:
        chosen, why = "q4_k", more + "q4_k, GQA ≥ 4)"
    elif ftype == "IQ3_XXS":
        chosen = "q4_k" if gqa >= 4 else ("iq3_xxs" if state.imatrix else "iq3_s")
        why = more + f"{chosen})"
    elif ftype in ("IQ3_XS", "IQ3_S") and gqa >= 4:
        chosen, why = "q4_k", more + "q4_k, GQA ≥ 4)"
    elif ftype == "IQ3_M":
        chosen, why = "q4_k", more + "q4_k)"
    elif ftype == "Q3_K_M":
        chosen = "q5_k" if state.i_attention_wv < 2 else "q4_k"
        why = more + f"{chosen}{', first two' if chosen == 'q5_k' else ''})"
    elif ftype == "Q3_K_L":
        chosen, why = "q5_k", more + "q5_k)"
    elif ftype in ("IQ4_NL", "IQ4_XS") and gqa >= 4:
        chosen, why = "q5_k", more + "q5_k, GQA ≥ 4)"
    elif ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(state.i_attention_wv, state.n_attention_wv):
        chosen, why = "q6_k", more + "q6_k, use_more_bits layer)"
    elif ftype == "Q4_K_S" and state.i_attention_wv < 4:
        chosen, why = "q5_k", more + "q5_k, first four)"
    if hp.type_70b and chosen in ("q3_k", "q4_k"):  # LQ:532-537
        chosen, why = "q5_k", why + "; q5_k in a 70B-class model"
    if hp.n_expert == 8:  # LQ:538-542
        chosen, why = "q8_0", "attn_v of an 8-expert model: q8_0"
    state.i_attention_wv += 1
    return chosen, why


def _ffn_down(state: _State, hp: Hparams, ftype: str, new: str, i: int, n: int) -> tuple[str, str]:
    falcon = hp.arch == "falcon"
    first8, first16 = i < n // 8, i < n // 16
    more = use_more_bits(i, n)
    rule: tuple[str, str] | None = None
    if ftype == "Q2_K":
        rule = ("q3_k", "ffn_down: q3_k")
    elif ftype == "Q2_K_S":
        rule = ("q4_k", "ffn_down, first 1/8: q4_k") if first8 else None
    elif ftype == "IQ3_XXS" and not state.imatrix:
        rule = ("q4_k", "ffn_down, first 1/8: q4_k") if first8 else ("q3_k", "ffn_down: q3_k (no imatrix)")
    elif ftype == "Q3_K_M":
        if first16:
            rule = ("q5_k", "ffn_down, first 1/16: q5_k")
        elif not falcon or more:
            rule = ("q4_k", "ffn_down: q4_k")
        else:
            rule = ("q3_k", "ffn_down: q3_k")
    elif ftype == "IQ3_M" and (first8 or (hp.n_expert == 8 and more)):
        rule = ("q4_k", "ffn_down: q4_k")
    elif ftype == "Q3_K_L":
        rule = ("q4_k", "ffn_down: q4_k (Falcon)") if falcon else ("q5_k", "ffn_down: q5_k")
    elif ftype == "Q4_K_M":
        if falcon:
            rule = (("q6_k", "ffn_down, first 1/16: q6_k") if first16 else
                    ("q5_k", "ffn_down, use_more_bits layer: q5_k") if more else ("q4_k", "ffn_down: q4_k"))
        elif more:
            rule = ("q6_k", "ffn_down, use_more_bits layer: q6_k")
    elif first8 and ftype in ("IQ4_NL", "IQ4_XS") and not state.imatrix:
        rule = ("q5_k", "ffn_down, first 1/8: q5_k (no imatrix)")
    elif ftype == "Q5_K_M" and more:
        rule = ("q6_k", "ffn_down, use_more_bits layer: q6_k")
    elif ftype == "Q4_K_S" and not falcon and first8:
        rule = ("q5_k", "ffn_down, first 1/8: q5_k")
    elif ftype in ("Q4_0", "Q5_0") and state.imatrix and first8:
        rule = ("q4_1" if ftype == "Q4_0" else "q5_1", "ffn_down, first 1/8: more bits (imatrix)")
    return rule if rule is not None else (new, f"ffn_down: {new}")


def _attn_output(hp: Hparams, ftype: str, new: str) -> tuple[str, str]:
    if hp.arch == "falcon":
        return ("q4_k", "attn_output: q4_k") if ftype == "Q3_K_L" else (new, f"attn_output: {new}")
    if hp.n_expert == 8:
        if ftype in ("Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S", "IQ3_M",
                     "IQ4_XS"):
            return "q5_k", "attn_output of an 8-expert model: q5_k"
        return new, f"attn_output: {new}"
    bumped = {"Q2_K": "q3_k", "IQ3_XXS": "iq3_s", "Q3_K_M": "q4_k", "Q3_K_L": "q5_k", "IQ3_M": "q4_k"}.get(ftype)
    return (bumped, f"attn_output: {bumped}") if bumped else (new, f"attn_output: {new}")


def forget_model() -> None:
    """Empty the planner's caches. They hold one model's tensor names, shapes and layer positions,
    asked about again by each of its mixes; once its mixes are planned they only hold memory (190 KB
    of `quant llama3.1-8b`'s peak, while it prints its table)."""
    for cache in (category, quantizable, _positions, _position, _order, _choice):
        cache.cache_clear()
