import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, parseDocument, stringify } from 'yaml';
import { catalogAsicFor } from '../../catalog/catalog.js';
import { badInput, MulletError } from '../../core/errors.js';
import { readInventory } from '../../fleet/inventory.js';
import { fleetEntries, fleetsFromInventory } from '../../site/fleets-from-inventory.js';
import { qseParameters } from '../../site/grid-products.js';
import { parseSite } from '../../site/parse.js';
import { readFlagFile } from '../flag-file.js';
import { need, opt, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';

const fleets: CommandSpec = {
  path: ['site', 'fleets'],
  summary: 'write the fleets: of a site file from a fleet inventory (one fleet per catalog model, with its count)',
  description: [
    'Groups the inventory (mullet fleet scan --out, or mullet sim --inventory-out) by the catalog model each',
    "miner's firmware names ('M60S_VK40' → Whatsminer M60S) and prints a fleets: list for a site file. With --site",
    'it prints that site file with its fleets: replaced (comments kept) and checks the result like mullet backtest',
    'would. Miners no catalog model matches are listed and the command fails (exit 2) unless --skip-unknown.',
  ].join('\n'),
  options: {
    inventory: { type: 'string', value: 'FILE', description: 'inventory JSON', required: true },
    site: { type: 'string', value: 'FILE', description: 'site YAML whose fleets: to replace (printed, not modified)' },
    out: { type: 'string', value: 'FILE', description: 'write the YAML here instead of stdout' },
    'pool-fee-pct': { type: 'number', min: 0, max: 99.99, value: 'P', unit: '%', description: 'pool fee for every fleet', default: 0 },
    pue: { type: 'number', min: 1, max: 3, value: 'X', description: 'mining overhead (metered / machine energy) for every fleet', default: 1 },
    'skip-unknown': { type: 'boolean', description: 'leave out miners whose model is not in the catalog (they are still listed on stderr)' },
  },
  json: true,
  examples: ['mullet site fleets --inventory inventory.json', 'mullet site fleets --inventory inventory.json --site site.yaml --pue 1.05 --out site.new.yaml'],
  async run(args, io) {
    const invFile = need(opt.str(args, 'inventory'), 'inventory');
    const inv = readInventory(path.resolve(io.cwd, invFile));
    const poolFeePct = need(opt.num(args, 'pool-fee-pct'), 'pool-fee-pct');
    const pue = need(opt.num(args, 'pue'), 'pue');
    // Inventories written before catalogModel existed: map the firmware's model string now.
    const miners = inv.miners.map((m) => ({ ...m, catalogModel: m.catalogModel ?? catalogAsicFor(m.model)?.model ?? null }));
    const { fleets: drafts, unmatched } = fleetsFromInventory(miners);
    for (const m of unmatched) io.stderr(`not in the catalog: ${m.id} (${m.host}) reports model '${m.model ?? 'none'}'\n`);
    if (unmatched.length > 0 && !opt.bool(args, 'skip-unknown')) {
      throw badInput(`${unmatched.length} of ${inv.miners.length} miners have no catalog model (listed above): add them to a catalog file, or pass --skip-unknown`, invFile);
    }
    if (drafts.length === 0) throw badInput('no miner with a catalog model: nothing to write', invFile);
    const entries = fleetEntries(drafts, { poolFeePct, pue });
    let text: string;
    const siteFile = opt.str(args, 'site');
    if (siteFile !== undefined) {
      let original: string;
      try {
        original = await readFile(path.resolve(io.cwd, siteFile), 'utf8');
      } catch (err) {
        throw new MulletError((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read: ${(err as Error).message}`, { where: siteFile, cause: err });
      }
      const doc = parseDocument(original);
      if (!isMap(doc.contents)) throw badInput('is not a YAML mapping (a site file)', siteFile);
      doc.set('fleets', doc.createNode(entries, { flow: false }));
      text = doc.toString();
      // The result must be a valid site (models in the catalog, the interconnect large enough for firm load…).
      parseSite(text, { file: `${siteFile} with fleets from ${invFile}` });
    } else {
      text = stringify({ fleets: entries });
    }
    const total = drafts.reduce((s, f) => s + f.count, 0);
    io.stderr(`${drafts.length} fleet(s), ${total} miners from ${invFile}${unmatched.length ? ` (${unmatched.length} left out)` : ''}\n`);
    const out = opt.str(args, 'out');
    if (out !== undefined) {
      await writeFile(path.resolve(io.cwd, out), text, 'utf8');
      io.stderr(`written to ${out}\n`);
    }
    if (opt.bool(args, 'json')) printJson(io, { fleets: entries, unmatched: unmatched.map((m) => ({ id: m.id, host: m.host, model: m.model })) });
    else if (out === undefined) io.stdout(text);
  },
};

const qse: CommandSpec = {
  path: ['site', 'qse'],
  summary: 'the controllable-load parameters a QSE registers for each resource that offers grid products',
  description: [
    'For every fleet and capped AI load with an ancillary: section, prints the products it qualifies for,',
    'its largest curtailable MW, ramp (MW/min), response time, longest deployment and weekly energy: computed',
    'from the fleet (nameplate × PUE, ramp limit) and the AI actuator (reducible MW, response, tenant contract).',
  ].join('\n'),
  options: { site: { type: 'string', value: 'FILE', description: 'site YAML', required: true } },
  json: true,
  examples: ['mullet site qse --site examples/west-texas-grid-services.yaml'],
  async run(args, io) {
    const file = need(opt.str(args, 'site'), 'site');
    const site = parseSite(await readFlagFile(io, file, '--site'), { file });
    const rows = qseParameters(site);
    if (opt.bool(args, 'json')) {
      printJson(io, { site: site.name, sb6LargeLoad: site.ancillary?.sb6LargeLoad ?? false, resources: rows });
      return;
    }
    if (rows.length === 0) {
      io.stdout(`${site.name}: no resource offers grid products (add ancillary: to a fleet or capped AI load)\n`);
      return;
    }
    io.stdout(
      formatTable(
        ['resource', 'kind', 'products', 'max MW', 'ramp MW/min', 'response s', 'max deployment min', 'max weekly MWh'],
        rows.map((r) => [r.resource, r.kind, r.products.join(' '), fmt(r.maxMW, 2), fmt(r.rampMWPerMinute, 2), fmt(r.responseSeconds, 0), r.maxDeploymentMinutes === null ? 'no limit' : fmt(r.maxDeploymentMinutes, 0), fmt(r.maxWeeklyEnergyMWh, 1)]),
      ) + (site.ancillary?.sb6LargeLoad ? 'SB 6: the site can draw ≥ 75 MW (large load: ERCOT may direct it to curtail in an emergency)\n' : ''),
    );
  },
};

export const siteCommands: readonly CommandSpec[] = [fleets, qse];
