/**
 * An in-memory miner driver for agent unit tests: declares capabilities like a real driver,
 * changes state instantly on command (or ignores sleep, or fails), counts every call.
 */
import { MulletError } from '../../../core/errors.js';
import type { Capability, StatusReadBack, MinerDriver, MinerState, PowerRangeW, PowerTargetable, PowerTargetResult, Sleepable, StatusReader, Telemetry } from '../../capabilities.js';
import type { AgentMiner } from '../fleet.js';

export interface FakeMinerOptions {
  ratedPowerW?: number;
  ratedHashrateThs?: number;
  state?: 'mining' | 'sleeping';
  range?: PowerRangeW;
  /** Acknowledge sleep but keep mining. */
  ignoreSleep?: boolean;
  /** Every read fails with a timeout (the miner is unreachable). */
  unreachable?: boolean;
  /** Report 'unknown' with zero hashrate while asleep (like Braiins legacy after a restart). */
  ambiguousSleep?: boolean;
  /** sleep() returns a status read made on the command's connection (as the stock Antminer driver does). */
  readBackOnSleep?: boolean;
  /** Reports this hashrate instead of the truth (negative, absurd: a lying device). */
  reportHashrateThs?: number;
  /** Reports this power instead of the truth, W. */
  reportPowerW?: number;
  /** Reports 'sleeping' with zero hashrate while really mining (the full read lies too: only the meter can tell). */
  liesAsleep?: boolean;
  /** Like liesAsleep, but only once it has been told to sleep (acknowledges, reports asleep, keeps drawing). */
  liesAfterSleep?: boolean;
  /** After a wake, this many reads show it booting: 'mining' at a fifth of its hashrate (as firmware does during the ramp). */
  bootReads?: number;
}

export class FakeDriver implements MinerDriver, StatusReader, Sleepable, PowerTargetable {
  readonly type = 'fake';
  readonly capabilities: ReadonlySet<Capability>;
  state: MinerState;
  targetW: number;
  calls = { read: 0, sleep: 0, wake: 0, target: 0, close: 0 };
  /** Reads left before a woken miner hashes at its level. */
  bootLeft = 0;

  constructor(
    readonly host: string,
    readonly o: Required<Pick<FakeMinerOptions, 'ratedPowerW' | 'ratedHashrateThs'>> & FakeMinerOptions,
  ) {
    this.state = o.state ?? 'mining';
    this.targetW = o.ratedPowerW;
    this.capabilities = new Set<Capability>(o.range ? ['hashrate', 'power', 'status', 'sleep', 'power-target'] : ['hashrate', 'power', 'status', 'sleep']);
  }

  get writes(): number {
    return this.calls.sleep + this.calls.wake + this.calls.target;
  }

  readTelemetry(): Promise<Telemetry> {
    this.calls.read++;
    if (this.o.unreachable) return Promise.reject(new MulletError('TIMEOUT', 'no answer', { where: this.host }));
    const mining = this.state === 'mining' || this.state === 'tuning';
    let state: MinerState = this.state === 'sleeping' && this.o.ambiguousSleep ? 'unknown' : this.state;
    let hashrateThs = mining ? (this.o.ratedHashrateThs * this.targetW) / this.o.ratedPowerW : 0;
    let powerW: number | null = mining ? this.targetW : this.state === 'sleeping' ? 30 : this.targetW;
    if (mining && this.bootLeft > 0) {
      this.bootLeft--;
      hashrateThs /= 5;
    }
    if (this.o.liesAsleep || (this.o.liesAfterSleep && this.calls.sleep > 0)) {
      state = 'sleeping';
      hashrateThs = 0;
      powerW = null;
    }
    return Promise.resolve({
      hashrateThs: this.o.reportHashrateThs ?? hashrateThs,
      powerW: this.o.reportPowerW ?? powerW,
      state,
      tempsC: [],
      fansRpm: [],
      model: null,
      firmware: 'fake',
    });
  }

  async sleep(): Promise<StatusReadBack | undefined> {
    this.calls.sleep++;
    if (this.o.unreachable) throw new MulletError('TIMEOUT', 'no answer', { where: this.host });
    if (!this.o.ignoreSleep) this.state = 'sleeping';
    if (!this.o.readBackOnSleep) return undefined;
    const t = await this.readTelemetry();
    this.calls.read--; // same connection: not a separate read
    return { state: t.state, hashrateThs: t.hashrateThs, powerW: t.powerW };
  }

  /** What the miner really draws, W (ground truth for tests). */
  truePowerW(): number {
    return this.state === 'mining' || this.state === 'tuning' || this.state === 'waking' ? this.targetW : this.state === 'sleeping' ? 30 : this.o.ratedPowerW;
  }

  wake(): Promise<void> {
    this.calls.wake++;
    this.state = 'mining';
    this.bootLeft = this.o.bootReads ?? 0;
    return Promise.resolve();
  }

  powerTargetRangeW(): Promise<PowerRangeW> {
    if (!this.o.range) return Promise.reject(new MulletError('UNSUPPORTED', 'no targets'));
    return Promise.resolve(this.o.range);
  }

  setPowerTargetW(watts: number): Promise<PowerTargetResult> {
    this.calls.target++;
    this.targetW = watts;
    return Promise.resolve({ appliedW: watts });
  }

  close(): Promise<void> {
    this.calls.close++;
    return Promise.resolve();
  }
}

/** N fake miners as the agent sees them (ids m000, m001, ...). */
export function fakeFleet(n: number, o: FakeMinerOptions = {}, prefix = 'm'): AgentMiner[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${prefix}${String(i).padStart(3, '0')}`;
    const ratedPowerW = o.ratedPowerW ?? 3500;
    const ratedHashrateThs = o.ratedHashrateThs ?? 200;
    const driver = new FakeDriver(`10.0.0.${i}`, { ...o, ratedPowerW, ratedHashrateThs });
    return { id, host: driver.host, type: 'fake', model: null, driver, ratedPowerW, ratedHashrateThs, pue: 1 };
  });
}

export function fake(m: AgentMiner): FakeDriver {
  return m.driver as FakeDriver;
}
