/**
 * The embedded market store: SQLite through better-sqlite3 (synchronous, so one import is one
 * transaction with no interleaving). The port (market/store-port.ts) is asynchronous; this
 * implementation does its work synchronously and returns settled promises, so a read costs one
 * microtask more than a direct call. Schema and migrations live in schema.ts; times are integer
 * ms (interval starts, UTC); every source's value is kept and precedence is applied on read.
 */
import Database from 'better-sqlite3';
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, MS_PER_MINUTE, systemClock, utcDate, type Clock } from '../core/time.js';
import { BTC_FIELDS, type AsPricePoint, type AsPriceProduct, type BtcDay, type BtcField, type DifficultyEpoch, type FourCpInterval, type LoadPoint, type ParsedBatch, type PricePoint } from '../market/types.js';
import {
  BTC_UNITS,
  LOAD_UNIT,
  PRICE_UNIT,
  btcSeriesLabel,
  groupBatch,
  type BatchGroups,
  pointSeriesKey,
  pointSeriesLabel,
  type Group,
  type PointSeriesId,
} from './batch.js';
import { findGaps } from './gaps.js';
import type { IntervalSet } from './interval-set.js';
import type { GapReport, ImportReport, ImportSession, MarketStore, PriceQuery, SeriesCoverage, SeriesKey } from '../market/store-port.js';
import { BTC_SOURCES, EPOCH_SOURCES, FOURCP_SOURCES, LOAD_SOURCES, PRICE_SOURCES, bySourcePrecedence } from './precedence.js';
import {
  GapCollector,
  ImportState,
  asPriceIndex,
  asPriceSetName,
  claimComparison,
  columnsOf,
  compareRepeats,
  comparisonFor,
  comparisonNote,
  fileGaps,
  filledNote,
  fourCpChangedNote,
  monthIndex,
  newImportReport,
  repeatRange,
  resolveGap,
  splitRepeats,
  summarizeDuplicates,
  type PointTable,
  type SeriesTable,
  type Tracker,
} from './import-state.js';
import { bestBySource, bestPerStart, coverageRow, mergeAsPrices, mergeBtcDays, parseDayArg, type ValueRow } from './read-merge.js';
import { migrate } from './schema.js';

type Db = Database.Database;

export interface OpenMarketStoreOptions {
  /** Stamps `schema_version.applied_at_ms`; defaults to the system clock. */
  clock?: Clock;
}

/** Opens (creating and migrating if needed) the SQLite market store at `file`; ':memory:' for a throw-away one. */
export function openMarketStore(file: string, options: OpenMarketStoreOptions = {}): Promise<MarketStore> {
  return settle(() => openMarketStoreSync(file, options));
}

/** A synchronous step as the port's promise: its value, or its throw as a rejection. */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** The synchronous open behind openMarketStore, for this module's own callers. */
function openMarketStoreSync(file: string, options: OpenMarketStoreOptions): SqliteMarketStore {
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new MulletError('IO', `cannot open market database: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
  }
  try {
    if (file !== ':memory:') {
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL is durable across application crashes; a power cut may lose the last import.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
    migrate(db, (options.clock ?? systemClock).nowMs());
  } catch (err) {
    db.close();
    if (err instanceof MulletError) throw err;
    throw new MulletError('IO', `cannot initialise market database: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
  }
  return new SqliteMarketStore(db);
}

/** Rows per multi-row upsert statement (fewer native calls; well under SQLite's 32,766 variables). */
const CHUNK = 256;

interface SeriesRow {
  id: number;
  kind: 'price' | 'load';
  market: string;
  point: string;
  price_kind: string;
  interval_minutes: number;
}

class SqliteMarketStore implements MarketStore {
  private readonly sourceIds = new Map<string, number>();
  private readonly sourceNames = new Map<number, string>();
  private readonly seriesIds = new Map<string, number>();
  private readonly stmtCache = new Map<string, Database.Statement>();
  /** The import whose transaction is open, if any (one at a time per store). */
  private importing: SqliteImport | undefined;

  constructor(private readonly db: Db) {
    this.loadSources();
  }

