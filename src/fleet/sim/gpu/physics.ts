/**
 * A GPU server's power as the simulator models it (pure, sim time injected). Demand follows the
 * jobs' utilisation (seeded, slowly varying between 85 % and 100 %); a power cap takes effect along
 * a first-order lag (τ 2 s of sim time, as GPU power management settles in seconds) and the jobs
 * slow down in proportion to the power they lose above idle (the throughput a tenant sees).
 *   power = idle + (max − idle) × utilisation, then min(power, cap) through the lag
 *   throughput = (power − idle) / (demand − idle)
 */
import { unit } from '../rng.js';

export interface GpuServerSpec {
  /** Nameplate (all GPUs busy), W: an 8×H100 HGX server ≈ 10.2 kW. */
  readonly maxW: number;
  /** Idle draw, W. */
  readonly idleW: number;
  /** Lowest cap the BMC accepts, W. */
  readonly minCapW: number;
  readonly seed: number;
}

export const HGX_H100: Omit<GpuServerSpec, 'seed'> = { maxW: 10_200, idleW: 2_000, minCapW: 4_000 };

/** Time constant of the cap's effect, sim ms. */
export const CAP_TAU_MS = 2_000;

export interface GpuPowerState {
  /** Cap in force, W; null when none. */
  capW: number | null;
  /** Power at `atMs`, W (the lagged value). */
  powerW: number;
  atMs: number;
}

/** Jobs' utilisation at `tMs`: seeded, smooth (minutes), 0.85–1.0. */
export function utilisation(spec: GpuServerSpec, tMs: number): number {
  const step = 300_000;
  const k = Math.floor(tMs / step);
  const f = (tMs - k * step) / step;
  const a = unit(spec.seed, 11, k);
  const b = unit(spec.seed, 11, k + 1);
  return 0.85 + 0.15 * (a + (b - a) * (3 * f * f - 2 * f * f * f));
}

export function demandW(spec: GpuServerSpec, tMs: number): number {
  return spec.idleW + (spec.maxW - spec.idleW) * utilisation(spec, tMs);
}

/** Advances the lagged power to `tMs`. */
export function advancePower(spec: GpuServerSpec, s: GpuPowerState, tMs: number): GpuPowerState {
  if (tMs <= s.atMs) return s;
  const goal = Math.min(demandW(spec, tMs), s.capW ?? Infinity);
  const w = goal + (s.powerW - goal) * Math.exp(-(tMs - s.atMs) / CAP_TAU_MS);
  return { ...s, powerW: w, atMs: tMs };
}

export function initialPower(spec: GpuServerSpec, tMs: number): GpuPowerState {
  return { capW: null, powerW: demandW(spec, tMs), atMs: tMs };
}

/** Share of the uncapped work the jobs get done, 0–1. */
export function throughput(spec: GpuServerSpec, s: GpuPowerState, tMs: number): number {
  const d = demandW(spec, tMs) - spec.idleW;
  return d <= 0 ? 1 : Math.max(0, Math.min(1, (s.powerW - spec.idleW) / d));
}
