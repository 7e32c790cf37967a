/**
 * The grid-services panel of the site page: the mining floor the awards hold now, the awards not yet
 * over, and the latest deployments with their measured response (seconds to 95 % / 100 %, MW
 * delivered, met or missed, penalty USD). From `GET /api/v1/grid/deployments` (signals:read); a server
 * without grid services (404) or a role that may not read them (403) shows nothing.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call } from './api.js';

interface Evidence {
  secondsTo95: number | null;
  secondsToFull: number | null;
  mwDelivered: number | null;
  measuredBy: 'meter' | 'reads' | null;
}
interface DeploymentView {
  id: string;
  product: string;
  mw: number;
  startMs: number;
  deadlineMs: number;
  state: string;
  result: string;
  penaltyUsd: number;
  evidence: Evidence;
}
interface AwardView {
  id: string;
  product: string;
  mw: number;
  fromMs: number;
  toMs: number;
}
interface GridState {
  floorMW: number;
  awards: AwardView[];
  deployments: DeploymentView[];
}

const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
const num = (v: number | null, digits = 1): string => (v === null ? '' : v.toFixed(digits));

function Table(p: { head: string[]; rows: string[][]; testid: string }) {
  return h('table', { 'data-testid': p.testid }, h('thead', null, h('tr', null, p.head.map((x) => h('th', { key: x }, x)))), h('tbody', null, p.rows.map((r, i) => h('tr', { key: i }, r.map((c, j) => h('td', { key: j }, c))))));
}

export function GridPanel(p: { refresh: number }) {
  const [state, setState] = useState<GridState | null | 'absent'>(null);
  const last = useRef(0);
  useEffect(() => {
    const now = Date.now();
    if (state === 'absent' || now - last.current < 2_000) return;
    last.current = now;
    call<GridState>('GET', '/grid/deployments?limit=20').then(setState, (e: unknown) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setState('absent');
    });
  }, [p.refresh]);
  if (state === null || state === 'absent') return null;
  return h(
    'section',
    { class: 'wide', 'data-testid': 'grid' },
    h('h2', null, `Grid services — mining floor held for awards: ${state.floorMW.toFixed(3)} MW`),
    state.awards.length === 0 ? h('p', null, 'no award in force') : h(Table, { testid: 'grid-awards', head: ['award', 'product', 'MW', 'from', 'to'], rows: state.awards.map((a) => [a.id, a.product, a.mw.toFixed(3), utc(a.fromMs), utc(a.toMs)]) }),
    state.deployments.length === 0 ? h('p', null, 'no deployment yet') : h(Table, {
      testid: 'grid-deployments',
      head: ['deployment', 'product', 'MW', 'start', 'deadline', 'state', 'to 95 % (s)', 'to 100 % (s)', 'MW delivered', 'measured by', 'result', 'penalty USD'],
      rows: state.deployments.map((d) => [d.id, d.product, d.mw.toFixed(3), utc(d.startMs), utc(d.deadlineMs), d.state, num(d.evidence.secondsTo95), num(d.evidence.secondsToFull), num(d.evidence.mwDelivered, 3), d.evidence.measuredBy ?? '', d.result, d.penaltyUsd.toFixed(0)]),
    }),
  );
}
