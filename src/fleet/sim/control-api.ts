import http from 'node:http';
import { z } from 'zod';
import { badInput, describeError, MulletError } from '../../core/errors.js';
import { FaultSpecSchema } from './faults.js';
import type { SimFleet } from './fleet.js';
import { MINER_ACTIONS } from './host.js';
import { MINER_STATES } from './physics.js';

/**
 * The simulator's control API (loopback HTTP, JSON): ground truth for tests and benchmarks to
 * verify what an agent did, faults on demand, and the firm AI load behind the meter.
 *
 *   GET    /health                      {ok, miners, workers, listeners, startupMs}
 *   GET    /site                        {sitePowerW, minersPowerW, aiLoadW, states:{mining:…}}
 *   PUT    /site        {aiLoadMW}      sets the firm AI load; returns /site
 *   GET    /miners?state=&firmware=&model=   {miners:[truth…]} (address order)
 *   GET    /miners/IP                   one miner's truth (404 if not simulated)
 *   POST   /miners/IP/faults  {kind, count?, durationMs?, rebootMs?, port?}
 *   DELETE /miners/IP/faults
 *   POST   /miners/IP/actions {action: reboot|power-off|power-on|sleep|wake}
 *   POST   /faults      {ips:[…], fault:{…}}   the same fault on many miners → {applied}
 *   DELETE /faults      {ips?:[…]}             clears faults (all miners when ips is absent)
 * Errors: 400 {error} for bad input, 404 for unknown miners or paths.
 */
const TruthQuerySchema = z.strictObject({ state: z.enum(MINER_STATES).optional(), firmware: z.string().optional(), model: z.string().optional() });
const SiteUpdateSchema = z.strictObject({ aiLoadMW: z.number().min(0) });
const ActionSchema = z.strictObject({ action: z.enum(MINER_ACTIONS) });
const BulkFaultSchema = z.strictObject({ ips: z.array(z.string()).min(1), fault: FaultSpecSchema });
const BulkClearSchema = z.strictObject({ ips: z.array(z.string()).optional() });

const MAX_BODY_BYTES = 4 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export class ControlServer {
  private readonly server: http.Server;

  constructor(private readonly fleet: SimFleet) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => send(res, 500, { error: describeError(err) }));
    });
    this.server.on('error', () => undefined);
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    if (!isLoopbackHost(host)) throw badInput(`the control API binds loopback only, got '${host}'`, '--control');
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new MulletError('IO', `control API cannot listen on ${host}:${port}: ${err.message}`, { cause: err, where: `${host}:${port}` }));
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        resolve({ host, port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async site(): Promise<Record<string, unknown>> {
    const [p, states] = await Promise.all([this.fleet.sitePower(), this.fleet.stateCounts()]);
    return { sitePowerW: p.totalW, minersPowerW: p.minersW, aiLoadW: p.aiLoadW, states };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const method = req.method ?? 'GET';
    try {
      if (parts.length === 1 && parts[0] === 'health' && method === 'GET') {
        return send(res, 200, { ok: true, miners: this.fleet.miners.length, workers: this.fleet.workers, listeners: this.fleet.listeners, startupMs: this.fleet.startupMs });
      }
      if (parts.length === 1 && parts[0] === 'site') {
        if (method === 'GET') return send(res, 200, await this.site());
        if (method === 'PUT') {
          const body = parseBody(SiteUpdateSchema, await readJson(req));
          this.fleet.aiLoadW = body.aiLoadMW * 1e6;
          return send(res, 200, await this.site());
        }
      }
      if (parts[0] === 'miners') {
        if (parts.length === 1 && method === 'GET') {
          const q = parseBody(TruthQuerySchema, Object.fromEntries(url.searchParams));
          return send(res, 200, { miners: await this.fleet.truth(undefined, q) });
        }
        const ip = parts[1] ?? '';
        if (!this.fleet.has(ip)) throw new HttpError(404, `no simulated miner at ${ip}`);
        if (parts.length === 2 && method === 'GET') return send(res, 200, (await this.fleet.truth(ip))[0]);
        if (parts.length === 3 && parts[2] === 'faults') {
          if (method === 'POST') {
            await this.fleet.addFault(ip, parseBody(FaultSpecSchema, await readJson(req)));
            return send(res, 201, { ok: true });
          }
          if (method === 'DELETE') {
            await this.fleet.clearFaults(ip);
            return send(res, 200, { ok: true });
          }
        }
        if (parts.length === 3 && parts[2] === 'actions' && method === 'POST') {
          await this.fleet.act(ip, parseBody(ActionSchema, await readJson(req)).action);
          return send(res, 200, (await this.fleet.truth(ip))[0]);
        }
      }
      if (parts.length === 1 && parts[0] === 'faults') {
        if (method === 'POST') {
          const body = parseBody(BulkFaultSchema, await readJson(req));
          const done = await Promise.all(body.ips.map((ip) => this.fleet.addFault(ip, body.fault)));
          return send(res, 200, { applied: done.filter(Boolean).length });
        }
        if (method === 'DELETE') {
          const body = parseBody(BulkClearSchema, await readJson(req, true));
          const ips = body.ips ?? this.fleet.miners.map((m) => m.ip);
          const done = await Promise.all(ips.map((ip) => this.fleet.clearFaults(ip)));
          return send(res, 200, { cleared: done.filter(Boolean).length });
        }
      }
      throw new HttpError(404, `no route ${method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof HttpError) return send(res, err.status, { error: err.message });
      if (err instanceof MulletError && err.code === 'BAD_INPUT') return send(res, 400, { error: describeError(err) });
      throw err;
    }
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: http.IncomingMessage, allowEmpty = false): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '' && allowEmpty) return resolve({});
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new HttpError(400, 'body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function parseBody<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new HttpError(400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}
