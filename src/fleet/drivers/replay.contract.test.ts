import { describe, expect, it } from 'vitest';
import { SKIP_REASON, skipWithoutSharedData } from '../../testing/data.js';
import { runDriverContract } from './driver.contract.js';
import { defaultDriverRegistry } from './index.js';
import { replaySets, replayTarget } from './testing/replay-targets.js';

// Every driver type passes the same contract against the real recorded replies.
if (skipWithoutSharedData) {
  describe.skip(`driver contract against recorded replies (${SKIP_REASON})`, () => {
    it('needs the shared samples', () => undefined);
  });
} else {
  const sets = replaySets();
  for (const set of sets) runDriverContract(set.type, () => replayTarget(set), { label: set.label });

  describe('replay coverage', () => {
    it('every registered driver type has at least one recorded replay target', () => {
      const covered = new Set(sets.map((s) => s.type));
      expect(defaultDriverRegistry().types().filter((t) => !covered.has(t))).toEqual([]);
    });
  });
}
