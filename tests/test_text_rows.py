"""Number-to-text rules and the one summarising policy of display rows, at their edges."""

from __future__ import annotations

import pytest

from llmcalc.params import count_params
from llmcalc.presets import resolve
from llmcalc.rows import MAX_LAYER_GROUPS_SHOWN, summarised, term_rows
from llmcalc.terms import Term, absent, group, leaf
from llmcalc.text import binary_bytes, both_units, cell, human_count, plural, product, ratio, relative, share, signed


@pytest.mark.parametrize("value, text", [
    (1023, "1023 B"), (1024, "1.00 KiB"), (2**20 - 1, "1024.00 KiB"), (2**20, "1.00 MiB"),
    (2**30, "1.00 GiB"), (2**40 - 1, "1024.00 GiB"), (2**40, "1.00 TiB"), (3 * 2**40, "3.00 TiB"),
])
def test_binary_bytes_at_each_unit(value: int, text: str) -> None:
    assert binary_bytes(value) == text


@pytest.mark.parametrize("value, text", [
    (999, "999"), (1000, "1.00 K"), (7_241_732_096, "7.24 B"), (10**12, "1.00 T"), (-2_000_000, "-2.00 M"),
])
def test_human_count(value: int, text: str) -> None:
    assert human_count(value) == text


def test_small_rules() -> None:
    assert both_units(536_870_912) == "536,870,912 B = 0.54 GB = 0.50 GiB"
    assert share(1, 4) == "25.0 %" and share(1, 0) == "—"
    assert relative(110, 100) == "+10.0 %" and relative(90, 100) == "-10.0 %"
    assert signed(-805_306_368) == "−805,306,368" and signed(266_240) == "+266,240"
    assert product(5, 1) == "5" and product(5, 2) == "5 × 2 = 10"
    assert plural(1, "sequence") == "1 sequence" and plural(4, "sequence") == "4 sequences"
    assert cell(None) == "—" and cell(1234) == "1,234" and cell("MHA") == "MHA"
    assert ratio(20, 2) == "×10.0" and ratio(3, 2) == "×1.50" and ratio(1, 0) == "" and ratio("x", 1) == ""
    assert ratio(True, 1) == ""  # a flag is not a number


def _stack(groups: int) -> Term:
    layers = [group(f"layers.{index}", f"layers {index}", [leaf("w", "w", "H", {"H": index + 1})], repeat=2)
              for index in range(groups)]
    return group("model", "m", [group("decoder", "decoder", layers)])


def test_summarising_starts_past_the_limit() -> None:
    assert not summarised(_stack(MAX_LAYER_GROUPS_SHOWN).children[0])
    assert summarised(_stack(MAX_LAYER_GROUPS_SHOWN + 1).children[0])
    summed = [row for row in term_rows(_stack(MAX_LAYER_GROUPS_SHOWN + 1)) if row is not None]
    # One row per component, its value summed over every layer (2 of each group): 2 × (1 + ... + 5)
    assert [(row.name, row.value, row.per_unit) for row in summed] == [("decoder.w", 30, "varies")]


def test_rows_of_a_layer_group_and_a_tied_head() -> None:
    # Gemma-2B: 18 identical layers, H = 2,048, 8 query heads of 256, tied head.
    rows = [row for row in term_rows(count_params(resolve("gemma-2b")).root) if row is not None]
    heading = next(row for row in rows if row.heading)
    assert heading.name == "decoder layers 0-17" and heading.per_unit == "× 18"
    q_proj = next(row for row in rows if row.name.endswith("attention.q_proj"))
    assert q_proj.per_unit == "4,194,304 × 18" and q_proj.value == 18 * 2048 * 2048
    head = next(row for row in rows if row.reason)
    assert (head.name, head.value, head.reason) == ("lm_head.weight (tied)", 0, "tied")


def test_two_instances_are_shown_as_two() -> None:
    rows = [row for row in term_rows(group("model", "m", [group("decoder", "d", [
        group("layers.0-1", "layers 0-1", [leaf("w", "w", "H", {"H": 3})], repeat=2)])])) if row is not None]
    assert [(row.per_unit, row.value) for row in rows] == [("× 2", 6), ("3 × 2", 6)]


def test_absent_needs_a_known_reason() -> None:
    with pytest.raises(ValueError):
        absent("weight", "LM head", "gone", "no reason")


def test_a_summarised_hybrid_counts_each_component_over_the_layers_that_have_it() -> None:
    # Jamba-1.5-Mini: 28 Mamba layers, 4 attention layers, 16 MoE and 16 dense FFNs (its
    # config's attn_layer_period 8 / offset 4, expert_layer_period 2 / offset 1).
    from llmcalc.params import count_params
    from llmcalc.presets import resolve
    from llmcalc.rows import term_rows

    rows = {row.name: row for row in term_rows(count_params(resolve("jamba-1.5-mini")).root) if row is not None}
    assert rows["decoder.mamba.in_proj"].formula == "Σ over 28 layers"
    assert rows["decoder.attention.q_proj"].formula == "Σ over 4 layers"
    assert rows["decoder.moe.router"].formula == "Σ over 16 layers"
    assert rows["decoder.norms"].formula == "Σ over 32 layers"
