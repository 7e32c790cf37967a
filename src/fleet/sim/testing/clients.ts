import http from 'node:http';
import net from 'node:net';
import { digestAuthorization, parseDigestChallenge } from '../../protocols/http-digest.js';
import { FakeClock } from '../../../core/time.js';
import { allocateAddresses } from '../cidr.js';
import { DEFAULT_HOST_OPTIONS, SimHost, type HostOptions } from '../host.js';
import { DEFAULT_MINER_OPTIONS, type MinerOptions, type MinerSpec } from '../miner.js';
import type { FirmwareId } from '../firmware.js';
import { findModel } from '../models.js';
import { hash32 } from '../rng.js';

/** Test helpers: raw clients for the simulator's sockets, and a small host on fake clocks. */

export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Port 80 needs root; elsewhere tests use 8080 for the CGI. */
export const TEST_HTTP_PORT = process.getuid?.() === 0 ? 80 : 8080;

export interface RawReply {
  readonly bytes: Buffer;
  /** How the exchange ended: the server closed, reset, or nothing came back before `timeoutMs`. */
  readonly end: 'close' | 'reset' | 'timeout';
}

/** Connects, writes `payload`, reads until the server closes (or `timeoutMs` passes). */
export function rawExchange(host: string, port: number, payload: string | Buffer, timeoutMs = 5_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.createConnection({ host, port });
    let done = false;
    const finish = (end: RawReply['end']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ bytes: Buffer.concat(chunks), end });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => finish('close'));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish('reset');
      else {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

/** A cgminer-port request: JSON object or text; returns the reply text (NUL kept) and bytes. */
export async function api(host: string, payload: Record<string, unknown> | string, port = 4028): Promise<RawReply & { text: string }> {
  const r = await rawExchange(host, port, typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { ...r, text: r.bytes.toString('utf8') };
}

/** Parses a cgminer reply that must end with exactly one NUL. */
export function cgJson(r: { text: string }): Record<string, unknown> {
  if (!r.text.endsWith('\0')) throw new Error(`reply does not end with NUL: ${JSON.stringify(r.text.slice(-20))}`);
  return JSON.parse(r.text.slice(0, -1)) as Record<string, unknown>;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function httpRequest(host: string, port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, agent: false, headers: { Connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A digest client for tests: challenge, then the authorised request. Returns both replies. */
export async function digestRequest(
  host: string,
  port: number,
  method: 'GET' | 'POST',
  path: string,
  password = 'root',
  body?: string,
): Promise<{ challenge: HttpReply; reply: HttpReply; authorization: string }> {
  const challenge = await httpRequest(host, port, method, path, {}, body);
  const c = parseDigestChallenge(challenge.headers['www-authenticate']);
  if (!c) throw new Error(`no digest challenge (status ${challenge.status})`);
  const authorization = digestAuthorization({ username: 'root', password, realm: c.realm, nonce: c.nonce, method, uri: path, algorithm: 'MD5', qop: 'auth', nc: 1, cnonce: 'abcdef0123456789' }, c.opaque);
  const reply = await httpRequest(host, port, method, path, { Authorization: authorization }, body);
  return { challenge, reply, authorization };
}

export interface TestHost {
  readonly host: SimHost;
  readonly sim: FakeClock;
  readonly wall: FakeClock;
  readonly ips: string[];
}

/** A started host on fake clocks (maintenance timer off: call host.maintain()). */
export async function startTestHost(
  cidr: string,
  miners: readonly { firmware: FirmwareId; model: string }[],
  opts: { miner?: Partial<MinerOptions>; host?: Partial<HostOptions> } = {},
): Promise<TestHost> {
  const sim = new FakeClock(T0);
  const wall = new FakeClock(T0);
  const ips = allocateAddresses(cidr, miners.length);
  const specs: MinerSpec[] = miners.map((m, i) => ({ index: i, ip: ips[i] as string, firmware: m.firmware, model: findModel(m.model), seed: hash32(7, i) }));
  const host = new SimHost(specs, { sim, wall }, {
    ...DEFAULT_HOST_OPTIONS,
    ports: { api: 4028, http: TEST_HTTP_PORT },
    maintainEveryMs: 0,
    holdMs: 300,
    ...opts.host,
    miner: { ...DEFAULT_MINER_OPTIONS, ...opts.miner },
  });
  await host.start();
  return { host, sim, wall, ips };
}
