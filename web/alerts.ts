/**
 * The alerts panel of the site page: alerts that are active now (by severity, red for critical),
 * then the recent history with how each was delivered (webhook, e-mail) or why not (maintenance
 * window). From `GET /api/v1/alerts` (viewers may read); a server without alert rules (404) shows
 * the agent's own recent alerts from its status instead. Below, the rules in force; an admin (from a
 * session) edits them as JSON and saves (PUT /api/v1/alert-rules, validated and audited server-side).
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, type Me } from './api.js';

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
  deliveries: { event: 'fired' | 'resolved'; channel: string; ok: boolean; at: string; error: string | null }[];
}

const when = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
const delivered = (a: AlertView): string =>
  a.suppressed ? 'suppressed (maintenance window)' : a.deliveries.length === 0 ? 'no channel' : a.deliveries.map((d) => `${d.event}: ${d.channel} ${d.ok ? 'ok' : `failed${d.error ? ` (${d.error})` : ''}`}`).join('; ');

export function AlertsPanel(p: { me: Me; refresh: number; agentAlerts: { kind: string; detail: string; at: string }[] }) {
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
    h(RulesView, { me: p.me }),
  );
}

interface RulesDoc {
  rules: ({ id: string; kind: string; severity?: string; enabled: boolean; forS: number; maintenance: unknown[] } & Record<string, unknown>)[];
  source: 'config' | 'console';
  updatedAt: string | null;
  updatedBy: string | null;
}

const COMMON = new Set(['id', 'kind', 'severity', 'enabled', 'forS', 'maintenance']);
const thresholds = (r: RulesDoc['rules'][number]): string =>
  [
    ...Object.entries(r)
      .filter(([k]) => !COMMON.has(k))
      .map(([k, v]) => `${k} ${String(v)}`),
    ...(r.forS > 0 ? [`for ${r.forS} s`] : []),
  ].join(', ');

/** The rules in force; admins (session, `config:write`) edit them as JSON. */
function RulesView(p: { me: Me }) {
  const [doc, setDoc] = useState<RulesDoc | null>(null);
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => void call<RulesDoc>('GET', '/alert-rules').then(setDoc, (e: unknown) => setError(String(e)));
  useEffect(load, []);
  const canEdit = p.me.kind === 'user' && p.me.permissions.includes('config:write');
  const save = async () => {
    setError(null);
    let rules: unknown;
    try {
      rules = JSON.parse(draft ?? '[]');
    } catch {
      return setError('not valid JSON');
    }
    try {
      setDoc(await call<RulesDoc>('PUT', '/alert-rules', { rules }));
      setDraft(null);
    } catch (e) {
      setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
    }
  };
  if (!doc) return error ? h('p', { class: 'error' }, error) : null;
  return h(
    'details',
    { 'data-testid': 'alert-rules' },
    h('summary', null, `Rules (${doc.rules.length}, ${doc.source === 'console' ? `set by ${doc.updatedBy ?? '?'} at ${doc.updatedAt ? when(doc.updatedAt) : '?'}` : 'from the config'})`),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['rule', 'kind', 'severity', 'thresholds', 'maintenance windows (UTC)', 'enabled'].map((x) => h('th', { key: x }, x)))),
      h(
        'tbody',
        null,
        doc.rules.map((r, i) => h('tr', { key: i }, [r.id, r.kind, r.severity ?? 'default', thresholds(r), r.maintenance.map((m) => JSON.stringify(m)).join(' '), r.enabled ? 'yes' : 'no'].map((c, j) => h('td', { key: j }, c)))),
      ),
    ),
    canEdit && draft === null ? h('button', { onClick: () => setDraft(JSON.stringify(doc.rules, null, 2)) }, 'Edit rules…') : null,
    draft !== null
      ? h(
          'div',
          { class: 'confirm' },
          h('textarea', { name: 'alert-rules', rows: 14, cols: 90, value: draft, onInput: (e: Event) => setDraft((e.target as HTMLTextAreaElement).value) }),
          h('div', null, h('button', { class: 'danger', onClick: () => void save() }, 'Save rules'), ' ', h('button', { onClick: () => (setDraft(null), setError(null)) }, 'Cancel')),
        )
      : null,
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
  );
}
