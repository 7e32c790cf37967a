import { readFileSync } from 'node:fs';
import { sharedFile } from '../../../testing/data.js';

/**
 * Test-only access to the recorded mempool.space responses in
 * ../shared/data/samples/mempool_api_docs/ (the examples from mempool's own API docs; read from
 * there at test time, never copied into the repo). Several are not what the live API sends
 * byte-for-byte; each is turned into the JSON the API returns, as listed per file:
 *
 * - get-difficulty-adjustment: JS-object syntax (bare keys) → keys quoted.
 * - get-price: JS-object syntax (bare keys) → keys quoted.
 * - get-historical-price: top-level keys `prices`/`exchangeRates` bare (inner ones quoted) → quoted.
 * - get-block-fees: a JSON array truncated with a trailing `...` element → that element removed
 *   (the six recorded points stay as they are).
 * - get-block-rewards: same truncation → removed (five points stay).
 * - get-hashrate, get-difficulty-adjustments: strict JSON, served unchanged.
 * - get-block-tip-height: a plain-text integer (the live endpoint is text/plain), served unchanged.
 */
export type MempoolSampleName =
  | 'get-difficulty-adjustment'
  | 'get-price'
  | 'get-historical-price'
  | 'get-block-tip-height'
  | 'get-hashrate'
  | 'get-difficulty-adjustments'
  | 'get-block-fees'
  | 'get-block-rewards';

type Fix = 'quote-keys' | 'drop-ellipsis' | 'none';

export const MEMPOOL_SAMPLES: Record<MempoolSampleName, { pathPrefix: string; fix: Fix }> = {
  'get-difficulty-adjustment': { pathPrefix: '/api/v1/difficulty-adjustment', fix: 'quote-keys' },
  'get-price': { pathPrefix: '/api/v1/prices', fix: 'quote-keys' },
  'get-historical-price': { pathPrefix: '/api/v1/historical-price', fix: 'quote-keys' },
  'get-block-tip-height': { pathPrefix: '/api/blocks/tip/height', fix: 'none' },
  'get-hashrate': { pathPrefix: '/api/v1/mining/hashrate/', fix: 'none' },
  'get-difficulty-adjustments': { pathPrefix: '/api/v1/mining/difficulty-adjustments/', fix: 'none' },
  'get-block-fees': { pathPrefix: '/api/v1/mining/blocks/fees/', fix: 'drop-ellipsis' },
  'get-block-rewards': { pathPrefix: '/api/v1/mining/blocks/rewards/', fix: 'drop-ellipsis' },
};

/** `{ progressPercent: 1 }` → `{ "progressPercent": 1 }` (keys after `{` or `,` only). */
export function quoteBareKeys(text: string): string {
  return text.replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":');
}

/** `[ {...}, ... ]` → `[ {...} ]`: drops the docs' truncation marker. */
export function dropEllipsis(text: string): string {
  return text.replace(/,\s*\.\.\.\s*(?=\])/g, '');
}

/** Raw recorded text, exactly as stored in the shared data. */
export function rawMempoolSample(name: MempoolSampleName): string {
  return readFileSync(sharedFile('samples', 'mempool_api_docs', `${name}.mainnet_response.txt`), 'utf8');
}

/** The recorded response as the live API would send it (see the per-file list above). */
export function mempoolSample(name: MempoolSampleName): string {
  const raw = rawMempoolSample(name);
  switch (MEMPOOL_SAMPLES[name].fix) {
    case 'quote-keys':
      return quoteBareKeys(raw);
    case 'drop-ellipsis':
      return dropEllipsis(raw);
    case 'none':
      return raw;
  }
}

/** The sample whose endpoint serves `pathAndQuery`, if any. */
export function sampleForPath(pathAndQuery: string): MempoolSampleName | undefined {
  const names = Object.keys(MEMPOOL_SAMPLES) as MempoolSampleName[];
  return names.find((n) => pathAndQuery.startsWith(MEMPOOL_SAMPLES[n].pathPrefix));
}
