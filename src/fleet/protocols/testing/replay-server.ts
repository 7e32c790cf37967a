/**
 * Loopback servers that answer miner protocol requests with recorded (or scripted) bytes. Tests
 * and the contract suite use them to drive the real clients over real sockets. Not product code:
 * the simulator (fleet/sim) is the stateful, physical counterpart.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { verifyDigestAuthorization } from '../http-digest.js';
import { isObj, type Obj } from '../values.js';

/** What the server does with one request. */
export type ReplayAction =
  /** Send `body` (+ a NUL unless nul:false), then close. `chunks` splits the write to test reassembly. */
  | { kind: 'reply'; body: string | Buffer; nul?: boolean; chunks?: number }
  /** Close the connection without a reply. */
  | { kind: 'close' }
  /** Reset the connection (RST). */
  | { kind: 'reset' }
  /** Never answer (the client's read deadline must fire). */
  | { kind: 'hang' }
  /** Send only the first `bytes` bytes of `body`, then close (no NUL). */
  | { kind: 'truncate'; body: string; bytes: number };

export interface ReplayRequest {
  raw: string;
  /** The parsed JSON request, or null for text-form requests. */
  json: Obj | null;
  /** 'command' or 'cmd' value, or the text form's command. */
  command: string;
  parameter: string | undefined;
  form: 'json' | 'text';
}

export type ReplayHandler = (req: ReplayRequest) => ReplayAction | Promise<ReplayAction>;

export interface RunningServer {
  host: string;
  port: number;
  /** Every request received, in order. */
  requests: ReplayRequest[];
  close(): Promise<void>;
}

function parseRequest(raw: string): ReplayRequest {
  const t = raw.trim();
  if (t.startsWith('{')) {
    try {
      const j = JSON.parse(t) as unknown;
      if (isObj(j)) {
        const c = j.command ?? j.cmd;
        const p = j.parameter;
        return { raw, json: j, command: typeof c === 'string' ? c : '', parameter: typeof p === 'string' ? p : typeof p === 'number' ? String(p) : undefined, form: 'json' };
      }
    } catch {
      // fall through: incomplete JSON is handled by the caller waiting for more bytes
    }
  }
  const bar = t.indexOf('|');
  return { raw, json: null, command: bar >= 0 ? t.slice(0, bar) : t, parameter: bar >= 0 ? t.slice(bar + 1) : undefined, form: 'text' };
}

function requestComplete(buf: string): boolean {
  const t = buf.trim();
  if (!t.startsWith('{')) return t.length > 0; // text form: one write, like cgminer's single recv
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** Starts a cgminer-style TCP server on loopback answering through `handler`. */
export function startTcpReplay(handler: ReplayHandler, opts: { host?: string; port?: number } = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const requests: ReplayRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    let handled = false;
    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      buf += chunk.toString('utf8');
      if (!requestComplete(buf)) return;
      handled = true;
      const req = parseRequest(buf);
      requests.push(req);
      void Promise.resolve(handler(req)).then((action) => perform(socket, action));
    });
  });
  return listen(server, host, opts.port ?? 0, requests, sockets);
}

function perform(socket: net.Socket, action: ReplayAction): void {
  switch (action.kind) {
    case 'reply': {
      const body = Buffer.isBuffer(action.body) ? action.body : Buffer.from(action.body, 'utf8');
      const bytes = action.nul === false ? body : Buffer.concat([body, Buffer.from([0])]);
      const n = Math.max(1, action.chunks ?? 1);
      const step = Math.ceil(bytes.length / n);
      for (let i = 0; i < bytes.length; i += step) socket.write(bytes.subarray(i, i + step));
      socket.end();
      return;
    }
    case 'close':
      socket.end();
      return;
    case 'reset':
      socket.resetAndDestroy();
      return;
    case 'hang':
      return;
    case 'truncate':
      socket.end(Buffer.from(action.body, 'utf8').subarray(0, action.bytes));
      return;
  }
}

