import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { badInput, describeError, isMulletError, MulletError } from '../../core/errors.js';
import { systemClock } from '../../core/time.js';
import { FORMATS, openDataFile, unrecognisedHeader, type DataFile } from '../../market/importers/registry.js';
import type { GapReport, ImportReport, ImportSession, MarketStore, SeriesCoverage } from '../../market/store-port.js';
import { MAX_EXPANSION } from '../../market/importers/source.js';
import { opt, type CliIo, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { DB_OPTION, openExistingStore, openStoreAt, redactUrl, resolveStoreLocation } from '../store-open.js';
import { isIndustryHeader } from '../../industry/schema.js';

const DATA_FILE_RE = /\.(csv|csv\.gz|zip)$/i;
/** Ignored files named in the text summary (all of them are in --json). */
const IGNORED_SHOWN = 5;

function dbPath(io: CliIo, args: Parameters<CommandSpec['run']>[0]): string {
  return resolveStoreLocation(io.cwd, opt.str(args, 'db') ?? './mullet.db');
}

interface Target {
  /** As the user wrote it (relative to their working directory): used in messages. */
  file: string;
  /** Absolute path for reading. */
  fullPath: string;
  /** Found by listing a directory: an unrecognised header is skipped rather than an error. */
  fromDirectory: boolean;
}

/** Files under `dir` (relative `rel`), depth first in name order; hidden entries are skipped. */
async function walk(dir: string, rel: string, out: { file: string; full: string }[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((d) => !d.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of entries) {
    const full = path.join(dir, d.name);
    // Dirent.isDirectory() is false for a symlink, so a link cannot make the walk loop.
    if (d.isDirectory()) await walk(full, path.join(rel, d.name), out);
    else if (d.isFile()) out.push({ file: path.join(rel, d.name), full });
  }
}

async function expandTargets(io: CliIo, args: readonly string[]): Promise<{ targets: Target[]; ignored: string[] }> {
  const targets: Target[] = [];
  const ignored: string[] = [];
  for (const arg of args) {
    const full = path.resolve(io.cwd, arg);
    const info = await stat(full).catch(() => undefined);
    if (!info) throw badInput('no such file or directory', arg);
    if (!info.isDirectory()) {
      targets.push({ file: arg, fullPath: full, fromDirectory: false });
      continue;
    }
    const files: { file: string; full: string }[] = [];
    await walk(full, arg, files);
    for (const f of files) {
      if (DATA_FILE_RE.test(f.file)) targets.push({ file: f.file, fullPath: f.full, fromDirectory: true });
      else ignored.push(f.file);
    }
  }
  return { targets, ignored };
}

type FileOutcome =
  | { file: string; status: 'imported'; format: string; rows: number; elapsedMs: number; report: ImportReport }
  | { file: string; status: 'skipped'; format?: string; reason: string; notes: string[] }
  | { file: string; status: 'failed'; code: string; where?: string; error: string };

function written(r: ImportReport): number {
  return r.inserted.prices + r.inserted.loads + r.inserted.btcDays + r.inserted.epochs + r.inserted.fourCpIntervals + r.inserted.asPrices;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function gapSummary(gaps: readonly GapReport[]): string {
  if (gaps.length === 0) return 'no gaps';
  const series = new Set(gaps.map((g) => g.series)).size;
  const missing = gaps.reduce((a, g) => a + g.missingIntervals, 0);
  const worst = gaps.reduce((a, g) => (g.missingIntervals > a.missingIntervals ? g : a));
  return `${gaps.length} gap(s) in ${series} series, ${fmt(missing, 0)} missing intervals; largest ${fmt(worst.missingIntervals, 0)} in ${worst.series} from ${iso(worst.fromMs)} to ${iso(worst.toMs)}`;
}

function describeOutcome(o: FileOutcome): string {
  switch (o.status) {
    case 'imported': {
      const r = o.report;
      const lines = [
        `${o.file}  [${o.format}]  ${fmt(o.rows, 0)} rows in ${fmt(o.elapsedMs / 1000, 1)} s`,
        `  written ${fmt(written(r), 0)} (prices ${fmt(r.inserted.prices, 0)}, loads ${fmt(r.inserted.loads, 0)}, BTC day values ${fmt(r.inserted.btcDays, 0)}, epochs ${fmt(r.inserted.epochs, 0)}, 4CP intervals ${fmt(r.inserted.fourCpIntervals, 0)}${r.inserted.asPrices ? `, AS prices ${fmt(r.inserted.asPrices, 0)}` : ''}; ${fmt(r.changed, 0)} of them changed), unchanged ${fmt(r.unchanged, 0)}, duplicates in file ${fmt(r.duplicatesInFile, 0)}`,
        `  ${gapSummary(r.gaps)}`,
      ];
      for (const n of r.notes) lines.push(`  note: ${n}`);
      return lines.join('\n');
    }
    case 'skipped':
      return [`${o.file}  skipped${o.format ? ` [${o.format}]` : ''}: ${o.reason}`, ...o.notes.map((n) => `  note: ${n}`)].join('\n');
    case 'failed':
      return `${o.file}  FAILED, nothing written: ${o.error}`;
  }
}

/**
 * Imports one file, streamed: opened (regular files only), its header sniffed, then its rows read
 * and written batch by batch inside the file's one transaction. Any failure rolls the file back and
 * becomes a 'failed' outcome; an abort (SIGINT/SIGTERM) rolls it back and is re-thrown to stop.
 */
async function importOne(store: MarketStore, target: Target, allPoints: boolean, nowMs: () => number, io: CliIo, progress: (rows: number) => void): Promise<FileOutcome> {
  const started = nowMs();
  let data: DataFile | undefined;
  let session: ImportSession | undefined;
  try {
    data = await openDataFile(target.fullPath, target.file, io.signal);
    const format = data.format;
    if (!format) {
      if (isIndustryHeader(data.header)) return { file: target.file, status: 'skipped', reason: 'an industry file: import it with `mullet industry import`', notes: [] };
      if (target.fromDirectory) return { file: target.file, status: 'skipped', reason: 'header not recognised (see `mullet data formats`)', notes: [] };
      throw unrecognisedHeader(data.header, target.file);
    }
    if (!format.imports) {
      const notes: string[] = [];
      for await (const batch of data.batches({ allPoints })) notes.push(...batch.notes);
      return { file: target.file, status: 'skipped', format: format.id, reason: 'recognised, nothing to import', notes };
    }
    session = await store.beginImport(target.file, format.id);
    for await (const batch of data.batches({ allPoints })) {
      await session.add(batch);
      progress(data.rows());
    }
    const report = await session.commit();
    return { file: target.file, status: 'imported', format: format.id, rows: data.rows(), elapsedMs: nowMs() - started, report };
  } catch (err) {
    await session?.rollback();
    if (isMulletError(err) && err.code === 'ABORTED') throw err;
    const code = isMulletError(err) ? err.code : 'INTERNAL';
    const where = isMulletError(err) ? err.where : undefined;
    return { file: target.file, status: 'failed', code, ...(where === undefined ? {} : { where }), error: describeError(err) };
  } finally {
    await data?.close();
  }
}

const importCommand: CommandSpec = {
  path: ['data', 'import'],
  summary: 'import market data files (ERCOT prices and load, Bitcoin daily data) into the store',
  description: [
    'Each file is recognised by its header row and imported in its own transaction: a malformed row',
    'anywhere writes nothing from that file (the error names file:line:column) while the other files',
    'are still imported. Re-importing a file changes nothing. A directory imports every recognised',
    '.csv / .csv.gz / .zip in it and in its subfolders (hidden ones skipped; unrecognised headers are',
    'skipped with a note). Times are stored as UTC interval starts.',
    'Files are streamed (memory stays flat whatever their size); only regular files are read (a FIFO or',
    `device is refused), and an archive that expands more than ${MAX_EXPANSION}× is refused as a decompression bomb.`,
    'Ctrl-C / SIGTERM stops between batches: the file in progress is rolled back, earlier files stay imported.',
  ].join('\n'),
  options: {
    db: DB_OPTION,
    'all-points': {
      type: 'boolean',
      description: 'from ERCOT report files keep every settlement point, not only hubs (HB_*) and load zones (LZ_*)',
    },
  },
  positionals: [{ name: 'files', description: 'data files or directories', required: true, multiple: true }],
  json: true,
  examples: ['mullet data import ../shared/data', 'mullet data import ercot_rt_15min_hubs_2024.csv --db site.db --json'],
  async run(args, io) {
    const json = opt.bool(args, 'json');
    const db = dbPath(io, args);
    const nowMs = () => systemClock.nowMs();
    const started = nowMs();
    const { targets, ignored } = await expandTargets(io, args.positionals);
    if (targets.length === 0) throw badInput('no .csv, .csv.gz or .zip files found', args.positionals.join(' '));
    const store = await openStoreAt(db);
    const outcomes: FileOutcome[] = [];
    const committed = (): string => {
      const done = outcomes.filter((o) => o.status === 'imported').map((o) => o.file);
      return done.length ? `; imported and committed before it: ${done.join(', ')}` : '; nothing was imported';
    };
    try {
      for (const [i, target] of targets.entries()) {
        if (io.signal.aborted) throw new MulletError('ABORTED', `interrupted before ${target.file}${committed()}`);
        io.stderr(`[${i + 1}/${targets.length}] ${target.file} ...\n`);
        let lastReport = nowMs();
        const progress = (rows: number): void => {
          // A line every 5 s on long files: rows read so far (the total is unknown until the end).
          if (nowMs() - lastReport < 5_000) return;
          lastReport = nowMs();
          io.stderr(`  ${target.file}: ${fmt(rows, 0)} rows so far\n`);
        };
        let outcome: FileOutcome;
        try {
          outcome = await importOne(store, target, opt.bool(args, 'all-points'), nowMs, io, progress);
        } catch (err) {
          const why = io.signal.reason instanceof Error ? ` (${io.signal.reason.message})` : '';
          throw new MulletError('ABORTED', `interrupted${why} during ${target.file}: its import was rolled back, nothing of it written${committed()}`, { cause: err });
        }
        outcomes.push(outcome);
        if (outcome.status === 'failed') io.stderr(`mullet data import: ${outcome.error}\n`);
        if (!json) io.stdout(describeOutcome(outcome) + '\n');
      }
    } finally {
      await store.close();
    }
    const elapsedMs = nowMs() - started;
    const names = (s: FileOutcome['status']) => outcomes.filter((o) => o.status === s).map((o) => o.file);
    const imported = names('imported');
    const failed = outcomes.filter((o): o is Extract<FileOutcome, { status: 'failed' }> => o.status === 'failed');
    const totals = outcomes.reduce(
      (t, o) => {
        if (o.status !== 'imported') return t;
        return { written: t.written + written(o.report), unchanged: t.unchanged + o.report.unchanged, duplicates: t.duplicates + o.report.duplicatesInFile };
      },
      { written: 0, unchanged: 0, duplicates: 0 },
    );
    if (json) {
      printJson(io, { db: redactUrl(db), elapsedMs, totals, imported, skipped: names('skipped'), failed: failed.map((f) => f.file), ignored, files: outcomes });
    } else {
      io.stdout(
        `\n${imported.length} imported, ${names('skipped').length} skipped, ${failed.length} failed in ${fmt(elapsedMs / 1000, 1)} s; ` +
          `${fmt(totals.written, 0)} rows written, ${fmt(totals.unchanged, 0)} unchanged (database ${redactUrl(db)})\n`,
      );
      if (ignored.length > 0) {
        const shown = ignored.slice(0, IGNORED_SHOWN).map((f) => path.basename(f));
        io.stdout(`ignored (not .csv/.csv.gz/.zip): ${shown.join(', ')}${ignored.length > shown.length ? ` and ${fmt(ignored.length - shown.length, 0)} more (--json lists them)` : ''}\n`);
      }
    }
    io.stderr(`data import: done in ${fmt(elapsedMs / 1000, 1)} s\n`);
    if (failed.length > 0) {
      io.stderr(`failed (nothing written from these): ${failed.map((f) => f.file).join(', ')}\n`);
      if (imported.length > 0) io.stderr(`imported and committed: ${imported.join(', ')}\n`);
      // Exit 2 when every failure is the user's input, 1 when something else broke.
      return failed.every((f) => f.code === 'BAD_INPUT') ? 2 : 1;
    }
    return 0;
  },
};

function when(ms: number, intervalMinutes: number): string {
  const s = iso(ms);
  return intervalMinutes >= 1440 ? s.slice(0, 10) : s.slice(0, 16).replace('T', ' ');
}

function gapsCell(c: SeriesCoverage): string {
  return c.gaps.map((g) => `${when(g.fromMs, c.intervalMinutes)} ×${fmt(g.missingIntervals, 0)}`).join('; ');
}

const statusCommand: CommandSpec = {
  path: ['data', 'status'],
  summary: 'coverage of the market store by series: first, last, count vs expected, largest gaps',
  description: 'Counts are distinct interval starts over all sources; gaps are missing intervals between the first and last start.',
  options: {
    db: DB_OPTION,
    gaps: { type: 'int', min: 0, max: 10_000, value: 'N', unit: 'gaps', description: 'largest gaps to list per series', default: 3 },
  },
  json: true,
  examples: ['mullet data status', 'mullet data status --db site.db --json'],
  async run(args, io) {
    const db = dbPath(io, args);
    const top = opt.num(args, 'gaps') ?? 3;
    const store = await openExistingStore(db);
    try {
      const coverage = await store.coverage({ topGaps: top });
      const epochs = await store.epochs();
      const firstEpoch = epochs[0];
      const lastEpoch = epochs[epochs.length - 1];
      const fourCp = await store.fourCpIntervals({ market: 'ERCOT' });
      const asCoverage = await store.asPriceCoverage();
      if (opt.bool(args, 'json')) {
        printJson(io, {
          db: redactUrl(db),
          series: coverage.map((c) => ({ ...c, firstUtc: iso(c.firstMs), lastUtc: iso(c.lastMs), gaps: c.gaps.map((g) => ({ ...g, fromUtc: iso(g.fromMs), toUtc: iso(g.toMs) })) })),
          epochs: { count: epochs.length, first: firstEpoch?.startDateUtc ?? null, last: lastEpoch?.startDateUtc ?? null },
          fourCpIntervals: fourCp.map((c) => ({ month: c.month, intervalStartUtc: iso(c.intervalStartMs), intervalMinutes: c.intervalMinutes, systemLoadMW: c.systemLoadMW ?? null, source: c.source })),
          asPrices: asCoverage.map((c) => ({ ...c, firstUtc: iso(c.firstMs), lastUtc: iso(c.lastMs) })),
        });
        return;
      }
      if (coverage.length === 0 && epochs.length === 0 && fourCp.length === 0 && asCoverage.length === 0) {
        io.stdout(`the market database ${redactUrl(db)} is empty; run 'mullet data import'\n`);
        return;
      }
      const rows = coverage.map((c) => [
        c.series,
        c.unit,
        c.intervalMinutes,
        c.sources.join(','),
        when(c.firstMs, c.intervalMinutes),
        when(c.lastMs, c.intervalMinutes),
        fmt(c.count, 0),
        fmt(c.expected, 0),
        fmt(c.missing, 0),
        c.gapCount > c.gaps.length ? `${gapsCell(c)} (+${c.gapCount - c.gaps.length} more)` : gapsCell(c),
      ]);
      io.stdout(
        formatTable(
          ['series', 'unit', 'interval (min)', 'sources (best first)', 'first start (UTC)', 'last start (UTC)', 'count (intervals)', 'expected (intervals)', 'missing (intervals)', 'largest gaps (start UTC ×intervals)'],
          rows,
        ),
      );
      if (firstEpoch && lastEpoch) io.stdout(`\ndifficulty epochs: ${epochs.length} (first full days ${firstEpoch.startDateUtc} → ${lastEpoch.startDateUtc})\n`);
      if (fourCp.length > 0) io.stdout(`official 4CP intervals: ${fourCp.length} months (${fourCp[0]?.month ?? ''} → ${fourCp[fourCp.length - 1]?.month ?? ''}; sources ${[...new Set(fourCp.map((c) => c.source))].join(', ')})\n`);
      for (const c of asCoverage) io.stdout(`AS clearing prices ${c.market} ${c.product} ${c.kind} ${c.intervalMinutes} min: ${fmt(c.count, 0)} intervals, ${when(c.firstMs, c.intervalMinutes)} → ${when(c.lastMs, c.intervalMinutes)} (USD/MW-h)\n`);
      io.stdout(`database: ${redactUrl(db)}\n`);
    } finally {
      await store.close();
    }
  },
};

const formatsCommand: CommandSpec = {
  path: ['data', 'formats'],
  summary: 'list the file layouts `data import` recognises, with their header rows',
  options: {},
  json: true,
  run(args, io) {
    const formats = FORMATS.map((f) => ({ id: f.id, imports: f.imports, title: f.title, header: f.header.join(',') }));
    if (opt.bool(args, 'json')) printJson(io, formats);
    else for (const f of formats) io.stdout(`${f.id}${f.imports ? '' : ' (recognised, not imported)'}\n  ${f.title}\n  header: ${f.header}\n`);
    return Promise.resolve();
  },
};

export const dataCommands: readonly CommandSpec[] = [importCommand, statusCommand, formatsCommand];
