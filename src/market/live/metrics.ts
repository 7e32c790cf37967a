/**
 * Feed metrics for the ops command's Prometheus endpoint. Takes any registry with the shape of
 * fleet/agent/metrics.ts's MetricsRegistry (structural, so market/ does not import fleet/):
 *
 *   mullet_feed_stale{feed}                           1 while the feed's data is stale
 *   mullet_feed_up{feed}                              1 unless the feed is stopped (needs a human)
 *   mullet_feed_consecutive_failures{feed}            failures since the last success
 *   mullet_feed_data_age_seconds{feed}                now − the instant the newest data describes
 *   mullet_feed_last_success_timestamp_seconds{feed}  unix seconds of the last good poll
 *   mullet_feed_polls_total{feed,result}              polls by result (ok, waiting, failed) and
 *   mullet_feed_errors_total{feed,code}               failures by error code
 */
import type { LiveFeeds } from './feeds.js';
import type { FeedStatus } from './types.js';

type Labels = Readonly<Record<string, string>>;
export interface GaugeLike {
  set(value: number, labels?: Labels): void;
}
export interface CounterLike {
  inc(labels?: Labels, by?: number): void;
}
export interface RegistryLike {
  gauge(name: string, help: string): GaugeLike;
  counter(name: string, help: string): CounterLike;
}

/** Registers the feed metrics and keeps them current from the feeds' events; returns `update` for a scrape. */
export function attachFeedMetrics(feeds: Pick<LiveFeeds, 'status' | 'onStatusChange'>, registry: RegistryLike, clock: { nowMs(): number }): { update(): void } {
  const stale = registry.gauge('mullet_feed_stale', '1 while the live feed data is stale (the agent is in safe mode for it).');
  const up = registry.gauge('mullet_feed_up', '1 unless the live feed stopped on a failure only a human can fix.');
  const failures = registry.gauge('mullet_feed_consecutive_failures', 'Consecutive failed polls of the live feed.');
  const age = registry.gauge('mullet_feed_data_age_seconds', 'Age of the newest data the live feed holds (interval end, posting or price time), seconds.');
  const lastOk = registry.gauge('mullet_feed_last_success_timestamp_seconds', 'Unix time of the last successful poll, seconds.');
  const polls = registry.counter('mullet_feed_polls_total', 'Polls of the live feed by result (ok, waiting, failed).');
  const errors = registry.counter('mullet_feed_errors_total', 'Failed polls of the live feed by error code.');

  const set = (s: FeedStatus, nowMs: number) => {
    const l = { feed: s.feed };
    stale.set(s.stale ? 1 : 0, l);
    up.set(s.state === 'stopped' ? 0 : 1, l);
    failures.set(s.consecutiveFailures, l);
    if (s.dataTimeMs !== undefined) age.set(Math.max(0, (nowMs - s.dataTimeMs) / 1000), l);
    if (s.lastSuccessAtMs !== undefined) lastOk.set(s.lastSuccessAtMs / 1000, l);
  };
  feeds.onStatusChange((e) => {
    if (e.type === 'polled') polls.inc({ feed: e.feed, result: e.status.state === 'waiting' ? 'waiting' : 'ok' });
    if (e.type === 'failed') {
      polls.inc({ feed: e.feed, result: 'failed' });
      errors.inc({ feed: e.feed, code: e.status.lastError?.code ?? 'UNKNOWN' });
    }
    set(e.status, e.atMs);
  });
  const update = () => {
    const t = clock.nowMs();
    for (const s of feeds.status()) set(s, t);
  };
  update();
  return { update };
}
