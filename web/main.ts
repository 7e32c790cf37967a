/**
 * The operator console in the browser (Preact, chart.js; bundled by Vite, served by our server,
 * nothing from a CDN). Pages: login, the live site (SSE: a status snapshot, then events), audit.
 * A users & keys page (users for admins; everyone's own API keys, shown once at creation).
 * Operators get curtail / restore with a confirmation step and see the audit entry afterwards;
 * viewers get no action buttons (and the API refuses them anyway).
 */
import { h, render, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { ApiError, call, type AuditEntry, type Me, type SignalTiming, type Status } from './api.js';
import { EarnedPanel, PricePanel } from './price.js';
import { AlertsPanel } from './alerts.js';
import { GridPanel } from './grid.js';
import { EXTRA_PAGES, extraPageOf } from './pages/index.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Filler, Legend, Tooltip);

const MAX_POINTS = 120;
const fmtMW = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${v.toFixed(3)} MW`);

function Login(p: { onDone: (me: Me) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await call<{ me: Me }>('POST', '/login', { name, password });
      p.onDone(r.me);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return h(
    'form',
    { class: 'login', onSubmit: (e: Event) => void submit(e) },
    h('h1', null, 'Mullet console'),
    h('input', { name: 'name', placeholder: 'user name', autocomplete: 'username', value: name, onInput: (e: Event) => setName((e.target as HTMLInputElement).value) }),
    h('input', { name: 'password', type: 'password', placeholder: 'password', autocomplete: 'current-password', value: password, onInput: (e: Event) => setPassword((e.target as HTMLInputElement).value) }),
    h('button', { type: 'submit' }, 'Log in'),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
  );
}

interface Point {
  label: string;
  aiMW: number;
  flexAiMW: number;
  otherMW: number;
  miningMW: number;
  headroomMW: number;
  limitMW: number;
}

function PowerChart(p: { points: Point[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false }, scales: { x: { title: { display: true, text: 'time (UTC)' } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'MW' } } } },
    });
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const ds = (label: string, data: number[], color: string, fill: boolean | string, stack: string) => ({ label, data, borderColor: color, backgroundColor: `${color}88`, fill, pointRadius: 0, stack, borderWidth: fill ? 1 : 2 });
    c.data.labels = p.points.map((x) => x.label);
    c.data.datasets = [
      ds('firm AI', p.points.map((x) => x.aiMW), '#5e35b1', 'origin', 'load'),
      ds('flexible AI', p.points.map((x) => x.flexAiMW), '#1e88e5', '-1', 'load'),
      ds('other load', p.points.map((x) => x.otherMW), '#8d6e63', '-1', 'load'),
      ds('mining', p.points.map((x) => x.miningMW), '#f57c00', '-1', 'load'),
      ds('headroom', p.points.map((x) => x.headroomMW), '#9e9e9e', '-1', 'load'),
      ds('import limit', p.points.map((x) => x.limitMW), '#c62828', false, 'limit'),
    ];
    c.update();
  }, [p.points]);
  return h('div', { style: { height: '320px' } }, h('canvas', { ref: canvas, 'aria-label': 'stacked site power against the import limit' }));
}

function Actions(p: { site: string; onAudit: (e: AuditEntry | null, s: SignalTiming) => void }) {
  const [mode, setMode] = useState<'mw' | 'pct' | 'all'>('mw');
  const [value, setValue] = useState('0.1');
  const [pending, setPending] = useState<null | { kind: 'curtail' | 'restore'; text: string; body: Record<string, unknown> }>(null);
  const [error, setError] = useState<string | null>(null);
  const ask = (kind: 'curtail' | 'restore') => {
    setError(null);
    if (kind === 'restore') return setPending({ kind, text: `Restore mining at site ${p.site}?`, body: {} });
    const v = Number(value);
    if (mode !== 'all' && !(v > 0)) return setError('enter a positive number');
    const body = mode === 'all' ? { all: true } : { [mode]: v };
    setPending({ kind, text: mode === 'all' ? `Curtail ALL mining at site ${p.site}?` : `Curtail ${v} ${mode === 'mw' ? 'MW' : '%'} of mining at site ${p.site}?`, body });
  };
  const confirm = async () => {
    if (!pending) return;
    const id = `console-${Date.now().toString(36)}`;
    try {
      const r = await call<{ signal: SignalTiming }>('POST', `/${pending.kind}`, { ...pending.body, id });
      setPending(null);
      const a = await call<{ entries: AuditEntry[] }>('GET', `/audit?correlationId=${encodeURIComponent(r.signal.id)}&limit=1`).catch(() => ({ entries: [] }));
      p.onAudit(a.entries[0] ?? null, r.signal);
    } catch (err) {
      setPending(null);
      setError(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err));
    }
  };
  return h(
    'section',
    null,
    h('h2', null, 'Actions'),
    h(
      'div',
      null,
      h('select', { name: 'mode', value: mode, onChange: (e: Event) => setMode((e.target as HTMLSelectElement).value as 'mw' | 'pct' | 'all') }, h('option', { value: 'mw' }, 'MW'), h('option', { value: 'pct' }, '%'), h('option', { value: 'all' }, 'all')),
      mode === 'all' ? null : h('input', { name: 'amount', size: 6, value, onInput: (e: Event) => setValue((e.target as HTMLInputElement).value) }),
      ' ',
      h('button', { class: 'danger', onClick: () => ask('curtail') }, 'Curtail…'),
      ' ',
      h('button', { onClick: () => ask('restore') }, 'Restore…'),
    ),
    pending ? h('div', { class: 'confirm', role: 'dialog' }, h('p', null, pending.text), h('button', { class: 'danger', onClick: () => void confirm() }, 'Confirm'), ' ', h('button', { onClick: () => setPending(null) }, 'Cancel')) : null,
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
  );
}

function Banner(p: { status: Status | null; stream: string }) {
  const s = p.status;
  const safe = s?.lastTick?.decision.safeMode;
  const stale = s?.lastTick?.target.stale ? s.lastTick.target.reason ?? 'target stale' : null;
  const meterErr = s?.meter?.error ?? null;
  if (safe) return h('div', { class: 'banner safe', role: 'alert' }, `SAFE MODE (${safe.mode}): ${safe.reason}`);
  if (stale || meterErr || p.stream !== 'live') return h('div', { class: 'banner stale', role: 'alert' }, [p.stream !== 'live' ? `live stream ${p.stream}` : null, stale ? `feed stale: ${stale}` : null, meterErr ? `meter: ${meterErr}` : null].filter(Boolean).join(' · '));
  // Only a site that follows prices has feeds to be fresh: at nameplate there are none to watch.
  const source = s?.lastTick?.target.source;
  const feeds = source === 'nameplate' || source === undefined ? 'no market feeds (mining to nameplate)' : source === 'plan' ? 'following the plan file' : 'feeds fresh';
  return h('div', { class: 'banner ok', 'data-testid': 'banner' }, `live: ${feeds}, not in safe mode`);
}

function SitePage(p: { me: Me }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [points, setPoints] = useState<Point[]>([]);
  const [signals, setSignals] = useState<SignalTiming[]>([]);
  const [stream, setStream] = useState('connecting');
  const [ticks, setTicks] = useState(0);
  const [last, setLast] = useState<{ entry: AuditEntry | null; signal: SignalTiming } | null>(null);
  const statusRef = useRef<Status | null>(null);
  useEffect(() => {
    const es = new EventSource('/api/v1/events');
    let refreshing = false;
    const refresh = () => {
      if (refreshing) return;
      refreshing = true;
      call<Status>('GET', '/status')
        .then((s) => {
          statusRef.current = s;
          setStatus(s);
        })
        .catch(() => undefined)
        .finally(() => (refreshing = false));
    };
    es.addEventListener('snapshot', (e) => {
      const s = JSON.parse((e as MessageEvent<string>).data) as Status;
      statusRef.current = s;
      setStatus(s);
      setStream('live');
    });
    es.addEventListener('tick', (e) => {
      const t = JSON.parse((e as MessageEvent<string>).data) as { atMs: number; projectedMiningMW: number; projectedSiteMW: number };
      const s = statusRef.current;
      if (!s) return;
      const limitMW = s.limits.importLimitMW;
      // AI at the meter: limits.aiMW is every AI load at full power; the flexible ones the agent
      // drives (status.ai, non-firm) are drawn at their limit while limited, the rest as firm.
      const flex = (s.ai ?? []).filter((a) => a.kind !== 'firm');
      const firmMW = Math.max(0, s.limits.aiMW - flex.reduce((x, a) => x + a.fullMW, 0));
      const flexMW = flex.reduce((x, a) => x + (a.limitMW ?? a.fullMW), 0);
      const siteMW = Math.max(t.projectedSiteMW, t.projectedMiningMW + firmMW + flexMW + s.limits.otherLoadMW);
      setPoints((prev) => [...prev, { label: new Date(t.atMs).toISOString().slice(11, 19), aiMW: firmMW, flexAiMW: flexMW, otherMW: s.limits.otherLoadMW, miningMW: t.projectedMiningMW, headroomMW: Math.max(0, limitMW - siteMW), limitMW }].slice(-MAX_POINTS));
      setTicks((n) => n + 1);
      refresh();
    });
    es.addEventListener('signal', (e) => {
      const sig = (JSON.parse((e as MessageEvent<string>).data) as { signal: SignalTiming }).signal;
      setSignals((prev) => [sig, ...prev.filter((x) => x.id !== sig.id)].slice(0, 20));
    });
    es.addEventListener('dropped', () => setStream('dropped (too slow): reload'));
    es.onerror = () => setStream('reconnecting');
    return () => es.close();
  }, []);
  const canAct = p.me.permissions.includes('site:signal');
  const d = status?.lastTick?.decision;
  return h(
    'div',
    null,
    h(Banner, { status, stream }),
    h(
      'main',
      null,
      h('section', { class: 'wide' }, h('h2', null, `Site ${status?.site ?? '…'} — power (stacked) against the import limit`), h(PowerChart, { points }), h('p', { 'data-testid': 'ticks' }, `live updates: ${ticks}`)),
      h(PricePanel, { status, refresh: ticks }),
      h(EarnedPanel, { refresh: ticks }),
      h(
        'section',
        null,
        h('h2', null, 'Decision'),
        h(
          'div',
          { class: 'kv' },
          h('span', null, 'import limit'),
          h('span', null, fmtMW(status?.limits.importLimitMW)),
          h('span', null, 'allowed mining'),
          h('span', null, fmtMW(d?.allowedMiningMW)),
          h('span', null, 'projected mining'),
          h('span', { 'data-testid': 'mining-mw' }, fmtMW(d?.projectedMiningMW)),
          h('span', null, 'limited by'),
          h('span', null, d?.limitedBy ?? 'n/a'),
          h('span', null, 'signal cap'),
          h('span', null, status?.signal.capMW === null || status?.signal.capMW === undefined ? 'none' : `${fmtMW(status.signal.capMW)} (${status.signal.capSignalId ?? ''})`),
        ),
      ),
      h('section', null, h('h2', null, 'Fleet health: miners by state'), h(Table, { head: ['state', 'miners'], rows: Object.entries(status?.minersByState ?? {}).map(([k, v]) => [k, String(v)]) })),
      canAct ? h(Actions, { site: status?.site ?? '', onAudit: (entry, signal) => setLast({ entry, signal }) }) : null,
      last
        ? h(
            'section',
            { 'data-testid': 'last-action' },
            h('h2', null, 'Last action'),
            h('p', null, `signal ${last.signal.id}: ${last.signal.kind}, ${last.signal.state}`),
            last.entry ? h('p', { 'data-testid': 'audit-entry' }, `audit #${last.entry.id}: ${last.entry.actor} ${last.entry.action} ${last.entry.result} (${last.entry.status ?? ''}) ${last.entry.correlationId ?? ''}`) : h('p', null, 'no audit entry visible to you'),
          )
        : null,
      status?.ai && status.ai.length > 0
        ? h('section', { class: 'wide' }, h('h2', null, 'AI loads (at the meter)'), h(Table, { head: ['load', 'kind', 'full MW', 'read MW', 'limit MW', 'contract hours used', 'limited since', 'blocked'], rows: status.ai.map((a) => [a.load, a.kind, a.fullMW.toFixed(3), a.readMW === null ? '' : a.readMW.toFixed(3), a.limitMW === null ? 'none' : a.limitMW.toFixed(3), a.usedHours.toFixed(1), a.eventSince ?? '', a.blocked ?? '']) }))
        : null,
      h('section', { class: 'wide' }, h('h2', null, 'Signals'), h(Table, { head: ['id', 'kind', 'state', 'cap MW', 'received', 'confirmed', 'elapsed ms'], rows: signals.map((s) => [s.id, s.kind, s.state, s.capMW === null ? '' : s.capMW.toFixed(3), s.signalReceivedAt ?? '', s.confirmedAt ?? '', s.elapsedMs === null || s.elapsedMs === undefined ? '' : String(Math.round(s.elapsedMs))]) })),
      h(AlertsPanel, { me: p.me, refresh: ticks, agentAlerts: status?.alerts ?? [] }),
      h(GridPanel, { refresh: ticks }),
    ),
  );
}

