import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCapture } from '../../testing/cli.js';

/** A stand-in agent: records requests, answers like /v1/curtail and /v1/signals/ID do. */
async function stubAgent(handler: (req: { method: string; url: string; body: string }, n: number) => { status: number; body: unknown }) {
  const seen: { method: string; url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', body };
      seen.push(r);
      const out = handler(r, seen.length);
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

function timing(state: string, extra: Record<string, unknown> = {}) {
  return {
    id: 'dr-1',
    kind: 'curtail',
    request: { all: true },
    state,
    capMW: 0,
    signalReceivedAt: '2025-08-01T18:00:00.000Z',
    firstCommandAt: '2025-08-01T18:00:00.010Z',
    confirmedAt: state === 'confirmed' ? '2025-08-01T18:00:01.234Z' : null,
    elapsedMs: state === 'confirmed' ? 1234 : null,
    commandsSent: 100,
    miners: { confirmed: state === 'confirmed' ? 99 : 0, failed: state === 'confirmed' ? 1 : 0, unreachable: 0 },
    shortfallMW: null,
    supersededBy: null,
    ...extra,
  };
}

describe('mullet fleet curtail / restore', () => {
  it.each([
    [['fleet', 'curtail'], /give exactly one of --mw, --pct or --all/],
    [['fleet', 'curtail', '--mw', '5', '--all'], /give exactly one/],
    [['fleet', 'curtail', '--mw', '-1'], /--mw: must be > 0/],
    [['fleet', 'curtail', '--pct', '120'], /--pct: must be > 0 and <= 100 %, got 120/],
    [['fleet', 'curtail', '--all', '--agent', 'not a url'], /--agent: expected a URL/],
    [['fleet', 'restore', '--timeout-s', '0'], /--timeout-s: must be > 0/],
  ])('%j is bad input (exit 2)', async (argv, msg) => {
    const r = await runCapture(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  it('posts with an id, long-polls until confirmed and prints the timing JSON', async () => {
    const agent = await stubAgent((req) => (req.method === 'POST' ? { status: 202, body: { duplicate: false, signal: timing('active') } } : { status: 200, body: { signal: timing('confirmed') } }));
    const r = await runCapture(['fleet', 'curtail', '--all', '--id', 'dr-1', '--agent', agent.url, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ id: 'dr-1', state: 'confirmed', elapsedMs: 1234, commandsSent: 100, miners: { confirmed: 99, failed: 1 }, duplicate: false });
    expect(agent.seen[0]).toMatchObject({ method: 'POST', url: '/v1/curtail' });
    expect(JSON.parse(agent.seen[0]?.body ?? '{}')).toEqual({ all: true, id: 'dr-1' });
    expect(agent.seen[1]?.url).toMatch(/^\/v1\/signals\/dr-1\?waitMs=\d+$/);
  });

  it('prints a human line without --json, and a generated id when none is given', async () => {
    const agent = await stubAgent(() => ({ status: 200, body: { duplicate: true, signal: timing('confirmed', { kind: 'restore', capMW: null }) } }));
    const r = await runCapture(['fleet', 'restore', '--agent', agent.url]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('restore dr-1 confirmed in 1,234 ms: 100 commands, 99 miners confirmed, 1 failed, 0 unreachable\n');
    expect(r.err).toMatch(/already had signal cli-/);
    expect((JSON.parse(agent.seen[0]?.body ?? '{}') as { id: string }).id).toMatch(/^cli-[0-9a-f-]{36}$/);
  });

  it('an id conflict is bad input; a timeout and a superseded signal exit 1', async () => {
    const conflict = await stubAgent(() => ({ status: 409, body: { error: { code: 'CONFLICT', message: "signal id 'x' was already used", where: 'id' } } }));
    const c = await runCapture(['fleet', 'curtail', '--mw', '3', '--id', 'x', '--agent', conflict.url]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/agent: id: signal id 'x' was already used/);

    const slow = await stubAgent(() => ({ status: 200, body: { signal: timing('active') } }));
    const t = await runCapture(['fleet', 'curtail', '--all', '--agent', slow.url, '--timeout-s', '0.3', '--json']);
    expect(t.code).toBe(1);
    expect(JSON.parse(t.out)).toMatchObject({ state: 'active' });
    expect(t.err).toMatch(/not confirmed within 0.3 s/);

    const sup = await stubAgent(() => ({ status: 200, body: { signal: timing('superseded', { supersededBy: 'dr-2' }) } }));
    const s = await runCapture(['fleet', 'curtail', '--all', '--agent', sup.url]);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/superseded by dr-2/);
  });

  it('keeps waiting through an agent restart (connection refused while it is down) until --timeout-s', async () => {
    // The agent answers the POST, then goes down for ~1.5 s, then comes back with the signal confirmed.
    let up = true;
    const server = http.createServer((req, res) => {
      if (!up) {
        res.destroy();
        return;
      }
      let n = 0;
      req.on('data', () => n++);
      req.on('end', () => {
        const post = req.method === 'POST';
        res.writeHead(post ? 202 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(post ? { duplicate: false, signal: timing('active') } : { signal: timing('confirmed') }));
        if (post) {
          // Down: new connections refused until it comes back on the same port.
          up = false;
          const port = (server.address() as AddressInfo).port;
          server.closeAllConnections();
          server.close(() => setTimeout(() => server.listen(port, '127.0.0.1', () => (up = true)), 1_500));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await runCapture(['fleet', 'curtail', '--all', '--id', 'dr-1', '--agent', url, '--json', '--timeout-s', '20']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ state: 'confirmed' });
    expect(r.err).toMatch(/asking again in \d+ ms \(same id dr-1\)/);
  });

  it('an unmet signal (a shortfall nothing could shed) exits 1 and says so', async () => {
    const agent = await stubAgent(() => ({ status: 200, body: { signal: timing('unmet', { shortfallMW: 0.35, miners: { confirmed: 10, failed: 2, unreachable: 0 } }) } }));
    const r = await runCapture(['fleet', 'curtail', '--all', '--agent', agent.url]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/UNMET: 0\.350 MW of mining above the cap .*\(2 miners failed/);
  });

  it('retries a transient failure with the same id', async () => {
    const agent = await stubAgent((_r, n) => (n === 1 ? { status: 503, body: { error: { code: 'IO', message: 'busy' } } } : { status: 200, body: { signal: timing('confirmed') } }));
    const r = await runCapture(['fleet', 'curtail', '--all', '--id', 'dr-1', '--agent', agent.url, '--json']);
    expect(r.code).toBe(0);
    expect(agent.seen.filter((x) => x.method === 'POST').map((x) => (JSON.parse(x.body) as { id: string }).id)).toEqual(['dr-1', 'dr-1']);
  });
});

describe('mullet agent', () => {
  it('reports missing files and bad options before starting', async () => {
    const r = await runCapture(['agent', '--site', '/nonexistent/site.yaml', '--inventory', '/nonexistent/inv.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/site\.yaml: no such site file/);
    const b = await runCapture(['agent', '--site', 's', '--inventory', 'i', '--tick-s', '0']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--tick-s: must be within 0\.05\.\.3,600 s, got 0/);
    const m = await runCapture(['agent', '--site', 's', '--inventory', 'i', '--safe-mode', 'panic']);
    expect(m.code).toBe(2);
  });
});
