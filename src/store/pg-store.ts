/**
 * The market store on PostgreSQL, for many processes sharing one store (issue 14). Same port,
 * same contract suite and the same behaviour as the embedded SQLite store (sqlite-store.ts): the
 * batch grouping and validation (batch.ts), the import state, repeats, gaps and comparison notes
 * (import-state.ts) and the precedence merges on read (read-merge.ts) are the same code; only the
 * queries differ. Queries go through Kysely (PostgresDialect over a pg Pool); a raw `sql` template
 * is used where the builder cannot say it, each marked with why.
 *
 * Deadlines: every statement runs under the server-side `statement_timeout` (default 120 s, set on
 * the pool so every connection has it) and the client-side `query_timeout` (5 s more, for a server
 * that stops answering); connecting has `connectionTimeoutMillis` (10 s); a session idle inside an
 * import transaction (a client that died mid-file) is ended by the server after
 * `idle_in_transaction_session_timeout` (10 min), which rolls the file back.
 */
import { Kysely, PostgresDialect, sql, type ControlledTransaction, type Transaction } from 'kysely';
import pg from 'pg';
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, MS_PER_MINUTE, systemClock, utcDate, type Clock } from '../core/time.js';
import { BTC_FIELDS, type AsPricePoint, type AsPriceProduct, type BtcDay, type BtcField, type DifficultyEpoch, type FourCpInterval, type LoadPoint, type ParsedBatch, type PricePoint } from '../market/types.js';
import type { ImportReport, ImportSession, MarketStore, PriceQuery, SeriesCoverage, SeriesKey } from '../market/store-port.js';
import { BTC_UNITS, LOAD_UNIT, PRICE_UNIT, btcSeriesLabel, groupBatch, pointSeriesKey, pointSeriesLabel, type BatchGroups, type Group, type PointSeriesId } from './batch.js';
import { findGaps } from './gaps.js';
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
  type SeriesTable,
  type Tracker,
} from './import-state.js';
import { BTC_SOURCES, EPOCH_SOURCES, FOURCP_SOURCES, LOAD_SOURCES, PRICE_SOURCES, bySourcePrecedence } from './precedence.js';
import { redactUrl } from './location.js';
import { migratePg, type PgMarketDb } from './pg-schema.js';
import { bestBySource, bestPerStart, coverageRow, mergeAsPrices, mergeBtcDays, parseDayArg, type ValueRow } from './read-merge.js';

export interface OpenPgMarketStoreOptions {
  /** `postgres://user@host:port/db` (libpq URL; a password in it is never printed). */
  connectionString: string;
  /** Schema to work in (created if missing); default: the server's search_path (normally `public`). */
  schema?: string;
  /** Stamps `schema_version.applied_at_ms`; defaults to the system clock. */
  clock?: Clock;
  /** Server-side deadline of every statement, ms (default 120,000). */
  statementTimeoutMs?: number;
  /** Connections in the pool (default 4: an import holds one, reads use the others). */
  maxConnections?: number;
  /** Refuse (NOT_FOUND) a schema without the market tables instead of creating them (for readers). */
  mustExist?: boolean;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_IN_TRANSACTION_MS = 600_000;
/** Rows per upsert statement (one array per column, so the size is not bound by parameter counts). */
const UPSERT_ROWS = 50_000;
/** File gaps looked up per statement. */
const GAP_LOOKUP = 5_000;
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const PG_INT8 = 20;

/** Opens (creating the schema and migrating if needed) the PostgreSQL market store. */
export async function openPgMarketStore(options: OpenPgMarketStoreOptions): Promise<MarketStore> {
  const where = redactUrl(options.connectionString);
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_RE.test(schema)) throw new MulletError('BAD_INPUT', `schema must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`, { where });
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    // Times are BIGINT ms; pg returns int8 as strings (it may exceed 2^53). Ours never do: numbers.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown => (oid === PG_INT8 ? Number : (pg.types.getTypeParser(oid, format ?? 'text') as unknown))) as typeof pg.types.getTypeParser },
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    if (options.mustExist === true) {
      const found = await pool.query<{ t: string | null }>(`SELECT to_regclass('schema_version')::text AS t`);
      if ((found.rows[0]?.t ?? null) === null) {
        throw new MulletError('NOT_FOUND', `market store ${where}${schema === undefined ? '' : ` (schema ${schema})`} has no market tables; import market data first ('mullet data import'), or point --db / MULLET_DB at it`, { where: '--db' });
      }
    } else if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await migratePg(pool, (options.clock ?? systemClock).nowMs());
    const db = new Kysely<PgMarketDb>({ dialect: new PostgresDialect({ pool }) });
    const store = new PgMarketStore(db, where);
    await store.loadSources();
    return store;
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof MulletError) throw err;
    throw pgError(`cannot open market database`, err, where);
  }
}

