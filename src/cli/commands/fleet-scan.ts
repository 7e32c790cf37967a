import path from 'node:path';
import { catalogAsicFor } from '../../catalog/catalog.js';
import { systemClock } from '../../core/time.js';
import { defaultDriverRegistry } from '../../fleet/drivers/index.js';
import { writeInventory } from '../../fleet/inventory.js';
import { DEFAULT_SCAN_CONCURRENCY, MAX_SCAN_CONCURRENCY, scanFleet } from '../../fleet/scan/scan.js';
import { countAddresses, parseTargets } from '../../fleet/scan/targets.js';
import { opt, need, type CommandSpec } from '../command.js';
import { formatTable, printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { LIMITS } from '../../core/limits.js';

/** Nameplate power of the catalog model a firmware string maps to ('M60S_VK40' → Whatsminer M60S), W; null when none. */
function catalogPowerW(model: string | null): number | null {
  return catalogAsicFor(model)?.powerW ?? null;
}

const scan: CommandSpec = {
  path: ['fleet', 'scan'],
  summary: 'discover miners on IPv4 ranges: identify model, firmware, driver type and capabilities; write an inventory',
  description:
    'Probes each address on the cgminer-style API port (version, then stats/summary), then the web port where the firmware ' +
    'controls through it, with a bounded worker pool (never more sockets open than --concurrency). Transient failures are ' +
    'retried once. Only loopback (127.0.0.0/8) is scanned unless --allow-non-loopback is given.',
  positionals: [{ name: 'CIDR', description: 'IPv4 ranges or addresses, e.g. 127.20.0.0/24 127.20.1.7', required: true, multiple: true }],
  options: {
    out: { type: 'string', value: 'FILE', description: 'write the inventory (JSON) to this file' },
    concurrency: { type: 'int', min: 1, max: MAX_SCAN_CONCURRENCY, value: 'N', unit: 'sockets', default: DEFAULT_SCAN_CONCURRENCY, description: 'probes (and open sockets) at once' },
    'timeout-ms': { type: 'int', min: 1, max: 1000 * LIMITS.periodS, value: 'MS', unit: 'ms', default: 2000, description: 'deadline per device call' },
    port: { type: 'int', min: 1, max: LIMITS.port, value: 'PORT', default: 4028, description: 'cgminer-style API port to probe' },
    'http-port': { type: 'int', min: 1, max: LIMITS.port, value: 'PORT', default: 80, description: 'web UI port for firmware controlled over HTTP' },
    user: { type: 'string', value: 'NAME', default: 'root', description: 'web UI user (stock Antminer default root)' },
    password: { type: 'string', value: 'TEXT', env: 'MULLET_MINER_PASSWORD', description: 'web UI / API password (default: firmware default)' },
    'allow-non-loopback': { type: 'boolean', description: 'allow targets outside 127.0.0.0/8 (real networks)' },
  },
  json: true,
  examples: ['mullet fleet scan 127.20.0.0/24 --out inventory.json', 'mullet fleet scan 127.20.0.0/16 --concurrency 512 --json > inventory.json'],
  async run(args, io) {
    const concurrency = need(opt.num(args, 'concurrency'), 'concurrency');
    const timeoutMs = need(opt.num(args, 'timeout-ms'), 'timeout-ms');
    const apiPort = need(opt.num(args, 'port'), 'port');
    const httpPort = need(opt.num(args, 'http-port'), 'http-port');
    const ranges = parseTargets(args.positionals, { allowNonLoopback: opt.bool(args, 'allow-non-loopback'), where: 'CIDR' });
    const total = countAddresses(ranges);
    const password = opt.str(args, 'password');
    const out = opt.str(args, 'out');

    io.stderr(`scanning ${total} address${total === 1 ? '' : 'es'} (port ${apiPort}, ${Math.min(concurrency, total)} at once)\n`);
    const progress = createProgress(io, 'scan');
    const { inventory, report } = await scanFleet({
      registry: defaultDriverRegistry(),
      ranges,
      concurrency,
      apiPort,
      httpPort,
      timeoutMs,
      clock: systemClock,
      signal: io.signal,
      creds: { username: opt.str(args, 'user') ?? 'root', ...(password === undefined ? {} : { password }) },
      ratedPowerW: catalogPowerW,
      catalogModel: (model) => catalogAsicFor(model)?.model ?? null,
      onProgress: (d, t) => progress.update(d, t),
    });
    progress.finish(`${report.found} miner(s), ${report.unidentified.length} unidentified, ${report.failed.length} failed`);
    for (const u of report.unidentified) io.stderr(`  unidentified ${u.host}: ${u.why}\n`);
    for (const f of report.failed) io.stderr(`  failed ${f.host}: ${f.code} ${f.message}\n`);
    for (const t of report.telemetryErrors) io.stderr(`  telemetry ${t.host}: ${t.code} ${t.message}\n`);

    if (out !== undefined) {
      const file = path.resolve(io.cwd, out);
      writeInventory(file, inventory);
      io.stderr(`inventory written to ${file}\n`);
    }
    if (opt.bool(args, 'json')) {
      printJson(io, inventory);
      return;
    }
    const rows = inventory.miners.map((m) => [m.id, m.host, m.type, m.model ?? '', m.catalogModel ?? '(not in catalog)', m.firmware ?? '', m.capabilities.join(','), m.hashrateThs, m.powerW, m.ratedPowerW]);
    io.stdout(formatTable(['id', 'host', 'type', 'model (firmware)', 'catalog model', 'firmware', 'capabilities', 'TH/s', 'W', 'rated W'], rows));
  },
};

export const fleetScanCommands: readonly CommandSpec[] = [scan];
