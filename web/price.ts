/**
 * The money side of the site page: RT and DA prices against each fleet's break-even (from
 * `GET /api/v1/ops/market`, served by `mullet ops`), and what the site earned today by stream
 * (`GET /api/v1/ops/ledger`). Under `mullet serve` (no ops loop: 404) the chart draws the agent's
 * own price in force when it has a price feed, else says there is no market feed.
 * Times on the axis are UTC, and say so.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Chart } from 'chart.js';
import { ApiError, call, type Status } from './api.js';

export interface OpsMarket {
  now: string;
  intervalMinutes: number;
  settlementPoint: string;
  points: { start: string; rtUsdPerMWh: number | null; daUsdPerMWh: number | null; breakEvenUsdPerMWh: (number | null)[]; fourCpAlert: boolean }[];
  fleets: { name: string; strikeUsdPerMWh: number | null }[];
  latestRt: { start: string; usdPerMWh: number } | null;
  fourCpAlertNow: boolean;
}

interface Totals {
  netUsd: number;
  revenueUsd: Record<string, number>;
  costUsd: Record<string, number>;
}
export interface LedgerSummary {
  settledIntervals: number;
  periods: { period: 'today' | 'month' | 'run'; from: string | null; to: string | null; intervals: number; totals: Totals | null }[];
  usdPerHourByStream: Record<string, number>;
}

/** 'MM-DD HH:MM' of an ISO instant, in UTC (the axis title says so). */
export const utcLabel = (iso: string): string => `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
const usd = (v: number): string => `${v < 0 ? '−' : ''}${Math.abs(v).toLocaleString('en-US', { maximumFractionDigits: 0 })} USD`;
const COLORS = ['#2e7d32', '#6a1b9a', '#00838f', '#ad1457', '#558b2f'];

/** Polls an ops route; `null` while unknown, 'absent' when this server runs no ops loop (404). */
function useOps<T>(path: string, refresh: number, everyMs: number): T | null | 'absent' {
  const [v, setV] = useState<T | null | 'absent'>(null);
  const last = useRef(0);
  useEffect(() => {
    const now = Date.now();
    if (v === 'absent' || now - last.current < everyMs) return;
    last.current = now;
    call<T>('GET', path).then(setV, (e: unknown) => {
      if (e instanceof ApiError && e.status === 404) setV('absent');
    });
  }, [refresh]);
  return v;
}

function PriceChart(p: { labels: string[]; series: { label: string; data: (number | null)[]; color: string; dash?: number[] }[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: { x: { title: { display: true, text: 'interval start (UTC)' }, ticks: { maxTicksLimit: 12 } }, y: { title: { display: true, text: 'USD/MWh' } } },
      },
    });
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = p.labels;
    c.data.datasets = p.series.map((s) => ({ label: s.label, data: s.data, borderColor: s.color, backgroundColor: s.color, pointRadius: 0, borderWidth: 2, spanGaps: false, stepped: 'before' as const, ...(s.dash ? { borderDash: s.dash } : {}) }));
    c.update();
  }, [p.labels, p.series]);
  return h('div', { style: { height: '280px' } }, h('canvas', { ref: canvas, 'aria-label': 'RT and DA price against each fleet’s break-even' }));
}

/** Price vs break-even; `refresh` changes on every live tick (polled at most every 15 s). */
export function PricePanel(p: { status: Status | null; refresh: number }) {
  const m = useOps<OpsMarket>('/ops/market', p.refresh, 15_000);
  const [own, setOwn] = useState<{ start: string; usd: number }[]>([]);
  const price = p.status?.price ?? null;
  useEffect(() => {
    if (!price || price.intervalStart === null) return;
    const start = price.intervalStart;
    setOwn((prev) => (prev.some((x) => x.start === start) ? prev : [...prev, { start, usd: price.usdPerMWh }].slice(-288)));
  }, [price?.intervalStart, price?.usdPerMWh]);
  let body;
  if (m !== null && m !== 'absent') {
    const series = [
      { label: `RT ${m.settlementPoint}`, data: m.points.map((x) => x.rtUsdPerMWh), color: '#c62828' },
      { label: 'DA', data: m.points.map((x) => x.daUsdPerMWh), color: '#1e88e5', dash: [6, 4] },
      ...m.fleets.map((f, i) => ({ label: `${f.name} break-even`, data: m.points.map((x) => x.breakEvenUsdPerMWh[i] ?? null), color: COLORS[i % COLORS.length] as string, dash: [2, 2] })),
    ];
    body = [
      h(PriceChart, { labels: m.points.map((x) => utcLabel(x.start)), series }),
      h('p', { 'data-testid': 'price-now' }, m.latestRt ? `RT ${m.latestRt.usdPerMWh.toFixed(2)} USD/MWh for ${utcLabel(m.latestRt.start)} UTC` : 'no RT price published yet', m.fourCpAlertNow ? h('strong', { class: 'error' }, ' · 4CP alert day') : null),
    ];
  } else if (own.length > 0) {
    const strikes = Object.entries(p.status?.fleetStrikesUsdPerMWh ?? {});
    body = h(PriceChart, { labels: own.map((x) => utcLabel(x.start)), series: [{ label: `price (${price?.source ?? 'feed'})`, data: own.map((x) => x.usd), color: '#c62828' }, ...strikes.map(([name, v], i) => ({ label: `${name} strike`, data: own.map(() => v), color: COLORS[i % COLORS.length] as string, dash: [2, 2] }))] });
  } else {
    body = h('p', { 'data-testid': 'price-now' }, m === 'absent' ? 'no market feed: the agent runs without prices (mullet ops draws RT / DA against break-even here)' : 'waiting for prices…');
  }
  return h('section', { class: 'wide' }, h('h2', null, 'Price against break-even (USD/MWh)'), body);
}

const STREAM_NAMES: Record<string, string> = { ai: 'AI leases', mining: 'mining', powerResale: 'power resale', aiFlex: 'AI flexible', aiPassThrough: 'AI pass-through', energy: 'energy', ppa: 'PPA', transmission: 'transmission (4CP)' };

/** What the site earned today (CPT day) and this month by stream, from the live ledger. */
export function EarnedPanel(p: { refresh: number }) {
  const l = useOps<LedgerSummary>('/ops/ledger', p.refresh, 10_000);
  if (l === 'absent') return null;
  const today = l?.periods.find((x) => x.period === 'today')?.totals ?? null;
  const month = l?.periods.find((x) => x.period === 'month')?.totals ?? null;
  const rows: string[][] = [];
  for (const [k, v] of Object.entries(today?.revenueUsd ?? {})) if (v !== 0 || (month?.revenueUsd[k] ?? 0) !== 0) rows.push([STREAM_NAMES[k] ?? k, usd(v), usd(month?.revenueUsd[k] ?? 0)]);
  for (const [k, v] of Object.entries(today?.costUsd ?? {})) if (v !== 0 || (month?.costUsd[k] ?? 0) !== 0) rows.push([`${STREAM_NAMES[k] ?? k} (cost)`, usd(-v), usd(-(month?.costUsd[k] ?? 0))]);
  return h(
    'section',
    { 'data-testid': 'earned' },
    h('h2', null, 'Earned today by stream'),
    today === null
      ? h('p', null, l === null ? 'loading…' : 'nothing settled today yet')
      : h(
          'table',
          null,
          h('thead', null, h('tr', null, h('th', null, 'stream'), h('th', null, 'today'), h('th', null, 'month'))),
          h('tbody', null, [...rows, ['net', usd(today.netUsd), usd(month?.netUsd ?? 0)]].map((r, i) => h('tr', { key: i, class: i === rows.length ? 'total' : '' }, r.map((c, j) => h('td', { key: j }, c))))),
        ),
  );
}
