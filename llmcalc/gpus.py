"""The GPU catalogue: memory, bandwidth and dense throughput, each from its datasheet. Data.

Capacities are bytes. A datasheet's "80GB" is not the number of bytes a program can
allocate: where the device's own report is published (`torch.cuda.mem_get_info`,
`nvidia-smi`), that is the capacity, and `memory_note` says where it comes from; otherwise
the datasheet's figure is taken at its word (GB = 10^9 bytes) and the note says so.
Throughputs are dense (an NVIDIA datasheet's "with sparsity" figures are twice these).
"""

from __future__ import annotations

import difflib

from llmcalc.errors import UsageError
from llmcalc.records import record, replace


@record(eq=False)
class GPU:
    id: str
    name: str
    memory_bytes: int
    bandwidth_bytes_per_s: int
    bf16_flops: int | None  # dense bf16/fp16 tensor throughput, FLOP/s (fp32 accumulate); None: unknown
    fp8_flops: int | None = None
    int8_ops: int | None = None
    memory_note: str = ""
    # Unified memory (Apple): the share the GPU may wire by default; the capacity is this share.
    usable_share: float | None = None
    sources: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def capacity_bytes(self) -> int:
        """What the GPU can hold: all of its memory, or the usable share of unified memory."""
        if self.usable_share is None:
            return self.memory_bytes
        return int(self.memory_bytes * self.usable_share)


# macOS lets the GPU wire 3/4 of unified memory above 36 GB (recommendedMaxWorkingSetSize; 2/3 on
# smaller machines; `sudo sysctl iogpu.wired_limit_mb` raises it): ml-explore/mlx PR #64 ("usually
# 0.75 * the total ram"), llama.cpp issue #3213 (96 GB machine: 73728 MB = 72 GiB).
APPLE_USABLE_SHARE = 0.75

