import type { OptionSpec } from './command.js';

/** The standard `--db` option: the market store file, from MULLET_DB or ./mullet.db. */
export const DB_OPTION: OptionSpec = {
  type: 'string',
  value: 'FILE',
  description: 'market store (SQLite)',
  env: 'MULLET_DB',
  default: './mullet.db',
};

export { openExistingStore } from '../store/open-existing.js';
