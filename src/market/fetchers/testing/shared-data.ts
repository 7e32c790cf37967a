import { SKIP_REASON, skipWithoutSharedData } from '../../../testing/data.js';

/** A test title that states the skip reason only when the shared data is absent. */
export function withData(title: string): string {
  return skipWithoutSharedData ? `${title} — skipped: ${SKIP_REASON}` : title;
}
