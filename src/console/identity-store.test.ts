import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { entry, identityStoreContract, T0 } from './identity-store.contract.js';
import { MemoryIdentityStore } from './memory-store.js';
import { SqliteIdentityStore } from './sqlite-store.js';

const dirs: string[] = [];
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'mullet-console-'));
  dirs.push(d);
  return join(d, 'console.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

identityStoreContract('SQLite file', {
  open: () => Promise.resolve(SqliteIdentityStore.open(tempDb(), T0)),
  reopen: async (prev) => {
    const file = (prev as SqliteIdentityStore).file;
    await prev.close();
    return SqliteIdentityStore.open(file, T0 + 1);
  },
});
identityStoreContract('SQLite :memory:', { open: () => Promise.resolve(SqliteIdentityStore.open(':memory:', T0)) });
identityStoreContract('memory', { open: () => Promise.resolve(new MemoryIdentityStore()) });

describe('SQLite identity store', () => {
  it('the audit log is append-only even to raw SQL on the connection', async () => {
    const s = SqliteIdentityStore.open(':memory:', T0);
    await s.appendAudit(entry());
    expect(() => s.execForTest("UPDATE audit SET result = 'ok'")).toThrow(/append-only/);
    expect(() => s.execForTest('DELETE FROM audit')).toThrow(/append-only/);
    expect(await s.audit({})).toHaveLength(1);
    await s.close();
  });

  it('two connections share one file (the CLI adds a user while the server runs)', async () => {
    const file = tempDb();
    const server = SqliteIdentityStore.open(file, T0);
    const cli = SqliteIdentityStore.open(file, T0);
    await cli.createUser({ name: 'admin', passwordHash: 'h', role: 'admin', site: null, disabled: false, createdAtMs: T0, updatedAtMs: T0 });
    expect((await server.userByName('admin'))?.role).toBe('admin');
    await cli.close();
    await server.close();
  });
});
