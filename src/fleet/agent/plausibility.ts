/**
 * Physical bounds on what devices and the meter report (pure). One device's word must never move
 * the whole site: a miner reporting 10¹² W, a negative hashrate or a meter reading of 10³⁰ W is
 * not believed. An implausible miner reading becomes 'unknown' (counted at nameplate, never
 * confirmed asleep by it); an implausible meter reading is dropped. The caller raises an event.
 */
import type { DecideConfig, MinerReading } from './types.js';

export interface Plate {
  ratedPowerW: number;
  ratedHashrateThs: number;
}

/** Why a miner reading is not physically possible for this machine, or null when it is. */
export function implausibleReading(r: MinerReading, m: Plate, cfg: Pick<DecideConfig, 'maxPowerReadingFactor' | 'maxHashrateFactor'>): string | null {
  if (!Number.isFinite(r.hashrateThs) || r.hashrateThs < 0) return `hashrate ${r.hashrateThs} TH/s is negative or not a number`;
  if (r.hashrateThs > cfg.maxHashrateFactor * m.ratedHashrateThs && m.ratedHashrateThs > 0) {
    return `hashrate ${fmt(r.hashrateThs)} TH/s is above ${cfg.maxHashrateFactor}× nameplate (${fmt(m.ratedHashrateThs)} TH/s)`;
  }
  if (r.powerW !== null) {
    if (!Number.isFinite(r.powerW) || r.powerW < 0) return `power ${r.powerW} W is negative or not a number`;
    if (r.powerW > cfg.maxPowerReadingFactor * m.ratedPowerW) return `power ${fmt(r.powerW)} W is above ${cfg.maxPowerReadingFactor}× nameplate (${fmt(m.ratedPowerW)} W)`;
  }
  return null;
}

/** The reading the decision may use: implausible ones count as unknown at nameplate. */
export function believable(r: MinerReading, m: Plate, cfg: Pick<DecideConfig, 'maxPowerReadingFactor' | 'maxHashrateFactor'>): { reading: MinerReading; problem: string | null } {
  const problem = implausibleReading(r, m, cfg);
  return problem === null ? { reading: r, problem } : { reading: { state: 'unknown', hashrateThs: 0, powerW: null, implausible: problem }, problem };
}

/** Why a site meter reading is not physically possible, or null. `maxSiteMW` = everything at full. */
export function implausibleMeter(siteMW: number, maxSiteMW: number, cfg: Pick<DecideConfig, 'maxMeterFactor' | 'importLimitMW'>): string | null {
  if (!Number.isFinite(siteMW) || siteMW < 0) return `meter reads ${siteMW} MW (negative or not a number)`;
  const bound = cfg.maxMeterFactor * Math.max(maxSiteMW, cfg.importLimitMW);
  if (siteMW > bound) return `meter reads ${fmt(siteMW)} MW, above ${cfg.maxMeterFactor}× the most this site can draw (${fmt(bound / cfg.maxMeterFactor)} MW)`;
  return null;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e6 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : String(Math.round(x * 1000) / 1000);
}