/** Maps a pg / network failure to the taxonomy: a deadline, the network, or the database. */
function pgError(what: string, err: unknown, where: string): MulletError {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  // 57014: query_canceled (statement_timeout); 'Query read timeout': pg's query_timeout.
  if (code === '57014' || /timeout/i.test(message)) return new MulletError('TIMEOUT', `${what}: ${message}`, { where, cause: err });
  if (typeof code === 'string' && /^(ECONN|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EPIPE)/.test(code)) return new MulletError('NETWORK', `${what}: ${message}`, { where, cause: err });
  // The server refuses a connection without a role; pg then says so in its own words.
  const hint = /user name specified/.test(message) ? ' (put the role in the URL: postgres://USER@HOST/DB, or set PGUSER)' : '';
  return new MulletError('IO', `${what}: ${message}${hint}`, { where, cause: err });
}

type Exec = Kysely<PgMarketDb> | Transaction<PgMarketDb>;

class PgMarketStore implements MarketStore {
  private readonly sourceIds = new Map<string, number>();
  private readonly sourceNames = new Map<number, string>();
  private readonly seriesIds = new Map<string, number>();
  /** The import whose transaction is open, if any (one at a time per store). */
  private importing: PgImport | undefined;
  private closed = false;

  constructor(
    private readonly db: Kysely<PgMarketDb>,
    readonly where: string,
  ) {}

  /** (Re)reads the id caches; after a rolled-back import they may name rows that no longer exist. */
  async loadSources(): Promise<void> {
    const rows = await this.db.selectFrom('sources').select(['id', 'name']).execute();
    this.sourceIds.clear();
    this.sourceNames.clear();
    this.seriesIds.clear();
    for (const r of rows) {
      this.sourceIds.set(r.name, r.id);
      this.sourceNames.set(r.id, r.name);
    }
  }

  /** @internal */
  async sourceId(exec: Exec, name: string): Promise<number> {
    const known = this.sourceIds.get(name);
    if (known !== undefined) return known;
    await exec.insertInto('sources').values({ name }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const row = await exec.selectFrom('sources').select('id').where('name', '=', name).executeTakeFirstOrThrow();
    this.sourceIds.set(name, row.id);
    this.sourceNames.set(row.id, name);
    return row.id;
  }

  /** Source names of ids, reloading the cache once when another process added a source since. */
  private async sourceNamer(ids: Iterable<number>): Promise<(id: number) => string> {
    for (const id of ids) {
      if (!this.sourceNames.has(id)) {
        await this.loadSources();
        break;
      }
    }
    return (id) => this.sourceNames.get(id) ?? `#${id}`;
  }

  private async seriesId(exec: Exec, s: PointSeriesId): Promise<number> {
    const key = pointSeriesKey(s);
    const known = this.seriesIds.get(key);
    if (known !== undefined) return known;
    const row = { kind: s.kind, market: s.market, point: s.point, price_kind: s.priceKind, interval_minutes: s.intervalMinutes };
    await exec
      .insertInto('series')
      .values(row)
      .onConflict((oc) => oc.columns(['kind', 'market', 'point', 'price_kind', 'interval_minutes']).doNothing())
      .execute();
    const found = await exec
      .selectFrom('series')
      .select('id')
      .where('kind', '=', row.kind)
      .where('market', '=', row.market)
      .where('point', '=', row.point)
      .where('price_kind', '=', row.price_kind)
      .where('interval_minutes', '=', row.interval_minutes)
      .executeTakeFirstOrThrow();
    this.seriesIds.set(key, found.id);
    return found.id;
  }

  /** Runs a read, mapping driver failures to MulletErrors. */
  private async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new MulletError('INTERNAL', 'the market store is closed', { where: this.where });
    try {
      return await fn();
    } catch (err) {
      if (err instanceof MulletError) throw err;
      throw pgError(what, err, this.where);
    }
  }

  async ingest(file: string, batch: ParsedBatch): Promise<ImportReport> {
    const session = await this.beginImport(file, batch.source);
    await session.add(batch);
    return session.commit();
  }

  async beginImport(file: string, source: string): Promise<ImportSession> {
    if (this.closed) throw new MulletError('INTERNAL', 'the market store is closed', { where: this.where });
    if (this.importing) throw new MulletError('INTERNAL', 'an import is already open on this store', { where: file });
    // Claimed before the first await, so a second beginImport in the same tick is refused too.
    const session = new PgImport(this, file, source, () => {
      if (this.importing === session) this.importing = undefined;
    });
    this.importing = session;
    try {
      await session.begin(this.db);
    } catch (err) {
      this.importing = undefined;
      if (err instanceof MulletError) throw err;
      throw pgError('cannot start the import transaction', err, file);
    }
    return session;
  }

  // ---- writes, run by PgImport inside its transaction ----

  /** @internal */
  async writePoints(trx: Transaction<PgMarketDb>, groups: readonly Group<PointSeriesId>[], imp: ImportState): Promise<void> {
    for (const g of groups) {
      const table = g.key.kind === 'price' ? 'prices' : 'loads';
      const seriesId = await this.seriesId(trx, g.key);
      const label = pointSeriesLabel(g.key);
      const t = imp.tracker(`${table}\u0000${seriesId}\u0000${g.source}`, () => ({ table, keyId: seriesId, label, source: g.source, stepMs: g.key.intervalMinutes * MS_PER_MINUTE, kind: g.key.kind }));
      const written = await this.writeTracked(trx, t, g, imp.report);
      if (table === 'prices') imp.report.inserted.prices += written;
      else imp.report.inserted.loads += written;
      const sourceId = await this.sourceId(trx, g.source);
      await trx
        .insertInto('series_sources')
        .values({ series_id: seriesId, source_id: sourceId })
        .onConflict((oc) => oc.columns(['series_id', 'source_id']).doNothing())
        .execute();
    }
  }

