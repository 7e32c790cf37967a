/**
 * PostgreSQL market store vs SQLite (issue 14 figures), on the same machine:
 *  - import of all the shared real data (the import bench's directory), rows written per second,
 *    then the idempotent re-import (0 rows written) — each store fresh: a temporary SQLite file, a
 *    PostgreSQL schema with a random name on the local server (dropped afterwards);
 *  - the back-test's read path: `loadBacktestData` of HB_WEST over 2023 (the dispatch bench's year
 *    and site) from each store, seconds: the first read after opening, then the median of 5.
 * The server is the one the tests use (MULLET_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadBacktestData } from '../backtest/data.js';
import { captureIo } from '../cli/capture.js';
import { runCli } from '../cli/run.js';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT } from '../market/hashprice-inputs.js';
import { parseSite } from '../site/parse.js';
import { openExistingStore } from '../store/open-existing.js';
import { BENCH_SITE } from './dispatch.js';

const PG_URL = process.env.MULLET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const FROM_MS = Date.parse('2023-01-01T06:00:00Z'); // 2023-01-01 00:00 CPT
const TO_MS = Date.parse('2024-01-01T06:00:00Z');
const READS = 5;

interface ImportJson {
  totals?: { written?: number };
  imported?: string[];
}

async function importAll(dataDir: string, db: string): Promise<{ seconds: number; written: number; files: number }> {
  const io = captureIo(process.cwd());
  const t0 = performance.now();
  const code = await runCli(['data', 'import', dataDir, '--db', db, '--json'], io);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`data import into ${db.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'} exited ${code}: ${io.err().slice(-500)}`);
  const json = JSON.parse(io.out()) as ImportJson;
  return { seconds, written: json.totals?.written ?? 0, files: json.imported?.length ?? 0 };
}

async function readPath(db: string): Promise<{ firstS: number; medianS: number; intervals: number }> {
  const site = parseSite(BENCH_SITE, { file: 'bench-site.yaml' });
  const hashprice = { kind: 'store', feeShareOfSubsidyPct: DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, feeShareIsDefault: true } as const;
  const store = await openExistingStore(db);
  try {
    const times: number[] = [];
    let intervals = 0;
    for (let i = 0; i < READS + 1; i++) {
      const t0 = performance.now();
      const data = await loadBacktestData(store, site, FROM_MS, TO_MS, hashprice);
      times.push((performance.now() - t0) / 1000);
      intervals = data.series.startMs.length;
    }
    const rest = times.slice(1).sort((a, b) => a - b);
    return { firstS: round(times[0] ?? NaN), medianS: round(rest[Math.floor(rest.length / 2)] ?? NaN), intervals };
  } finally {
    await store.close();
  }
}

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export async function benchPgStore(dataDir: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-pgstore-'));
  const schema = `mullet_bench_${randomBytes(6).toString('hex')}`;
  const stores = { sqlite: path.join(dir, 'bench.db'), postgres: `${PG_URL}?schema=${schema}` };
  try {
    const out: Record<string, unknown> = { dataDir, server: PG_URL };
    for (const [name, db] of Object.entries(stores)) {
      process.stderr.write(`bench pgstore: import into ${name} ...\n`);
      const first = await importAll(dataDir, db);
      process.stderr.write(`bench pgstore: re-import into ${name} ...\n`);
      const again = await importAll(dataDir, db);
      process.stderr.write(`bench pgstore: back-test read path from ${name} ...\n`);
      const read = await readPath(db);
      out[name] = {
        import: { files: first.files, rowsWritten: first.written, seconds: round(first.seconds), rowsPerS: Math.round(first.written / first.seconds) },
        reimport: { seconds: round(again.seconds), rowsWritten: again.written },
        backtestRead2023HbWest: { intervals: read.intervals, firstS: read.firstS, medianOf5S: read.medianS },
      };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await adminQuery(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
