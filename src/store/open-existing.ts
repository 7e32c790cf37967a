import { existsSync } from 'node:fs';
import { MulletError } from '../core/errors.js';
import type { MarketStore } from '../market/store-port.js';
import { isPostgresUrl, parsePgLocation } from './location.js';

/**
 * Opens the market store at `location` for writing, creating and migrating it if needed: a
 * PostgreSQL store for a `postgres://` URL, else the SQLite file (or `:memory:`). Switching stores
 * is this one value. Each driver loads only when it is used.
 */
export async function openStoreAt(location: string): Promise<MarketStore> {
  if (isPostgresUrl(location)) {
    const { openPgMarketStore } = await import('./pg-store.js');
    return openPgMarketStore(parsePgLocation(location));
  }
  const { openMarketStore } = await import('./sqlite-store.js');
  return openMarketStore(location);
}

/**
 * Opens an existing market store for reading. A missing file (or a PostgreSQL schema without the
 * market tables) is an error rather than a new empty store, so a typo in --db never silently reads
 * nothing. The driver loads only when needed.
 */
export async function openExistingStore(location: string): Promise<MarketStore> {
  if (isPostgresUrl(location)) {
    const { openPgMarketStore } = await import('./pg-store.js');
    return openPgMarketStore({ ...parsePgLocation(location), mustExist: true });
  }
  if (!existsSync(location)) {
    throw new MulletError('NOT_FOUND', `market store ${location} does not exist; import market data first ('mullet data import'), or point --db / MULLET_DB at it`, {
      where: '--db',
    });
  }
  const { openMarketStore } = await import('./sqlite-store.js');
  return openMarketStore(location);
}