function Table(p: { head: string[]; rows: string[][] }) {
  return h('table', null, h('thead', null, h('tr', null, p.head.map((x) => h('th', { key: x }, x)))), h('tbody', null, p.rows.map((r, i) => h('tr', { key: i }, r.map((c, j) => h('td', { key: j }, c))))));
}

function AuditPage() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<{ entries: AuditEntry[] }>('GET', '/audit?limit=100')
      .then((r) => setEntries(r.entries))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  return h(
    'main',
    null,
    h(
      'section',
      { class: 'wide' },
      h('h2', null, 'Audit log ', h('a', { href: '/api/v1/audit?format=csv&limit=10000' }, '(CSV)')),
      error ? h('p', { class: 'error' }, error) : null,
      h(Table, { head: ['#', 'at', 'who', 'action', 'scope', 'target', 'result', 'status', 'correlation'], rows: (entries ?? []).map((e) => [String(e.id), new Date(e.atMs).toISOString(), `${e.actorType}:${e.actor}`, e.action, e.scope, e.target ?? '', e.result, e.status === null ? '' : String(e.status), e.correlationId ?? '']) }),
    ),
  );
}


interface UserView {
  name: string;
  role: string;
  site: string | null;
  disabled: boolean;
  createdAt: string;
}
interface KeyView {
  id: string;
  name: string;
  role: string;
  site: string | null;
  createdBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  state: string;
}

