/**
 * The agent's storage port in memory: same behaviour as the SQLite store (one contract suite runs
 * both), nothing survives the process. For tests and throw-away runs (`--db :memory:` keeps using
 * SQLite's own in-memory database; this one needs no native module).
 */
import { MS_PER_DAY } from '../../core/time.js';
import type { AwardRecord, DeploymentRecord } from '../agent/grid-records.js';
import { DEFAULT_RETENTION, type AgentStateStore, type CommandRecord, type IntentRow, type InventoryRow, type RetentionPolicy, type SignalRecord, type TelemetryMinute } from '../agent/state-port.js';

const clone = <T>(x: T): T => structuredClone(x);

export class MemoryAgentStateStore implements AgentStateStore {
  private readonly miners = new Map<string, InventoryRow>();
  private readonly intents = new Map<string, IntentRow>();
  private commandRows: CommandRecord[] = [];
  private readonly byCommandId = new Map<number, CommandRecord>();
  private readonly minutes = new Map<string, TelemetryMinute>();
  private readonly signals = new Map<string, SignalRecord>();
  private readonly kv = new Map<string, string>();
  private readonly grid = new Map<string, DeploymentRecord>();
  private readonly gridAwards = new Map<string, AwardRecord>();
  private nextId = 1;

  upsertInventory(rows: readonly InventoryRow[]): Promise<void> {
    for (const r of rows) this.miners.set(r.id, clone(r));
    return Promise.resolve();
  }

  inventory(): Promise<InventoryRow[]> {
    return Promise.resolve([...this.miners.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(clone));
  }

  loadIntents(): Promise<Map<string, IntentRow>> {
    return Promise.resolve(new Map([...this.intents].map(([k, v]) => [k, clone(v)])));
  }

  persist(intents: readonly IntentRow[], sending: readonly CommandRecord[], completed: readonly CommandRecord[]): Promise<void> {
    for (const r of intents) {
      if (r.intent === null && r.powerTargetW === null) this.intents.delete(r.minerId);
      else this.intents.set(r.minerId, clone(r));
    }
    for (const r of sending) {
      if (r.id === undefined) r.id = this.nextId++;
      const row = clone(r);
      this.commandRows.push(row);
      this.byCommandId.set(row.id as number, row);
    }
    for (const r of completed) {
      const row = r.id === undefined ? undefined : this.byCommandId.get(r.id);
      if (row) Object.assign(row, clone(r));
    }
    return Promise.resolve();
  }

  commands(opts: { minerId?: string; sinceMs?: number; limit?: number } = {}): Promise<CommandRecord[]> {
    const rows = this.commandRows.filter((c) => (opts.minerId === undefined || c.minerId === opts.minerId) && (opts.sinceMs === undefined || c.sentAtMs >= opts.sinceMs));
    return Promise.resolve(rows.reverse().slice(0, opts.limit ?? Infinity).map(clone));
  }

  recordTelemetry(rows: readonly TelemetryMinute[]): Promise<void> {
    for (const r of rows) {
      const key = `${r.minerId}\u0000${r.minuteMs}`;
      const old = this.minutes.get(key);
      if (!old) {
        this.minutes.set(key, clone(r));
        continue;
      }
      const samples = old.samples + r.samples;
      const powerSamples = old.powerSamples + r.powerSamples;
      this.minutes.set(key, {
        ...r,
        samples,
        hashrateThs: (old.hashrateThs * old.samples + r.hashrateThs * r.samples) / Math.max(1, samples),
        powerW: powerSamples === 0 ? null : ((old.powerW ?? 0) * old.powerSamples + (r.powerW ?? 0) * r.powerSamples) / powerSamples,
        powerSamples,
        failures: old.failures + r.failures,
      });
    }
    return Promise.resolve();
  }

  telemetry(minerId: string): Promise<TelemetryMinute[]> {
    return Promise.resolve([...this.minutes.values()].filter((m) => m.minerId === minerId).sort((a, b) => a.minuteMs - b.minuteMs).map(clone));
  }

  prune(nowMs: number, policy: RetentionPolicy = DEFAULT_RETENTION): Promise<{ telemetry: number; commands: number; signals: number }> {
    let telemetry = 0;
    for (const [k, m] of this.minutes) if (m.minuteMs < nowMs - policy.telemetryDays * MS_PER_DAY && this.minutes.delete(k)) telemetry++;
    const keep = this.commandRows.filter((c) => c.sentAtMs >= nowMs - policy.commandDays * MS_PER_DAY);
    const commands = this.commandRows.length - keep.length;
    // Reassigned, not spliced with a spread: a month of a 2,000-miner site keeps >100k rows, more
    // arguments than a call may take (a month-long replay's ticks failed with a stack overflow).
    this.commandRows = keep;
    let signals = 0;
    for (const [id, s] of this.signals) if (s.state !== 'active' && s.receivedAtMs < nowMs - policy.signalDays * MS_PER_DAY && this.signals.delete(id)) signals++;
    return Promise.resolve({ telemetry, commands, signals });
  }

  getSignal(id: string): Promise<SignalRecord | undefined> {
    const s = this.signals.get(id);
    return Promise.resolve(s ? clone(s) : undefined);
  }

  activeSignals(): Promise<SignalRecord[]> {
    return Promise.resolve(
      [...this.signals.values()]
        .filter((s) => s.state === 'active')
        .sort((a, b) => a.receivedAtMs - b.receivedAtMs || (a.id < b.id ? -1 : 1))
        .map(clone),
    );
  }

  recentSignals(limit: number): Promise<SignalRecord[]> {
    return Promise.resolve(
      [...this.signals.values()]
        .sort((a, b) => b.receivedAtMs - a.receivedAtMs || (a.id < b.id ? 1 : -1))
        .slice(0, limit)
        .map(clone),
    );
  }

  saveSignals(records: readonly SignalRecord[], kv: Readonly<Record<string, string | null>> = {}): Promise<void> {
    for (const r of records) this.signals.set(r.id, clone(r));
    for (const [k, v] of Object.entries(kv)) this.setKvNow(k, v);
    return Promise.resolve();
  }

  getKv(key: string): Promise<string | undefined> {
    return Promise.resolve(this.kv.get(key));
  }

  setKv(key: string, value: string | null): Promise<void> {
    this.setKvNow(key, value);
    return Promise.resolve();
  }

  private setKvNow(key: string, value: string | null): void {
    if (value === null) this.kv.delete(key);
    else this.kv.set(key, value);
  }

  saveGrid(deployments: readonly DeploymentRecord[], awards: readonly AwardRecord[] = []): Promise<void> {
    for (const d of deployments) this.grid.set(d.id, clone(d));
    for (const a of awards) this.gridAwards.set(a.id, clone(a));
    return Promise.resolve();
  }

  getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    const d = this.grid.get(id);
    return Promise.resolve(d ? clone(d) : undefined);
  }

  deployments(opts: { fromMs?: number; toMs?: number; unfinished?: boolean } = {}): Promise<DeploymentRecord[]> {
    return Promise.resolve(
      [...this.grid.values()]
        .filter((d) => (!opts.unfinished || d.state === 'scheduled' || d.state === 'active') && (opts.fromMs === undefined || d.startMs >= opts.fromMs) && (opts.toMs === undefined || d.startMs < opts.toMs))
        .sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(clone),
    );
  }

  awards(sinceMs?: number): Promise<AwardRecord[]> {
    return Promise.resolve(
      [...this.gridAwards.values()]
        .filter((a) => sinceMs === undefined || a.toMs > sinceMs)
        .sort((a, b) => a.fromMs - b.fromMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(clone),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