CATALOGUE: tuple[GPU, ...] = (
    GPU('h100-sxm', 'NVIDIA H100 SXM5 80GB',
        memory_bytes=85_520_809_984, bandwidth_bytes_per_s=3_350_000_000_000,
        bf16_flops=989_400_000_000_000, fp8_flops=1_978_900_000_000_000, int8_ops=1_978_900_000_000_000,
        memory_note="the driver's total, 81,559 MiB; datasheet: 80GB HBM3",
        sources=("NVIDIA H100 product page/datasheet https://www.nvidia.com/en-us/data-center/h100/ (sparse figures, halved); dense values confirmed by NVIDIA/exemplar-performance README.md @e249aa3c788284d1575379ccf73568c383d4c91e lines 376-382 (BF16 989, FP8 1979) and NVIDIA H100 whitepaper Table 1 (989.4/1978.9); bandwidth stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 484; memory: nvidia-smi in huggingface/diffusers tests/quantization/torchao/README.md: '|   0  NVIDIA H100 80GB HBM3          On  | ... |      2MiB / 81559MiB |'",),
        aliases=('h100', 'h100-80gb', 'h100-sxm5')),
    GPU('h100-pcie', 'NVIDIA H100 PCIe 80GB',
        memory_bytes=85_520_809_984, bandwidth_bytes_per_s=2_000_000_000_000,
        bf16_flops=756_000_000_000_000, fp8_flops=1_513_000_000_000_000, int8_ops=1_513_000_000_000_000,
        memory_note="the driver's total, 81,559 MiB; datasheet: 80GB HBM2e",
        sources=("NVIDIA H100 datasheet (PCIe column, sparse halved); stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 268 (dense: bf16 756, fp8 1513, int8 1513) and line 486 (2.00 TB/s); VladislavDuma/gpu_specs README.md @103f3414c70a935b52b5315fb974f093d966768b line 19; memory: triton-inference-server/tensorrtllm_backend docs/llama.md (nvidia-smi block): '|   0  NVIDIA H100 PCIe               On  | ... |  25169MiB / 81559MiB |'",),
        aliases=('h100pcie',)),
    GPU('h200-sxm', 'NVIDIA H200 SXM 141GB',
        memory_bytes=150_754_820_096, bandwidth_bytes_per_s=4_800_000_000_000,
        bf16_flops=989_400_000_000_000, fp8_flops=1_978_900_000_000_000, int8_ops=1_978_900_000_000_000,
        memory_note="the driver's total, 143,771 MiB; datasheet: 141GB HBM3e",
        sources=("NVIDIA H200 page https://www.nvidia.com/en-us/data-center/h200/ (sparse, halved); stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 264 (dense 989/1979/1979), line 476 (141 GB HBM3e 4.80 TB/s), note 16 line 305; memory: many public nvidia-smi captures, e.g. '|   0  NVIDIA H200                    On  | ... |       0MiB / 143771MiB |' (search-index file 39197542033; also 7376360168, 69500187434)",),
        aliases=('h200',)),
    GPU('b200', 'NVIDIA B200 (HGX/DGX, 1000 W)',
        memory_bytes=192_265_846_784, bandwidth_bytes_per_s=7_700_000_000_000,
        bf16_flops=2_250_000_000_000_000, fp8_flops=4_500_000_000_000_000, int8_ops=4_500_000_000_000_000,
        memory_note="the driver's total, 183,359 MiB; datasheet: 180GB HBM3e (HGX/DGX B200; some NVIDIA docs say 192GB)",
        sources=("NVIDIA/exemplar-performance README.md @e249aa3c788284d1575379ccf73568c383d4c91e lines 376-382 (dense BF16 2250, FP8 4500) and lines 445-447 ('8x B200 180 GB HBM3e', 'Memory bandwidth 7.7 TB/s per GPU'); NVIDIA HGX B200 spec table https://www.nvidia.com/en-us/data-center/hgx/ as reproduced at https://zdszero.github.io/Computer/Artificial_Intelligence/Hardware.html (INT8 9 POPS sparse -> 4.5 dense); stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 260; memory: many public nvidia-smi captures, e.g. '|   0  NVIDIA B200                    On  | ... |       0MiB / 183359MiB |' (search-index file 9174932594; also 69603639138, 8858901986)",),
        aliases=()),
    GPU('a100-sxm-40gb', 'NVIDIA A100 SXM4 40GB',
        memory_bytes=42_949_672_960, bandwidth_bytes_per_s=1_555_000_000_000,
        bf16_flops=312_000_000_000_000, fp8_flops=None, int8_ops=624_000_000_000_000,
        memory_note="the driver's total, 40,960 MiB; datasheet: 40GB HBM2",
        sources=("NVIDIA A100 datasheet https://www.nvidia.com/en-us/data-center/a100/ ; cli99/llm-analysis llm_analysis/gpu_configs/a100-sxm-40gb.json lines 3-8 (@b60b392f); hahnyuan/LLM-Viewer hardwares/hardware_params.py line 10 (@0e78452f); stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 275; memory: nvidia-smi captures: '|   0  NVIDIA A100-SXM4-40GB          On  | ... |   2694MiB / 40960MiB |' (search-index file 66719997942); older driver: '|   0  A100-SXM4-40GB      On   | ... |      3MiB / 40536MiB |' (file 19218568118)",),
        aliases=('a100-40gb',)),
    GPU('a100-sxm-80gb', 'NVIDIA A100 SXM4 80GB',
        memory_bytes=85_899_345_920, bandwidth_bytes_per_s=2_039_000_000_000,
        bf16_flops=312_000_000_000_000, fp8_flops=None, int8_ops=624_000_000_000_000,
        memory_note="the driver's total, 81,920 MiB; datasheet: 80GB HBM2e",
        sources=("NVIDIA A100 datasheet; cli99/llm-analysis llm_analysis/gpu_configs/a100-sxm-80gb.json lines 3-8 (@addee1b6); hahnyuan/LLM-Viewer hardwares/hardware_params.py line 11 (@0e78452f); stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 275 (and line 485 rounds bandwidth to 2.00 TB/s); memory: nvidia-smi: '|   0  NVIDIA A100-SXM4-80GB          Off | ... |  50506MiB / 81920MiB |' (search-index file 48480723662); older: 'NVIDIA A100-SXM... | 0MiB / 81251MiB' (file 69639029129)",),
        aliases=('a100-80gb',)),
    GPU('a100-pcie-80gb', 'NVIDIA A100 PCIe 80GB',
        memory_bytes=85_899_345_920, bandwidth_bytes_per_s=1_935_000_000_000,
        bf16_flops=312_000_000_000_000, fp8_flops=None, int8_ops=624_000_000_000_000,
        memory_note='taken as the A100 80GB driver-reported 81,920 MiB (no PCIe log found); datasheet 80GB HBM2e',
        sources=("NVIDIA A100 datasheet nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf: BFLOAT16 '312 TFLOPS | "
                 "624 TFLOPS*', INT8 '624 TOPS | 1248 TOPS*' (* with sparsity), 1,935 GB/s for 80GB PCIe",),
        aliases=('a100-pcie',)),
    GPU('h100-nvl', 'NVIDIA H100 NVL 94GB (per GPU)',
        memory_bytes=99_961_274_368, bandwidth_bytes_per_s=3_900_000_000_000,
        bf16_flops=835_500_000_000_000, fp8_flops=1_670_500_000_000_000, int8_ops=1_670_500_000_000_000,
        memory_note='99,961,274,368 B as the Linux DRM driver reports it (fastfetch-cli/fastfetch#1658); datasheet 94GB',
        sources=("NVIDIA H100 product page, Technical Specifications, NVL column: 94GB, 3.9TB/s, BF16 1,671*, FP8 "
                 "3,341*, INT8 3,341* (* with sparsity: halved here)",),
        aliases=()),
    GPU('l40s', 'NVIDIA L40S 48GB',
        memory_bytes=48_305_799_168, bandwidth_bytes_per_s=864_000_000_000,
        bf16_flops=362_050_000_000_000, fp8_flops=733_000_000_000_000, int8_ops=733_000_000_000_000,
        memory_note="the driver's total, 46,068 MiB; datasheet: 48GB GDDR6 with ECC",
        sources=("NVIDIA L40S datasheet https://www.nvidia.com/en-us/data-center/l40s/ as reproduced at https://www.mullet.se/product.html?product_id=355414 ; stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 273 (dense 362/733/733) and line 488 (48 GB GDDR6 0.86 TB/s); VladislavDuma/gpu_specs README.md @103f3414c70a935b52b5315fb974f093d966768b line 17; memory: nvidia-smi: '|   0  NVIDIA L40S                    Off | ... |      0MiB / 46068MiB |' (search-index file 53220649453); also VladislavDuma/gpu_specs README.md line 17 '46068'",),
        aliases=()),
    GPU('l4', 'NVIDIA L4 24GB',
        memory_bytes=24_152_899_584, bandwidth_bytes_per_s=300_000_000_000,
        bf16_flops=121_000_000_000_000, fp8_flops=242_500_000_000_000, int8_ops=242_500_000_000_000,
        memory_note="the driver's total, 23,034 MiB; datasheet: 24GB GDDR6",
        sources=("NVIDIA L4 datasheet https://www.nvidia.com/en-us/data-center/l4/ (FP8 485 TF*, BF16 242 TF*, INT8 485 TOPS*, * = with sparsity; halved); VladislavDuma/gpu_specs README.md @103f3414c70a935b52b5315fb974f093d966768b line 16; reseller copy https://store.sourcecode.com/en-us/bg-bucket-compare/125/9820; memory: nvidia-smi: '|   0  NVIDIA L4                      Off | ... |      0MiB / 23034MiB |' (search-index file 54230946978); also VladislavDuma/gpu_specs README.md line 16",),
        aliases=()),
    GPU('a10', 'NVIDIA A10 24GB',
        memory_bytes=24_146_608_128, bandwidth_bytes_per_s=600_000_000_000,
        bf16_flops=125_000_000_000_000, fp8_flops=None, int8_ops=250_000_000_000_000,
        memory_note="the driver's total, 23,028 MiB; datasheet: 24GB GDDR6",
        sources=("NVIDIA A10 datasheet https://www.nvidia.com/en-us/data-center/products/a10-gpu/ ; VladislavDuma/gpu_specs README.md @103f3414c70a935b52b5315fb974f093d966768b line 15; bandwidth/capacity also https://www.baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference/; memory: nvidia-smi: '|   0  NVIDIA A10          On   | ... |      0MiB / 23028MiB |' (search-index file 1264289790); ECC off: '|   0  NVIDIA A10 ... |  Off | 0MiB / 24564MiB' (file 1121137364)",),
        aliases=()),
    GPU('rtx-3090', 'NVIDIA GeForce RTX 3090 24GB',
        memory_bytes=25_769_803_776, bandwidth_bytes_per_s=936_000_000_000,
        bf16_flops=71_200_000_000_000, fp8_flops=None, int8_ops=284_000_000_000_000,
        memory_note="the driver's total, 24,576 MiB; datasheet: 24GB GDDR6X",
        sources=("NVIDIA Ampere GA102 whitepaper Appendix (RTX 3090) https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf and RTX Blackwell whitepaper Table 3 (BF16 FP32-acc 71.2/142.4), as quoted in public notes (search-index files 43555651248, 68387635605, 25156004927); memory: nvidia-smi: '|   0  NVIDIA GeForce RTX 3090        On  | ... |      6MiB / 24576MiB |' (search-index file 40841026101); older: 'GeForce RTX 3090 ... 618MiB / 24234MiB' (file 5491242921)",),
        aliases=('3090', 'rtx3090')),
    GPU('rtx-4090', 'NVIDIA GeForce RTX 4090 24GB',
        memory_bytes=25_757_220_864, bandwidth_bytes_per_s=1_008_000_000_000,
        bf16_flops=165_200_000_000_000, fp8_flops=330_300_000_000_000, int8_ops=660_600_000_000_000,
        memory_note="the driver's total, 24,564 MiB; datasheet: 24GB GDDR6X",
        sources=("NVIDIA Ada GPU Architecture whitepaper v2.1, Appendix A (GeForce RTX 4090) https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf, as quoted in a public benchmark script (search-index file 71252828429); bandwidth: VladislavDuma/gpu_specs README.md line 13; memory: nvidia-smi: '|   0  NVIDIA GeForce RTX 4090        On  | ... |      3MiB / 24564MiB |' (search-index file 42013387667); also VladislavDuma/gpu_specs README.md line 13",),
        aliases=('4090', 'rtx4090')),
    GPU('rtx-5090', 'NVIDIA GeForce RTX 5090 32GB',
        memory_bytes=34_190_917_632, bandwidth_bytes_per_s=1_792_000_000_000,
        bf16_flops=209_500_000_000_000, fp8_flops=419_000_000_000_000, int8_ops=838_000_000_000_000,
        memory_note="the driver's total, 32,607 MiB; datasheet: 32GB GDDR7",
        sources=("NVIDIA RTX Blackwell GPU Architecture whitepaper, Appendix A / Table 3 https://images.nvidia.com/aem-dam/Solutions/geforce/blackwell/nvidia-rtx-blackwell-gpu-architecture.pdf, as quoted in public notes (search-index files 69880469454, 68387635605); INT8 and bandwidth: VladislavDuma/gpu_specs README.md line 14; memory: nvidia-smi: '|   0  NVIDIA GeForce RTX 5090        On  | ... |       0MiB /  32607MiB |' (search-index file 55394374978; also 53942682719)",),
        aliases=('5090', 'rtx5090')),
    GPU('rtx-6000-ada', 'NVIDIA RTX 6000 Ada Generation 48GB',
        memory_bytes=51_527_024_640, bandwidth_bytes_per_s=960_000_000_000,
        bf16_flops=364_200_000_000_000, fp8_flops=728_500_000_000_000, int8_ops=728_500_000_000_000,
        memory_note="the driver's total, 49,140 MiB; datasheet: 48GB GDDR6 with ECC",
        sources=("NVIDIA RTX 6000 Ada datasheet (Tensor performance 1,457 TFLOPS FP8 with sparsity) and RTX PRO Blackwell whitepaper Table 4 (Ada BF16 FP32-acc 364 dense / 728 sparse), as quoted in public notes (search-index file 68387635605); VladislavDuma/gpu_specs README.md line 18 (960 GB/s, 728/1457 FP8 and INT8); memory: nvidia-smi: '|   0  NVIDIA RTX 6000 Ada Gene...    On  | ... Off | 1MiB / 49140MiB' (search-index file 42914656906); ECC on: '... |   30566MiB /  46068MiB | ...' with ECC column '0' (file 27924127611); VladislavDuma/gpu_specs README.md line 18",),
        aliases=('rtx6000-ada', '6000-ada')),
    GPU('mi300x', 'AMD Instinct MI300X 192GB',
        memory_bytes=205_822_885_888, bandwidth_bytes_per_s=5_300_000_000_000,
        bf16_flops=1_307_400_000_000_000, fp8_flops=2_614_900_000_000_000, int8_ops=2_614_900_000_000_000,
        memory_note="the driver's total (rocm-smi VRAM Total Memory), 205,822,885,888 B; datasheet: 192 GB HBM3",
        sources=('AMD ROCm docs, ROCm/ROCm docs/conceptual/gpu-arch/mi300.md @e396b4898f459db094bfd60b876f419f77eb9f09 lines 46-97 (vendor; dense, no sparsity); ROCm/ROCm docs/reference/gpu-arch-specs.rst lines 55-58 (VRAM 192 GiB)',),
        aliases=()),
    GPU('mi325x', 'AMD Instinct MI325X 256GB',
        memory_bytes=274_542_362_624, bandwidth_bytes_per_s=6_000_000_000_000,
        bf16_flops=1_307_400_000_000_000, fp8_flops=2_614_900_000_000_000, int8_ops=2_614_900_000_000_000,
        memory_note="the driver's total (amdgpu mem_info_vram_total), 274,542,362,624 B; datasheet: 256 GB HBM3E",
        sources=('AMD MI325X product page https://www.amd.com/en/products/accelerators/instinct/mi300/mi325x.html ; ROCm/ROCm docs/reference/gpu-arch-specs.rst lines 38-42 (same CDNA3 gfx942, 304 CUs as MI300X); stas00/ml-engineering compute/accelerator/README.md @744d01e18b79512572f64a6bbd8b5f4a725203a7 line 262 and line 471, note 18 line 307',),
        aliases=()),
    GPU('m2-ultra-192gb', 'Apple M2 Ultra (192 GB unified memory)',
        memory_bytes=206_158_430_208, bandwidth_bytes_per_s=800_000_000_000,
        bf16_flops=None, fp8_flops=None, int8_ops=None,
        memory_note='192GB unified memory: all of it, of which the GPU may use 0.75 by default',
        usable_share=APPLE_USABLE_SHARE,
        sources=("Apple newsroom, 'Apple introduces M2 Ultra' (2023-06-05), as reproduced at https://www.thestar.com.my/news/world/2023/06/06/apple-introduces-m2-ultra-chip-for-better-performance",),
        aliases=('m2-ultra',)),
    GPU('m3-max-128gb', 'Apple M3 Max 16-core CPU / 40-core GPU (128 GB)',
        memory_bytes=137_438_953_472, bandwidth_bytes_per_s=400_000_000_000,
        bf16_flops=None, fp8_flops=None, int8_ops=None,
        memory_note='128GB unified memory: all of it, of which the GPU may use 0.75 by default',
        usable_share=APPLE_USABLE_SHARE,
        sources=('Apple M3 Max specs (apple.com MacBook Pro tech specs, Nov 2023), as reproduced at https://macmegasite.com/2024/10/30/m4-max-chip-has-16-core-cpu-40-core-gpu-and-35-increase-in-memory-bandwidth',),
        aliases=('m3-max',)),
    GPU('m4-max-128gb', 'Apple M4 Max 16-core CPU / 40-core GPU (128 GB)',
        memory_bytes=137_438_953_472, bandwidth_bytes_per_s=546_000_000_000,
        bf16_flops=None, fp8_flops=None, int8_ops=None,
        memory_note='128GB unified memory: all of it, of which the GPU may use 0.75 by default',
        usable_share=APPLE_USABLE_SHARE,
        sources=('Apple newsroom M4 Max announcement (2024-10-30), as reproduced at https://www.macrumors.com/2024/10/30/apple-announces-m4-max-chip/',),
        aliases=('m4-max',)),
)


