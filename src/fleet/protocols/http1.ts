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
 * `Connection: close`, an HttpSession keeps the connection for the next request. Replies are read
 * incrementally (HttpReplyReader: each byte once) and the header block is capped (HttpLimits:
 * 16 KiB, 100 lines), so a device flooding headers costs the agent microseconds, not seconds.
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
  limits?: Partial<HttpExchangeLimits>;
}

/** Socket limits (tcp.ts) and header limits of an HTTP exchange. */
export type HttpExchangeLimits = ExchangeLimits & HttpLimits;

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

/** Header limits of one reply; a reply over either is 'too-large' (PARSE, permanent). */
export interface HttpLimits {
  /** Status line and header lines together, line ends included, bytes. */
  maxHeaderBytes: number;
  /** Header lines after the status line. */
  maxHeaderCount: number;
}

/**
 * Node's own default header cap (16 KiB) and Apache's default field count (LimitRequestFields 100):
 * a miner's web server sends under 1 KiB in under 15 headers.
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxHeaderBytes: 16 * 1024, maxHeaderCount: 100 };

/** A chunk-size line (hex size and extensions) longer than this is not HTTP, bytes. */
const MAX_CHUNK_LINE_BYTES = 4096;

interface Head {
  status: number;
  /** HTTP/1.0 reply (no keep-alive unless asked for). */
  http10: boolean;
  headers: Record<string, string | string[]>;
}

const STATUS_LINE = /^HTTP\/1\.([01]) +(\d{3})(?: .*)?$/;

