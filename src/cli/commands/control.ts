/**
 * `mullet control`: the center of the NATS JetStream control plane (src/control/README.md).
 *   init      create the streams, the desired-state bucket and the sites' command consumers
 *   sites     every site with its last telemetry and desired state
 *   set       a site's desired state (mode, caps, AI levels, plan ref), compare-and-set
 *   curtail   / restore: a command to one site, several, or all; waits for the outcomes
 *   creds     per-site nkeys and the nats-server authorization block that confines each site
 * Connection: --servers (env MULLET_NATS_URL), and --nkey-seed-file, --user/--password-env or
 * --token-env for a server with authorization; secrets are read from files or the environment,
 * never from the command line.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { badInput, MulletError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { Center, type CommandRequest, type DesiredPatch, type SiteOutcome, type SiteView } from '../../control/center/center.js';
import type { NatsAuth } from '../../control/connect.js';
import { authorizationBlock, newIdentity } from '../../control/creds.js';
import { checkSiteId, controlNames, DEFAULT_PREFIX } from '../../control/names.js';
import { opt, need, type CliIo, type CommandSpec, type OptionSpec, type ParsedArgs } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';

const conn: Record<string, OptionSpec> = {
  servers: { type: 'string', multiple: true, value: 'URL', description: 'NATS server(s), nats://HOST:PORT', env: 'MULLET_NATS_URL', default: 'nats://127.0.0.1:4222' },
  prefix: { type: 'string', value: 'NAME', description: 'subject/stream prefix of the control plane', default: DEFAULT_PREFIX },
  'nkey-seed-file': { type: 'string', value: 'FILE', description: "the center's nkey seed file (from `mullet control creds`)" },
  user: { type: 'string', value: 'NAME', description: 'NATS user (with --password-env)' },
  'password-env': { type: 'string', value: 'VAR', description: 'environment variable holding the NATS password' },
  'token-env': { type: 'string', value: 'VAR', description: 'environment variable holding the NATS token' },
  'timeout-s': { type: 'number', gt: 0, max: LIMITS.periodS, unit: 's', description: 'deadline for the whole command', default: 60 },
};

function authOf(args: ParsedArgs, io: CliIo): NatsAuth | undefined {
  const seed = opt.str(args, 'nkey-seed-file');
  const user = opt.str(args, 'user');
  const pw = opt.str(args, 'password-env');
  const token = opt.str(args, 'token-env');
  const given = [seed !== undefined, user !== undefined || pw !== undefined, token !== undefined].filter(Boolean).length;
  if (given > 1) throw badInput('give one of --nkey-seed-file, --user with --password-env, or --token-env', '--nkey-seed-file');
  if (seed !== undefined) return { nkeySeed: { file: resolve(io.cwd, seed) } };
  if (token !== undefined) return { token: { env: token } };
  if (user !== undefined || pw !== undefined) return { user: need(user, 'user', 'is required with --password-env'), password: { env: need(pw, 'password-env', 'is required with --user') } };
  return undefined;
}

async function withCenter<T>(args: ParsedArgs, io: CliIo, fn: (c: Center, deadlineMs: number) => Promise<T>): Promise<T> {
  const timeoutS = need(opt.num(args, 'timeout-s'), 'timeout-s');
  const deadline = Date.now() + timeoutS * 1000;
  const c = await Center.connect({ servers: opt.strs(args, 'servers'), auth: authOf(args, io), env: io.env, prefix: opt.str(args, 'prefix') ?? DEFAULT_PREFIX, timeoutMs: Math.min(10_000, timeoutS * 1000), actor: `cli:${safeUser()}` });
  try {
    return await fn(c, deadline);
  } finally {
    await c.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function sitesOf(args: ParsedArgs, all: boolean, c: Center): Promise<string[]> {
  const given = opt.strs(args, 'site').map((s) => checkSiteId(s));
  if (all && given.length > 0) throw badInput('give --site or --all, not both', '--all');
  if (!all && given.length === 0) throw badInput('give --site S (repeatable) or --all', '--site');
  return all ? c.siteIds() : Promise.resolve(given);
}

const init: CommandSpec = {
  path: ['control', 'init'],
  summary: 'create the control plane on NATS (streams, the desired-state bucket, each site’s command consumer)',
  options: { site: { type: 'string', multiple: true, value: 'ID', description: 'a site to create the command consumer of' }, ...conn },
  json: true,
  examples: ['mullet control init --site west-1 --site west-2'],
  async run(args, io) {
    const sites = opt.strs(args, 'site').map((s) => checkSiteId(s));
    await withCenter(args, io, (c) => c.init(sites));
    const names = controlNames(opt.str(args, 'prefix') ?? DEFAULT_PREFIX);
    if (opt.bool(args, 'json')) printJson(io, { prefix: names.prefix, streams: names.streams, bucket: names.bucket, sites });
    else io.stdout(`control plane '${names.prefix}' ready: streams ${Object.values(names.streams).join(', ')}, bucket ${names.bucket}${sites.length ? `; consumers for ${sites.join(', ')}` : ''}\n`);
  },
};

function ageS(v: SiteView): number | null {
  return v.telemetryStoredAtMs === null ? null : Math.max(0, (Date.now() - v.telemetryStoredAtMs) / 1000);
}

const sites: CommandSpec = {
  path: ['control', 'sites'],
  summary: 'list the sites with their last telemetry (age by the server’s clock) and desired state',
  options: { site: { type: 'string', multiple: true, value: 'ID', description: 'only these sites' }, ...conn },
  json: true,
  async run(args, io) {
    const only = opt.strs(args, 'site').map((s) => checkSiteId(s));
    const views = await withCenter(args, io, (c) => c.sites(only.length ? only : undefined));
    if (opt.bool(args, 'json')) {
      printJson(io, { sites: views.map((v) => ({ ...v, telemetryAgeS: ageS(v) })) });
      return;
    }
    const mw = (x: number | null | undefined): string => (x === null || x === undefined ? '' : x >= 1e300 ? 'unbounded' : fmt(x, 3));
    const rows = views.map((v) => {
      const t = v.telemetry;
      const age = ageS(v);
      return [
        v.site,
        age === null ? 'never' : fmt(age, 0),
        t?.link.state ?? '',
        t ? String(t.miners) : '',
        t ? String((t.minersByState.sleeping ?? 0) + (t.minersByState.curtailed ?? 0)) : '',
        mw(t?.sitePowerMW),
        mw(t?.importLimitMW),
        mw(t?.allowedMiningMW),
        t?.limitedBy ?? '',
        v.desiredRevision === null ? '' : String(v.desiredRevision),
        v.desired ? `${v.desired.mode}${v.desired.capMW !== undefined ? ` cap ${v.desired.capMW}` : ''}${v.desired.targetMW !== undefined ? ` target ${v.desired.targetMW}` : ''}` : '',
        t?.link.desiredRevision === undefined || t.link.desiredRevision === null ? '' : String(t.link.desiredRevision),
        t?.link.clockOffsetMs === null || t?.link.clockOffsetMs === undefined ? '' : fmt(t.link.clockOffsetMs / 1000, 1),
      ];
    });
    io.stdout(formatTable(['site', 'telemetry age s', 'link', 'miners', 'asleep', 'site MW', 'import limit MW', 'allowed mining MW', 'limited by', 'desired rev', 'desired', 'applied rev', 'clock offset s'], rows) + '\n');
    if (views.length === 0) io.stderr('mullet: no sites yet (none has a desired state, telemetry or a command consumer)\n');
  },
};

const set: CommandSpec = {
  path: ['control', 'set'],
  summary: 'set a site’s desired state (compare-and-set: fails if someone else wrote since it was read)',
  description:
    'Only the given fields change. --mode auto follows the site’s own plan or price rule; target mines\n' +
    '--target-mw; curtail-all mines nothing. --cap-mw bounds mining in every mode. The agent’s own\n' +
    'import limit and firm-AI rule stay in charge whatever this says.',
  options: {
    site: { type: 'string', required: true, value: 'ID', description: 'the site' },
    mode: { type: 'string', choices: ['auto', 'target', 'curtail-all'], description: 'what the site mines to' },
    'target-mw': { type: 'number', min: 0, max: LIMITS.siteMW, unit: 'MW', description: "mining target (mode 'target')" },
    'cap-mw': { type: 'number', min: 0, max: LIMITS.siteMW, unit: 'MW', description: 'upper bound on mining MW' },
    'ai-limit': { type: 'string', multiple: true, value: 'LOAD=MW', description: 'level of a capped AI load, MW at the meter' },
    'plan-ref': { type: 'string', value: 'REF', description: 'the plan this state comes from (reported back by the site)' },
    clear: { type: 'string', multiple: true, choices: ['cap-mw', 'ai-limit', 'plan-ref'], description: 'remove a field' },
    'expect-revision': { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, description: 'fail unless the desired state is at this revision (0: none yet)' },
    ...conn,
  },
  json: true,
  examples: ['mullet control set --site west-1 --mode auto --cap-mw 40', 'mullet control set --site west-1 --mode target --target-mw 25 --plan-ref da-2026-12-08'],
  async run(args, io) {
    const site = checkSiteId(need(opt.str(args, 'site'), 'site'));
    const ai: Record<string, number> = {};
    for (const a of opt.strs(args, 'ai-limit')) {
      const m = /^([^=]+)=([0-9.]+)$/.exec(a);
      const v = m ? Number(m[2]) : NaN;
      if (!m || !Number.isFinite(v) || v < 0 || v > LIMITS.siteMW) throw badInput(`expected LOAD=MW, got '${a}'`, '--ai-limit');
      ai[m[1] as string] = v;
    }
    const mode = opt.str(args, 'mode') as DesiredPatch['mode'];
    const clearMap = { 'cap-mw': 'capMW', 'ai-limit': 'aiLimitsMW', 'plan-ref': 'planRef' } as const;
    const patch: DesiredPatch = {
      ...(mode !== undefined ? { mode } : {}),
      ...(opt.num(args, 'target-mw') !== undefined ? { targetMW: opt.num(args, 'target-mw') } : {}),
      ...(opt.num(args, 'cap-mw') !== undefined ? { capMW: opt.num(args, 'cap-mw') } : {}),
      ...(Object.keys(ai).length ? { aiLimitsMW: ai } : {}),
      ...(opt.str(args, 'plan-ref') !== undefined ? { planRef: opt.str(args, 'plan-ref') } : {}),
      clear: opt.strs(args, 'clear').map((k) => clearMap[k as keyof typeof clearMap]),
    };
    const r = await withCenter(args, io, (c) => c.setDesired(site, patch, opt.num(args, 'expect-revision')));
    if (opt.bool(args, 'json')) printJson(io, r);
    else io.stdout(`site ${site}: desired state revision ${r.revision}: ${JSON.stringify({ ...r.desired, v: undefined, site: undefined })}\n`);
  },
};

const target = {
  site: { type: 'string' as const, multiple: true, value: 'ID', description: 'a site (repeatable)' },
  all: { type: 'boolean' as const, description: 'every site the center knows' },
  id: { type: 'string' as const, value: 'ID', description: 'command id (idempotent: sending it again never acts twice); generated when absent' },
  'ttl-s': { type: 'number' as const, gt: 0, max: 7 * 86_400, unit: 's', description: 'not acted on later than this after the server stored it' },
  until: { type: 'string' as const, choices: ['received', 'settled'], default: 'settled', description: 'wait until each site took it, or confirmed it' },
};

async function sendCommand(args: ParsedArgs, io: CliIo, req: CommandRequest): Promise<number> {
  const until = (opt.str(args, 'until') ?? 'settled') as 'received' | 'settled';
  const out = await withCenter(args, io, async (c, deadline) => {
    const sites = await sitesOf(args, opt.bool(args, 'all'), c);
    if (sites.length === 0) throw new MulletError('NOT_FOUND', 'no sites known to the center', { where: '--all' });
    const ttl = opt.num(args, 'ttl-s');
    const id = opt.str(args, 'id');
    return c.send(sites, req, { ...(id !== undefined ? { id } : {}), ...(ttl !== undefined ? { ttlS: ttl } : {}), until, deadlineMs: Math.max(1, deadline - Date.now()), signal: io.signal });
  });
  const ok = (r: SiteOutcome): boolean => r.done && r.outcome?.phase !== 'rejected' && (until === 'received' || r.outcome?.signal?.state === 'confirmed');
  if (opt.bool(args, 'json')) printJson(io, { commandId: out[0]?.commandId ?? null, sites: out });
  else {
    const rows = out.map((r) => [r.site, r.outcome?.phase ?? 'no answer', r.outcome?.signal?.state ?? r.outcome?.reason ?? '', r.outcome?.duplicate ? 'yes' : '', r.elapsedMs === null ? '' : fmt(r.elapsedMs, 0), r.outcome?.signal?.elapsedMs == null ? '' : fmt(r.outcome.signal.elapsedMs, 0), r.outcome?.signal ? String(r.outcome.signal.commandsSent) : '']);
    io.stdout(`command ${out[0]?.commandId ?? ''}\n` + formatTable(['site', 'outcome', 'state / reason', 'duplicate', 'answered after ms', 'confirmed after ms (site)', 'miner commands'], rows) + '\n');
  }
  const bad = out.filter((r) => !ok(r));
  if (bad.length > 0) io.stderr(`mullet: ${bad.length} of ${out.length} sites not ${until === 'received' ? 'received' : 'confirmed'} in time (${bad.map((b) => b.site).join(', ')}); a partitioned site gets the command when it is back\n`);
  return bad.length > 0 ? 1 : 0;
}

const curtail: CommandSpec = {
  path: ['control', 'curtail'],
  summary: 'curtail mining at one site, several or all (by MW, percent, or every miner) and wait for the outcomes',
  options: {
    ...target,
    mw: { type: 'number', gt: 0, max: LIMITS.siteMW, unit: 'MW', description: 'mining MW to shed at each site' },
    pct: { type: 'number', gt: 0, max: 100, unit: '%', description: 'percent of each site’s mining to shed' },
    'all-miners': { type: 'boolean', description: 'sleep every miner' },
    ...conn,
  },
  json: true,
  examples: ['mullet control curtail --all --all-miners --json', 'mullet control curtail --site west-1 --mw 20 --id ers-2026-12-08'],
  run(args, io) {
    const mw = opt.num(args, 'mw');
    const pct = opt.num(args, 'pct');
    const allMiners = opt.bool(args, 'all-miners');
    if ([mw !== undefined, pct !== undefined, allMiners].filter(Boolean).length !== 1) throw badInput('give exactly one of --mw, --pct or --all-miners', '--mw');
    return sendCommand(args, io, { action: 'curtail', ...(mw !== undefined ? { mw } : {}), ...(pct !== undefined ? { pct } : {}), ...(allMiners ? { all: true as const } : {}) });
  },
};

const restore: CommandSpec = {
  path: ['control', 'restore'],
  summary: 'end curtailment at one site, several or all, and wait for the outcomes',
  options: { ...target, ...conn },
  json: true,
  run(args, io) {
    return sendCommand(args, io, { action: 'restore' });
  },
};

const creds: CommandSpec = {
  path: ['control', 'creds'],
  summary: 'per-site nkeys and the nats-server authorization block that confines each site to its own subjects',
  description:
    'Writes DIR/center.nk and DIR/<site>.nk (the seeds, mode 0600: give each site only its own) and\n' +
    'DIR/nats-auth.conf (public keys and permissions: include it in nats-server.conf). Seeds are never printed.',
  options: {
    site: { type: 'string', multiple: true, required: true, value: 'ID', description: 'a site (repeatable)' },
    'out-dir': { type: 'string', required: true, value: 'DIR', description: 'where to write the seeds and the block' },
    prefix: conn.prefix as OptionSpec,
    force: { type: 'boolean', description: 'overwrite existing seed files' },
  },
  json: true,
  examples: ['mullet control creds --site west-1 --site west-2 --out-dir ./nats-creds'],
  run(args, io) {
    const dir = resolve(io.cwd, need(opt.str(args, 'out-dir'), 'out-dir'));
    const names = controlNames(opt.str(args, 'prefix') ?? DEFAULT_PREFIX);
    const siteIds = opt.strs(args, 'site').map((s) => checkSiteId(s));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const center = newIdentity('center');
    const ids = siteIds.map((s) => newIdentity(s));
    const files: Record<string, string> = {};
    for (const id of [center, ...ids]) {
      const f = join(dir, `${id.name}.nk`);
      if (existsSync(f) && !opt.bool(args, 'force')) throw new MulletError('CONFLICT', 'exists (a seed in use would be replaced): give --force to overwrite', { where: f });
      writeFileSync(f, id.seed + '\n', { mode: 0o600 });
      chmodSync(f, 0o600);
      files[id.name] = f;
    }
    const conf = join(dir, 'nats-auth.conf');
    writeFileSync(conf, authorizationBlock(names, center, ids), { mode: 0o644 });
    if (opt.bool(args, 'json')) printJson(io, { authorization: conf, seeds: files, publicKeys: Object.fromEntries([center, ...ids].map((i) => [i.name, i.publicKey])) });
    else io.stdout(`wrote ${conf} (include it in nats-server.conf) and the seeds ${Object.values(files).join(', ')} (mode 0600; each site gets only its own: control.auth.nkeySeed.file)\n`);
    return Promise.resolve();
  },
};

export const controlCommands: readonly CommandSpec[] = [init, sites, set, curtail, restore, creds];
