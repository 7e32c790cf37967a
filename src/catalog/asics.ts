import type { Asic, EfficiencyPoint } from './types.js';

/**
 * Built-in SHA-256 ASIC catalog: manufacturer nameplate figures (stock firmware, wall power).
 * Written from the manufacturers' published spec sheets; cross-checked (not copied) against
 * ../shared/data/asic_miner_specs.csv. Nameplate tolerances are typically ±3–5 % hashrate and
 * ±5–10 % power. releaseYear = year of first customer shipments (±1 year for launches late in a year).
 */

const CURVE_NOTE_ASSUMED =
  'ASSUMED, approximate: no published autotune (LuxOS/Braiins) table was found. Shape follows P ∝ f·V²: ' +
  'underclocking lets voltage fall, so J/TH improves ~12–15 % at 60–70 % power and overclocking costs ~5 % ' +
  'at 110 %; consistent with one published S19j Pro underclock point (74.5 TH/s at 1905 W vs 96 TH/s at ' +
  '2850 W, −14 % J/TH at 67 % power; jrjr.meme/hashprophet). Replace with measured figures when available.';

/** Antminer S21 power-target curve (assumed; nominal 17.5 J/TH at 3500 W). */
const S21_CURVE: readonly EfficiencyPoint[] = [
  { powerFraction: 0.5, jPerTh: 15.0 },
  { powerFraction: 0.6, jPerTh: 15.3 },
  { powerFraction: 0.7, jPerTh: 15.8 },
  { powerFraction: 0.8, jPerTh: 16.3 },
  { powerFraction: 0.9, jPerTh: 16.9 },
  { powerFraction: 1.0, jPerTh: 17.5 },
  { powerFraction: 1.1, jPerTh: 18.4 },
];

/** Antminer S19 XP power-target curve (assumed; nominal 21.5 J/TH at 3010 W). */
const S19XP_CURVE: readonly EfficiencyPoint[] = [
  { powerFraction: 0.5, jPerTh: 18.5 },
  { powerFraction: 0.6, jPerTh: 18.9 },
  { powerFraction: 0.7, jPerTh: 19.5 },
  { powerFraction: 0.8, jPerTh: 20.1 },
  { powerFraction: 0.9, jPerTh: 20.8 },
  { powerFraction: 1.0, jPerTh: 21.5 },
  { powerFraction: 1.1, jPerTh: 22.6 },
];

const BITMAIN = 'Bitmain Antminer product specification (shop.bitmain.com)';
const MICROBT = 'MicroBT Whatsminer product specification (microbt.com)';
const CANAAN = 'Canaan Avalon product specification (canaan.io)';

