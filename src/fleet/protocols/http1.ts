/**
 * HTTP/1.1 for miner web UIs, framed by hand on the same TcpConnection (tcp.ts) as the
 * cgminer API. Why not node:http: its client (request object, agent bookkeeping, parser, body
 * stream) cost the site agent 2–3× the CPU of a cgminer exchange per request (profiled), and
 * the stock Antminer's control path is HTTP — at 10,000 miners that was the largest single cost of
 * a curtailment after the TCP handshakes themselves.
 *
 * What is supported is what embedded web servers (lighttpd, boa, busybox httpd, vendor daemons)
 * send: a status line (HTTP/1.0 or 1.1), headers with CRLF or bare LF line ends, a body framed by
 * Content-Length, chunked transfer coding, or the close of the connection. A framed reply ends as
 * soon as it is complete, even if a server keeps the socket open; one-off requests send
 * `Connection: close`, an HttpSession keeps the connection for the next request.
 *
 * Annotated example — the reply to a POST /cgi-bin/set_miner_conf.cgi:
 *
 *   HTTP/1.1 200 OK                   ← status line: version, code, reason (ignored)
 *   Content-Type: text/html           ← header names are case-insensitive: stored lower-case
 *   Transfer-Encoding: chunked        ← body in chunks: hex size line, data, CRLF … 0, CRLF
 *
 *   2c
 *   {"stats":"success","code":"M000","msg":"OK!"}
 *   0
 */
import { type CallContext, hostPort, type ExchangeLimits } from './call.js';
import { isMinerError, MinerError } from './errors.js';
import { TcpConnection } from './tcp.js';

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  host: string;
  port: number;
  /** Path with query, e.g. '/cgi-bin/get_miner_conf.cgi'. */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  limits?: Partial<ExchangeLimits>;
}

/** Header names lower-case; a header sent more than once is an array in the order received. */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: Buffer;
  /** The server left the connection open for another request (framed body, no "close"). */
  keepAlive: boolean;
}

/** The request bytes: request line, Host, Connection (close unless asked), Content-Length with a body. */
export function encodeHttpRequest(spec: HttpRequestSpec, keepAlive = false): Buffer {
  const body = spec.body === undefined ? undefined : typeof spec.body === 'string' ? Buffer.from(spec.body, 'utf8') : spec.body;
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `Host: ${hostPort(spec.host, spec.port)}`, `Connection: ${keepAlive ? 'keep-alive' : 'close'}`];
  const own = new Set(['host', 'connection', 'content-length']);
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new MinerError('unsupported', `header ${JSON.stringify(name)} contains a line break`, { where: spec.path });
    if (!own.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body === undefined ? head : Buffer.concat([head, body]);
}

interface Head {
  status: number;
  /** HTTP/1.0 reply (no keep-alive unless asked for). */
  http10: boolean;
  headers: Record<string, string | string[]>;
  /** Offset of the first body byte. */
  bodyAt: number;
}

/** Offset just past the blank line ending the header block (CRLFCRLF or LFLF), or -1. */
function headEnd(buf: Buffer): number {
  for (let i = buf.indexOf(10); i >= 0 && i < buf.length; i = buf.indexOf(10, i + 1)) {
    if (buf[i + 1] === 10) return i + 2;
    if (buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

const STATUS_LINE = /^HTTP\/1\.([01]) +(\d{3})(?: .*)?$/;

/** The status line and headers, or null while the header block is still incomplete. */
function parseHead(buf: Buffer, where: string): Head | null {
  // Not an HTTP reply at all: say so as soon as the first bytes show it, not at the deadline.
  if (!'HTTP/'.startsWith(buf.subarray(0, 5).toString('latin1'))) {
    throw new MinerError('garbage', `not an HTTP reply: ${JSON.stringify(buf.subarray(0, 40).toString('latin1'))}`, { where });
  }
  const end = headEnd(buf);
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split(/\r?\n/);
  const m = STATUS_LINE.exec((lines[0] ?? '').trimEnd());
  if (!m) throw new MinerError('garbage', `bad HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`, { where });
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MinerError('garbage', `bad HTTP header line: ${JSON.stringify(line.slice(0, 60))}`, { where });
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { status: Number(m[2]), http10: m[1] === '0', headers, bodyAt: end };
}

function single(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[h.length - 1] : h;
}

/** Replies that never carry a body whatever their headers say (RFC 9112 §6.3). */
function bodiless(status: number, method: string): boolean {
  return method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
}

type Framing = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };

function framing(head: Head, method: string, where: string): Framing {
  if (bodiless(head.status, method)) return { kind: 'none' };
  const te = single(head.headers['transfer-encoding']);
  if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) return { kind: 'chunked' };
  const cl = single(head.headers['content-length']);
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw new MinerError('garbage', `bad Content-Length ${JSON.stringify(cl)}`, { where });
    return { kind: 'length', bytes: Number(cl) };
  }
  return { kind: 'close' };
}