/** The status line and headers of a complete header block (blank line included). */
function parseHead(block: Buffer, where: string): Head {
  const lines = block.toString('latin1').split(/\r?\n/);
  const m = STATUS_LINE.exec((lines[0] ?? '').trimEnd());
  if (!m) throw new MinerError('garbage', `bad HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`, { where });
  // No prototype: a device's `__proto__:` header is a header like any other.
  const headers = Object.create(null) as Record<string, string | string[]>;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MinerError('garbage', `bad HTTP header line: ${JSON.stringify(line.slice(0, 60))}`, { where });
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    // In place: copying the list for every repeat made n repeats of one header O(n²).
    if (prev === undefined) headers[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[name] = [prev, value];
  }
  return { status: Number(m[2]), http10: m[1] === '0', headers };
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

const LF = 10;
const CR = 13;
const HTTP_PREFIX = Buffer.from('HTTP/', 'latin1');

/**
 * Reads one reply as its bytes arrive, each byte looked at once: the framing check of a
 * connection runs after every chunk, so re-parsing everything received so far (as this module
 * once did) made a reply of n bytes in small chunks cost O(n²) — a device flooding headers in
 * 1 KiB writes cost the agent seconds of CPU per reply. The header block is capped
 * (`HttpLimits`), so what is kept before the blank line is bounded too. Body bytes are kept as the
 * received chunks (no copy) until `finish`.
 */
export class HttpReplyReader {
  private readonly limits: HttpLimits;
  private phase: 'head' | 'body' | 'done' = 'head';
  // Header block: the chunks so far, its size, and the line being read.
  private readonly headParts: Buffer[] = [];
  private headBytes = 0;
  private lineBytes = 0;
  private lineStartsWithCr = false;
  private lines = 0;
  private head: Head | undefined;
  private frame: Framing = { kind: 'close' };
  private readonly bodyParts: Buffer[] = [];
  /** Body bytes still expected: Content-Length left, or the current chunk's data left. */
  private remaining = 0;
  private chunkState: 'size' | 'data' | 'cr' | 'lf' = 'size';
  private readonly sizeLine: Buffer[] = [];
  private sizeLineBytes = 0;

  constructor(
    private readonly method: string,
    private readonly where: string,
    limits?: Partial<HttpLimits>,
  ) {
    this.limits = { maxHeaderBytes: limits?.maxHeaderBytes ?? DEFAULT_HTTP_LIMITS.maxHeaderBytes, maxHeaderCount: limits?.maxHeaderCount ?? DEFAULT_HTTP_LIMITS.maxHeaderCount };
  }

  /** True once the reply is complete (later bytes are ignored); throws on a reply that can never be valid. */
  push(chunk: Buffer): boolean {
    if (this.phase === 'head') {
      const used = this.readHead(chunk);
      if (used < 0) return false;
      chunk = chunk.subarray(used);
    }
    if (this.phase === 'body') this.readBody(chunk);
    return this.phase === 'done';
  }

  /** True when the reply is complete. */
  get complete(): boolean {
    return this.phase === 'done';
  }

  /**
   * The reply, once the stream has ended or the reply is complete. A reply cut short (no blank line
   * after the headers, fewer body bytes than Content-Length, no final chunk) is 'truncated'
   * (transient).
   */
  finish(): HttpResponse {
    const head = this.head;
    if (!head) throw new MinerError('truncated', `reply ended inside the HTTP headers after ${this.headBytes} bytes`, { where: this.where });
    const f = this.frame;
    if (this.phase !== 'done') {
      if (f.kind === 'length') {
        throw new MinerError('truncated', `body cut short: ${f.bytes - this.remaining} of ${f.bytes} bytes`, { where: this.where, statusCode: head.status });
      }
      if (f.kind === 'chunked') throw new MinerError('truncated', 'chunked body cut short (no final chunk)', { where: this.where, statusCode: head.status });
    }
    const body = this.bodyParts.length === 1 ? (this.bodyParts[0] as Buffer) : Buffer.concat(this.bodyParts);
    const connection = (single(head.headers.connection) ?? '').toLowerCase();
    const keepAlive = f.kind !== 'close' && !/\bclose\b/.test(connection) && (!head.http10 || /\bkeep-alive\b/.test(connection));
    return { status: head.status, headers: head.headers, body, keepAlive };
  }

  /** Reads header bytes; returns how many bytes of `chunk` the header block took, or -1 for all (not ended yet). */
  private readHead(chunk: Buffer): number {
    // Not an HTTP reply at all: say so as soon as the first bytes show it, not at the deadline.
    for (let i = 0; this.headBytes + i < HTTP_PREFIX.length && i < chunk.length; i++) {
      if (chunk[i] !== HTTP_PREFIX[this.headBytes + i]) {
        const seen = Buffer.concat([...this.headParts, chunk]).subarray(0, 40).toString('latin1');
        throw new MinerError('garbage', `not an HTTP reply: ${JSON.stringify(seen)}`, { where: this.where });
      }
    }
    let i = 0;
    while (i < chunk.length) {
      const lf = chunk.indexOf(LF, i);
      const lineEnd = lf < 0 ? chunk.length : lf;
      if (lineEnd > i) {
        if (this.lineBytes === 0) this.lineStartsWithCr = chunk[i] === CR;
        this.lineBytes += lineEnd - i;
      }
      const taken = lf < 0 ? chunk.length : lf + 1;
      if (this.headBytes + taken > this.limits.maxHeaderBytes) {
        throw new MinerError('too-large', `HTTP header block larger than ${this.limits.maxHeaderBytes} bytes`, { where: this.where });
      }
      if (lf < 0) break;
      // A blank line (LF or CR LF alone) after the status line ends the header block.
      if (this.lines > 0 && (this.lineBytes === 0 || (this.lineBytes === 1 && this.lineStartsWithCr))) {
        this.headParts.push(chunk.subarray(0, taken));
        this.headBytes += taken;
        this.startBody();
        return taken;
      }
      this.lines++;
      if (this.lines - 1 > this.limits.maxHeaderCount) {
        throw new MinerError('too-large', `more than ${this.limits.maxHeaderCount} HTTP header lines`, { where: this.where });
      }
      this.lineBytes = 0;
      i = lf + 1;
    }
    this.headParts.push(chunk);
    this.headBytes += chunk.length;
    return -1;
  }

  private startBody(): void {
    const head = parseHead(Buffer.concat(this.headParts, this.headBytes), this.where);
    this.head = head;
    this.headParts.length = 0;
    this.frame = framing(head, this.method, this.where);
    this.phase = this.frame.kind === 'none' || (this.frame.kind === 'length' && this.frame.bytes === 0) ? 'done' : 'body';
    if (this.frame.kind === 'length') this.remaining = this.frame.bytes;
  }

  private readBody(chunk: Buffer): void {
    switch (this.frame.kind) {
      case 'none':
        this.phase = 'done';
        return;
      case 'close':
        if (chunk.length > 0) this.bodyParts.push(chunk);
        return;
      case 'length': {
        const take = Math.min(this.remaining, chunk.length);
        if (take > 0) this.bodyParts.push(chunk.subarray(0, take));
        this.remaining -= take;
        if (this.remaining === 0) this.phase = 'done';
        return;
      }
      case 'chunked':
        this.readChunked(chunk);
        return;
    }
  }

  /** Chunked transfer coding: hex size line (extensions ignored), data, CRLF (or LF) … a zero size ends it. */
  private readChunked(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && this.phase === 'body') {
      switch (this.chunkState) {
        case 'size': {
          const lf = chunk.indexOf(LF, i);
          const end = lf < 0 ? chunk.length : lf;
          this.sizeLine.push(chunk.subarray(i, end));
          this.sizeLineBytes += end - i;
          if (this.sizeLineBytes > MAX_CHUNK_LINE_BYTES) throw new MinerError('garbage', `chunk-size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`, { where: this.where });
          if (lf < 0) return;
          i = lf + 1;
          this.chunkSize(Buffer.concat(this.sizeLine).toString('latin1'));
          this.sizeLine.length = 0;
          this.sizeLineBytes = 0;
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - i);
          this.bodyParts.push(chunk.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.chunkState = 'cr';
          break;
        }
        case 'cr':
          // The CRLF (or LF) after the data.
          if (chunk[i] === CR) i++;
          this.chunkState = 'lf';
          break;
        case 'lf':
          if (chunk[i] !== LF) throw new MinerError('garbage', 'chunk data not followed by a line end', { where: this.where });
          i++;
          this.chunkState = 'size';
          break;
      }
    }
  }

  private chunkSize(line: string): void {
    const semi = line.indexOf(';');
    const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new MinerError('garbage', `bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`, { where: this.where });
    const size = parseInt(sizeText, 16);
    // Trailer fields (rare) end with a blank line; a server that closes right after "0\r\n" is accepted.
    if (size === 0) this.phase = 'done';
    else {
      this.remaining = size;
      this.chunkState = 'data';
    }
  }
}

