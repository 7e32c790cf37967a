import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.js';
import { mapBounded } from './pool.js';

describe('Prometheus exposition', () => {
  it('renders counters, gauges and histograms in the text format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_failures_total', 'Failures by code.');
    c.inc({ code: 'TIMEOUT' });
    c.inc({ code: 'TIMEOUT' });
    c.inc({ code: 'say "hi"\n' });
    const g = r.gauge('x_power_mw', 'Power.');
    g.set(1.5, { state: 'mining' });
    g.set(Infinity);
    const h = r.histogram('x_latency_seconds', 'Latency.', [0.1, 0.01]);
    h.observe(0.005, { kind: 'sleep' });
    h.observe(0.05, { kind: 'sleep' });
    h.observe(3, { kind: 'sleep' });
    expect(r.render()).toBe(
      [
        '# HELP x_failures_total Failures by code.',
        '# TYPE x_failures_total counter',
        'x_failures_total{code="TIMEOUT"} 2',
        'x_failures_total{code="say \\"hi\\"\\n"} 1',
        '# HELP x_power_mw Power.',
        '# TYPE x_power_mw gauge',
        'x_power_mw{state="mining"} 1.5',
        'x_power_mw +Inf',
        '# HELP x_latency_seconds Latency.',
        '# TYPE x_latency_seconds histogram',
        'x_latency_seconds_bucket{kind="sleep",le="0.01"} 1',
        'x_latency_seconds_bucket{kind="sleep",le="0.1"} 2',
        'x_latency_seconds_bucket{kind="sleep",le="+Inf"} 3',
        'x_latency_seconds_sum{kind="sleep"} 3.055',
        'x_latency_seconds_count{kind="sleep"} 3',
        '',
      ].join('\n'),
    );
    expect(() => r.counter('x_failures_total', 'again')).toThrow(/twice/);
  });
});

describe('mapBounded', () => {
  it('never exceeds the limit, keeps order and captures failures per item', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapBounded(
      Array.from({ length: 50 }, (_, i) => i),
      7,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        if (i % 10 === 3) throw new Error(`bad ${i}`);
        return i * 2;
      },
    );
    expect(peak).toBe(7);
    expect(out[4]).toEqual({ ok: true, value: 8 });
    expect(out[13]?.ok).toBe(false);
    expect(out.filter((o) => !o.ok)).toHaveLength(5);
  });
  it('stops starting calls after an abort', async () => {
    const ac = new AbortController();
    let started = 0;
    const out = await mapBounded(
      Array.from({ length: 10 }, (_, i) => i),
      1,
      async () => {
        started++;
        if (started === 3) ac.abort(new Error('stop'));
        await Promise.resolve();
      },
      ac.signal,
    );
    expect(started).toBe(3);
    expect(out.filter((o) => !o.ok)).toHaveLength(7);
  });
});
