/**
 * Where a market store lives, as one config value (`--db`, MULLET_DB, a config's `store`): a
 * SQLite file path (the embedded default), `:memory:`, or a `postgres://` / `postgresql://` URL
 * for the PostgreSQL store shared by many processes. `?schema=NAME` in the URL picks a schema
 * (default: the server's search_path, normally `public`).
 */
import path from 'node:path';

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A file path relative to `cwd` made absolute; a URL or `:memory:` as given. */
export function resolveStoreLocation(cwd: string, location: string): string {
  return location === ':memory:' || isPostgresUrl(location) ? location : path.resolve(cwd, location);
}

/** The location without a password, for messages, reports and JSON output. */
export function redactUrl(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const u = new URL(location);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return location.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Splits `?schema=NAME` off a PostgreSQL URL (pg would pass unknown parameters to the server). */
export function parsePgLocation(url: string): { connectionString: string; schema?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { connectionString: url };
  }
  const schema = u.searchParams.get('schema');
  if (schema === null) return { connectionString: url };
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}
