/**
 * Register map of the site revenue meter the simulator serves (and the MeterReader's default).
 * Laid out like the Eastron SDM630 family (input registers, IEEE-754 float32, high word first),
 * whose "Total system power" at 30053 (offset 0x0034) many site meters and gateways mirror.
 * The same values are readable as holding registers (function 3) and input registers (function
 * 4). Offsets are 0-based protocol addresses.
 *
 *   offset  register  quantity                                   unit
 *   0x0000  30001     phase 1 line-to-neutral voltage             V (nominal 277.0)
 *   0x0002  30003     phase 2 line-to-neutral voltage             V
 *   0x0004  30005     phase 3 line-to-neutral voltage             V
 *   0x0034  30053     total system active power (site import)     W
 *   0x0046  30071     frequency                                   Hz (60.0)
 *   0x0048  30073     total import active energy                  kWh (integrated over sim time)
 *   0x0100  30257     mining load (sum of simulated miners)       W   (simulator extra)
 *   0x0102  30259     firm AI load                                W   (simulator extra)
 *   0x0104  30261     miners counted                              count (simulator extra)
 * Unmapped offsets below 0x0200 read 0; a read past 0x01FF is exception 2 (illegal data address).
 */
export const SITE_METER_MAP = {
  voltageL1V: 0x0000,
  voltageL2V: 0x0002,
  voltageL3V: 0x0004,
  totalActivePowerW: 0x0034,
  frequencyHz: 0x0046,
  importEnergyKWh: 0x0048,
  miningPowerW: 0x0100,
  aiLoadW: 0x0102,
  minerCount: 0x0104,
} as const;

/** Registers the meter answers for (0 … SITE_METER_REGISTERS − 1). */
export const SITE_METER_REGISTERS = 0x0200;
