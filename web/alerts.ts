/**
 * The alerts panel of the site page: alerts that are active now (by severity, red for critical),
 * then the recent history with how each was delivered (webhook, e-mail) or why not (maintenance
 * window). From `GET /api/v1/alerts` (viewers may read); a server without alert rules (404) shows
 * the agent's own recent alerts from its status instead.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call } from './api.js';

export interface AlertView {
  id: number;
  ruleId: string;
  kind: string;
  key: string;
  severity: 'info' | 'warning' | 'critical';
  state: 'active' | 'resolved';
  detail: string;
  firedAt: string;
  resolvedAt: string | null;
  suppressed: boolean;
  deliveries: { channel: string; ok: boolean; at: string; error: string | null }[];
}

const when = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
const delivered = (a: AlertView): string =>
  a.suppressed ? 'suppressed (maintenance window)' : a.deliveries.length === 0 ? 'no channel' : a.deliveries.map((d) => `${d.channel} ${d.ok ? 'ok' : `failed${d.error ? `: ${d.error}` : ''}`}`).join(', ');

export function AlertsPanel(p: { refresh: number; agentAlerts: { kind: string; detail: string; at: string }[] }) {
  const [alerts, setAlerts] = useState<AlertView[] | null | 'absent'>(null);
  const last = useRef(0);
  useEffect(() => {
    const now = Date.now();
    if (alerts === 'absent' || now - last.current < 2_000) return;
    last.current = now;
    call<{ alerts: AlertView[] }>('GET', '/alerts?limit=50').then(
      (r) => setAlerts(r.alerts),
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setAlerts('absent');
      },
    );
  }, [p.refresh]);
  const row = (cells: string[], key: number, cls = '') => h('tr', { key, class: cls }, cells.map((c, j) => h('td', { key: j }, c)));
  if (alerts === 'absent' || alerts === null) {
    return h(
      'section',
      { class: 'wide', 'data-testid': 'alerts' },
      h('h2', null, 'Alerts (agent)'),
      h('table', null, h('thead', null, h('tr', null, ['at', 'kind', 'detail'].map((x) => h('th', { key: x }, x)))), h('tbody', null, p.agentAlerts.slice(-10).reverse().map((a, i) => row([a.at, a.kind, a.detail], i)))),
    );
  }
  const active = alerts.filter((a) => a.state === 'active');
  return h(
    'section',
    { class: 'wide', 'data-testid': 'alerts' },
    h('h2', null, `Alerts — ${active.length} active`),
    active.length > 0
      ? h(
          'ul',
          { class: 'active-alerts', 'data-testid': 'active-alerts' },
          active.map((a) => h('li', { key: a.id, class: `alert ${a.severity}` }, h('strong', null, `${a.severity.toUpperCase()} ${a.ruleId}`), ` since ${when(a.firedAt)}: ${a.detail}`, a.suppressed ? ' (maintenance: not delivered)' : '')),
        )
      : h('p', null, 'no active alert'),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['fired', 'resolved', 'severity', 'rule', 'detail', 'delivery'].map((x) => h('th', { key: x }, x)))),
      h('tbody', null, alerts.map((a) => row([when(a.firedAt), a.resolvedAt ? when(a.resolvedAt) : 'active', a.severity, a.ruleId, a.detail, delivered(a)], a.id, a.state === 'active' ? `alert ${a.severity}` : ''))),
    ),
  );
}
