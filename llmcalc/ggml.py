"""ggml's tensor types: the bytes of one block of values, as GGUF files store them.

Data, each entry from ggml's own definitions at llama.cpp release REVISION: the `ggml_type`
enum (ggml/include/ggml.h) for the id, `QK_*`/`QK_K` for the values per block, and the
`block_*` structs of ggml/src/ggml-common.h (with their static_asserts, lines cited) for the
bytes per block; gguf-py's GGML_QUANT_SIZES agree (except Q8_1, which no file holds). A row of n values of a block type takes n / block_values blocks, and n must be a
multiple of block_values (ggml_row_size).
"""

from __future__ import annotations


from llmcalc.records import record

REVISION = "llama.cpp b8495 (commit 7cadbfce, 2026-03-23)"


@record(eq=False)
class GgmlType:
    name: str  # lower case, as `llmcalc quant --format` and GGUF tools spell it
    id: int  # enum ggml_type
    block_values: int
    block_bytes: int

    def row_bytes(self, values: int) -> int:
        """Bytes of one row of `values` values (a multiple of block_values)."""
        return values // self.block_values * self.block_bytes

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.block_bytes / self.block_values


QK_K = 256
GGML_TYPES: dict[str, GgmlType] = {t.name: t for t in (
    GgmlType("f32", 0, 1, 4),  # ggml.c:640 type_traits .type_size = sizeof(float), .blck_size = 1
    GgmlType("f16", 1, 1, 2),  # ggml.c:646 type_traits .type_size = sizeof(ggml_fp16_t)=2, .blck_size = 1
    GgmlType("q4_0", 2, 32, 18),  # ggml-common.h:177 block_q4_0
    GgmlType("q4_1", 3, 32, 20),  # ggml-common.h:190 block_q4_1
    GgmlType("q5_0", 6, 32, 22),  # ggml-common.h:213 block_q5_0
    GgmlType("q5_1", 7, 32, 24),  # ggml-common.h:227 block_q5_1
    GgmlType("q8_0", 8, 32, 34),  # ggml-common.h:234 block_q8_0
    GgmlType("q8_1", 9, 32, 36),  # ggml-common.h:247 block_q8_1
    GgmlType("q2_k", 10, QK_K, 84),  # ggml-common.h:287 block_q2_K
    GgmlType("q3_k", 11, QK_K, 110),  # ggml-common.h:299 block_q3_K
    GgmlType("q4_k", 12, QK_K, 144),  # ggml-common.h:316 block_q4_K
    GgmlType("q5_k", 13, QK_K, 176),  # ggml-common.h:334 block_q5_K
    GgmlType("q6_k", 14, QK_K, 210),  # ggml-common.h:346 block_q6_K
    GgmlType("q8_k", 15, QK_K, 292),  # ggml-common.h:354 block_q8_K
    GgmlType("iq2_xxs", 16, QK_K, 66),  # ggml-common.h:363 block_iq2_xxs
    GgmlType("iq2_xs", 17, QK_K, 74),  # ggml-common.h:371 block_iq2_xs
    GgmlType("iq3_xxs", 18, QK_K, 98),  # ggml-common.h:389 block_iq3_xxs
    GgmlType("iq1_s", 19, QK_K, 50),  # ggml-common.h:408 block_iq1_s
    GgmlType("iq4_nl", 20, 32, 18),  # ggml-common.h:430 block_iq4_nl
    GgmlType("iq3_s", 21, QK_K, 110),  # ggml-common.h:400 block_iq3_s
    GgmlType("iq2_s", 22, QK_K, 82),  # ggml-common.h:380 block_iq2_s
    GgmlType("iq4_xs", 23, QK_K, 136),  # ggml-common.h:438 block_iq4_xs
    GgmlType("i8", 24, 1, 1),  # ggml.c:610 type_traits .type_size = sizeof(int8_t), .blck_size = 1
    GgmlType("i16", 25, 1, 2),  # ggml.c:616 type_traits .type_size = sizeof(int16_t), .blck_size = 1
    GgmlType("i32", 26, 1, 4),  # ggml.c:622 type_traits .type_size = sizeof(int32_t), .blck_size = 1
    GgmlType("i64", 27, 1, 8),  # ggml.c:628 type_traits .type_size = sizeof(int64_t), .blck_size = 1
    GgmlType("f64", 28, 1, 8),  # ggml.c:634 type_traits .type_size = sizeof(double), .blck_size = 1
    GgmlType("iq1_m", 29, QK_K, 56),  # ggml-common.h:416 block_iq1_m
    GgmlType("bf16", 30, 1, 2),  # ggml.c:847 type_traits .type_size = sizeof(ggml_bf16_t)=2, .blck_size = 1
    GgmlType("tq1_0", 34, QK_K, 54),  # ggml-common.h:259 block_tq1_0
    GgmlType("tq2_0", 35, QK_K, 66),  # ggml-common.h:266 block_tq2_0
    GgmlType("mxfp4", 39, 32, 17),  # ggml-common.h:197 block_mxfp4
    GgmlType("nvfp4", 40, 64, 36),  # ggml-common.h:205 block_nvfp4
)}
GGML_TYPES_BY_ID: dict[int, GgmlType] = {t.id: t for t in GGML_TYPES.values()}
