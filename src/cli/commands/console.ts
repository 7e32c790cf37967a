/**
 * The operator console from the command line: first setup and scripting of users and API keys
 * (`mullet users …`, `mullet keys …`, on the console database given by --db), and `mullet serve`,
 * which runs the site agent with the authenticated console API as its only HTTP edge. Whoever can
 * write the database file is the machine's administrator: the CLI acts with every right, and
 * every change it makes is in the audit log as `cli:<os user>`.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { readAgentConfig } from '../../app/agent-config.js';
import { resolveAgentConfig, startAgent } from '../../app/agent.js';
import { badInput, describeError, MulletError } from '../../core/errors.js';
import { systemClock } from '../../core/time.js';
import type { AuditInput } from '../../console/audit.js';
import { AuthService, keyView, userView, type Actor } from '../../console/auth-service.js';
import { ROLES, describeGrant, scopeOf, siteNameSchema, type Role } from '../../console/roles.js';
import { MAX_PASSWORD_CHARS } from '../../console/secrets.js';
import { SqliteIdentityStore } from '../../console/sqlite-store.js';
import { durationMs } from '../../console/views.js';
import { parseHostPort } from '../../fleet/meter/meter-reader.js';
import { CONSOLE_API_BASE } from '../../server/console/app.js';
import { consoleSiteApp } from '../../server/console/site-app.js';
import { startAlerts } from '../../app/alerts.js';
import { openPages } from '../../app/pages.js';
import { checkConsoleListen, serveConsole } from '../../server/console/serve-console.js';
import { opt, type CliIo, type CommandSpec, type OptionSpec, type ParsedArgs } from '../command.js';
import { formatTable, printJson } from '../output.js';
import { AGENT_OPTIONS, flagsOf } from './agent.js';

export const DEFAULT_CONSOLE_DB = './mullet-console.db';

/** The console database: users, keys, sessions and the audit log (the same file `mullet serve --db` uses). */
const CONSOLE_DB: OptionSpec = { type: 'string', value: 'FILE', description: `console database (SQLite): users, API keys, audit log (default ${DEFAULT_CONSOLE_DB})`, env: 'MULLET_CONSOLE_DB' };

function dbFile(args: ParsedArgs, io: CliIo): string {
  const f = opt.str(args, 'db') ?? DEFAULT_CONSOLE_DB;
  return f === ':memory:' ? f : resolve(io.cwd, f);
}

/** Opens the console database; `create` false refuses a missing file (a typo in --db must not read an empty one). */
function openDb(args: ParsedArgs, io: CliIo, create: boolean): SqliteIdentityStore {
  const file = dbFile(args, io);
  if (!create && file !== ':memory:' && !existsSync(file)) {
    throw new MulletError('NOT_FOUND', `console database ${file} does not exist; create the first user with \`mullet users add NAME --role admin --db ${file}\``, { where: '--db' });
  }
  return SqliteIdentityStore.open(file, Date.now());
}

function cliActor(io: CliIo): Actor {
  let os: string | undefined;
  try {
    os = userInfo().username;
  } catch {
    os = undefined; // no passwd entry for this uid (containers)
  }
  return { kind: 'cli', name: io.env.SUDO_USER ?? io.env.USER ?? io.env.LOGNAME ?? os ?? 'unknown' };
}

async function withAuth<T>(args: ParsedArgs, io: CliIo, create: boolean, fn: (auth: AuthService, store: SqliteIdentityStore, actor: Actor) => Promise<T>): Promise<T> {
  const store = openDb(args, io, create);
  try {
    return await fn(new AuthService({ store, clock: systemClock }), store, cliActor(io));
  } finally {
    await store.close();
  }
}

/** Records a CLI change in the audit log (the CLI is a writer like any other). */
async function audit(store: SqliteIdentityStore, actor: Actor, e: Pick<AuditInput, 'action' | 'scope' | 'target' | 'result'> & { detail?: unknown }): Promise<void> {
  await store.appendAudit({ atMs: Date.now(), actorType: 'cli', actor: `cli:${actor.kind === 'cli' ? actor.name : 'unknown'}`, action: e.action, scope: e.scope, target: e.target, result: e.result, status: null, correlationId: null, detail: e.detail === undefined ? null : JSON.stringify(e.detail), ip: null });
}

