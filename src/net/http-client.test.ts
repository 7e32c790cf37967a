import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MulletError } from '../core/errors.js';
import { sharedFile, skipWithoutSharedData } from '../testing/data.js';
import { withData } from '../market/fetchers/testing/shared-data.js';
import { DEFAULT_RETRY, backoffDelayMs, createHttpClient, type RetryInfo, type Sleep } from './http-client.js';
import { closedPortUrl, startLoopback, type Loopback } from './testing/loopback.js';
import { RecordedTransport } from './testing/recorded-transport.js';

/** Records requested sleeps instead of waiting: backoff is asserted, never timed. */
function fakeSleep(): { sleep: Sleep; slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    sleep: (ms, signal) => {
      slept.push(ms);
      if (signal?.aborted) return Promise.reject(new MulletError('ABORTED', 'cancelled', { transient: false }));
      return Promise.resolve();
    },
  };
}

async function caught(p: Promise<unknown>): Promise<MulletError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MulletError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('backoffDelayMs', () => {
  it('doubles per attempt with equal jitter and caps at maxDelayMs', () => {
    const p = { attempts: 5, baseDelayMs: 500, maxDelayMs: 3000 };
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, p, () => 0))).toEqual([250, 500, 1000, 1500]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, p, () => 0.999999))).toEqual([500, 1000, 2000, 3000]);
    expect(backoffDelayMs(1, DEFAULT_RETRY, () => 0.5)).toBe(375);
  });
});

describe('http client over a recorded transport', () => {
  it('returns parsed JSON and sends user-agent and accept headers', async () => {
    const t = new RecordedTransport([['/api/v1/prices', { body: '{"time":1703252411,"USD":43753}' }]]);
    const http = createHttpClient({ transport: t });
    expect(await http.fetchJson('https://mempool.example/api/v1/prices')).toEqual({ time: 1703252411, USD: 43753 });
    expect(t.requests[0]?.headers['user-agent']).toMatch(/^mullet\//);
    expect(t.requests[0]?.headers.accept).toBe('application/json');
  });

  it('retries 503 with exponential backoff and jitter, then succeeds', async () => {
    const t = new RecordedTransport([['/x', [{ status: 503, body: 'busy' }, { status: 502, body: '' }, { body: '42' }]]]);
    const { sleep, slept } = fakeSleep();
    const retries: RetryInfo[] = [];
    const http = createHttpClient({ transport: t, sleep, random: () => 0.5, onRetry: (i) => retries.push(i) });
    expect(await http.fetchText('https://h.example/x')).toBe('42');
    expect(slept).toEqual([375, 750]);
    expect(retries.map((r) => [r.attempt, r.error.code, r.error.transient])).toEqual([[1, 'PROTOCOL', true], [2, 'PROTOCOL', true]]);
    expect(t.requests).toHaveLength(3);
  });

  it("waits at least the server's Retry-After on 429", async () => {
    const t = new RecordedTransport([['/x', [{ status: 429, headers: { 'retry-after': '3' }, body: '{"error_key":"throttled"}' }, { body: 'ok' }]]]);
    const { sleep, slept } = fakeSleep();
    const http = createHttpClient({ transport: t, sleep, random: () => 0 });
    expect(await http.fetchText('https://h.example/x')).toBe('ok');
    expect(slept).toEqual([3000]);
  });

  it('gives up after the configured attempts with a transient error saying so', async () => {
    const t = new RecordedTransport([['/x', { status: 500, body: 'Internal Server Error' }]]);
    const { sleep, slept } = fakeSleep();
    const err = await caught(createHttpClient({ transport: t, sleep, random: () => 0 }).fetchText('https://h.example/x'));
    expect(err.code).toBe('PROTOCOL');
    expect(err.transient).toBe(true);
    expect(err.message).toBe('HTTP 500: Internal Server Error (gave up after 4 attempts)');
    expect(err.where).toBe('https://h.example/x');
    expect(slept).toEqual([250, 500, 1000]);
  });

  it('does not retry permanent errors: 404 PROTOCOL, 401/403 AUTH, bad JSON PARSE', async () => {
    const t = new RecordedTransport([
      ['/missing', { status: 404, body: 'Not Found' }],
      ['/login', { status: 401, body: '' }],
      ['/forbidden', { status: 403, body: '{"message":"subscription key invalid"}' }],
      ['/html', { body: '<html>maintenance</html>' }],
    ]);
    const { sleep, slept } = fakeSleep();
    const http = createHttpClient({ transport: t, sleep });
    const e404 = await caught(http.fetchText('https://h.example/missing'));
    expect([e404.code, e404.transient]).toEqual(['PROTOCOL', false]);
    expect((await caught(http.fetchText('https://h.example/login'))).code).toBe('AUTH');
    const e403 = await caught(http.fetchJson('https://h.example/forbidden'));
    expect([e403.code, e403.message]).toEqual(['AUTH', 'HTTP 403: {"message":"subscription key invalid"}']);
    const bad = await caught(http.fetchJson('https://h.example/html'));
    expect([bad.code, bad.message]).toEqual(['PARSE', 'expected JSON, got: <html>maintenance</html>']);
    expect(slept).toEqual([]);
    expect(t.requests).toHaveLength(4);
  });

  it('classifies transport failures as NETWORK (transient, retried) with the socket error code', async () => {
    let calls = 0;
    const http = createHttpClient({
      transport: {
        send: () => {
          calls++;
          return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }));
        },
      },
      sleep: fakeSleep().sleep,
      retry: { attempts: 2 },
    });
    const err = await caught(http.fetchBytes('https://h.example:8443/x'));
    expect([err.code, err.transient, calls]).toEqual(['NETWORK', true, 2]);
    expect(err.message).toBe('cannot reach h.example:8443 (ECONNRESET) (gave up after 2 attempts)');
  });

  it('stops at once when the caller aborts during a backoff wait', async () => {
    const ctl = new AbortController();
    const t = new RecordedTransport([['/x', { status: 503, body: '' }]]);
    const sleep: Sleep = (_ms, signal) => {
      ctl.abort(new Error('user pressed ctrl-c'));
      return signal?.aborted ? Promise.reject(new MulletError('ABORTED', 'cancelled', { transient: false })) : Promise.resolve();
    };
    const err = await caught(createHttpClient({ transport: t, sleep }).fetchText('https://h.example/x', { signal: ctl.signal }));
    expect(err.code).toBe('ABORTED');
    expect(t.requests).toHaveLength(1);
  });

  it('rejects malformed and non-http URLs as BAD_INPUT without sending', async () => {
    const t = new RecordedTransport([]);
    const http = createHttpClient({ transport: t });
    expect((await caught(http.fetchText('mempool.space/api'))).code).toBe('BAD_INPUT');
    expect((await caught(http.fetchText('file:///etc/passwd'))).code).toBe('BAD_INPUT');
    expect(t.requests).toHaveLength(0);
  });

  it('posts a form body and keeps it out of errors', async () => {
    const t = new RecordedTransport([['/token', [{ status: 400, body: 'bad grant' }, { body: '{"id_token":"abc"}' }]]]);
    const http = createHttpClient({ transport: t });
    const err = await caught(http.postFormJson('https://auth.example/token', { username: 'u', password: 's3cret' }));
    expect(err.message).not.toContain('s3cret');
    expect(await http.postFormJson('https://auth.example/token', { username: 'u', password: 'p w' })).toEqual({ id_token: 'abc' });
    const req = t.requests[1];
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.body).toBe('username=u&password=p+w');
  });
});