/** True when `buf` holds a whole reply (headers and a framed body); false while more may come. */
export function httpReplyComplete(buf: Buffer, method: string, where = '', limits?: Partial<HttpLimits>): boolean {
  return new HttpReplyReader(method, where, limits).push(buf);
}

/**
 * Parses a whole reply: the bytes up to the close (or up to completion). A reply cut short (no
 * blank line after the headers, fewer body bytes than Content-Length, no final chunk) is
 * 'truncated' (transient); one that is not HTTP is 'garbage'; headers over the limits 'too-large'.
 */
export function parseHttpReply(buf: Buffer, method: string, where: string, limits?: Partial<HttpLimits>): HttpResponse {
  const reader = new HttpReplyReader(method, where, limits);
  reader.push(buf);
  return reader.finish();
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
    private readonly limits?: Partial<HttpExchangeLimits>,
  ) {
    this.conn = new TcpConnection(host, port, limits);
  }

  async request(ctx: CallContext, call: HttpCall, keepAlive = true): Promise<HttpResponse> {
    const spec: HttpRequestSpec = { ...call, host: this.host, port: this.port };
    const where = `http://${this.conn.where}${spec.path}`;
    const send = async (): Promise<HttpResponse> => {
      const reader = new HttpReplyReader(spec.method, where, this.limits);
      await this.conn.exchange(ctx, encodeHttpRequest(spec, keepAlive), (chunk) => reader.push(chunk));
      return reader.finish();
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