/** Runs a change and audits it, failed or not. */
async function audited<T>(store: SqliteIdentityStore, actor: Actor, e: Pick<AuditInput, 'action' | 'scope' | 'target'> & { detail?: unknown }, fn: () => Promise<T>): Promise<T> {
  try {
    const r = await fn();
    await audit(store, actor, { ...e, result: 'ok' });
    return r;
  } catch (err) {
    await audit(store, actor, { ...e, result: err instanceof MulletError && (err.code === 'FORBIDDEN' || err.code === 'AUTH') ? 'denied' : 'failed', detail: { request: e.detail, error: describeError(err) } });
    throw err;
  }
}

function site(args: ParsedArgs): string | null {
  const s = opt.str(args, 'site');
  if (s === undefined) return null;
  const p = siteNameSchema.safeParse(s);
  if (!p.success) throw badInput(p.error.issues[0]?.message ?? 'invalid site name', '--site');
  return s;
}

/** Reads all of stdin (at most a few KiB), for `--password-stdin`; the trailing newline is dropped. */
async function readStdin(io: CliIo, maxBytes = 4 * 1024): Promise<string> {
  const input = io.stdin ?? process.stdin;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > maxBytes) throw badInput(`more than ${maxBytes} bytes on stdin; a password is one line`, '--password-stdin');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks on the terminal without echo. */
function promptHidden(io: CliIo, question: string): Promise<string> {
  const input = (io.stdin ?? process.stdin) as NodeJS.ReadStream;
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(badInput('stdin is not a terminal to ask for the password on: pipe it in with --password-stdin', '--password-stdin'));
  }
  io.stderr(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolvePw, reject) => {
    let buf = '';
    const done = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      io.stderr('\n');
    };
    const onData = (s: string): void => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolvePw(buf);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          done();
          reject(new MulletError('ABORTED', 'cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else if (buf.length < MAX_PASSWORD_CHARS + 1) buf += ch;
      }
    };
    input.on('data', onData);
  });
}

async function newPassword(args: ParsedArgs, io: CliIo): Promise<string> {
  if (opt.bool(args, 'password-stdin')) return readStdin(io);
  const a = await promptHidden(io, 'password: ');
  const b = await promptHidden(io, 'again: ');
  if (a !== b) throw badInput('the two passwords differ', 'password');
  return a;
}

const ROLE_OPTION: OptionSpec = { type: 'string', required: true, choices: ROLES, description: 'viewer (read), operator (curtail, restore), admin (users, keys, config), signals (post signals only: a DR provider or QSE)' };
const SITE_OPTION: OptionSpec = { type: 'string', value: 'SITE', description: 'limit the role to this site (default: all sites)' };

const usersAdd: CommandSpec = {
  path: ['users', 'add'],
  summary: 'create a console user with a role on all sites or one (password from a prompt or --password-stdin)',
  positionals: [{ name: 'NAME', description: 'user name (letters, digits, _ . @ -)', required: true }],
  options: {
    role: ROLE_OPTION,
    site: SITE_OPTION,
    'password-stdin': { type: 'boolean', description: 'read the password from stdin (one line) instead of asking on the terminal' },
    db: CONSOLE_DB,
  },
  json: true,
  examples: ['mullet users add alice --role admin', "printf '%s\\n' \"$PW\" | mullet users add qse-desk --role operator --site west-1 --password-stdin --db /var/lib/mullet/console.db"],
  async run(args, io) {
    const name = args.positionals[0] as string;
    const role = opt.str(args, 'role') as Role;
    const s = site(args);
    const password = await newPassword(args, io);
    const u = await withAuth(args, io, true, (auth, store, actor) => audited(store, actor, { action: 'users.create', scope: scopeOf({ role, site: s }), target: name, detail: { name, role, site: s } }, () => auth.addUser(actor, { name, password, role, site: s })));
    if (opt.bool(args, 'json')) printJson(io, { user: userView(u) });
    else io.stdout(`created user ${u.name}: ${describeGrant({ role: u.role, site: u.site })} (${dbFile(args, io)})\n`);
  },
};

const usersList: CommandSpec = {
  path: ['users', 'list'],
  summary: 'list console users and their roles',
  options: { db: CONSOLE_DB },
  json: true,
  async run(args, io) {
    const users = await withAuth(args, io, false, (auth, _s, actor) => auth.listUsers(actor));
    if (opt.bool(args, 'json')) return printJson(io, { users: users.map(userView) });
    io.stdout(formatTable(['name', 'role', 'site', 'disabled', 'created'], users.map((u) => [u.name, u.role, u.site ?? '(all)', u.disabled ? 'yes' : '', new Date(u.createdAtMs).toISOString()])));
  },
};