  /** @internal */
  async writeBtc(trx: Transaction<PgMarketDb>, groups: readonly Group<BtcField>[], imp: ImportState): Promise<void> {
    for (const g of groups) {
      const t = imp.tracker(`btc_daily\u0000${g.key}\u0000${g.source}`, () => ({ table: 'btc_daily', keyId: g.key, label: btcSeriesLabel(g.key), source: g.source, stepMs: MS_PER_DAY, kind: 'btc' }));
      imp.report.inserted.btcDays += await this.writeTracked(trx, t, g, imp.report);
    }
  }

  /** Writes one batch's group of a series and source (see SqliteMarketStore.writeTracked: the same rules). */
  private async writeTracked(trx: Transaction<PgMarketDb>, t: Tracker, g: Group<unknown>, report: ImportReport): Promise<number> {
    const { repeats, fresh } = splitRepeats(t, g);
    const sourceId = await this.sourceId(trx, g.source);
    if (repeats.length > 0) {
      const [keyCol, timeCol, valueCol] = columnsOf(t.table);
      const [firstRepeat, lastRepeat] = repeatRange(g, repeats);
      // Raw: the table is one of three of the same shape, chosen at run time (identifiers escaped).
      const stored = await sql<{ t: number; v: number }>`SELECT ${sql.ref(timeCol)} AS t, ${sql.ref(valueCol)} AS v FROM ${sql.table(t.table)}
        WHERE ${sql.ref(keyCol)} = ${t.keyId} AND source_id = ${sourceId} AND ${sql.ref(timeCol)} BETWEEN ${firstRepeat} AND ${lastRepeat} ORDER BY ${sql.ref(timeCol)}`.execute(trx);
      const rewrite = compareRepeats(t, g, repeats, stored.rows.map((r) => [r.t, r.v] as const)[Symbol.iterator]());
      await this.upsertSeries(trx, t.table, t.keyId, sourceId, rewrite);
    }
    const n = fresh.startsMs.length;
    if (n === 0) return 0;
    const { written, inserted } = await this.upsertSeries(trx, t.table, t.keyId, sourceId, fresh);
    report.changed += written - inserted;
    report.unchanged += n - written;
    return written;
  }

  /**
   * Upserts a sorted, de-duplicated group; returns rows written (inserted or changed) and of them
   * inserted. Raw SQL, for two things the builder has no words for and that carry the import's
   * speed: the rows go in as one array per column (`unnest`), one statement per 50,000 rows
   * instead of a VALUES list bound by 65,535 parameters; and `RETURNING (xmax = 0)` tells an
   * inserted row from an updated one (xmax is 0 only on a fresh tuple), so inserted and changed
   * are counted without counting the table before and after. `IS DISTINCT FROM` in the WHERE keeps
   * an identical value from being rewritten (and from being returned).
   */
  private async upsertSeries(trx: Transaction<PgMarketDb>, table: SeriesTable, keyId: number | string, sourceId: number, g: Group<unknown>): Promise<{ written: number; inserted: number }> {
    const [keyCol, timeCol, valueCol] = columnsOf(table);
    const keyType = table === 'btc_daily' ? sql`text` : sql`integer`;
    let written = 0;
    let inserted = 0;
    for (let i = 0; i < g.startsMs.length; i += UPSERT_ROWS) {
      const starts = g.startsMs.slice(i, i + UPSERT_ROWS);
      const values = g.values.slice(i, i + UPSERT_ROWS);
      // Counted on the server (a data-modifying CTE): one row back instead of one per row written.
      const res = await sql<{ inserted: number; written: number }>`WITH w AS (
        INSERT INTO ${sql.table(table)} (${sql.ref(keyCol)}, ${sql.ref(timeCol)}, source_id, ${sql.ref(valueCol)})
        SELECT ${keyId}::${keyType}, r.t, ${sourceId}::integer, r.v FROM unnest(${starts}::bigint[], ${values}::float8[]) AS r(t, v)
        ON CONFLICT (${sql.ref(keyCol)}, ${sql.ref(timeCol)}, source_id) DO UPDATE SET ${sql.ref(valueCol)} = excluded.${sql.ref(valueCol)}
        WHERE ${sql.table(table)}.${sql.ref(valueCol)} IS DISTINCT FROM excluded.${sql.ref(valueCol)}
        RETURNING (xmax = 0) AS ins)
        SELECT COUNT(*) FILTER (WHERE ins) AS inserted, COUNT(*) AS written FROM w`.execute(trx);
      written += res.rows[0]?.written ?? 0;
      inserted += res.rows[0]?.inserted ?? 0;
    }
    return { written, inserted };
  }