function listen(server: net.Server | http.Server, host: string, port: number, requests: ReplayRequest[], sockets: Set<net.Socket>): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') {
        reject(new Error('no address'));
        return;
      }
      resolve({
        host,
        port: addr.port,
        requests,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

const INVALID_COMMAND = (): string =>
  JSON.stringify({ STATUS: [{ STATUS: 'E', When: 0, Code: 14, Msg: 'Invalid command', Description: 'replay' }], id: 1 });

/** An entry in a cgminer replay table: recorded body text, or an explicit action. */
export type TableEntry = string | Buffer | ReplayAction | ((req: ReplayRequest) => ReplayAction);

/**
 * A handler serving a table keyed by command (or `command|parameter`, or a whole multi-command
 * `a+b`). Multi-commands missing from the table are composed from the single replies, as
 * cgminer does: {"a":[replyA],"b":[replyB],"id":1}. Unknown commands get "Invalid command"
 * (STATUS E, Code 14). Bodies get the NUL terminator the recorded samples lost.
 */
export function tableHandler(table: Record<string, TableEntry>, fallback?: ReplayHandler): ReplayHandler {
  const lookup = (command: string, parameter: string | undefined, req: ReplayRequest): ReplayAction | undefined => {
    const keys = parameter === undefined ? [command] : [`${command}|${parameter}`, command];
    for (const k of keys) {
      const e = table[k];
      if (e === undefined) continue;
      if (typeof e === 'function') return e(req);
      if (typeof e === 'string' || Buffer.isBuffer(e)) return { kind: 'reply', body: e };
      return e;
    }
    return undefined;
  };
  return (req) => {
    const direct = lookup(req.command, req.parameter, req);
    if (direct) return direct;
    if (req.command.includes('+')) {
      const parts = req.command.split('+');
      const sortedKey = [...parts].sort().join('+');
      for (const k of Object.keys(table)) {
        if (k.includes('+') && [...k.split('+')].sort().join('+') === sortedKey) return lookup(k, undefined, req) as ReplayAction;
      }
      const out: Obj = {};
      for (const p of parts) {
        const a = lookup(p, undefined, { ...req, command: p });
        if (!a || a.kind !== 'reply') return { kind: 'reply', body: INVALID_COMMAND() };
        const text = (Buffer.isBuffer(a.body) ? a.body.toString('utf8') : a.body).replace(/\0+$/, '');
        out[p] = [JSON.parse(text) as unknown];
      }
      out.id = 1;
      return { kind: 'reply', body: JSON.stringify(out) };
    }
    if (fallback) return fallback(req);
    return { kind: 'reply', body: INVALID_COMMAND() };
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP replay with Digest auth

export interface HttpRoute {
  method?: 'GET' | 'POST';
  status?: number;
  body: string | Buffer | ((req: { body: string; path: string }) => string);
  contentType?: string;
}

export interface HttpReplayOptions {
  host?: string;
  port?: number;
  routes: Record<string, HttpRoute>;
  /** Digest credentials the server accepts; null serves without auth. */
  digest?: { realm: string; username: string; password: string } | null;
  /** Nonces become stale after this many uses (to test the stale=true path); default unlimited. */
  nonceUses?: number;
}

export interface RunningHttpServer extends RunningServer {
  /** Method, path, body of each request that passed authentication. */
  hits: { method: string; path: string; body: string }[];
  /** Count of requests answered 401. */
  challenges: number;
  /** TCP connections accepted (keep-alive shows as fewer connections than requests). */
  connections: number;
}

/** Starts a loopback HTTP server serving fixed routes behind Digest auth (as Antminer lighttpd does). */
export function startHttpReplay(opts: HttpReplayOptions): Promise<RunningHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const nonces = new Map<string, number>();
  const hits: RunningHttpServer['hits'] = [];
  const sockets = new Set<net.Socket>();
  let challenges = 0;
  let connections = 0;
  const digest = opts.digest === undefined ? { realm: 'antMiner Configuration', username: 'root', password: 'root' } : opts.digest;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const method = req.method ?? 'GET';
      const body = Buffer.concat(chunks).toString('utf8');
      if (digest) {
        const verdict = verifyDigestAuthorization(req.headers.authorization, {
          method,
          realm: digest.realm,
          path,
          passwordFor: (u) => (u === digest.username ? digest.password : undefined),
          nonceValid: (n) => {
            const used = nonces.get(n);
            if (used === undefined) return false;
            nonces.set(n, used + 1);
            return opts.nonceUses === undefined || used < opts.nonceUses;
          },
        });
        if (!verdict.ok) {
          challenges++;
          const nonce = randomBytes(16).toString('hex');
          nonces.set(nonce, 0);
          res.writeHead(401, {
            'WWW-Authenticate': `Digest realm="${digest.realm}", qop="auth", nonce="${nonce}", opaque="${randomBytes(8).toString('hex')}", algorithm="MD5"${verdict.stale ? ', stale=true' : ''}`,
            'Content-Type': 'text/html',
          });
          res.end('<html><body><h1>401 - Unauthorized</h1></body></html>');
          return;
        }
      }
      const route = opts.routes[path.split('?')[0] ?? path];
      if (!route || (route.method !== undefined && route.method !== method)) {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<html><body><h1>404 - Not Found</h1></body></html>');
        return;
      }
      hits.push({ method, path, body });
      const out = typeof route.body === 'function' ? route.body({ body, path }) : route.body;
      res.writeHead(route.status ?? 200, { 'Content-Type': route.contentType ?? 'text/plain' });
      res.end(out);
    });
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return listen(server, host, opts.port ?? 0, [], sockets).then((r) => ({
    ...r,
    hits,
    get challenges() {
      return challenges;
    },
    get connections() {
      return connections;
    },
  }));
}