const usersSet: CommandSpec = {
  path: ['users', 'set'],
  summary: "change a user's role, site, password or disabled flag (their sessions end)",
  positionals: [{ name: 'NAME', description: 'user name', required: true }],
  options: {
    role: { ...ROLE_OPTION, required: false },
    site: SITE_OPTION,
    'all-sites': { type: 'boolean', description: 'widen the role to all sites' },
    disable: { type: 'boolean', description: 'disable the user (logins and their keys refused)' },
    enable: { type: 'boolean', description: 'enable the user again' },
    'password-stdin': { type: 'boolean', description: 'set a new password read from stdin' },
    password: { type: 'boolean', description: 'set a new password asked on the terminal' },
    db: CONSOLE_DB,
  },
  json: true,
  async run(args, io) {
    const name = args.positionals[0] as string;
    if (opt.bool(args, 'disable') && opt.bool(args, 'enable')) throw badInput('give --disable or --enable, not both', '--enable');
    if (opt.str(args, 'site') !== undefined && opt.bool(args, 'all-sites')) throw badInput('give --site or --all-sites, not both', '--all-sites');
    const role = opt.str(args, 'role') as Role | undefined;
    const siteP = opt.bool(args, 'all-sites') ? null : opt.str(args, 'site') !== undefined ? site(args) : undefined;
    const disabled = opt.bool(args, 'disable') ? true : opt.bool(args, 'enable') ? false : undefined;
    const password = opt.bool(args, 'password-stdin') || opt.bool(args, 'password') ? await newPassword(args, io) : undefined;
    if (role === undefined && siteP === undefined && disabled === undefined && password === undefined) throw badInput('nothing to change: give --role, --site/--all-sites, --disable/--enable or a new password', 'users set');
    const u = await withAuth(args, io, false, (auth, store, actor) =>
      audited(store, actor, { action: 'users.update', scope: '*', target: name, detail: { role, site: siteP, disabled, ...(password !== undefined ? { password: '(changed)' } : {}) } }, () => auth.updateUser(actor, name, { role, site: siteP, disabled, password })),
    );
    if (opt.bool(args, 'json')) printJson(io, { user: userView(u) });
    else io.stdout(`user ${u.name}: ${describeGrant({ role: u.role, site: u.site })}${u.disabled ? ', disabled' : ''}; their sessions have ended\n`);
  },
};

const keysCreate: CommandSpec = {
  path: ['keys', 'create'],
  summary: 'create an API key for a machine (printed once: store it now)',
  description: 'The key is printed on stdout, alone on its line (or as {"key": …, "info": …} with --json),\nand never again: the database keeps only its hash. Send it as `Authorization: Bearer <key>`.',
  options: {
    name: { type: 'string', required: true, value: 'NAME', description: 'what the key is for, e.g. "ercot-qse" (shown in lists and the audit log)' },
    role: ROLE_OPTION,
    site: SITE_OPTION,
    expires: { type: 'string', value: 'DURATION', description: "expire after this long, e.g. '90m', '12h', '30d' (default: never)" },
    db: CONSOLE_DB,
  },
  json: true,
  examples: ['mullet keys create --name ercot-qse --role signals --site west-1 --expires 90d', 'mullet keys create --name grafana --role viewer --json'],
  async run(args, io) {
    const name = opt.str(args, 'name') as string;
    const role = opt.str(args, 'role') as Role;
    const s = site(args);
    const exp = opt.str(args, 'expires');
    const expiresInMs = exp === undefined ? null : durationMs(exp, '--expires');
    const r = await withAuth(args, io, true, (auth, store, actor) => audited(store, actor, { action: 'keys.create', scope: scopeOf({ role, site: s }), target: null, detail: { name, role, site: s, expires: exp ?? null } }, () => auth.createKey(actor, { name, role, site: s, expiresInMs })));
    const info = keyView(r.row, Date.now());
    if (opt.bool(args, 'json')) return printJson(io, { key: r.key, info });
    io.stdout(`${r.key}\n`);
    io.stderr(`key ${info.id} '${info.name}': ${describeGrant({ role: info.role, site: info.site })}, ${info.expiresAt ? `expires ${info.expiresAt}` : 'never expires'}. Store it now: it is not shown again.\n`);
  },
};