  /** @internal Difficulty epochs: a handful per file, one upsert each. */
  async writeEpochs(trx: Transaction<PgMarketDb>, epochs: BatchGroups['epochs'], imp: ImportState): Promise<void> {
    for (const e of epochs) {
      const sourceId = await this.sourceId(trx, e.source);
      if (!imp.indexSet(`epochs\u0000${e.source}`).add(e.startDayMs / MS_PER_DAY)) imp.report.duplicatesInFile++;
      const row = await trx
        .insertInto('difficulty_epochs')
        .values({ start_day_ms: e.startDayMs, source_id: sourceId, difficulty: e.difficulty, start_height: e.startHeight })
        .onConflict((oc) =>
          oc
            .columns(['start_day_ms', 'source_id'])
            .doUpdateSet({ difficulty: (eb) => eb.ref('excluded.difficulty'), start_height: (eb) => eb.ref('excluded.start_height') })
            .where((eb) => eb.or([eb('difficulty_epochs.difficulty', 'is distinct from', eb.ref('excluded.difficulty')), eb('difficulty_epochs.start_height', 'is distinct from', eb.ref('excluded.start_height'))])),
        )
        // Raw: the builder has no name for the system column xmax (0 on a freshly inserted row).
        .returning(sql<boolean>`xmax = 0`.as('inserted'))
        .executeTakeFirst();
      if (row) {
        imp.report.inserted.epochs++;
        if (!row.inserted) imp.report.changed++;
      } else imp.report.unchanged++;
    }
  }

  /** @internal 4CP intervals: one per month and source, one upsert each (the note needs the old interval). */
  async writeFourCp(trx: Transaction<PgMarketDb>, rows: BatchGroups['fourCp'], imp: ImportState): Promise<void> {
    const report = imp.report;
    for (const r of rows) {
      const sourceId = await this.sourceId(trx, r.source);
      if (!imp.indexSet(`fourcp\u0000${r.market}\u0000${r.source}`).add(monthIndex(r.month))) report.duplicatesInFile++;
      const had = await trx.selectFrom('fourcp_intervals').select('start_ms').where('market', '=', r.market).where('month', '=', r.month).where('source_id', '=', sourceId).executeTakeFirst();
      const res = await trx
        .insertInto('fourcp_intervals')
        .values({ market: r.market, month: r.month, source_id: sourceId, start_ms: r.startMs, interval_minutes: r.intervalMinutes, system_load_mw: r.systemLoadMW })
        .onConflict((oc) =>
          oc
            .columns(['market', 'month', 'source_id'])
            .doUpdateSet({ start_ms: (eb) => eb.ref('excluded.start_ms'), interval_minutes: (eb) => eb.ref('excluded.interval_minutes'), system_load_mw: (eb) => eb.ref('excluded.system_load_mw') })
            .where((eb) =>
              eb.or([
                eb('fourcp_intervals.start_ms', 'is distinct from', eb.ref('excluded.start_ms')),
                eb('fourcp_intervals.interval_minutes', 'is distinct from', eb.ref('excluded.interval_minutes')),
                eb('fourcp_intervals.system_load_mw', 'is distinct from', eb.ref('excluded.system_load_mw')),
              ]),
            ),
        )
        .executeTakeFirst();
      const written = Number(res.numInsertedOrUpdatedRows ?? 0n);
      report.inserted.fourCpIntervals += written;
      if (written > 0 && had !== undefined) {
        report.changed++;
        if (had.start_ms !== r.startMs) report.notes.push(fourCpChangedNote(r.market, r.month, r.source, had.start_ms, r.startMs));
      }
      if (written === 0) report.unchanged++;
    }
  }

  /**
   * @internal AS clearing prices, counted as the SQLite store counts them: a first occurrence in the
   * file is written and counted; a repeat is rewritten (the last one wins) but only counted as
   * unchanged when equal. First occurrences go in array upserts; a repeat flushes them first, so
   * the file's order is kept and no statement touches a row twice.
   */
  async writeAsPrices(trx: Transaction<PgMarketDb>, rows: BatchGroups['asPrices'], imp: ImportState): Promise<void> {
    const report = imp.report;
    let pending: (BatchGroups['asPrices'][number] & { sourceId: number })[] = [];
    const flush = async (batch: typeof pending): Promise<{ written: number; inserted: number }> => {
      if (batch.length === 0) return { written: 0, inserted: 0 };
      // Raw: rows as one array per column (see upsertSeries) and the xmax test.
      const res = await sql<{ inserted: boolean }>`INSERT INTO as_prices (market, product, price_kind, interval_minutes, start_ms, source_id, usd_per_mw_h)
        SELECT * FROM unnest(${batch.map((r) => r.market)}::text[], ${batch.map((r) => r.product)}::text[], ${batch.map((r) => r.kind)}::text[],
          ${batch.map((r) => r.intervalMinutes)}::integer[], ${batch.map((r) => r.startMs)}::bigint[], ${batch.map((r) => r.sourceId)}::integer[], ${batch.map((r) => r.usdPerMWh)}::float8[])
        ON CONFLICT (market, product, price_kind, interval_minutes, start_ms, source_id) DO UPDATE SET usd_per_mw_h = excluded.usd_per_mw_h
        WHERE as_prices.usd_per_mw_h IS DISTINCT FROM excluded.usd_per_mw_h
        RETURNING (xmax = 0) AS inserted`.execute(trx);
      return { written: res.rows.length, inserted: res.rows.filter((r) => r.inserted).length };
    };
    const flushFirsts = async (): Promise<void> => {
      const { written, inserted } = await flush(pending);
      report.inserted.asPrices += written;
      report.changed += written - inserted;
      report.unchanged += pending.length - written;
      pending = [];
    };
    for (const r of rows) {
      const sourceId = await this.sourceId(trx, r.source);
      const repeat = !imp.indexSet(asPriceSetName(r)).add(asPriceIndex(r));
      if (!repeat) {
        pending.push({ ...r, sourceId });
        if (pending.length >= UPSERT_ROWS) await flushFirsts();
        continue;
      }
      report.duplicatesInFile++;
      await flushFirsts();
      const { written } = await flush([{ ...r, sourceId }]);
      if (written === 0) report.unchanged++;
    }
    await flushFirsts();
  }

