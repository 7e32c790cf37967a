import { Hono } from 'hono';
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { errorBody, httpStatusFor } from '../../server/errors.js';
import { cappedBodies, jsonBody, jsonWrites, sameSiteOnly, securityHeaders } from '../../server/guards.js';
import { serveHttp, type RunningServer } from '../../server/serve.js';
import { checkSimBind } from './bind.js';
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
 * Errors: {"error":{code,message,where}} — 400 bad input, 404 unknown miners or paths (the same edge
 * as the agent API: src/server). Loopback only.
 */
const TruthQuerySchema = z.strictObject({ state: z.enum(MINER_STATES).optional(), firmware: z.string().optional(), model: z.string().optional() });
const SiteUpdateSchema = z.strictObject({ aiLoadMW: z.number().min(0) });
const ActionSchema = z.strictObject({ action: z.enum(MINER_ACTIONS) });
const BulkFaultSchema = z.strictObject({ ips: z.array(z.string()).min(1), fault: FaultSpecSchema });
const BulkClearSchema = z.strictObject({ ips: z.array(z.string()).optional() });

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** True for addresses that only this machine can reach. */
export { isLoopbackHost } from '../../core/net.js';

function parseBody<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new MulletError('BAD_INPUT', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`, issue && issue.path.length > 0 ? { where: issue.path.join('.') } : {});
}

/** The control API's routes (tests call `app.request()` without a socket). */
export function controlRoutes(fleet: SimFleet): Hono {
  const app = new Hono();
  const site = async (): Promise<Record<string, unknown>> => {
    const [p, states] = await Promise.all([fleet.sitePower(), fleet.stateCounts()]);
    return { sitePowerW: p.totalW, minersPowerW: p.minersW, aiLoadW: p.aiLoadW, states };
  };
  const miner = (ip: string): string => {
    if (!fleet.has(ip)) throw new MulletError('NOT_FOUND', `no simulated miner at ${ip}`);
    return ip;
  };
  app.onError((err, c) => c.json(errorBody(err), httpStatusFor(err) as 400));
  app.notFound((c) => c.json(errorBody(new MulletError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)), 404));
  app.use('*', securityHeaders(), sameSiteOnly(), cappedBodies(MAX_BODY_BYTES), jsonWrites());
  app.get('/health', (c) => c.json({ ok: true, miners: fleet.miners.length, workers: fleet.workers, listeners: fleet.listeners, startupMs: fleet.startupMs }));
  app.get('/site', async (c) => c.json(await site()));
  app.put('/site', async (c) => {
    fleet.aiLoadW = parseBody(SiteUpdateSchema, await jsonBody(c.req, MAX_BODY_BYTES)).aiLoadMW * 1e6;
    return c.json(await site());
  });
  app.get('/miners', async (c) => c.json({ miners: await fleet.truth(undefined, parseBody(TruthQuerySchema, c.req.query())) }));
  app.get('/miners/:ip', async (c) => c.json((await fleet.truth(miner(c.req.param('ip'))))[0]));
  app.post('/miners/:ip/faults', async (c) => {
    await fleet.addFault(miner(c.req.param('ip')), parseBody(FaultSpecSchema, await jsonBody(c.req, MAX_BODY_BYTES)));
    return c.json({ ok: true }, 201);
  });
  app.delete('/miners/:ip/faults', async (c) => {
    await fleet.clearFaults(miner(c.req.param('ip')));
    return c.json({ ok: true });
  });
  app.post('/miners/:ip/actions', async (c) => {
    const ip = miner(c.req.param('ip'));
    await fleet.act(ip, parseBody(ActionSchema, await jsonBody(c.req, MAX_BODY_BYTES)).action);
    return c.json((await fleet.truth(ip))[0]);
  });
  app.post('/faults', async (c) => {
    const body = parseBody(BulkFaultSchema, await jsonBody(c.req, MAX_BODY_BYTES));
    const done = await Promise.all(body.ips.map((ip) => fleet.addFault(ip, body.fault)));
    return c.json({ applied: done.filter(Boolean).length });
  });
  app.delete('/faults', async (c) => {
    const body = parseBody(BulkClearSchema, await jsonBody(c.req, MAX_BODY_BYTES));
    const ips = body.ips ?? fleet.miners.map((m) => m.ip);
    const done = await Promise.all(ips.map((ip) => fleet.clearFaults(ip)));
    return c.json({ cleared: done.filter(Boolean).length });
  });
  return app;
}

export class ControlServer {
  private server: RunningServer | null = null;

  constructor(private readonly fleet: SimFleet) {}

  /** Listens on loopback (any other address only with `allowNonLoopback`, see bind.ts). */
  async listen(host: string, port: number, opts: { allowNonLoopback?: boolean } = {}): Promise<{ host: string; port: number }> {
    checkSimBind(host, '--control', opts.allowNonLoopback);
    this.server = await serveHttp(controlRoutes(this.fleet), { host, port, what: 'the simulator control API' });
    return { host, port: Number(new URL(this.server.url).port) };
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }
}
