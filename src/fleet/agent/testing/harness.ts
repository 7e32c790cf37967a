/**
 * An agent on fake drivers with a fake clock for unit tests: every wait moves the clock, so a
 * test runs ticks, verify loops and pacing in microseconds, deterministically.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../core/time.js';
import type { MeterReader } from '../../meter/meter-reader.js';
import { MemoryAgentStateStore } from '../../state/memory-store.js';
import { SqliteAgentStateStore } from '../../state/store.js';
import type { AgentStateStore } from '../state-port.js';
import { SiteAgent, type AgentOptions } from '../agent.js';
import type { AgentMiner } from '../fleet.js';
import { NameplateTarget } from '../targets.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig } from '../types.js';
import { fake } from './fake-driver.js';

export const T0 = Date.UTC(2025, 7, 1, 18, 0, 0);

/** Temporary directories for database files; call `cleanup()` after each test. */
export class TempDirs {
  private readonly dirs: string[] = [];
  dbFile(): string {
    const d = mkdtempSync(join(tmpdir(), 'mullet-agent-'));
    this.dirs.push(d);
    return join(d, 'agent.db');
  }
  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export type HarnessOptions = Partial<Omit<AgentOptions, 'decide'>> & { decide?: Partial<DecideConfig>; db?: string; clock?: FakeClock };

/**
 * An agent on `miners`: its state in memory (the in-memory implementation of the storage port), or
 * in a SQLite file when `db` is given (restart tests), returned with the store for inspection.
 */
export async function setup(miners: AgentMiner[], over: HarnessOptions & { db: string }): Promise<{ agent: SiteAgent; clock: FakeClock; store: SqliteAgentStateStore }>;
export async function setup(miners: AgentMiner[], over?: HarnessOptions): Promise<{ agent: SiteAgent; clock: FakeClock; store: AgentStateStore }>;
export async function setup(miners: AgentMiner[], over: HarnessOptions = {}): Promise<{ agent: SiteAgent; clock: FakeClock; store: AgentStateStore }> {
  const clock = over.clock ?? new FakeClock(T0);
  const store: AgentStateStore = over.db !== undefined ? SqliteAgentStateStore.open(over.db, clock.nowMs()) : new MemoryAgentStateStore();
  const { decide: dcfg, db: _db, clock: _c, ...rest } = over;
  const agent = await SiteAgent.create({
    siteName: 'test',
    miners,
    store,
    clock,
    targets: new NameplateTarget(),
    decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW: 100, aiMW: 0, confirmTimeoutMs: 2_000, minDwellMs: 0, ...dcfg },
    concurrency: 8,
    verifyWaitMs: 3_000,
    verifyPollMs: 500,
    sleep: (ms: number) => {
      clock.advance(ms);
      return Promise.resolve();
    },
    ...rest,
  });
  return { agent, clock, store };
}

/** A site meter that reads the fake miners' true power plus a fixed load (what a revenue meter sees). */
export class FakeMeter implements MeterReader {
  /** Overrides the reading (an implausible meter), W. */
  override: number | null = null;
  reads = 0;
  constructor(
    private readonly miners: readonly AgentMiner[],
    public otherW: number,
  ) {}
  readSitePowerW(): Promise<number> {
    this.reads++;
    return Promise.resolve(this.override ?? this.otherW + this.miners.reduce((a, m) => a + fake(m).truePowerW() * m.pue, 0));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** True mining power of fake miners at the meter, MW. */
export function trueMW(miners: readonly AgentMiner[]): number {
  return miners.reduce((a, m) => a + fake(m).truePowerW() * m.pue, 0) / 1e6;
}
