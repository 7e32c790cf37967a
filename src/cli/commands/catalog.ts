import { findAsic, findGpu, gpuItKw } from '../../catalog/catalog.js';
import { loadCatalog } from '../../catalog/load.js';
import type { Asic, Catalog, Gpu } from '../../catalog/types.js';
import { isMulletError } from '../../core/errors.js';
import { opt, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';

function asicTable(asics: readonly Asic[]): string {
  return formatTable(
    ['manufacturer', 'model', 'TH/s', 'power W', 'J/TH', 'year', 'cooling', 'curve'],
    asics.map((a) => [a.manufacturer, a.model, fmt(a.hashrateThs, 1), fmt(a.powerW, 0), fmt(a.efficiencyJPerTh, 1), a.releaseYear ?? '', a.cooling, a.efficiencyCurve ? 'yes' : '']),
  );
}

function gpuTable(gpus: readonly Gpu[]): string {
  return formatTable(
    ['manufacturer', 'model', 'GPU W', 'server W/GPU', 'IT kW/GPU', 'memory GB', 'year', 'cooling', 'form factor'],
    gpus.map((g) => [g.manufacturer, g.model, fmt(g.powerW, 0), fmt(g.serverOverheadWPerGpu, 0), fmt(gpuItKw(g), 3), fmt(g.memoryGb, 0), g.releaseYear ?? '', g.cooling, g.formFactor]),
  );
}

function detail(entry: Asic | Gpu, kind: 'asic' | 'gpu'): string {
  const lines = Object.entries(entry)
    .filter(([k]) => k !== 'efficiencyCurve')
    .map(([k, val]) => `  ${k.padEnd(22)} ${String(val)}`);
  if (kind === 'gpu') lines.push(`  ${'itKwPerGpu'.padEnd(22)} ${fmt(gpuItKw(entry as Gpu), 3)}`);
  const curve = (entry as Asic).efficiencyCurve;
  if (curve) {
    lines.push('', formatTable(['power fraction', 'power W', 'J/TH', 'TH/s'], curve.map((p) => [fmt(p.powerFraction), fmt((entry as Asic).powerW * p.powerFraction, 0), fmt(p.jPerTh), fmt(((entry as Asic).powerW * p.powerFraction) / p.jPerTh, 1)])).trimEnd());
  }
  return `${kind === 'asic' ? 'ASIC' : 'GPU'} ${entry.manufacturer} ${entry.model}\n${lines.join('\n')}\n`;
}

function lookup(catalog: Catalog, name: string, kind: string | undefined): { kind: 'asic' | 'gpu'; entry: Asic | Gpu } {
  if (kind === 'gpu') return { kind: 'gpu', entry: findGpu(name, catalog, '<model>') };
  try {
    return { kind: 'asic', entry: findAsic(name, catalog, '<model>') };
  } catch (asicErr) {
    if (kind === 'asic' || !isMulletError(asicErr)) throw asicErr;
    try {
      return { kind: 'gpu', entry: findGpu(name, catalog, '<model>') };
    } catch {
      throw asicErr; // the ASIC error lists its near matches; GPU names are rarely confused with ASICs
    }
  }
}

const catalog: CommandSpec = {
  path: ['catalog'],
  summary: 'list the hardware catalog (ASICs, GPUs) or show one model',
  description:
    'ASIC figures are manufacturer nameplate (stock firmware, wall power). GPU "server W/GPU" is the rest of the\n' +
    'server per GPU; IT kW/GPU = (GPU W + server W/GPU) / 1000. Model lookup ignores case and brand words.',
  positionals: [{ name: 'model', description: 'show one model, e.g. "S21" or "Antminer S19 XP"' }],
  options: {
    kind: { type: 'string', value: 'KIND', description: 'only ASICs or only GPUs', choices: ['asic', 'gpu'] },
    file: { type: 'string', value: 'FILE', description: 'extra catalog (YAML or JSON with `asics:` / `gpus:` lists); same model overrides built-in' },
  },
  json: true,
  examples: ['mullet catalog --kind asic', 'mullet catalog "Antminer S21" --json', 'mullet catalog --file my-miners.yaml'],
  async run(args, io) {
    const kind = opt.str(args, 'kind');
    const { catalog: cat, overrides } = await loadCatalog({ extraFile: opt.str(args, 'file'), cwd: io.cwd });
    for (const o of overrides) io.stderr(`note: ${o}\n`);
    const json = opt.bool(args, 'json');
    const model = args.positionals[0];
    if (model !== undefined) {
      const found = lookup(cat, model, kind);
      if (json) printJson(io, { kind: found.kind, ...found.entry, ...(found.kind === 'gpu' ? { itKwPerGpu: gpuItKw(found.entry as Gpu) } : {}) });
      else io.stdout(detail(found.entry, found.kind));
      return;
    }
    const showAsics = kind !== 'gpu';
    const showGpus = kind !== 'asic';
    if (json) {
      printJson(io, {
        ...(showAsics ? { asics: cat.asics } : {}),
        ...(showGpus ? { gpus: cat.gpus.map((g) => ({ ...g, itKwPerGpu: gpuItKw(g) })) } : {}),
        overrides,
      });
      return;
    }
    const parts: string[] = [];
    if (showAsics) parts.push(`ASICs (${cat.asics.length})\n${asicTable(cat.asics)}`);
    if (showGpus) parts.push(`GPUs (${cat.gpus.length})\n${gpuTable(cat.gpus)}`);
    io.stdout(parts.join('\n'));
  },
};

export const catalogCommands: readonly CommandSpec[] = [catalog];
