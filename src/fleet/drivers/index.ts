import { DriverRegistry, type Capability } from '../capabilities.js';
import { antminerStockFactory } from './antminer-stock.js';
import { avalonFactory } from './avalon.js';
import { braiinsLegacyFactory } from './braiins-legacy.js';
import { luxosFactory } from './luxos.js';
import { vnishFactory } from './vnish.js';
import { whatsminerV2Factory } from './whatsminer-v2.js';

export const BUILTIN_DRIVER_FACTORIES = [antminerStockFactory, luxosFactory, braiinsLegacyFactory, whatsminerV2Factory, vnishFactory, avalonFactory] as const;

/** A registry with every built-in driver type registered. */
/** The capabilities the built-in driver of `driverType` declares (throws NOT_FOUND for an unknown type). */
export function builtinCapabilities(driverType: string): readonly Capability[] {
  builtins ??= defaultDriverRegistry();
  return builtins.get(driverType).capabilities;
}
let builtins: DriverRegistry | undefined;

export function defaultDriverRegistry(): DriverRegistry {
  const r = new DriverRegistry();
  for (const f of BUILTIN_DRIVER_FACTORIES) r.register(f);
  return r;
}