/** Decodes a chunked body from `at`; `done` is false while the final chunk has not arrived. */
function dechunk(buf: Buffer, at: number, where: string): { body: Buffer; done: boolean } {
  const parts: Buffer[] = [];
  let i = at;
  for (;;) {
    const eol = buf.indexOf(10, i);
    if (eol < 0) return { body: Buffer.concat(parts), done: false };
    const sizeText = buf.subarray(i, eol).toString('latin1').replace(/;.*$/, '').trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new MinerError('garbage', `bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`, { where });
    const size = parseInt(sizeText, 16);
    const dataAt = eol + 1;
    if (size === 0) {
      // Trailer fields (rare) end with a blank line; a server that closes right after "0\r\n" is accepted.
      return { body: Buffer.concat(parts), done: true };
    }
    if (buf.length < dataAt + size) {
      parts.push(buf.subarray(dataAt));
      return { body: Buffer.concat(parts), done: false };
    }
    parts.push(buf.subarray(dataAt, dataAt + size));
    i = dataAt + size;
    // The CRLF (or LF) after the data.
    if (buf[i] === 13) i++;
    if (i >= buf.length) return { body: Buffer.concat(parts), done: false };
    if (buf[i] !== 10) throw new MinerError('garbage', 'chunk data not followed by a line end', { where });
    i++;
  }
}

/** True when `buf` holds a whole reply (headers and a framed body); false while more may come. */
export function httpReplyComplete(buf: Buffer, method: string, where = ''): boolean {
  const head = parseHead(buf, where);
  if (!head) return false;
  const f = framing(head, method, where);
  switch (f.kind) {
    case 'none':
      return true;
    case 'length':
      return buf.length - head.bodyAt >= f.bytes;
    case 'chunked':
      return dechunk(buf, head.bodyAt, where).done;
    case 'close':
      return false;
  }
}

/**
 * Parses a whole reply: the bytes up to the close (or up to completion). A reply cut short (no
 * blank line after the headers, fewer body bytes than Content-Length, no final chunk) is
 * 'truncated' (transient); one that is not HTTP is 'garbage'.
 */
export function parseHttpReply(buf: Buffer, method: string, where: string): HttpResponse {
  const head = parseHead(buf, where);
  if (!head) throw new MinerError('truncated', `reply ended inside the HTTP headers after ${buf.length} bytes`, { where });
  const f = framing(head, method, where);
  let body: Buffer;
  switch (f.kind) {
    case 'none':
      body = Buffer.alloc(0);
      break;
    case 'length': {
      const got = buf.length - head.bodyAt;
      if (got < f.bytes) throw new MinerError('truncated', `body cut short: ${got} of ${f.bytes} bytes`, { where, statusCode: head.status });
      body = buf.subarray(head.bodyAt, head.bodyAt + f.bytes);
      break;
    }
    case 'chunked': {
      const d = dechunk(buf, head.bodyAt, where);
      if (!d.done) throw new MinerError('truncated', 'chunked body cut short (no final chunk)', { where, statusCode: head.status });
      body = d.body;
      break;
    }
    case 'close':
      body = buf.subarray(head.bodyAt);
      break;
  }
  const connection = (single(head.headers.connection) ?? '').toLowerCase();
  const keepAlive = f.kind !== 'close' && !/\bclose\b/.test(connection) && (!head.http10 || /\bkeep-alive\b/.test(connection));
  return { status: head.status, headers: head.headers, body, keepAlive };
}

/** A request on an HttpSession: the session knows the device's address and limits. */
export type HttpCall = Omit<HttpRequestSpec, 'host' | 'port' | 'limits'>;

/**
 * Several requests to one device on one connection (HTTP/1.1 keep-alive): a command and the read
 * that confirms it cost one TCP handshake instead of two — at fleet scale the handshakes are most
 * of a controller's CPU. A connection the server closed is replaced by a new one; a request that
 * finds its reused connection closed or reset under it (a keep-alive timeout racing the request) is
 * sent once more on a fresh one. The owner closes the session when done.
 */
export class HttpSession {
  private readonly conn: TcpConnection;

  constructor(
    readonly host: string,
    readonly port: number,
    limits?: Partial<ExchangeLimits>,
  ) {
    this.conn = new TcpConnection(host, port, limits);
  }

  async request(ctx: CallContext, call: HttpCall, keepAlive = true): Promise<HttpResponse> {
    const spec: HttpRequestSpec = { ...call, host: this.host, port: this.port };
    const where = `http://${this.conn.where}${spec.path}`;
    const send = async (): Promise<HttpResponse> => {
      const reply = await this.conn.exchange(ctx, encodeHttpRequest(spec, keepAlive), (received) => httpReplyComplete(received, spec.method, where));
      return parseHttpReply(reply.bytes, spec.method, where);
    };
    const reused = this.conn.reusable;
    let res: HttpResponse;
    try {
      res = await send();
    } catch (err) {
      // Only a reused connection, and only when it died under us (FIN or RST): a fresh one failing is news.
      if (!reused || !isMinerError(err) || (err.fault !== 'closed' && err.fault !== 'reset')) throw err;
      res = await send();
    }
    if (!keepAlive || !res.keepAlive) this.conn.close();
    return res;
  }

  close(): void {
    this.conn.close();
  }
}

/** One HTTP exchange on its own socket: connect and read deadlines, AbortSignal, size cap. */
export async function httpExchange(ctx: CallContext, spec: HttpRequestSpec): Promise<HttpResponse> {
  const session = new HttpSession(spec.host, spec.port, spec.limits);
  try {
    return await session.request(ctx, spec, false);
  } finally {
    session.close();
  }
}
