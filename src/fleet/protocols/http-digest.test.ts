import { afterEach, describe, expect, it } from 'vitest';
import { skipWithoutSharedData } from '../../testing/data.js';
import { startCall } from './call.js';
import { MinerError } from './errors.js';
import { DigestHttpClient, digestAuthorization, digestResponse, parseDigestChallenge, verifyDigestAuthorization } from './http-digest.js';
import { httpExchange } from './http1.js';
import { parseLenientJson, unwrapJsonp } from './lenient-json.js';
import { sampleText } from './testing/samples.js';
import { startHttpReplay, type RunningHttpServer } from './testing/replay-server.js';

const servers: RunningHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('digestResponse: published vectors', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    expect(
      digestResponse({ username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html', algorithm: 'MD5', qop: 'auth', nc: 1, cnonce: '0a4f113b' }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  const rfc7616 = { username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', method: 'GET', uri: '/dir/index.html', qop: 'auth' as const, nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };
  it('RFC 7616 §3.9.1 (MD5 and SHA-256)', () => {
    expect(digestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...rfc7616, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('header round trip: what the client builds, the verifier accepts', () => {
    const header = digestAuthorization({ ...rfc7616, algorithm: 'MD5' }, 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
    expect(header).toContain('nc=00000001');
    const ok = verifyDigestAuthorization(header, { method: 'GET', realm: rfc7616.realm, path: '/dir/index.html', passwordFor: () => 'Circle of Life', nonceValid: () => true });
    expect(ok).toEqual({ ok: true, username: 'Mufasa' });
    const bad = verifyDigestAuthorization(header, { method: 'GET', realm: rfc7616.realm, path: '/dir/index.html', passwordFor: () => 'wrong', nonceValid: () => true });
    expect(bad).toMatchObject({ ok: false, stale: false });
  });
});

describe('parseDigestChallenge', () => {
  it('reads lighttpd-style challenges, quoted commas and stale', () => {
    const ch = parseDigestChallenge('Digest realm="antMiner, Configuration", nonce="abc", qop="auth,auth-int", algorithm=MD5, opaque="o", stale=TRUE');
    expect(ch).toEqual({ realm: 'antMiner, Configuration', nonce: 'abc', qop: ['auth', 'auth-int'], algorithm: 'MD5', opaque: 'o', stale: true });
    expect(parseDigestChallenge('Basic realm="x"')).toBeNull();
    expect(parseDigestChallenge(['Basic realm="x"', 'Digest realm="r", nonce="n"'])?.qop).toEqual([]);
  });
});

describe('DigestHttpClient against a loopback server', () => {
  it('answers the challenge, then reuses it (one 401 for several requests)', async () => {
    const s = await startHttpReplay({ routes: { '/cgi-bin/a.cgi': { body: '{"a":1}' }, '/cgi-bin/b.cgi': { method: 'POST', body: ({ body }) => body } } });
    servers.push(s);
    const client = new DigestHttpClient({ username: 'root', password: 'root' });
    const r1 = await client.request(startCall({}), { method: 'GET', host: s.host, port: s.port, path: '/cgi-bin/a.cgi' });
    expect(r1.status).toBe(200);
    const r2 = await client.request(startCall({}), { method: 'POST', host: s.host, port: s.port, path: '/cgi-bin/b.cgi', body: '{"x":2}' });
    expect(r2.body.toString()).toBe('{"x":2}');
    expect(s.challenges).toBe(1);
    expect(s.hits.map((h) => h.path)).toEqual(['/cgi-bin/a.cgi', '/cgi-bin/b.cgi']);
  });

  it('refreshes a stale nonce once', async () => {
    const s = await startHttpReplay({ routes: { '/x': { body: 'ok' } }, nonceUses: 1 });
    servers.push(s);
    const client = new DigestHttpClient({ username: 'root', password: 'root' });
    for (let i = 0; i < 3; i++) expect((await client.request(startCall({}), { method: 'GET', host: s.host, port: s.port, path: '/x' })).status).toBe(200);
    expect(s.hits).toHaveLength(3);
  });

  it('wrong password → AUTH, permanent, after exactly one retry', async () => {
    const s = await startHttpReplay({ routes: { '/x': { body: 'ok' } } });
    servers.push(s);
    const client = new DigestHttpClient({ username: 'root', password: 'nope' });
    const err = await client.request(startCall({}), { method: 'GET', host: s.host, port: s.port, path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinerError);
    expect(err).toMatchObject({ code: 'AUTH', fault: 'auth', transient: false, statusCode: 401 });
    expect(s.challenges).toBe(2);
  });

  it('hang → TIMEOUT; abort → ABORTED', async () => {
    const { createServer } = await import('node:net');
    const srv = createServer(() => undefined);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    try {
      const t = await httpExchange(startCall({ timeoutMs: 50 }), { method: 'GET', host: '127.0.0.1', port, path: '/' }).catch((e: unknown) => e);
      expect(t).toMatchObject({ code: 'TIMEOUT', transient: true });
      const ctl = new AbortController();
      const p = httpExchange(startCall({ signal: ctl.signal }), { method: 'GET', host: '127.0.0.1', port, path: '/' }).catch((e: unknown) => e);
      ctl.abort();
      expect(await p).toMatchObject({ code: 'ABORTED' });
    } finally {
      srv.close();
    }
  });
});

describe.skipIf(skipWithoutSharedData)('recorded HTTP bodies over a real socket', () => {
  it('quirk: JSONP with a trailing comma (Avalon get_minerinfo.cgi)', async () => {
    const s = await startHttpReplay({ digest: null, routes: { '/get_minerinfo.cgi': { body: sampleText('avalon__http__get_minerinfo.cgi.txt') } } });
    servers.push(s);
    const res = await httpExchange(startCall({}), { method: 'GET', host: s.host, port: s.port, path: '/get_minerinfo.cgi' });
    const info = parseLenientJson(unwrapJsonp(res.body.toString('utf8')));
    expect(info).toMatchObject({ hwtype: 'AvalonMiner 1047', sys_status: '1', mac: 'b4:a2:eb:31:2f:7c' });
  });
});
