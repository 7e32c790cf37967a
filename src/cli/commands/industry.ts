/**
 * `mullet industry import FILE...` and `mullet industry status`: the analyst's industry facts
 * (../shared/data/industry format: miner_metrics.csv, ai_deals.csv; one sourced fact per row) into
 * their own table of the --db file. Every file is validated before any is stored; problems are
 * listed as `file:line column: problem` and nothing is stored (exit 2). Re-importing is a no-op;
 * a re-imported file's rows that are gone from it are removed.
 */
import path from 'node:path';
import { systemClock } from '../../core/time.js';
import { importIndustry } from '../../industry/import.js';
import { SqliteIndustryStore } from '../../industry/store.js';
import { opt, type CliIo, type CommandSpec, type ParsedArgs } from '../command.js';
import { formatTable, printJson } from '../output.js';
import { DB_OPTION } from '../store-open.js';

function dbPath(args: ParsedArgs, io: CliIo): string {
  const db = opt.str(args, 'db') ?? './mullet.db';
  return db === ':memory:' ? db : path.resolve(io.cwd, db);
}

const importCommand: CommandSpec = {
  path: ['industry', 'import'],
  summary: 'Import industry facts (miner metrics, AI deals; one sourced fact per row) into the store',
  description: 'Reads the industry CSV format (see src/industry/README.md): miner_metrics.csv and ai_deals.csv, recognised by their header. A directory means its *.csv files. All files are validated first; any problem and nothing is stored.',
  options: { db: DB_OPTION },
  positionals: [{ name: 'files', description: 'industry CSV files or directories', required: true, multiple: true }],
  json: true,
  examples: ['mullet industry import ../shared/data/industry', 'mullet industry import my-rows.csv --db mullet.db'],
  run: async (args, io) => {
    const store = SqliteIndustryStore.open(dbPath(args, io), systemClock.nowMs());
    try {
      const results = await importIndustry(
        args.positionals.map((p) => path.resolve(io.cwd, p)),
        store,
        systemClock.nowMs(),
      );
      if (opt.bool(args, 'json')) printJson(io, { files: results });
      else io.stdout(formatTable(['file', 'kind', 'added', 'unchanged', 'removed'], results.map((r) => [r.file, r.kind, r.added, r.unchanged, r.removed])) + '\n');
    } finally {
      await store.close();
    }
  },
};

const statusCommand: CommandSpec = {
  path: ['industry', 'status'],
  summary: 'Industry facts in the store, by file',
  options: { db: DB_OPTION },
  json: true,
  run: async (args, io) => {
    const store = SqliteIndustryStore.open(dbPath(args, io), systemClock.nowMs());
    try {
      const files = await store.files();
      if (opt.bool(args, 'json')) printJson(io, { files });
      else if (files.length === 0) io.stdout('no industry facts yet: mullet industry import ../shared/data/industry\n');
      else io.stdout(formatTable(['file', 'kind', 'rows', 'imported'], files.map((f) => [f.file, f.kind, f.rows, new Date(f.importedAtMs).toISOString()])) + '\n');
    } finally {
      await store.close();
    }
  },
};

export const industryCommands: readonly CommandSpec[] = [importCommand, statusCommand];