const ROLES = ['viewer', 'operator', 'admin', 'signals'];
const field = (name: string, value: string, set: (v: string) => void, extra: Record<string, unknown> = {}) => h('input', { name, value, placeholder: name, onInput: (e: Event) => set((e.target as HTMLInputElement).value), ...extra });
const roleSelect = (name: string, value: string, set: (v: string) => void) => h('select', { name, value, onChange: (e: Event) => set((e.target as HTMLSelectElement).value) }, ROLES.map((r) => h('option', { key: r, value: r }, r)));

/** Users (admins) and API keys (everyone: their own; admins: all in scope). Keys are shown once. */
function AccessPage(p: { me: Me }) {
  const admin = p.me.permissions.includes('users:manage');
  const [users, setUsers] = useState<UserView[]>([]);
  const [keys, setKeys] = useState<KeyView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [fresh, setFresh] = useState<string | null>(null);
  const [u, setU] = useState({ name: '', password: '', role: 'viewer', site: '' });
  const [k, setK] = useState({ name: '', role: 'viewer', site: '', expires: '' });
  const load = () => {
    if (admin) call<{ users: UserView[] }>('GET', '/users').then((r) => setUsers(r.users), (e: unknown) => setError(String(e)));
    call<{ keys: KeyView[] }>('GET', '/keys').then((r) => setKeys(r.keys), (e: unknown) => setError(String(e)));
  };
  useEffect(load, []);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      load();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
    }
  };
  const site = (s: string) => (s.trim() === '' ? null : s.trim());
  return h(
    'main',
    null,
    error ? h('section', { class: 'wide' }, h('p', { class: 'error', role: 'alert' }, error)) : null,
    admin
      ? h(
          'section',
          { class: 'wide' },
          h('h2', null, 'Users'),
          h(Table, { head: ['name', 'role', 'site', 'disabled', 'created'], rows: users.map((x) => [x.name, x.role, x.site ?? '(all)', x.disabled ? 'yes' : '', x.createdAt]) }),
          h(
            'form',
            { 'data-testid': 'new-user', onSubmit: (e: Event) => (e.preventDefault(), void act(async () => {
                await call('POST', '/users', { name: u.name, password: u.password, role: u.role, site: site(u.site) });
                setU({ name: '', password: '', role: 'viewer', site: '' }); // never leave a password in the form
              })) },
            field('user-name', u.name, (v) => setU({ ...u, name: v })),
            field('user-password', u.password, (v) => setU({ ...u, password: v }), { type: 'password', autocomplete: 'new-password' }),
            roleSelect('user-role', u.role, (v) => setU({ ...u, role: v })),
            field('user-site', u.site, (v) => setU({ ...u, site: v }), { placeholder: 'site (empty: all)' }),
            h('button', { type: 'submit' }, 'Add user'),
          ),
        )
      : null,
    h(
      'section',
      { class: 'wide' },
      h('h2', null, 'API keys'),
      fresh ? h('div', { class: 'confirm', 'data-testid': 'fresh-key' }, h('p', null, 'Your new key — store it now, it is not shown again:'), h('code', null, fresh), ' ', h('button', { onClick: () => setFresh(null) }, 'Done')) : null,
      h(Table, { head: ['id', 'name', 'role', 'site', 'state', 'created by', 'expires', 'last used', ''], rows: keys.map((x) => [x.id, x.name, x.role, x.site ?? '(all)', x.state, x.createdBy, x.expiresAt ?? 'never', x.lastUsedAt ?? 'never', '']) }),
      h(
        'div',
        null,
        keys
          .filter((x) => x.state === 'active')
          .map((x) => h('button', { key: x.id, onClick: () => void act(() => call('DELETE', `/keys/${x.id}`)) }, `Revoke ${x.name}`)),
      ),
      p.me.kind === 'user'
        ? h(
            'form',
            {
              'data-testid': 'new-key',
              onSubmit: (e: Event) => (
                e.preventDefault(),
                void act(async () => {
                  const r = await call<{ key: string }>('POST', '/keys', { name: k.name, role: k.role, site: site(k.site), ...(k.expires.trim() !== '' ? { expires: k.expires.trim() } : {}) });
                  setFresh(r.key);
                  setK({ name: '', role: 'viewer', site: '', expires: '' });
                })
              ),
            },
            field('key-name', k.name, (v) => setK({ ...k, name: v })),
            roleSelect('key-role', k.role, (v) => setK({ ...k, role: v })),
            field('key-site', k.site, (v) => setK({ ...k, site: v }), { placeholder: 'site (empty: all)' }),
            field('key-expires', k.expires, (v) => setK({ ...k, expires: v }), { placeholder: 'expires, e.g. 30d' }),
            h('button', { type: 'submit' }, 'Create key'),
          )
        : null,
    ),
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const pageOf = () => (location.hash === '#/audit' ? 'audit' : location.hash === '#/access' ? 'access' : (extraPageOf(location.hash)?.hash ?? 'site'));
  const [page, setPage] = useState(pageOf());
  useEffect(() => {
    call<Me>('GET', '/me')
      .then(setMe)
      .catch(() => setMe(null));
    const onHash = () => setPage(pageOf());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (me === undefined) return h('p', null, 'loading…');
  if (me === null) return h(Login, { onDone: setMe });
  const logout = () => void call('POST', '/logout').finally(() => setMe(null));
  const nav: ComponentChildren = [h('a', { href: '#/site' }, 'Site'), h('a', { href: '#/audit' }, 'Audit'), h('a', { href: '#/access' }, 'Users & keys'), ...EXTRA_PAGES.map((x) => h('a', { href: x.hash }, x.label))];
  return h(
    'div',
    null,
    h('header', null, h('strong', null, 'Mullet'), nav, h('span', { class: 'who', 'data-testid': 'who' }, `${me.name} — ${me.role} on ${me.site ?? 'all sites'} `, h('button', { onClick: logout }, 'Log out'))),
    page === 'audit' ? h(AuditPage, null) : page === 'access' ? h(AccessPage, { me }) : extraPageOf(page) ? h((extraPageOf(page) as NonNullable<ReturnType<typeof extraPageOf>>).component, { me }) : h(SitePage, { me }),
  );
}

const root = document.getElementById('app');
if (root) render(h(App, null), root);