const keysList: CommandSpec = {
  path: ['keys', 'list'],
  summary: 'list API keys (never the keys themselves): role, site, expiry, last use, revoked',
  options: { db: CONSOLE_DB },
  json: true,
  async run(args, io) {
    const keys = await withAuth(args, io, false, (auth, _s, actor) => auth.listKeys(actor));
    const now = Date.now();
    if (opt.bool(args, 'json')) return printJson(io, { keys: keys.map((k) => keyView(k, now)) });
    io.stdout(formatTable(['id', 'name', 'role', 'site', 'state', 'created by', 'expires', 'last used'], keys.map((k) => keyView(k, now)).map((k) => [k.id, k.name, k.role, k.site ?? '(all)', k.state, k.createdBy, k.expiresAt ?? 'never', k.lastUsedAt ?? 'never'])));
  },
};

const keysRevoke: CommandSpec = {
  path: ['keys', 'revoke'],
  summary: 'revoke an API key (refused from its next request on; kept on record)',
  positionals: [{ name: 'ID', description: "the key's id (12 hex digits, as `keys list` shows)", required: true }],
  options: { db: CONSOLE_DB },
  json: true,
  async run(args, io) {
    const id = args.positionals[0] as string;
    const k = await withAuth(args, io, false, (auth, store, actor) => audited(store, actor, { action: 'keys.revoke', scope: '*', target: id }, () => auth.revokeKey(actor, id)));
    if (opt.bool(args, 'json')) return printJson(io, { key: keyView(k, Date.now()) });
    io.stdout(`revoked key ${k.id} '${k.name}'\n`);
  },
};

const { db: _agentDb, 'allow-non-loopback': _anl, ...agentOptions } = AGENT_OPTIONS;

