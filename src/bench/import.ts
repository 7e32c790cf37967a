import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../cli/run.js';
import { captureIo } from '../cli/capture.js';

export interface ImportBench {
  dataDir: string;
  files: number;
  rowsWritten: number;
  firstImportS: number;
  rowsPerS: number;
  reimportS: number;
  reimportRowsWritten: number;
}

interface ImportJson {
  totals?: { written?: number };
  imported?: string[];
}

async function importOnce(dataDir: string, db: string): Promise<{ seconds: number; json: ImportJson }> {
  const io = captureIo(process.cwd());
  const t0 = performance.now();
  const code = await runCli(['data', 'import', dataDir, '--db', db, '--json'], io);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`data import exited ${code}`);
  return { seconds, json: JSON.parse(io.out()) as ImportJson };
}

/** Imports every file of the real data directory into a fresh store, then again (idempotency). */
export async function benchImport(dataDir: string): Promise<ImportBench> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bench-import-'));
  try {
    const db = path.join(dir, 'bench.db');
    const first = await importOnce(dataDir, db);
    const second = await importOnce(dataDir, db);
    const rows = first.json.totals?.written ?? 0;
    return {
      dataDir,
      files: first.json.imported?.length ?? 0,
      rowsWritten: rows,
      firstImportS: round(first.seconds),
      rowsPerS: Math.round(rows / first.seconds),
      reimportS: round(second.seconds),
      reimportRowsWritten: second.json.totals?.written ?? -1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
