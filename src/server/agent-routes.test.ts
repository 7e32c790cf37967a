/**
 * The agent API's edge, tried as an attacker would: a page in the operator's browser, a DNS name
 * rebound to loopback, oversized and malformed requests, idle connections hoarding descriptors.
 * Routes run through `app.request()` (no socket); listener limits through a real socket.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentStatusSchema, signalTimingSchema } from '../fleet/agent/api.js';
import { agentEventSchema } from '../fleet/agent/events.js';
import { fake, fakeFleet } from '../fleet/agent/testing/fake-driver.js';
import { setup } from '../fleet/agent/testing/harness.js';
import { agentRoutes } from './agent-routes.js';
import { serveHttp, type RunningServer } from './serve.js';

const open: RunningServer[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function app(over: Parameters<typeof agentRoutes>[1] = {}) {
  const miners = fakeFleet(4);
  const { agent } = await setup(miners);
  await agent.tick('start');
  return { app: agentRoutes(agent, over), agent, miners };
}

const H = { host: '127.0.0.1:8420' };
const json = { ...H, 'content-type': 'application/json' };

describe('agent API routes', () => {
  it('curtail: 202 with the signal timing (the shared schema), the same id again 200 and a duplicate', async () => {
    const { app: a } = await app();
    const r = await a.request('/v1/curtail', { method: 'POST', headers: json, body: '{"all":true,"id":"dr-1"}' });
    expect(r.status).toBe(202);
    const body = (await r.json()) as { duplicate: boolean; signal: unknown };
    expect(body.duplicate).toBe(false);
    expect(signalTimingSchema.parse(body.signal)).toMatchObject({ id: 'dr-1', kind: 'curtail', state: 'active', capMW: 0 });
    const again = await a.request('/v1/curtail', { method: 'POST', headers: json, body: '{"all":true,"id":"dr-1"}' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    const conflict = await a.request('/v1/curtail', { method: 'POST', headers: json, body: '{"mw":1,"id":"dr-1"}' });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ error: { code: 'CONFLICT', where: 'id' } });
  });

  it('status parses with the status schema both ends use', async () => {
    const { app: a } = await app();
    const r = await a.request('/v1/status', { headers: H });
    expect(r.status).toBe(200);
    expect(agentStatusSchema.parse(await r.json())).toMatchObject({ site: 'test', miners: 4 });
  });

  it('bad bodies are 400 with where; unknown routes 404; wrong methods 405', async () => {
    const { app: a } = await app();
    const both = await a.request('/v1/curtail', { method: 'POST', headers: json, body: '{"mw":1,"pct":5}' });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: { code: 'BAD_INPUT', where: 'mw' } });
    expect((await a.request('/v1/curtail', { method: 'POST', headers: json, body: 'not json' })).status).toBe(400);
    expect((await a.request('/v1/nope', { headers: H })).status).toBe(404);
    expect((await a.request('/v1/curtail', { headers: H })).status).toBe(405);
  });

  it('long-polls a signal until it settles; an unknown id is 404; a malformed percent-escape is 400, not 500', async () => {
    const { app: a, agent } = await app();
    await a.request('/v1/curtail', { method: 'POST', headers: json, body: '{"all":true,"id":"dr-2"}' });
    const waiting = a.request('/v1/signals/dr-2?waitMs=30000', { headers: H });
    await agent.tick('signal');
    const r = await waiting;
    expect(((await r.json()) as { signal: { state: string } }).signal.state).toBe('confirmed');
    expect((await a.request('/v1/signals/none', { headers: H })).status).toBe(404);
    const bad = await a.request('/v1/signals/%E0%A4%A', { headers: H });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_INPUT', where: 'id' } });
  });

  it('streams events: a snapshot of the status, then each event as it happens (schema-checked)', async () => {
    const { app: a, agent } = await app();
    const ac = new AbortController();
    const r = await a.request('/v1/events', { headers: H, signal: ac.signal });
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const seen: { event: string; data: string }[] = [];
    let buf = '';
    const pump = async (): Promise<void> => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += new TextDecoder().decode(value);
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          seen.push({ event: /^event: (.*)$/m.exec(block)?.[1] ?? '', data: /^data: (.*)$/m.exec(block)?.[1] ?? '' });
        }
        if (seen.some((s) => s.event === 'tick')) return;
      }
    };
    const pumping = pump();
    await new Promise((res) => setTimeout(res, 20));
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'ev-1', 'test');
    await agent.tick('signal');
    await pumping;
    ac.abort();
    expect(seen[0]?.event).toBe('snapshot');
    expect(agentStatusSchema.parse(JSON.parse(seen[0]?.data ?? '{}'))).toBeDefined();
    const events = seen.slice(1).map((s) => agentEventSchema.parse(JSON.parse(s.data)));
    expect(events.some((e) => e.type === 'signal' && e.signal.id === 'ev-1')).toBe(true);
    expect(events.some((e) => e.type === 'miner' && e.to === 'sleeping')).toBe(true);
    expect(events.some((e) => e.type === 'tick')).toBe(true);
  });
});

describe('agent API: requests a browser could be tricked into sending', () => {
  it('refuses a curtail from a foreign Origin, even as text/plain (a CORS "simple request")', async () => {
    const { app: a, miners, agent } = await app();
    const r = await a.request('/v1/curtail', { method: 'POST', headers: { ...H, origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{"all":true}' });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: { code: 'FORBIDDEN', where: 'Origin' } });
    await agent.tick('timer');
    expect(miners.every((m) => fake(m).writes === 0)).toBe(true);
  });

  it('refuses a POST body that is not application/json (415), even from the same origin', async () => {
    const { app: a } = await app();
    const r = await a.request('/v1/curtail', { method: 'POST', headers: { ...H, 'content-type': 'text/plain' }, body: '{"all":true}' });
    expect(r.status).toBe(415);
    expect(await r.json()).toMatchObject({ error: { where: 'Content-Type' } });
  });

  it('refuses a foreign Host (DNS rebinding) on every route, /v1/status included; accepts an allowed name', async () => {
    const { app: a } = await app({ allowedHosts: ['agent.site-a.internal'] });
    const r = await a.request('/v1/status', { headers: { host: 'attacker.example:8420' } });
    expect(r.status).toBe(403);
    expect(JSON.stringify(await r.json())).toMatch(/DNS rebinding/);
    expect((await a.request('/v1/status', { headers: { host: 'localhost' } })).status).toBe(200);
    expect((await a.request('/v1/status', { headers: { host: 'agent.site-a.internal' } })).status).toBe(200);
  });

  it('refuses Sec-Fetch-Site: cross-site', async () => {
    const { app: a } = await app();
    expect((await a.request('/v1/status', { headers: { ...H, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
  });

  it('answers 413 to a body over 64 KiB (not a connection reset)', async () => {
    const { app: a } = await app();
    const big = JSON.stringify({ all: true, pad: 'x'.repeat(100_000) });
    expect((await a.request('/v1/curtail', { method: 'POST', headers: json, body: big })).status).toBe(413);
  });
});

/** One raw HTTP/1.1 request, the reply as text. */
function raw(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', (e) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(e)));
    s.write(text);
    setTimeout(() => s.end(), 300);
  });
}

