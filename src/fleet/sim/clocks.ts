import { systemClock, type Clock } from '../../core/time.js';
import type { SimClocks } from './miner.js';

/**
 * The simulator's clocks from the wall clock: sim time starts at `simEpochMs` when the wall read
 * `wallEpochMs` and runs `timeScale` times faster. Every process computes the same sim time.
 */
export function scaledClocks(simEpochMs: number, wallEpochMs: number, timeScale: number, wall: Clock = systemClock): SimClocks {
  return {
    wall,
    sim: { nowMs: () => simEpochMs + (wall.nowMs() - wallEpochMs) * timeScale },
  };
}
