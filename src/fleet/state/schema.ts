/**
 * SQLite schema of the site agent's state as ordered migrations (never edit a released one: append).
 * Times are integer UTC ms; power W on devices, MW at the meter.
 */
import type Database from 'better-sqlite3';
import { migrateSqlite, schemaVersion, type Migration } from '../../db/migrations.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'miners, intents, commands, telemetry_minute, signals, kv',
    sql: `
      -- The inventory the agent runs with (refreshed at each start).
      CREATE TABLE miners (
        id                 TEXT PRIMARY KEY,
        host               TEXT NOT NULL,
        driver             TEXT NOT NULL,   -- registry type, for logs only
        model              TEXT,
        rated_power_w      REAL NOT NULL,
        rated_hashrate_ths REAL NOT NULL,
        updated_at_ms      INTEGER NOT NULL
      );
      -- The last command per miner: what a restarted agent reconciles against.
      CREATE TABLE intents (
        miner_id       TEXT PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('sleep', 'wake', 'target')),
        target_w       REAL,
        sent_at_ms     INTEGER NOT NULL,
        attempts       INTEGER NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed')),
        failed_at_ms   INTEGER,
        last_error     TEXT,
        power_target_w REAL                 -- accepted power target, W; NULL = nameplate
      ) WITHOUT ROWID;
      -- Every command sent, with its result and latency (the audit log).
      CREATE TABLE commands (
        id            INTEGER PRIMARY KEY,
        miner_id      TEXT NOT NULL,
        kind          TEXT NOT NULL,
        target_w      REAL,
        reason        TEXT NOT NULL,
        attempt       INTEGER NOT NULL,
        signal_id     TEXT,
        sent_at_ms    INTEGER NOT NULL,
        latency_ms    REAL NOT NULL,
        ok            INTEGER NOT NULL,
        error_code    TEXT,
        error_fault   TEXT,
        error_message TEXT
      );
      CREATE INDEX commands_by_time ON commands (sent_at_ms);
      CREATE INDEX commands_by_miner ON commands (miner_id, sent_at_ms);
      -- Telemetry downsampled to per-minute means per miner.
      CREATE TABLE telemetry_minute (
        miner_id      TEXT NOT NULL,
        minute_ms     INTEGER NOT NULL,
        samples       INTEGER NOT NULL,
        hashrate_ths  REAL NOT NULL,       -- mean
        power_w       REAL,                -- mean of the samples that reported power
        power_samples INTEGER NOT NULL,
        state         TEXT NOT NULL,       -- last state seen in the minute
        failures      INTEGER NOT NULL,    -- reads that failed in the minute
        PRIMARY KEY (miner_id, minute_ms)
      ) WITHOUT ROWID;
      CREATE INDEX telemetry_by_minute ON telemetry_minute (minute_ms);
      -- Curtailment signals by id: the same id twice is the same signal (idempotency survives restart).
      CREATE TABLE signals (
        id               TEXT PRIMARY KEY,
        kind             TEXT NOT NULL CHECK (kind IN ('curtail', 'restore')),
        request          TEXT NOT NULL,    -- canonical JSON of the request
        source           TEXT NOT NULL,
        received_at_ms   INTEGER NOT NULL,
        cap_mw           REAL,
        baseline_mw      REAL,
        state            TEXT NOT NULL CHECK (state IN ('active', 'confirmed', 'superseded')),
        commands_sent    INTEGER NOT NULL,
        first_command_at_ms INTEGER,
        confirmed_at_ms  INTEGER,
        miners_confirmed INTEGER NOT NULL,
        miners_failed    INTEGER NOT NULL,
        miners_unreachable INTEGER NOT NULL,
        superseded_by    TEXT
      ) WITHOUT ROWID;
      CREATE INDEX signals_by_time ON signals (received_at_ms);
      -- Small values that must survive a restart (last safe level, restore pacing, strike state).
      CREATE TABLE kv (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'intent confirmation time, command rows written before sending, unmet signals, index on signal state',
    sql: `
      -- When a read first showed the command in effect (a sleep undone soon after is a relapse).
      ALTER TABLE intents ADD COLUMN confirmed_at_ms INTEGER;
      -- Command rows are written before the command is sent ('sent'), completed after ('done'),
      -- and a row left 'sent' by a crash is marked 'interrupted' by the next agent.
      ALTER TABLE commands ADD COLUMN state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('sent', 'done', 'interrupted'));
      CREATE INDEX commands_in_flight ON commands (state) WHERE state != 'done';
      -- 'unmet': settled with nothing left to command but the cap not reached (failed miners).
      CREATE TABLE signals_v2 (
        id               TEXT PRIMARY KEY,
        kind             TEXT NOT NULL CHECK (kind IN ('curtail', 'restore')),
        request          TEXT NOT NULL,
        source           TEXT NOT NULL,
        received_at_ms   INTEGER NOT NULL,
        cap_mw           REAL,
        baseline_mw      REAL,
        state            TEXT NOT NULL CHECK (state IN ('active', 'confirmed', 'unmet', 'superseded')),
        commands_sent    INTEGER NOT NULL,
        first_command_at_ms INTEGER,
        confirmed_at_ms  INTEGER,
        miners_confirmed INTEGER NOT NULL,
        miners_failed    INTEGER NOT NULL,
        miners_unreachable INTEGER NOT NULL,
        shortfall_mw     REAL,
        superseded_by    TEXT
      ) WITHOUT ROWID;
      INSERT INTO signals_v2 (id, kind, request, source, received_at_ms, cap_mw, baseline_mw, state, commands_sent,
        first_command_at_ms, confirmed_at_ms, miners_confirmed, miners_failed, miners_unreachable, shortfall_mw, superseded_by)
        SELECT id, kind, request, source, received_at_ms, cap_mw, baseline_mw, state, commands_sent,
        first_command_at_ms, confirmed_at_ms, miners_confirmed, miners_failed, miners_unreachable, NULL, superseded_by FROM signals;
      DROP TABLE signals;
      ALTER TABLE signals_v2 RENAME TO signals;
      CREATE INDEX signals_by_time ON signals (received_at_ms);
      -- Every tick and every signal asks for the active ones: without this index that query scans
      -- the whole table (0.4 s at a million rows, on the event loop).
      CREATE INDEX signals_active ON signals (state) WHERE state = 'active';
    `,
  },
  {
    version: 3,
    description: 'signal acknowledgement time (commands acknowledged; confirmed_at_ms is now "in effect")',
    sql: `
      -- A restore's wakes are acknowledged long before the woken machines hash: both times are kept.
      ALTER TABLE signals ADD COLUMN acknowledged_at_ms INTEGER;
    `,
  },
  {
    version: 4,
    description: 'grid services: deployments (the evidence a QSE keeps) and awards',
    sql: `
      -- One row per ERCOT deployment; the record is JSON (parsed by the agent's schema on the way
      -- back), the columns are what queries filter on. Never pruned: it is the evidence.
      CREATE TABLE grid_deployments (
        id             TEXT PRIMARY KEY,
        start_ms       INTEGER NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('scheduled', 'active', 'completed', 'recalled')),
        record         TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX grid_deployments_by_start ON grid_deployments (start_ms);
      CREATE INDEX grid_deployments_open ON grid_deployments (state) WHERE state IN ('scheduled', 'active');
      -- Awards: MW of a product held available for [from_ms, to_ms).
      CREATE TABLE grid_awards (
        id       TEXT PRIMARY KEY,
        from_ms  INTEGER NOT NULL,
        to_ms    INTEGER NOT NULL,
        record   TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX grid_awards_by_end ON grid_awards (to_ms);
    `,
  },
];

export const AGENT_SCHEMA_VERSION = schemaVersion(MIGRATIONS);

/** Applies pending migrations (db/migrations.ts); refuses a database written by a newer Mullet. */
export function migrateAgentDb(db: Database.Database, nowMs: number): void {
  migrateSqlite(db, 'agent database', MIGRATIONS, nowMs);
}
