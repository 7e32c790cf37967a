import http from 'node:http';
import net from 'node:net';
import { MulletError } from '../../core/errors.js';
import { MAX_REQUEST_BYTES, parseApiRequest, type ParseResult } from './cgminer-wire.js';
import type { FaultSpec, RequestFault } from './faults.js';
import { DEFAULT_PORTS } from './firmware.js';
import { DEFAULT_MINER_OPTIONS, SimMiner, type MinerOptions, type MinerSpec, type MinerTruth, type SimClocks } from './miner.js';
import { MINER_STATES, type MinerState } from './physics.js';
import { BEHAVIOURS } from './servers/index.js';
import type { HttpRequestInfo } from './servers/common.js';

/**
 * Serves a set of simulated miners in this process: one listener per miner per port on the
 * miner's own loopback address, connections handled with a few closures and one Buffer each,
 * faults applied between framing and the firmware behaviour. Listeners close while a miner
 * reboots, is off or refuses, and a light maintenance timer reopens them (only the closed ones
 * are visited). Physics is evaluated lazily on each request, so idle miners cost nothing.
 */
export interface HostOptions {
  readonly ports: { readonly api: number; readonly http: number };
  /** listen() backlog per listener (the kernel caps it at net.core.somaxconn). */
  readonly backlog: number;
  /** A timeout fault holds the socket this long before dropping it, wall ms. */
  readonly holdMs: number;
  /** Connections idle this long are dropped, wall ms. */
  readonly idleMs: number;
  /**
   * An unfinished JSON request is answered "Invalid JSON" after this long without more bytes
   * (cgminer parses what its single recv() got; this allows a request split across segments), ms.
   */
  readonly partialRequestMs: number;
  /** Period of the reopen check for closed listeners, wall ms (0: no timer; tests call maintain()). */
  readonly maintainEveryMs: number;
  readonly miner: MinerOptions;
}

export const DEFAULT_HOST_OPTIONS: HostOptions = {
  ports: DEFAULT_PORTS,
  backlog: 511,
  holdMs: 60_000,
  idleMs: 30_000,
  partialRequestMs: 250,
  maintainEveryMs: 100,
  miner: DEFAULT_MINER_OPTIONS,
};

type Phase = 'closed' | 'opening' | 'open';

interface Slot {
  api: net.Server | undefined;
  http: http.Server | undefined;
  phase: Phase;
}

/** Action the control API may take on a miner (besides faults). */
export const MINER_ACTIONS = ['reboot', 'power-off', 'power-on', 'sleep', 'wake'] as const;
export type MinerAction = (typeof MINER_ACTIONS)[number];

export type StateCounts = Record<MinerState, number>;

/** Ground-truth filter (all given fields must match). */
export interface TruthFilter {
  readonly state?: MinerState | undefined;
  readonly firmware?: string | undefined;
  readonly model?: string | undefined;
}

const noop = (): void => undefined;

