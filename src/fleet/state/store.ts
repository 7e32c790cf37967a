/**
 * The site agent's state on SQLite (better-sqlite3), implementing the agent's storage port
 * (`../agent/state-port.ts`): the inventory it runs, the last command per miner (what a restarted
 * agent reconciles against), every command with its result and latency, per-minute telemetry with
 * retention, and signals by id so their idempotency survives a restart. Writes are batched into
 * one transaction per call so a 10,000-miner tick costs a few statements, not 10,000 fsyncs.
 * better-sqlite3 is synchronous: the async methods resolve at once (the port is async for stores
 * across a network).
 */
import Database from 'better-sqlite3';
import { MulletError } from '../../core/errors.js';
import { MS_PER_DAY } from '../../core/time.js';
import { DEFAULT_RETENTION, type AgentStateStore, type CommandRecord, type CommandState, type IntentRow, type InventoryRow, type RecordedCommandKind, type RetentionPolicy, type SignalKind, type SignalRecord, type SignalState, type TelemetryMinute } from '../agent/state-port.js';
import type { CommandKind, MinerIntent } from '../agent/types.js';
import { awardRecordSchema, deploymentRecordSchema, type AwardRecord, type DeploymentRecord } from '../agent/grid-records.js';
import { migrateAgentDb } from './schema.js';

type Db = Database.Database;

interface SignalRow {
  id: string;
  kind: SignalKind;
  request: string;
  source: string;
  received_at_ms: number;
  cap_mw: number | null;
  baseline_mw: number | null;
  state: SignalState;
  commands_sent: number;
  first_command_at_ms: number | null;
  acknowledged_at_ms: number | null;
  confirmed_at_ms: number | null;
  miners_confirmed: number;
  miners_failed: number;
  miners_unreachable: number;
  shortfall_mw: number | null;
  superseded_by: string | null;
}

function signalFromRow(r: SignalRow): SignalRecord {
  return {
    id: r.id,
    kind: r.kind,
    request: r.request,
    source: r.source,
    receivedAtMs: r.received_at_ms,
    capMW: r.cap_mw,
    baselineMW: r.baseline_mw,
    state: r.state,
    commandsSent: r.commands_sent,
    firstCommandAtMs: r.first_command_at_ms,
    ...(r.acknowledged_at_ms !== null ? { acknowledgedAtMs: r.acknowledged_at_ms } : {}),
    confirmedAtMs: r.confirmed_at_ms,
    minersConfirmed: r.miners_confirmed,
    minersFailed: r.miners_failed,
    minersUnreachable: r.miners_unreachable,
    shortfallMW: r.shortfall_mw,
    supersededBy: r.superseded_by,
  };
}

/** A JSON record read back from the database: parsed, never trusted (a hand-edited or corrupt row is an IO error naming the table). */
function parseStored<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } }, text: string, table: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (err) {
    throw new MulletError('IO', `a row of ${table} is not JSON`, { where: table, cause: err });
  }
  const p = schema.safeParse(raw);
  if (!p.success) throw new MulletError('IO', `a row of ${table} does not match its schema: ${p.error.message}`, { where: table });
  return p.data;
}

/** Rows per multi-row statement (well under SQLite's variable limit). */
const CHUNK = 200;

export class SqliteAgentStateStore implements AgentStateStore {
  private readonly stmts = new Map<string, Database.Statement>();
  /** Next command row id (read once from the table; this process is the only writer). */
  private nextCommandId: number | null = null;

  private constructor(
    private readonly db: Db,
    /** The database file (':memory:' for a throw-away one). */
    readonly file: string,
  ) {}

