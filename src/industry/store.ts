/**
 * Where imported industry facts live, behind `IndustryStore`: one SQLite table (`industry_facts`)
 * in the file given by `--db` (the market store's `mullet.db` by default; the table is its own, so
 * the two never touch each other's rows). A fact's id is the hash of its cells, so re-importing a
 * file changes nothing; a file is the unit of truth: its rows that are no longer in it are removed
 * (an edited row replaces the old one). Rows are stored as their validated JSON and parsed again
 * with the same zod schemas when read back.
 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import { MulletError } from '../core/errors.js';
import type { ParsedFile } from './parse.js';
import { dealRowSchema, isAggregate, metricRowSchema, type DealFact, type MetricFact } from './schema.js';
import { migrateSqlite, type Migration } from '../db/migrations.js';

export interface ImportResult {
  file: string;
  kind: 'metrics' | 'deals';
  /** Rows new to the store. */
  added: number;
  /** Rows already stored (same cells): left as they were. */
  unchanged: number;
  /** Rows of this file stored before and no longer in it. */
  removed: number;
}

export interface IndustryStore {
  /** Stores a parsed file's facts in one transaction (a file with errors is refused: BAD_INPUT). */
  importFile(p: ParsedFile, nowMs: number): Promise<ImportResult>;
  metrics(): Promise<MetricFact[]>;
  deals(): Promise<DealFact[]>;
  /** Rows per imported file and when it was last imported. */
  files(): Promise<{ file: string; kind: string; rows: number; importedAtMs: number }[]>;
  close(): Promise<void>;
}

interface FactDbRow {
  id: string;
  kind: string;
  file: string;
  line: number;
  row_json: string;
}

const INDUSTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'industry facts, one row per sourced fact',
    sql: `CREATE TABLE industry_facts (
      id             TEXT PRIMARY KEY,      -- sha256 of the row's cells: the same fact is one row
      kind           TEXT NOT NULL,         -- metrics | deals
      file           TEXT NOT NULL,         -- the file (base name) it was last imported from
      line           INTEGER NOT NULL,      -- its line there
      imported_at_ms INTEGER NOT NULL,
      row_json       TEXT NOT NULL          -- the validated row (source_url included)
    );
    CREATE INDEX industry_facts_file ON industry_facts(file);`,
  },
];

export class SqliteIndustryStore implements IndustryStore {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating when missing) the industry table in `file` (':memory:' for tests). */
  static open(file: string, nowMs = 0): SqliteIndustryStore {
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (cause) {
      throw new MulletError('IO', `cannot open ${file}`, { cause, where: file });
    }
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    try {
      // Its own version track (industry_schema_version) in a file the market store may share.
      migrateSqlite(db, 'industry facts', INDUSTRY_MIGRATIONS, nowMs, 'industry_schema_version');
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteIndustryStore(db);
  }

  importFile(p: ParsedFile, nowMs: number): Promise<ImportResult> {
    if (p.errors.length > 0) return Promise.reject(new MulletError('BAD_INPUT', `${p.file}: ${p.errors.length} problem(s), nothing imported:\n${p.errors.join('\n')}`, { where: p.file }));
    const has = this.db.prepare<[string], { file: string }>('SELECT file FROM industry_facts WHERE id = ?');
    const insert = this.db.prepare('INSERT INTO industry_facts (id, kind, file, line, imported_at_ms, row_json) VALUES (?, ?, ?, ?, ?, ?)');
    const touch = this.db.prepare('UPDATE industry_facts SET file = ?, line = ?, imported_at_ms = ? WHERE id = ?');
    const ofFile = this.db.prepare<[string], { id: string }>('SELECT id FROM industry_facts WHERE file = ?');
    const del = this.db.prepare('DELETE FROM industry_facts WHERE id = ?');
    const run = this.db.transaction((): ImportResult => {
      const keep = new Set<string>();
      let added = 0;
      let unchanged = 0;
      for (const f of p.facts) {
        keep.add(f.id);
        if (has.get(f.id)) {
          touch.run(p.file, f.line, nowMs, f.id);
          unchanged++;
        } else {
          insert.run(f.id, p.kind, p.file, f.line, nowMs, JSON.stringify(f.row));
          added++;
        }
      }
      let removed = 0;
      for (const { id } of ofFile.all(p.file)) {
        if (keep.has(id)) continue;
        del.run(id);
        removed++;
      }
      return { file: p.file, kind: p.kind, added, unchanged, removed };
    });
    try {
      return Promise.resolve(run());
    } catch (cause) {
      return Promise.reject(new MulletError('IO', `storing ${p.file} failed`, { cause, where: p.file }));
    }
  }

  private rows(kind: string): FactDbRow[] {
    return this.db.prepare<[string], FactDbRow>('SELECT id, kind, file, line, row_json FROM industry_facts WHERE kind = ? ORDER BY file, line').all(kind);
  }

  metrics(): Promise<MetricFact[]> {
    return Promise.resolve(this.rows('metrics').map((r) => ({ id: r.id, file: r.file, line: r.line, row: metricRowFromDb(r) })));
  }

  deals(): Promise<DealFact[]> {
    return Promise.resolve(
      this.rows('deals').map((r) => {
        const row = dealRowFromDb(r);
        return { id: r.id, file: r.file, line: r.line, row, aggregate: isAggregate(row) };
      }),
    );
  }

  files(): Promise<{ file: string; kind: string; rows: number; importedAtMs: number }[]> {
    return Promise.resolve(this.db.prepare<[], { file: string; kind: string; rows: number; importedAtMs: number }>('SELECT file, kind, COUNT(*) AS rows, MAX(imported_at_ms) AS importedAtMs FROM industry_facts GROUP BY file, kind ORDER BY file').all());
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

// Stored rows were validated on import; they are parsed again because the file may have been edited by hand.
function metricRowFromDb(r: FactDbRow): MetricFact['row'] {
  const p = metricRowSchemaStored.safeParse(JSON.parse(r.row_json));
  if (!p.success) throw new MulletError('PARSE', `industry_facts row ${r.id}: ${p.error.issues[0]?.message ?? 'invalid'}`, { where: `${r.file}:${r.line}` });
  return p.data;
}
function dealRowFromDb(r: FactDbRow): DealFact['row'] {
  const p = dealRowSchemaStored.safeParse(JSON.parse(r.row_json));
  if (!p.success) throw new MulletError('PARSE', `industry_facts row ${r.id}: ${p.error.issues[0]?.message ?? 'invalid'}`, { where: `${r.file}:${r.line}` });
  return p.data;
}

// The stored JSON holds typed values (numbers, null), not CSV cells: the same fields, typed.
const metricRowSchemaStored = z.object({ ...metricRowSchema.shape, value: z.number() }).loose();
const dealRowSchemaStored = z.object({ ...dealRowSchema.shape, it_mw: z.number().nullable(), term_years: z.number().nullable(), total_value_usd: z.number().nullable(), annual_value_usd: z.number().nullable(), escalator_pct: z.number().nullable(), prepay_pct: z.number().nullable() }).loose();
