/**
 * Fleet health page (`#/fleet`): miners by model / firmware / rack with temperatures, fans and the
 * last commands; a heatmap by rack or model (colour by state or hottest sensor); one miner's
 * detail (with its hashboards and pools read from the device on opening); and, for operators, the curtailment preview — which machines a curtail would take, from
 * the agent's own decision on its last reading, before anything is sent. Polls `GET /fleet`.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, type Me } from '../api.js';

export interface MinerRow {
  id: string;
  host: string;
  rack: string;
  model: string | null;
  driver: string;
  firmware: string | null;
  state: string;
  hashrateThs: number | null;
  ratedHashrateThs: number;
  powerW: number | null;
  ratedPowerW: number;
  countedW: number;
  powerTargetW: number | null;
  efficiencyJPerTh: number | null;
  tempsC: number[] | null;
  maxTempC: number | null;
  fansRpm: number[] | null;
  hashboards: null;
  pool: null;
  readAt: string | null;
  readError: string | null;
  implausible: string | null;
  lastCommand: { kind: string; targetW: number | null; status: string; sentAt: string | null; attempts: number; why: string | null; lastError: string | null } | null;
}
interface FleetView {
  site: string;
  nowMs: number;
  miners: MinerRow[];
}
interface Preview {
  baselineMW: number;
  capMW: number;
  currentMiningMW: number;
  projectedMiningMW: number;
  limitedBy: string;
  shedMW: number;
  alreadyCurtailed: number;
  note: string;
  miners: { id: string; host: string; rack: string; model: string | null; kind: string; targetW: number | null; efficiencyJPerTh: number | null; fromW: number; shedMW: number }[];
}

const POLL_MS = 5_000;
const STATE_COLOR: Record<string, string> = { mining: '#2e7d32', tuning: '#66bb6a', waking: '#fbc02d', sleeping: '#1e88e5', unknown: '#8d6e63', unreachable: '#c62828' };
const num = (v: number | null | undefined, d = 0): string => (v === null || v === undefined ? 'n/a' : v.toFixed(d));

/** Blue (cool) → red (hot) for 40–90 °C; grey when unknown. */
function tempColor(t: number | null): string {
  if (t === null) return '#bdbdbd';
  const x = Math.max(0, Math.min(1, (t - 40) / 50));
  return `hsl(${Math.round(220 - 220 * x)}, 70%, 50%)`;
}

type Key = 'model' | 'firmware' | 'rack';
const keyOf = (m: MinerRow, k: Key): string => (k === 'model' ? (m.model ?? '(unknown model)') : k === 'firmware' ? (m.firmware ?? '(firmware not read)') : m.rack);

function groups(miners: MinerRow[], k: Key): [string, MinerRow[]][] {
  const g = new Map<string, MinerRow[]>();
  for (const m of miners) g.set(keyOf(m, k), [...(g.get(keyOf(m, k)) ?? []), m]);
  return [...g.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function Summary(p: { miners: MinerRow[] }) {
  const [by, setBy] = useState<Key>('model');
  const rows = groups(p.miners, by);
  return h(
    'section',
    { class: 'wide', 'data-testid': 'fleet-summary' },
    h('h2', null, 'Miners by ', h('select', { value: by, 'aria-label': 'group by', onChange: (e: Event) => setBy((e.target as HTMLSelectElement).value as Key) }, h('option', { value: 'model' }, 'model'), h('option', { value: 'firmware' }, 'firmware'), h('option', { value: 'rack' }, 'rack'))),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['', 'miners', 'mining', 'sleeping', 'other', 'hashrate TH/s', 'power kW', 'hottest °C', 'fans RPM (min)', 'failed commands'].map((t) => h('th', null, t)))),
      h(
        'tbody',
        null,
        rows.map(([k, ms]) => {
          const temps = ms.map((m) => m.maxTempC).filter((t): t is number => t !== null);
          const fans = ms.flatMap((m) => m.fansRpm ?? []);
          const n = (s: string) => ms.filter((m) => m.state === s).length;
          return h(
            'tr',
            null,
            h('td', null, k),
            h('td', null, ms.length),
            h('td', null, n('mining')),
            h('td', null, n('sleeping')),
            h('td', null, ms.length - n('mining') - n('sleeping')),
            h('td', null, num(ms.reduce((a, m) => a + (m.hashrateThs ?? 0), 0), 1)),
            h('td', null, num(ms.reduce((a, m) => a + m.countedW, 0) / 1000, 1)),
            h('td', null, temps.length ? num(Math.max(...temps), 1) : 'n/a'),
            h('td', null, fans.length ? num(Math.min(...fans)) : 'n/a'),
            h('td', null, ms.filter((m) => m.lastCommand?.status === 'failed').length),
          );
        }),
      ),
    ),
  );
}