  /** @internal After the last batch, still inside the transaction: duplicates, gaps and source comparisons. */
  async summarize(trx: Transaction<PgMarketDb>, imp: ImportState): Promise<void> {
    const gaps = new GapCollector(imp.report);
    for (const list of summarizeDuplicates(imp)) {
      const t = list[0] as Tracker;
      await this.reportGaps(trx, t, list, gaps);
    }
    gaps.finish();
    for (const t of imp.trackers()) {
      if (t.set.count === 0) continue;
      await this.compareSources(trx, t, imp);
    }
  }

  /**
   * Gaps of the stored series within the span of this file's starts: the file's own gaps, less what
   * other sources fill (looked up for many gaps per statement: one range join over arrays).
   */
  private async reportGaps(trx: Transaction<PgMarketDb>, t: Tracker, list: readonly Tracker[], gaps: GapCollector): Promise<void> {
    const candidates = fileGaps(t.label, t.stepMs, list.map((x) => x.set));
    const [keyCol, timeCol] = columnsOf(t.table);
    let filled = 0;
    for (let i = 0; i < candidates.length; i += GAP_LOOKUP) {
      const chunk = candidates.slice(i, i + GAP_LOOKUP);
      // Raw: a join against the gap ranges passed as two arrays (unnest), and a run-time table.
      const res = await sql<{ t: number }>`SELECT DISTINCT s.${sql.ref(timeCol)} AS t FROM unnest(${chunk.map((g) => g.fromMs)}::bigint[], ${chunk.map((g) => g.toMs)}::bigint[]) AS g(f, l)
        JOIN ${sql.table(t.table)} s ON s.${sql.ref(keyCol)} = ${t.keyId} AND s.${sql.ref(timeCol)} BETWEEN g.f AND g.l ORDER BY 1`.execute(trx);
      let k = 0;
      for (const gap of chunk) {
        const present: number[] = [];
        while (k < res.rows.length && (res.rows[k] as { t: number }).t < gap.fromMs) k++;
        while (k < res.rows.length && (res.rows[k] as { t: number }).t <= gap.toMs) present.push((res.rows[k++] as { t: number }).t);
        filled += resolveGap(gap, present, t.stepMs, gaps);
      }
    }
    if (filled > 0) gaps.note(filledNote(t.label, filled));
  }

  /** Notes how this tracker's values compare with the other sources of its series on common intervals. */
  private async compareSources(trx: Transaction<PgMarketDb>, t: Tracker, imp: ImportState): Promise<void> {
    const [keyCol, timeCol, valueCol] = columnsOf(t.table);
    const sourceId = await this.sourceId(trx, t.source);
    const first = t.set.min * t.stepMs;
    const last = t.set.max * t.stepMs;
    const others =
      t.table === 'btc_daily'
        ? (await trx.selectFrom('btc_daily').select('source_id').distinct().where('field', '=', String(t.keyId)).execute()).map((r) => r.source_id)
        : (await trx.selectFrom('series_sources').select('source_id').where('series_id', '=', Number(t.keyId)).execute()).map((r) => r.source_id);
    const name = await this.sourceNamer(others);
    const cmp = comparisonFor(t);
    const av = sql.ref(`a.${valueCol}`);
    const bv = sql.ref(`b.${valueCol}`);
    const diff = cmp.relative ? sql`ABS(${av} - ${bv}) / GREATEST(ABS(${av}), ABS(${bv}))` : sql`ABS(${av} - ${bv})`;
    const differs = cmp.relative ? sql`ABS(${av} - ${bv}) > ${cmp.tolerance}::float8 * GREATEST(ABS(${av}), ABS(${bv}))` : sql`ABS(${av} - ${bv}) > ${cmp.tolerance}::float8`;
    for (const otherId of others) {
      if (otherId === sourceId) continue;
      const other = name(otherId);
      if (!claimComparison(imp, t, other)) continue;
      // Raw: a self-join of a run-time table with computed tolerances. The other source's row is
      // fetched in a LATERAL subquery with LIMIT 1 (the key is unique anyway), which keeps it one
      // primary-key probe per row of this source: as a plain join the planner, misjudging the
      // row count, rescanned the other source's whole series per row (6.7 s instead of 25 ms for
      // one 5,000-day Bitcoin file).
      const joined = sql`FROM ${sql.table(t.table)} a CROSS JOIN LATERAL (SELECT o.${sql.ref(valueCol)} FROM ${sql.table(t.table)} o
          WHERE o.${sql.ref(keyCol)} = a.${sql.ref(keyCol)} AND o.${sql.ref(timeCol)} = a.${sql.ref(timeCol)} AND o.source_id = ${otherId} LIMIT 1) b
        WHERE a.${sql.ref(keyCol)} = ${t.keyId} AND a.${sql.ref(timeCol)} BETWEEN ${first} AND ${last} AND a.source_id = ${sourceId}`;
      const r = (await sql<{ common: number; differ: number }>`SELECT COUNT(*) AS common, COUNT(*) FILTER (WHERE ${differs}) AS differ ${joined}`.execute(trx)).rows[0] ?? { common: 0, differ: 0 };
      const worst =
        r.common > 0 && r.differ > 0
          ? (await sql<{ t: number; av: number; bv: number; d: number }>`SELECT a.${sql.ref(timeCol)} AS t, ${av} AS av, ${bv} AS bv, ${diff} AS d ${joined} ORDER BY d DESC, a.${sql.ref(timeCol)} LIMIT 1`.execute(trx)).rows[0]
          : undefined;
      const note = comparisonNote(t, other, r.common, r.differ, worst);
      if (note !== null) imp.report.notes.push(note);
    }
  }

