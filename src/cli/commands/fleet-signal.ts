import { randomUUID } from 'node:crypto';
import { badInput, describeError, isMulletError, MulletError } from '../../core/errors.js';
import { createHttpClient } from '../../net/http-client.js';
import { apiErrorSchema, signalReplySchema, type SignalTiming } from '../../fleet/agent/signals.js';
import { opt, need, type CliIo, type CommandSpec, type ParsedArgs } from '../command.js';
import { fmt, printJson } from '../output.js';
import { LIMITS } from '../../core/limits.js';

/**
 * `mullet fleet curtail` / `mullet fleet restore`: send a signal to a running agent and wait until
 * the agent reports the fleet confirmed, then print the timing. The request carries an id (one is
 * generated when --id is absent), so retrying after a network error can never act twice.
 */
const DEFAULT_AGENT = 'http://127.0.0.1:8420';
/** Longest single long-poll; the loop repeats it until --timeout-s. */
const POLL_MS = 25_000;

const client = createHttpClient();

async function call(io: CliIo, base: string, path: string, init: { method: 'GET' | 'POST'; body?: unknown }, timeoutMs: number): Promise<{ duplicate: boolean; signal: SignalTiming }> {
  const url = new URL(path, base).toString();
  let res: { status: number; body: unknown };
  try {
    res = await client.exchangeJson(init.method, url, init.body, { timeoutMs, signal: io.signal });
  } catch (err) {
    if (isMulletError(err) && err.code === 'NETWORK') throw new MulletError('NETWORK', `cannot reach the agent (is \`mullet agent\` running there?): ${err.message}`, { where: url, cause: err });
    if (isMulletError(err) && err.code === 'PARSE') throw new MulletError('PARSE', `a body that is not JSON (is this a Mullet agent?): ${err.message}`, { where: url, cause: err });
    throw err;
  }
  const body = res.body;
  if (res.status >= 400) {
    const e = apiErrorSchema.safeParse(body);
    const msg = e.success ? e.data.error.message : `HTTP ${res.status}`;
    if (res.status === 400 || res.status === 409) throw badInput(msg, e.success && e.data.error.where ? `agent: ${e.data.error.where}` : 'agent');
    throw new MulletError(res.status === 404 ? 'NOT_FOUND' : 'PROTOCOL', msg, { where: url, transient: res.status >= 500 });
  }
  const r = signalReplySchema.safeParse(body);
  if (!r.success) throw new MulletError('PARSE', 'unexpected reply from the agent', { where: url });
  return { duplicate: r.data.duplicate ?? false, signal: r.data.signal };
}

/** POSTs the signal (retrying transient failures with the same id), then waits for it to settle. */
async function sendAndWait(args: ParsedArgs, io: CliIo, path: '/v1/curtail' | '/v1/restore', body: Record<string, unknown>): Promise<number> {
  const base = opt.str(args, 'agent') ?? DEFAULT_AGENT;
  try {
    new URL(base);
  } catch {
    throw badInput(`expected a URL such as ${DEFAULT_AGENT}, got '${base}'`, '--agent');
  }
  const timeoutS = need(opt.num(args, 'timeout-s'), 'timeout-s');
  if (!(timeoutS > 0)) throw badInput(`must be > 0, got ${timeoutS}`, '--timeout-s');
  const deadline = Date.now() + timeoutS * 1000;
  const id = opt.str(args, 'id') ?? `cli-${randomUUID()}`;
  const left = (): number => Math.max(1, deadline - Date.now());

  // Transient failures (agent restarting, connection reset, a 5xx) are retried with the same id
  // until --timeout-s: the id makes a repeated POST harmless, and a GET never acts.
  const retrying = async (what: string, fn: (ms: number) => Promise<{ duplicate: boolean; signal: SignalTiming }>): Promise<{ duplicate: boolean; signal: SignalTiming }> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(left());
      } catch (err) {
        const transient = err instanceof MulletError && err.transient;
        if (!transient || left() <= 1) throw err;
        const backoffMs = Math.min(2_000, 100 * 2 ** Math.min(attempt, 5));
        io.stderr(`mullet: ${describeError(err)}; ${what} again in ${backoffMs} ms (same id ${id})\n`);
        await new Promise((r) => setTimeout(r, Math.min(backoffMs, left())));
      }
    }
  };
  const sent = await retrying('sending', (ms) => call(io, base, path, { method: 'POST', body: { ...body, id } }, Math.min(10_000, ms)));
  if (sent.duplicate) io.stderr(`mullet: the agent already had signal ${id}; not sent again\n`);
  let t = sent.signal;
  while (t.state === 'active' && left() > 1) {
    t = (
      await retrying('asking', (ms) => {
        const wait = Math.min(POLL_MS, ms);
        return call(io, base, `/v1/signals/${encodeURIComponent(id)}?waitMs=${wait}`, { method: 'GET' }, wait + 5_000);
      })
    ).signal;
  }
  if (opt.bool(args, 'json')) printJson(io, { ...t, duplicate: sent.duplicate });
  if (t.state === 'active') {
    io.stderr(`mullet: signal ${id} not confirmed within ${timeoutS} s (${t.commandsSent} commands so far); the agent keeps working on it\n`);
    return 1;
  }
  if (t.state === 'unmet') {
    io.stderr(
      `mullet: signal ${id} settled UNMET: ${fmt(t.shortfallMW ?? 0, 3)} MW of mining above the cap that nothing left can shed ` +
        `(${t.miners.failed} miners failed, ${t.miners.unreachable} unreachable); the agent keeps the cap and retries failed miners later\n`,
    );
    return 1;
  }
  if (t.state === 'superseded') {
    io.stderr(`mullet: signal ${id} was superseded by ${t.supersededBy ?? 'a newer signal'} before it was confirmed\n`);
    return 1;
  }
  if (!opt.bool(args, 'json')) {
    io.stdout(
      `${t.kind} ${t.id} confirmed in ${fmt(t.elapsedMs ?? 0, 0)} ms` +
        (t.acknowledgedMs != null && t.acknowledgedMs !== t.elapsedMs ? ` (commands acknowledged in ${fmt(t.acknowledgedMs, 0)} ms, in effect: woken miners hashing)` : '') +
        `: ${t.commandsSent} commands, ` +
        `${t.miners.confirmed} miners confirmed, ${t.miners.failed} failed, ${t.miners.unreachable} unreachable` +
        (t.capMW !== null ? `; mining cap ${fmt(t.capMW, 3)} MW` : '') +
        '\n',
    );
  }
  return 0;
}

