/**
 * The live path end to end: a replayed day through the replay feed, the live dispatcher, the agent,
 * the simulated site (real protocols on loopback) and the live ledger — against the back-test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKTEST_2023_FILES } from '../bench/dispatch.js';
import { opsStatusSchema } from '../ops/api.js';
import { captureIo, runCapture } from '../testing/cli.js';
import { REPO_ROOT, SKIP_REASON, sharedFile, skipWithoutSharedData } from '../testing/data.js';
import type { MulletError } from '../core/errors.js';
import { VirtualTime } from '../ops/time.js';
import { startOps } from './ops.js';
import { readOpsConfig } from './ops-config.js';

describe('mullet ops replay', () => {
  it('replays the demo day (synthetic) within 2 % of the back-test, serving /v1/ops while it runs', async () => {
    const ops = await startOps({ configFile: 'examples/ops-demo.yaml', cwd: REPO_ROOT, listen: '127.0.0.1:0' });
    try {
      const res = await fetch(`${ops.url}/v1/ops`);
      expect(res.status).toBe(200);
      const doc = opsStatusSchema.parse(await res.json());
      expect(doc.mode).toBe('replay');
      expect(doc.replay?.time).toBe('virtual');
      const metrics = await (await fetch(`${ops.url}/metrics`)).text();
      expect(metrics).toMatch(/# HELP mullet_ops_usd_per_hour /);
      const out = await ops.run(new AbortController().signal);
      if (out.mode !== 'replay') throw new Error('expected a replay');
      expect(out.dispatch.intervals).toBe(96);
      expect(out.live.intervals).toBe(96);
      // The import limit holds on the true site power (the simulated meter), interval by interval.
      expect(out.maxMeteredMW as number).toBeLessThanOrEqual(0.5 + 1e-6);
      expect(Math.abs(out.netGapPct)).toBeLessThan(2);
      // Rent does not depend on what was drawn: identical to the cent.
      expect(out.gapByStreamUsd['ai']).toBe(0);
      // The simulated meter and the ledger agree on the site's energy within 2 %.
      expect(out.meteredMWh).not.toBeNull();
      expect(Math.abs((out.meteredMWh as number) - out.settledMWh) / out.settledMWh).toBeLessThan(0.02);
      const ledger = (await (await fetch(`${ops.url}/v1/ops/ledger`)).json()) as { settledIntervals: number };
      expect(ledger.settledIntervals).toBe(96);
    } finally {
      await ops.close();
    }
  }, 300_000);

  it('parses the live example config', () => {
    const c = readOpsConfig(path.join(REPO_ROOT, 'examples/ops-live.yaml'));
    expect('live' in c.market).toBe(true);
  });

  it('refuses a bad config with the file, line and key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mullet-ops-'));
    try {
      const file = path.join(dir, 'ops.yaml');
      writeFileSync(file, `site: ${path.join(REPO_ROOT, 'examples/ops-demo-site.yaml')}\nmarket:\n  replay: { from: 2025-08-04, to: 2025-08-01, data: synthetic }\nfleet: { simulator: {} }\n`);
      const err = await startOps({ configFile: file, cwd: dir }).then(() => null, (e: unknown) => e as MulletError);
      expect(err?.message).toMatch(/market\.replay\.to: to must not be before from/);
      expect(err?.where).toMatch(/ops\.yaml:3/);
      writeFileSync(file, `site: ${path.join(REPO_ROOT, 'examples/ops-demo-site.yaml')}\npolicy: optimal\nmarket: { replay: { from: 2025-08-04, to: 2025-08-04 } }\nfleet: { simulator: {} }\n`);
      await expect(startOps({ configFile: file, cwd: dir })).rejects.toThrow(/policy/);
      writeFileSync(file, `site: nowhere.yaml\nmarket: { replay: { from: 2025-08-04, to: 2025-08-04 } }\nfleet: { simulator: {} }\n`);
      await expect(startOps({ configFile: file, cwd: dir })).rejects.toThrow(/no such site file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skipWithoutSharedData)(`mullet ops replay of real 2023 HB_WEST history ${skipWithoutSharedData ? SKIP_REASON : ''}`, () => {
  let dir = '';
  let db = '';
  const run = (argv: string[]) => runCapture(argv, captureIo(REPO_ROOT));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mullet-ops-real-'));
    db = path.join(dir, 'market.db');
    const r = await run(['data', 'import', ...BACKTEST_2023_FILES.map((f) => sharedFile(f)), '--db', db, '--json']);
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the net USD of `mullet backtest --policy rolling` within 2 %', async () => {
    const cfg = path.join(dir, 'ops.yaml');
    writeFileSync(cfg, `site: ${path.join(REPO_ROOT, 'examples/ops-demo-site.yaml')}\npolicy: rolling\nmarket: { replay: { from: 2023-08-09, to: 2023-08-09, data: store } }\nfleet: { simulator: { seed: 3 } }\nlisten: 127.0.0.1:0\n`);
    const live = await run(['ops', '--config', cfg, '--db', db, '--json']);
    expect(live.err).not.toMatch(/mullet ops:.*error/i);
    expect(live.code).toBe(0);
    const j = JSON.parse(live.out) as { netUsd: number; revenueUsd: Record<string, number>; costUsd: Record<string, number>; intervals: number; backtest: { netUsd: number }; netGapPct: number };
    expect(j.intervals).toBe(96);
    const bt = await run(['backtest', '--site', 'examples/ops-demo-site.yaml', '--from', '2023-08-09', '--to', '2023-08-09', '--policy', 'rolling', '--db', db, '--json']);
    expect(bt.code).toBe(0);
    const b = JSON.parse(bt.out) as { netUsd: number };
    // The replay's reference is exactly what `mullet backtest` prints…
    expect(j.backtest.netUsd).toBe(b.netUsd);
    // …and what the machines really drew settles within 2 % of it.
    expect(Math.abs(j.netUsd - b.netUsd) / Math.abs(b.netUsd)).toBeLessThan(0.02);
  }, 300_000);

  it('runs live on the market store, and a market that stops publishing puts the agent in its safe mode', async () => {
    // The store's RT prices end with 2023 (the 23:45 CST interval ends 2024-01-01T06:00Z): run across that edge.
    const cfg = path.join(dir, 'live.yaml');
    writeFileSync(cfg, `site: ${path.join(REPO_ROOT, 'examples/ops-demo-site.yaml')}\npolicy: strike\nmarket: { live: { feeds: false, windowDays: 2, refreshS: 60 } }\nstore: { sqlite: ${db} }\nfleet: { simulator: { seed: 5 } }\ndispatch: { staleAfterS: 1800 }\nlisten: 127.0.0.1:0\n`);
    const time = new VirtualTime(Date.parse('2024-01-01T05:20:00Z'));
    const ops = await startOps({ configFile: cfg, cwd: dir, time });
    const ac = new AbortController();
    const done = ops.run(ac.signal);
    try {
      await time.until(Date.parse('2024-01-01T05:50:00Z'));
      const fresh = ops.agent.agent.status();
      expect(fresh.lastTick?.target.stale).toBe(false);
      expect(ops.status().mode).toBe('live');
      await time.until(Date.parse('2024-01-01T07:00:00Z'));
      const stale = ops.agent.agent.status();
      expect(stale.lastTick?.target).toMatchObject({ stale: true, reason: expect.stringMatching(/no RT price since/) as unknown });
      expect(stale.lastTick?.decision.safeMode).not.toBeNull();
    } finally {
      ac.abort();
      const out = await done;
      await ops.close();
      expect(out.mode).toBe('live');
      if (out.mode === 'live') expect(out.ledger.settledIntervals).toBeGreaterThanOrEqual(2);
    }
  }, 300_000);
});
