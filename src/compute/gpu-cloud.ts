/**
 * GPU-cloud economics (pure): what a rented GPU earns per MWh of the site's metered energy, so it
 * can be compared with a powered-shell lease and with mining on the same megawatt.
 *
 * kW per GPU at the meter = (GPU W + per-GPU server share W) × PUE / 1000. Revenue is billed
 * GPU-hours: USD/GPU-hour × utilization (the fraction of hours sold). Per-MWh figures assume the
 * capacity is reserved at full power whether sold or not (a conservative, capacity-based view:
 * unsold GPUs still hold the site's MW).
 */
import { badInput } from '../core/errors.js';
import { findGpu } from '../catalog/catalog.js';
import { HOURS_PER_MONTH, HOURS_PER_YEAR, KW_PER_MW } from './lease.js';

const H100 = findGpu('H100 SXM');

/**
 * Defaults: NVIDIA H100 SXM at 700 W with a 575 W server share (DGX H100: 10.2 kW / 8 GPUs − 700 W;
 * see src/catalog/gpus.ts), PUE 1.3 (assumed: a modern liquid-/air-hybrid AI hall; 1.1–1.4 is
 * typical) and 85 % of GPU-hours sold (assumed; long-term reserved clusters bill near 100 %).
 */
export const GPU_CLOUD_DEFAULTS = {
  gpuPowerW: H100.powerW,
  serverOverheadWPerGpu: H100.serverOverheadWPerGpu,
  pue: 1.3,
  utilization: 0.85,
} as const;

export interface GpuCloudInput {
  usdPerGpuHour: number;
  gpuCount: number;
  gpuPowerW?: number;
  serverOverheadWPerGpu?: number;
  pue?: number;
  /** Fraction of GPU-hours billed, 0..1. */
  utilization?: number;
}

export interface GpuCloudEconomics {
  usdPerGpuHour: number;
  gpuCount: number;
  gpuPowerW: number;
  serverOverheadWPerGpu: number;
  pue: number;
  utilization: number;
  /** Critical IT power per GPU incl. its server share, kW. */
  kwPerGpuIt: number;
  /** Metered power per GPU (IT × PUE), kW. */
  kwPerGpuAtMeter: number;
  itMW: number;
  meterMW: number;
  revenueUsdPerHour: number;
  revenueUsdPerYear: number;
  /** Revenue per MWh imported at the meter, USD/MWh. */
  revenueUsdPerMWhAtMeter: number;
  /** Revenue per MW of metered capacity per year, USD. */
  revenueUsdPerMwYearAtMeter: number;
  /** Revenue expressed like a lease: USD per kW-month of critical IT. */
  usdPerKwMonthIt: number;
}

function check(v: number, name: string, min: number, minInclusive: boolean): number {
  if (!Number.isFinite(v) || (minInclusive ? v < min : v <= min)) {
    throw badInput(`must be a finite number ${minInclusive ? '>=' : '>'} ${min}, got ${v}`, name);
  }
  return v;
}

/** kW per GPU at the meter: (GPU W + server share W) × PUE / 1000. */
export function kwPerGpuAtMeter(gpuPowerW: number, serverOverheadWPerGpu: number, pue: number): number {
  return ((check(gpuPowerW, 'gpuPowerW', 0, false) + check(serverOverheadWPerGpu, 'serverOverheadWPerGpu', 0, true)) * check(pue, 'pue', 1, true)) / KW_PER_MW;
}

/** Revenue of a GPU cloud per hour, year, MWh at the meter, MW-year and kW-month of IT. */
export function gpuCloudEconomics(input: GpuCloudInput): GpuCloudEconomics {
  const usdPerGpuHour = check(input.usdPerGpuHour, 'usdPerGpuHour', 0, true);
  const gpuCount = check(input.gpuCount, 'gpuCount', 0, false);
  const gpuPowerW = input.gpuPowerW ?? GPU_CLOUD_DEFAULTS.gpuPowerW;
  const serverOverheadWPerGpu = input.serverOverheadWPerGpu ?? GPU_CLOUD_DEFAULTS.serverOverheadWPerGpu;
  const pue = input.pue ?? GPU_CLOUD_DEFAULTS.pue;
  const utilization = input.utilization ?? GPU_CLOUD_DEFAULTS.utilization;
  if (!Number.isFinite(utilization) || utilization < 0 || utilization > 1) throw badInput(`must be within 0..1, got ${utilization}`, 'utilization');
  const meterKw = kwPerGpuAtMeter(gpuPowerW, serverOverheadWPerGpu, pue);
  const itKw = (gpuPowerW + serverOverheadWPerGpu) / KW_PER_MW;
  const usdPerGpuHourBilled = usdPerGpuHour * utilization;
  const revenueUsdPerMWhAtMeter = (usdPerGpuHourBilled * KW_PER_MW) / meterKw;
  return {
    usdPerGpuHour,
    gpuCount,
    gpuPowerW,
    serverOverheadWPerGpu,
    pue,
    utilization,
    kwPerGpuIt: itKw,
    kwPerGpuAtMeter: meterKw,
    itMW: (itKw * gpuCount) / KW_PER_MW,
    meterMW: (meterKw * gpuCount) / KW_PER_MW,
    revenueUsdPerHour: usdPerGpuHourBilled * gpuCount,
    revenueUsdPerYear: usdPerGpuHourBilled * gpuCount * HOURS_PER_YEAR,
    revenueUsdPerMWhAtMeter,
    revenueUsdPerMwYearAtMeter: revenueUsdPerMWhAtMeter * HOURS_PER_YEAR,
    usdPerKwMonthIt: (usdPerGpuHourBilled * HOURS_PER_MONTH) / itKw,
  };
}