const serve: CommandSpec = {
  path: ['serve'],
  summary: 'run the site agent behind the authenticated console API (/api/v1: logins, roles, keys, audit)',
  description:
    'Runs the site agent exactly as `mullet agent` does (same flags and --config), but its HTTP edge is\n' +
    'the console: every route under /api/v1 needs a session (POST /api/v1/login) or an API key\n' +
    '(`Authorization: Bearer`), except /api/v1/health and /api/v1/login; every write is audited.\n' +
    'Users and keys live in --db (create the first admin with `mullet users add NAME --role admin`).\n' +
    'Loopback unless told otherwise; another address needs TLS (--tls-cert/--tls-key or console.tls in\n' +
    'the config) or --insecure-http, which is logged.',
  options: {
    ...agentOptions,
    db: CONSOLE_DB,
    'agent-db': { type: 'string', value: 'FILE', description: "the agent's SQLite state file (default: store.sqlite of --config, else mullet-agent.db)" },
    'tls-cert': { type: 'string', value: 'FILE', description: 'PEM certificate (chain): serve HTTPS' },
    'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key of --tls-cert' },
    'insecure-http': { type: 'boolean', description: 'allow a non-loopback --listen over plain HTTP (passwords and keys in clear text; logged)' },
    'data-db': { type: 'string', value: 'FILE', description: 'market store the analyst and strategy pages read: industry facts (mullet industry import) and market data for back-tests (default ./mullet.db when it exists; else those pages say how)', env: 'MULLET_DB' },
    'strategy-dir': { type: 'string', value: 'DIR', description: 'the site and portfolio YAML files console jobs may name (default ./examples)' },
  },
  examples: ['mullet users add admin --role admin && mullet serve --config agent.yaml', 'mullet serve --config agent.yaml --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem'],
  async run(args, io) {
    const log = (line: string): void => io.stderr(`${new Date().toISOString()} ${line}\n`);
    const flags = flagsOf(args);
    delete flags.dbFile;
    const agentDb = opt.str(args, 'agent-db');
    if (agentDb !== undefined) flags.dbFile = agentDb;
    const cfg = resolveAgentConfig(flags, io.cwd);
    const file = flags.configFile !== undefined ? readAgentConfig(resolve(io.cwd, flags.configFile)) : undefined;
    const fileCfg = file?.console;
    const certFlag = opt.str(args, 'tls-cert');
    const keyFlag = opt.str(args, 'tls-key');
    if ((certFlag === undefined) !== (keyFlag === undefined)) throw badInput('give both --tls-cert and --tls-key', certFlag === undefined ? '--tls-cert' : '--tls-key');
    const tls = certFlag !== undefined && keyFlag !== undefined ? { cert: resolve(io.cwd, certFlag), key: resolve(io.cwd, keyFlag) } : fileCfg?.tls;
    const insecureHttp = opt.bool(args, 'insecure-http') || fileCfg?.insecureHttp === true;
    const listen = parseHostPort(cfg.listen, '--listen', 8420);
    checkConsoleListen({ ...listen, ...(tls ? { tls } : {}), insecureHttp, log });
    const dbPath = opt.str(args, 'db') !== undefined ? dbFile(args, io) : (fileCfg?.db ?? dbFile(args, io));
    const dataDb = opt.str(args, 'data-db');
    const strategyDir = opt.str(args, 'strategy-dir');
    const pages = openPages({
      ...(dataDb !== undefined ? { dataDb } : fileCfg?.dataDb !== undefined ? { dataDb: fileCfg.dataDb } : {}),
      defaultDataDb: 'mullet.db',
      ...(strategyDir !== undefined ? { strategyDir } : fileCfg?.strategyDir !== undefined ? { strategyDir: fileCfg.strategyDir } : {}),
      defaultStrategyDir: 'examples',
      cwd: io.cwd,
      where: { dataDb: dataDb !== undefined || fileCfg?.dataDb === undefined ? '--data-db' : `${flags.configFile ?? 'config'}: console.dataDb`, strategyDir: strategyDir !== undefined || fileCfg?.strategyDir === undefined ? '--strategy-dir' : `${flags.configFile ?? 'config'}: console.strategyDir` },
      clock: systemClock,
      log,
    });
    let store: SqliteIdentityStore;
    try {
      store = SqliteIdentityStore.open(dbPath, Date.now());
    } catch (err) {
      await pages.close();
      throw err;
    }
    try {
      const auth = new AuthService({ store, clock: systemClock });
      if (!(await auth.hasUsers())) {
        io.stderr(
          `mullet serve: no console user yet, so nothing can be done through the console (every route but health and login answers 401).\n` +
            `  Create the first admin on this machine, with the same database:\n` +
            `    mullet users add admin --role admin --db ${dbPath}\n` +
            `  then log in at POST ${CONSOLE_API_BASE}/login (or create an API key: mullet keys create --name NAME --role viewer --db ${dbPath}).\n`,
        );
      }
      // Built with the agent (its site name), closed after it.
      const held: { alerts: Awaited<ReturnType<typeof startAlerts>>; detach?: () => void } = { alerts: null };
      let running: Awaited<ReturnType<typeof startAgent>>;
      try {
        running = await startAgent({
          ...cfg,
          log,
          serveApi: async (agent, limits) => {
            const alerts = await startAlerts({ cfg: file?.alerts, where: flags.configFile ?? 'mullet serve', env: io.env, site: agent.siteName, consoleDb: dbPath, clock: systemClock, log });
            held.alerts = alerts;
            if (alerts) held.detach = alerts.service.attach(agent);
            const app = consoleSiteApp({ agent, grid: agent, auth, clock: systemClock, secureCookies: tls !== undefined, ...(alerts ? { alerts: alerts.service } : {}), ...pages.deps }, { allowedHosts: cfg.allowedHosts ?? [], log, aliases: { '/metrics': '/metrics' } });
            return serveConsole(app, { ...listen, ...(tls ? { tls } : {}), insecureHttp, maxConnections: limits.maxConnections, log });
          },
        });
      } catch (err) {
        held.detach?.();
        await held.alerts?.close();
        throw err;
      }
      io.stderr(`mullet serve: console on ${running.http.url}/ and its API on ${running.http.url}${CONSOLE_API_BASE} (users, keys and audit in ${dbPath}; Ctrl-C to stop)\n`);
      try {
        await running.run(io.signal);
      } finally {
        log('stopping: closing sessions and the state database');
        held.detach?.();
        await running.close();
        await held.alerts?.close();
      }
    } finally {
      await pages.close();
      await store.close();
    }
  },
};

export const consoleCommands: readonly CommandSpec[] = [usersAdd, usersList, usersSet, keysCreate, keysList, keysRevoke, serve];