function Heatmap(p: { miners: MinerRow[]; onPick: (id: string) => void }) {
  const [by, setBy] = useState<'rack' | 'model'>('rack');
  const [colour, setColour] = useState<'state' | 'temp'>('state');
  return h(
    'section',
    { class: 'wide', 'data-testid': 'fleet-heatmap' },
    h(
      'h2',
      null,
      'Heatmap by ',
      h('select', { value: by, 'aria-label': 'heatmap rows', onChange: (e: Event) => setBy((e.target as HTMLSelectElement).value as 'rack' | 'model') }, h('option', { value: 'rack' }, 'rack'), h('option', { value: 'model' }, 'model')),
      ' coloured by ',
      h('select', { value: colour, 'aria-label': 'heatmap colour', onChange: (e: Event) => setColour((e.target as HTMLSelectElement).value as 'state' | 'temp') }, h('option', { value: 'state' }, 'state'), h('option', { value: 'temp' }, 'hottest sensor')),
    ),
    h(
      'p',
      { class: 'legend' },
      colour === 'state' ? Object.entries(STATE_COLOR).map(([s, c]) => h('span', { class: 'chip', style: { background: c } }, s)) : [40, 55, 70, 85].map((t) => h('span', { class: 'chip', style: { background: tempColor(t) } }, `${t} °C`)),
    ),
    groups(p.miners, by).map(([k, ms]) =>
      h(
        'div',
        { class: 'heatrow' },
        h('span', { class: 'heatlabel' }, k),
        ms.map((m) =>
          h('button', {
            class: 'cell',
            title: `${m.id} ${m.host}: ${m.state}, ${m.maxTempC === null ? 'temperature n/a' : `${m.maxTempC} °C`}`,
            'aria-label': `miner ${m.id}`,
            style: { background: colour === 'state' ? (STATE_COLOR[m.state] ?? '#616161') : tempColor(m.maxTempC) },
            onClick: () => p.onPick(m.id),
          }),
        ),
      ),
    ),
  );
}

interface Health {
  hashboards: { index: number; status: string | null; hashrateThs: number | null; tempC: number | null }[];
  pools: { url: string; user: string | null; status: string | null; active: boolean | null; accepted: number | null; rejected: number | null }[];
}

/** Hashboards and pools, read from the device when the miner is opened. */
function LiveHealth(p: { id: string }) {
  const [hl, setHl] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setHl(null);
    setError(null);
    call<Health>('GET', `/fleet/miners/${encodeURIComponent(p.id)}/health`)
      .then(setHl)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [p.id]);
  if (error) return h('p', { class: 'note' }, `hashboards / pools: ${error}`);
  if (!hl) return h('p', { class: 'note' }, 'reading hashboards and pools…');
  return h(
    'div',
    { 'data-testid': 'miner-health' },
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['hashboard', 'status', 'TH/s', '°C'].map((t) => h('th', null, t)))),
      h('tbody', null, hl.hashboards.length === 0 ? h('tr', null, h('td', { colSpan: 4 }, 'none reported')) : hl.hashboards.map((b) => h('tr', null, h('td', null, b.index), h('td', null, b.status ?? '?'), h('td', null, num(b.hashrateThs, 1)), h('td', null, num(b.tempC, 1))))),
    ),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['pool', 'user', 'status', 'stratum', 'accepted', 'rejected'].map((t) => h('th', null, t)))),
      h('tbody', null, hl.pools.length === 0 ? h('tr', null, h('td', { colSpan: 6 }, 'none reported')) : hl.pools.map((x) => h('tr', null, h('td', null, x.url), h('td', null, x.user ?? '?'), h('td', null, x.status ?? '?'), h('td', null, x.active === null ? '?' : x.active ? 'active' : 'inactive'), h('td', null, num(x.accepted)), h('td', null, num(x.rejected))))),
    ),
  );
}

