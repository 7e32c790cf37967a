import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MS_PER_DAY, MS_PER_MINUTE } from '../../core/time.js';
import { AgentStateStore, type CommandRecord, type SignalRecord } from './store.js';

const T0 = Date.UTC(2025, 7, 1, 12, 0, 0);
const dirs: string[] = [];
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'mullet-agent-state-'));
  dirs.push(d);
  return join(d, 'agent.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function signal(id: string, over: Partial<SignalRecord> = {}): SignalRecord {
  return {
    id,
    kind: 'curtail',
    request: '{"mw":5}',
    source: 'http',
    receivedAtMs: T0,
    capMW: 10,
    baselineMW: 15,
    state: 'active',
    commandsSent: 0,
    firstCommandAtMs: null,
    confirmedAtMs: null,
    minersConfirmed: 0,
    minersFailed: 0,
    minersUnreachable: 0,
    shortfallMW: null,
    supersededBy: null,
    ...over,
  };
}

describe('AgentStateStore', () => {
  it('keeps intents, signals and kv across a reopen (restart memory)', () => {
    const file = tempDb();
    const a = AgentStateStore.open(file, T0);
    a.upsertInventory([{ id: 'm1', host: '127.30.0.1', driver: 'luxos', model: 'Antminer S21', ratedPowerW: 3500, ratedHashrateThs: 200 }], T0);
    a.saveIntents([
      { minerId: 'm1', intent: { kind: 'sleep', sentAtMs: T0, attempts: 1, status: 'confirmed' }, powerTargetW: null },
      { minerId: 'm2', intent: { kind: 'target', targetW: 2000, sentAtMs: T0, attempts: 2, status: 'pending', lastError: 'TIMEOUT' }, powerTargetW: 2000 },
      { minerId: 'm3', intent: { kind: 'sleep', sentAtMs: T0, attempts: 3, status: 'failed', failedAtMs: T0 + 5 }, powerTargetW: null },
    ]);
    a.putSignal(signal('dr-1'));
    a.setKv('lastSafeMW', '12.5');
    a.close();

    const b = AgentStateStore.open(file, T0 + 1000);
    const intents = b.loadIntents();
    expect(intents.get('m1')).toEqual({ minerId: 'm1', intent: { kind: 'sleep', sentAtMs: T0, attempts: 1, status: 'confirmed' }, powerTargetW: null });
    expect(intents.get('m2')?.intent).toEqual({ kind: 'target', targetW: 2000, sentAtMs: T0, attempts: 2, status: 'pending', lastError: 'TIMEOUT' });
    expect(intents.get('m2')?.powerTargetW).toBe(2000);
    expect(intents.get('m3')?.intent?.failedAtMs).toBe(T0 + 5);
    expect(b.getSignal('dr-1')).toEqual(signal('dr-1'));
    expect(b.activeSignals().map((s) => s.id)).toEqual(['dr-1']);
    expect(b.getKv('lastSafeMW')).toBe('12.5');
    expect(b.inventory()[0]?.ratedPowerW).toBe(3500);
    // Clearing an intent with no target deletes the row.
    b.saveIntents([{ minerId: 'm1', intent: null, powerTargetW: null }]);
    expect(b.loadIntents().has('m1')).toBe(false);
    b.close();
    b.close(); // idempotent
  });

  it('writes 10,000 commands before sending, completes them after, and intents in batches', () => {
    const s = AgentStateStore.open(':memory:', T0);
    const n = 10_000;
    const rows: CommandRecord[] = Array.from({ length: n }, (_, i) => ({
      minerId: `m${i}`,
      kind: 'sleep' as const,
      targetW: null,
      reason: 'curtail',
      attempt: 1,
      signalId: 'dr-2',
      sentAtMs: T0,
      latencyMs: 0,
      ok: false,
      state: 'sent' as const,
      errorCode: null,
      errorFault: null,
      errorMessage: null,
    }));
    const intents = Array.from({ length: n }, (_, i) => ({ minerId: `m${i}`, intent: { kind: 'sleep' as const, sentAtMs: T0, attempts: 1, status: 'pending' as const }, powerTargetW: null }));
    s.persist(intents, rows, []);
    expect(s.commands().every((c) => c.state === 'sent')).toBe(true);
    const done = rows.map((r, i) => ({ ...r, sentAtMs: T0 + i, latencyMs: 3.5, ok: i % 100 !== 0, state: 'done' as const, errorCode: i % 100 === 0 ? 'TIMEOUT' : null, errorFault: i % 100 === 0 ? 'timeout' : null }));
    s.persist([], [], done);
    expect(s.commands().length).toBe(n);
    expect(s.commands({ minerId: 'm100' })[0]).toMatchObject({ ok: false, state: 'done', errorCode: 'TIMEOUT', errorFault: 'timeout', latencyMs: 3.5, sentAtMs: T0 + 100 });
    expect(s.loadIntents().size).toBe(n);
    s.close();
  });

  it('a crash between writing and completing leaves the commands on record; the next open marks them interrupted', () => {
    const file = tempDb();
    const a = AgentStateStore.open(file, T0);
    const row = (minerId: string): CommandRecord => ({ minerId, kind: 'sleep', targetW: null, reason: 'curtail', attempt: 1, signalId: null, sentAtMs: T0, latencyMs: 0, ok: false, state: 'sent', errorCode: null, errorFault: null, errorMessage: null });
    a.persist([], [row('m1'), row('m2')], []);
    a.abandon(); // kill -9
    const b = AgentStateStore.open(file, T0 + 1);
    expect(b.commands().map((c) => [c.minerId, c.state]).sort()).toEqual([
      ['m1', 'interrupted'],
      ['m2', 'interrupted'],
    ]);
    // New rows continue the ids after the dead process's rows.
    b.persist([], [row('m3')], []);
    expect(b.commands({ minerId: 'm3' })[0]?.id).toBe(3);
    b.close();
  });

  it('one agent per database: a second open is refused while the first holds it', () => {
    const file = tempDb();
    const a = AgentStateStore.open(file, T0);
    expect(() => AgentStateStore.open(file, T0)).toThrow(/in use by another process/);
    a.close();
    AgentStateStore.open(file, T0).close();
  });

  it('finds the active signal with an index, not a scan of every signal ever received', () => {
    const s = AgentStateStore.open(':memory:', T0);
    const plan = s.explain("SELECT * FROM signals WHERE state = 'active' ORDER BY received_at_ms, id");
    expect(plan).toMatch(/USING INDEX signals_active/);
    s.close();
  });

  it('downsamples telemetry to per-minute means and prunes past retention', () => {
    const s = AgentStateStore.open(':memory:', T0);
    s.addTelemetry('m1', T0 + 1_000, { state: 'mining', hashrateThs: 200, powerW: 3500 });
    s.addTelemetry('m1', T0 + 11_000, { state: 'mining', hashrateThs: 100, powerW: null });
    s.addTelemetry('m1', T0 + 21_000, null);
    // Nothing is written until the minute is over.
    expect(s.flushTelemetry()).toBe(0);
    s.addTelemetry('m1', T0 + MS_PER_MINUTE + 1_000, { state: 'sleeping', hashrateThs: 0, powerW: 40 });
    expect(s.flushTelemetry()).toBe(1);
    expect(s.flushTelemetry(true)).toBe(1);
    expect(s.telemetry('m1')).toEqual([
      { minuteMs: T0, samples: 2, hashrateThs: 150, powerW: 3500, state: 'mining', failures: 1 },
      { minuteMs: T0 + MS_PER_MINUTE, samples: 1, hashrateThs: 0, powerW: 40, state: 'sleeping', failures: 0 },
    ]);
    // A minute written in two flushes (restart mid-minute) merges into one mean.
    s.addTelemetry('m1', T0 + MS_PER_MINUTE + 30_000, { state: 'sleeping', hashrateThs: 0, powerW: 60 });
    s.flushTelemetry(true);
    expect(s.telemetry('m1')[1]).toMatchObject({ samples: 2, powerW: 50 });

    s.putSignal(signal('old', { state: 'confirmed', receivedAtMs: T0 - 100 * MS_PER_DAY }));
    s.putSignal(signal('old-active', { receivedAtMs: T0 - 100 * MS_PER_DAY }));
    const removed = s.prune(T0 + 15 * MS_PER_DAY);
    expect(removed).toEqual({ telemetry: 2, commands: 0, signals: 1 });
    expect(s.getSignal('old-active')).toBeDefined();
    s.close();
  });
});
