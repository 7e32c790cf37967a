import { existsSync } from 'node:fs';
import { MulletError } from '../core/errors.js';
import type { MarketStore } from '../market/store-port.js';

/**
 * Opens an existing market store for reading. A missing file is an error rather than a new empty
 * store, so a typo in --db never silently reads nothing. The driver loads only when needed.
 */
export async function openExistingStore(file: string): Promise<MarketStore> {
  if (!existsSync(file)) {
    throw new MulletError('NOT_FOUND', `market store ${file} does not exist; import market data first ('mullet data import'), or point --db / MULLET_DB at it`, {
      where: '--db',
    });
  }
  const { openMarketStore } = await import('./sqlite-store.js');
  return openMarketStore(file);
}
