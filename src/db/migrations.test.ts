import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrateSqlite, schemaVersion, type Migration } from './migrations.js';

const M: Migration[] = [
  { version: 1, description: 'a table', sql: 'CREATE TABLE a (x INTEGER)' },
  { version: 2, description: 'a column', sql: 'ALTER TABLE a ADD COLUMN y TEXT' },
];

describe('migrateSqlite', () => {
  it('applies every migration to an empty database, once, and records each', () => {
    const db = new Database(':memory:');
    expect(migrateSqlite(db, 'test database', M, 5)).toBe(2);
    expect(migrateSqlite(db, 'test database', M, 6)).toBe(2);
    expect(db.prepare('SELECT version, description, applied_at_ms FROM schema_version ORDER BY version').all()).toEqual([
      { version: 1, description: 'a table', applied_at_ms: 5 },
      { version: 2, description: 'a column', applied_at_ms: 5 },
    ]);
    db.prepare('INSERT INTO a (x, y) VALUES (1, ?)').run('ok');
    db.close();
  });

  it('applies only the missing ones to an older database', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, 'test database', M.slice(0, 1), 1);
    migrateSqlite(db, 'test database', M, 2);
    expect(db.prepare('SELECT version, applied_at_ms FROM schema_version ORDER BY version').all()).toEqual([
      { version: 1, applied_at_ms: 1 },
      { version: 2, applied_at_ms: 2 },
    ]);
    db.close();
  });

  it('refuses a database written by a newer Mullet, naming it', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, 'test database', M, 1);
    expect(() => migrateSqlite(db, 'test database', M.slice(0, 1), 1)).toThrow(/test database schema version 2 is newer than this Mullet understands \(1\)/);
    db.close();
  });

  it('rolls a failed step back whole (its statements and its version row)', () => {
    const db = new Database(':memory:');
    const bad: Migration[] = [...M, { version: 3, description: 'broken', sql: 'CREATE TABLE b (z INTEGER); CREATE TABLE a (dup INTEGER)' }];
    expect(() => migrateSqlite(db, 'test database', bad, 1)).toThrow(/already exists/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").all()).toEqual([]);
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_version').get()).toEqual({ v: 2 });
    db.close();
  });

  it('keeps a second migration list in the same file on its own version table', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, 'test database', M, 1);
    const other: Migration[] = [{ version: 1, description: 'facts', sql: 'CREATE TABLE facts (id TEXT)' }];
    expect(migrateSqlite(db, 'facts', other, 2, 'facts_schema_version')).toBe(1);
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_version').get()).toEqual({ v: 2 });
    expect(db.prepare('SELECT version, description FROM facts_schema_version').all()).toEqual([{ version: 1, description: 'facts' }]);
    expect(() => migrateSqlite(db, 'facts', other, 2, 'bad; DROP TABLE a')).toThrow(/bad version table name/);
    db.close();
  });

  it('rejects a list out of order (a programming error)', () => {
    expect(() => migrateSqlite(new Database(':memory:'), 'test database', [M[1] as Migration, M[0] as Migration], 1)).toThrow(/ascending/);
    expect(schemaVersion([])).toBe(0);
  });
});