export class SimHost {
  readonly miners: readonly SimMiner[];
  private readonly byIp = new Map<string, SimMiner>();
  private readonly slots = new Map<SimMiner, Slot>();
  private readonly closed = new Set<SimMiner>();
  private readonly sockets = new Set<net.Socket>();
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    specs: readonly MinerSpec[],
    readonly clocks: SimClocks,
    readonly opts: HostOptions = DEFAULT_HOST_OPTIONS,
  ) {
    this.miners = specs.map((s) => new SimMiner(s, clocks, opts.miner));
    for (const m of this.miners) this.byIp.set(m.ip, m);
    for (const m of this.miners) this.slots.set(m, { api: undefined, http: undefined, phase: 'closed' });
  }

  /** Listening sockets this host needs (per-process descriptor budgeting). */
  static listenerCount(specs: readonly { readonly firmware: keyof typeof BEHAVIOURS }[]): number {
    return specs.reduce((n, s) => n + (BEHAVIOURS[s.firmware].http ? 2 : 1), 0);
  }

  /** Binds every miner's listeners; rejects (and closes what was bound) if any bind fails. */
  async start(onProgress?: (bound: number, total: number) => void): Promise<void> {
    let bound = 0;
    const total = this.miners.length;
    try {
      // Binding is cheap and synchronous in libuv; chunks keep the event loop responsive.
      const CHUNK = 2000;
      for (let i = 0; i < total; i += CHUNK) {
        await Promise.all(
          this.miners.slice(i, i + CHUNK).map(async (m) => {
            await this.open(m);
            bound++;
          }),
        );
        onProgress?.(bound, total);
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    if (this.opts.maintainEveryMs > 0) {
      this.timer = setInterval(() => void this.maintain(), this.opts.maintainEveryMs);
      this.timer.unref();
    }
  }

  /** Stops every listener and drops open connections. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        slot.http?.closeAllConnections();
        await Promise.all([closeServer(slot.api), closeServer(slot.http)]);
        slot.phase = 'closed';
      }),
    );
    for (const m of this.miners) m.listening = false;
  }

  /**
   * Reopens listeners of miners that may listen again (after a reboot, a refused period,
   * power-on). The timer calls it; tests with fake clocks call it and await the reopening.
   */
  maintain(): Promise<void> {
    if (!this.stopped) for (const m of this.closed) this.sync(m);
    return this.settled();
  }

  /** Resolves when every listener being (re)opened is bound or has failed. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Opens or closes a miner's listeners to match its state. */
  sync(m: SimMiner): void {
    if (this.stopped) return;
    const slot = this.slotOf(m);
    const want = m.shouldListen();
    if (want && slot.phase === 'closed') {
      const p: Promise<void> = this.open(m)
        .catch(() => {
          // Rebinding can fail transiently; the next maintain() retries.
          slot.phase = 'closed';
          this.closed.add(m);
        })
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
    } else if (!want && slot.phase !== 'closed') {
      slot.phase = 'closed';
      m.listening = false;
      this.closed.add(m);
      void closeServer(slot.api);
      if (slot.http) {
        slot.http.closeIdleConnections();
        void closeServer(slot.http);
      }
    } else if (!want) {
      this.closed.add(m);
    }
  }

  private slotOf(m: SimMiner): Slot {
    const slot = this.slots.get(m);
    if (!slot) throw new MulletError('INTERNAL', `miner ${m.ip} is not served by this host`);
    return slot;
  }

  private async open(m: SimMiner): Promise<void> {
    const slot = this.slotOf(m);
    if (!m.shouldListen()) {
      this.closed.add(m);
      return;
    }
    slot.phase = 'opening';
    const behaviour = BEHAVIOURS[m.firmware];
    if (!slot.api) {
      slot.api = net.createServer({ allowHalfOpen: true }, (sock) => this.onApi(m, sock));
      // Accept errors (EMFILE under overload) must not crash the process; the client sees a reset.
      slot.api.on('error', noop);
    }
    if (behaviour.http && !slot.http) {
      slot.http = this.createHttp(m);
      slot.http.on('error', noop);
    }
    try {
      await listen(slot.api, m.ip, this.opts.ports.api, this.opts.backlog);
      if (slot.http) await listen(slot.http, m.ip, this.opts.ports.http, this.opts.backlog);
    } catch (err) {
      await Promise.all([closeServer(slot.api), closeServer(slot.http)]);
      slot.phase = 'closed';
      throw err;
    }
    if (this.stopped) return;
    slot.phase = 'open';
    m.listening = true;
    this.closed.delete(m);
    // It may have started rebooting while we were binding.
    if (!m.shouldListen()) this.sync(m);
  }

  private track(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    sock.on('error', noop);
  }

  private onApi(m: SimMiner, sock: net.Socket): void {
    this.track(sock);
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.idleMs, () => sock.destroy());
    let buf: Buffer | undefined;
    let handled = false;
    let partial: NodeJS.Timeout | undefined;
    const attempt = (ended: boolean): void => {
      if (handled) return;
      const r = parseApiRequest(buf ?? Buffer.alloc(0), ended);
      if (r.kind === 'incomplete') return;
      handled = true;
      buf = undefined;
      if (partial) clearTimeout(partial);
      this.respondApi(m, sock, r);
    };
    sock.on('data', (d: Buffer) => {
      if (handled) return;
      buf = buf ? Buffer.concat([buf, d]) : d;
      if (buf.length > MAX_REQUEST_BYTES) buf = buf.subarray(0, MAX_REQUEST_BYTES);
      attempt(false);
      if (!handled) {
        if (partial) clearTimeout(partial);
        partial = setTimeout(() => attempt(true), this.opts.partialRequestMs);
      }
    });
    sock.once('close', () => {
      if (partial) clearTimeout(partial);
    });
    sock.on('end', () => {
      attempt(true);
      if (!handled) sock.destroy();
    });
  }

  private respondApi(m: SimMiner, sock: net.Socket, r: Exclude<ParseResult, { kind: 'incomplete' }>): void {
    m.requests++;
    const wall = this.clocks.wall.nowMs();
    const fault = m.faults.takeRequestFault('api', wall) ?? m.faults.drawRandom();
    const behaviour = BEHAVIOURS[m.firmware];
    if (fault && this.applyFault(m, fault, sock)) return;
    const outcome =
      r.kind === 'request'
        ? behaviour.api(m, r.request)
        : r.kind === 'invalid-json'
          ? behaviour.apiError(m, 23, 'Invalid JSON')
          : behaviour.apiError(m, 24, "Missing JSON 'command'");
    if (fault?.kind === 'garbage') {
      sock.end(m.faults.garbage());
    } else if (fault?.kind === 'truncated') {
      const full = Buffer.from(outcome.reply, 'utf8');
      sock.end(full.subarray(0, Math.max(1, Math.floor(full.length / 2))));
    } else {
      sock.end(outcome.reply + '\0');
    }
    // A command may have rebooted the miner: close its listeners once the reply is out.
    this.sync(m);
  }

  /**
   * The connection-level part of a fault, shared by the API and HTTP ports: true when the socket is
   * done with (no reply follows). Truncated and garbage replies are shaped by each port.
   */
  private applyFault(m: SimMiner, fault: RequestFault | { readonly kind: 'auth-expiry' }, sock: net.Socket): boolean {
    switch (fault.kind) {
      case 'timeout':
        sock.setTimeout(this.opts.holdMs, () => sock.destroy());
        return true;
      case 'refused':
        m.addFault({ kind: 'refused', durationMs: fault.durationMs });
        sock.destroy();
        this.sync(m);
        return true;
      case 'reboot':
        sock.destroy();
        m.reboot('fault: reboot during a command', fault.rebootMs);
        this.sync(m);
        return true;
      case 'auth-expiry':
        m.expireAuth();
        return false;
      case 'truncated':
      case 'garbage':
        return false;
    }
  }

  private createHttp(m: SimMiner): http.Server {
    const server = http.createServer({ keepAliveTimeout: 5_000, requestTimeout: 30_000, headersTimeout: 20_000 }, (req, res) => this.onHttp(m, req, res));
    server.on('connection', (sock: net.Socket) => this.track(sock));
    server.on('clientError', (_err, sock: net.Socket) => sock.destroy());
    return server;
  }

  private onHttp(m: SimMiner, req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(d);
    });
    req.on('end', () => {
      m.requests++;
      const sock = req.socket;
      const fault = m.faults.takeRequestFault('http', this.clocks.wall.nowMs()) ?? m.faults.drawRandom();
      if (fault && this.applyFault(m, fault, sock)) return;
      if (fault?.kind === 'garbage') {
        sock.end(m.faults.garbage());
        sock.destroySoon();
        return;
      }
      const url = req.url ?? '/';
      const info: HttpRequestInfo = {
        method: req.method ?? 'GET',
        path: url.split('?')[0] ?? url,
        url,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const behaviour = BEHAVIOURS[m.firmware];
      const out = behaviour.http
        ? behaviour.http(m, info)
        : { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found\n' };
      const body = Buffer.from(out.body, 'utf8');
      res.writeHead(out.status, { ...out.headers, 'Content-Length': String(body.length) });
      if (fault?.kind === 'truncated') {
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => sock.destroy());
        return;
      }
      res.end(body, () => this.sync(m));
    });
  }

  /** The miner bound to `ip`, if this host serves it. */
  miner(ip: string): SimMiner | undefined {
    return this.byIp.get(ip);
  }

  /** Ground truth of every miner (or one), optionally only those matching `filter`. */
  truth(ip?: string, filter: TruthFilter = {}): MinerTruth[] {
    if (ip !== undefined) {
      const m = this.byIp.get(ip);
      return m ? [m.truth()] : [];
    }
    const out: MinerTruth[] = [];
    for (const m of this.miners) {
      if (filter.firmware !== undefined && m.firmware !== filter.firmware) continue;
      if (filter.model !== undefined && m.model.id !== filter.model) continue;
      if (filter.state !== undefined && m.stateNow() !== filter.state) continue;
      out.push(m.truth());
    }
    return out;
  }

  /** Total wall power of all miners now, W. */
  sitePowerW(): number {
    let sum = 0;
    for (const m of this.miners) sum += m.powerNow();
    return sum;
  }

  /** Miners per state now. */
  stateCounts(): StateCounts {
    const out = Object.fromEntries(MINER_STATES.map((s) => [s, 0])) as StateCounts;
    for (const m of this.miners) out[m.stateNow()]++;
    return out;
  }

  /** Adds a fault to a miner (false if the ip is not served here). */
  addFault(ip: string, spec: FaultSpec): boolean {
    const m = this.byIp.get(ip);
    if (!m) return false;
    m.addFault(spec);
    this.sync(m);
    return true;
  }

  clearFaults(ip: string): boolean {
    const m = this.byIp.get(ip);
    if (!m) return false;
    m.faults.clear();
    this.sync(m);
    return true;
  }

  /** Acts on a miner directly, as a technician or a PDU would (false if the ip is not served here). */
  act(ip: string, action: MinerAction): boolean {
    const m = this.byIp.get(ip);
    if (!m) return false;
    switch (action) {
      case 'reboot':
        m.reboot('control: reboot');
        break;
      case 'power-off':
        m.apply({ kind: 'power-off' }, 'control: power-off');
        break;
      case 'power-on':
        m.apply({ kind: 'power-on' }, 'control: power-on');
        break;
      case 'sleep':
        m.sleep('control: sleep');
        break;
      case 'wake':
        m.wake('control: wake');
        break;
    }
    this.sync(m);
    return true;
  }
}

function listen(server: net.Server, host: string, port: number, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const hint = err.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE; see --http-port)' : err.code === 'EMFILE' ? ' (out of file descriptors: lower --fds-per-process)' : '';
      reject(new MulletError('IO', `cannot listen on ${host}:${port}: ${err.message}${hint}`, { cause: err, where: `${host}:${port}` }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, backlog, exclusive: true });
  });
}

function closeServer(server: net.Server | undefined): Promise<void> {
  if (!server || !server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
