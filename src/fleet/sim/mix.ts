import { badInput } from '../../core/errors.js';
import { FIRMWARES, FIRMWARE_PROFILES, isFirmwareId, type FirmwareId } from './firmware.js';
import { DEFAULT_MODEL_BY_VENDOR, findModel, type SimModel } from './models.js';
import { hash32, shuffled } from './rng.js';

export interface Weighted<T> {
  readonly item: T;
  readonly weight: number;
}

function parseWeights(spec: string, where: string): Weighted<string>[] {
  const out: Weighted<string>[] = [];
  for (const part of spec.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const idx = trimmed.lastIndexOf(':');
    const name = (idx >= 0 ? trimmed.slice(0, idx) : trimmed).trim();
    const weight = idx >= 0 ? Number(trimmed.slice(idx + 1)) : 1;
    // Weights are relative; a bound keeps their sum finite (two of 1e308 made every share NaN).
    if (name === '' || !Number.isFinite(weight) || weight < 0 || weight > 1e6) {
      throw badInput(`expected NAME:WEIGHT[,NAME:WEIGHT…] with weights within 0..1,000,000, got '${part}'`, where);
    }
    out.push({ item: name, weight });
  }
  if (out.length === 0 || out.every((w) => w.weight === 0)) throw badInput('needs at least one positive weight', where);
  return out;
}

/** Parses `--mix antminer-stock:50,luxos:30,whatsminer-v2:20`. */
export function parseFirmwareMix(spec: string, where = '--mix'): Weighted<FirmwareId>[] {
  return parseWeights(spec, where).map((w) => {
    if (!isFirmwareId(w.item)) {
      throw badInput(`unknown firmware '${w.item}'; known: ${Object.keys(FIRMWARE_PROFILES).join(', ')}`, where);
    }
    return { item: w.item, weight: w.weight };
  });
}

/** Parses `--models s21:60,s19xp:40,m60s:1` (names or ids, vendor prefix optional). */
export function parseModelMix(spec: string, where = '--models'): Weighted<SimModel>[] {
  return parseWeights(spec, where).map((w) => ({ item: findModel(w.item, undefined, where), weight: w.weight }));
}

/** Splits `n` into integer counts proportional to the weights (largest remainder; ties by order). */
export function apportion(weights: readonly number[], n: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total > 0 ? (w * n) / total : 0));
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] ?? 0) + 1;
    left--;
  }
  return counts;
}

export interface Assignment {
  readonly firmware: FirmwareId;
  readonly model: SimModel;
}

/**
 * Deterministic firmware/model for each of `n` miners: exact proportions (largest remainder),
 * positions shuffled by the seed so firmwares interleave across the address range. A firmware
 * only gets models of its vendor; without any, the vendor's default model.
 */
export function assignFleet(
  n: number,
  firmwares: readonly Weighted<FirmwareId>[],
  models: readonly Weighted<SimModel>[],
  seed: number,
): Assignment[] {
  const fwCounts = apportion(
    firmwares.map((f) => f.weight),
    n,
  );
  const fwList: FirmwareId[] = [];
  firmwares.forEach((f, i) => {
    for (let k = 0; k < (fwCounts[i] ?? 0); k++) fwList.push(f.item);
  });
  const fwOrder = shuffled(fwList, hash32(seed, 1));
  const byFirmware = new Map<FirmwareId, SimModel[]>();
  for (const fw of new Set(fwOrder)) {
    const vendor = FIRMWARE_PROFILES[fw].vendor;
    let fits = models.filter((m) => m.item.vendor === vendor && m.weight > 0);
    if (fits.length === 0) fits = [{ item: findModel(DEFAULT_MODEL_BY_VENDOR[vendor]), weight: 1 }];
    const count = fwOrder.filter((f) => f === fw).length;
    const mCounts = apportion(
      fits.map((m) => m.weight),
      count,
    );
    const list: SimModel[] = [];
    fits.forEach((m, i) => {
      for (let k = 0; k < (mCounts[i] ?? 0); k++) list.push(m.item);
    });
    byFirmware.set(fw, shuffled(list, hash32(seed, 2, FIRMWARES.indexOf(fw))));
  }
  const next = new Map<FirmwareId, number>();
  return fwOrder.map((fw) => {
    const i = next.get(fw) ?? 0;
    next.set(fw, i + 1);
    return { firmware: fw, model: (byFirmware.get(fw) as SimModel[])[i] as SimModel };
  });
}
