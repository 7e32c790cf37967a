/**
 * What the site drew, from what the agent read: per fleet, the miners' reported power (or, for
 * firmware that reports none, nameplate while hashing and the sleep fraction while asleep) × the
 * fleet's PUE; per AI load, the level its actuator holds in force (a limit read back in effect),
 * else the full contract — the basis the tenant is billed on. The meter, when there is one, is kept
 * beside it so metered and settled energy can be compared.
 */
import type { Site } from '../site/types.js';
import type { AgentStatus } from '../fleet/agent/api.js';
import type { MinerReading } from '../fleet/agent/types.js';
import type { PowerSample } from './ledger.js';
import { aiLimitInEffect } from '../fleet/agent/ai-decide.js';

export interface SampledMiner {
  id: string;
  /** Index in site.fleets, −1 when the miner belongs to none (counted nowhere: reported in notes). */
  fleet: number;
  ratedPowerW: number;
  pue: number;
}

export interface SamplerOptions {
  /**
   * Scale the fleets' read power to what the meter shows (minus AI as read and other loads): the
   * meter is exact for the total even when the readings are older than the last change.
   */
  meterBasis: boolean;
  /** A meter reading older than this is not used, ms. */
  meterFreshMs: number;
  /** Loads behind the meter that are neither miners nor AI, MW. */
  otherLoadMW: number;
}

export interface MinerSnapshot {
  id: string;
  reading: MinerReading | null;
}

export class PowerSampler {
  private readonly byId = new Map<string, SampledMiner>();
  unassigned = 0;

  constructor(
    private readonly site: Site,
    miners: readonly SampledMiner[],
    private readonly sleepPowerFraction: number,
    private readonly o: SamplerOptions = { meterBasis: false, meterFreshMs: 60_000, otherLoadMW: 0 },
  ) {
    for (const m of miners) {
      this.byId.set(m.id, m);
      if (m.fleet < 0) this.unassigned++;
    }
  }

  /** MW at the meter per site fleet from one snapshot of the agent's beliefs. */
  fleetMW(states: readonly MinerSnapshot[]): number[] {
    const out = this.site.fleets.map(() => 0);
    for (const s of states) {
      const m = this.byId.get(s.id);
      if (!m || m.fleet < 0) continue;
      const r = s.reading;
      // Unread: counted at nameplate, as the import limit counts it (what it may be drawing).
      let w = m.ratedPowerW;
      if (r && !r.implausible) {
        if (r.powerW !== null) w = r.powerW;
        else if (r.state === 'sleeping') w = m.ratedPowerW * this.sleepPowerFraction;
        else if (r.hashrateThs <= 0) w = m.ratedPowerW * this.sleepPowerFraction;
      }
      out[m.fleet] = (out[m.fleet] as number) + (w * m.pue) / 1e6;
    }
    return out;
  }

  /** IT MW served per site AI load: the limit held in effect, else the full contract. */
  aiItMW(status: Pick<AgentStatus, 'ai'>): number[] {
    return this.site.ai.map((a) => {
      const v = status.ai?.find((x) => x.load === a.name);
      if (!v || v.limitMW === null) return a.itMW;
      return aiLimitInEffect(v) ? Math.min(a.itMW, v.limitMW / a.pue) : a.itMW;
    });
  }

  sample(atMs: number, states: readonly MinerSnapshot[], status: Pick<AgentStatus, 'ai' | 'meter'>): PowerSample {
    const meter = status.meter?.last;
    let fleetMW = this.fleetMW(states);
    if (this.o.meterBasis && meter && atMs - meter.atMs <= this.o.meterFreshMs) {
      // The meter is the truth for the total: mining = meter − AI as read (contract level when
      // unread) − other loads; the miners' own readings only split it between fleets.
      const aiMW = this.site.ai.reduce((a, l) => a + (status.ai?.find((x) => x.load === l.name)?.readMW ?? l.itMW * l.pue), 0);
      const miningMW = Math.max(0, meter.siteMW - aiMW - this.o.otherLoadMW);
      const believed = fleetMW.reduce((a, b) => a + b, 0);
      fleetMW = believed > 0 ? fleetMW.map((v) => (v * miningMW) / believed) : fleetMW;
    }
    return { atMs, fleetMW, aiItMW: this.aiItMW(status), ...(meter ? { meterMW: meter.siteMW } : {}) };
  }
}
