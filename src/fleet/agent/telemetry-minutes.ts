/**
 * Downsampling of miner telemetry to per-minute means (pure): every read adds a sample; a minute
 * is complete when a later minute's sample arrives, and `take()` hands the completed minutes to
 * the store in one batch per tick (all of them on shutdown).
 */
import { MS_PER_MINUTE } from '../../core/time.js';
import type { TelemetryMinute } from './state-port.js';
import type { MinerReading } from './types.js';

interface Acc {
  minuteMs: number;
  samples: number;
  hashSum: number;
  powerSum: number;
  powerSamples: number;
  state: string;
  failures: number;
}

function row(minerId: string, a: Acc): TelemetryMinute {
  return {
    minerId,
    minuteMs: a.minuteMs,
    samples: a.samples,
    hashrateThs: a.samples > 0 ? a.hashSum / a.samples : 0,
    powerW: a.powerSamples > 0 ? a.powerSum / a.powerSamples : null,
    powerSamples: a.powerSamples,
    state: a.state,
    failures: a.failures,
  };
}

export class TelemetryMinutes {
  private readonly current = new Map<string, Acc>();
  private done: TelemetryMinute[] = [];

  /** One read at `atMs` (null: the read failed). */
  add(minerId: string, atMs: number, reading: MinerReading | null): void {
    const minuteMs = Math.floor(atMs / MS_PER_MINUTE) * MS_PER_MINUTE;
    let acc = this.current.get(minerId);
    if (acc && acc.minuteMs !== minuteMs) {
      this.done.push(row(minerId, acc));
      acc = undefined;
    }
    if (!acc) {
      acc = { minuteMs, samples: 0, hashSum: 0, powerSum: 0, powerSamples: 0, state: 'unknown', failures: 0 };
      this.current.set(minerId, acc);
    }
    if (!reading) {
      acc.failures++;
      return;
    }
    acc.samples++;
    acc.hashSum += reading.hashrateThs;
    if (reading.powerW !== null) {
      acc.powerSum += reading.powerW;
      acc.powerSamples++;
    }
    acc.state = reading.state;
  }

  /** The completed minutes since the last take (with `all`, the minutes in progress too). */
  take(all = false): TelemetryMinute[] {
    if (all) {
      for (const [id, acc] of this.current) this.done.push(row(id, acc));
      this.current.clear();
    }
    const out = this.done;
    this.done = [];
    return out;
  }
}
