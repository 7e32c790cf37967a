/**
 * The site revenue meter as the agent uses it: a fresh, plausible reading or nothing (a failed,
 * stale or physically impossible reading is dropped and an alert raised once), and the unexplained
 * load found at the last good reading, which stands while fresh when a read fails.
 */
import { describeError, isMulletError, MulletError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import type { MeterReader } from '../meter/meter-reader.js';
import type { AgentEventInput } from './events.js';
import type { AgentMetrics } from './metrics.js';
import { implausibleMeter } from './plausibility.js';
import type { DecideConfig, MeterInput } from './types.js';

export interface MeterWatchDeps {
  meter: MeterReader | null | undefined;
  decide: DecideConfig;
  clock: Clock;
  metrics: AgentMetrics;
  event: (e: AgentEventInput) => void;
  /** A reading (or an excess) older than this is not used, ms. */
  staleMs: number;
  /** The most the site could draw, MW (everything at nameplate): bounds a plausible reading. */
  maxSiteMW: () => number;
  hardStop?: AbortSignal | undefined;
}

export class MeterWatch {
  last: MeterInput | null = null;
  error: string | null = null;
  /** Unexplained metered load at the last good reading. */
  private excess: { mw: number; atMs: number } | null = null;

  constructor(private readonly d: MeterWatchDeps) {}

  get configured(): boolean {
    return this.d.meter !== null && this.d.meter !== undefined;
  }

  /** Reads the meter: the fresh, plausible reading, else null. */
  async read(): Promise<MeterInput | null> {
    const meter = this.d.meter;
    if (!meter) return null;
    try {
      const w = await meter.readSitePowerW(this.d.hardStop);
      const problem = implausibleMeter(w / 1e6, this.d.maxSiteMW(), this.d.decide);
      if (problem !== null) {
        if (this.error === null || !this.error.startsWith('implausible')) {
          this.d.metrics.implausible.inc({ source: 'meter' });
          this.d.event({ type: 'alert', kind: 'implausible-meter', detail: `${problem}; ignored, the estimate stands` });
        }
        throw new MulletError('PARSE', `implausible: ${problem}`);
      }
      this.last = { siteMW: w / 1e6, atMs: this.d.clock.nowMs() };
      this.error = null;
    } catch (err) {
      this.error = err instanceof MulletError && err.message.startsWith('implausible') ? err.message : describeError(err);
      this.d.metrics.readFailures.inc({ code: `meter:${isMulletError(err) ? err.code : 'INTERNAL'}` });
      return null;
    }
    return this.last;
  }

  /** The excess to carry into a decision made without a fresh reading, MW. */
  carriedExcessMW(nowMs: number): number {
    return this.excess && nowMs - this.excess.atMs <= this.d.staleMs ? this.excess.mw : 0;
  }

  /** Remembers the excess a decision found with a fresh reading. */
  noteExcess(mw: number, reading: MeterInput): void {
    this.excess = { mw, atMs: reading.atMs };
  }
}