  /** @internal Forgets cached ids after a rollback (the rows they named may be gone). */
  async afterRollback(): Promise<void> {
    this.sourceIds.clear();
    this.sourceNames.clear();
    this.seriesIds.clear();
    await this.loadSources().catch(() => undefined);
  }

  // ---- reads ----

  prices(q: PriceQuery): Promise<PricePoint[]> {
    return this.read('cannot read prices', async () => {
      const candidates = await this.db
        .selectFrom('series')
        .select(['id', 'interval_minutes'])
        .where('kind', '=', 'price')
        .where('market', '=', q.market)
        .where('point', '=', q.settlementPoint)
        .where('price_kind', '=', q.kind)
        .orderBy('interval_minutes')
        .execute();
      const series = q.intervalMinutes === undefined ? candidates[0] : candidates.find((c) => c.interval_minutes === q.intervalMinutes);
      if (!series) return [];
      const rows = await this.db
        .selectFrom('prices')
        .select(['start_ms', 'usd_per_mwh', 'source_id'])
        .where('series_id', '=', series.id)
        .where('start_ms', '>=', q.fromMs)
        .where('start_ms', '<', q.toMs)
        .orderBy('start_ms')
        .execute();
      const name = await this.sourceNamer(rows.map((r) => r.source_id));
      return bestPerStart(
        rows.map((r) => [r.start_ms, r.usd_per_mwh, r.source_id] as const),
        PRICE_SOURCES,
        name,
        (startMs, value, source): PricePoint => ({ market: q.market, settlementPoint: q.settlementPoint, kind: q.kind, intervalStartMs: startMs, intervalMinutes: series.interval_minutes, priceUsdPerMWh: value, source }),
      );
    });
  }

  loads(q: { market: string; zone: string; fromMs: number; toMs: number }): Promise<LoadPoint[]> {
    return this.read('cannot read load', async () => {
      const series = await this.db
        .selectFrom('series')
        .select(['id', 'interval_minutes'])
        .where('kind', '=', 'load')
        .where('market', '=', q.market)
        .where('point', '=', q.zone)
        .where('price_kind', '=', '')
        .orderBy('interval_minutes')
        .limit(1)
        .executeTakeFirst();
      if (!series) return [];
      const rows = await this.db.selectFrom('loads').select(['start_ms', 'mw', 'source_id']).where('series_id', '=', series.id).where('start_ms', '>=', q.fromMs).where('start_ms', '<', q.toMs).orderBy('start_ms').execute();
      const name = await this.sourceNamer(rows.map((r) => r.source_id));
      return bestPerStart(
        rows.map((r) => [r.start_ms, r.mw, r.source_id] as const),
        LOAD_SOURCES,
        name,
        (startMs, value, source): LoadPoint => ({ market: q.market, zone: q.zone, intervalStartMs: startMs, intervalMinutes: series.interval_minutes, loadMW: value, source }),
      );
    });
  }

  btcDays(fromDate: string, toDate: string): Promise<BtcDay[]> {
    return this.read('cannot read Bitcoin days', async () => {
      const fromMs = parseDayArg(fromDate, 'fromDate');
      const toMs = parseDayArg(toDate, 'toDate');
      const rows = await this.db.selectFrom('btc_daily').select(['field', 'day_ms', 'value', 'source_id']).where('day_ms', '>=', fromMs).where('day_ms', '<=', toMs).orderBy('field').orderBy('day_ms').execute();
      const byField = new Map<BtcField, ValueRow[]>();
      for (const r of rows) {
        if (!(BTC_FIELDS as readonly string[]).includes(r.field)) continue;
        const field = r.field as BtcField;
        const list = byField.get(field);
        const row = [r.day_ms, r.value, r.source_id] as const;
        if (list) list.push(row);
        else byField.set(field, [row]);
      }
      return mergeBtcDays(byField, await this.sourceNamer(rows.map((r) => r.source_id)));
    });
  }

