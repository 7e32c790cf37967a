import type { OptionSpec } from './command.js';

/**
 * The standard `--db` option: the market store, from MULLET_DB or ./mullet.db. A file is the
 * embedded SQLite store; a `postgres://` URL (optionally `?schema=NAME`) the shared PostgreSQL one.
 */
export const DB_OPTION: OptionSpec = {
  type: 'string',
  value: 'FILE|URL',
  description: 'market store: a SQLite file, or a postgres:// URL',
  env: 'MULLET_DB',
  default: './mullet.db',
};

export { openExistingStore, openStoreAt } from '../store/open-existing.js';
export { redactUrl, resolveStoreLocation } from '../store/location.js';
