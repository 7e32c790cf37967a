/** Shapes of the hardware catalog. Units are in the names; see README.md for conventions. */

export type AsicCooling = 'air' | 'hydro' | 'immersion';
export type GpuCooling = 'air' | 'liquid';

/** One point of a power-target efficiency curve: at `powerFraction` × nameplate W, `jPerTh`. */
export interface EfficiencyPoint {
  /** Power draw as a fraction of the nameplate `powerW` (1 = stock). */
  powerFraction: number;
  /** Efficiency at that power, J/TH (= W per TH/s). */
  jPerTh: number;
}

export interface Asic {
  manufacturer: string;
  model: string;
  /** Nameplate hashrate, TH/s. */
  hashrateThs: number;
  /** Nameplate power at the wall, W. */
  powerW: number;
  /** Nameplate efficiency, J/TH; consistent with powerW / hashrateThs (checked). */
  efficiencyJPerTh: number;
  /** Year of first customer shipments; null when unknown. */
  releaseYear: number | null;
  cooling: AsicCooling;
  /** Where the figures come from (URL or document name). */
  source: string;
  /** Optional power-target curve, sorted by powerFraction; includes the stock point (1, nominal). */
  efficiencyCurve?: readonly EfficiencyPoint[];
  /** Provenance of the curve: published figures or an assumption, and why. */
  efficiencyCurveNote?: string;
}

export interface Gpu {
  manufacturer: string;
  model: string;
  /** Module TDP / max board power of one GPU, W. */
  powerW: number;
  /** On-package memory per GPU, GB. */
  memoryGb: number;
  /** Server share per GPU (CPUs, NICs, switches, fans, storage), W at the IT load. */
  serverOverheadWPerGpu: number;
  /** How serverOverheadWPerGpu was derived. */
  overheadBasis: string;
  formFactor: string;
  releaseYear: number | null;
  cooling: GpuCooling;
  source: string;
}

export interface Catalog {
  asics: readonly Asic[];
  gpus: readonly Gpu[];
}
