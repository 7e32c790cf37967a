/**
 * One dispatch benchmark run in its own process, so peak memory (maxRSS) belongs to that policy
 * alone: `node dispatch-child.js DB SITE POLICY FROM TO`. Prints one JSON line on stdout.
 * Timed end to end: open store → read prices/load/hashprice → policy → ledger.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT } from '../market/hashprice-inputs.js';
import { runBacktest } from '../backtest/run.js';
import { isPolicyName } from '../dispatch/policies.js';
import { parseSite } from '../site/parse.js';
import { openMarketStore } from '../store/sqlite-store.js';

async function main(argv: readonly string[]): Promise<void> {
  const [db, siteFile, policy, from, to] = argv;
  if (!db || !siteFile || !policy || !from || !to || !isPolicyName(policy)) throw new Error('usage: dispatch-child DB SITE POLICY FROM TO');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const site = parseSite(readFileSync(siteFile, 'utf8'), { file: siteFile });
  const store = await openMarketStore(db);
  try {
    const out = await runBacktest({ site, from, to, policies: [policy], store, hashprice: { kind: 'store', feeShareOfSubsidyPct: DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, feeShareIsDefault: true }, nowMs: () => performance.now() });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const run = out.runs[0];
    process.stdout.write(
      JSON.stringify({
        policy,
        intervals: out.input.startMs.length,
        fleets: site.fleets.length,
        wallS: Math.round(wallS * 1000) / 1000,
        cpuS: Math.round(((cpu.user + cpu.system) / 1e6) * 1000) / 1000,
        policySeconds: run?.summary.solveSeconds,
        maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        netUsd: run?.summary.netUsd,
        safeFallbacks: run?.summary.safeFallbacks,
        notes: run?.summary.notes.slice(0, 2),
      }) + '\n',
    );
  } finally {
    await store.close();
  }
}

await main(process.argv.slice(2));
