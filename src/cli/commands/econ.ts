import { revenueUsdPerMWh } from '../../bitcoin/asic.js';
import { hashprice } from '../../bitcoin/hashprice.js';
import { findGpu } from '../../catalog/catalog.js';
import { loadCatalog } from '../../catalog/load.js';
import { GPU_CLOUD_DEFAULTS, gpuCloudEconomics } from '../../compute/gpu-cloud.js';
import { LEASE_POWER_PASS_THROUGH_DEFAULT, usdPerMWhItFromUsdPerKwMonth, usdPerMWhMeterFromUsdPerKwMonth } from '../../compute/lease.js';
import { badInput } from '../../core/errors.js';
import { parseUtcDate } from '../../core/time.js';
import { hashpriceInputsForDate, readBtcDayView } from '../../market/hashprice-inputs.js';
import { FEE_SHARE_OPTION, feeShareOption, readInputs } from './hashprice.js';
import { opt, need, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { DB_OPTION, openExistingStore, resolveStoreLocation } from '../store-open.js';
import { LIMITS } from '../../core/limits.js';

export interface EconRow {
  use: 'mining' | 'ai-lease' | 'gpu-cloud';
  name: string;
  /** Revenue per MWh imported at the meter, USD/MWh (for mining also its break-even power price). */
  revenueUsdPerMWh: number;
  revenueUsdPerKWh: number;
  efficiencyJPerTh?: number;
  detail: string;
  /** Revenue minus what the site pays for the MWh at --power-price-usd-per-mwh (0 for a pass-through lease), USD/MWh at the meter. */
  marginUsdPerMWh?: number;
  /** Whether the site pays this row's power (false: a lease whose tenant pays its energy). */
  sitePaysPower?: boolean;
}


const compare: CommandSpec = {
  path: ['econ', 'compare'],
  summary: 'USD per MWh of every catalog ASIC vs AI lease and GPU cloud, for a day of real data',
  description:
    'Mining revenue per MWh at the meter is HP × (1 − pool fee) / (0.024 × J/TH × PUE), which is\n' +
    'also the break-even power price. AI lease: USD/kW-month of IT × 1000 / 730 h / PUE. GPU cloud:\n' +
    'USD/GPU-hour × utilization / kW per GPU at the meter. Hashprice comes from the market store for\n' +
    '--date, or from --hashprice-usd-per-ph-day.',
  options: {
    date: { type: 'string', value: 'YYYY-MM-DD', description: 'UTC day whose hashprice inputs are read from the store' },
    'fee-share-of-subsidy-pct': FEE_SHARE_OPTION,
    db: DB_OPTION,
    'hashprice-usd-per-ph-day': { type: 'number', min: 0, max: LIMITS.hashpriceUsdPerPhDay, value: 'X', unit: 'USD/PH/day', description: 'use this hashprice instead of the store' },
    'pool-fee-pct': { type: 'number', min: 0, max: 99.99, value: 'P', unit: '%', description: 'mining pool fee', default: 2 },
    'mining-pue': { type: 'number', min: 1, max: 5, value: 'X', description: 'mining site overhead (metered / machine energy)', default: 1.05 },
    'lease-usd-per-kw-month': { type: 'number', min: 0, max: LIMITS.usdPerKwMonth, value: 'X', unit: 'USD/kW-month of IT', description: 'AI powered-shell lease rate', multiple: true },
    'ai-pue': { type: 'number', min: 1, max: 5, value: 'X', description: 'AI hall PUE', default: GPU_CLOUD_DEFAULTS.pue },
    'gpu-usd-per-hour': { type: 'number', gt: 0, max: LIMITS.usdPerGpuHour, value: 'X', unit: 'USD/GPU-hour', description: 'GPU cloud price', multiple: true },
    gpu: { type: 'string', value: 'MODEL', description: 'GPU model from the catalog for the cloud rows', default: 'H100 SXM' },
    utilization: { type: 'number', min: 0, max: 1, value: 'F', unit: 'fraction 0..1', description: 'share of GPU-hours billed', default: GPU_CLOUD_DEFAULTS.utilization },
    'power-price-usd-per-mwh': { type: 'number', min: -LIMITS.priceUsdPerMWh, max: LIMITS.priceUsdPerMWh, value: 'X', unit: 'USD/MWh', description: "power price for a margin column: revenue minus what the site pays for the MWh (leases pass energy through unless --lease-site-pays-power)" },
    'lease-site-pays-power': { type: 'boolean', description: 'AI leases without energy pass-through: the landlord pays the tenant\'s power (planner powerPassThrough: false)' },
    file: { type: 'string', value: 'FILE', description: 'extra catalog file (YAML/JSON) merged with the built-in one' },
  },
  json: true,
  examples: ['mullet econ compare --date 2025-11-22', 'mullet econ compare --hashprice-usd-per-ph-day 35 --lease-usd-per-kw-month 150 --gpu-usd-per-hour 2 --json'],
  async run(args, io) {
    const date = opt.str(args, 'date');
    const hpFlag = opt.num(args, 'hashprice-usd-per-ph-day');
    if ((date === undefined) === (hpFlag === undefined)) throw badInput('give exactly one of --date or --hashprice-usd-per-ph-day', '--date');
    const poolFeePct = need(opt.num(args, 'pool-fee-pct'), 'pool-fee-pct');
    const miningPue = need(opt.num(args, 'mining-pue'), 'mining-pue');
    const aiPue = need(opt.num(args, 'ai-pue'), 'ai-pue');
    const utilization = need(opt.num(args, 'utilization'), 'utilization');
    const leases = opt.nums(args, 'lease-usd-per-kw-month');
    const gpuPrices = opt.nums(args, 'gpu-usd-per-hour');
    const powerPrice = opt.num(args, 'power-price-usd-per-mwh');
    // The same default as the planner and the site model: a lease passes its energy through.
    const leaseSitePays = opt.bool(args, 'lease-site-pays-power') || !LEASE_POWER_PASS_THROUGH_DEFAULT;
    const margin = (usd: number, sitePays: boolean) => (powerPrice === undefined ? {} : { marginUsdPerMWh: usd - (sitePays ? powerPrice : 0) });

    let hashpriceUsdPerPhDay: number;
    let inputs: Record<string, unknown> = {};
    if (date !== undefined) {
      try {
        parseUtcDate(date);
      } catch (err) {
        throw badInput(err instanceof Error ? err.message : String(err), '--date', err);
      }
      const store = await openExistingStore(resolveStoreLocation(io.cwd, need(opt.str(args, 'db'), 'db')));
      try {
        const feeShare = feeShareOption(args);
        const btcView = await readBtcDayView(store, date, date);
        const i = readInputs(() => hashpriceInputsForDate(btcView, date, feeShare === undefined ? {} : { feeShareOfSubsidyPct: feeShare }));
        hashpriceUsdPerPhDay = hashprice(i).hashpriceUsdPerPhDay;
        inputs = { btcPriceUsd: i.btcPriceUsd, difficulty: i.difficulty, feesBtcPerBlock: i.feesBtcPerBlock, height: i.height, subsidyBtc: i.subsidyBtc, derived: i.derived, warnings: i.warnings };
        for (const d of i.derived) io.stderr(`hashprice ${date}: derived ${d.input}: ${d.how}\n`);
        for (const w of i.warnings) io.stderr(`warning: ${w}\n`);
      } finally {
        await store.close();
      }
    } else {
      hashpriceUsdPerPhDay = need(hpFlag, 'hashprice-usd-per-ph-day');
    }

    const { catalog } = await loadCatalog({ extraFile: opt.str(args, 'file'), cwd: io.cwd });
    const gpu = findGpu(need(opt.str(args, 'gpu'), 'gpu'), catalog, '--gpu');
    const rows: EconRow[] = [];
    for (const a of [...catalog.asics].sort((x, y) => x.efficiencyJPerTh - y.efficiencyJPerTh)) {
      const usd = revenueUsdPerMWh(hashpriceUsdPerPhDay, a.efficiencyJPerTh, poolFeePct, miningPue);
      rows.push({
        use: 'mining',
        name: a.model,
        efficiencyJPerTh: a.efficiencyJPerTh,
        revenueUsdPerMWh: usd,
        revenueUsdPerKWh: usd / 1000,
        detail: `${fmt(a.efficiencyJPerTh, 1)} J/TH, PUE ${miningPue}, pool fee ${poolFeePct}%`,
        sitePaysPower: true,
        ...margin(usd, true),
      });
    }
    for (const rate of leases.length ? leases : [100, 150, 180]) {
      const usd = usdPerMWhMeterFromUsdPerKwMonth(rate, aiPue);
      rows.push({
        use: 'ai-lease',
        name: `lease ${rate} USD/kW-month`,
        revenueUsdPerMWh: usd,
        revenueUsdPerKWh: usd / 1000,
        detail: `${fmt(usdPerMWhItFromUsdPerKwMonth(rate))} USD/MWh of IT, PUE ${aiPue}; ${leaseSitePays ? 'the site pays the power' : 'the tenant pays its power (pass-through)'}`,
        sitePaysPower: leaseSitePays,
        ...margin(usd, leaseSitePays),
      });
    }
    for (const price of gpuPrices.length ? gpuPrices : [2, 3]) {
      const g = gpuCloudEconomics({ usdPerGpuHour: price, gpuCount: 1, gpuPowerW: gpu.powerW, serverOverheadWPerGpu: gpu.serverOverheadWPerGpu, pue: aiPue, utilization });
      rows.push({
        use: 'gpu-cloud',
        name: `${gpu.model} at ${price} USD/GPU-h`,
        revenueUsdPerMWh: g.revenueUsdPerMWhAtMeter,
        revenueUsdPerKWh: g.revenueUsdPerMWhAtMeter / 1000,
        detail: `${fmt(g.kwPerGpuAtMeter, 3)} kW/GPU at meter, ${fmt(utilization * 100, 0)}% billed; the site pays the power`,
        sitePaysPower: true,
        ...margin(g.revenueUsdPerMWhAtMeter, true),
      });
    }
    const mining = rows.filter((r) => r.use === 'mining').map((r) => r.revenueUsdPerKWh);
    const result = {
      date: date ?? null,
      hashpriceUsdPerPhDay,
      hashpriceSource: date === undefined ? 'flag' : 'store',
      ...inputs,
      poolFeePct,
      miningPue,
      aiPue,
      ...(powerPrice === undefined ? {} : { powerPriceUsdPerMWh: powerPrice }),
      rows,
      summary: {
        miningUsdPerKWh: { min: Math.min(...mining), max: Math.max(...mining) },
        aiLeaseUsdPerKWh: rows.filter((r) => r.use === 'ai-lease').map((r) => r.revenueUsdPerKWh),
        gpuCloudUsdPerKWh: rows.filter((r) => r.use === 'gpu-cloud').map((r) => r.revenueUsdPerKWh),
      },
    };
    if (opt.bool(args, 'json')) {
      printJson(io, result);
      return;
    }
    io.stdout(`Hashprice ${fmt(hashpriceUsdPerPhDay)} USD/PH/day${date ? ` on ${date} (market store)` : ' (given)'}\n\n`);
    const headers = ['use', 'what', 'USD/MWh at meter', 'USD/kWh', ...(powerPrice === undefined ? [] : [`margin USD/MWh @ ${powerPrice} USD/MWh`]), 'basis'];
    io.stdout(
      formatTable(
        headers,
        rows.map((r) => [r.use, r.name, fmt(r.revenueUsdPerMWh), fmt(r.revenueUsdPerKWh, 3), ...(powerPrice === undefined ? [] : [r.marginUsdPerMWh === undefined ? '' : fmt(r.marginUsdPerMWh)]), r.detail]),
      ),
    );
    io.stdout(
      `\nMining earns ${fmt(result.summary.miningUsdPerKWh.min, 3)}–${fmt(result.summary.miningUsdPerKWh.max, 3)} USD/kWh across the catalog; ` +
        `AI leases ${result.summary.aiLeaseUsdPerKWh.map((v) => fmt(v, 3)).join('/')} USD/kWh; GPU cloud ${result.summary.gpuCloudUsdPerKWh.map((v) => fmt(v, 2)).join('/')} USD/kWh.\n`,
    );
  },
};

export const econCommands: readonly CommandSpec[] = [compare];
