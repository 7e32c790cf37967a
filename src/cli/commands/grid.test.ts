import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deployment, T0 } from '../../fleet/state/agent-state.contract.js';
import { SqliteAgentStateStore } from '../../fleet/state/store.js';
import { captureIo, runCapture } from '../../testing/cli.js';
import { fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import { agentRoutes } from '../../server/agent-routes.js';
import { serveHttp } from '../../server/serve.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function agentDb(): Promise<{ dir: string; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mullet-grid-cli-'));
  dirs.push(dir);
  const file = join(dir, 'agent.db');
  const s = SqliteAgentStateStore.open(file, T0);
  await s.saveGrid([
    deployment('ecrs-1', { state: 'completed', result: 'met', t95AtMs: T0 + 4_000, t100AtMs: T0 + 5_000, deliveredMW: 5, finishedAtMs: T0 + 3_600_000 }),
    deployment('ers-2', { product: 'ERS-10', startMs: T0 + 86_400_000, receivedAtMs: T0 + 86_400_000, deadlineMs: T0 + 86_400_000 + 600_000, state: 'recalled', result: 'missed', deliveredMW: 2, penaltyUsd: 15_000, finishedAtMs: T0 + 86_400_000 + 3_600_000 }),
  ]);
  await s.close();
  return { dir, file };
}

describe('mullet grid evidence', () => {
  it('prints one row per deployment (table, CSV, JSON), filtered by start', async () => {
    const { dir } = await agentDb();
    const t = await runCapture(['grid', 'evidence', '--db', 'agent.db'], captureIo(dir));
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/ecrs-1\s+ECRS\s+5\.000/);
    expect(t.out).toMatch(/2 deployments: 1 met, 1 missed \(penalty 15,000\.00 USD\)/);
    const csv = await runCapture(['grid', 'evidence', '--db', 'agent.db', '--csv', '--from', '2025-08-02'], captureIo(dir));
    const lines = csv.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ers-2,ERS-10,5,/);
    expect(lines[1]).toMatch(/,missed,15000,recalled,/);
    const j = await runCapture(['grid', 'evidence', '--db', 'agent.db', '--json', '--to', '2025-08-02T00:00:00Z'], captureIo(dir));
    expect((JSON.parse(j.out) as { rows: { id: string; secondsToFull: number }[] }).rows).toMatchObject([{ id: 'ecrs-1', secondsToFull: 5 }]);
  });

  it('refuses a database that does not exist (no empty evidence from a typo) and a bad date', async () => {
    const { dir } = await agentDb();
    expect((await runCapture(['grid', 'evidence', '--db', 'nope.db'], captureIo(dir))).code).not.toBe(0);
    const bad = await runCapture(['grid', 'evidence', '--db', 'agent.db', '--from', 'yesterday'], captureIo(dir));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--from/);
  });
});

describe('mullet grid deploy / recall', () => {
  it('sends a deployment to the agent (port 0), repeats harmlessly, recalls; a bad product fails before sending', async () => {
    const { agent } = await setup(fakeFleet(4));
    const http = await serveHttp(agentRoutes(agent, { grid: agent }), { host: '127.0.0.1', port: 0 });
    try {
      const argv = ['grid', 'deploy', '--agent', http.url, '--id', 'cli-ecrs-1', '--product', 'ECRS', '--mw', '0.005', '--hold-minutes', '30'];
      const r = await runCapture(argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/cli-ecrs-1: ECRS 0.005 MW, scheduled; start .*, deadline .*, end /);
      expect((await agent.getDeployment('cli-ecrs-1'))?.source).toBe('http');
      expect((await runCapture(argv)).out).toMatch(/the agent already had it/);
      const j = await runCapture(['grid', 'recall', '--agent', http.url, '--id', 'cli-ecrs-1', '--json']);
      expect(JSON.parse(j.out)).toMatchObject({ duplicate: false, deployment: { id: 'cli-ecrs-1', state: 'recalled' } });
      const bad = await runCapture(['grid', 'deploy', '--agent', http.url, '--id', 'x', '--product', 'NonSpin', '--mw', '1']);
      expect(bad.code).toBe(2);
      const conflict = await runCapture(['grid', 'deploy', '--agent', http.url, '--id', 'cli-ecrs-1', '--product', 'ECRS', '--mw', '1']);
      expect(conflict.code).toBe(2);
      expect(conflict.err).toMatch(/already used/);
    } finally {
      await http.close();
    }
  });
});
