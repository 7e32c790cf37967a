import path from 'node:path';
import { existsSync } from 'node:fs';
import { badInput, isMulletError, MulletError } from '../../core/errors.js';
import { systemClock } from '../../core/time.js';
import { createHttpClient } from '../../net/http-client.js';
import { deploymentReplySchema, deploymentRequestSchema, evidenceCsv, evidenceRow, GRID_PRODUCT_IDS } from '../../fleet/agent/grid.js';
import type { z } from 'zod';
import { apiErrorSchema } from '../../fleet/agent/signals.js';
import { SqliteAgentStateStore } from '../../fleet/state/store.js';
import { need, opt, type CliIo, type CommandSpec, type ParsedArgs } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';

/** An instant from --from/--to: ISO 8601, or a date (midnight UTC). */
function instant(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw badInput(`expected an ISO 8601 date or instant (2025-08-01, 2025-08-01T17:00:00Z), got '${text}'`, flag);
  return ms;
}

const evidence: CommandSpec = {
  path: ['grid', 'evidence'],
  summary: 'per-deployment evidence for the QSE: signal, response start, time to 95 % / 100 %, MW delivered, met or missed, penalty',
  description: [
    "Reads the grid deployments from an agent's state database (mullet agent --db). The database is locked while",
    'its agent runs: then ask the agent instead, GET /v1/grid/evidence?format=csv (or /api/v1/grid/evidence on the',
    'console). Times are from the deployment start; MW delivered is the reduction measured at the deadline (from',
    'the site meter when the agent has one, else the fleet reads: column measuredBy).',
  ].join('\n'),
  options: {
    db: { type: 'string', value: 'FILE', description: "the agent's state database", required: true },
    from: { type: 'string', value: 'DATE|ISO', description: 'deployments starting at or after this (UTC)' },
    to: { type: 'string', value: 'DATE|ISO', description: 'deployments starting before this (UTC)' },
    csv: { type: 'boolean', description: 'print CSV (one row per deployment)' },
  },
  json: true,
  examples: ['mullet grid evidence --db agent.db --from 2025-08-01 --to 2025-09-01 --csv > evidence.csv'],
  async run(args, io) {
    const file = path.resolve(io.cwd, need(opt.str(args, 'db'), 'db'));
    // Opening creates a database: a typo must not produce an empty "evidence" file.
    if (!existsSync(file)) throw new MulletError('NOT_FOUND', 'no such agent database', { where: file });
    const fromMs = instant(opt.str(args, 'from'), '--from');
    const toMs = instant(opt.str(args, 'to'), '--to');
    const store = SqliteAgentStateStore.open(file, systemClock.nowMs());
    try {
      const rows = (await store.deployments({ ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) })).map(evidenceRow);
      if (opt.bool(args, 'json')) printJson(io, { rows });
      else if (opt.bool(args, 'csv')) io.stdout(evidenceCsv(rows));
      else if (rows.length === 0) io.stdout('no grid deployments in that window\n');
      else {
        io.stdout(
          formatTable(
            ['id', 'product', 'MW', 'signal', 'response start', 's to 95 %', 's to 100 %', 'MW delivered', 'by', 'result', 'penalty USD'],
            rows.map((r) => [r.id, r.product, fmt(r.mwRequested, 3), r.signalAt, r.responseStartAt ?? '', r.secondsTo95 === null ? '' : fmt(r.secondsTo95, 1), r.secondsToFull === null ? '' : fmt(r.secondsToFull, 1), r.mwDelivered === null ? '' : fmt(r.mwDelivered, 3), r.measuredBy ?? '', r.result, fmt(r.penaltyUsd, 2)]),
          ),
        );
        const missed = rows.filter((r) => r.result === 'missed');
        io.stdout(`${rows.length} deployments: ${rows.filter((r) => r.result === 'met').length} met, ${missed.length} missed (penalty ${fmt(missed.reduce((s, r) => s + r.penaltyUsd, 0), 2)} USD)\n`);
      }
    } finally {
      await store.close();
    }
  },
};

type DeploymentReply = z.infer<typeof deploymentReplySchema>;

const DEFAULT_AGENT = 'http://127.0.0.1:8420';
const client = createHttpClient();
const agentOption = { type: 'string' as const, value: 'URL', description: 'where `mullet agent` listens', default: DEFAULT_AGENT, env: 'MULLET_AGENT_URL' };

