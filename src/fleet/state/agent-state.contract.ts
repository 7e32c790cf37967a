/**
 * One contract for every implementation of the agent's storage port (`../agent/state-port.ts`):
 * SQLite (file and :memory:) and memory today, PostgreSQL later. Each implementation's test file
 * calls `agentStateContract(name, open)`; `open(dir?)` returns a fresh store, or — given the same
 * key — the store reopened over the same data, for implementations that persist (restart memory).
 */
import { describe, expect, it } from 'vitest';
import { MS_PER_DAY, MS_PER_MINUTE } from '../../core/time.js';
import type { AwardRecord, DeploymentRecord } from '../agent/grid-records.js';
import type { AgentStateStore, CommandRecord, SignalRecord, TelemetryMinute } from '../agent/state-port.js';
import { TelemetryMinutes } from '../agent/telemetry-minutes.js';

export const T0 = Date.UTC(2025, 7, 1, 12, 0, 0);

export function signal(id: string, over: Partial<SignalRecord> = {}): SignalRecord {
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

export function command(minerId: string, over: Partial<CommandRecord> = {}): CommandRecord {
  return { minerId, kind: 'sleep', targetW: null, reason: 'curtail', attempt: 1, signalId: 'dr-2', sentAtMs: T0, latencyMs: 0, ok: false, state: 'sent', errorCode: null, errorFault: null, errorMessage: null, ...over };
}

export function deployment(id: string, over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    id,
    product: 'ECRS',
    mw: 5,
    request: '{"product":"ECRS","mw":5}',
    source: 'http',
    receivedAtMs: T0,
    startMs: T0,
    deadlineMs: T0 + 600_000,
    endMs: null,
    state: 'active',
    result: 'pending',
    awardId: 'aw-1',
    measuredBy: 'reads',
    baselineMW: 20,
    baselineSiteMW: null,
    priorMW: 0,
    firstCommandAtMs: T0 + 10,
    t95AtMs: null,
    t100AtMs: null,
    lastReductionMW: 1.5,
    deliveredMW: 1.5,
    penaltyUsd: 0,
    finishedAtMs: null,
    ...over,
  };
}

export function award(id: string, over: Partial<AwardRecord> = {}): AwardRecord {
  return { id, product: 'ECRS', mw: 10, fromMs: T0, toMs: T0 + 3_600_000, source: 'config', request: '{}', ...over };
}

export interface ContractTarget {
  /** A fresh, empty store. */
  open(): Promise<AgentStateStore>;
  /** The same data reopened (after close), when the implementation persists. */
  reopen?: (previous: AgentStateStore) => Promise<AgentStateStore>;
}