describe('http client over real sockets (loopback only)', () => {
  let server: Loopback;
  let hits = 0;
  const hashrateBody = skipWithoutSharedData ? '{"hashrates":[],"difficulty":[]}' : readFileSync(sharedFile('samples', 'mempool_api_docs', 'get-hashrate.mainnet_response.txt'), 'utf8');

  beforeAll(async () => {
    server = await startLoopback((path) => {
      if (path === '/api/v1/mining/hashrate/3d') return { headers: { 'content-type': 'application/json' }, body: hashrateBody };
      if (path === '/flaky') return ++hits === 1 ? { status: 503, body: 'warming up' } : { body: 'fine' };
      if (path === '/big') return { body: 'x'.repeat(5000) };
      if (path === '/hang') return { hang: true };
      return { status: 404, body: 'Not Found' };
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it.skipIf(skipWithoutSharedData)(withData('serves a recorded mempool response through global fetch'), async () => {
    const http = createHttpClient();
    const body = (await http.fetchJson(`${server.baseUrl}/api/v1/mining/hashrate/3d`)) as { hashrates: unknown[]; currentDifficulty: number };
    expect(body.hashrates).toHaveLength(3);
    expect(body.currentDifficulty).toBe(31251101365711.12);
  });

  it('retries a 503 over the wire, reports 404 as permanent', async () => {
    const { sleep, slept } = fakeSleep();
    const http = createHttpClient({ sleep, random: () => 0 });
    expect(await http.fetchText(`${server.baseUrl}/flaky`)).toBe('fine');
    expect(slept).toEqual([250]);
    const err = await caught(http.fetchText(`${server.baseUrl}/nothing-here`));
    expect([err.code, err.transient, err.message]).toEqual(['PROTOCOL', false, 'HTTP 404: Not Found']);
  });

  it('refuses bodies over maxBytes', async () => {
    const err = await caught(createHttpClient({ maxBytes: 1000 }).fetchText(`${server.baseUrl}/big`));
    expect([err.code, err.transient]).toEqual(['PROTOCOL', false]);
  });

  it('times out a server that never answers (TIMEOUT, transient)', async () => {
    const { sleep } = fakeSleep();
    const err = await caught(createHttpClient({ sleep, retry: { attempts: 2 } }).fetchText(`${server.baseUrl}/hang`, { timeoutMs: 150 }));
    expect([err.code, err.transient]).toEqual(['TIMEOUT', true]);
    expect(err.message).toBe('no complete answer within 150 ms (gave up after 2 attempts)');
  });

  it("reports the caller's abort as ABORTED, not TIMEOUT", async () => {
    const ctl = new AbortController();
    const p = createHttpClient().fetchText(`${server.baseUrl}/hang`, { signal: ctl.signal, timeoutMs: 60_000 });
    setTimeout(() => ctl.abort(new Error('stop')), 50);
    expect((await caught(p)).code).toBe('ABORTED');
  });

  it('fails a closed port with NETWORK after retrying', async () => {
    const url = await closedPortUrl();
    const { sleep, slept } = fakeSleep();
    const err = await caught(createHttpClient({ sleep, random: () => 0 }).fetchJson(`${url}/api/v1/prices`));
    expect([err.code, err.transient]).toEqual(['NETWORK', true]);
    expect(err.message).toMatch(/^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\) \(gave up after 4 attempts\)$/);
    expect(slept).toHaveLength(3);
  });
});