export const BUILTIN_ASICS: readonly Asic[] = [
  { manufacturer: 'Bitmain', model: 'Antminer S9', hashrateThs: 13.5, powerW: 1323, efficiencyJPerTh: 98, releaseYear: 2016, cooling: 'air', source: `${BITMAIN}: S9 13.5T, 0.098 J/GH` },
  { manufacturer: 'Bitmain', model: 'Antminer S17 Pro', hashrateThs: 53, powerW: 2094, efficiencyJPerTh: 39.5, releaseYear: 2019, cooling: 'air', source: `${BITMAIN}: S17 Pro 53T, 39.5 J/TH` },
  { manufacturer: 'Bitmain', model: 'Antminer S19', hashrateThs: 95, powerW: 3250, efficiencyJPerTh: 34.5, releaseYear: 2020, cooling: 'air', source: `${BITMAIN}: S19 95T, 34.5 J/TH ±5 %` },
  { manufacturer: 'Bitmain', model: 'Antminer S19 Pro', hashrateThs: 110, powerW: 3250, efficiencyJPerTh: 29.5, releaseYear: 2020, cooling: 'air', source: `${BITMAIN}: S19 Pro 110T ±3 %, 3250 W ±5 %` },
  { manufacturer: 'Bitmain', model: 'Antminer S19j Pro', hashrateThs: 104, powerW: 3068, efficiencyJPerTh: 29.5, releaseYear: 2021, cooling: 'air', source: `${BITMAIN}: S19j Pro 104T, 29.5 J/TH` },
  {
    manufacturer: 'Bitmain', model: 'Antminer S19 XP', hashrateThs: 140, powerW: 3010, efficiencyJPerTh: 21.5, releaseYear: 2022, cooling: 'air',
    source: `${BITMAIN}: S19 XP 140T, 3010 W (announced Nov 2021, shipped Q3 2022; miningstore.com)`,
    efficiencyCurve: S19XP_CURVE, efficiencyCurveNote: CURVE_NOTE_ASSUMED,
  },
  {
    manufacturer: 'Bitmain', model: 'Antminer S21', hashrateThs: 200, powerW: 3500, efficiencyJPerTh: 17.5, releaseYear: 2024, cooling: 'air',
    source: `${BITMAIN}: S21 200T, 17.5 J/TH (announced Sep 2023)`,
    efficiencyCurve: S21_CURVE, efficiencyCurveNote: CURVE_NOTE_ASSUMED,
  },
  { manufacturer: 'Bitmain', model: 'Antminer S21 Pro', hashrateThs: 234, powerW: 3531, efficiencyJPerTh: 15, releaseYear: 2024, cooling: 'air', source: `${BITMAIN}: S21 Pro 234T, 3531 W, 15 J/TH` },
  { manufacturer: 'Bitmain', model: 'Antminer S21+', hashrateThs: 216, powerW: 3564, efficiencyJPerTh: 16.5, releaseYear: 2024, cooling: 'air', source: `${BITMAIN}: S21+ 216T, 16.5 J/TH` },
  { manufacturer: 'Bitmain', model: 'Antminer S21 XP', hashrateThs: 270, powerW: 3645, efficiencyJPerTh: 13.5, releaseYear: 2024, cooling: 'air', source: `${BITMAIN}: S21 XP 270T, 13.5 J/TH` },
  { manufacturer: 'Bitmain', model: 'Antminer S21 XP Hyd', hashrateThs: 473, powerW: 5676, efficiencyJPerTh: 12, releaseYear: 2024, cooling: 'hydro', source: `${BITMAIN}: S21 XP Hyd 473T, 12 J/TH` },
  { manufacturer: 'Bitmain', model: 'Antminer S21 XP+ Hyd', hashrateThs: 500, powerW: 5500, efficiencyJPerTh: 11, releaseYear: 2024, cooling: 'hydro', source: `${BITMAIN}: S21 XP+ Hyd 500T, 11 J/TH (launched late 2024)` },
  { manufacturer: 'Bitmain', model: 'Antminer T21', hashrateThs: 190, powerW: 3610, efficiencyJPerTh: 19, releaseYear: 2024, cooling: 'air', source: `${BITMAIN}: T21 190T, 19 J/TH` },
  { manufacturer: 'MicroBT', model: 'Whatsminer M30S++', hashrateThs: 112, powerW: 3472, efficiencyJPerTh: 31, releaseYear: 2020, cooling: 'air', source: `${MICROBT}: M30S++ 112T, 31 J/TH` },
  { manufacturer: 'MicroBT', model: 'Whatsminer M50S', hashrateThs: 126, powerW: 3276, efficiencyJPerTh: 26, releaseYear: 2022, cooling: 'air', source: `${MICROBT}: M50S 126T, 26 J/TH` },
  { manufacturer: 'MicroBT', model: 'Whatsminer M60S', hashrateThs: 186, powerW: 3441, efficiencyJPerTh: 18.5, releaseYear: 2024, cooling: 'air', source: `${MICROBT}: M60S 186T, 18.5 J/TH` },
  { manufacturer: 'MicroBT', model: 'Whatsminer M66S', hashrateThs: 298, powerW: 5513, efficiencyJPerTh: 18.5, releaseYear: 2024, cooling: 'immersion', source: `${MICROBT}: M66S (immersion) 298T, 18.5 J/TH` },
  { manufacturer: 'MicroBT', model: 'Whatsminer M63S', hashrateThs: 390, powerW: 7215, efficiencyJPerTh: 18.5, releaseYear: 2024, cooling: 'hydro', source: `${MICROBT}: M63S (hydro) 390T, 7215 W, 18.5 J/TH` },
  { manufacturer: 'Canaan', model: 'Avalon A1366', hashrateThs: 130, powerW: 3250, efficiencyJPerTh: 25, releaseYear: 2023, cooling: 'air', source: `${CANAAN}: A1366 130T, 25 J/TH (blog.zeusmining.co A13 launch note)` },
  { manufacturer: 'Canaan', model: 'Avalon A1466', hashrateThs: 150, powerW: 3230, efficiencyJPerTh: 21.5, releaseYear: 2024, cooling: 'air', source: `${CANAAN}: A1466 150T, 3230 W ±10 % (d-central.tech A1466 page)` },
  { manufacturer: 'Canaan', model: 'Avalon A1566', hashrateThs: 185, powerW: 3420, efficiencyJPerTh: 18.5, releaseYear: 2024, cooling: 'air', source: `${CANAAN}: A1566 185T, 18.5 J/TH` },
  { manufacturer: 'Canaan', model: 'Avalon Q', hashrateThs: 90, powerW: 1674, efficiencyJPerTh: 18.6, releaseYear: 2025, cooling: 'air', source: `${CANAAN}: Avalon Q home miner, 90 TH/s at 1674 W (standard mode)` },
];