  epochs(): Promise<DifficultyEpoch[]> {
    return this.read('cannot read difficulty epochs', async () => {
      const rows = await this.db.selectFrom('difficulty_epochs').select(['start_day_ms', 'source_id', 'difficulty', 'start_height']).orderBy('start_day_ms').execute();
      const name = await this.sourceNamer(rows.map((r) => r.source_id));
      return bestBySource(rows, (r) => r.start_day_ms, EPOCH_SOURCES, name).map((r) => ({
        startDateUtc: utcDate(r.start_day_ms),
        difficulty: r.difficulty,
        ...(r.start_height === null ? {} : { startHeight: r.start_height }),
        source: name(r.source_id),
      }));
    });
  }

  fourCpIntervals(q: { market: string; fromMonth?: string; toMonth?: string }): Promise<FourCpInterval[]> {
    return this.read('cannot read 4CP intervals', async () => {
      const rows = await this.db
        .selectFrom('fourcp_intervals')
        .select(['month', 'source_id', 'start_ms', 'interval_minutes', 'system_load_mw'])
        .where('market', '=', q.market)
        .where('month', '>=', q.fromMonth ?? '0000-00')
        .where('month', '<=', q.toMonth ?? '9999-99')
        .orderBy('month')
        .execute();
      const name = await this.sourceNamer(rows.map((r) => r.source_id));
      return bestBySource(rows, (r) => r.month, FOURCP_SOURCES, name).map((r) => ({
        market: q.market,
        month: r.month,
        intervalStartMs: r.start_ms,
        intervalMinutes: r.interval_minutes,
        ...(r.system_load_mw === null ? {} : { systemLoadMW: r.system_load_mw }),
        source: name(r.source_id),
      }));
    });
  }

  asPrices(q: { market: string; product: AsPriceProduct; kind: 'DA' | 'RT'; fromMs: number; toMs: number; intervalMinutes?: number }): Promise<AsPricePoint[]> {
    return this.read('cannot read AS prices', async () => {
      const interval =
        q.intervalMinutes ??
        (await this.db
          .selectFrom('as_prices')
          .select((eb) => eb.fn.min('interval_minutes').as('m'))
          .where('market', '=', q.market)
          .where('product', '=', q.product)
          .where('price_kind', '=', q.kind)
          .executeTakeFirst())?.m ??
        null;
      if (interval === null) return [];
      const rows = await this.db
        .selectFrom('as_prices')
        .select(['start_ms', 'usd_per_mw_h', 'source_id'])
        .where('market', '=', q.market)
        .where('product', '=', q.product)
        .where('price_kind', '=', q.kind)
        .where('interval_minutes', '=', interval)
        .where('start_ms', '>=', q.fromMs)
        .where('start_ms', '<', q.toMs)
        .orderBy('start_ms')
        .execute();
      const name = await this.sourceNamer(rows.map((r) => r.source_id));
      return mergeAsPrices(q, interval, rows.map((r) => [r.start_ms, r.usd_per_mw_h, r.source_id] as const), name);
    });
  }

  asPriceCoverage(): Promise<{ market: string; product: string; kind: 'DA' | 'RT'; intervalMinutes: number; firstMs: number; lastMs: number; count: number }[]> {
    return this.read('cannot read AS price coverage', async () => {
      const rows = await this.db
        .selectFrom('as_prices')
        .select((eb) => [
          'market',
          'product',
          'price_kind as kind',
          'interval_minutes as intervalMinutes',
          eb.fn.min('start_ms').as('firstMs'),
          eb.fn.max('start_ms').as('lastMs'),
          eb.fn.count<number>('start_ms').distinct().as('count'),
        ])
        .groupBy(['market', 'product', 'price_kind', 'interval_minutes'])
        .orderBy('market')
        .orderBy('price_kind')
        .orderBy('product')
        .orderBy('interval_minutes')
        .execute();
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    });
  }