const common = {
  id: { type: 'string' as const, value: 'ID', description: 'signal id (idempotent: the same id is acted on once); generated when absent' },
  agent: { type: 'string' as const, value: 'URL', description: 'where `mullet agent` listens', default: DEFAULT_AGENT, env: 'MULLET_AGENT_URL' },
  'timeout-s': { type: 'number' as const, gt: 0, max: LIMITS.periodS, unit: 's', description: 'give up waiting for confirmation after this', default: 120 },
};

const curtail: CommandSpec = {
  path: ['fleet', 'curtail'],
  summary: 'curtail mining (by MW, by percent, or all) through the agent and wait until confirmed',
  description:
    '--mw X sheds X MW from the mining load at the first curtail of a chain; --pct P sheds P percent\n' +
    'of it; --all sleeps every miner. Least efficient machines go first. Prints signal timing\n' +
    '(received, first command, confirmed, elapsed, miners confirmed/failed) once the agent has\n' +
    'read every commanded miner back. Exit 1 if not confirmed within --timeout-s.',
  options: {
    mw: { type: 'number', gt: 0, max: LIMITS.siteMW, unit: 'MW', description: 'mining MW to shed' },
    pct: { type: 'number', gt: 0, max: 100, unit: '%', description: 'percent of the mining load to shed' },
    all: { type: 'boolean', description: 'sleep every miner' },
    ...common,
  },
  json: true,
  examples: ['mullet fleet curtail --all --json', 'mullet fleet curtail --mw 20 --id ercot-ers-2025-08-01', 'mullet fleet curtail --pct 25 --agent http://10.0.0.5:8420'],
  run(args, io) {
    const mw = opt.num(args, 'mw');
    const pct = opt.num(args, 'pct');
    const all = opt.bool(args, 'all');
    const given = [mw !== undefined, pct !== undefined, all].filter(Boolean).length;
    if (given !== 1) throw badInput('give exactly one of --mw, --pct or --all', '--mw');
    if (mw !== undefined && !(mw > 0)) throw badInput(`must be > 0, got ${mw}`, '--mw');
    if (pct !== undefined && !(pct > 0 && pct <= 100)) throw badInput(`must be in (0, 100], got ${pct}`, '--pct');
    return sendAndWait(args, io, '/v1/curtail', all ? { all: true } : mw !== undefined ? { mw } : { pct });
  },
};

const restore: CommandSpec = {
  path: ['fleet', 'restore'],
  summary: 'lift the curtailment: the agent wakes miners most efficient first, in paced batches',
  description:
    'Waits until the restore is in effect: every woken miner hashes (a boot takes minutes), and\n' +
    'prints both times: commands acknowledged (acknowledgedMs) and in effect (elapsedMs).\n' +
    'Exit 1 if not confirmed within --timeout-s.',
  options: { ...common, 'timeout-s': { ...common['timeout-s'], default: 900 } },
  json: true,
  examples: ['mullet fleet restore --json', 'mullet fleet restore --id ercot-ers-2025-08-01-end'],
  run(args, io) {
    return sendAndWait(args, io, '/v1/restore', {});
  },
};

export const fleetSignalCommands: readonly CommandSpec[] = [curtail, restore];