function MinerDetail(p: { m: MinerRow; onClose: () => void }) {
  const m = p.m;
  const c = m.lastCommand;
  const kv = (k: string, v: string) => [h('span', null, k), h('span', null, v)];
  return h(
    'section',
    { class: 'wide', 'data-testid': 'miner-detail' },
    h('h2', null, `Miner ${m.id} `, h('button', { onClick: p.onClose }, 'close')),
    h(
      'div',
      { class: 'kv' },
      kv('host', m.host),
      kv('rack', m.rack),
      kv('model', m.model ?? 'unknown'),
      kv('driver / firmware', `${m.driver} / ${m.firmware ?? 'not read'}`),
      kv('state', m.state),
      kv('hashrate', `${num(m.hashrateThs, 1)} of ${num(m.ratedHashrateThs, 1)} TH/s`),
      kv('power', `${num(m.powerW)} W read, ${num(m.countedW)} W counted, ${num(m.ratedPowerW)} W nameplate${m.powerTargetW !== null ? `, target ${m.powerTargetW} W` : ''}`),
      kv('efficiency', `${num(m.efficiencyJPerTh, 1)} J/TH`),
      kv('temperatures', m.tempsC === null ? 'not read by this driver' : m.tempsC.length ? m.tempsC.map((t) => `${t} °C`).join(', ') : 'none reported'),
      kv('fans', m.fansRpm === null ? 'not read by this driver' : m.fansRpm.length ? m.fansRpm.map((f) => `${f} RPM`).join(', ') : 'none reported'),
      kv('last read', `${m.readAt ?? 'never'}${m.readError ? ` — ${m.readError}` : ''}${m.implausible ? ` — not believed: ${m.implausible}` : ''}`),
      kv('last command', c ? `${c.kind}${c.targetW !== null ? ` ${c.targetW} W` : ''}: ${c.status} (attempt ${c.attempts}, sent ${c.sentAt ?? '?'}${c.why ? `, for ${c.why}` : ''}${c.lastError ? `, error: ${c.lastError}` : ''})` : 'none'),
    ),
    h(LiveHealth, { id: m.id }),
  );
}

function CurtailPreview() {
  const [mode, setMode] = useState<'mw' | 'pct' | 'all'>('pct');
  const [value, setValue] = useState('10');
  const [p, setP] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const q = mode === 'all' ? 'all=true' : `${mode}=${encodeURIComponent(value)}`;
      setP(await call<Preview>('GET', `/fleet/curtail-preview?${q}`));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return h(
    'section',
    { class: 'wide', 'data-testid': 'curtail-preview' },
    h('h2', null, 'Curtailment preview (nothing is sent)'),
    h(
      'form',
      { onSubmit: (e: Event) => void run(e) },
      h('select', { name: 'preview-mode', value: mode, onChange: (e: Event) => setMode((e.target as HTMLSelectElement).value as 'mw' | 'pct' | 'all') }, h('option', { value: 'mw' }, 'MW'), h('option', { value: 'pct' }, '%'), h('option', { value: 'all' }, 'all')),
      mode === 'all' ? null : h('input', { name: 'preview-value', value, onInput: (e: Event) => setValue((e.target as HTMLInputElement).value) }),
      h('button', { type: 'submit' }, 'Preview'),
    ),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    p
      ? h(
          'div',
          null,
          h('p', null, `Cap ${p.capMW.toFixed(3)} MW from a ${p.baselineMW.toFixed(3)} MW baseline: ${p.miners.length} machines, ${p.shedMW.toFixed(3)} MW shed; mining ${p.currentMiningMW.toFixed(3)} → ${p.projectedMiningMW.toFixed(3)} MW (bound: ${p.limitedBy}); ${p.alreadyCurtailed} already curtailed.`),
          h('p', { class: 'note' }, p.note),
          h(
            'table',
            null,
            h('thead', null, h('tr', null, ['miner', 'host', 'rack', 'model', 'command', 'J/TH', 'from W', 'sheds MW'].map((t) => h('th', null, t)))),
            h(
              'tbody',
              null,
              p.miners.map((m) => h('tr', null, h('td', null, m.id), h('td', null, m.host), h('td', null, m.rack), h('td', null, m.model ?? '?'), h('td', null, m.kind === 'target' ? `target ${m.targetW} W` : 'sleep'), h('td', null, num(m.efficiencyJPerTh, 1)), h('td', null, num(m.fromW)), h('td', null, m.shedMW.toFixed(4)))),
            ),
          ),
        )
      : null,
  );
}

export function FleetPage(p: { me: Me }) {
  const [f, setF] = useState<FleetView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const load = () =>
      call<FleetView>('GET', '/fleet')
        .then((v) => !stop && (setF(v), setError(null)))
        .catch((e: unknown) => !stop && setError(e instanceof Error ? e.message : String(e)));
    void load();
    const t = setInterval(() => void load(), POLL_MS);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, []);
  const m = picked === null ? undefined : f?.miners.find((x) => x.id === picked);
  return h(
    'main',
    null,
    error ? h('section', { class: 'wide error', role: 'alert' }, error) : null,
    f === null ? h('section', null, 'loading the fleet…') : [h('section', { class: 'wide' }, h('h2', null, `Fleet health — ${f.site}: ${f.miners.length} miners`)), m ? h(MinerDetail, { m, onClose: () => setPicked(null) }) : null, h(Heatmap, { miners: f.miners, onPick: setPicked }), h(Summary, { miners: f.miners })],
    p.me.permissions.includes('site:signal') ? h(CurtailPreview, null) : null,
  );
}
