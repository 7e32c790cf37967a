/**
 * mempool.space (or a self-hosted instance): the live hashprice inputs. Two cadences in one feed:
 * - every `everyMs`: the snapshot (tip height, next retarget, price now): three small requests,
 *   kept in memory (the current UTC day is not over, so nothing of it is stored);
 * - every `dailyEveryMs`: `fetchMempool` (the fetcher's seven requests: daily fees, blocks, heights,
 *   difficulty, hashrate and close price of completed UTC days), stored, so
 *   `hashpriceInputsForDate(store, yesterday)` and the network state have live days.
 */
import type { RequestOptions } from '../../net/http-client.js';
import type { MarketStore } from '../store-port.js';
import { fetchMempool, mempoolSnapshot, type MempoolSnapshot } from '../fetchers/mempool-fetch.js';
import { MempoolClient } from '../fetchers/mempool.js';
import type { HttpClient } from '../../net/http-client.js';
import type { LiveFeedsConfig } from './config.js';
import { nextOnGridMs } from './schedule.js';
import type { Freshness, Poller } from './types.js';

const DAY = 86_400_000;

export interface MempoolPoller extends Poller {
  /** The newest snapshot (undefined before the first successful poll). */
  snapshot(): (MempoolSnapshot & { fetchedAtMs: number }) | undefined;
}

export function mempoolPoller(d: { store: Pick<MarketStore, 'btcDays'>; http: HttpClient; config: LiveFeedsConfig }): MempoolPoller {
  const c = d.config.mempool;
  let snap: (MempoolSnapshot & { fetchedAtMs: number }) | undefined;
  let lastDailyMs: number | undefined;

  /** The newest Bitcoin day the store held (30 days back) at the last load. */
  let latestDay: string | undefined;

  return {
    id: 'mempool',
    staleAfterMs: c.staleAfterMs,
    async poll(ctx) {
      const request: RequestOptions = { signal: ctx.signal, timeoutMs: d.config.timeoutMs };
      const client = new MempoolClient({ http: d.http, baseUrl: c.baseUrl, request });
      const daily = lastDailyMs === undefined || ctx.nowMs - lastDailyMs >= c.dailyEveryMs;
      if (daily) {
        const res = await fetchMempool(client, { interval: c.interval, nowMs: ctx.nowMs });
        const s = { ...res.snapshot, fetchedAtMs: ctx.nowMs };
        return {
          batches: [{ label: `mempool ${client.baseUrl} ${c.interval}`, batch: res.batch }],
          note: `daily series (${res.batch.btcDays.length} days) and snapshot: tip ${s.tipHeight}, ${s.priceUsd} USD/BTC`,
          onStored: () => {
            snap = s;
            lastDailyMs = ctx.nowMs;
          },
        };
      }
      // Politely one after another (a public instance), the same order as the fetcher's first three.
      const tipHeight = await client.tipHeight();
      const da = await client.difficultyAdjustment();
      const now = await client.prices();
      const s: MempoolSnapshot & { fetchedAtMs: number } = { ...mempoolSnapshot(tipHeight, da, now), fetchedAtMs: ctx.nowMs };
      return {
        batches: [],
        note: `snapshot: tip ${s.tipHeight}, ${s.priceUsd} USD/BTC`,
        onStored: () => {
          snap = s;
        },
      };
    },
    async load(nowMs) {
      const to = new Date(nowMs).toISOString().slice(0, 10);
      const from = new Date(nowMs - 30 * DAY).toISOString().slice(0, 10);
      latestDay = (await d.store.btcDays(from, to)).at(-1)?.dateUtc;
    },
    freshness(): Freshness {
      const day = latestDay;
      const held = day === undefined ? {} : { latestIntervalStartMs: Date.parse(`${day}T00:00:00Z`), latestIntervalMinutes: 24 * 60 };
      if (!snap) return held;
      // The price's own timestamp can be far behind when the instance's price updater is stuck.
      const dataTimeMs = Math.min(snap.priceTimeMs, snap.fetchedAtMs);
      return { ...held, dataTimeMs, staleAtMs: dataTimeMs + c.staleAfterMs };
    },
    nextPollMs(nowMs) {
      return nextOnGridMs(nowMs, c.everyMs);
    },
    snapshot: () => snap,
  };
}
