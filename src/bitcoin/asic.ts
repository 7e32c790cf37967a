/**
 * Per-machine mining economics from hashprice. A machine of efficiency ε J/TH running at
 * 1 TH/s for a day uses ε J/s × 86,400 s = 0.024·ε kWh, so 1 PH/s-day costs 0.024·ε MWh at the
 * machine and 0.024·ε·PUE MWh at the meter. Revenue per MWh metered is therefore
 * HP × (1 − pool fee) / (0.024 × ε × PUE): the power price at which the machine breaks even.
 */
export interface AsicSpec {
  model?: string;
  /** Nameplate (or measured) hashrate, TH/s. */
  hashrateThs: number;
  /** Wall power of the machine, W. */
  powerW: number;
  /** Pool fee, percent of revenue (2 means 2 %). */
  poolFeePct: number;
  /** Site overhead multiplier (cooling, conversion): metered energy / machine energy; default 1. */
  pue?: number;
}

export interface AsicEconomics {
  model?: string;
  efficiencyJPerTh: number;
  /** Energy at the meter, MWh per day (machine power × PUE × 24 h). */
  energyMWhPerDay: number;
  /** Revenue after pool fee, USD per day. */
  revenueUsdPerDay: number;
  /** Revenue after pool fee per MWh metered, USD/MWh. */
  revenueUsdPerMWh: number;
  /** Power price at which margin is zero, USD/MWh (equal to revenueUsdPerMWh). */
  breakEvenUsdPerMWh: number;
  /** Present when a power price was given. */
  powerCostUsdPerDay?: number;
  marginUsdPerDay?: number;
  marginUsdPerMWh?: number;
}

/** MWh used per PH/s-day by a machine of 1 J/TH: 1e3 TH × 1 J/TH × 86,400 s / 3.6e9 J/MWh. */
export const MWH_PER_PH_DAY_PER_J_PER_TH = 0.024;

function positive(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a finite number > 0, got ${v}`);
}

/** Efficiency, J/TH (= W per TH/s). */
export function efficiencyJPerTh(hashrateThs: number, powerW: number): number {
  positive('hashrateThs', hashrateThs);
  positive('powerW', powerW);
  return powerW / hashrateThs;
}

/**
 * Revenue per MWh at the meter, USD/MWh, for hashprice `hashpriceUsdPerPhDay` (USD/PH/day) and
 * efficiency ε J/TH: HP × (1 − fee) / (0.024 × ε × PUE). Also the break-even power price.
 */
export function revenueUsdPerMWh(hashpriceUsdPerPhDay: number, efficiencyJPerThValue: number, poolFeePct = 0, pue = 1): number {
  if (!Number.isFinite(hashpriceUsdPerPhDay) || hashpriceUsdPerPhDay < 0) {
    throw new RangeError(`hashpriceUsdPerPhDay must be a finite number >= 0, got ${hashpriceUsdPerPhDay}`);
  }
  positive('efficiencyJPerTh', efficiencyJPerThValue);
  if (!Number.isFinite(poolFeePct) || poolFeePct < 0 || poolFeePct >= 100) throw new RangeError(`poolFeePct must be in [0, 100), got ${poolFeePct}`);
  if (!Number.isFinite(pue) || pue < 1) throw new RangeError(`pue must be a finite number >= 1, got ${pue}`);
  return (hashpriceUsdPerPhDay * (1 - poolFeePct / 100)) / (MWH_PER_PH_DAY_PER_J_PER_TH * efficiencyJPerThValue * pue);
}

/**
 * Daily and per-MWh economics of one machine at hashprice `hashpriceUsdPerPhDay` (USD/PH/day),
 * with margins when a power price (USD/MWh, at the meter) is given.
 */
export function asicEconomics(spec: AsicSpec, hashpriceUsdPerPhDay: number, powerPriceUsdPerMWh?: number): AsicEconomics {
  const pue = spec.pue ?? 1;
  const eff = efficiencyJPerTh(spec.hashrateThs, spec.powerW);
  const perMWh = revenueUsdPerMWh(hashpriceUsdPerPhDay, eff, spec.poolFeePct, pue);
  const energyMWhPerDay = (spec.powerW * pue * 24) / 1e6;
  const out: AsicEconomics = {
    ...(spec.model === undefined ? {} : { model: spec.model }),
    efficiencyJPerTh: eff,
    energyMWhPerDay,
    revenueUsdPerDay: hashpriceUsdPerPhDay * (spec.hashrateThs / 1000) * (1 - spec.poolFeePct / 100),
    revenueUsdPerMWh: perMWh,
    breakEvenUsdPerMWh: perMWh,
  };
  if (powerPriceUsdPerMWh !== undefined) {
    // Negative power prices are real (ERCOT West): allowed, they just raise the margin.
    if (!Number.isFinite(powerPriceUsdPerMWh)) throw new RangeError(`powerPriceUsdPerMWh must be finite, got ${powerPriceUsdPerMWh}`);
    out.powerCostUsdPerDay = energyMWhPerDay * powerPriceUsdPerMWh;
    out.marginUsdPerDay = out.revenueUsdPerDay - out.powerCostUsdPerDay;
    out.marginUsdPerMWh = perMWh - powerPriceUsdPerMWh;
  }
  return out;
}
