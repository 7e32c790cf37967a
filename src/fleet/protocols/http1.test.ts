import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCall } from './call.js';
import { DEFAULT_HTTP_LIMITS, encodeHttpRequest, httpExchange, httpReplyComplete, HttpReplyReader, HttpSession, parseHttpReply } from './http1.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const W = 'http://test/';

describe('encodeHttpRequest', () => {
  it('writes the request line, Host, Connection: close and a Content-Length for a body', () => {
    const req = encodeHttpRequest({ method: 'POST', host: '10.0.0.5', port: 80, path: '/cgi-bin/set_miner_conf.cgi', body: '{"miner-mode":1}', headers: { 'Content-Type': 'application/json', Connection: 'keep-alive' } });
    expect(req.toString('latin1')).toBe(
      'POST /cgi-bin/set_miner_conf.cgi HTTP/1.1\r\nHost: 10.0.0.5:80\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"miner-mode":1}',
    );
  });

  it('refuses a header value with a line break (no header injection)', () => {
    expect(() => encodeHttpRequest({ method: 'GET', host: 'h', port: 80, path: '/', headers: { X: 'a\r\nEvil: 1' } })).toThrow(/line break/);
  });
});

describe('parseHttpReply / httpReplyComplete', () => {
  it('Content-Length framing: complete only with the whole body; extra bytes ignored', () => {
    const full = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    expect(httpReplyComplete(b(full.slice(0, -1)), 'GET')).toBe(false);
    expect(httpReplyComplete(b(full), 'GET')).toBe(true);
    expect(parseHttpReply(b(`${full}junk`), 'GET', W)).toMatchObject({ status: 200, headers: { 'content-length': '5' } });
    expect(parseHttpReply(b(full), 'GET', W).body.toString()).toBe('hello');
  });

  it('chunked framing with extensions, bare LF line ends and a body split mid-chunk', () => {
    const full = 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5;ext=1\nhello\n6\r\n world\r\n0\r\n\r\n';
    for (let cut = 0; cut < full.length - 5; cut++) expect(httpReplyComplete(b(full.slice(0, cut)), 'GET')).toBe(false);
    expect(httpReplyComplete(b(full), 'GET')).toBe(true);
    expect(parseHttpReply(b(full), 'GET', W).body.toString()).toBe('hello world');
  });

  it('no framing: the body runs to the close; HTTP/1.0 accepted', () => {
    const full = 'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n{"a":1}';
    expect(httpReplyComplete(b(full), 'GET')).toBe(false);
    expect(parseHttpReply(b(full), 'GET', W).body.toString()).toBe('{"a":1}');
  });

  it('bodiless replies (204, 304, 1xx, HEAD) are complete at the blank line', () => {
    expect(httpReplyComplete(b('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n'), 'GET')).toBe(true);
    expect(parseHttpReply(b('HTTP/1.1 304 Not Modified\r\n\r\n'), 'GET', W).body.length).toBe(0);
  });

  it('keep-alive: HTTP/1.1 framed without "close"; not HTTP/1.0 unless asked, never close-delimited', () => {
    expect(parseHttpReply(b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 'GET', W).keepAlive).toBe(true);
    expect(parseHttpReply(b('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'), 'GET', W).keepAlive).toBe(false);
    expect(parseHttpReply(b('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), 'GET', W).keepAlive).toBe(false);
    expect(parseHttpReply(b('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n'), 'GET', W).keepAlive).toBe(true);
    expect(parseHttpReply(b('HTTP/1.1 200 OK\r\n\r\nbody'), 'GET', W).keepAlive).toBe(false);
  });

  it('a repeated header is an array (two challenges stay two), names lower-case', () => {
    const r = parseHttpReply(b('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="a"\r\nwww-authenticate: Digest realm="b", nonce="n"\r\nContent-Length: 0\r\n\r\n'), 'GET', W);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toEqual(['Basic realm="a"', 'Digest realm="b", nonce="n"']);
  });

  it('cut short → truncated (transient); not HTTP → garbage (permanent), seen from the first bytes', () => {
    expect(() => parseHttpReply(b('HTTP/1.1 200 OK\r\nContent-Le'), 'GET', W)).toThrow(expect.objectContaining({ fault: 'truncated', transient: true }));
    expect(() => parseHttpReply(b('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc'), 'GET', W)).toThrow(expect.objectContaining({ fault: 'truncated', statusCode: 200 }));
    expect(() => parseHttpReply(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'), 'GET', W)).toThrow(expect.objectContaining({ fault: 'truncated' }));
    expect(() => httpReplyComplete(b('{"STATUS":'), 'GET')).toThrow(expect.objectContaining({ fault: 'garbage', code: 'PARSE', transient: false }));
    expect(() => parseHttpReply(b('HTTP/1.1 OK\r\n\r\n'), 'GET', W)).toThrow(expect.objectContaining({ fault: 'garbage' }));
    expect(() => parseHttpReply(b('HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n'), 'GET', W)).toThrow(/Content-Length/);
    expect(() => parseHttpReply(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 'GET', W)).toThrow(/chunk size/);
    // A prefix of "HTTP/" is not yet garbage: more may come.
    expect(httpReplyComplete(b('HTT'), 'GET')).toBe(false);
  });

  it('chunk extensions after a CRLF-terminated size line', () => {
    expect(parseHttpReply(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n'), 'GET', W).body.toString()).toBe('hello');
  });

  it('header block over 16 KiB or over 100 header lines → too-large (PARSE, permanent), as soon as it is seen', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Flood: ${'a'.repeat(DEFAULT_HTTP_LIMITS.maxHeaderBytes)}`;
    // No blank line yet: the limit trips before the header block ends, not at the deadline.
    expect(() => httpReplyComplete(b(big), 'GET')).toThrow(expect.objectContaining({ fault: 'too-large', code: 'PARSE', transient: false }));
    const many = `HTTP/1.1 200 OK\r\n${'X-A: 1\r\n'.repeat(DEFAULT_HTTP_LIMITS.maxHeaderCount + 1)}`;
    expect(() => httpReplyComplete(b(many), 'GET')).toThrow(expect.objectContaining({ fault: 'too-large', message: expect.stringMatching(/more than 100 HTTP header lines/) as unknown }));
    // Exactly at the limits is fine; the limits can be set per exchange.
    const atCount = `HTTP/1.1 200 OK\r\n${'X-A: 1\r\n'.repeat(DEFAULT_HTTP_LIMITS.maxHeaderCount)}Content-Length: 0\r\n\r\n`;
    expect(() => parseHttpReply(b(atCount), 'GET', W)).toThrow(/more than 100/);
    expect(parseHttpReply(b(atCount), 'GET', W, { maxHeaderCount: 101 }).status).toBe(200);
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    expect(parseHttpReply(b(head), 'GET', W, { maxHeaderBytes: head.length }).status).toBe(200);
    expect(() => parseHttpReply(b(head), 'GET', W, { maxHeaderBytes: head.length - 1 })).toThrow(expect.objectContaining({ fault: 'too-large' }));
  });

  it('a chunk-size line without end is garbage, not a buffer that grows to the reply cap', () => {
    expect(() => httpReplyComplete(b(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;${'x'.repeat(5000)}`), 'GET')).toThrow(expect.objectContaining({ fault: 'garbage' }));
  });

  it('fed one byte at a time: the same reply, complete exactly at its last byte', () => {
    const cases = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5;ext=1\nhello\n6\r\n world\r\n0\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
    ];
    for (const text of cases) {
      const reader = new HttpReplyReader('GET', W);
      const bytes = b(text);
      for (let i = 0; i < bytes.length; i++) expect(reader.push(bytes.subarray(i, i + 1))).toBe(i === bytes.length - 1);
      expect(reader.finish()).toEqual(parseHttpReply(bytes, 'GET', W));
    }
  });
});

describe('httpExchange over loopback', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  async function rawServer(onConn: (s: net.Socket) => void): Promise<number> {
    const srv = net.createServer(onConn);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => srv.close(() => r())));
    return (srv.address() as net.AddressInfo).port;
  }

  it("against node's own server: chunked and Content-Length bodies, POST body received", async () => {
    const srv = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        if (req.url === '/chunked') {
          res.write('{"a":');
          res.end('1}');
        } else res.end(`${req.method} ${Buffer.concat(parts).toString()} ${req.headers.connection}`);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => srv.close(() => r())));
    const port = (srv.address() as net.AddressInfo).port;
    const chunked = await httpExchange(startCall({ timeoutMs: 2_000 }), { method: 'GET', host: '127.0.0.1', port, path: '/chunked' });
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    expect(chunked.body.toString()).toBe('{"a":1}');
    const post = await httpExchange(startCall({ timeoutMs: 2_000 }), { method: 'POST', host: '127.0.0.1', port, path: '/p', body: 'x=1' });
    expect(post.body.toString()).toBe('POST x=1 close');
  });

  it('a framed reply ends the exchange even when the server keeps the socket open; bytes may trickle', async () => {
    const port = await rawServer((s) => {
      s.once('data', () => {
        const reply = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
        let i = 0;
        const t = setInterval(() => {
          if (i >= reply.length) return clearInterval(t);
          s.write(reply[i++] ?? '');
        }, 1);
        s.on('close', () => clearInterval(t));
      });
    });
    const r = await httpExchange(startCall({ timeoutMs: 2_000 }), { method: 'GET', host: '127.0.0.1', port, path: '/' });
    expect(r.body.toString()).toBe('ok');
  });

  it('work is linear in the reply size: a reply in many small writes is copied a bounded number of times', async () => {
    // 400 writes of 2.5 KiB: re-joining and re-parsing everything received after each chunk (the
    // old framing) copied ~200 MB here; reading each chunk once copies the reply about twice.
    const piece = 'x'.repeat(2500);
    const writes = 400;
    const port = await rawServer((s) =>
      s.once('data', () => {
        s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n`);
        let n = 0;
        const next = (): void => {
          if (n++ === writes) return void s.write('0\r\n\r\n');
          s.write(`${piece.length.toString(16)}\r\n${piece}\r\n`, () => setImmediate(next));
        };
        next();
      }),
    );
    let copied = 0;
    const concat = Buffer.concat.bind(Buffer);
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
      const out = concat(list, total);
      copied += out.length;
      return out;
    });
    try {
      const r = await httpExchange(startCall({ timeoutMs: 10_000 }), { method: 'GET', host: '127.0.0.1', port, path: '/' });
      expect(r.body.length).toBe(piece.length * writes);
    } finally {
      spy.mockRestore();
    }
    expect(copied).toBeLessThan(4 * piece.length * writes);
  });

  it('a device flooding headers is cut off at the header limit (too-large), not read to the reply cap', async () => {
    const port = await rawServer((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\n');
        const flood = (): void => {
          if (!s.destroyed) s.write('X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n', () => setImmediate(flood));
        };
        flood();
        s.on('error', () => undefined);
      }),
    );
    const e = await httpExchange(startCall({ timeoutMs: 5_000 }), { method: 'GET', host: '127.0.0.1', port, path: '/' }).catch((err: unknown) => err);
    expect(e).toMatchObject({ fault: 'too-large', code: 'PARSE', transient: false });
  });

  it('garbage is reported at once, not at the deadline; a close mid-body is truncated', async () => {
    const garbage = await rawServer((s) => s.once('data', () => s.write('{"STATUS":"S"}')));
    // Waiting for the deadline would end in a timeout, not garbage.
    const g = await httpExchange(startCall({ timeoutMs: 5_000 }), { method: 'GET', host: '127.0.0.1', port: garbage, path: '/' }).catch((e: unknown) => e);
    expect(g).toMatchObject({ fault: 'garbage' });
    const cut = await rawServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a"')));
    const c = await httpExchange(startCall({ timeoutMs: 2_000 }), { method: 'GET', host: '127.0.0.1', port: cut, path: '/' }).catch((e: unknown) => e);
    expect(c).toMatchObject({ fault: 'truncated', code: 'NETWORK', transient: true });
  });
});

describe('HttpSession over loopback', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  /** A raw server answering each request per `reply(n)` (n = request number on that connection). */
  async function server(reply: (n: number, s: net.Socket) => void): Promise<{ port: number; connections: () => number }> {
    let connections = 0;
    const srv = net.createServer((s) => {
      connections++;
      let n = 0;
      s.on('data', () => reply(++n, s));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => srv.close(() => r())));
    return { port: (srv.address() as net.AddressInfo).port, connections: () => connections };
  }
  const ok = (body: string): string => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

  it('several requests share one connection; close() ends it', async () => {
    const srv = await server((n, s) => s.write(ok(`r${n}`)));
    const session = new HttpSession('127.0.0.1', srv.port);
    const ctx = startCall({ timeoutMs: 2_000 });
    expect((await session.request(ctx, { method: 'POST', path: '/a', body: 'x' })).body.toString()).toBe('r1');
    expect((await session.request(ctx, { method: 'GET', path: '/b' })).body.toString()).toBe('r2');
    session.close();
    expect(srv.connections()).toBe(1);
  });

  it('a server that says Connection: close gets a new connection for the next request', async () => {
    const srv = await server((n, s) => s.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nr${n}`));
    const session = new HttpSession('127.0.0.1', srv.port);
    const ctx = startCall({ timeoutMs: 2_000 });
    expect((await session.request(ctx, { method: 'GET', path: '/a' })).body.toString()).toBe('r1');
    expect((await session.request(ctx, { method: 'GET', path: '/b' })).body.toString()).toBe('r1');
    session.close();
    expect(srv.connections()).toBe(2);
  });

  it.each([
    ['closed (FIN)', (s: net.Socket) => s.destroy()],
    ['reset (RST)', (s: net.Socket) => s.resetAndDestroy()],
  ])('a kept connection %s under a request is retried once on a fresh one', async (_how, drop) => {
    // Answers the first request on a connection, drops it on the second (keep-alive timeout race).
    const srv = await server((n, s) => (n === 1 ? s.write(ok('fresh')) : drop(s)));
    const session = new HttpSession('127.0.0.1', srv.port);
    const ctx = startCall({ timeoutMs: 2_000 });
    await session.request(ctx, { method: 'GET', path: '/a' });
    expect((await session.request(ctx, { method: 'GET', path: '/b' })).body.toString()).toBe('fresh');
    session.close();
    expect(srv.connections()).toBe(2);
  });

  it('a first request refused or cut short is not retried', async () => {
    const srv = await server((_n, s) => s.destroy());
    const session = new HttpSession('127.0.0.1', srv.port);
    expect(await session.request(startCall({ timeoutMs: 2_000 }), { method: 'GET', path: '/a' }).catch((e: unknown) => e)).toMatchObject({ fault: 'closed' });
    session.close();
    expect(srv.connections()).toBe(1);
  });
});