export function agentStateContract(name: string, t: ContractTarget): void {
  describe(`agent state store contract: ${name}`, () => {
    it('keeps intents, signals and kv; a null intent and target deletes the row', async () => {
      let a = await t.open();
      await a.upsertInventory([{ id: 'm1', host: '127.30.0.1', driver: 'luxos', model: 'Antminer S21', ratedPowerW: 3500, ratedHashrateThs: 200 }], T0);
      await a.persist(
        [
          { minerId: 'm1', intent: { kind: 'sleep', sentAtMs: T0, attempts: 1, status: 'confirmed', confirmedAtMs: T0 + 3 }, powerTargetW: null },
          { minerId: 'm2', intent: { kind: 'target', targetW: 2000, sentAtMs: T0, attempts: 2, status: 'pending', lastError: 'TIMEOUT' }, powerTargetW: 2000 },
          { minerId: 'm3', intent: { kind: 'sleep', sentAtMs: T0, attempts: 3, status: 'failed', failedAtMs: T0 + 5 }, powerTargetW: null },
        ],
        [],
        [],
      );
      await a.saveSignals([signal('dr-1')], { lastSafeMW: '12.5' });
      if (t.reopen) a = await t.reopen(a);
      const intents = await a.loadIntents();
      expect(intents.get('m1')).toEqual({ minerId: 'm1', intent: { kind: 'sleep', sentAtMs: T0, attempts: 1, status: 'confirmed', confirmedAtMs: T0 + 3 }, powerTargetW: null });
      expect(intents.get('m2')?.intent).toEqual({ kind: 'target', targetW: 2000, sentAtMs: T0, attempts: 2, status: 'pending', lastError: 'TIMEOUT' });
      expect(intents.get('m2')?.powerTargetW).toBe(2000);
      expect(intents.get('m3')?.intent?.failedAtMs).toBe(T0 + 5);
      expect(await a.getSignal('dr-1')).toEqual(signal('dr-1'));
      expect((await a.activeSignals()).map((s) => s.id)).toEqual(['dr-1']);
      expect(await a.getKv('lastSafeMW')).toBe('12.5');
      expect((await a.inventory())[0]?.ratedPowerW).toBe(3500);
      await a.persist([{ minerId: 'm1', intent: null, powerTargetW: null }], [], []);
      expect((await a.loadIntents()).has('m1')).toBe(false);
      await a.setKv('lastSafeMW', null);
      expect(await a.getKv('lastSafeMW')).toBeUndefined();
      await a.close();
    });

    it('writes 10,000 commands before sending (ids assigned) and completes them after', async () => {
      const s = await t.open();
      const n = 10_000;
      const rows = Array.from({ length: n }, (_, i) => command(`m${i}`));
      await s.persist(
        rows.map((r) => ({ minerId: r.minerId, intent: { kind: 'sleep' as const, sentAtMs: T0, attempts: 1, status: 'pending' as const }, powerTargetW: null })),
        rows,
        [],
      );
      expect(rows.every((r) => typeof r.id === 'number')).toBe(true);
      expect(new Set(rows.map((r) => r.id)).size).toBe(n);
      expect((await s.commands()).every((c) => c.state === 'sent')).toBe(true);
      const done = rows.map((r, i) => ({ ...r, sentAtMs: T0 + i, latencyMs: 3.5, ok: i % 100 !== 0, state: 'done' as const, errorCode: i % 100 === 0 ? 'TIMEOUT' : null, errorFault: i % 100 === 0 ? 'timeout' : null }));
      await s.persist([], [], done);
      expect((await s.commands()).length).toBe(n);
      expect((await s.commands({ minerId: 'm100' }))[0]).toMatchObject({ ok: false, state: 'done', errorCode: 'TIMEOUT', errorFault: 'timeout', latencyMs: 3.5, sentAtMs: T0 + 100 });
      expect(await s.commands({ limit: 2 })).toHaveLength(2);
      expect((await s.commands({ limit: 1 }))[0]?.minerId).toBe(`m${n - 1}`); // newest first
      expect((await s.loadIntents()).size).toBe(n);
      await s.close();
    });

    it('merges per-minute telemetry by sample counts and prunes past retention (active signals kept)', async () => {
      const s = await t.open();
      const acc = new TelemetryMinutes();
      acc.add('m1', T0 + 1_000, { state: 'mining', hashrateThs: 200, powerW: 3500 });
      acc.add('m1', T0 + 11_000, { state: 'mining', hashrateThs: 100, powerW: null });
      acc.add('m1', T0 + 21_000, null);
      expect(acc.take()).toEqual([]); // nothing until the minute is over
      acc.add('m1', T0 + MS_PER_MINUTE + 1_000, { state: 'sleeping', hashrateThs: 0, powerW: 40 });
      await s.recordTelemetry(acc.take());
      await s.recordTelemetry(acc.take(true));
      const row = (minuteMs: number, o: Partial<TelemetryMinute>): TelemetryMinute => ({ minerId: 'm1', minuteMs, samples: 0, hashrateThs: 0, powerW: null, powerSamples: 0, state: 'unknown', failures: 0, ...o });
      expect(await s.telemetry('m1')).toEqual([
        row(T0, { samples: 2, hashrateThs: 150, powerW: 3500, powerSamples: 1, state: 'mining', failures: 1 }),
        row(T0 + MS_PER_MINUTE, { samples: 1, hashrateThs: 0, powerW: 40, powerSamples: 1, state: 'sleeping' }),
      ]);
      // A minute written in two batches (a restart mid-minute) merges into one mean.
      await s.recordTelemetry([row(T0 + MS_PER_MINUTE, { samples: 1, powerW: 60, powerSamples: 1, state: 'sleeping' })]);
      expect((await s.telemetry('m1'))[1]).toMatchObject({ samples: 2, powerW: 50 });
      await s.saveSignals([signal('old', { state: 'confirmed', receivedAtMs: T0 - 100 * MS_PER_DAY }), signal('old-active', { receivedAtMs: T0 - 100 * MS_PER_DAY })]);
      await s.persist([], [command('m9', { sentAtMs: T0 - 100 * MS_PER_DAY })], []);
      expect(await s.prune(T0 + 15 * MS_PER_DAY)).toEqual({ telemetry: 2, commands: 1, signals: 1 });
      expect(await s.getSignal('old-active')).toBeDefined();
      await s.close();
    });

    it('keeps grid deployments and awards: upsert by id, by start time, the unfinished ones, across a reopen', async () => {
      let s = await t.open();
      await s.saveGrid(
        [deployment('d2', { startMs: T0 + 2 }), deployment('d1', { startMs: T0 + 1, state: 'completed', result: 'met', t95AtMs: T0 + 100, t100AtMs: T0 + 200, finishedAtMs: T0 + 999 }), deployment('d3', { startMs: T0 + 3, state: 'scheduled' })],
        [award('a2', { fromMs: T0 + 10, toMs: T0 + 20 }), award('a1')],
      );
      await s.saveGrid([deployment('d2', { startMs: T0 + 2, state: 'recalled', result: 'missed', penaltyUsd: 1234.5 })]);
      if (t.reopen) s = await t.reopen(s);
      expect(await s.getDeployment('d1')).toEqual(deployment('d1', { startMs: T0 + 1, state: 'completed', result: 'met', t95AtMs: T0 + 100, t100AtMs: T0 + 200, finishedAtMs: T0 + 999 }));
      expect(await s.getDeployment('nope')).toBeUndefined();
      expect((await s.deployments()).map((d) => [d.id, d.state])).toEqual([
        ['d1', 'completed'],
        ['d2', 'recalled'],
        ['d3', 'scheduled'],
      ]);
      expect((await s.getDeployment('d2'))?.penaltyUsd).toBe(1234.5);
      expect((await s.deployments({ unfinished: true })).map((d) => d.id)).toEqual(['d3']);
      expect((await s.deployments({ fromMs: T0 + 2, toMs: T0 + 3 })).map((d) => d.id)).toEqual(['d2']);
      expect((await s.awards()).map((a) => a.id)).toEqual(['a1', 'a2']);
      expect((await s.awards(T0 + 20)).map((a) => a.id)).toEqual(['a1']);
      expect(await s.prune(T0 + 1000 * MS_PER_DAY)).toMatchObject({ signals: 0 });
      expect(await s.deployments()).toHaveLength(3); // evidence is never pruned
      await s.close();
    });

    it('lists recent signals newest first and the active ones oldest first', async () => {
      const s = await t.open();
      await s.saveSignals([signal('a', { receivedAtMs: T0 }), signal('b', { receivedAtMs: T0 + 1 }), signal('c', { receivedAtMs: T0 + 2, state: 'confirmed' })]);
      expect((await s.recentSignals(2)).map((x) => x.id)).toEqual(['c', 'b']);
      expect((await s.activeSignals()).map((x) => x.id)).toEqual(['a', 'b']);
      await s.close();
    });
  });
}