/** POSTs to the agent's grid API; the reply parsed with the schema the agent answers with. */
async function postGrid(args: ParsedArgs, io: CliIo, urlPath: string, body: unknown): Promise<DeploymentReply> {
  const base = opt.str(args, 'agent') ?? DEFAULT_AGENT;
  let url: string;
  try {
    url = new URL(urlPath, base).toString();
  } catch {
    throw badInput(`expected a URL such as ${DEFAULT_AGENT}, got '${base}'`, '--agent');
  }
  let res: { status: number; body: unknown };
  try {
    res = await client.exchangeJson('POST', url, body, { timeoutMs: 10_000, signal: io.signal });
  } catch (err) {
    if (isMulletError(err) && err.code === 'NETWORK') throw new MulletError('NETWORK', `cannot reach the agent (is \`mullet agent\` running there?): ${err.message}`, { where: url, cause: err });
    throw err;
  }
  if (res.status >= 400) {
    const e = apiErrorSchema.safeParse(res.body);
    const msg = e.success ? e.data.error.message : `HTTP ${res.status}`;
    if (res.status === 400 || res.status === 409) throw badInput(msg, e.success && e.data.error.where ? `agent: ${e.data.error.where}` : 'agent');
    throw new MulletError(res.status === 404 ? 'NOT_FOUND' : 'PROTOCOL', msg, { where: url, transient: res.status >= 500 });
  }
  const r = deploymentReplySchema.safeParse(res.body);
  if (!r.success) throw new MulletError('PARSE', 'unexpected reply from the agent', { where: url });
  return r.data;
}

function printDeployment(io: CliIo, args: ParsedArgs, r: DeploymentReply): void {
  if (opt.bool(args, 'json')) return printJson(io, r);
  const d = r.deployment;
  io.stdout(
    `${d.id}: ${d.product} ${d.mw} MW, ${d.state}${r.duplicate ? ' (the agent already had it)' : ''}; start ${new Date(d.startMs).toISOString()}, deadline ${new Date(d.deadlineMs).toISOString()}` +
      `${d.endMs !== null ? `, end ${new Date(d.endMs).toISOString()}` : ', held until recalled'}; result ${d.result}${d.penaltyUsd > 0 ? `, penalty ${fmt(d.penaltyUsd, 2)} USD` : ''}\n`,
  );
}

const deploy: CommandSpec = {
  path: ['grid', 'deploy'],
  summary: 'send a grid deployment to a running agent (what a QSE instruction does): MW of a product within its response time',
  description: [
    'The agent caps mining at its baseline minus the MW from the start until the end (--hold-minutes or --end-at) or a',
    '`mullet grid recall`, measures the response at the site meter (else the reads) and judges it at the deadline',
    '(default: the start + the product response time). The id makes a repeated request harmless.',
  ].join('\n'),
  options: {
    id: { type: 'string', value: 'ID', description: 'deployment id (the instruction id)', required: true },
    product: { type: 'string', choices: GRID_PRODUCT_IDS, description: 'grid product', required: true },
    mw: { type: 'number', gt: 0, max: 100_000, unit: 'MW', description: 'MW to reduce, at the meter', required: true },
    'start-at': { type: 'string', value: 'ISO', description: 'start (default: on receipt)' },
    'deadline-at': { type: 'string', value: 'ISO', description: 'deadline (default: start + the product response time)' },
    'hold-minutes': { type: 'number', gt: 0, max: 527_040, unit: 'min', description: 'hold this long from the start (else --end-at, else until recalled)' },
    'end-at': { type: 'string', value: 'ISO', description: 'end of the deployment' },
    agent: agentOption,
  },
  json: true,
  examples: ['mullet grid deploy --id ecrs-2025-08-01-17 --product ECRS --mw 20 --hold-minutes 60'],
  async run(args, io) {
    const raw = {
      id: need(opt.str(args, 'id'), 'id'),
      product: need(opt.str(args, 'product'), 'product'),
      mw: need(opt.num(args, 'mw'), 'mw'),
      ...(opt.str(args, 'start-at') !== undefined ? { startAt: opt.str(args, 'start-at') } : {}),
      ...(opt.str(args, 'deadline-at') !== undefined ? { deadlineAt: opt.str(args, 'deadline-at') } : {}),
      ...(opt.num(args, 'hold-minutes') !== undefined ? { holdMinutes: opt.num(args, 'hold-minutes') } : {}),
      ...(opt.str(args, 'end-at') !== undefined ? { endAt: opt.str(args, 'end-at') } : {}),
    };
    // Checked here with the agent's own schema, so a typo fails before anything is sent.
    const p = deploymentRequestSchema.safeParse(raw);
    if (!p.success) {
      const i = p.error.issues[0];
      throw badInput(i?.message ?? 'invalid deployment', `--${String(i?.path[0] ?? 'id').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
    printDeployment(io, args, await postGrid(args, io, '/v1/grid/deployments', p.data));
  },
};

const recall: CommandSpec = {
  path: ['grid', 'recall'],
  summary: 'recall a grid deployment on a running agent: mining comes back in paced batches',
  options: { id: { type: 'string', value: 'ID', description: 'deployment id', required: true }, agent: agentOption },
  json: true,
  examples: ['mullet grid recall --id ecrs-2025-08-01-17'],
  async run(args, io) {
    const id = need(opt.str(args, 'id'), 'id');
    printDeployment(io, args, await postGrid(args, io, `/v1/grid/deployments/${encodeURIComponent(id)}/recall`, {}));
  },
};

export const gridCommands: readonly CommandSpec[] = [evidence, deploy, recall];