  /** (Re)reads the id caches; after a rolled-back import they may name rows that no longer exist. */
  private loadSources(): void {
    this.sourceIds.clear();
    this.sourceNames.clear();
    this.seriesIds.clear();
    for (const r of this.db.prepare<[], { id: number; name: string }>('SELECT id, name FROM sources').all()) {
      this.sourceIds.set(r.name, r.id);
      this.sourceNames.set(r.id, r.name);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmtCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s;
  }

  private sourceId(name: string): number {
    const known = this.sourceIds.get(name);
    if (known !== undefined) return known;
    this.stmt('INSERT OR IGNORE INTO sources (name) VALUES (?)').run(name);
    const row = this.stmt('SELECT id FROM sources WHERE name = ?').get(name) as { id: number };
    this.sourceIds.set(name, row.id);
    this.sourceNames.set(row.id, name);
    return row.id;
  }

  private sourceName(id: number): string {
    const known = this.sourceNames.get(id);
    if (known !== undefined) return known;
    // Another process may have added it since this store was opened.
    this.loadSources();
    return this.sourceNames.get(id) ?? `#${id}`;
  }

  private seriesId(s: PointSeriesId): number {
    const key = pointSeriesKey(s);
    const known = this.seriesIds.get(key);
    if (known !== undefined) return known;
    const args = [s.kind, s.market, s.point, s.priceKind, s.intervalMinutes];
    this.stmt('INSERT OR IGNORE INTO series (kind, market, point, price_kind, interval_minutes) VALUES (?, ?, ?, ?, ?)').run(...args);
    const row = this.stmt('SELECT id FROM series WHERE kind = ? AND market = ? AND point = ? AND price_kind = ? AND interval_minutes = ?').get(...args) as { id: number };
    this.seriesIds.set(key, row.id);
    return row.id;
  }

  ingest(file: string, batch: ParsedBatch): Promise<ImportReport> {
    return settle(() => {
      const session = this.beginImportSync(file, batch.source);
      session.addSync(batch);
      return session.commitSync();
    });
  }

  beginImport(file: string, source: string): Promise<ImportSession> {
    return settle(() => this.beginImportSync(file, source));
  }

  prices(q: PriceQuery): Promise<PricePoint[]> {
    return settle(() => this.pricesNow(q));
  }

  loads(q: { market: string; zone: string; fromMs: number; toMs: number }): Promise<LoadPoint[]> {
    return settle(() => this.loadsNow(q));
  }

  btcDays(fromDate: string, toDate: string): Promise<BtcDay[]> {
    return settle(() => this.btcDaysNow(fromDate, toDate));
  }

  epochs(): Promise<DifficultyEpoch[]> {
    return settle(() => this.epochsNow());
  }

  fourCpIntervals(q: { market: string; fromMonth?: string; toMonth?: string }): Promise<FourCpInterval[]> {
    return settle(() => this.fourCpIntervalsNow(q));
  }

  asPrices(q: { market: string; product: AsPriceProduct; kind: 'DA' | 'RT'; fromMs: number; toMs: number; intervalMinutes?: number }): Promise<AsPricePoint[]> {
    return settle(() => this.asPricesNow(q));
  }

  asPriceCoverage(): Promise<{ market: string; product: string; kind: 'DA' | 'RT'; intervalMinutes: number; firstMs: number; lastMs: number; count: number }[]> {
    return settle(() => this.asPriceCoverageNow());
  }

  coverage(opts?: { topGaps?: number }): Promise<SeriesCoverage[]> {
    return settle(() => this.coverageNow(opts));
  }

  private beginImportSync(file: string, source: string): SqliteImport {
    if (this.importing) throw new MulletError('INTERNAL', 'an import is already open on this store', { where: file });
    try {
      // IMMEDIATE: take the write lock now, not at the first write after parsing has begun.
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw new MulletError('IO', `cannot start the import transaction: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    const session = new SqliteImport(this, file, source, () => {
      if (this.importing === session) this.importing = undefined;
    });
    this.importing = session;
    return session;
  }

  /** @internal The import's write steps, run by SqliteImport inside its transaction. */
  writePoints(groups: readonly Group<PointSeriesId>[], imp: ImportState): void {
    for (const g of groups) {
      const table: PointTable = g.key.kind === 'price' ? 'prices' : 'loads';
      const seriesId = this.seriesId(g.key);
      const label = pointSeriesLabel(g.key);
      const t = imp.tracker(`${table}\u0000${seriesId}\u0000${g.source}`, () => ({ table, keyId: seriesId, label, source: g.source, stepMs: g.key.intervalMinutes * MS_PER_MINUTE, kind: g.key.kind }));
      const written = this.writeTracked(t, g, imp.report);
      if (table === 'prices') imp.report.inserted.prices += written;
      else imp.report.inserted.loads += written;
      this.stmt('INSERT OR IGNORE INTO series_sources (series_id, source_id) VALUES (?, ?)').run(seriesId, this.sourceId(g.source));
    }
  }

  /** @internal */
  writeBtc(groups: readonly Group<BtcField>[], imp: ImportState): void {
    for (const g of groups) {
      const t = imp.tracker(`btc_daily\u0000${g.key}\u0000${g.source}`, () => ({ table: 'btc_daily', keyId: g.key, label: btcSeriesLabel(g.key), source: g.source, stepMs: MS_PER_DAY, kind: 'btc' }));
      imp.report.inserted.btcDays += this.writeTracked(t, g, imp.report);
    }
  }

  /** @internal */
  writeEpochs(epochs: BatchGroups['epochs'], imp: ImportState): void {
    const upsert = this.stmt(
      `INSERT INTO difficulty_epochs (start_day_ms, source_id, difficulty, start_height) VALUES (?, ?, ?, ?)
       ON CONFLICT (start_day_ms, source_id) DO UPDATE SET difficulty = excluded.difficulty, start_height = excluded.start_height
       WHERE difficulty_epochs.difficulty IS NOT excluded.difficulty OR difficulty_epochs.start_height IS NOT excluded.start_height`,
    );
    const exists = this.stmt('SELECT 1 FROM difficulty_epochs WHERE start_day_ms = ? AND source_id = ?');
    for (const e of epochs) {
      const sourceId = this.sourceId(e.source);
      const seen = imp.indexSet(`epochs\u0000${e.source}`);
      const dayIndex = e.startDayMs / MS_PER_DAY;
      if (!seen.add(dayIndex)) imp.report.duplicatesInFile++;
      const had = exists.get(e.startDayMs, sourceId) !== undefined;
      const written = upsert.run(e.startDayMs, sourceId, e.difficulty, e.startHeight).changes;
      imp.report.inserted.epochs += written;
      if (written > 0 && had) imp.report.changed++;
      if (written === 0) imp.report.unchanged++;
    }
  }

  /**
   * Writes one batch's group of a series and source. Starts this file already wrote in an earlier
   * batch are duplicates in the file: compared with what was written (conflicting when the value
   * differs), written again (the last one in the file wins) and not counted as written again.
   */
  private writeTracked(t: Tracker, g: Group<unknown>, report: ImportReport): number {
    const { repeats, fresh } = splitRepeats(t, g);
    if (repeats.length > 0) {
      // Compared with what this file wrote before, read in one ordered range scan (a file repeated
      // end to end makes every row of later batches a repeat); only differing values are rewritten.
      const [keyCol, timeCol, valueCol] = columnsOf(t.table);
      const sourceId = this.sourceId(g.source);
      const [firstRepeat, lastRepeat] = repeatRange(g, repeats);
      const stored = this.stmt(`SELECT ${timeCol}, ${valueCol} FROM ${t.table} WHERE ${keyCol} = ? AND source_id = ? AND ${timeCol} BETWEEN ? AND ? ORDER BY ${timeCol}`)
        .raw()
        .iterate(t.keyId, sourceId, firstRepeat, lastRepeat) as IterableIterator<[number, number]>;
      let rewrite: Group<unknown>;
      try {
        rewrite = compareRepeats(t, g, repeats, stored);
      } finally {
        stored.return?.();
      }
      this.upsertRows(t.table, t.keyId, sourceId, rewrite);
    }
    return this.writeGroup(t.table, t.keyId, fresh, report);
  }

  /** Upserts a sorted group in chunks; returns rows written (inserted or changed). */
  private upsertRows(table: SeriesTable, keyId: number | string, sourceId: number, g: Group<unknown>): number {
    const [keyCol, timeCol, valueCol] = columnsOf(table);
    const upsertSql = (rows: number) =>
      `INSERT INTO ${table} (${keyCol}, ${timeCol}, source_id, ${valueCol}) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}
       ON CONFLICT (${keyCol}, ${timeCol}, source_id) DO UPDATE SET ${valueCol} = excluded.${valueCol}
       WHERE ${table}.${valueCol} IS NOT excluded.${valueCol}`;
    let written = 0;
    const n = g.startsMs.length;
    const full = this.stmt(upsertSql(CHUNK));
    const args: (number | string)[] = new Array<number | string>(CHUNK * 4);
    let i = 0;
    for (; i + CHUNK <= n; i += CHUNK) {
      for (let j = 0; j < CHUNK; j++) {
        args[j * 4] = keyId;
        args[j * 4 + 1] = g.startsMs[i + j] as number;
        args[j * 4 + 2] = sourceId;
        args[j * 4 + 3] = g.values[i + j] as number;
      }
      written += full.run(args).changes;
    }
    const single = this.stmt(upsertSql(1));
    for (; i < n; i++) written += single.run(keyId, g.startsMs[i], sourceId, g.values[i]).changes;
    return written;
  }

  private countRows(table: SeriesTable, keyId: number | string, sourceId: number, fromMs: number, toMs: number): number {
    const [keyCol, timeCol] = columnsOf(table);
    const row = this.stmt(`SELECT COUNT(*) AS n FROM ${table} WHERE ${keyCol} = ? AND ${timeCol} BETWEEN ? AND ? AND source_id = ?`).get(keyId, fromMs, toMs, sourceId) as {
      n: number;
    };
    return row.n;
  }

  /** Writes one group and tallies inserted / changed / unchanged into the report. */
  private writeGroup(table: SeriesTable, keyId: number | string, g: Group<unknown>, report: ImportReport): number {
    const n = g.startsMs.length;
    if (n === 0) return 0;
    const sourceId = this.sourceId(g.source);
    const first = g.startsMs[0] as number;
    const last = g.startsMs[n - 1] as number;
    const before = this.countRows(table, keyId, sourceId, first, last);
    const written = this.upsertRows(table, keyId, sourceId, g);
    const added = this.countRows(table, keyId, sourceId, first, last) - before;
    report.changed += written - added;
    report.unchanged += n - written;
    return written;
  }

  /** @internal After the last batch, still inside the transaction: duplicates, gaps and source comparisons. */
  summarize(imp: ImportState): void {
    const report = imp.report;
    const gaps = new GapCollector(report);
    for (const list of summarizeDuplicates(imp)) {
      const t = list[0] as Tracker;
      this.reportGaps(t.table, t.keyId, t.label, t.stepMs, list.map((x) => x.set), gaps);
    }
    gaps.finish();
    for (const t of imp.trackers()) {
      if (t.set.count === 0) continue;
      this.compareSources(t, imp);
    }
  }

  /** @internal Ends the import transaction. */
  endImport(commit: boolean): void {
    if (!this.db.inTransaction) return;
    this.db.exec(commit ? 'COMMIT' : 'ROLLBACK');
  }

  /** @internal After a rolled-back import the id caches may name rows that no longer exist. */
  reloadCaches(): void {
    this.loadSources();
  }

  /** @internal */
  writeFourCp(rows: BatchGroups['fourCp'], imp: ImportState): void {
    const report = imp.report;
    const upsert = this.stmt(
      `INSERT INTO fourcp_intervals (market, month, source_id, start_ms, interval_minutes, system_load_mw) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (market, month, source_id) DO UPDATE SET start_ms = excluded.start_ms, interval_minutes = excluded.interval_minutes, system_load_mw = excluded.system_load_mw
       WHERE fourcp_intervals.start_ms IS NOT excluded.start_ms OR fourcp_intervals.interval_minutes IS NOT excluded.interval_minutes
          OR fourcp_intervals.system_load_mw IS NOT excluded.system_load_mw`,
    );
    const existing = this.stmt('SELECT start_ms FROM fourcp_intervals WHERE market = ? AND month = ? AND source_id = ?').pluck(true);
    for (const r of rows) {
      const sourceId = this.sourceId(r.source);
      // Months seen in this file, per market and source (a month index: year × 12 + month).
      const seen = imp.indexSet(`fourcp\u0000${r.market}\u0000${r.source}`);
      if (!seen.add(monthIndex(r.month))) report.duplicatesInFile++;
      const had = existing.get(r.market, r.month, sourceId) as number | undefined;
      const written = upsert.run(r.market, r.month, sourceId, r.startMs, r.intervalMinutes, r.systemLoadMW).changes;
      report.inserted.fourCpIntervals += written;
      if (written > 0 && had !== undefined) {
        report.changed++;
        if (had !== r.startMs) report.notes.push(fourCpChangedNote(r.market, r.month, r.source, had, r.startMs));
      }
      if (written === 0) report.unchanged++;
    }
  }

  /** @internal AS clearing prices: upserts counted like the other tables (a repeat in the file is a duplicate). */
  writeAsPrices(rows: BatchGroups['asPrices'], imp: ImportState): void {
    if (rows.length === 0) return;
    const report = imp.report;
    const upsert = this.stmt(
      `INSERT INTO as_prices (market, product, price_kind, interval_minutes, start_ms, source_id, usd_per_mw_h) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (market, product, price_kind, interval_minutes, start_ms, source_id) DO UPDATE SET usd_per_mw_h = excluded.usd_per_mw_h
       WHERE as_prices.usd_per_mw_h IS NOT excluded.usd_per_mw_h`,
    );
    const existing = this.stmt('SELECT usd_per_mw_h FROM as_prices WHERE market = ? AND product = ? AND price_kind = ? AND interval_minutes = ? AND start_ms = ? AND source_id = ?').pluck(true);
    for (const r of rows) {
      const sourceId = this.sourceId(r.source);
      const repeat = !imp.indexSet(asPriceSetName(r)).add(asPriceIndex(r));
      if (repeat) report.duplicatesInFile++;
      const had = existing.get(r.market, r.product, r.kind, r.intervalMinutes, r.startMs, sourceId) as number | undefined;
      const written = upsert.run(r.market, r.product, r.kind, r.intervalMinutes, r.startMs, sourceId, r.usdPerMWh).changes;
      if (!repeat) report.inserted.asPrices += written;
      if (written > 0 && had !== undefined && !repeat) report.changed++;
      if (written === 0) report.unchanged++;
    }
  }

  /**
   * Notes how this tracker's values compare with other sources of the same series over the same
   * intervals: common count, how many differ beyond tolerance, and the largest difference.
   */
  private compareSources(t: Tracker, imp: ImportState): void {
    const [keyCol, timeCol, valueCol] = columnsOf(t.table);
    const sourceId = this.sourceId(t.source);
    const first = t.set.min * t.stepMs;
    const last = t.set.max * t.stepMs;
    const others =
      t.table === 'btc_daily'
        ? (this.stmt('SELECT DISTINCT source_id FROM btc_daily WHERE field = ?').pluck(true).all(t.keyId) as number[])
        : (this.stmt('SELECT source_id FROM series_sources WHERE series_id = ?').pluck(true).all(t.keyId) as number[]);
    // One index lookup per row of this source: (key, time, other source) is the primary key.
    const joined = `FROM ${t.table} a JOIN ${t.table} b ON b.${keyCol} = a.${keyCol} AND b.${timeCol} = a.${timeCol} AND b.source_id = ?
      WHERE a.${keyCol} = ? AND a.${timeCol} BETWEEN ? AND ? AND a.source_id = ?`;
    const av = `a.${valueCol}`;
    const bv = `b.${valueCol}`;
    const cmp = comparisonFor(t);
    const diffExpr = cmp.relative ? `ABS(${av} - ${bv}) / MAX(ABS(${av}), ABS(${bv}))` : `ABS(${av} - ${bv})`;
    const differs = cmp.relative ? `ABS(${av} - ${bv}) > ${cmp.tolerance} * MAX(ABS(${av}), ABS(${bv}))` : `ABS(${av} - ${bv}) > ${cmp.tolerance}`;
    for (const otherId of others) {
      if (otherId === sourceId) continue;
      const other = this.sourceName(otherId);
      if (!claimComparison(imp, t, other)) continue;
      const args = [otherId, t.keyId, first, last, sourceId];
      const r = this.stmt(`SELECT COUNT(*) AS common, SUM(${differs}) AS differ ${joined}`).get(...args) as { common: number; differ: number | null };
      const differ = r.differ ?? 0;
      const worst =
        r.common > 0 && differ > 0
          ? (this.stmt(`SELECT a.${timeCol} AS t, ${av} AS av, ${bv} AS bv, ${diffExpr} AS d ${joined} ORDER BY d DESC, a.${timeCol} LIMIT 1`).get(...args) as { t: number; av: number; bv: number; d: number })
          : undefined;
      const note = comparisonNote(t, other, r.common, differ, worst);
      if (note !== null) imp.report.notes.push(note);
    }
  }

  /**
   * Gaps of the stored series within the span of this file's starts (the union of its sources'
   * sets). Every start of the file is now stored, so stored gaps can only lie inside the file's own
   * gaps: only those ranges are looked up, to see what other sources fill.
   */
  private reportGaps(table: SeriesTable, keyId: number | string, label: string, stepMs: number, sets: readonly IntervalSet[], gaps: GapCollector): void {
    const [keyCol, timeCol] = columnsOf(table);
    const inRange = this.stmt(`SELECT DISTINCT ${timeCol} FROM ${table} WHERE ${keyCol} = ? AND ${timeCol} BETWEEN ? AND ? ORDER BY ${timeCol}`).pluck(true);
    let filled = 0;
    for (const gap of fileGaps(label, stepMs, sets)) filled += resolveGap(gap, inRange.all(keyId, gap.fromMs, gap.toMs) as number[], stepMs, gaps);
    if (filled > 0) gaps.note(filledNote(label, filled));
  }

  /**
   * Distinct starts of one series (all sources) in [fromMs, toMs], scanned once in time order:
   * count, first, last and every gap. A plucked sorted read is several times faster here than
   * a LAG() window, which makes SQLite sort into a temporary B-tree.
   */
  private scan(table: SeriesTable, keyId: number | string, label: string, stepMs: number, fromMs: number, toMs: number): { count: number; first: number; last: number; gaps: GapReport[] } {
    const [keyCol, timeCol] = columnsOf(table);
    const starts = this.stmt(`SELECT DISTINCT ${timeCol} FROM ${table} WHERE ${keyCol} = ? AND ${timeCol} BETWEEN ? AND ? ORDER BY ${timeCol}`)
      .pluck(true)
      .all(keyId, fromMs, toMs) as number[];
    return { count: starts.length, first: starts[0] ?? NaN, last: starts[starts.length - 1] ?? NaN, gaps: findGaps(label, starts, stepMs) };
  }

  private pricesNow(q: PriceQuery): PricePoint[] {
    const candidates = this.stmt(
      `SELECT id, interval_minutes FROM series WHERE kind = 'price' AND market = ? AND point = ? AND price_kind = ? ORDER BY interval_minutes`,
    ).all(q.market, q.settlementPoint, q.kind) as { id: number; interval_minutes: number }[];
    const series = q.intervalMinutes === undefined ? candidates[0] : candidates.find((c) => c.interval_minutes === q.intervalMinutes);
    if (!series) return [];
    return this.readPoints('prices', series.id, q.fromMs, q.toMs, PRICE_SOURCES, (startMs, value, source) => ({
      market: q.market,
      settlementPoint: q.settlementPoint,
      kind: q.kind,
      intervalStartMs: startMs,
      intervalMinutes: series.interval_minutes,
      priceUsdPerMWh: value,
      source,
    }));
  }

  private loadsNow(q: { market: string; zone: string; fromMs: number; toMs: number }): LoadPoint[] {
    const series = this.stmt(
      `SELECT id, interval_minutes FROM series WHERE kind = 'load' AND market = ? AND point = ? AND price_kind = '' ORDER BY interval_minutes LIMIT 1`,
    ).get(q.market, q.zone) as { id: number; interval_minutes: number } | undefined;
    if (!series) return [];
    return this.readPoints('loads', series.id, q.fromMs, q.toMs, LOAD_SOURCES, (startMs, value, source) => ({
      market: q.market,
      zone: q.zone,
      intervalStartMs: startMs,
      intervalMinutes: series.interval_minutes,
      loadMW: value,
      source,
    }));
  }

  /** Rows in [fromMs, toMs), one per start: the value of the best-ranked source. */
  private readPoints<T>(table: PointTable, seriesId: number, fromMs: number, toMs: number, order: readonly string[], make: (startMs: number, value: number, source: string) => T): T[] {
    const [, , valueCol] = columnsOf(table);
    const rows = this.stmt(`SELECT start_ms, ${valueCol}, source_id FROM ${table} WHERE series_id = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms`)
      .raw()
      .all(seriesId, fromMs, toMs) as ValueRow[];
    return bestPerStart(rows, order, (id) => this.sourceName(id), make);
  }

  private btcDaysNow(fromDate: string, toDate: string): BtcDay[] {
    const fromMs = parseDayArg(fromDate, 'fromDate');
    const toMs = parseDayArg(toDate, 'toDate');
    const rows = new Map<BtcField, ValueRow[]>();
    const read = this.stmt('SELECT day_ms, value, source_id FROM btc_daily WHERE field = ? AND day_ms BETWEEN ? AND ? ORDER BY day_ms').raw();
    for (const field of BTC_FIELDS) rows.set(field, read.all(field, fromMs, toMs) as ValueRow[]);
    return mergeBtcDays(rows, (id) => this.sourceName(id));
  }

  /** One row per key: the highest-precedence source's, in first-seen key order. */
  private bestBySource<R extends { source_id: number }, K>(rows: readonly R[], key: (r: R) => K, order: readonly string[]): R[] {
    return bestBySource(rows, key, order, (id) => this.sourceName(id));
  }

  private epochsNow(): DifficultyEpoch[] {
    const rows = this.stmt('SELECT start_day_ms, source_id, difficulty, start_height FROM difficulty_epochs ORDER BY start_day_ms').all() as {
      start_day_ms: number;
      source_id: number;
      difficulty: number;
      start_height: number | null;
    }[];
    return this.bestBySource(rows, (r) => r.start_day_ms, EPOCH_SOURCES).map((r) => ({
      startDateUtc: utcDate(r.start_day_ms),
      difficulty: r.difficulty,
      ...(r.start_height === null ? {} : { startHeight: r.start_height }),
      source: this.sourceName(r.source_id),
    }));
  }

  private fourCpIntervalsNow(q: { market: string; fromMonth?: string; toMonth?: string }): FourCpInterval[] {
    const rows = this.stmt(
      'SELECT month, source_id, start_ms, interval_minutes, system_load_mw FROM fourcp_intervals WHERE market = ? AND month >= ? AND month <= ? ORDER BY month',
    ).all(q.market, q.fromMonth ?? '0000-00', q.toMonth ?? '9999-99') as { month: string; source_id: number; start_ms: number; interval_minutes: number; system_load_mw: number | null }[];
    return this.bestBySource(rows, (r) => r.month, FOURCP_SOURCES).map((r) => ({
      market: q.market,
      month: r.month,
      intervalStartMs: r.start_ms,
      intervalMinutes: r.interval_minutes,
      ...(r.system_load_mw === null ? {} : { systemLoadMW: r.system_load_mw }),
      source: this.sourceName(r.source_id),
    }));
  }

  private asPricesNow(q: { market: string; product: AsPriceProduct; kind: 'DA' | 'RT'; fromMs: number; toMs: number; intervalMinutes?: number }): AsPricePoint[] {
    const interval =
      q.intervalMinutes ??
      (this.stmt('SELECT MIN(interval_minutes) FROM as_prices WHERE market = ? AND product = ? AND price_kind = ?').pluck(true).get(q.market, q.product, q.kind) as number | null);
    if (interval === null) return [];
    const rows = this.stmt(
      'SELECT start_ms, usd_per_mw_h, source_id FROM as_prices WHERE market = ? AND product = ? AND price_kind = ? AND interval_minutes = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms',
    )
      .raw()
      .all(q.market, q.product, q.kind, interval, q.fromMs, q.toMs) as ValueRow[];
    return mergeAsPrices(q, interval, rows, (id) => this.sourceName(id));
  }

  private asPriceCoverageNow(): { market: string; product: string; kind: 'DA' | 'RT'; intervalMinutes: number; firstMs: number; lastMs: number; count: number }[] {
    const rows = this.stmt(
      `SELECT market, product, price_kind AS kind, interval_minutes AS intervalMinutes, MIN(start_ms) AS firstMs, MAX(start_ms) AS lastMs, COUNT(DISTINCT start_ms) AS count
       FROM as_prices GROUP BY market, product, price_kind, interval_minutes ORDER BY market, price_kind, product, interval_minutes`,
    ).all() as { market: string; product: string; kind: 'DA' | 'RT'; intervalMinutes: number; firstMs: number; lastMs: number; count: number }[];
    return rows;
  }

  private coverageNow(opts: { topGaps?: number } = {}): SeriesCoverage[] {
    const top = opts.topGaps ?? 5;
    const out: SeriesCoverage[] = [];
    const series = this.stmt('SELECT id, kind, market, point, price_kind, interval_minutes FROM series ORDER BY kind DESC, market, price_kind DESC, point, interval_minutes').all() as SeriesRow[];
    for (const s of series) {
      const table: PointTable = s.kind === 'price' ? 'prices' : 'loads';
      const id: PointSeriesId = { kind: s.kind, market: s.market, point: s.point, priceKind: s.price_kind === 'RT' || s.price_kind === 'DA' ? s.price_kind : '', intervalMinutes: s.interval_minutes };
      const label = pointSeriesLabel(id);
      const scan = this.scan(table, s.id, label, s.interval_minutes * MS_PER_MINUTE, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      if (scan.count === 0) continue;
      const order = s.kind === 'price' ? PRICE_SOURCES : LOAD_SOURCES;
      const sources = (this.stmt('SELECT source_id FROM series_sources WHERE series_id = ?').pluck(true).all(s.id) as number[]).map((sid) => this.sourceName(sid)).sort(bySourcePrecedence(order));
      const key: SeriesKey =
        s.kind === 'price'
          ? { kind: 'price', market: s.market, settlementPoint: s.point, ...(id.priceKind === '' ? {} : { priceKind: id.priceKind }) }
          : { kind: 'load', market: s.market, zone: s.point };
      out.push(coverageRow(label, key, s.kind === 'price' ? PRICE_UNIT : LOAD_UNIT, s.interval_minutes, sources, scan, top));
    }
    for (const field of BTC_FIELDS) {
      const label = btcSeriesLabel(field);
      const scan = this.scan('btc_daily', field, label, MS_PER_DAY, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      if (scan.count === 0) continue;
      const sources = (this.stmt('SELECT DISTINCT source_id FROM btc_daily WHERE field = ?').pluck(true).all(field) as number[]).map((sid) => this.sourceName(sid)).sort(bySourcePrecedence(BTC_SOURCES[field]));
      out.push(coverageRow(label, { kind: 'btc', field }, BTC_UNITS[field], 1440, sources, scan, top));
    }
    return out;
  }

  close(): Promise<void> {
    return settle(() => {
      this.db.close();
    });
  }
}

/**
 * One file's import: every batch is validated and written inside one transaction, opened by
 * beginImport and ended by commit or rollback — a file is all written or not at all, while only one
 * batch of its records is in memory at a time. The interval maps (IntervalSet) carry what the
 * file-wide report needs across batches.
 */
class SqliteImport implements ImportSession {
  private readonly state: ImportState;
  private open = true;

  constructor(
    private readonly store: SqliteMarketStore,
    readonly file: string,
    source: string,
    private readonly onEnd: () => void,
  ) {
    this.state = new ImportState(newImportReport(file, source));
  }

  add(batch: ParsedBatch): Promise<void> {
    return settle(() => this.addSync(batch));
  }

  commit(): Promise<ImportReport> {
    return settle(() => this.commitSync());
  }

  rollback(): Promise<void> {
    return settle(() => this.rollbackSync());
  }

  addSync(batch: ParsedBatch): void {
    this.checkOpen();
    this.guard(() => {
      const groups = groupBatch(this.file, batch);
      this.state.report.notes.push(...batch.notes);
      this.store.writePoints(groups.points, this.state);
      this.store.writeBtc(groups.btc, this.state);
      this.store.writeEpochs(groups.epochs, this.state);
      this.store.writeFourCp(groups.fourCp, this.state);
      this.store.writeAsPrices(groups.asPrices, this.state);
    });
  }

  commitSync(): ImportReport {
    this.checkOpen();
    this.guard(() => {
      this.store.summarize(this.state);
      this.store.endImport(true);
    });
    this.close();
    return this.state.report;
  }

  rollbackSync(): void {
    if (!this.open) return;
    try {
      this.store.endImport(false);
    } finally {
      this.store.reloadCaches();
      this.close();
    }
  }

  private close(): void {
    this.open = false;
    this.onEnd();
  }

  private checkOpen(): void {
    if (!this.open) throw new MulletError('INTERNAL', 'this import has already been committed or rolled back', { where: this.file });
  }

  /** Runs one step; any failure rolls the whole file back. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.rollbackSync();
      if (err instanceof MulletError) throw err;
      throw new MulletError('IO', `import failed, nothing written: ${err instanceof Error ? err.message : String(err)}`, { where: this.file, cause: err });
    }
  }
}
