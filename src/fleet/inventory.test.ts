import { describe, expect, it } from 'vitest';
import { parseInventory } from './inventory.js';

const miner = (i: number, over: Record<string, unknown> = {}) => ({
  id: `antminer-stock@127.0.0.${i}`,
  host: `127.0.0.${i}`,
  ports: { api: 4028, http: 80 },
  type: 'antminer-stock',
  model: 'Antminer S19 XP',
  firmware: null,
  capabilities: ['status', 'sleep'],
  hashrateThs: 140,
  powerW: 3010,
  ratedPowerW: 3010,
  ...over,
});
const inv = (miners: unknown[]) => ({ version: 1, scannedAt: '2025-08-01T00:00:00Z', miners });

describe('inventory: what the agent will count and command', () => {
  it('accepts a real fleet', () => {
    expect(parseInventory(inv([miner(1), miner(2)]), 'inv.json').miners).toHaveLength(2);
  });

  it.each([
    [{ ratedPowerW: 1e12 }, /miners\[1\]\.ratedPowerW: must be at most 30000 W/],
    [{ powerW: -5 }, /miners\[1\]\.powerW/],
    [{ hashrateThs: 1e9 }, /miners\[1\]\.hashrateThs: must be at most 5000 TH\/s/],
  ])('rejects an absurd nameplate or reading %j', (over, msg) => {
    expect(() => parseInventory(inv([miner(1), miner(2, over)]), 'inv.json')).toThrow(msg);
  });

  it('rejects one machine listed twice under two ids (same host and port)', () => {
    expect(() => parseInventory(inv([miner(1), miner(1, { id: 'other-name' })]), 'inv.json')).toThrow(/miners\[1\]\.host: 127\.0\.0\.1:4028 is also miners\[0\]/);
  });
});
