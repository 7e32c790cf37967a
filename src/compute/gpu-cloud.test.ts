import { describe, expect, it } from 'vitest';
import { GPU_CLOUD_DEFAULTS, gpuCloudEconomics, kwPerGpuAtMeter } from './gpu-cloud.js';

describe('gpuCloudEconomics', () => {
  it('defaults to an H100 SXM with its DGX-derived server share', () => {
    expect(GPU_CLOUD_DEFAULTS.gpuPowerW).toBe(700);
    expect(GPU_CLOUD_DEFAULTS.serverOverheadWPerGpu).toBe(575);
  });
  it('computes kW per GPU at the meter: (700 + 575) W × 1.3 / 1000 = 1.6575 kW', () => {
    expect(kwPerGpuAtMeter(700, 575, 1.3)).toBeCloseTo(1.6575, 12);
  });
  it('matches a hand computation at 2 USD/GPU-hour, 85 % sold, PUE 1.3', () => {
    const e = gpuCloudEconomics({ usdPerGpuHour: 2, gpuCount: 10_000 });
    expect(e.kwPerGpuIt).toBeCloseTo(1.275, 12);
    // 2 × 0.85 × 1000 / 1.6575 = 1025.641 USD/MWh at the meter
    expect(e.revenueUsdPerMWhAtMeter).toBeCloseTo(1025.641, 3);
    expect(e.revenueUsdPerMwYearAtMeter).toBeCloseTo(8_984_615.38, 1);
    // 2 × 0.85 × 730 / 1.275 = 973.33 USD per kW-month of IT
    expect(e.usdPerKwMonthIt).toBeCloseTo(973.333, 3);
    expect(e.itMW).toBeCloseTo(12.75, 10);
    expect(e.meterMW).toBeCloseTo(16.575, 10);
    expect(e.revenueUsdPerYear).toBeCloseTo(2 * 0.85 * 10_000 * 8760, 4);
  });
  it('rejects utilization outside 0..1 and PUE below 1', () => {
    expect(() => gpuCloudEconomics({ usdPerGpuHour: 2, gpuCount: 1, utilization: 1.2 })).toThrow(/0\.\.1/);
    expect(() => gpuCloudEconomics({ usdPerGpuHour: 2, gpuCount: 1, pue: 0.8 })).toThrow(/pue|>= 1/);
    expect(() => gpuCloudEconomics({ usdPerGpuHour: Number.NaN, gpuCount: 1 })).toThrow(/finite/);
  });
});
