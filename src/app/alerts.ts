/**
 * Alerts in a composition root (`mullet serve`, `mullet ops`): the rules and channels of the
 * config's `alerts:` block (secrets from the environment variables it names), the history next to
 * the console's tables (or in memory without a console database). With a console and no `alerts:`
 * block the default rules run, recorded for the console only.
 */
import { AlertService, alertChannels } from '../alerts/service.js';
import type { AlertsConfig } from '../alerts/config.js';
import type { SiteSnapshot } from '../alerts/engine.js';
import { SqliteAlertStore } from '../alerts/sqlite-store.js';
import { MemoryAlertStore, type AlertStore } from '../alerts/store.js';
import type { Clock } from '../core/time.js';

export interface AlertsSetup {
  /** The config's `alerts:` block (undefined: none). */
  cfg: AlertsConfig | undefined;
  /** Config file, for located errors. */
  where: string;
  env: Readonly<Record<string, string | undefined>>;
  site: string;
  /** The console database file (history beside it), or null without a console. */
  consoleDb: string | null;
  clock: Clock;
  log: (line: string) => void;
  extra?: () => Pick<SiteSnapshot, 'feeds' | 'fourCpAlert'>;
}

/** The alert service, or null when neither `alerts:` nor a console asks for one. */
export async function startAlerts(o: AlertsSetup): Promise<{ service: AlertService; close(): Promise<void> } | null> {
  if (o.cfg === undefined && o.consoleDb === null) return null;
  const channels = alertChannels(o.cfg ?? {}, o.env, o.where);
  const store: AlertStore = o.consoleDb === null || o.consoleDb === ':memory:' ? new MemoryAlertStore() : SqliteAlertStore.open(o.consoleDb);
  try {
    const service = await AlertService.create({ site: o.site, ...(o.cfg?.rules ? { rules: o.cfg.rules } : {}), store, channels, clock: o.clock, log: o.log, ...(o.extra ? { extra: o.extra } : {}) });
    return {
      service,
      async close() {
        await service.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
