/**
 * A fleet as dispatch sees it: hashrate as a concave piecewise-linear function of meter MW.
 * Thousands of identical machines can mix "asleep" with any operating point of the power-target
 * curve, so the achievable (MW, TH/s) set is the upper concave hull of (0, 0) and the curve
 * points. Without a curve it is one segment from 0 to nameplate. Value of a segment per MWh at
 * the meter = hashprice × (1 − pool fee) × slope (TH/s per MW) / 1000 PH/TH / 24 h.
 */
import { revenueUsdPerMWh } from '../bitcoin/asic.js';
import type { Fleet } from '../site/types.js';

export interface FleetSegment {
  /** Width of the segment, MW at the meter. */
  widthMW: number;
  /** Hashrate added per MW in this segment, TH/s per MW (decreasing along the hull). */
  thsPerMW: number;
}

export interface FleetModel {
  fleet: Fleet;
  /** One machine at nameplate, MW at the meter. */
  unitMW: number;
  /** All machines at nameplate, MW at the meter. */
  nominalMW: number;
  /** Highest reachable power (above nominal when the curve overclocks), MW. */
  maxMW: number;
  segments: FleetSegment[];
  /** Nameplate efficiency, J/TH. */
  efficiencyJPerTh: number;
}

/** Builds the dispatch view of a fleet (hull of its efficiency curve). */
export function fleetModel(fleet: Fleet): FleetModel {
  const unitMW = (fleet.powerW * fleet.pue) / 1e6;
  const nominalMW = unitMW * fleet.count;
  const nominalThs = fleet.hashrateThs * fleet.count;
  const pts: [number, number][] = [[0, 0]];
  const curve = fleet.efficiencyCurve;
  if (curve && curve.length > 0) {
    for (const p of curve) pts.push([p.powerFraction * nominalMW, (fleet.count * p.powerFraction * fleet.powerW) / p.jPerTh]);
    if (!curve.some((p) => Math.abs(p.powerFraction - 1) < 1e-9)) pts.push([nominalMW, nominalThs]);
    pts.sort((a, b) => a[0] - b[0]);
  } else {
    pts.push([nominalMW, nominalThs]);
  }
  // Upper concave hull, monotone chain from the origin.
  const hull: [number, number][] = [];
  for (const p of pts) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2] as [number, number];
      const b = hull[hull.length - 1] as [number, number];
      const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
      if (cross >= 0) hull.pop();
      else break;
    }
    hull.push(p);
  }
  const segments: FleetSegment[] = [];
  for (let i = 1; i < hull.length; i++) {
    const a = hull[i - 1] as [number, number];
    const b = hull[i] as [number, number];
    const w = b[0] - a[0];
    if (w > 1e-12) segments.push({ widthMW: w, thsPerMW: (b[1] - a[1]) / w });
  }
  const maxMW = segments.reduce((s, g) => s + g.widthMW, 0);
  return { fleet, unitMW, nominalMW, maxMW, segments, efficiencyJPerTh: fleet.powerW / fleet.hashrateThs };
}

/** Fleet hashrate at `mw` meter MW on its hull, TH/s. */
export function fleetHashrateThs(model: FleetModel, mw: number): number {
  let left = Math.max(0, mw);
  let ths = 0;
  for (const s of model.segments) {
    const take = Math.min(left, s.widthMW);
    ths += take * s.thsPerMW;
    left -= take;
    if (left <= 0) break;
  }
  return ths;
}

/** USD per MWh at the meter for a hashrate density (TH/s per MW) after pool fee. */
export function usdPerMWhForDensity(hashpriceUsdPerPhDay: number, thsPerMW: number, poolFeePct: number): number {
  return (hashpriceUsdPerPhDay * (1 - poolFeePct / 100) * thsPerMW) / 24_000;
}

/** Break-even power price of the fleet at nameplate, USD/MWh at the meter (= revenue per MWh). */
export function breakEvenUsdPerMWh(model: FleetModel, hashpriceUsdPerPhDay: number): number {
  const f = model.fleet;
  return revenueUsdPerMWh(Math.max(0, hashpriceUsdPerPhDay), model.efficiencyJPerTh, f.poolFeePct, f.pue);
}

/** Strike price: the fleet's configured strike, else its nameplate break-even, USD/MWh. */
export function strikeUsdPerMWh(model: FleetModel, hashpriceUsdPerPhDay: number): number {
  return model.fleet.strikeUsdPerMWh ?? breakEvenUsdPerMWh(model, hashpriceUsdPerPhDay);
}
