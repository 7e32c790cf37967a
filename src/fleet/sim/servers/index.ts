import type { FirmwareId } from '../firmware.js';
import { antminerStock } from './antminer-stock.js';
import { braiinsLegacy } from './braiins-legacy.js';
import type { FirmwareBehaviour } from './common.js';
import { luxos } from './luxos.js';
import { whatsminerV2 } from './whatsminer-v2.js';

/** The protocol behaviour of each simulated firmware. */
export const BEHAVIOURS: Readonly<Record<FirmwareId, FirmwareBehaviour>> = {
  'antminer-stock': antminerStock,
  luxos,
  'braiins-legacy': braiinsLegacy,
  'whatsminer-v2': whatsminerV2,
};
