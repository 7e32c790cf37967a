import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_DEFAULTS, resolveAgentConfig } from './agent.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mullet-agent-config-'));
  dirs.push(d);
  return d;
}

describe('agent config file', () => {
  it('paths are relative to the file; a flag overrides the file; the rest take the defaults', () => {
    const d = dir();
    mkdirSync(join(d, 'conf'));
    writeFileSync(join(d, 'conf', 'agent.yaml'), ['siteId: west-1', 'site: ../site.yaml', 'inventory: inv.json', 'store: { sqlite: state/agent.db }', 'meter: 127.0.0.1:5021', 'target: { plan: plan.json }', 'safety: { tickS: 30, minDwellS: 120 }', ''].join('\n'));
    const c = resolveAgentConfig({ configFile: 'conf/agent.yaml', tickS: 5 }, d);
    expect(c).toMatchObject({
      siteId: 'west-1',
      siteFile: join(d, 'site.yaml'),
      inventoryFile: join(d, 'conf', 'inv.json'),
      dbFile: join(d, 'conf', 'state', 'agent.db'),
      planFile: join(d, 'conf', 'plan.json'),
      meter: '127.0.0.1:5021',
      tickS: 5, // the flag
      minDwellS: 120, // the file
      concurrency: AGENT_DEFAULTS.concurrency, // the default
      listen: AGENT_DEFAULTS.listen,
    });
  });

  it('reports every problem with file:line and its path, unknown keys named', () => {
    const d = dir();
    writeFileSync(join(d, 'agent.yaml'), ['site: site.yaml', 'inventory: inv.json', 'safety:', '  tickz: 3', '  minDwellS: -1', 'listen: nowhere', ''].join('\n'));
    let err: unknown;
    try {
      resolveAgentConfig({ configFile: 'agent.yaml' }, d);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BAD_INPUT' });
    const text = (err as Error).message;
    expect(text).toMatch(/agent\.yaml:4: safety\.tickz: unknown key/);
    expect(text).toMatch(/agent\.yaml:5: safety\.minDwellS: /);
    expect(text).toMatch(/agent\.yaml:6: listen: must be HOST:PORT/);
  });

  it('site and inventory are required from one place or the other', () => {
    expect(() => resolveAgentConfig({ inventoryFile: 'inv.json' }, dir())).toThrow(expect.objectContaining({ code: 'BAD_INPUT', where: '--site' }) as Error);
    expect(() => resolveAgentConfig({ configFile: 'missing.yaml' }, dir())).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
  });

  it('control: the NATS block, its secret file relative to the config file, and its errors', () => {
    const d = dir();
    mkdirSync(join(d, 'conf'));
    writeFileSync(join(d, 'conf', 'agent.yaml'), ['siteId: west-1', 'site: ../site.yaml', 'inventory: inv.json', 'control:', '  servers: [nats://127.0.0.1:4222]', '  auth: { nkeySeed: { file: creds/west-1.nk } }', '  holdS: 120', '  fallback: hold', ''].join('\n'));
    const c = resolveAgentConfig({ configFile: 'conf/agent.yaml' }, d);
    expect(c.control).toEqual({ servers: ['nats://127.0.0.1:4222'], auth: { nkeySeed: { file: join(d, 'conf', 'creds', 'west-1.nk') } }, holdS: 120, fallback: 'hold' });
    writeFileSync(join(d, 'bad.yaml'), ['site: s.yaml', 'inventory: i.json', 'control:', '  servers: [http://x:1]', '  fallback: panic', '  auth: { password: hunter2 }', ''].join('\n'));
    let err: unknown;
    try {
      resolveAgentConfig({ configFile: 'bad.yaml' }, d);
    } catch (e) {
      err = e;
    }
    const text = (err as Error).message;
    expect(text).toMatch(/bad\.yaml:4: control\.servers\[0\]: must be nats:\/\/HOST:PORT/);
    expect(text).toMatch(/bad\.yaml:5: control\.fallback/);
    // A secret never appears in an error.
    expect(text).not.toMatch(/hunter2/);
  });
});