  /**
   * Opens (creating and migrating) the agent DB at `file`; ':memory:' for a throw-away one. The
   * file is locked for this process (SQLite exclusive locking mode, released by the OS if the
   * process dies): two agents sharing one state database would drive one fleet twice. Command rows
   * a dead predecessor wrote before sending but never completed are marked 'interrupted'.
   */
  static open(file: string, nowMs: number): SqliteAgentStateStore {
    let db: Db;
    try {
      db = new Database(file);
    } catch (err) {
      throw new MulletError('IO', `cannot open agent database: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    try {
      db.pragma('busy_timeout = 1000');
      if (file !== ':memory:') {
        db.pragma('locking_mode = EXCLUSIVE');
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // Take the lock now (a read or write would take it later, at a worse moment).
        db.exec('BEGIN EXCLUSIVE; COMMIT;');
      }
      migrateAgentDb(db, nowMs);
    } catch (err) {
      db.close();
      if (err instanceof MulletError) throw err;
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new MulletError('CONFLICT', 'the agent database is in use by another process (another `mullet agent`?): two agents must never drive one fleet from one state database', { where: file, cause: err, transient: false });
      }
      throw new MulletError('IO', `cannot initialise agent database: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    const store = new SqliteAgentStateStore(db, file);
    store.markInterrupted();
    return store;
  }

  /** The query plan SQLite chose for `sql` (tests: hot queries must use their index). */
  explain(sql: string): string {
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('\n');
  }

  /** Drops the connection without flushing anything: what a killed process leaves (tests of crash recovery). */
  abandon(): void {
    if (this.db.open) this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` for each chunk of `rows` inside one transaction. */
  private chunked<T>(rows: readonly T[], fn: (chunk: readonly T[]) => void): void {
    if (rows.length === 0) return;
    this.db.transaction(() => {
      for (let i = 0; i < rows.length; i += CHUNK) fn(rows.slice(i, i + CHUNK));
    })();
  }

  upsertInventory(rows: readonly InventoryRow[], nowMs: number): Promise<void> {
    this.upsertInventorySync(rows, nowMs);
    return Promise.resolve();
  }

  private upsertInventorySync(rows: readonly InventoryRow[], nowMs: number): void {
    this.chunked(rows, (chunk) => {
      const sql =
        'INSERT INTO miners (id, host, driver, model, rated_power_w, rated_hashrate_ths, updated_at_ms) VALUES ' +
        chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ') +
        ' ON CONFLICT (id) DO UPDATE SET host = excluded.host, driver = excluded.driver, model = excluded.model,' +
        ' rated_power_w = excluded.rated_power_w, rated_hashrate_ths = excluded.rated_hashrate_ths, updated_at_ms = excluded.updated_at_ms';
      this.stmt(sql).run(chunk.flatMap((r) => [r.id, r.host, r.driver, r.model, r.ratedPowerW, r.ratedHashrateThs, nowMs]));
    });
  }

  inventory(): Promise<InventoryRow[]> {
    return Promise.resolve(this.inventorySync());
  }

  private inventorySync(): InventoryRow[] {
    type R = { id: string; host: string; driver: string; model: string | null; rated_power_w: number; rated_hashrate_ths: number };
    return (this.stmt('SELECT id, host, driver, model, rated_power_w, rated_hashrate_ths FROM miners ORDER BY id').all() as R[]).map((r) => ({
      id: r.id,
      host: r.host,
      driver: r.driver,
      model: r.model,
      ratedPowerW: r.rated_power_w,
      ratedHashrateThs: r.rated_hashrate_ths,
    }));
  }

  /** Every miner's restart memory. */
  loadIntents(): Promise<Map<string, IntentRow>> {
    return Promise.resolve(this.loadIntentsSync());
  }

  private loadIntentsSync(): Map<string, IntentRow> {
    type R = { miner_id: string; kind: CommandKind; target_w: number | null; sent_at_ms: number; attempts: number; status: MinerIntent['status']; failed_at_ms: number | null; last_error: string | null; power_target_w: number | null; confirmed_at_ms: number | null };
    const out = new Map<string, IntentRow>();
    for (const r of this.stmt('SELECT * FROM intents').all() as R[]) {
      const intent: MinerIntent = { kind: r.kind, sentAtMs: r.sent_at_ms, attempts: r.attempts, status: r.status };
      if (r.target_w !== null) intent.targetW = r.target_w;
      if (r.failed_at_ms !== null) intent.failedAtMs = r.failed_at_ms;
      if (r.last_error !== null) intent.lastError = r.last_error;
      if (r.confirmed_at_ms !== null) intent.confirmedAtMs = r.confirmed_at_ms;
      out.set(r.miner_id, { minerId: r.miner_id, intent, powerTargetW: r.power_target_w });
    }
    return out;
  }

  /** Upserts (or, with a null intent and target, deletes) miners' restart memory in one transaction. */
  private saveIntents(rows: readonly IntentRow[]): void {
    const del = rows.filter((r) => r.intent === null && r.powerTargetW === null);
    const put = rows.filter((r) => r.intent !== null || r.powerTargetW !== null);
    this.chunked(del, (chunk) => this.stmt(`DELETE FROM intents WHERE miner_id IN (${chunk.map(() => '?').join(', ')})`).run(chunk.map((r) => r.minerId)));
    this.chunked(put, (chunk) => {
      const sql =
        'INSERT OR REPLACE INTO intents (miner_id, kind, target_w, sent_at_ms, attempts, status, failed_at_ms, last_error, power_target_w, confirmed_at_ms) VALUES ' +
        chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      this.stmt(sql).run(
        chunk.flatMap((r) => {
          const i = r.intent;
          // A bare accepted target with no command on record is stored as a confirmed 'target'.
          return [r.minerId, i?.kind ?? 'target', i?.targetW ?? r.powerTargetW, i?.sentAtMs ?? 0, i?.attempts ?? 0, i?.status ?? 'confirmed', i?.failedAtMs ?? null, i?.lastError ?? null, r.powerTargetW, i?.confirmedAtMs ?? null];
        }),
      );
    });
  }

  /**
   * Writes command rows (ids assigned here: this process holds the database alone, see `open`):
   * new rows are inserted, rows that already have an id are completed (latency, outcome, state).
   */
  private recordCommands(rows: readonly CommandRecord[]): void {
    const fresh = rows.filter((r) => r.id === undefined);
    const known = rows.filter((r) => r.id !== undefined);
    if (fresh.length > 0 && this.nextCommandId === null) {
      this.nextCommandId = ((this.stmt('SELECT MAX(id) AS m FROM commands').get() as { m: number | null }).m ?? 0) + 1;
    }
    for (const r of fresh) {
      r.id = this.nextCommandId as number;
      this.nextCommandId = r.id + 1;
    }
    this.chunked(fresh, (chunk) => {
      const sql =
        'INSERT INTO commands (id, miner_id, kind, target_w, reason, attempt, signal_id, sent_at_ms, latency_ms, ok, state, error_code, error_fault, error_message) VALUES ' +
        chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      this.stmt(sql).run(chunk.flatMap((r) => [r.id ?? null, r.minerId, r.kind, r.targetW, r.reason, r.attempt, r.signalId, r.sentAtMs, r.latencyMs, r.ok ? 1 : 0, r.state, r.errorCode, r.errorFault, r.errorMessage]));
    });
    if (known.length === 0) return;
    const update = this.stmt('UPDATE commands SET sent_at_ms = ?, latency_ms = ?, ok = ?, state = ?, error_code = ?, error_fault = ?, error_message = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const r of known) update.run(r.sentAtMs, r.latencyMs, r.ok ? 1 : 0, r.state, r.errorCode, r.errorFault, r.errorMessage, r.id ?? null);
    })();
  }

  /** Intents, commands about to be sent and completed commands, in one transaction (one fsync). */
  persist(intents: readonly IntentRow[], sending: readonly CommandRecord[], completed: readonly CommandRecord[]): Promise<void> {
    if (intents.length === 0 && sending.length === 0 && completed.length === 0) return Promise.resolve();
    this.db.transaction(() => {
      this.saveIntents(intents);
      this.recordCommands(sending);
      this.recordCommands(completed);
    })();
    return Promise.resolve();
  }

  /** Marks rows a previous process wrote before sending but never completed; returns how many. */
  private markInterrupted(): number {
    return this.stmt("UPDATE commands SET state = 'interrupted' WHERE state = 'sent'").run().changes;
  }

  /** Commands of one miner (newest first) or all (for tests and `status`), at most `limit`. */
  commands(opts: { minerId?: string; sinceMs?: number; limit?: number } = {}): Promise<CommandRecord[]> {
    return Promise.resolve(this.commandsSync(opts));
  }

  private commandsSync(opts: { minerId?: string; sinceMs?: number; limit?: number }): CommandRecord[] {
    type R = { id: number; miner_id: string; kind: RecordedCommandKind; target_w: number | null; reason: string; attempt: number; signal_id: string | null; sent_at_ms: number; latency_ms: number; ok: number; state: CommandState; error_code: string | null; error_fault: string | null; error_message: string | null };
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.minerId !== undefined) {
      where.push('miner_id = ?');
      args.push(opts.minerId);
    }
    if (opts.sinceMs !== undefined) {
      where.push('sent_at_ms >= ?');
      args.push(opts.sinceMs);
    }
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    args.push(opts.limit ?? 1_000_000);
    return (this.db.prepare(sql).all(...args) as R[]).map((r) => ({
      id: r.id,
      minerId: r.miner_id,
      kind: r.kind,
      targetW: r.target_w,
      reason: r.reason,
      attempt: r.attempt,
      signalId: r.signal_id,
      sentAtMs: r.sent_at_ms,
      latencyMs: r.latency_ms,
      ok: r.ok === 1,
      state: r.state,
      errorCode: r.error_code,
      errorFault: r.error_fault,
      errorMessage: r.error_message,
    }));
  }

  recordTelemetry(rows: readonly TelemetryMinute[]): Promise<void> {
    this.chunked(rows, (chunk) => {
      const sql =
        'INSERT INTO telemetry_minute (miner_id, minute_ms, samples, hashrate_ths, power_w, power_samples, state, failures) VALUES ' +
        chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ') +
        ' ON CONFLICT (miner_id, minute_ms) DO UPDATE SET' +
        ' hashrate_ths = (hashrate_ths * samples + excluded.hashrate_ths * excluded.samples) / MAX(1, samples + excluded.samples),' +
        ' power_w = CASE WHEN power_samples + excluded.power_samples = 0 THEN NULL ELSE' +
        ' (COALESCE(power_w, 0) * power_samples + COALESCE(excluded.power_w, 0) * excluded.power_samples) / (power_samples + excluded.power_samples) END,' +
        ' samples = samples + excluded.samples, power_samples = power_samples + excluded.power_samples,' +
        ' state = excluded.state, failures = failures + excluded.failures';
      this.stmt(sql).run(chunk.flatMap((r) => [r.minerId, r.minuteMs, r.samples, r.hashrateThs, r.powerW, r.powerSamples, r.state, r.failures]));
    });
    return Promise.resolve();
  }

  /** Per-minute rows of one miner, oldest first. */
  telemetry(minerId: string): Promise<TelemetryMinute[]> {
    type R = { minute_ms: number; samples: number; hashrate_ths: number; power_w: number | null; power_samples: number; state: string; failures: number };
    const rows = this.stmt('SELECT minute_ms, samples, hashrate_ths, power_w, power_samples, state, failures FROM telemetry_minute WHERE miner_id = ? ORDER BY minute_ms').all(minerId) as R[];
    return Promise.resolve(rows.map((r) => ({
      minerId,
      minuteMs: r.minute_ms,
      powerSamples: r.power_samples,
      samples: r.samples,
      hashrateThs: r.hashrate_ths,
      powerW: r.power_w,
      state: r.state,
      failures: r.failures,
    })));
  }

  /** Deletes rows past their retention; returns how many of each were removed. */
  prune(nowMs: number, policy: RetentionPolicy = DEFAULT_RETENTION): Promise<{ telemetry: number; commands: number; signals: number }> {
    return Promise.resolve(this.db.transaction(() => ({
      telemetry: this.stmt('DELETE FROM telemetry_minute WHERE minute_ms < ?').run(nowMs - policy.telemetryDays * MS_PER_DAY).changes,
      commands: this.stmt('DELETE FROM commands WHERE sent_at_ms < ?').run(nowMs - policy.commandDays * MS_PER_DAY).changes,
      // Active signals are kept whatever their age: they still set the cap.
      signals: this.stmt("DELETE FROM signals WHERE received_at_ms < ? AND state != 'active'").run(nowMs - policy.signalDays * MS_PER_DAY).changes,
    }))());
  }

  getSignal(id: string): Promise<SignalRecord | undefined> {
    const r = this.stmt('SELECT * FROM signals WHERE id = ?').get(id) as SignalRow | undefined;
    return Promise.resolve(r ? signalFromRow(r) : undefined);
  }

  activeSignals(): Promise<SignalRecord[]> {
    return Promise.resolve((this.stmt("SELECT * FROM signals WHERE state = 'active' ORDER BY received_at_ms, id").all() as SignalRow[]).map(signalFromRow));
  }

  recentSignals(limit: number): Promise<SignalRecord[]> {
    return Promise.resolve((this.stmt('SELECT * FROM signals ORDER BY received_at_ms DESC, id DESC LIMIT ?').all(limit) as SignalRow[]).map(signalFromRow));
  }

  saveSignals(records: readonly SignalRecord[], kv: Readonly<Record<string, string | null>> = {}): Promise<void> {
    this.db.transaction(() => {
      for (const r of records) this.putSignal(r);
      for (const [k, v] of Object.entries(kv)) this.setKvSync(k, v);
    })();
    return Promise.resolve();
  }

  private putSignal(s: SignalRecord): void {
    this.stmt(
      'INSERT OR REPLACE INTO signals (id, kind, request, source, received_at_ms, cap_mw, baseline_mw, state, commands_sent, first_command_at_ms, confirmed_at_ms, miners_confirmed, miners_failed, miners_unreachable, shortfall_mw, superseded_by, acknowledged_at_ms)' +
        ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(s.id, s.kind, s.request, s.source, s.receivedAtMs, s.capMW, s.baselineMW, s.state, s.commandsSent, s.firstCommandAtMs, s.confirmedAtMs, s.minersConfirmed, s.minersFailed, s.minersUnreachable, s.shortfallMW, s.supersededBy, s.acknowledgedAtMs ?? null);
  }

  getKv(key: string): Promise<string | undefined> {
    return Promise.resolve((this.stmt('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value);
  }

  setKv(key: string, value: string | null): Promise<void> {
    this.setKvSync(key, value);
    return Promise.resolve();
  }

  private setKvSync(key: string, value: string | null): void {
    if (value === null) this.stmt('DELETE FROM kv WHERE key = ?').run(key);
    else this.stmt('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)').run(key, value);
  }

  saveGrid(deployments: readonly DeploymentRecord[], awards: readonly AwardRecord[] = []): Promise<void> {
    this.db.transaction(() => {
      const d = this.stmt('INSERT OR REPLACE INTO grid_deployments (id, start_ms, state, record) VALUES (?, ?, ?, ?)');
      for (const r of deployments) d.run(r.id, r.startMs, r.state, JSON.stringify(r));
      const a = this.stmt('INSERT OR REPLACE INTO grid_awards (id, from_ms, to_ms, record) VALUES (?, ?, ?, ?)');
      for (const r of awards) a.run(r.id, r.fromMs, r.toMs, JSON.stringify(r));
    })();
    return Promise.resolve();
  }

  getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    const r = this.stmt('SELECT record FROM grid_deployments WHERE id = ?').get(id) as { record: string } | undefined;
    return Promise.resolve(r ? parseStored(deploymentRecordSchema, r.record, 'grid_deployments') : undefined);
  }

  deployments(opts: { fromMs?: number; toMs?: number; unfinished?: boolean } = {}): Promise<DeploymentRecord[]> {
    const where: string[] = [];
    const args: number[] = [];
    if (opts.unfinished) where.push("state IN ('scheduled', 'active')");
    if (opts.fromMs !== undefined) {
      where.push('start_ms >= ?');
      args.push(opts.fromMs);
    }
    if (opts.toMs !== undefined) {
      where.push('start_ms < ?');
      args.push(opts.toMs);
    }
    const sql = `SELECT record FROM grid_deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start_ms, id`;
    return Promise.resolve((this.db.prepare(sql).all(...args) as { record: string }[]).map((r) => parseStored(deploymentRecordSchema, r.record, 'grid_deployments')));
  }

  awards(sinceMs?: number): Promise<AwardRecord[]> {
    const rows = (sinceMs === undefined ? this.stmt('SELECT record FROM grid_awards ORDER BY from_ms, id').all() : this.stmt('SELECT record FROM grid_awards WHERE to_ms > ? ORDER BY from_ms, id').all(sinceMs)) as { record: string }[];
    return Promise.resolve(rows.map((r) => parseStored(awardRecordSchema, r.record, 'grid_awards')));
  }

  /** Closes the database; idempotent. */
  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