  coverage(opts: { topGaps?: number } = {}): Promise<SeriesCoverage[]> {
    return this.read('cannot read coverage', async () => {
      const top = opts.topGaps ?? 5;
      const out: SeriesCoverage[] = [];
      const series = await this.db
        .selectFrom('series')
        .select(['id', 'kind', 'market', 'point', 'price_kind', 'interval_minutes'])
        .orderBy('kind', 'desc')
        .orderBy('market')
        .orderBy('price_kind', 'desc')
        .orderBy('point')
        .orderBy('interval_minutes')
        .execute();
      for (const s of series) {
        const id: PointSeriesId = { kind: s.kind, market: s.market, point: s.point, priceKind: s.price_kind === 'RT' || s.price_kind === 'DA' ? s.price_kind : '', intervalMinutes: s.interval_minutes };
        const label = pointSeriesLabel(id);
        const starts =
          s.kind === 'price'
            ? (await this.db.selectFrom('prices').select('start_ms').distinct().where('series_id', '=', s.id).orderBy('start_ms').execute()).map((r) => r.start_ms)
            : (await this.db.selectFrom('loads').select('start_ms').distinct().where('series_id', '=', s.id).orderBy('start_ms').execute()).map((r) => r.start_ms);
        if (starts.length === 0) continue;
        const sourceIds = (await this.db.selectFrom('series_sources').select('source_id').where('series_id', '=', s.id).execute()).map((r) => r.source_id);
        const name = await this.sourceNamer(sourceIds);
        const sources = sourceIds.map(name).sort(bySourcePrecedence(s.kind === 'price' ? PRICE_SOURCES : LOAD_SOURCES));
        const key: SeriesKey =
          s.kind === 'price'
            ? { kind: 'price', market: s.market, settlementPoint: s.point, ...(id.priceKind === '' ? {} : { priceKind: id.priceKind }) }
            : { kind: 'load', market: s.market, zone: s.point };
        out.push(coverageRow(label, key, s.kind === 'price' ? PRICE_UNIT : LOAD_UNIT, s.interval_minutes, sources, scanOf(label, starts, s.interval_minutes * MS_PER_MINUTE), top));
      }
      for (const field of BTC_FIELDS) {
        const label = btcSeriesLabel(field);
        const starts = (await this.db.selectFrom('btc_daily').select('day_ms').distinct().where('field', '=', field).orderBy('day_ms').execute()).map((r) => r.day_ms);
        if (starts.length === 0) continue;
        const sourceIds = (await this.db.selectFrom('btc_daily').select('source_id').distinct().where('field', '=', field).execute()).map((r) => r.source_id);
        const name = await this.sourceNamer(sourceIds);
        out.push(coverageRow(label, { kind: 'btc', field }, BTC_UNITS[field], 1440, sourceIds.map(name).sort(bySourcePrecedence(BTC_SOURCES[field])), scanOf(label, starts, MS_PER_DAY), top));
      }
      return out;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.importing?.rollback();
    await this.db.destroy();
  }
}

/** Count, first, last and gaps of a series' sorted distinct starts. */
function scanOf(label: string, starts: readonly number[], stepMs: number): { count: number; first: number; last: number; gaps: ReturnType<typeof findGaps> } {
  return { count: starts.length, first: starts[0] ?? NaN, last: starts[starts.length - 1] ?? NaN, gaps: findGaps(label, starts, stepMs) };
}

/**
 * One file's import: one transaction on a connection of its own (Kysely's controlled transaction:
 * BEGIN on a dedicated pool client, COMMIT or ROLLBACK at the end), so the file is all written or
 * not at all while only one batch of it is in memory. An advisory lock taken at BEGIN serialises
 * imports into the same schema across processes, as SQLite's write lock does.
 */
class PgImport implements ImportSession {
  private readonly state: ImportState;
  private trx: ControlledTransaction<PgMarketDb> | undefined;
  private open = true;
  /** Steps run one after another even if the caller does not await (a batch never interleaves). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: PgMarketStore,
    readonly file: string,
    source: string,
    private readonly onEnd: () => void,
  ) {
    this.state = new ImportState(newImportReport(file, source));
  }

  async begin(db: Kysely<PgMarketDb>): Promise<void> {
    const trx = await db.startTransaction().execute();
    try {
      await sql`SELECT pg_advisory_xact_lock(hashtext('mullet-market-import:' || current_schema()))`.execute(trx);
    } catch (err) {
      await trx.rollback().execute().catch(() => undefined);
      throw err;
    }
    this.trx = trx;
  }

  add(batch: ParsedBatch): Promise<void> {
    return this.serial(async () => {
      const trx = this.checkOpen();
      await this.guard(async () => {
        const groups = groupBatch(this.file, batch);
        this.state.report.notes.push(...batch.notes);
        await this.store.writePoints(trx, groups.points, this.state);
        await this.store.writeBtc(trx, groups.btc, this.state);
        await this.store.writeEpochs(trx, groups.epochs, this.state);
        await this.store.writeFourCp(trx, groups.fourCp, this.state);
        await this.store.writeAsPrices(trx, groups.asPrices, this.state);
      });
    });
  }

  commit(): Promise<ImportReport> {
    return this.serial(async () => {
      const trx = this.checkOpen();
      await this.guard(async () => {
        await this.store.summarize(trx, this.state);
        await trx.commit().execute();
      });
      this.close();
      return this.state.report;
    });
  }

  rollback(): Promise<void> {
    return this.serial(() => this.rollbackNow());
  }

  private async rollbackNow(): Promise<void> {
    if (!this.open) return;
    try {
      if (this.trx && !this.trx.isCommitted && !this.trx.isRolledBack) await this.trx.rollback().execute();
    } finally {
      this.close();
      await this.store.afterRollback();
    }
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private close(): void {
    this.open = false;
    this.onEnd();
  }

  private checkOpen(): ControlledTransaction<PgMarketDb> {
    if (!this.open || !this.trx) throw new MulletError('INTERNAL', 'this import has already been committed or rolled back', { where: this.file });
    return this.trx;
  }

  /** Runs one step; any failure rolls the whole file back. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      await this.rollbackNow().catch(() => undefined);
      if (err instanceof MulletError) throw err;
      const mapped = pgError('import failed, nothing written', err, this.file);
      throw mapped;
    }
  }
}
