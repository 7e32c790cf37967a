/** One contract for both alert stores (memory and SQLite). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertRulesSchema } from './config.js';
import { SqliteAlertStore } from './sqlite-store.js';
import { MemoryAlertStore, type AlertStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'mullet-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.parse('2026-08-04T12:00:00Z');

const stores: [string, () => AlertStore][] = [
  ['memory', () => new MemoryAlertStore()],
  ['sqlite', () => SqliteAlertStore.open(join(dir, `a-${Math.random().toString(36).slice(2)}.db`))],
];

describe.each(stores)('alert store contract: %s', (_name, make) => {
  it('records, resolves, adds deliveries, filters newest first, keeps rules', async () => {
    const s = make();
    try {
      const a = await s.insert({ ruleId: 'safe', kind: 'safe-mode', key: 'site', severity: 'critical', detail: 'hold', firedAtMs: T0, suppressed: true });
      const b = await s.insert({ ruleId: 'off', kind: 'miner-offline', key: 'fleet', severity: 'warning', detail: '3 of 10', firedAtMs: T0 + 1000, suppressed: false });
      await s.resolve(a, T0 + 5000);
      await s.resolve(a, T0 + 9000); // once
      await s.addDeliveries(a, [{ event: 'fired', channel: 'webhook', ok: true, at: new Date(T0).toISOString(), attempts: 1, error: null }], true);
      await s.addDeliveries(a, [{ event: 'resolved', channel: 'email', ok: false, at: new Date(T0).toISOString(), attempts: 1, error: 'ECONNREFUSED' }]);
      const all = await s.list({ limit: 10 });
      expect(all.map((x) => x.id)).toEqual([b, a]);
      expect(all[1]).toMatchObject({ state: 'resolved', resolvedAt: new Date(T0 + 5000).toISOString(), suppressed: false });
      expect(all[1]?.deliveries.map((d) => [d.channel, d.ok])).toEqual([
        ['webhook', true],
        ['email', false],
      ]);
      expect((await s.list({ limit: 10, state: 'active' })).map((x) => x.ruleId)).toEqual(['off']);
      expect((await s.list({ limit: 10, severity: 'critical' })).map((x) => x.id)).toEqual([a]);
      expect((await s.list({ limit: 10, fromMs: T0 + 1, toMs: T0 + 2000 })).map((x) => x.id)).toEqual([b]);
      expect((await s.list({ limit: 10, beforeId: b })).map((x) => x.id)).toEqual([a]);
      expect((await s.list({ limit: 1 })).length).toBe(1);
      expect(await s.loadRules()).toBeNull();
      const rules = alertRulesSchema.parse([{ id: 'safe', kind: 'safe-mode', severity: 'critical' }]);
      await s.saveRules({ rules, updatedAtMs: T0, updatedBy: 'user:ann' });
      expect(await s.loadRules()).toEqual({ rules, updatedAtMs: T0, updatedBy: 'user:ann' });
    } finally {
      await s.close();
    }
  });
});
