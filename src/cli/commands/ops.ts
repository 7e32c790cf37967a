import { resolve } from 'node:path';
import { startOps, type LiveOutcome, type OpsOutcome, type ReplayOutcome } from '../../app/ops.js';
import { badInput } from '../../core/errors.js';
import { opt, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';

function speedOf(text: string | undefined): number | 'max' | undefined {
  if (text === undefined) return undefined;
  if (text === 'max') return 'max';
  const v = Number(text);
  if (!Number.isFinite(v) || v < 1 || v > 1_000_000) throw badInput(`expected 'max' or a number from 1 to 1000000 (times faster than the wall clock), got '${text}'`, '--speed');
  return v;
}

/** The replay's JSON: the realized ledger in the back-test's shape at the top, the comparison beside it. */
export function replayJson(o: ReplayOutcome): Record<string, unknown> {
  return {
    ...o.live,
    replay: { site: o.site, policy: o.policy, window: o.window, source: o.source, wallSeconds: o.wallSeconds, clockJumps: o.clockJumps, dispatch: o.dispatch, notes: o.notes },
    backtest: o.backtest,
    netGapPct: o.netGapPct,
    gapByStreamUsd: o.gapByStreamUsd,
    meteredMWh: o.meteredMWh,
    settledMWh: o.settledMWh,
    maxMeteredMW: o.maxMeteredMW,
  };
}

function replayText(o: ReplayOutcome): string {
  const l = o.live;
  const b = o.backtest;
  const rows: (string | number)[][] = [
    ['net (USD)', fmt(l.netUsd), fmt(b.netUsd), fmt(l.netUsd - b.netUsd)],
    ...(['ai', 'mining', 'powerResale', 'aiFlex', 'aiPassThrough'] as const).map((k) => [`revenue ${k} (USD)`, fmt(l.revenueUsd[k]), fmt(b.revenueUsd[k]), fmt(l.revenueUsd[k] - b.revenueUsd[k])]),
    ...(['energy', 'ppa', 'transmission'] as const).map((k) => [`cost ${k} (USD)`, fmt(l.costUsd[k]), fmt(b.costUsd[k]), fmt(l.costUsd[k] - b.costUsd[k])]),
    ['mining energy (MWh)', fmt(l.miningEnergyMWh, 3), fmt(b.miningEnergyMWh, 3), fmt(l.miningEnergyMWh - b.miningEnergyMWh, 3)],
    ['site energy (MWh)', fmt(l.siteEnergyMWh, 3), fmt(b.siteEnergyMWh, 3), fmt(l.siteEnergyMWh - b.siteEnergyMWh, 3)],
  ];
  return [
    `replay of ${o.site} ${o.window.from}..${o.window.to} with ${o.policy}: ${o.source}`,
    formatTable(['ledger', 'live (realized)', `backtest ${o.policy}`, 'live − backtest'], rows),
    `net gap ${fmt(o.netGapPct, 3)} %; metered ${o.meteredMWh === null ? 'n/a' : fmt(o.meteredMWh, 3)} MWh vs settled ${fmt(o.settledMWh, 3)} MWh; ${o.dispatch.intervals} intervals, ${o.dispatch.safeFallbacks} safe fallbacks; ${fmt(o.wallSeconds, 1)} s wall`,
    ...o.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

function liveText(o: LiveOutcome): string {
  const lines = [`${o.site} (${o.policy}, live): ${o.dispatch.intervals} intervals decided, ${o.dispatch.safeFallbacks} safe fallbacks; ${o.ledger.settledIntervals} settled`];
  for (const p of o.ledger.periods) lines.push(`  ${p.period}: ${p.intervals} intervals${p.totals ? `, net ${fmt(p.totals.netUsd)} USD` : ''}`);
  for (const f of o.feeds) lines.push(`  feed ${f.feed}: ${f.state}${f.stale ? ' (STALE)' : ''}${f.lastError ? ` — last error ${f.lastError.code}: ${f.lastError.message}` : ''}`);
  return lines.join('\n') + '\n';
}

const ops: CommandSpec = {
  path: ['ops'],
  summary: 'run a site: market feed → live dispatcher (rolling/strike) → agent → live ledger → HTTP API, in one process',
  description:
    'Reads an ops config (see examples/ops-demo.yaml and src/ops/README.md). A replay (market.replay) serves history as\n' +
    'it was published — RT prices after their interval, DA the day before at 14:00 CPT — to the same rolling/strike\n' +
    'code the back-test runs, drives the simulated site through the agent, books what the machines drew with the\n' +
    'back-test\'s settle(), and prints that ledger next to `mullet backtest` of the same window when it ends.\n' +
    'Live (market.live): the live feeds fill the market store (--db), the same dispatcher runs on what they\n' +
    'published, a stale RT feed puts the agent in its safe mode; it runs until Ctrl-C and prints the ledger.\n' +
    'GET /v1/ops and /v1/ops/ledger on --listen show it running; /metrics adds mullet_ops_* and mullet_feed_* figures.\n' +
    'With --console-db (or console: in the config) the listener is the operator console instead, as `mullet serve`:\n' +
    'the dashboard at /, the API under /api/v1, and every route (those above too) needs a login or an API key;\n' +
    'its analyst and strategy pages read --data-db (default: the market store) and run jobs on --strategy-dir.',
  options: {
    config: { type: 'string', value: 'FILE', description: 'ops config (YAML): site, policy, market, fleet, listen, …' },
    db: { type: 'string', value: 'FILE', description: 'market store: the replay\'s history (data: store) or the one the live feeds fill (default: the config\'s store, MULLET_DB, ./mullet.db)' },
    listen: { type: 'string', value: 'HOST:PORT', description: 'the HTTP API (default 127.0.0.1:8420; port 0 = any free port, printed)' },
    'replay-from': { type: 'string', value: 'YYYY-MM-DD', unit: 'date', description: 'first replayed day (overrides market.replay.from)' },
    'replay-to': { type: 'string', value: 'YYYY-MM-DD', unit: 'date', description: 'last replayed day, inclusive (overrides market.replay.to)' },
    speed: { type: 'string', value: 'max|K', description: "replay clock: 'max' (virtual time, as fast as the machines answer) or K times the wall clock" },
    'console-db': { type: 'string', value: 'FILE', description: 'serve the operator console on --listen with this database (users, keys, audit; as `mullet serve --db`): every route then needs a login or key (default: console.db of the config; no console without either)' },
    'tls-cert': { type: 'string', value: 'FILE', description: 'console: PEM certificate (chain), serve HTTPS' },
    'tls-key': { type: 'string', value: 'FILE', description: 'console: PEM private key of --tls-cert' },
    'insecure-http': { type: 'boolean', description: 'console: allow a non-loopback --listen over plain HTTP (logged)' },
    'data-db': { type: 'string', value: 'FILE', description: 'console: market store the analyst and strategy pages read (industry facts, back-test data; overrides console.dataDb; default: the market store when it exists)' },
    'strategy-dir': { type: 'string', value: 'DIR', description: 'console: the site and portfolio YAML files console jobs may name (overrides console.strategyDir; default ./examples)' },
  },
  json: true,
  examples: ['mullet ops --config examples/ops-demo.yaml', 'mullet users add admin --role admin --db console.db && mullet ops --config examples/ops-demo.yaml --speed 60 --console-db console.db', 'mullet ops --config ops.yaml --db mullet.db --replay-from 2023-08-08 --replay-to 2023-08-08 --json', 'mullet ops --config examples/ops-demo.yaml --speed 300 --listen 127.0.0.1:0'],
  async run(args, io) {
    const configFile = opt.str(args, 'config');
    if (configFile === undefined) throw badInput('is required: an ops config file (try examples/ops-demo.yaml)', '--config');
    const log = (line: string): void => io.stderr(`${new Date().toISOString()} ${line}\n`);
    const speed = speedOf(opt.str(args, 'speed'));
    const cert = opt.str(args, 'tls-cert');
    const key = opt.str(args, 'tls-key');
    if ((cert === undefined) !== (key === undefined)) throw badInput('give both --tls-cert and --tls-key', cert === undefined ? '--tls-cert' : '--tls-key');
    const running = await startOps({
      configFile,
      cwd: io.cwd,
      env: io.env,
      log,
      ...(opt.str(args, 'db') !== undefined ? { dbFile: opt.str(args, 'db') as string } : {}),
      ...(opt.str(args, 'listen') !== undefined ? { listen: opt.str(args, 'listen') as string } : {}),
      ...(opt.str(args, 'replay-from') !== undefined ? { replayFrom: opt.str(args, 'replay-from') as string } : {}),
      ...(opt.str(args, 'replay-to') !== undefined ? { replayTo: opt.str(args, 'replay-to') as string } : {}),
      ...(speed !== undefined ? { speed } : {}),
      ...(opt.str(args, 'console-db') !== undefined ? { consoleDb: opt.str(args, 'console-db') as string } : {}),
      ...(cert !== undefined && key !== undefined ? { tls: { cert: resolve(io.cwd, cert), key: resolve(io.cwd, key) } } : {}),
      ...(opt.bool(args, 'insecure-http') ? { insecureHttp: true } : {}),
      ...(opt.str(args, 'data-db') !== undefined ? { dataDb: opt.str(args, 'data-db') as string } : {}),
      ...(opt.str(args, 'strategy-dir') !== undefined ? { strategyDir: opt.str(args, 'strategy-dir') as string } : {}),
    });
    io.stderr(
      running.console
        ? `mullet ops: console on ${running.url}/ (log in; API under /api/v1; /v1/ops, /v1/ops/ledger, /metrics need a session or key too; Ctrl-C stops)\n`
        : `mullet ops: API on ${running.url} (GET /v1/ops, /v1/ops/ledger, /v1/ops/market, /v1/status, /metrics; Ctrl-C stops)\n`,
    );
    if (running.status().mode === 'live') io.stderr('mullet ops: live — runs until Ctrl-C, then prints the ledger\n');
    let outcome: OpsOutcome;
    try {
      outcome = await running.run(io.signal);
    } finally {
      await running.close();
    }
    if (outcome.mode === 'live') {
      if (opt.bool(args, 'json')) printJson(io, outcome);
      else io.stdout(liveText(outcome));
      return;
    }
    if (opt.bool(args, 'json')) printJson(io, replayJson(outcome));
    else io.stdout(replayText(outcome));
  },
};

export const opsCommands: readonly CommandSpec[] = [ops];
