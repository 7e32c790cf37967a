/**
 * The market store's SQLite schema as ordered migrations, applied by the one runner (db/migrations.ts).
 * Never edit a released migration: append a new one.
 */
import type Database from 'better-sqlite3';
import { migrateSqlite, schemaVersion, type Migration } from '../db/migrations.js';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sources, series, prices, loads, btc_daily, difficulty_epochs',
    sql: `
      CREATE TABLE sources (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE            -- publisher: 'ercot', 'gridstatus', 'eia', 'bitstamp', ...
      );
      CREATE TABLE series (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL CHECK (kind IN ('price', 'load')),
        market           TEXT NOT NULL,      -- 'ERCOT'
        point            TEXT NOT NULL,      -- settlement point (price) or weather zone / TOTAL (load)
        price_kind       TEXT NOT NULL CHECK (price_kind IN ('RT', 'DA', '')),
        interval_minutes INTEGER NOT NULL CHECK (interval_minutes > 0),
        UNIQUE (kind, market, point, price_kind, interval_minutes)
      );
      CREATE TABLE series_sources (
        series_id INTEGER NOT NULL REFERENCES series (id),
        source_id INTEGER NOT NULL REFERENCES sources (id),
        PRIMARY KEY (series_id, source_id)
      ) WITHOUT ROWID;
      -- Interval starts are UTC ms. One row per (series, start, source): every source is kept.
      CREATE TABLE prices (
        series_id   INTEGER NOT NULL,
        start_ms    INTEGER NOT NULL,
        source_id   INTEGER NOT NULL,
        usd_per_mwh REAL NOT NULL,
        PRIMARY KEY (series_id, start_ms, source_id)
      ) WITHOUT ROWID;
      CREATE TABLE loads (
        series_id INTEGER NOT NULL,
        start_ms  INTEGER NOT NULL,
        source_id INTEGER NOT NULL,
        mw        REAL NOT NULL,
        PRIMARY KEY (series_id, start_ms, source_id)
      ) WITHOUT ROWID;
      -- Bitcoin daily data in per-field form so files with different fields merge.
      CREATE TABLE btc_daily (
        field     TEXT NOT NULL,             -- BtcField: 'priceUsd', 'difficulty', 'feesBtc', ...
        day_ms    INTEGER NOT NULL,          -- UTC midnight starting the day
        source_id INTEGER NOT NULL,
        value     REAL NOT NULL,
        PRIMARY KEY (field, day_ms, source_id)
      ) WITHOUT ROWID;
      CREATE TABLE difficulty_epochs (
        start_day_ms INTEGER NOT NULL,       -- first full UTC day at this difficulty
        source_id    INTEGER NOT NULL,
        difficulty   REAL NOT NULL,
        start_height INTEGER,
        PRIMARY KEY (start_day_ms, source_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'fourcp_intervals: official 4CP settlement intervals',
    sql: `
      -- One row per (market, CPT month, source): the 15-minute interval that set that month's 4CP.
      CREATE TABLE fourcp_intervals (
        market           TEXT NOT NULL,
        month            TEXT NOT NULL,      -- 'YYYY-MM', CPT calendar month
        source_id        INTEGER NOT NULL,
        start_ms         INTEGER NOT NULL,   -- interval start, UTC ms
        interval_minutes INTEGER NOT NULL CHECK (interval_minutes > 0),
        system_load_mw   REAL,               -- ERCOT's 4CP demand in the interval, when published
        PRIMARY KEY (market, month, source_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    description: 'as_prices: ancillary-service clearing prices by product and interval',
    sql: `
      -- One row per (market, product, DA/RT, interval length, start, source): USD per MW per hour held.
      CREATE TABLE as_prices (
        market           TEXT NOT NULL,
        product          TEXT NOT NULL,      -- 'REGUP', 'REGDN', 'RRS', 'ECRS', 'NSPIN' (ERCOT's spelling)
        price_kind       TEXT NOT NULL CHECK (price_kind IN ('RT', 'DA')),
        interval_minutes INTEGER NOT NULL CHECK (interval_minutes > 0),
        start_ms         INTEGER NOT NULL,   -- interval start, UTC ms
        source_id        INTEGER NOT NULL,
        usd_per_mw_h     REAL NOT NULL,
        PRIMARY KEY (market, product, price_kind, interval_minutes, start_ms, source_id)
      ) WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = schemaVersion(MIGRATIONS);

/** Applies pending migrations; refuses a database written by a newer Mullet. Returns the version. */
export function migrate(db: Database.Database, nowMs: number): number {
  return migrateSqlite(db, 'market database', MIGRATIONS, nowMs);
}
