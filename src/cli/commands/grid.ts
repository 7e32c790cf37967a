import path from 'node:path';
import { existsSync } from 'node:fs';
import { badInput, MulletError } from '../../core/errors.js';
import { systemClock } from '../../core/time.js';
import { evidenceCsv, evidenceRow } from '../../fleet/agent/grid.js';
import { SqliteAgentStateStore } from '../../fleet/state/store.js';
import { need, opt, type CommandSpec } from '../command.js';
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

export const gridCommands: readonly CommandSpec[] = [evidence];
