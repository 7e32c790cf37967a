/**
 * The grid services panel of the site page: the award floor now, the awards in force and the latest
 * deployments with their measured response (time to 100 %, MW delivered, met or missed, penalty) —
 * what the QSE's evidence holds. From `GET /api/v1/grid/deployments` (`signals:read`); hidden when
 * the server has no grid routes (404) or the caller may not read them (403).
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call } from './api.js';

interface GridView {
  floorMW: number;
  awards: { id: string; product: string; mw: number; fromMs: number; toMs: number; source: string }[];
  deployments: {
    id: string;
    product: string;
    mw: number;
    state: string;
    result: string;
    evidence: { signalAt: string; deadlineAt: string; secondsToFull: number | null; mwDelivered: number | null; measuredBy: string | null; penaltyUsd: number };
  }[];
}

const utc = (ms: number | string): string => {
  const iso = typeof ms === 'number' ? new Date(ms).toISOString() : ms;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
};

export function GridPanel(p: { refresh: number }) {
  const [grid, setGrid] = useState<GridView | null | 'absent'>(null);
  const last = useRef(0);
  useEffect(() => {
    const now = Date.now();
    if (grid === 'absent' || now - last.current < 2_000) return;
    last.current = now;
    call<GridView>('GET', '/grid/deployments?limit=20').then(setGrid, (e: unknown) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setGrid('absent');
    });
  }, [p.refresh]);
  if (grid === 'absent' || grid === null) return null;
  const table = (head: string[], rows: string[][], cls: (i: number) => string = () => '') =>
    h('table', null, h('thead', null, h('tr', null, head.map((x) => h('th', { key: x }, x)))), h('tbody', null, rows.map((r, i) => h('tr', { key: i, class: cls(i) }, r.map((c, j) => h('td', { key: j }, c))))));
  const missed = grid.deployments.filter((d) => d.result === 'missed');
  return h(
    'section',
    { class: 'wide', 'data-testid': 'grid' },
    h('h2', null, `Grid services — mining floor ${grid.floorMW.toFixed(3)} MW${missed.length > 0 ? `, ${missed.length} missed` : ''}`),
    grid.awards.length > 0 ? table(['award', 'product', 'MW', 'from', 'to', 'source'], grid.awards.map((a) => [a.id, a.product, a.mw.toFixed(3), utc(a.fromMs), utc(a.toMs), a.source])) : h('p', null, 'no award in force'),
    grid.deployments.length > 0
      ? table(
          ['deployment', 'product', 'MW', 'signal', 'deadline', 's to 100 %', 'MW delivered', 'state', 'result', 'penalty USD'],
          grid.deployments.map((d) => [
            d.id,
            d.product,
            d.mw.toFixed(3),
            utc(d.evidence.signalAt),
            utc(d.evidence.deadlineAt),
            d.evidence.secondsToFull === null ? '' : d.evidence.secondsToFull.toFixed(1),
            d.evidence.mwDelivered === null ? '' : `${d.evidence.mwDelivered.toFixed(3)} (${d.evidence.measuredBy ?? ''})`,
            d.state,
            d.result,
            d.evidence.penaltyUsd > 0 ? d.evidence.penaltyUsd.toFixed(2) : '',
          ]),
          (i) => (grid.deployments[i]?.result === 'missed' ? 'missed' : ''),
        )
      : h('p', null, 'no deployment yet'),
  );
}
