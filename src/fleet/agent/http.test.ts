/**
 * The agent API's edge, tried as an attacker would: a page in the operator's browser, a DNS name
 * rebound to loopback, oversized and malformed requests, idle connections hoarding descriptors.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentHttp, type AgentHttpServer } from './http.js';
import { fake, fakeFleet } from './testing/fake-driver.js';
import { setup } from './testing/harness.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function api(over: Parameters<typeof startAgentHttp>[2] = {}): Promise<{ http: AgentHttpServer; miners: ReturnType<typeof fakeFleet> }> {
  const miners = fakeFleet(4);
  const { agent } = setup(miners);
  await agent.tick('start');
  const http = await startAgentHttp(agent, { host: '127.0.0.1', port: 0 }, over);
  open.push(http);
  return { http, miners };
}

/** One raw HTTP/1.1 request (headers as given, nothing added), the reply as text. */
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

describe('agent API: requests a browser could be tricked into sending', () => {
  it('refuses a curtail from a foreign Origin, even as text/plain (a CORS "simple request")', async () => {
    const { http, miners } = await api();
    const res = await fetch(`${http.url}/v1/curtail`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{"all":true}' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'FORBIDDEN', where: 'Origin' } });
    expect(miners.every((m) => fake(m).writes === 0)).toBe(true);
  });

  it('refuses a POST body that is not application/json (415), even from the same origin', async () => {
    const { http } = await api();
    const res = await fetch(`${http.url}/v1/curtail`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"all":true}' });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { where: 'Content-Type' } });
  });

  it('refuses a foreign Host header (DNS rebinding) on every route, /v1/status included', async () => {
    const { http } = await api();
    const reply = await raw(http.url, 'GET /v1/status HTTP/1.1\r\nHost: attacker.example:8420\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 403/);
    expect(reply).toMatch(/DNS rebinding/);
    const ok = await raw(http.url, 'GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
  });

  it('accepts a name the operator allowed (a proxy in front)', async () => {
    const { http } = await api({ allowedHosts: ['agent.site-a.internal'] });
    const ok = await raw(http.url, 'GET /v1/status HTTP/1.1\r\nHost: agent.site-a.internal\r\nConnection: close\r\n\r\n');
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
  });

  it('refuses Sec-Fetch-Site: cross-site', async () => {
    const { http } = await api();
    const res = await fetch(`${http.url}/v1/status`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(403);
  });
});

describe('agent API: malformed and oversized requests', () => {
  it('answers 413 (not a connection reset) to a body over 64 KiB, declared or streamed', async () => {
    const { http } = await api();
    const big = JSON.stringify({ all: true, pad: 'x'.repeat(100_000) });
    const res = await fetch(`${http.url}/v1/curtail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    const chunked = await raw(http.url, `POST /v1/curtail HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(70_000).toString(16)}\r\n${'x'.repeat(70_000)}\r\n0\r\n\r\n`);
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
  });

  it('a malformed percent-escape in a signal id is 400, not 500', async () => {
    const { http } = await api();
    const res = await fetch(`${http.url}/v1/signals/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'BAD_INPUT', where: 'id' } });
  });
});

describe('agent API: listening and connections', () => {
  it('refuses a non-loopback listen without an explicit flag, and warns loudly with it', async () => {
    const miners = fakeFleet(1);
    const { agent } = setup(miners);
    expect(() => startAgentHttp(agent, { host: '0.0.0.0', port: 0 })).toThrow(/no authentication yet/);
    const lines: string[] = [];
    const h = await startAgentHttp(agent, { host: '0.0.0.0', port: 0 }, { allowNonLoopback: true, log: (l) => lines.push(l) });
    open.push(h);
    expect(lines.join('\n')).toMatch(/WARNING: .*WITHOUT AUTHENTICATION/);
  });

  it('caps open connections: idle clients beyond the cap are closed, and the API still answers', async () => {
    const { http } = await api({ maxConnections: 8 });
    const { hostname, port } = new URL(http.url);
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
    const alive = idle.filter((s) => !s.destroyed && s.readyState === 'open');
    expect(alive.length).toBeLessThanOrEqual(8);
    for (const s of idle) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${http.url}/v1/status`);
    expect(res.status).toBe(200);
  });
});
