import { randomInt } from 'node:crypto';
import net from 'node:net';
import { systemClock } from '../../core/time.js';
import { badInput } from '../../core/errors.js';
import { allocateAddresses } from '../../fleet/sim/cidr.js';
import { writeInventory } from '../../fleet/inventory.js';
import { parseHostPort } from '../../fleet/meter/meter-reader.js';
import { checkSimBind, isLoopbackHost } from '../../fleet/sim/bind.js';
import { ControlServer } from '../../fleet/sim/control-api.js';
import { defaultListenersPerProcess, SimFleet } from '../../fleet/sim/fleet.js';
import { DEFAULT_PORTS } from '../../fleet/sim/firmware.js';
import { DEFAULT_HOST_OPTIONS } from '../../fleet/sim/host.js';
import { simInventory } from '../../fleet/sim/inventory-export.js';
import { ModbusMeterServer } from '../../fleet/sim/meter-server.js';
import { DEFAULT_MINER_OPTIONS } from '../../fleet/sim/miner.js';
import { parseFirmwareMix, parseModelMix } from '../../fleet/sim/mix.js';
import { opt, need, type CommandSpec } from '../command.js';
import { printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { LIMITS } from '../../core/limits.js';
import { builtinCapabilities } from '../../fleet/drivers/index.js';

/**
 * Most simulated miners: 200,000 (4× the 50,000 the fleet benchmark runs, ~14 worker processes).
 * Each takes a loopback address and a listener; 10 M would have planned 10 M addresses and hung.
 */
const MAX_SIM_MINERS = 200_000;

const DEFAULT_MIX = 'antminer-stock:45,luxos:25,braiins-legacy:10,whatsminer-v2:20';
const DEFAULT_MODELS = 's19xp:1,s21:1,s21pro:1,s19jpro:1,m60s:1';

const sim: CommandSpec = {
  path: ['sim'],
  summary: 'serve simulated miners on loopback addresses with their real protocols, plus a site meter',
  description:
    'Each miner listens on its own loopback address taken in order from --cidr (skipping .0/.255), on its\n' +
    "firmware's real ports: the cgminer API on 4028 and, for stock Antminers, the digest-protected CGI on 80\n" +
    '(root or CAP_NET_BIND_SERVICE needed below 1024; see --http-port). Runs until Ctrl-C. More miners than one\n' +
    "process's descriptor budget are spread over worker processes. --control serves ground truth and faults;\n" +
    '--meter serves total site power (miners + --ai-load-mw) over Modbus TCP. See src/fleet/sim/README.md.',
  options: {
    miners: { type: 'int', min: 1, max: MAX_SIM_MINERS, value: 'N', unit: 'miners', description: 'number of simulated miners', required: true },
    cidr: { type: 'string', value: 'CIDR', description: "loopback block to take addresses from, or 'auto': a random free 127.x.y.0/24 (/16 above 254 miners), printed (shared hosts)", default: '127.20.0.0/16' },
    mix: { type: 'string', value: 'FW:W,…', description: 'firmware mix by weight (antminer-stock, luxos, braiins-legacy, whatsminer-v2)', default: DEFAULT_MIX },
    models: { type: 'string', value: 'MODEL:W,…', description: 'model mix by weight (catalog names or ids; each firmware gets its vendor’s models)', default: DEFAULT_MODELS },
    seed: { type: 'int', min: 0, max: LIMITS.seed, value: 'S', description: 'seed for assignment, noise and random faults', default: 1 },
    'time-scale': { type: 'number', gt: 0, max: 10_000, value: 'K', unit: 'sim s per wall s', description: 'run the physics K times faster than the wall clock', default: 1 },
    'fault-rate': { type: 'number', min: 0, max: 1, value: 'P', unit: 'probability per request', description: 'random transient faults (timeouts, truncation, garbage, refusals, auth expiry, reboots)', default: 0 },
    meter: { type: 'string', value: 'HOST:PORT', description: 'serve the site revenue meter (Modbus TCP) here (loopback unless --allow-non-loopback)' },
    control: { type: 'string', value: 'HOST:PORT', description: 'serve the control API (ground truth, faults) here (loopback unless --allow-non-loopback)' },
    'allow-non-loopback': { type: 'boolean', description: 'let --meter and --control bind addresses other machines can reach (no authentication on either); miners stay on loopback' },
    'ai-load-mw': { type: 'number', min: 0, max: LIMITS.siteMW, value: 'MW', unit: 'MW', description: 'firm AI load the meter adds to the miners', default: 0 },
    'inventory-out': { type: 'string', value: 'FILE', description: 'write the fleet as an inventory file (scanner format)' },
    'fds-per-process': { type: 'int', min: 2, max: 1_048_576, value: 'N', unit: 'listening sockets', description: 'listeners per process before another worker is forked (default: ulimit -n minus 4096)' },
    processes: { type: 'int', min: 1, max: LIMITS.workers, value: 'N', unit: 'processes', description: 'spread the miners over at least N worker processes (use the cores)', default: 1 },
    'api-port': { type: 'int', min: 1, max: LIMITS.port, value: 'PORT', description: 'cgminer API port', default: DEFAULT_PORTS.api },
    'http-port': { type: 'int', min: 1, max: LIMITS.port, value: 'PORT', description: 'stock Antminer web/CGI port', default: DEFAULT_PORTS.http },
    'start-asleep': { type: 'boolean', description: 'start every miner asleep instead of mining' },
    'ambient-c': { type: 'number', min: -50, max: 60, value: 'C', unit: '°C', description: 'intake air temperature', default: 25 },
  },
  json: true,
  examples: [
    'mullet sim --miners 20 --cidr 127.20.0.0/24 --control 127.0.0.1:8421 --meter 127.0.0.1:5020',
    'mullet sim --miners 10000 --mix antminer-stock:50,luxos:30,whatsminer-v2:20 --time-scale 60 --inventory-out sim.json',
  ],
  async run(args, io) {
    const miners = need(opt.num(args, 'miners'), 'miners');
    const timeScale = opt.num(args, 'time-scale') ?? 1;
    const faultRate = opt.num(args, 'fault-rate') ?? 0;
    const aiLoadMW = opt.num(args, 'ai-load-mw') ?? 0;
    const ports = { api: opt.num(args, 'api-port') ?? DEFAULT_PORTS.api, http: opt.num(args, 'http-port') ?? DEFAULT_PORTS.http };
    const fds = opt.num(args, 'fds-per-process') ?? Math.max(2, defaultListenersPerProcess());
    const processes = opt.num(args, 'processes') ?? 1;
    const meterAt = opt.str(args, 'meter');
    const controlAt = opt.str(args, 'control');
    const meterAddr = meterAt === undefined ? undefined : parseHostPort(meterAt, '--meter');
    const controlAddr = controlAt === undefined ? undefined : parseHostPort(controlAt, '--control');
    // Checked before thousands of miner listeners are bound, not after.
    const allowNonLoopback = opt.bool(args, 'allow-non-loopback');
    if (meterAddr) checkSimBind(meterAddr.host, '--meter', allowNonLoopback);
    if (controlAddr) checkSimBind(controlAddr.host, '--control', allowNonLoopback);
    for (const [flag, addr] of [['--meter', meterAddr], ['--control', controlAddr]] as const) {
      if (addr && !isLoopbackHost(addr.host)) io.stderr(`sim: WARNING: ${flag} ${addr.host}:${addr.port} is reachable from other machines and has no authentication\n`);
    }

    let cidr = opt.str(args, 'cidr') ?? '127.20.0.0/16';
    if (cidr === 'auto') {
      cidr = await freeLoopbackBlock(miners, [ports.api, ports.http]);
      io.stderr(`sim: --cidr auto chose ${cidr}\n`);
    }
    const progress = createProgress(io, 'sim: binding listeners');
    const fleet = await SimFleet.start(
      {
        miners,
        cidr,
        mix: parseFirmwareMix(opt.str(args, 'mix') ?? DEFAULT_MIX),
        models: parseModelMix(opt.str(args, 'models') ?? DEFAULT_MODELS),
        seed: opt.num(args, 'seed') ?? 1,
        timeScale,
        listenersPerProcess: fds,
        minProcesses: processes,
        aiLoadW: aiLoadMW * 1e6,
        host: { ...DEFAULT_HOST_OPTIONS, ports },
        miner: { ...DEFAULT_MINER_OPTIONS, faultRate, ambientC: opt.num(args, 'ambient-c') ?? 25, startAsleep: opt.bool(args, 'start-asleep') },
      },
      (bound, total) => progress.update(bound, total),
    );
    progress.finish(`${miners} miners, ${fleet.listeners} listeners, ${fleet.workers || 1} process(es)`);

    let meter: ModbusMeterServer | undefined;
    let control: ControlServer | undefined;
    try {
      let meterBound: { host: string; port: number } | undefined;
      let controlBound: { host: string; port: number } | undefined;
      if (meterAddr) {
        meter = new ModbusMeterServer(fleet, { cacheMs: 200, wall: systemClock, sim: fleet.clocks.sim });
        meterBound = await meter.listen(meterAddr.host, meterAddr.port, { allowNonLoopback });
      }
      if (controlAddr) {
        control = new ControlServer(fleet);
        controlBound = await control.listen(controlAddr.host, controlAddr.port, { allowNonLoopback });
      }
      const inventoryOut = opt.str(args, 'inventory-out');
      if (inventoryOut !== undefined) writeInventory(inventoryOut, simInventory(fleet.miners, await fleet.truth(), systemClock.nowMs(), builtinCapabilities));

      const first = fleet.miners[0];
      const last = fleet.miners[fleet.miners.length - 1];
      const controlUrl = controlBound ? `http://${controlBound.host}:${controlBound.port}` : null;
      const meterText = meterBound ? `${meterBound.host}:${meterBound.port}` : null;
      if (opt.bool(args, 'json')) {
        printJson(io, {
          miners: fleet.miners.length,
          startupMs: fleet.startupMs,
          workers: fleet.workers,
          listeners: fleet.listeners,
          seed: opt.num(args, 'seed') ?? 1,
          timeScale,
          cidr,
          control: controlUrl,
          meter: meterText,
          aiLoadW: fleet.aiLoadW,
          fleet: fleet.miners,
        });
      } else {
        io.stdout(
          `sim: ${fleet.miners.length} miners listening on ${first?.ip ?? ''}–${last?.ip ?? ''} in ${(fleet.startupMs / 1000).toFixed(1)} s ` +
            `(${fleet.listeners} listeners, ${fleet.workers || 1} process(es))\n` +
            (controlUrl ? `sim: control API ${controlUrl}\n` : '') +
            (meterText ? `sim: site meter modbus://${meterText} (total power float32 W at input register 0x0034)\n` : ''),
        );
        io.stderr('sim: running; Ctrl-C to stop\n');
      }
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      io.stderr('sim: stopping\n');
    } finally {
      await control?.close();
      await meter?.close();
      await fleet.close();
    }
  },
};

/**
 * False when something already listens on host:port (EADDRINUSE); other bind errors (a port below
 * 1024 without the right) are not a collision: the simulator reports them itself.
 */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    const timer = setTimeout(() => {
      s.close();
      resolve(false);
    }, 2_000);
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code !== 'EADDRINUSE');
    });
    s.listen({ host, port, exclusive: true }, () => {
      clearTimeout(timer);
      s.close(() => resolve(true));
    });
  });
}

function randomBlock(n: number): string {
  return n <= 254 ? `127.${randomInt(32, 251)}.${randomInt(0, 256)}.0/24` : `127.${randomInt(32, 251)}.0.0/16`;
}

/**
 * A random loopback block for `n` miners whose first and last addresses are free on the miner
 * ports: another user's simulator on the same host (the walkthrough's fixed 127.31.0.0/24 once
 * collided) picks another. 127.32–250.x.y keeps clear of 127.0.0.1 and the documented examples.
 */
export async function freeLoopbackBlock(n: number, ports: readonly number[], tries = 20, pick: (n: number) => string = randomBlock): Promise<string> {
  for (let i = 0; i < tries; i++) {
    const cidr = pick(n);
    const addrs = allocateAddresses(cidr, n);
    const probe = [addrs[0], addrs[addrs.length - 1]].filter((a): a is string => a !== undefined);
    let free = true;
    for (const a of probe) for (const p of ports) if (free && !(await portFree(a, p))) free = false;
    if (free) return cidr;
  }
  throw badInput(`found no free loopback block for ${n} miners in ${tries} tries; give one (e.g. 127.77.3.0/24)`, '--cidr');
}

export const simCommands: readonly CommandSpec[] = [sim];
