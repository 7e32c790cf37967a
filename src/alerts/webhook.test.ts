/** Webhook delivery against a loopback HTTP server (port 0): signature, retries, refusals, deadline. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookConfigSchema } from './config.js';
import { alertNotificationSchema, type AlertNotification } from './notification.js';
import { DELIVERY_HEADER, postWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './webhook.js';

const SECRET = 'test-secret-not-real';
const NOW = Date.parse('2026-08-04T12:00:03Z');
const clock = { nowMs: () => NOW };
const n: AlertNotification = { v: 1, id: '7-fired', site: 'demo', event: 'fired', sentAt: new Date(NOW).toISOString(), alert: { id: 7, ruleId: 'safe-mode', kind: 'safe-mode', key: 'site', severity: 'critical', detail: "safe mode 'hold'", firedAt: new Date(NOW).toISOString(), resolvedAt: null } };

interface Seen {
  body: string;
  headers: IncomingMessage['headers'];
}
let server: Server;
let base: string;
const seen: Seen[] = [];
let script: ((res: ServerResponse) => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      const next = script.shift();
      if (next) next(res);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const cfg = (over: Record<string, unknown> = {}) => webhookConfigSchema.parse({ url: `${base}/hook?token=abc`, secretEnv: 'X', timeoutMs: 2000, retries: 3, backoffMs: 100, ...over });

describe('webhook delivery (loopback)', () => {
  it('posts the notification signed with HMAC-SHA256; the receiver verifies it', async () => {
    seen.length = 0;
    const d = await postWebhook(cfg(), SECRET, n, { clock });
    expect(d).toMatchObject({ channel: 'webhook', ok: true, attempts: 1, error: null });
    const s = seen[0] as Seen;
    expect(alertNotificationSchema.parse(JSON.parse(s.body))).toEqual(n);
    expect(s.headers['content-type']).toBe('application/json');
    expect(s.headers[DELIVERY_HEADER]).toBe('7-fired');
    const check = (body: string, secret = SECRET, nowMs = NOW) => verifyWebhookSignature(secret, { timestamp: s.headers[TIMESTAMP_HEADER] as string, signature: s.headers[SIGNATURE_HEADER] as string, body, nowMs });
    expect(check(s.body)).toBe(true);
    expect(check(s.body.replace('critical', 'info'))).toBe(false); // tampered
    expect(check(s.body, 'another secret')).toBe(false);
    expect(check(s.body, SECRET, NOW + 10 * 60_000)).toBe(false); // replayed later
  }, 10_000);

  it('retries 503 and 429 with doubling backoff, the same delivery id each time', async () => {
    seen.length = 0;
    script = [(r) => r.writeHead(503).end(), (r) => r.writeHead(429).end()];
    const delays: number[] = [];
    const d = await postWebhook(cfg(), SECRET, n, { clock, random: () => 1, sleep: (ms) => (delays.push(ms), Promise.resolve()) });
    expect(d).toMatchObject({ ok: true, attempts: 3 });
    expect(delays).toEqual([100, 200]);
    expect(seen.map((s) => s.headers[DELIVERY_HEADER])).toEqual(['7-fired', '7-fired', '7-fired']);
  }, 10_000);

  it('does not retry a refusal (4xx) and gives up after the retries, never recording the URL query', async () => {
    seen.length = 0;
    script = [(r) => r.writeHead(401).end()];
    const noSleep = { clock, sleep: () => Promise.resolve() };
    expect(await postWebhook(cfg(), SECRET, n, noSleep)).toMatchObject({ ok: false, attempts: 1, error: 'HTTP 401' });
    script = [0, 1, 2].map(() => (r: ServerResponse) => r.writeHead(500).end());
    expect(await postWebhook(cfg({ retries: 2 }), SECRET, n, noSleep)).toMatchObject({ ok: false, attempts: 3, error: 'HTTP 500' });
    const down = await postWebhook(cfg({ url: 'http://127.0.0.1:1/hook?token=abc', retries: 1 }), SECRET, n, noSleep);
    expect(down.ok).toBe(false);
    expect(down.error).toMatch(/^cannot reach 127\.0\.0\.1:1/);
    expect(down.error).not.toContain('token');
  }, 10_000);

  it('a receiver that never answers hits the per-attempt deadline; the caller can abort', async () => {
    script = [() => undefined, () => undefined];
    const d = await postWebhook(cfg({ timeoutMs: 150, retries: 1 }), SECRET, n, { clock, sleep: () => Promise.resolve() });
    expect(d).toMatchObject({ ok: false, attempts: 2, error: 'no answer within 150 ms' });
    const ac = new AbortController();
    ac.abort();
    await expect(postWebhook(cfg(), SECRET, n, { clock }, ac.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    server.closeAllConnections();
  }, 10_000);
});