describe('agent API listener', () => {
  it('a streamed (chunked) body over the limit is answered 413 on the socket', async () => {
    const { app: a } = await app();
    const h = await serveHttp(a, { host: '127.0.0.1', port: 0 });
    open.push(h);
    const reply = await raw(h.url, `POST /v1/curtail HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(70_000).toString(16)}\r\n${'x'.repeat(70_000)}\r\n0\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
  });

  it('refuses a non-loopback listen without an explicit flag, and warns loudly with it', async () => {
    const { app: a } = await app();
    await expect(serveHttp(a, { host: '0.0.0.0', port: 0, what: 'the agent API' })).rejects.toThrow(/has no authentication yet/);
    const lines: string[] = [];
    const h = await serveHttp(a, { host: '0.0.0.0', port: 0, allowNonLoopback: true, what: 'the agent API', log: (l) => lines.push(l) });
    open.push(h);
    expect(lines.join('\n')).toMatch(/WARNING: the agent API .*WITHOUT AUTHENTICATION/);
  });

  it('caps open connections: idle clients beyond the cap are closed, and the API still answers', async () => {
    const { app: a } = await app();
    const h = await serveHttp(a, { host: '127.0.0.1', port: 0, maxConnections: 8 });
    open.push(h);
    const { hostname, port } = new URL(h.url);
    const idle = await Promise.all(
      Array.from(
        { length: 30 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.createConnection({ host: hostname, port: Number(port) }, () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(idle.filter((s) => !s.destroyed && s.readyState === 'open').length).toBeLessThanOrEqual(8);
    for (const s of idle) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${h.url}/v1/status`)).status).toBe(200);
  });
});
