import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentStateContract, command, T0 } from './agent-state.contract.js';
import { MemoryAgentStateStore } from './memory-store.js';
import { SqliteAgentStateStore } from './store.js';

const dirs: string[] = [];
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'mullet-agent-state-'));
  dirs.push(d);
  return join(d, 'agent.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

agentStateContract('SQLite file', {
  open: () => Promise.resolve(SqliteAgentStateStore.open(tempDb(), T0)),
  reopen: async (prev) => {
    const file = (prev as SqliteAgentStateStore).file;
    await prev.close();
    return SqliteAgentStateStore.open(file, T0 + 1000);
  },
});
agentStateContract('SQLite :memory:', { open: () => Promise.resolve(SqliteAgentStateStore.open(':memory:', T0)) });
agentStateContract('memory', { open: () => Promise.resolve(new MemoryAgentStateStore()) });

describe('SQLite agent state store', () => {
  it('a crash between writing and completing leaves the commands on record; the next open marks them interrupted', async () => {
    const file = tempDb();
    const a = SqliteAgentStateStore.open(file, T0);
    await a.persist([], [command('m1'), command('m2')], []);
    a.abandon(); // kill -9
    const b = SqliteAgentStateStore.open(file, T0 + 1);
    expect((await b.commands()).map((c) => [c.minerId, c.state]).sort()).toEqual([
      ['m1', 'interrupted'],
      ['m2', 'interrupted'],
    ]);
    // New rows continue the ids after the dead process's rows.
    await b.persist([], [command('m3')], []);
    expect((await b.commands({ minerId: 'm3' }))[0]?.id).toBe(3);
    await b.close();
  });

  it('one agent per database: a second open is refused (CONFLICT) while the first holds it', async () => {
    const file = tempDb();
    const a = SqliteAgentStateStore.open(file, T0);
    expect(() => SqliteAgentStateStore.open(file, T0)).toThrow(/in use by another process/);
    await a.close();
    await SqliteAgentStateStore.open(file, T0).close();
  });

  it('finds the active signal with an index, not a scan of every signal ever received', async () => {
    const s = SqliteAgentStateStore.open(':memory:', T0);
    const plan = s.explain("SELECT * FROM signals WHERE state = 'active' ORDER BY received_at_ms, id");
    expect(plan).toMatch(/USING INDEX signals_active/);
    await s.close();
  });
});

describe('memory agent state store', () => {
  it('prunes more command rows than a function call takes arguments (a month of a 2,000-miner replay)', async () => {
    const m = new MemoryAgentStateStore();
    const rows = Array.from({ length: 150_000 }, (_, i) => command(`m${i % 2000}`, { sentAtMs: T0 + i }));
    await m.persist([], rows, []);
    await expect(m.prune(T0 + 150_000)).resolves.toMatchObject({ commands: 0 });
    expect((await m.commands({ sinceMs: T0 + 149_990 })).length).toBe(10);
  });
});
