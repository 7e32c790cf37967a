import type { Gpu } from './types.js';

/**
 * Built-in data-center GPU catalog. powerW is the module TDP / max board power from the vendor
 * datasheet. serverOverheadWPerGpu is the rest of the server per GPU (CPUs, NVSwitch/NICs, fans,
 * storage, PSU loss): derived from the vendor's full-system max power where one is published
 * (DGX/NVL72), else ASSUMED and labelled so. Cross-checked against
 * ../shared/data/gpu_datacenter_specs.csv; network switches outside the server are not included.
 */
export const BUILTIN_GPUS: readonly Gpu[] = [
  {
    manufacturer: 'NVIDIA', model: 'H100 SXM', powerW: 700, memoryGb: 80, serverOverheadWPerGpu: 575,
    overheadBasis: 'DGX H100 max system power 10.2 kW / 8 GPUs = 1275 W per GPU, minus 700 W GPU',
    formFactor: 'SXM5 (HGX 8-GPU)', releaseYear: 2022, cooling: 'air',
    source: 'NVIDIA H100 datasheet (nvidia.com/en-us/data-center/h100): SXM up to 700 W, 80 GB HBM3; NVIDIA DGX H100 datasheet: 10.2 kW max',
  },
  {
    manufacturer: 'NVIDIA', model: 'H100 PCIe', powerW: 350, memoryGb: 80, serverOverheadWPerGpu: 250,
    overheadBasis: 'ASSUMED: 8-GPU PCIe server with 2 CPUs, NICs, fans and storage ≈ 2 kW besides the GPUs',
    formFactor: 'PCIe Gen5 dual-slot', releaseYear: 2022, cooling: 'air',
    source: 'NVIDIA H100 datasheet (nvidia.com/en-us/data-center/h100): PCIe 300–350 W, 80 GB HBM2e',
  },
  {
    manufacturer: 'NVIDIA', model: 'H200', powerW: 700, memoryGb: 141, serverOverheadWPerGpu: 575,
    overheadBasis: 'DGX H200 max system power 10.2 kW / 8 GPUs = 1275 W per GPU, minus 700 W GPU',
    formFactor: 'SXM5 (HGX 8-GPU)', releaseYear: 2024, cooling: 'air',
    source: 'NVIDIA H200 datasheet (nvidia.com/en-us/data-center/h200): SXM up to 700 W, 141 GB HBM3e',
  },
  {
    manufacturer: 'NVIDIA', model: 'B200', powerW: 1000, memoryGb: 180, serverOverheadWPerGpu: 790,
    overheadBasis: 'DGX B200 max system power 14.3 kW / 8 GPUs = 1787.5 W per GPU, minus 1000 W GPU',
    formFactor: 'SXM (HGX B200 8-GPU)', releaseYear: 2024, cooling: 'air',
    source: 'NVIDIA DGX B200 datasheet: 1,440 GB total GPU memory (180 GB per GPU), ~14.3 kW max; HGX B200 1000 W per GPU',
  },
  {
    manufacturer: 'NVIDIA', model: 'GB200', powerW: 1200, memoryGb: 186, serverOverheadWPerGpu: 630,
    overheadBasis: 'GB200 NVL72 rack ≈ 132 kW / 72 GPUs ≈ 1833 W per GPU, minus 1200 W GPU (includes Grace CPU share and NVLink switch trays); rack power from public reporting, approximate',
    formFactor: 'NVL72 rack (per-GPU share)', releaseYear: 2025, cooling: 'liquid',
    source: 'NVIDIA GB200 NVL72 spec (nvidia.com/en-us/data-center/gb200-nvl72): 13.4 TB HBM3e per 72 GPUs; ~1200 W per Blackwell GPU',
  },
  {
    manufacturer: 'NVIDIA', model: 'GB300', powerW: 1400, memoryGb: 288, serverOverheadWPerGpu: 550,
    overheadBasis: 'GB300 NVL72 rack ≈ 140 kW / 72 GPUs ≈ 1944 W per GPU, minus 1400 W GPU; rack power from public reporting, approximate (GPU power quoted 1400 W nominal, some sources higher)',
    formFactor: 'NVL72 rack (per-GPU share)', releaseYear: 2025, cooling: 'liquid',
    source: 'NVIDIA GB300 NVL72 spec (nvidia.com/en-us/data-center/gb300-nvl72): 288 GB HBM3e per Blackwell Ultra GPU',
  },
  {
    manufacturer: 'NVIDIA', model: 'A100', powerW: 400, memoryGb: 80, serverOverheadWPerGpu: 410,
    overheadBasis: 'DGX A100 max system power 6.5 kW / 8 GPUs = 812.5 W per GPU, minus 400 W GPU',
    formFactor: 'SXM4 80 GB (HGX 8-GPU)', releaseYear: 2020, cooling: 'air',
    source: 'NVIDIA A100 datasheet (nvidia.com/en-us/data-center/a100): SXM 400 W, 80 GB HBM2e; DGX A100 datasheet: 6.5 kW max',
  },
  {
    manufacturer: 'NVIDIA', model: 'L40S', powerW: 350, memoryGb: 48, serverOverheadWPerGpu: 250,
    overheadBasis: 'ASSUMED: 8-GPU PCIe server, as for H100 PCIe',
    formFactor: 'PCIe Gen4 dual-slot', releaseYear: 2023, cooling: 'air',
    source: 'NVIDIA L40S datasheet (nvidia.com/en-us/data-center/l40s): 350 W max, 48 GB GDDR6',
  },
  {
    manufacturer: 'AMD', model: 'MI300X', powerW: 750, memoryGb: 192, serverOverheadWPerGpu: 575,
    overheadBasis: 'ASSUMED: same per-GPU platform share as an 8-GPU HGX H100 server (no AMD full-system max published here)',
    formFactor: 'OAM (8-GPU UBB)', releaseYear: 2023, cooling: 'air',
    source: 'AMD Instinct MI300X datasheet (amd.com): 750 W peak board power, 192 GB HBM3',
  },
];