def find_gpu(name: str) -> GPU:
    """A catalogue entry by id or alias (case and `-`/`_`/space insensitive), or a usage error
    with suggestions."""
    key = _key(name)
    for gpu in CATALOGUE:
        if key == _key(gpu.id) or key in (_key(alias) for alias in gpu.aliases):
            return gpu
    names = [gpu.id for gpu in CATALOGUE] + [alias for gpu in CATALOGUE for alias in gpu.aliases]
    close = difflib.get_close_matches(name.strip().lower(), names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "`llmcalc gpus` lists them; --gpu-memory and " \
                                                              "--bandwidth describe another"
    raise UsageError(f"unknown GPU {name!r}; {hint}")


def custom_gpu(base: GPU | None, memory: int | None, bandwidth: int | None, flops: int | None) -> GPU:
    """A catalogue GPU with some figures replaced, or one described by flags alone (memory and
    bandwidth needed; without --flops, the compute side of the roofline is unknown)."""
    if base is None:
        if memory is None or bandwidth is None:
            raise UsageError("a GPU not in the catalogue needs both --gpu-memory and --bandwidth (and --flops "
                             "for prefill time)")
        return GPU("custom", "custom GPU (from flags)", memory, bandwidth, flops,
                   memory_note="--gpu-memory", sources=("command-line flags",))
    if memory is None and bandwidth is None and flops is None:
        return base
    changed = [flag for flag, value in (("--gpu-memory", memory), ("--bandwidth", bandwidth), ("--flops", flops))
               if value is not None]
    return replace(base, name=f"{base.name} ({', '.join(changed)} from flags)",
                   memory_bytes=memory if memory is not None else base.memory_bytes,
                   memory_note="--gpu-memory" if memory is not None else base.memory_note,
                   usable_share=None if memory is not None else base.usable_share,
                   bandwidth_bytes_per_s=bandwidth if bandwidth is not None else base.bandwidth_bytes_per_s,
                   bf16_flops=flops if flops is not None else base.bf16_flops)


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")
